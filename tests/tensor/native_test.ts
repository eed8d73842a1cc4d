/**
 * The native (oneDNN) backend: its kernels against the wasm backend and plain references, the
 * PyTorch fixture cases of tests/fixtures/torch_ops.py on it, larger convolutions against
 * PyTorch, and the backend choice of initEngine. Where this process has no `--allow-ffi` for
 * the library but the library exists, the file runs itself in a child `deno test` that has
 * the scoped grant, so the suite runs under the repository's plain test command too.
 */
import assert from "node:assert";
import {
  createNativeBackend,
  dnnlAvailable,
  ffiGranted,
  findDnnl,
  loadDnnl,
  type NativeBackend,
  sgemm,
} from "../../lib/tensor/native/mod.ts";
import { wasmBackend } from "../../lib/tensor/wasm/backend.ts";
import type { Backend, Conv2dParams, Storage } from "../../lib/tensor/backend.ts";
import * as T from "../../lib/tensor/mod.ts";
import { hasPython, pyFixture, ROOT, runPython } from "../_helpers.ts";
import { arr, compare, loadFixtures, runCase } from "./tensor_parity.ts";

const LIB = findDnnl();
const ok = dnnlAvailable();
const inChild = !ok && LIB !== null && !ffiGranted(LIB);
if (!ok && !inChild) console.log("native_test: libdnnl.so.2 not installed, skipped");

// ------------------------------------------------------------------ the grant-holding child

/** Text without terminal colour codes. */
function stripAnsi(s: string): string {
  return s.replace(new RegExp(String.fromCharCode(27) + "\\[[0-9;]*m", "g"), "");
}

Deno.test({
  name: "native: the suite passes in a child process with --allow-ffi=<library>",
  ignore: !inChild,
  async fn() {
    const r = await new Deno.Command("deno", {
      args: [
        "test",
        "--quiet",
        "--allow-read",
        "--allow-write=.,/tmp",
        "--allow-run=deno,/usr/bin/python3",
        "--allow-env",
        `--allow-ffi=${LIB}`,
        `${ROOT}/tests/tensor/native_test.ts`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
    assert(r.success, `child deno test failed:\n${text.slice(-4000)}`);
    const passed = Number(/(\d+) passed/.exec(stripAnsi(text))?.[1] ?? 0);
    assert(passed >= 10, `child ran only ${passed} tests:\n${text.slice(-2000)}`);
  },
});

// ------------------------------------------------------------------ helpers

function rnd(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from(
    { length: n },
    () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1,
  );
}

function refGemm(
  ta: boolean,
  tb: boolean,
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  b: Float32Array,
): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
      }
      c[i * n + j] = s;
    }
  }
  return c;
}

/** Geometry with the output size computed as PyTorch does. */
function geom(g: Omit<Conv2dParams, "oh" | "ow">): Conv2dParams {
  return {
    ...g,
    oh: Math.floor((g.h + 2 * g.padH - g.dilH * (g.kh - 1) - 1) / g.strideH) + 1,
    ow: Math.floor((g.w + 2 * g.padW - g.dilW * (g.kw - 1) - 1) / g.strideW) + 1,
  };
}

function up(be: Backend, a: Float32Array): Storage {
  const s = be.alloc(a.length, "float32", "step");
  be.write(s, a);
  return s;
}

function readF(be: Backend, s: Storage): Float32Array {
  return be.readSync!(s) as Float32Array;
}

/** Forward, backward data and backward weights (overwrite, then accumulate) on one backend. */
function convAll(be: Backend, p: Conv2dParams, seed: number): Record<string, Float32Array> {
  const cw = p.cIn / p.groups;
  const x = up(be, rnd(p.n * p.cIn * p.h * p.w, seed));
  const w = up(be, rnd(p.cOut * cw * p.kh * p.kw, seed + 1));
  const b = up(be, rnd(p.cOut, seed + 2));
  const dy = up(be, rnd(p.n * p.cOut * p.oh * p.ow, seed + 3));
  const y = be.alloc(p.n * p.cOut * p.oh * p.ow, "float32", "step");
  const dx = be.alloc(p.n * p.cIn * p.h * p.w, "float32", "step");
  const dw = be.alloc(p.cOut * cw * p.kh * p.kw, "float32", "step");
  const db = be.alloc(p.cOut, "float32", "step");
  be.conv2d(x, w, b, y, p);
  const out: Record<string, Float32Array> = { y: readF(be, y) };
  be.conv2d(x, w, null, y, p);
  out.yNoBias = readF(be, y);
  be.conv2dBackwardData(dy, w, dx, p, false);
  out.dx = readF(be, dx);
  be.conv2dBackwardWeight(x, dy, dw, db, p, false);
  out.dw = readF(be, dw);
  out.db = readF(be, db);
  be.conv2dBackwardData(dy, w, dx, p, true);
  out.dx2 = readF(be, dx);
  be.conv2dBackwardWeight(x, dy, dw, db, p, true);
  out.dw2 = readF(be, dw);
  out.db2 = readF(be, db);
  be.conv2dBackwardWeight(x, dy, dw, null, p, false);
  out.dwNoBias = readF(be, dw);
  be.resetArena();
  return out;
}

const GEOMETRIES: Conv2dParams[] = [
  // 3×3 same padding, batch 2
  { n: 2, cIn: 3, h: 9, w: 7, cOut: 5, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: 1, padW: 1 },
  // NoStripesNet's 4×4 stride-2 down-convolution
  { n: 1, cIn: 8, h: 18, w: 13, cOut: 16, kh: 4, kw: 4, strideH: 2, strideW: 2, padH: 1, padW: 1 },
  // right padding below the left one (the last window is dropped): oneDNN's negative pad_r
  { n: 1, cIn: 4, h: 10, w: 10, cOut: 6, kh: 3, kw: 3, strideH: 2, strideW: 2, padH: 0, padW: 0 },
  // dilation, unequal strides and paddings
  {
    n: 1,
    cIn: 16,
    h: 11,
    w: 8,
    cOut: 8,
    kh: 3,
    kw: 2,
    strideH: 2,
    strideW: 1,
    padH: 0,
    padW: 1,
    dilH: 2,
  },
  // 1×1 (pointwise) and conv1d (h = kh = 1)
  { n: 3, cIn: 12, h: 5, w: 6, cOut: 7, kh: 1, kw: 1, strideH: 1, strideW: 1, padH: 0, padW: 0 },
  { n: 2, cIn: 3, h: 1, w: 29, cOut: 5, kh: 1, kw: 5, strideH: 1, strideW: 2, padH: 0, padW: 2 },
  // wide channels (blocked layouts and reorders)
  { n: 1, cIn: 64, h: 20, w: 16, cOut: 64, kh: 4, kw: 4, strideH: 2, strideW: 2, padH: 1, padW: 1 },
].map((g) => geom({ dilH: 1, dilW: 1, groups: 1, ...g }));

// ------------------------------------------------------------------ library

Deno.test({
  name: "native: oneDNN loads with its version (read back under a scoped FFI grant)",
  ignore: !ok,
  fn() {
    const lib = loadDnnl();
    assert(/^\d+\.\d+\.\d+$/.test(lib.version), lib.version);
  },
});

Deno.test({
  name: "native: sgemm on host arrays matches the reference (odd sizes, transposes, beta)",
  ignore: !ok,
  fn() {
    for (const [m, n, k] of [[1, 1, 1], [7, 13, 5], [33, 17, 65]]) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          const a = rnd(m * k, m + k), b = rnd(k * n, n), c = new Float32Array(m * n);
          sgemm(ta, tb, m, n, k, a, b, c);
          const e = compare(`${m}x${n}x${k} ${ta}${tb}`, c, refGemm(ta, tb, m, n, k, a, b));
          assert(e === null, e ?? "");
        }
      }
    }
    const c = new Float32Array([1, 1, 1, 1]);
    sgemm(false, false, 2, 2, 1, new Float32Array([1, 2]), new Float32Array([3, 4]), c, 1, 1);
    assert.deepStrictEqual([...c], [4, 5, 7, 9]);
  },
});

// ------------------------------------------------------------------ backend kernels

Deno.test({
  name: "native: batched matmul on storages (offsets, strides, transposes, alpha/beta)",
  ignore: !ok,
  fn() {
    const be = createNativeBackend();
    const m = 5, n = 7, k = 9, batch = 3;
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
      const A = rnd(2 + batch * m * k, 3),
        B = rnd(m * k + k * n, 4),
        C0 = rnd(1 + batch * m * n, 5);
      const a = up(be, A), b = up(be, B), c = up(be, C0);
      be.matmul(a, b, c, {
        batch,
        m,
        n,
        k,
        transA: ta,
        transB: tb,
        strideA: m * k,
        strideB: 0,
        strideC: m * n,
        offsetA: 2,
        offsetB: m * k,
        offsetC: 1,
        alpha: 0.5,
        beta: 1,
      });
      const got = readF(be, c);
      for (let i = 0; i < batch; i++) {
        const r = refGemm(
          ta,
          tb,
          m,
          n,
          k,
          A.subarray(2 + i * m * k),
          B.subarray(m * k),
        ).map((v, j) => 0.5 * v + C0[1 + i * m * n + j]);
        const e = compare(
          `batch ${i} ${ta}${tb}`,
          got.subarray(1 + i * m * n, 1 + (i + 1) * m * n),
          r,
        );
        assert(e === null, e ?? "");
      }
      assert.strictEqual(got[0], C0[0], "element before offsetC untouched");
      be.resetArena();
    }
  },
});

for (const p of GEOMETRIES) {
  const name =
    `${p.n}×${p.cIn}×${p.h}×${p.w} → ${p.cOut} k${p.kh}×${p.kw} s${p.strideH},${p.strideW} ` +
    `p${p.padH},${p.padW} d${p.dilH},${p.dilW}`;
  Deno.test({
    name: `native: conv primitives agree with the wasm backend: ${name}`,
    ignore: !ok,
    fn() {
      const nat = convAll(createNativeBackend(), p, 11);
      const ref = convAll(wasmBackend(), p, 11);
      const errs = Object.keys(ref).map((k) => compare(k, nat[k], ref[k], 1e-4)).filter((e) => e);
      assert(errs.length === 0, errs.join("; "));
    },
  });
}

Deno.test({
  name: "native: conv on plain NCHW/OIHW layouts agrees with oneDNN's chosen (blocked) ones",
  ignore: !ok,
  fn() {
    const be = createNativeBackend();
    const keep = be.convs.chooseLayouts;
    try {
      for (const p of [GEOMETRIES[1], GEOMETRIES[GEOMETRIES.length - 1]]) {
        be.convs.chooseLayouts = false;
        const plain = convAll(be, p, 5);
        be.convs.chooseLayouts = true;
        const chosen = convAll(be, p, 5);
        const errs = Object.keys(plain).map((k) => compare(k, chosen[k], plain[k])).filter((e) =>
          e
        );
        assert(errs.length === 0, errs.join("; "));
      }
    } finally {
      be.convs.chooseLayouts = keep;
    }
  },
});

Deno.test({
  name: "native: the plan cache keeps its bound and rebuilds evicted plans",
  ignore: !ok,
  fn() {
    const be = createNativeBackend();
    const keep = be.convs.maxPlans;
    be.convs.maxPlans = 2;
    try {
      const first = convAll(be, GEOMETRIES[0], 3);
      for (const p of GEOMETRIES.slice(1, 4)) convAll(be, p, 3);
      assert(be.convs.size <= 2, `${be.convs.size} plans`);
      const again = convAll(be, GEOMETRIES[0], 3);
      for (const k of Object.keys(first)) assert.deepStrictEqual(again[k], first[k], k);
    } finally {
      be.convs.maxPlans = keep;
    }
  },
});

Deno.test({
  name: "native: primitives take their scratchpad from the backend; above the cap, im2col + sgemm",
  ignore: !ok,
  fn() {
    const be = createNativeBackend();
    const keep = be.maxPrimitiveScratchBytes;
    // the wide-channel geometry: oneDNN's GEMM-based backward weights asks for scratch
    const p = GEOMETRIES[GEOMETRIES.length - 1];
    const sw = be.convs.scratchBytes("bwdWeightsNoBias", p);
    assert(sw > 0 && sw <= keep, `scratchpad bytes ${sw}`);
    try {
      // one call: its scratchpad is backend memory for the call only
      const x = up(be, rnd(p.n * p.cIn * p.h * p.w, 1)), dy = up(be, rnd(p.cOut * p.oh * p.ow, 2));
      const dw = be.alloc(p.cOut * p.cIn * p.kh * p.kw, "float32", "step");
      const before = be.memoryStats();
      be.resetPeak();
      be.conv2dBackwardWeight(x, dy, dw, null, p, false);
      const after = be.memoryStats();
      assert.strictEqual(after.stepBytes, before.stepBytes, "scratch freed after the call");
      assert(after.peakBytes >= before.stepBytes + before.persistentBytes + sw, "scratch used");
      be.resetArena();
      const prim = convAll(be, p, 7);
      be.maxPrimitiveScratchBytes = 0; // every geometry with scratch falls back
      const tiles = convAll(be, p, 7);
      const ref = convAll(wasmBackend(), p, 7);
      const errs = Object.keys(ref).flatMap((k) => [
        compare(`prim ${k}`, prim[k], ref[k], 1e-4),
        compare(`tiles ${k}`, tiles[k], ref[k], 1e-4),
      ]).filter((e) => e);
      assert(errs.length === 0, errs.join("; "));
    } finally {
      be.maxPrimitiveScratchBytes = keep;
    }
  },
});

Deno.test({
  name: "native: grouped convolution matches a direct reference",
  ignore: !ok,
  fn() {
    const be = createNativeBackend();
    const p = geom({
      n: 2,
      cIn: 6,
      h: 7,
      w: 6,
      cOut: 4,
      kh: 3,
      kw: 3,
      strideH: 1,
      strideW: 2,
      padH: 1,
      padW: 1,
      dilH: 1,
      dilW: 1,
      groups: 2,
    });
    const X = rnd(p.n * p.cIn * p.h * p.w, 1), W = rnd(p.cOut * 3 * 9, 2), B = rnd(p.cOut, 3);
    const y = be.alloc(p.n * p.cOut * p.oh * p.ow, "float32", "step");
    be.conv2d(up(be, X), up(be, W), up(be, B), y, p);
    const want = new Float64Array(p.n * p.cOut * p.oh * p.ow);
    const cg = p.cIn / p.groups, og = p.cOut / p.groups;
    for (let n = 0; n < p.n; n++) {
      for (let o = 0; o < p.cOut; o++) {
        for (let i = 0; i < p.oh; i++) {
          for (let j = 0; j < p.ow; j++) {
            let s = B[o];
            for (let c = 0; c < cg; c++) {
              const ci = Math.floor(o / og) * cg + c;
              for (let u = 0; u < p.kh; u++) {
                for (let v = 0; v < p.kw; v++) {
                  const yy = i * p.strideH - p.padH + u, xx = j * p.strideW - p.padW + v;
                  if (yy < 0 || yy >= p.h || xx < 0 || xx >= p.w) continue;
                  s += X[((n * p.cIn + ci) * p.h + yy) * p.w + xx] *
                    W[((o * cg + c) * 3 + u) * 3 + v];
                }
              }
            }
            want[((n * p.cOut + o) * p.oh + i) * p.ow + j] = s;
          }
        }
      }
    }
    const e = compare("grouped y", readF(be, y), want);
    be.resetArena();
    assert(e === null, e ?? "");
  },
});

Deno.test({
  name: "native: memory-bound kernels are the wasm ones (same bytes), storage on the backend",
  ignore: !ok,
  fn() {
    const nb = createNativeBackend(), wb = wasmBackend();
    const X = rnd(1000, 9);
    const outs = [nb, wb].map((be) => {
      const x = up(be, X), y = be.alloc(1000, "float32", "step");
      be.unary("tanh", x, y, 1000);
      const r = readF(be, y);
      be.resetArena();
      return r;
    });
    assert.deepStrictEqual(outs[0], outs[1]);
    assert.strictEqual(nb.name, "native");
    const s = nb.alloc(8, "float32", "step");
    assert.strictEqual(s.backend, nb);
    const base = nb.baseAddress, bytes = nb.memory.buffer.byteLength;
    const big = nb.alloc(bytes / 4, "float32", "step"); // more bytes than the memory has: it grows
    assert(nb.memory.buffer.byteLength > bytes, "memory grew");
    assert.strictEqual(nb.baseAddress, base, "a shared memory keeps its address");
    nb.free(big);
    nb.resetArena();
  },
});

// ------------------------------------------------------------------ PyTorch

const torch = ok && hasPython("torch", "numpy");

Deno.test({
  name: "native: every torch_ops fixture case matches PyTorch and the wasm backend",
  ignore: !torch,
  async fn() {
    const fx = await loadFixtures(await pyFixture("torch_ops"));
    const nb = createNativeBackend() as NativeBackend, wb = wasmBackend();
    const errs: string[] = [];
    for (const c of fx.cases) {
      const r = await runCase(fx, c, nb);
      const w = await runCase(fx, c, wb);
      const rtol = c.rtol ?? 1e-4;
      const e = [compare("y", r.y, arr(fx, c.y), rtol), compare("y vs wasm", r.y, w.y)];
      for (const [k, d] of Object.entries(c.grads)) {
        e.push(compare(`grad ${k}`, r.grads[k], arr(fx, d), rtol, c.atol?.[k] ?? 0));
        e.push(compare(`grad ${k} vs wasm`, r.grads[k], w.grads[k], 1e-4, c.atol?.[k] ?? 0));
      }
      for (const x of e) if (x) errs.push(`${c.name}: ${x}`);
    }
    assert(errs.length === 0, errs.join("\n"));
  },
});

/** Larger convolutions and transposed convolutions (NoStripesNet's shapes) computed by PyTorch. */
const TORCH_CONV = `
import json, sys, numpy as np, torch
import torch.nn.functional as F
torch.manual_seed(0)
out = sys.argv[1]
cases = [
  # kind, n, cin, h, w, cout, k, stride, pad, output_padding
  ("conv", 1, 32, 45, 32, 64, 4, 2, 1, (0, 0)),
  ("convt", 1, 64, 22, 16, 32, 4, 2, 1, (1, 0)),
  ("conv", 2, 16, 30, 21, 16, 3, 1, 1, (0, 0)),
  ("convt", 1, 16, 12, 9, 1, 4, 2, 1, (0, 1)),
]
meta, blobs, off = [], [], 0
def put(a):
    global off
    a = np.ascontiguousarray(a.detach().numpy().astype(np.float32))
    blobs.append(a.tobytes()); d = {"offset": off, "shape": list(a.shape)}; off += a.nbytes
    return d
for kind, n, ci, h, w, co, k, s, p, op in cases:
    x = torch.randn(n, ci, h, w, requires_grad=True)
    wt = torch.randn(co, ci, k, k) if kind == "conv" else torch.randn(ci, co, k, k)
    wt = (wt * 0.1).requires_grad_()
    b = torch.randn(co, requires_grad=True)
    y = F.conv2d(x, wt, b, s, p) if kind == "conv" else F.conv_transpose2d(x, wt, b, s, p, op)
    gy = torch.randn_like(y)
    (y * gy).sum().backward()
    meta.append({"kind": kind, "stride": s, "pad": p, "op": list(op), "x": put(x), "w": put(wt),
                 "b": put(b), "y": put(y), "gy": put(gy), "dx": put(x.grad), "dw": put(wt.grad),
                 "db": put(b.grad)})
open(out + "/data.bin", "wb").write(b"".join(blobs))
json.dump(meta, open(out + "/cases.json", "w"))
`;

Deno.test({
  name: "native: NoStripesNet-sized conv and transposed conv (forward, gradients) match PyTorch",
  ignore: !torch,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      runPython(`-c ${TORCH_CONV}`, [dir]);
      const meta = JSON.parse(await Deno.readTextFile(`${dir}/cases.json`));
      const bin = (await Deno.readFile(`${dir}/data.bin`)).buffer;
      const nb = createNativeBackend();
      T.setDefaultBackend(nb);
      const errs: string[] = [];
      for (const c of meta) {
        const get = (d: { offset: number; shape: number[] }) =>
          new Float32Array(bin, d.offset, d.shape.reduce((a: number, b: number) => a * b, 1));
        const mk = (d: { offset: number; shape: number[] }) =>
          T.tensor(get(d).slice(), d.shape, { backend: nb, requiresGrad: true });
        const x = mk(c.x), w = mk(c.w), b = mk(c.b);
        const y = c.kind === "conv"
          ? T.conv2d(x, w, b, { stride: c.stride, padding: c.pad })
          : T.convTranspose2d(x, w, b, {
            stride: c.stride,
            padding: c.pad,
            outputPadding: [c.op[0], c.op[1]],
          });
        const gy = T.tensor(get(c.gy).slice(), c.gy.shape, { backend: nb });
        T.sum(T.mul(y, gy)).backward();
        const tag = `${c.kind} ${c.x.shape}`;
        for (
          const [k, got, want] of [
            ["y", await y.data(), get(c.y)],
            ["dx", await x.grad!.data(), get(c.dx)],
            ["dw", await w.grad!.data(), get(c.dw)],
            ["db", await b.grad!.data(), get(c.db)],
          ] as const
        ) {
          const e = compare(`${tag} ${k}`, got, want, 1e-4);
          if (e) errs.push(e);
        }
        for (const t of [x, w, b]) t.dispose();
        nb.resetArena();
      }
      assert(errs.length === 0, errs.join("\n"));
    } finally {
      T.setDefaultBackend(wasmBackend());
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// ------------------------------------------------------------------ backend choice

/** Runs a snippet in a child deno with the given flags; returns its stdout and stderr. */
async function child(flags: string[], code: string): Promise<{ ok: boolean; out: string }> {
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(file, code);
  const r = await new Deno.Command("deno", {
    args: ["run", "--quiet", "--no-prompt", ...flags, file],
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(file);
  const dec = new TextDecoder();
  return { ok: r.success, out: (dec.decode(r.stdout) + dec.decode(r.stderr)).trim() };
}

const engineUrl = new URL("../../lib/tensor/engine.ts", import.meta.url).href;
const choose = (b: string) =>
  `import { closeEngine, initEngine } from "${engineUrl}";
try { const be = await initEngine({ backend: "${b}", threads: 1 }); console.log("chose", be.name); }
catch (e) { console.log("error", (e as Error).message); }
closeEngine();`;

Deno.test({
  name: "native: initEngine picks native for --backend native and auto only with the FFI grant",
  ignore: !ok,
  async fn() {
    const read = `--allow-read`;
    const ffi = `--allow-ffi=${LIB}`;
    const auto = await child([read, ffi, "--allow-env"], choose("auto"));
    assert.match(auto.out, /chose native/, auto.out);
    const explicit = await child([read, ffi], choose("native"));
    assert.match(explicit.out, /chose native/, explicit.out);
    const noFfiAuto = await child([read], choose("auto"));
    assert.match(noFfiAuto.out, /chose wasm/, noFfiAuto.out);
    const noFfi = await child([read], choose("native"));
    assert.match(noFfi.out, /^error --backend native: needs --allow-ffi=\S+libdnnl/, noFfi.out);
    assert.strictEqual(noFfi.out.split("\n").length, 1, noFfi.out);
    const missing = await child(
      [read, "--allow-env", "--allow-ffi"],
      `Deno.env.set("LUMEN_DNNL", "/nonexistent/libdnnl.so.2");\n${choose("native")}`,
    );
    assert.match(missing.out, /^error --backend native: cannot open \/nonexistent/, missing.out);
    assert.match(missing.out, /LUMEN_DNNL|apt-get install libdnnl2/, missing.out);
  },
});

Deno.test({
  name: "native: OpenMP waits passively unless the user chose a policy (OMP_WAIT_POLICY)",
  ignore: !ok,
  async fn() {
    const libUrl = new URL("../../lib/tensor/native/library.ts", import.meta.url).href;
    const code = (set: string) =>
      `${set}import { loadDnnl } from "${libUrl}";
loadDnnl();
console.log("policy", Deno.env.get("OMP_WAIT_POLICY"));`;
    const flags = ["--allow-read", "--allow-env", `--allow-ffi=${LIB}`];
    const unset = await child(flags, code(`Deno.env.delete("OMP_WAIT_POLICY");\n`));
    assert.match(unset.out, /^policy passive$/, unset.out);
    const chosen = await child(flags, code(`Deno.env.set("OMP_WAIT_POLICY", "active");\n`));
    assert.match(chosen.out, /^policy active$/, chosen.out);
    // without --allow-env the library still loads, with OpenMP's own default
    const noEnv = await child(
      ["--allow-read", `--allow-ffi=${LIB}`],
      `import { loadDnnl } from "${libUrl}";\nconsole.log("version", loadDnnl().version);`,
    );
    assert.match(noEnv.out, /^version \d+\.\d+\.\d+$/, noEnv.out.slice(0, 300));
  },
});

/**
 * The `webgpu` backend's kernels against plain TypeScript reference loops (float64), on small
 * shapes (llvmpipe runs WGSL at about 1 GFLOP/s). Skips where no WebGPU adapter exists.
 *
 * PyTorch parity of the ops themselves is the suite of tests/tensor/tensor_*, which runs on every
 * registered backend, this one included.
 */
import { WebGpuBackend } from "../../lib/tensor/webgpu/backend.ts";
import { probeWebGpu } from "../../lib/tensor/webgpu/device.ts";
import { mergeAxes } from "../../lib/tensor/webgpu/backend.ts";
import type {
  BatchNormParams,
  Conv2dParams,
  GridSampleParams,
  Pool2dParams,
  Storage,
  UnaryOp,
  Upsample2dParams,
} from "../../lib/tensor/backend.ts";

const probe = await probeWebGpu();
if (!probe.available) console.warn(`skip: webgpu tests (${probe.description})`);
let bePromise: Promise<WebGpuBackend> | null = null;
function backend(): Promise<WebGpuBackend> {
  bePromise ??= WebGpuBackend.create();
  return bePromise;
}

function gpuTest(name: string, fn: (be: WebGpuBackend) => Promise<void>): void {
  Deno.test({
    name: `webgpu: ${name}`,
    ignore: !probe.available,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      const be = await backend();
      await fn(be);
      be.resetArena();
    },
  });
}

// ------------------------------------------------------------------------------- helpers

/** Deterministic pseudo-random data (xorshift), values in [lo, hi). */
function rnd(n: number, seed = 1, lo = -1, hi = 1): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    a[i] = lo + (hi - lo) * (s / 4294967296);
  }
  return a;
}

function up(be: WebGpuBackend, data: Float32Array | Int32Array): Storage {
  const s = be.alloc(data.length, data instanceof Int32Array ? "int32" : "float32", "step");
  be.write(s, data);
  return s;
}

function out(be: WebGpuBackend, n: number, dtype: "float32" | "int32" = "float32"): Storage {
  return be.alloc(n, dtype, "step");
}

async function get(be: WebGpuBackend, s: Storage): Promise<Float32Array> {
  return (await be.read(s)) as Float32Array;
}

function close(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  what: string,
  rtol = 1e-4,
  atol = 1e-5,
): void {
  if (got.length !== want.length) {
    throw new Error(`${what}: length ${got.length} != ${want.length}`);
  }
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    if (Number.isFinite(want[i])) scale = Math.max(scale, Math.abs(want[i]));
  }
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (!Number.isFinite(w) && g === w) continue;
    if (!(Math.abs(g - w) <= atol * Math.max(1, scale) + rtol * Math.abs(w))) {
      throw new Error(`${what}: element ${i}: got ${g}, want ${w} (scale ${scale})`);
    }
  }
}

function same(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  const x = new Uint32Array(new Float32Array(a).buffer),
    y = new Uint32Array(new Float32Array(b).buffer);
  if (x.length !== y.length) throw new Error(`${what}: lengths differ`);
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) throw new Error(`${what}: bytes differ at ${i}: ${a[i]} vs ${b[i]}`);
  }
}

function strides(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Calls fn for every multi-index of shape (C order). */
function forEach(shape: number[], fn: (idx: number[], flat: number) => void): void {
  const n = shape.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(shape.length).fill(0);
  for (let f = 0; f < n; f++) {
    fn(idx, f);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

// ------------------------------------------------------------------------------- runtime

Deno.test("webgpu: mergeAxes merges contiguous runs and drops unit axes", () => {
  const m = mergeAxes([2, 1, 3, 4], [[12, 12, 4, 1], [0, 0, 4, 1]]);
  if (
    m.shape.join() !== "2,12" || m.strides[0].join() !== "12,1" || m.strides[1].join() !== "0,1"
  ) {
    throw new Error(JSON.stringify(m));
  }
});

gpuTest("device, limits and fallback detection", async (be) => {
  const ctx = be.rt.ctx;
  if (ctx.maxBinding < 128 * 1024 * 1024) throw new Error(`binding limit ${ctx.maxBinding}`);
  if (typeof ctx.fallback !== "boolean") throw new Error("no fallback flag");
  const info = be.rt.info;
  if (info.pipelines < 0) throw new Error("stats");
  await Promise.resolve();
});

gpuTest("write/read, fill (f32, i32, offset), cast", async (be) => {
  const a = up(be, new Float32Array([1, 2, 3, 4, 5]));
  close(await get(be, a), [1, 2, 3, 4, 5], "read");
  close((await be.read(a, 1, 3)) as Float32Array, [2, 3, 4], "read window");
  be.fill(a, 2.5, 1, 3);
  close(await get(be, a), [1, 2.5, 2.5, 2.5, 5], "fill window");
  be.fill(a, 0);
  close(await get(be, a), [0, 0, 0, 0, 0], "zero");
  const i = out(be, 3, "int32");
  be.fill(i, -7);
  const ri = await be.read(i);
  if (!(ri instanceof Int32Array) || ri.join() !== "-7,-7,-7") throw new Error(`int fill ${ri}`);
  const f = out(be, 3);
  be.cast(up(be, new Int32Array([-3, 0, 9])), f, 3);
  close(await get(be, f), [-3, 0, 9], "cast i2f");
  const j = out(be, 4, "int32");
  be.cast(up(be, new Float32Array([-2.7, 0.5, 3.9, 1e10])), j, 4);
  const rj = await be.read(j);
  if (rj.join() !== `-2,0,3,${2147483647}`) throw new Error(`cast f2i ${rj}`);
});

gpuTest("strided copy: permute, slice, expand, accumulate, same buffer", async (be) => {
  const shape = [2, 3, 4];
  const x = rnd(24, 3);
  const s = up(be, x);
  // permute (2,0,1): out[k][i][j] = x[i][j][k]
  const o = out(be, 24);
  be.copy(s, { offset: 0, strides: [1, 12, 4] }, o, { offset: 0, strides: strides([4, 2, 3]) }, [
    4,
    2,
    3,
  ], false);
  const want = new Float32Array(24);
  forEach([4, 2, 3], ([k, i, j], f) => (want[f] = x[i * 12 + j * 4 + k]));
  close(await get(be, o), want, "permute");
  // slice [:, 1:3, ::2] into a contiguous [2,2,2]
  const sl = out(be, 8);
  be.copy(
    s,
    { offset: 4, strides: [12, 4, 2] },
    sl,
    { offset: 0, strides: [4, 2, 1] },
    [2, 2, 2],
    false,
  );
  const ws = new Float32Array(8);
  forEach([2, 2, 2], ([a, b, c], f) => (ws[f] = x[a * 12 + (b + 1) * 4 + c * 2]));
  close(await get(be, sl), ws, "slice");
  // expand [3] → [2,3] and accumulate into it
  const v = up(be, new Float32Array([1, 2, 3]));
  const e = up(be, new Float32Array([10, 20, 30, 40, 50, 60]));
  be.copy(v, { offset: 0, strides: [0, 1] }, e, { offset: 0, strides: [3, 1] }, [2, 3], true);
  close(await get(be, e), [11, 22, 33, 41, 52, 63], "expand accumulate");
  // copy within one storage (overlapping windows)
  const w = up(be, new Float32Array([0, 1, 2, 3, 4, 5]));
  be.copy(w, { offset: 0, strides: [1] }, w, { offset: 1, strides: [1] }, [5], false);
  close(await get(be, w), [0, 0, 1, 2, 3, 4], "same-buffer copy");
  shape.length = 0;
});

// ------------------------------------------------------------------------------- elementwise

const sigm = (x: number) => 1 / (1 + Math.exp(-x));
const UNARY_REF: [UnaryOp, (x: number, a: number, b: number) => number, number, number, number?][] =
  [
    ["neg", (x) => -x, 0, 0],
    ["exp", Math.exp, 0, 0],
    ["log", Math.log, 0, 0, 1],
    ["log1p", Math.log1p, 0, 0, 1],
    ["sqrt", Math.sqrt, 0, 0, 1],
    ["rsqrt", (x) => 1 / Math.sqrt(x), 0, 0, 1],
    ["abs", Math.abs, 0, 0],
    ["sign", Math.sign, 0, 0],
    ["square", (x) => x * x, 0, 0],
    ["recip", (x) => 1 / x, 0, 0, 1],
    ["relu", (x) => Math.max(x, 0), 0, 0],
    ["leakyRelu", (x, a) => (x > 0 ? x : a * x), 0.2, 0],
    ["tanh", Math.tanh, 0, 0],
    ["sigmoid", sigm, 0, 0],
    ["softplus", (x) => Math.log1p(Math.exp(x)), 0, 0],
    ["powScalar", (x, a) => Math.pow(x, a), 3, 0],
    ["clamp", (x, a, b) => Math.min(Math.max(x, a), b), -0.3, 0.4],
    ["addScalar", (x, a) => x + a, 1.5, 0],
    ["mulScalar", (x, a) => x * a, -2, 0],
    ["affine", (x, a, b) => a * x + b, 3, -1],
  ];

const UNARY_GRAD_REF: Partial<
  Record<UnaryOp, (x: number, y: number, a: number, b: number) => number>
> = {
  neg: () => -1,
  exp: (_x, y) => y,
  log: (x) => 1 / x,
  log1p: (x) => 1 / (1 + x),
  sqrt: (_x, y) => 0.5 / y,
  rsqrt: (_x, y) => -0.5 * y * y * y,
  abs: (x) => Math.sign(x),
  sign: () => 0,
  square: (x) => 2 * x,
  recip: (x) => -1 / (x * x),
  relu: (x) => (x > 0 ? 1 : 0),
  leakyRelu: (x, _y, a) => (x > 0 ? 1 : a),
  tanh: (_x, y) => 1 - y * y,
  sigmoid: (_x, y) => y * (1 - y),
  softplus: (x) => sigm(x),
  powScalar: (x, _y, a) => a * Math.pow(x, a - 1),
  clamp: (x, _y, a, b) => (x >= a && x <= b ? 1 : 0),
  addScalar: () => 1,
  mulScalar: (_x, _y, a) => a,
  affine: (_x, _y, a) => a,
};

gpuTest("unary ops and their gradients", async (be) => {
  const n = 300;
  for (const [op, f, a, b, pos] of UNARY_REF) {
    const x = pos ? rnd(n, 7, 0.05, 4) : rnd(n, 7, -6, 6);
    // tiny and large magnitudes too
    if (!pos) x.set([1e-6, -1e-6, 1e-4, -30, 30, 0.3]);
    const xs = up(be, x), ys = out(be, n);
    be.unary(op, xs, ys, n, a, b);
    const y = await get(be, ys);
    close(y, Array.from(x, (v) => f(v, a, b)), `unary ${op}`, 2e-5, 1e-6);
    const gf = UNARY_GRAD_REF[op]!;
    const dy = rnd(n, 11);
    const dys = up(be, dy), dxs = out(be, n);
    be.unaryBackward(op, xs, ys, dys, dxs, n, a, b);
    const want = Array.from(x, (v, i) => dy[i] * gf(v, y[i], a, b));
    close(await get(be, dxs), want, `unary ${op} backward`, 2e-5, 1e-6);
  }
});

gpuTest("tanh/sigmoid/log1p keep relative precision near 0 and saturate cleanly", async (be) => {
  const x = new Float32Array([1e-7, -3e-5, 2e-3, -0.1, 0.5, 9, -9, 40, -40, 90, -90]);
  for (const [op, f] of [["tanh", Math.tanh], ["sigmoid", sigm], ["log1p", Math.log1p]] as const) {
    const xs = up(be, op === "log1p" ? x.map(Math.abs) : x), ys = out(be, x.length);
    be.unary(op, xs, ys, x.length);
    const y = await get(be, ys);
    const src = op === "log1p" ? x.map(Math.abs) : x;
    for (let i = 0; i < x.length; i++) {
      const w = f(src[i]);
      if (!Number.isFinite(y[i]) || Math.abs(y[i] - w) > 1e-6 * Math.abs(w) + 1e-30) {
        throw new Error(`${op}(${src[i]}) = ${y[i]}, want ${w}`);
      }
    }
  }
});

gpuTest("binary ops with broadcasting and offsets", async (be) => {
  const shape = [3, 4, 5];
  const a = rnd(60, 2, -3, 3), b = rnd(5 * 3, 5, 0.5, 2); // b: [3,1,5]
  const as = up(be, a), bs = up(be, b);
  const ops: [Parameters<WebGpuBackend["binary"]>[0], (x: number, y: number) => number][] = [
    ["add", (x, y) => x + y],
    ["sub", (x, y) => x - y],
    ["mul", (x, y) => x * y],
    ["div", (x, y) => x / y],
    ["pow", (x, y) => Math.pow(x, y)],
    ["max", Math.max],
    ["min", Math.min],
    ["gt", (x, y) => +(x > y)],
    ["ge", (x, y) => +(x >= y)],
    ["lt", (x, y) => +(x < y)],
    ["le", (x, y) => +(x <= y)],
    ["eq", (x, y) => +(x === y)],
    ["ne", (x, y) => +(x !== y)],
  ];
  for (const [op, f] of ops) {
    const o = out(be, 60);
    be.binary(
      op,
      as,
      { offset: 0, strides: [20, 5, 1] },
      bs,
      { offset: 0, strides: [5, 0, 1] },
      o,
      shape,
    );
    const want = new Float32Array(60);
    forEach(shape, ([i, , k], fl) => (want[fl] = f(a[fl], b[i * 5 + k])));
    close(await get(be, o), want, `binary ${op}`, 2e-5, 1e-6);
  }
  // contiguous fast path with element offsets
  const o2 = out(be, 10);
  be.binary("sub", as, { offset: 5, strides: [1] }, as, { offset: 20, strides: [1] }, o2, [10]);
  close(
    await get(be, o2),
    Array.from({ length: 10 }, (_, i) => a[5 + i] - a[20 + i]),
    "offset views",
  );
});

gpuTest("where with float and int conditions", async (be) => {
  const c = new Float32Array([1, 0, -0, 2, 0, 1]);
  const a = rnd(6, 3), b = rnd(3, 4);
  const o = out(be, 6);
  const v = { offset: 0, strides: [3, 1] };
  be.where(up(be, c), v, up(be, a), v, up(be, b), { offset: 0, strides: [0, 1] }, o, [2, 3]);
  close(await get(be, o), Array.from(c, (cv, i) => (cv !== 0 ? a[i] : b[i % 3])), "where f32");
  const ci = new Int32Array([0, 5, 0, 0, -1, 0]);
  be.where(up(be, ci), v, up(be, a), v, up(be, b), { offset: 0, strides: [0, 1] }, o, [2, 3]);
  close(await get(be, o), Array.from(ci, (cv, i) => (cv !== 0 ? a[i] : b[i % 3])), "where i32");
});

// ------------------------------------------------------------------------------- reductions

function refReduce(x: Float32Array, shape: number[], axes: number[], op: string): number[] {
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const nOut = kept.reduce((a, b) => a * b, 1);
  const ks = strides(kept);
  const res: number[] = new Array(nOut).fill(
    op === "sum" ? 0 : op === "min" ? Infinity : -Infinity,
  );
  const idx: number[] = new Array(nOut).fill(-1);
  const counter: number[] = new Array(nOut).fill(0);
  forEach(shape, (ix, f) => {
    let o = 0;
    for (let d = 0; d < shape.length; d++) if (!axes.includes(d)) o += ix[d] * ks[d];
    const v = x[f];
    if (op === "sum") res[o] += v;
    else if (op === "max" || op === "argmax") {
      if (v > res[o]) {
        res[o] = v;
        idx[o] = counter[o];
      }
    } else if (v < res[o]) res[o] = v;
    counter[o]++;
  });
  return op === "argmax" ? idx : res;
}

gpuTest(
  "reductions: sum/max/min/argmax over axis sets, both strategies, accumulate",
  async (be) => {
    const cases: [number[], number[]][] = [
      [[7], [0]],
      [[3, 5], [1]],
      [[3, 5], [0]],
      [[2, 3, 4, 5], [0, 2]],
      [[2, 3, 4, 5], [1, 3]],
      [[2, 3, 4, 5], [0, 1, 2, 3]],
      [[4, 300], [1]], // workgroup strategy
      [[300, 4], [0]],
      [[2, 1, 3], [1]],
      [[20000, 3], [1]], // many outputs: thread strategy
    ];
    for (const [shape, axes] of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = rnd(n, n + axes.length);
      const xs = up(be, x);
      for (const op of ["sum", "max", "min", "argmax"] as const) {
        if (op === "argmax" && axes.length !== 1) continue;
        const nOut = shape.reduce((a, d, i) => (axes.includes(i) ? a : a * d), 1);
        const o = out(be, nOut, op === "argmax" ? "int32" : "float32");
        be.reduce(op, xs, shape, axes, o);
        const got = await be.read(o);
        const want = refReduce(x, shape, axes, op);
        if (op === "argmax") {
          if (Array.from(got).join() !== want.join()) {
            throw new Error(
              `argmax ${shape} ${axes}: ${got} vs ${want}`,
            );
          }
        } else close(got, want, `${op} ${shape} over ${axes}`, 1e-5, 1e-6);
      }
    }
    // accumulate
    const x = rnd(12, 9);
    const o = up(be, new Float32Array([1, 2, 3]));
    be.reduce("sum", up(be, x), [3, 4], [1], o, true);
    close(
      await get(be, o),
      [0, 1, 2].map((i) => i + 1 + x.slice(i * 4, i * 4 + 4).reduce((a, b) => a + b)),
      "sum accumulate",
    );
    // argmax ties → first, NaN wins
    const t = up(be, new Float32Array([1, 3, 3, 2, NaN, 5]));
    const ti = out(be, 2, "int32");
    be.reduce("argmax", t, [2, 3], [1], ti);
    if ((await be.read(ti)).join() !== "1,1") throw new Error("argmax ties/NaN");
  },
);

gpuTest("softmax and log-softmax, forward and backward, short and long rows", async (be) => {
  for (const [rows, cols] of [[5, 7], [3, 300]]) {
    const n = rows * cols;
    const x = rnd(n, cols, -5, 5);
    const dy = rnd(n, 3);
    for (const log of [false, true]) {
      const xs = up(be, x), ys = out(be, n);
      be.softmax(xs, ys, rows, cols, log);
      const want = new Float64Array(n), wantDx = new Float64Array(n);
      for (let r = 0; r < rows; r++) {
        const row = Array.from(x.slice(r * cols, (r + 1) * cols));
        const m = Math.max(...row);
        const s = row.reduce((a, v) => a + Math.exp(v - m), 0);
        const sm = row.map((v) => Math.exp(v - m) / s);
        const g = Array.from(dy.slice(r * cols, (r + 1) * cols));
        if (log) {
          const gs = g.reduce((a, b) => a + b, 0);
          row.forEach((v, c) => {
            want[r * cols + c] = v - m - Math.log(s);
            wantDx[r * cols + c] = g[c] - sm[c] * gs;
          });
        } else {
          const dot = g.reduce((a, b, c) => a + b * sm[c], 0);
          sm.forEach((v, c) => {
            want[r * cols + c] = v;
            wantDx[r * cols + c] = v * (g[c] - dot);
          });
        }
      }
      close(await get(be, ys), want, `softmax log=${log} ${rows}x${cols}`, 1e-5, 1e-6);
      const dxs = out(be, n);
      be.softmaxBackward(ys, up(be, dy), dxs, rows, cols, log);
      close(await get(be, dxs), wantDx, `softmax backward log=${log}`, 1e-4, 1e-6);
    }
  }
});

// ------------------------------------------------------------------------------- gemm

gpuTest("matmul: transposes, batch strides, broadcast batch, offsets, alpha/beta", async (be) => {
  for (const [m, n, k] of [[1, 1, 1], [5, 7, 3], [70, 65, 33], [64, 64, 16], [3, 130, 67]]) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const batch = 2;
        const A = rnd(batch * m * k, m + k), B = rnd(k * n, n), C0 = rnd(batch * m * n, 5);
        const as = up(be, A), bs = up(be, B), cs = up(be, C0);
        const alpha = 0.5, beta = 1;
        be.matmul(as, bs, cs, {
          batch,
          m,
          n,
          k,
          transA: ta,
          transB: tb,
          strideA: m * k,
          strideB: 0,
          strideC: m * n,
          alpha,
          beta,
        });
        const want = new Float64Array(batch * m * n);
        for (let b = 0; b < batch; b++) {
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              let s = 0;
              for (let l = 0; l < k; l++) {
                const a = ta ? A[b * m * k + l * m + i] : A[b * m * k + i * k + l];
                const bb = tb ? B[j * k + l] : B[l * n + j];
                s += a * bb;
              }
              want[b * m * n + i * n + j] = alpha * s + beta * C0[b * m * n + i * n + j];
            }
          }
        }
        close(await get(be, cs), want, `gemm ${m}x${n}x${k} ta=${ta} tb=${tb}`, 1e-4, 1e-5);
      }
    }
  }
  // offsets
  const A = rnd(20, 1), B = rnd(20, 2);
  const c = out(be, 8);
  be.matmul(up(be, A), up(be, B), c, {
    batch: 1,
    m: 2,
    n: 2,
    k: 3,
    transA: false,
    transB: false,
    strideA: 0,
    strideB: 0,
    strideC: 0,
    offsetA: 4,
    offsetB: 7,
    offsetC: 3,
    alpha: 1,
    beta: 0,
  });
  const got = await get(be, c);
  const want = [0, 1].flatMap((i) =>
    [0, 1].map((j) => [0, 1, 2].reduce((s, l) => s + A[4 + i * 3 + l] * B[7 + l * 2 + j], 0))
  );
  close(got.slice(3, 7), want, "gemm offsets");
});

// ------------------------------------------------------------------------------- conv

function convP(
  o: Partial<Conv2dParams> & {
    n: number;
    cIn: number;
    h: number;
    w: number;
    cOut: number;
    kh: number;
    kw: number;
  },
): Conv2dParams {
  const p = {
    strideH: 1,
    strideW: 1,
    padH: 0,
    padW: 0,
    dilH: 1,
    dilW: 1,
    groups: 1,
    oh: 0,
    ow: 0,
    ...o,
  } as Conv2dParams;
  p.oh = Math.floor((p.h + 2 * p.padH - p.dilH * (p.kh - 1) - 1) / p.strideH) + 1;
  p.ow = Math.floor((p.w + 2 * p.padW - p.dilW * (p.kw - 1) - 1) / p.strideW) + 1;
  return p;
}

function refConv(x: Float32Array, w: Float32Array, bias: Float32Array | null, p: Conv2dParams) {
  const { n, cIn, h, w: W, cOut, kh, kw, oh, ow, groups } = p;
  const Cg = cIn / groups, Mg = cOut / groups;
  const y = new Float64Array(n * cOut * oh * ow);
  for (let b = 0; b < n; b++) {
    for (let co = 0; co < cOut; co++) {
      const g = Math.floor(co / Mg);
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let s = bias ? bias[co] : 0;
          for (let ci = 0; ci < Cg; ci++) {
            for (let ky = 0; ky < kh; ky++) {
              for (let kx = 0; kx < kw; kx++) {
                const iy = oy * p.strideH - p.padH + ky * p.dilH,
                  ix = ox * p.strideW - p.padW + kx * p.dilW;
                if (iy < 0 || ix < 0 || iy >= h || ix >= W) continue;
                s += w[((co * Cg + ci) * kh + ky) * kw + kx] *
                  x[((b * cIn + g * Cg + ci) * h + iy) * W + ix];
              }
            }
          }
          y[((b * cOut + co) * oh + oy) * ow + ox] = s;
        }
      }
    }
  }
  return y;
}

/** dx and dw of sum(y · dy) by the same loops (scatter). */
function refConvGrads(x: Float32Array, w: Float32Array, dy: Float32Array, p: Conv2dParams) {
  const { n, cIn, h, w: W, cOut, kh, kw, oh, ow, groups } = p;
  const Cg = cIn / groups, Mg = cOut / groups;
  const dx = new Float64Array(x.length),
    dw = new Float64Array(w.length),
    db = new Float64Array(cOut);
  for (let b = 0; b < n; b++) {
    for (let co = 0; co < cOut; co++) {
      const g = Math.floor(co / Mg);
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          const gv = dy[((b * cOut + co) * oh + oy) * ow + ox];
          db[co] += gv;
          for (let ci = 0; ci < Cg; ci++) {
            for (let ky = 0; ky < kh; ky++) {
              for (let kx = 0; kx < kw; kx++) {
                const iy = oy * p.strideH - p.padH + ky * p.dilH,
                  ix = ox * p.strideW - p.padW + kx * p.dilW;
                if (iy < 0 || ix < 0 || iy >= h || ix >= W) continue;
                const xi = ((b * cIn + g * Cg + ci) * h + iy) * W + ix,
                  wi = ((co * Cg + ci) * kh + ky) * kw + kx;
                dx[xi] += gv * w[wi];
                dw[wi] += gv * x[xi];
              }
            }
          }
        }
      }
    }
  }
  return { dx, dw, db };
}

const CONV_CASES: Conv2dParams[] = [
  convP({ n: 2, cIn: 3, h: 7, w: 6, cOut: 5, kh: 3, kw: 3, padH: 1, padW: 1 }),
  convP({
    n: 1,
    cIn: 4,
    h: 9,
    w: 8,
    cOut: 6,
    kh: 4,
    kw: 4,
    strideH: 2,
    strideW: 2,
    padH: 1,
    padW: 1,
  }),
  convP({
    n: 2,
    cIn: 4,
    h: 8,
    w: 9,
    cOut: 4,
    kh: 3,
    kw: 2,
    dilH: 2,
    dilW: 1,
    padH: 2,
    padW: 0,
    strideH: 1,
    strideW: 3,
  }),
  convP({ n: 1, cIn: 6, h: 5, w: 5, cOut: 4, kh: 3, kw: 3, groups: 2, padH: 1, padW: 1 }),
  convP({ n: 2, cIn: 3, h: 1, w: 40, cOut: 70, kh: 1, kw: 5, padH: 0, padW: 2 }), // conv1d shape
  convP({ n: 4, cIn: 2, h: 24, w: 24, cOut: 3, kh: 3, kw: 3, padH: 1, padW: 1 }), // split-K weight grad
];

gpuTest("conv2d forward, backward data, backward weight (+bias), accumulate", async (be) => {
  for (const p of CONV_CASES) {
    const Cg = p.cIn / p.groups;
    const x = rnd(p.n * p.cIn * p.h * p.w, 1),
      w = rnd(p.cOut * Cg * p.kh * p.kw, 2),
      bias = rnd(p.cOut, 3);
    const dy = rnd(p.n * p.cOut * p.oh * p.ow, 4);
    const tag = JSON.stringify(p);
    const xs = up(be, x), ws = up(be, w), ys = out(be, dy.length);
    be.conv2d(xs, ws, up(be, bias), ys, p);
    close(await get(be, ys), refConv(x, w, bias, p), `conv fwd ${tag}`, 1e-4, 1e-5);
    const { dx, dw, db } = refConvGrads(x, w, dy, p);
    const dys = up(be, dy);
    const dxs = out(be, x.length);
    be.conv2dBackwardData(dys, ws, dxs, p, false);
    close(await get(be, dxs), dx, `conv bwd data ${tag}`, 1e-4, 1e-5);
    be.conv2dBackwardData(dys, ws, dxs, p, true);
    close(await get(be, dxs), dx.map((v) => 2 * v), `conv bwd data acc ${tag}`, 1e-4, 1e-5);
    const dws = out(be, w.length), dbs = out(be, p.cOut);
    be.conv2dBackwardWeight(xs, dys, dws, dbs, p, false);
    close(await get(be, dws), dw, `conv bwd weight ${tag}`, 1e-4, 1e-5);
    close(await get(be, dbs), db, `conv bwd bias ${tag}`, 1e-4, 1e-5);
    be.conv2dBackwardWeight(xs, dys, dws, dbs, p, true);
    close(await get(be, dws), dw.map((v) => 2 * v), `conv bwd weight acc ${tag}`, 1e-4, 1e-5);
    close(await get(be, dbs), db.map((v) => 2 * v), `conv bwd bias acc ${tag}`, 1e-4, 1e-5);
  }
});

gpuTest("conv dispatches split along columns give the same bytes", async (be) => {
  const p = CONV_CASES[1];
  const Cg = p.cIn / p.groups;
  const x = up(be, rnd(p.n * p.cIn * p.h * p.w, 1)), w = up(be, rnd(p.cOut * Cg * p.kh * p.kw, 2));
  const dy = up(be, rnd(p.n * p.cOut * p.oh * p.ow, 4));
  const run = async () => {
    const y = out(be, p.n * p.cOut * p.oh * p.ow), dx = out(be, p.n * p.cIn * p.h * p.w);
    be.conv2d(x, w, null, y, p);
    be.conv2dBackwardData(dy, w, dx, p, false);
    return [await get(be, y), await get(be, dx)];
  };
  const whole = await run();
  be.tileChunk = 1;
  try {
    const split = await run();
    same(split[0], whole[0], "conv forward split");
    same(split[1], whole[1], "conv backward data split");
  } finally {
    be.tileChunk = Infinity;
  }
});

gpuTest("conv_transpose2d = backward data with output_padding", async (be) => {
  // NSN's ConvTranspose2d(k=4? here 3, stride 2, padding 1, output_padding (1, 0))
  const cin = 3, cout = 2, h = 4, w = 5, k = 3, s = 2, pad = 1, opH = 1, opW = 0;
  const oh = (h - 1) * s - 2 * pad + (k - 1) + opH + 1,
    ow = (w - 1) * s - 2 * pad + (k - 1) + opW + 1;
  // as a conv: input of the conv = the transposed conv's output
  const p: Conv2dParams = {
    n: 1,
    cIn: cout,
    h: oh,
    w: ow,
    cOut: cin,
    kh: k,
    kw: k,
    oh: h,
    ow: w,
    strideH: s,
    strideW: s,
    padH: pad,
    padW: pad,
    dilH: 1,
    dilW: 1,
    groups: 1,
  };
  const x = rnd(cin * h * w, 5), wt = rnd(cin * cout * k * k, 6);
  const ys = out(be, cout * oh * ow);
  be.conv2dBackwardData(up(be, x), up(be, wt), ys, p, false);
  const want = new Float64Array(cout * oh * ow);
  for (let ci = 0; ci < cin; ci++) {
    for (let iy = 0; iy < h; iy++) {
      for (let ix = 0; ix < w; ix++) {
        for (let co = 0; co < cout; co++) {
          for (let ky = 0; ky < k; ky++) {
            for (let kx = 0; kx < k; kx++) {
              const oy = iy * s - pad + ky, ox = ix * s - pad + kx;
              if (oy < 0 || ox < 0 || oy >= oh || ox >= ow) continue;
              want[(co * oh + oy) * ow + ox] += x[(ci * h + iy) * w + ix] *
                wt[((ci * cout + co) * k + ky) * k + kx];
            }
          }
        }
      }
    }
  }
  close(await get(be, ys), want, "conv_transpose2d", 1e-4, 1e-5);
});

// ------------------------------------------------------------------------------- batch norm

gpuTest("batch norm: batch and running statistics, fused activations, backward", async (be) => {
  const n = 3, c = 4, hw = 10;
  const N = n * hw;
  const x = rnd(n * c * hw, 8, -2, 3), gamma = rnd(c, 9, 0.5, 1.5), beta = rnd(c, 10);
  const dy = rnd(n * c * hw, 11);
  for (const activation of ["none", "relu", "leakyRelu"] as const) {
    for (const useBatchStats of [true, false]) {
      const p: BatchNormParams = {
        n,
        c,
        hw,
        eps: 1e-5,
        useBatchStats,
        momentum: 0.1,
        activation,
        slope: 0.2,
      };
      const rm0 = rnd(c, 12), rv0 = rnd(c, 13, 0.5, 2);
      const rm = up(be, rm0), rv = up(be, rv0);
      const ys = out(be, x.length), ms = out(be, c), is = out(be, c);
      const xs = up(be, x), gs = up(be, gamma);
      be.batchNorm(xs, gs, up(be, beta), rm, rv, ys, ms, is, p);
      // reference
      const mean = new Float64Array(c), vr = new Float64Array(c);
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let b = 0; b < n; b++) for (let q = 0; q < hw; q++) s += x[(b * c + ch) * hw + q];
        mean[ch] = s / N;
        let v = 0;
        for (let b = 0; b < n; b++) {
          for (let q = 0; q < hw; q++) v += (x[(b * c + ch) * hw + q] - mean[ch]) ** 2;
        }
        vr[ch] = v / N;
      }
      const useM = useBatchStats ? mean : Float64Array.from(rm0);
      const useV = useBatchStats ? vr : Float64Array.from(rv0);
      const inv = useV.map((v) => 1 / Math.sqrt(v + 1e-5));
      const act = (z: number) =>
        activation === "none" ? z : z > 0 ? z : activation === "relu" ? 0 : 0.2 * z;
      const actd = (z: number) =>
        activation === "none" ? 1 : z > 0 ? 1 : activation === "relu" ? 0 : 0.2;
      const y = new Float64Array(x.length), dz = new Float64Array(x.length);
      forEach([n, c, hw], ([, ch], f) => {
        const z = (x[f] - useM[ch]) * inv[ch] * gamma[ch] + beta[ch];
        y[f] = act(z);
        dz[f] = dy[f] * actd(z);
      });
      const tag = `${activation} batch=${useBatchStats}`;
      close(await get(be, ys), y, `bn fwd ${tag}`, 1e-4, 1e-5);
      close(await get(be, ms), useM, `bn mean ${tag}`, 1e-5, 1e-6);
      close(await get(be, is), inv, `bn invstd ${tag}`, 1e-4, 1e-6);
      if (useBatchStats) {
        close(
          await get(be, rm),
          Array.from(rm0, (v, ch) => 0.9 * v + 0.1 * mean[ch]),
          `running mean ${tag}`,
          1e-5,
          1e-6,
        );
        close(
          await get(be, rv),
          Array.from(rv0, (v, ch) => 0.9 * v + 0.1 * vr[ch] * N / (N - 1)),
          `running var ${tag}`,
          1e-5,
          1e-6,
        );
      } else {
        close(await get(be, rm), rm0, `running mean untouched ${tag}`, 0, 0);
      }
      // backward
      const sdz = new Float64Array(c), sdzx = new Float64Array(c);
      forEach([n, c, hw], ([, ch], f) => {
        sdz[ch] += dz[f];
        sdzx[ch] += dz[f] * (x[f] - useM[ch]);
      });
      const dx = new Float64Array(x.length);
      forEach([n, c, hw], ([, ch], f) => {
        const xh = (x[f] - useM[ch]) * inv[ch];
        dx[f] = useBatchStats
          ? gamma[ch] * inv[ch] * (dz[f] - sdz[ch] / N - xh * sdzx[ch] * inv[ch] / N)
          : gamma[ch] * inv[ch] * dz[f];
      });
      const dg0 = rnd(c, 20), db0 = rnd(c, 21);
      const dxs = out(be, x.length), dgs = up(be, dg0), dbs = up(be, db0);
      be.batchNormBackward(xs, ys, up(be, dy), gs, ms, is, dxs, dgs, dbs, p);
      close(await get(be, dxs), dx, `bn dx ${tag}`, 1e-4, 1e-5);
      close(
        await get(be, dgs),
        Array.from(dg0, (v, ch) => v + sdzx[ch] * inv[ch]),
        `bn dgamma ${tag}`,
        1e-4,
        1e-5,
      );
      close(
        await get(be, dbs),
        Array.from(db0, (v, ch) => v + sdz[ch]),
        `bn dbeta ${tag}`,
        1e-4,
        1e-5,
      );
    }
  }
  // affine = false, no running stats
  const p: BatchNormParams = {
    n,
    c,
    hw,
    eps: 1e-5,
    useBatchStats: true,
    momentum: 0.1,
    activation: "none",
    slope: 0,
  };
  const ys = out(be, x.length);
  be.batchNorm(up(be, x), null, null, null, null, ys, out(be, c), out(be, c), p);
  const y = await get(be, ys);
  let s = 0;
  for (let b = 0; b < n; b++) for (let q = 0; q < hw; q++) s += y[b * c * hw + q];
  if (Math.abs(s) > 1e-4) throw new Error(`normalised channel mean ${s}`);
});

// ------------------------------------------------------------------------------- pooling

function poolP(
  o: Partial<Pool2dParams> & { n: number; c: number; h: number; w: number; kh: number; kw: number },
): Pool2dParams {
  const p = {
    strideH: o.kh,
    strideW: o.kw,
    padH: 0,
    padW: 0,
    dilH: 1,
    dilW: 1,
    oh: 0,
    ow: 0,
    ...o,
  } as Pool2dParams;
  p.oh = Math.floor((p.h + 2 * p.padH - p.dilH * (p.kh - 1) - 1) / p.strideH) + 1;
  p.ow = Math.floor((p.w + 2 * p.padW - p.dilW * (p.kw - 1) - 1) / p.strideW) + 1;
  return p;
}

gpuTest("max and average pooling, forward and backward", async (be) => {
  const cases = [
    poolP({ n: 2, c: 3, h: 6, w: 7, kh: 2, kw: 2 }),
    poolP({ n: 1, c: 2, h: 7, w: 7, kh: 3, kw: 3, strideH: 2, strideW: 2, padH: 1, padW: 1 }),
    poolP({ n: 1, c: 2, h: 8, w: 9, kh: 2, kw: 3, strideH: 1, strideW: 2, dilH: 2, dilW: 1 }),
    poolP({ n: 2, c: 2, h: 1, w: 20, kh: 1, kw: 4, strideH: 1, strideW: 3, padW: 2 }),
  ];
  for (const p of cases) {
    const tag = JSON.stringify(p);
    const nIn = p.n * p.c * p.h * p.w, nOut = p.n * p.c * p.oh * p.ow;
    const x = rnd(nIn, nIn), dy = rnd(nOut, 3);
    const xs = up(be, x), ys = out(be, nOut), is = out(be, nOut, "int32");
    be.maxPool2d(xs, ys, is, p);
    const my = new Float64Array(nOut), mi = new Int32Array(nOut);
    const ay = new Float64Array(nOut);
    const mdx = new Float64Array(nIn), adx = new Float64Array(nIn);
    forEach([p.n * p.c, p.oh, p.ow], ([pl, oy, ox], f) => {
      let best = -Infinity, bi = -1, s = 0;
      for (let ky = 0; ky < p.kh; ky++) {
        for (let kx = 0; kx < p.kw; kx++) {
          const iy = oy * p.strideH - p.padH + ky * p.dilH,
            ix = ox * p.strideW - p.padW + kx * p.dilW;
          if (iy < 0 || ix < 0 || iy >= p.h || ix >= p.w) continue;
          const v = x[pl * p.h * p.w + iy * p.w + ix];
          if (v > best) {
            best = v;
            bi = iy * p.w + ix;
          }
        }
      }
      my[f] = best;
      mi[f] = bi;
      mdx[pl * p.h * p.w + bi] += dy[f];
      if (p.dilH === 1 && p.dilW === 1) {
        for (let ky = 0; ky < p.kh; ky++) {
          for (let kx = 0; kx < p.kw; kx++) {
            const iy = oy * p.strideH - p.padH + ky, ix = ox * p.strideW - p.padW + kx;
            if (iy < 0 || ix < 0 || iy >= p.h || ix >= p.w) continue;
            s += x[pl * p.h * p.w + iy * p.w + ix];
            adx[pl * p.h * p.w + iy * p.w + ix] += dy[f] / (p.kh * p.kw);
          }
        }
        ay[f] = s / (p.kh * p.kw);
      }
    });
    close(await get(be, ys), my, `maxpool ${tag}`, 0, 0);
    if ((await be.read(is)).join() !== mi.join()) throw new Error(`maxpool indices ${tag}`);
    const dxs = out(be, nIn);
    be.maxPool2dBackward(up(be, dy), is, dxs, p);
    close(await get(be, dxs), mdx, `maxpool bwd ${tag}`, 1e-5, 1e-6);
    if (p.dilH === 1 && p.dilW === 1) {
      const as = out(be, nOut);
      be.avgPool2d(xs, as, p);
      close(await get(be, as), ay, `avgpool ${tag}`, 1e-5, 1e-6);
      const adxs = out(be, nIn);
      be.avgPool2dBackward(up(be, dy), adxs, p);
      close(await get(be, adxs), adx, `avgpool bwd ${tag}`, 1e-5, 1e-6);
    }
  }
});

// ------------------------------------------------------------------------------- resampling

function refUpsample(x: Float32Array, dy: Float32Array, p: Upsample2dParams) {
  const y = new Float64Array(p.n * p.c * p.oh * p.ow), dx = new Float64Array(x.length);
  const f32 = Math.fround;
  const near = (o: number, i: number, O: number, s: number) =>
    O === i ? o : O === 2 * i ? o >> 1 : Math.min(Math.floor(f32(o * s)), i - 1);
  const lin = (o: number, i: number, O: number, s: number) => {
    const sc = p.alignCorners ? (O > 1 ? f32((i - 1) / (O - 1)) : 0) : s;
    const src = p.alignCorners ? f32(sc * o) : Math.max(f32(f32(sc * f32(o + 0.5)) - 0.5), 0);
    const i0 = Math.floor(src), i1 = i0 + (i0 < i - 1 ? 1 : 0);
    const l1 = Math.min(Math.max(src - i0, 0), 1);
    return [i0, i1, 1 - l1, l1];
  };
  forEach([p.n * p.c, p.oh, p.ow], ([pl, oy, ox], f) => {
    const base = pl * p.h * p.w;
    if (p.mode === "nearest") {
      const iy = near(oy, p.h, p.oh, p.scaleH), ix = near(ox, p.w, p.ow, p.scaleW);
      y[f] = x[base + iy * p.w + ix];
      dx[base + iy * p.w + ix] += dy[f];
    } else {
      const [y0, y1, a0, a1] = lin(oy, p.h, p.oh, p.scaleH),
        [x0, x1, b0, b1] = lin(ox, p.w, p.ow, p.scaleW);
      y[f] = a0 * (b0 * x[base + y0 * p.w + x0] + b1 * x[base + y0 * p.w + x1]) +
        a1 * (b0 * x[base + y1 * p.w + x0] + b1 * x[base + y1 * p.w + x1]);
      dx[base + y0 * p.w + x0] += a0 * b0 * dy[f];
      dx[base + y0 * p.w + x1] += a0 * b1 * dy[f];
      dx[base + y1 * p.w + x0] += a1 * b0 * dy[f];
      dx[base + y1 * p.w + x1] += a1 * b1 * dy[f];
    }
  });
  return { y, dx };
}

gpuTest(
  "upsample nearest and bilinear (align corners both ways), forward and backward",
  async (be) => {
    const sizes: [number, number, number, number][] = [[4, 5, 8, 10], [5, 3, 13, 7], [6, 6, 4, 3], [
      3,
      4,
      3,
      4,
    ], [4, 4, 1, 1]];
    for (const [h, w, oh, ow] of sizes) {
      for (const mode of ["nearest", "bilinear"] as const) {
        for (const alignCorners of mode === "nearest" ? [false] : [false, true]) {
          const p: Upsample2dParams = {
            n: 2,
            c: 2,
            h,
            w,
            oh,
            ow,
            mode,
            alignCorners,
            scaleH: Math.fround(h / oh),
            scaleW: Math.fround(w / ow),
          };
          const x = rnd(2 * 2 * h * w, h * w), dy = rnd(2 * 2 * oh * ow, 7);
          const ref = refUpsample(x, dy, p);
          const ys = out(be, ref.y.length), dxs = out(be, x.length);
          be.upsample2d(up(be, x), ys, p);
          be.upsample2dBackward(up(be, dy), dxs, p);
          const tag = `${mode} ${h}x${w}→${oh}x${ow} align=${alignCorners}`;
          close(await get(be, ys), ref.y, `upsample ${tag}`, 1e-5, 1e-6);
          close(await get(be, dxs), ref.dx, `upsample bwd ${tag}`, 1e-5, 1e-6);
        }
      }
    }
  },
);

function refGridSample(x: Float32Array, grid: Float32Array, dy: Float32Array, p: GridSampleParams) {
  const { n, c, h, w, oh, ow, alignCorners } = p;
  const y = new Float64Array(n * c * oh * ow),
    dx = new Float64Array(x.length),
    dg = new Float64Array(grid.length);
  const un = (
    v: number,
    s: number,
  ) => (alignCorners ? ((v + 1) / 2) * (s - 1) : ((v + 1) * s - 1) / 2);
  for (let b = 0; b < n; b++) {
    for (let q = 0; q < oh * ow; q++) {
      const gi = (b * oh * ow + q) * 2;
      const ix = un(grid[gi], w), iy = un(grid[gi + 1], h);
      const x0 = Math.floor(ix), y0 = Math.floor(iy);
      const corners: [number, number, number, number, number][] = [
        // y, x, weight, d/dix, d/diy
        [y0, x0, (x0 + 1 - ix) * (y0 + 1 - iy), -(y0 + 1 - iy), -(x0 + 1 - ix)],
        [y0, x0 + 1, (ix - x0) * (y0 + 1 - iy), y0 + 1 - iy, -(ix - x0)],
        [y0 + 1, x0, (x0 + 1 - ix) * (iy - y0), -(iy - y0), x0 + 1 - ix],
        [y0 + 1, x0 + 1, (ix - x0) * (iy - y0), iy - y0, ix - x0],
      ];
      let gx = 0, gy = 0;
      for (let ch = 0; ch < c; ch++) {
        const g = dy[(b * c + ch) * oh * ow + q];
        let s = 0;
        for (const [cy, cx, wt, dix, diy] of corners) {
          if (cy < 0 || cx < 0 || cy >= h || cx >= w) continue;
          const xi = ((b * c + ch) * h + cy) * w + cx;
          s += x[xi] * wt;
          dx[xi] += wt * g;
          gx += x[xi] * dix * g;
          gy += x[xi] * diy * g;
        }
        y[(b * c + ch) * oh * ow + q] = s;
      }
      dg[gi] = gx * (alignCorners ? (w - 1) / 2 : w / 2);
      dg[gi + 1] = gy * (alignCorners ? (h - 1) / 2 : h / 2);
    }
  }
  return { y, dx, dg };
}

gpuTest(
  "grid_sample bilinear zeros, forward, input and grid gradients, deterministic",
  async (be) => {
    for (const alignCorners of [false, true]) {
      const p: GridSampleParams = { n: 2, c: 3, h: 5, w: 6, oh: 7, ow: 4, alignCorners };
      const x = rnd(p.n * p.c * p.h * p.w, 3);
      const grid = rnd(p.n * p.oh * p.ow * 2, 4, -1.3, 1.3);
      grid.set([1, 1, -1, -1, 0, 0, 2.5, 0, NaN, 0.1], 0); // corners, centre, outside, NaN
      const dy = rnd(p.n * p.c * p.oh * p.ow, 5);
      grid[0] = 1;
      const ref = refGridSample(x, grid, dy, p);
      const xs = up(be, x), gs = up(be, grid), dys = up(be, dy);
      const ys = out(be, ref.y.length);
      be.gridSample(xs, gs, ys, p);
      const tag = `align=${alignCorners}`;
      const yg = await get(be, ys);
      // a NaN sample reads nothing (zero), as PyTorch's CPU kernel does
      const refNoNan = refGridSample(x, grid.map((v, i) => (i === 8 || i === 9 ? 99 : v)), dy, p);
      close(yg, refNoNan.y, `grid_sample ${tag}`, 1e-5, 1e-6);
      const dxs = out(be, x.length), dgs = out(be, grid.length);
      be.gridSampleBackward(xs, gs, dys, dxs, dgs, p);
      const dxg = await get(be, dxs);
      close(dxg, refNoNan.dx, `grid_sample dx ${tag}`, 1e-5, 1e-6);
      const dgg = await get(be, dgs);
      close(dgg.slice(10), ref.dg.slice(10), `grid_sample dgrid ${tag}`, 1e-4, 1e-5);
      // same bytes again
      const dxs2 = out(be, x.length);
      be.gridSampleBackward(xs, gs, dys, dxs2, null, p);
      same(await get(be, dxs2), dxg, `grid_sample dx determinism ${tag}`);
    }
  },
);

// ------------------------------------------------------------------------------- random

/** Philox4x32-10 in TypeScript (Random123), for the known-answer test. */
function philoxRef(ctr: number[], key: number[]): number[] {
  const mulhilo = (a: number, b: number): [number, number] => {
    const p = BigInt(a) * BigInt(b);
    return [Number(p >> 32n) >>> 0, Number(p & 0xffffffffn) >>> 0];
  };
  let [c0, c1, c2, c3] = ctr;
  let [k0, k1] = key;
  for (let r = 0; r < 10; r++) {
    if (r > 0) {
      k0 = (k0 + 0x9E3779B9) >>> 0;
      k1 = (k1 + 0xBB67AE85) >>> 0;
    }
    const [h0, l0] = mulhilo(0xD2511F53, c0);
    const [h1, l1] = mulhilo(0xCD9E8D57, c2);
    [c0, c1, c2, c3] = [(h1 ^ c1 ^ k0) >>> 0, l1, (h0 ^ c3 ^ k1) >>> 0, l0];
  }
  return [c0, c1, c2, c3];
}

gpuTest(
  "random: Philox4x32-10 known answers, uniform/normal/bernoulli, same seed same bytes",
  async (be) => {
    // Random123's published vector: ctr 0, key 0 → 6627e8d5 e169c58d bc57ac4c 9b00dbd8
    const kat = philoxRef([0, 0, 0, 0], [0, 0]);
    if (kat.map((v) => v.toString(16)).join() !== "6627e8d5,e169c58d,bc57ac4c,9b00dbd8") {
      throw new Error(`philox reference ${kat.map((v) => v.toString(16))}`);
    }
    const n = 4099;
    const u = out(be, n);
    be.random(u, n, "uniform", 0x12345678, 7, 2 ** 32 - 3);
    const ug = await get(be, u);
    for (let j = 0; j < 6; j++) {
      const c = 2 ** 32 - 3 + j;
      const words = philoxRef([c >>> 0, Math.floor(c / 2 ** 32), 0, 0], [0x12345678, 7]);
      for (let l = 0; l < 4; l++) {
        const want = (words[l] >>> 8) / 16777216;
        if (ug[j * 4 + l] !== want) {
          throw new Error(
            `uniform block ${j} word ${l}: ${ug[j * 4 + l]} vs ${want}`,
          );
        }
      }
    }
    const mean = ug.reduce((a, b) => a + b, 0) / n;
    if (
      Math.abs(mean - 0.5) > 0.02 || Math.min(...ug) < 0 || Math.max(...ug) >= 1
    ) throw new Error(`uniform mean ${mean}`);
    const z = out(be, n);
    be.random(z, n, "normal", 5, 0, 0);
    const zg = await get(be, z);
    const zm = zg.reduce((a, b) => a + b, 0) / n,
      zv = zg.reduce((a, b) => a + (b - zm) ** 2, 0) / n;
    if (Math.abs(zm) > 0.06 || Math.abs(zv - 1) > 0.08) {
      throw new Error(
        `normal mean ${zm} var ${zv}`,
      );
    }
    // the same Box–Muller in float64 (as the wasm backend computes it)
    const zr = new Float64Array(n);
    for (let j = 0; j < Math.ceil(n / 4); j++) {
      const wd = philoxRef([j, 0, 0, 0], [5, 0]);
      for (let h = 0; h < 2; h++) {
        const u1 = ((wd[2 * h] >>> 8) + 1) / 16777216, u2 = (wd[2 * h + 1] >>> 8) / 16777216;
        const rad = Math.sqrt(-2 * Math.log(u1));
        if (4 * j + 2 * h < n) zr[4 * j + 2 * h] = rad * Math.cos(2 * Math.PI * u2);
        if (4 * j + 2 * h + 1 < n) zr[4 * j + 2 * h + 1] = rad * Math.sin(2 * Math.PI * u2);
      }
    }
    close(zg, zr, "normal vs float64 Box–Muller", 1e-5, 2e-6);
    const z2 = out(be, n);
    be.random(z2, n, "normal", 5, 0, 0);
    same(await get(be, z2), zg, "normal determinism");
    const m = out(be, n);
    be.random(m, n, "bernoulli", 9, 0, 100, 0.8, 1.25);
    const mg = await get(be, m);
    const keep = mg.filter((v) => v === 1.25).length / n;
    if (mg.some((v) => v !== 0 && v !== 1.25) || Math.abs(keep - 0.8) > 0.03) {
      throw new Error(
        `bernoulli keep ${keep}`,
      );
    }
  },
);

// ------------------------------------------------------------------------------- optimisers

gpuTest(
  "Adam, AdamW and SGD (momentum, nesterov, weight decay) follow PyTorch's steps",
  async (be) => {
    const n = 257;
    const f = Math.fround;
    const p0 = rnd(n, 1), g = rnd(n, 2), m0 = rnd(n, 3, -0.1, 0.1), v0 = rnd(n, 4, 0, 0.01);
    for (const decoupled of [false, true]) {
      const hp = {
        lr: 1e-3,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weightDecay: 0.01,
        decoupled,
        step: 3,
      };
      const ps = up(be, p0), ms = up(be, m0), vs = up(be, v0);
      be.adamStep(ps, up(be, g), ms, vs, n, hp);
      const bc1 = 1 - hp.beta1 ** hp.step, bc2 = 1 - hp.beta2 ** hp.step;
      const wp = new Float32Array(n), wm = new Float32Array(n), wv = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        let p = p0[i], gi = g[i];
        if (decoupled) p = f(p * f(1 - hp.lr * hp.weightDecay));
        else gi = f(gi + f(f(hp.weightDecay) * p));
        const m = f(f(m0[i] * f(hp.beta1)) + f(f(1 - hp.beta1) * gi));
        const v = f(f(v0[i] * f(hp.beta2)) + f(f(f(1 - hp.beta2) * gi) * gi));
        const denom = f(f(Math.sqrt(v) / f(Math.sqrt(bc2))) + f(hp.eps));
        wp[i] = f(p + f(f(-f(hp.lr / bc1) * m) / denom));
        wm[i] = m;
        wv[i] = v;
      }
      close(await get(be, ps), wp, `adam decoupled=${decoupled}`, 1e-6, 1e-7);
      close(await get(be, ms), wm, "adam m", 1e-6, 1e-7);
      close(await get(be, vs), wv, "adam v", 1e-6, 1e-7);
    }
    for (const nesterov of [false, true]) {
      for (const first of [true, false]) {
        const hp = { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.05, nesterov, first };
        const ps = up(be, p0), bs = up(be, m0);
        be.sgdStep(ps, up(be, g), bs, n, hp);
        const wp = new Float32Array(n), wb = new Float32Array(n);
        for (let i = 0; i < n; i++) {
          let d = f(g[i] + f(f(hp.weightDecay) * p0[i]));
          const b = first ? d : f(f(m0[i] * f(hp.momentum)) + f(f(1 - hp.dampening) * d));
          d = nesterov ? f(d + f(f(hp.momentum) * b)) : b;
          wp[i] = f(p0[i] + f(-f(hp.lr) * d));
          wb[i] = b;
        }
        close(await get(be, ps), wp, `sgd nesterov=${nesterov} first=${first}`, 1e-6, 1e-7);
        close(await get(be, bs), wb, "sgd buffer", 1e-6, 1e-7);
      }
    }
    const ps = up(be, p0);
    be.sgdStep(ps, up(be, g), null, n, {
      lr: 0.5,
      momentum: 0,
      dampening: 0,
      weightDecay: 0,
      nesterov: false,
      first: true,
    });
    close(await get(be, ps), Array.from(p0, (v, i) => v - 0.5 * g[i]), "plain sgd", 1e-6, 1e-7);
  },
);

// ------------------------------------------------------------------------------- determinism, memory

gpuTest("same inputs → same bytes (conv weight grad with split-K, reductions)", async (be) => {
  const p = CONV_CASES[5];
  const x = rnd(p.n * p.cIn * p.h * p.w, 1), dy = rnd(p.n * p.cOut * p.oh * p.ow, 4);
  const xs = up(be, x), dys = up(be, dy);
  const a = out(be, p.cOut * p.cIn * 9), b = out(be, p.cOut * p.cIn * 9);
  be.conv2dBackwardWeight(xs, dys, a, null, p, false);
  be.conv2dBackwardWeight(xs, dys, b, null, p, false);
  same(await get(be, a), await get(be, b), "conv weight grad");
  const big = up(be, rnd(100000, 3));
  const s1 = out(be, 1), s2 = out(be, 1);
  be.reduce("sum", big, [100000], [0], s1);
  be.reduce("sum", big, [100000], [0], s2);
  same(await get(be, s1), await get(be, s2), "sum");
});

gpuTest("memory stats, arena reset, freed storage is refused", async (be) => {
  be.resetArena();
  const before = be.memoryStats();
  const s = be.alloc(1000, "float32", "step");
  const q = be.alloc(10, "float32", "persistent");
  const mid = be.memoryStats();
  if (mid.stepBytes - before.stepBytes !== 4000) {
    throw new Error(`step bytes ${JSON.stringify(mid)}`);
  }
  if (mid.peakBytes < mid.stepBytes + mid.persistentBytes) throw new Error("peak");
  be.resetArena();
  if (be.memoryStats().stepBytes !== 0) throw new Error("arena not reset");
  let threw = false;
  try {
    be.fill(s, 1);
  } catch {
    threw = true;
  }
  if (!threw) throw new Error("freed storage accepted");
  be.free(q);
  await be.sync();
});

/**
 * lib/tensor/wasm/gemm_pool.ts: the multi-threaded SGEMM on one shared memory.
 *
 * Both kernels (relaxed SIMD and plain SIMD128) with 1 and 2 threads against a naive float64
 * GEMM (with a rigorous float32 error bound) and against NumPy fixtures, over odd shapes, every
 * transA/transB, alpha/beta, leading dimensions past the row end (NaN there: a kernel that
 * reads it fails); determinism (same bytes twice, and for 1 and 2 threads); argument checks;
 * the workers loading with scoped permissions and over http.
 */
import assert from "node:assert/strict";
import { hasPython, pyFixture, ROOT } from "../_helpers.ts";
import {
  bCacheBytes,
  createGemmPool,
  GEMM_BLOCKING,
  GEMM_WASM_URLS,
  type GemmPool,
  gemmScratchBytes,
  keepsB,
  loadGemmKernel,
  planJobs,
} from "../../lib/tensor/wasm/gemm_pool.ts";

const RELAXED = WebAssembly.validate(await Deno.readFile(GEMM_WASM_URLS.relaxed));
if (!RELAXED) console.warn("skip: this engine has no relaxed SIMD; testing the plain kernel only");
const KERNELS = RELAXED ? [true, false] : [false];

/** A shared memory with a pool and a bump allocator above the pool's scratch. */
class Env {
  base = 0;
  top = 0;
  constructor(public pool: GemmPool, public memory: WebAssembly.Memory) {}
  static async of(
    relaxed: boolean,
    threads: number,
    memory?: WebAssembly.Memory,
  ): Promise<Env> {
    const scratchBytes = gemmScratchBytes(threads);
    const scratchPtr = 4096 + 16; // not 0 nor 64-aligned: the pool must not assume either
    const pages = Math.ceil((scratchPtr + scratchBytes + 4096) / 65536);
    const mem = memory ??
      new WebAssembly.Memory({ initial: pages + 1024, maximum: 65536, shared: true });
    if (mem.buffer.byteLength < pages * 65536) mem.grow(pages - mem.buffer.byteLength / 65536);
    new Uint8Array(mem.buffer, 0, scratchPtr).fill(GUARD);
    new Uint8Array(mem.buffer, scratchPtr + scratchBytes, 4096).fill(GUARD);
    const pool = await createGemmPool(mem, {
      threads,
      scratchPtr,
      scratchBytes,
      relaxed,
      serialFlops: 0, // every call through the workers
    });
    const e = new Env(pool, mem);
    e.base = e.top = Math.ceil((scratchPtr + scratchBytes + 4096) / 64) * 64 + 64;
    return e;
  }
  /** True when no byte below the scratch region nor in the 4 KiB above it changed. */
  guardsIntact(): boolean {
    const u8 = new Uint8Array(this.memory.buffer);
    const end = 4096 + 16 + gemmScratchBytes(this.pool.threads);
    for (let i = 0; i < 4096 + 16; i++) if (u8[i] !== GUARD) return false;
    for (let i = end; i < end + 4096; i++) if (u8[i] !== GUARD) return false;
    return true;
  }
  get f32(): Float32Array {
    return new Float32Array(this.memory.buffer);
  }
  /** Copies floats in; returns the byte offset (odd 4-byte alignments on purpose). */
  put(data: Float32Array, skew = 0): number {
    const ptr = this.top + 4 * skew;
    this.top = Math.ceil((ptr + data.length * 4) / 64) * 64 + 64;
    const need = this.top - this.memory.buffer.byteLength;
    if (need > 0) this.memory.grow(Math.ceil(need / 65536));
    this.f32.set(data, ptr / 4);
    return ptr;
  }
  get(ptr: number, n: number): Float32Array {
    return this.f32.slice(ptr / 4, ptr / 4 + n);
  }
  reset(): void {
    this.top = this.base;
  }
}

const GUARD = 0xa5;

/** xorshift32 in [-1, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 31 - 1;
  };
}

interface Case {
  m: number;
  n: number;
  k: number;
  ta: boolean;
  tb: boolean;
  alpha: number;
  beta: number;
  lda: number;
  ldb: number;
  ldc: number;
  A: Float32Array;
  B: Float32Array;
  C0: Float32Array;
}

/** A random case; padding past each row's valid part is NaN (C's too when beta = 0). */
function makeCase(
  r: () => number,
  m: number,
  n: number,
  k: number,
  ta: boolean,
  tb: boolean,
  alpha: number,
  beta: number,
  pad: [number, number, number],
): Case {
  const [ar, ac] = ta ? [k, m] : [m, k];
  const [br, bc] = tb ? [n, k] : [k, n];
  const lda = ac + pad[0], ldb = bc + pad[1], ldc = n + pad[2];
  const fill = (rows: number, cols: number, ld: number, valid: boolean) => {
    const x = new Float32Array(rows * ld).fill(NaN);
    if (valid) {
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) x[i * ld + j] = r();
      }
    }
    return x;
  };
  return {
    m,
    n,
    k,
    ta,
    tb,
    alpha,
    beta,
    lda,
    ldb,
    ldc,
    A: fill(ar, ac, lda, true),
    B: fill(br, bc, ldb, true),
    C0: fill(m, n, ldc, beta !== 0),
  };
}

/**
 * Naive float64 GEMM of a case, with the rigorous float32 bound of any summation order:
 * |err| ≤ (k + 2)·u·(|alpha|·Σ|a||b| + |beta·c|) + tiny, u = 2^-24 (gamma_{k+2}).
 */
function naive(c: Case): { ref: Float64Array; bound: Float64Array } {
  const { m, n, k } = c;
  const ref = new Float64Array(m * n);
  const bound = new Float64Array(m * n);
  const u = 2 ** -24;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0, sa = 0;
      for (let p = 0; p < k; p++) {
        const a = c.A[c.ta ? p * c.lda + i : i * c.lda + p];
        const b = c.B[c.tb ? j * c.ldb + p : p * c.ldb + j];
        s += a * b;
        sa += Math.abs(a * b);
      }
      const cv = c.beta === 0 ? 0 : c.beta * c.C0[i * c.ldc + j];
      ref[i * n + j] = c.alpha * s + cv;
      bound[i * n + j] = (k + 3) * u * (Math.abs(c.alpha) * sa + Math.abs(cv)) * 1.01 + 1e-30;
    }
  }
  return { ref, bound };
}

/** Runs a case on the pool; returns C (whole buffer incl. padding). */
function run(e: Env, c: Case, skew = 0): Float32Array {
  e.reset();
  const a = e.put(c.A, skew), b = e.put(c.B, skew ? 3 : 0), cp = e.put(c.C0, skew ? 1 : 0);
  e.pool.sgemm(c.ta, c.tb, c.m, c.n, c.k, c.alpha, a, c.lda, b, c.ldb, c.beta, cp, c.ldc);
  return e.get(cp, c.C0.length);
}

function bits(x: Float32Array): Uint32Array {
  return new Uint32Array(x.buffer, x.byteOffset, x.length);
}

/** Checks C against the reference and that the padding is untouched (bit for bit). */
function check(c: Case, out: Float32Array, what: string): void {
  const { ref, bound } = naive(c);
  const ob = bits(out), cb = bits(c.C0);
  for (let i = 0; i < c.m; i++) {
    for (let j = 0; j < c.ldc; j++) {
      const x = out[i * c.ldc + j];
      if (j >= c.n) {
        if (ob[i * c.ldc + j] !== cb[i * c.ldc + j]) {
          assert.fail(`${what}: C padding (${i}, ${j}) changed`);
        }
        continue;
      }
      const err = Math.abs(x - ref[i * c.n + j]);
      if (!(err <= bound[i * c.n + j])) {
        assert.fail(
          `${what}: C(${i}, ${j}) = ${x}, reference ${ref[i * c.n + j]}, |err| ${err} > bound ${
            bound[i * c.n + j]
          }`,
        );
      }
    }
  }
}

const desc = (c: Case) =>
  `m=${c.m} n=${c.n} k=${c.k} ta=${c.ta} tb=${c.tb} alpha=${c.alpha} beta=${c.beta} ` +
  `ld=${c.lda},${c.ldb},${c.ldc}`;

/** Odd and edge shapes around the tile sizes (5×8, 3×12) and the blockings. */
function shapes(): [number, number, number][] {
  const out: [number, number, number][] = [
    [1, 1, 1],
    [1, 1, 17],
    [3, 5, 7],
    [6, 8, 8],
    [4, 8, 9], // rows 0–3 only: the A vector without the broadcast row
    [10, 16, 15], // two whole 5-row tiles, k not a multiple of the 8-step unroll
    [5, 7, 3],
    [7, 9, 9],
    [12, 24, 16],
    [13, 25, 1],
    [17, 17, 17],
    [1, 257, 33],
    [257, 1, 33],
    [31, 45, 257],
    [64, 100, 16],
    [65, 131, 70],
    [GEMM_BLOCKING.mc + 1, 37, 41], // just past one packed A block
    [130, 250, GEMM_BLOCKING.kc + 44], // two k blocks
    [257, 3, 40],
  ];
  return out;
}

for (const relaxed of KERNELS) {
  for (const threads of [1, 2]) {
    Deno.test(
      `gemm ${
        relaxed ? "relaxed" : "plain"
      } ×${threads}: odd shapes, all transposes, alpha/beta, padded ld vs naive`,
      async () => {
        const e = await Env.of(relaxed, threads);
        try {
          assert.equal(e.pool.relaxed, relaxed);
          assert.equal(e.pool.threads, threads);
          const r = rng(1234 + threads);
          const scal: [number, number][] = [[1, 0], [0.5, 1], [-1.5, 2], [1, 1], [3, 0]];
          let i = 0;
          for (const [m, n, k] of shapes()) {
            for (const ta of [false, true]) {
              for (const tb of [false, true]) {
                const [alpha, beta] = scal[i % scal.length];
                const pad: [number, number, number] = [i % 3, (i + 1) % 4, (i * 7) % 5];
                const c = makeCase(r, m, n, k, ta, tb, alpha, beta, pad);
                check(c, run(e, c, i % 2), desc(c));
                i++;
              }
            }
          }
          assert.ok(e.guardsIntact(), "the pool wrote outside its scratch region");
        } finally {
          e.pool.close();
        }
      },
    );
  }
}

Deno.test({
  name: "gemm: both kernels and thread counts match NumPy (fixtures)",
  ignore: !hasPython("numpy"),
  fn: async () => {
    const dir = await pyFixture("gemm");
    const cases = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`)) as {
      m: number;
      n: number;
      k: number;
      transA: boolean;
      transB: boolean;
      alpha: number;
      beta: number;
      lda: number;
      ldb: number;
      ldc: number;
      sizes: [number, number, number];
    }[];
    assert.ok(cases.length >= 60);
    for (const relaxed of KERNELS) {
      for (const threads of [1, 2]) {
        const e = await Env.of(relaxed, threads);
        try {
          for (let i = 0; i < cases.length; i++) {
            const q = cases[i];
            const raw = await Deno.readFile(`${dir}/${i}.bin`);
            const all = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
            const [sa, sb, sc] = q.sizes;
            const c: Case = {
              m: q.m,
              n: q.n,
              k: q.k,
              ta: q.transA,
              tb: q.transB,
              alpha: q.alpha,
              beta: q.beta,
              lda: q.lda,
              ldb: q.ldb,
              ldc: q.ldc,
              A: all.slice(0, sa),
              B: all.slice(sa, sa + sb),
              C0: all.slice(sa + sb, sa + sb + sc),
            };
            const want = all.slice(sa + sb + sc, sa + sb + 2 * sc);
            const out = run(e, c);
            // NumPy's float64 result rounded once to float32 vs ours: within the same bound,
            // plus half an ulp for NumPy's own rounding; the padding bit-identical (NaN).
            const { bound } = naive(c);
            for (let r = 0; r < c.m; r++) {
              for (let j = 0; j < c.ldc; j++) {
                const x = out[r * c.ldc + j], y = want[r * c.ldc + j];
                if (j >= c.n) {
                  assert.ok(Number.isNaN(x) && Number.isNaN(y), `${desc(c)}: padding`);
                  continue;
                }
                const tol = bound[r * c.n + j] + Math.abs(y) * 2 ** -24;
                if (!(Math.abs(x - y) <= tol)) {
                  assert.fail(
                    `${desc(c)} (${relaxed}, ×${threads}): C(${r}, ${j}) = ${x}, NumPy ${y}`,
                  );
                }
              }
            }
          }
        } finally {
          e.pool.close();
        }
      }
    }
  },
});

Deno.test("gemm: the same bytes twice, and for 1 and 2 threads (many jobs, several k blocks)", async () => {
  const r = rng(99);
  const cases = [
    makeCase(r, 300, 700, 600, false, false, 1, 0, [0, 0, 0]),
    makeCase(r, 64, 5000, 16, false, false, 1, 1, [0, 3, 1]),
    makeCase(r, 1000, 50, 300, true, false, 0.5, 0, [1, 0, 0]),
    makeCase(r, 96, 300, 2000, false, true, 1, 1, [0, 0, 0]),
  ];
  for (const relaxed of KERNELS) {
    const outs: Uint32Array[][] = [];
    for (const threads of [1, 2, 2]) {
      const e = await Env.of(relaxed, threads);
      try {
        outs.push(cases.map((c) => bits(run(e, c)).slice()));
      } finally {
        e.pool.close();
      }
    }
    for (let i = 0; i < cases.length; i++) {
      assert.deepEqual(outs[1][i], outs[2][i], `${desc(cases[i])}: 2 threads, two runs differ`);
      assert.deepEqual(outs[0][i], outs[1][i], `${desc(cases[i])}: 1 vs 2 threads differ`);
    }
    // and one of them is right
    check(cases[1], new Float32Array(outs[1][1].buffer), desc(cases[1]));
  }
});

Deno.test("gemm: a thread's packed B kept from job to job of a column, or repacked when too large: right and the bytes of 1 thread", async () => {
  const r = rng(7);
  // 240×96×700: many job rows in one column, its packed B (700 × 96) kept between them;
  // 40×2016×2304: a column's packed B (18.6 MB) exceeds the buffer, so it is packed per job
  const kept = makeCase(r, 240, 96, 700, false, false, 1, 1, [0, 0, 0]);
  const big = makeCase(r, 40, 2016, 2304, false, true, 1, 0, [0, 0, 0]);
  const g = planJobs(kept.m, kept.n, kept.k, 2, 5, 8);
  assert.ok(g.gm > 2 && keepsB(kept.k, g.nb, 8, bCacheBytes(2)), JSON.stringify(g));
  assert.ok(!keepsB(big.k, Math.min(big.n, GEMM_BLOCKING.nc), 8, bCacheBytes(2)));
  for (const relaxed of KERNELS) {
    const outs: Uint32Array[][] = [];
    for (const threads of [1, 2]) {
      const e = await Env.of(relaxed, threads);
      try {
        outs.push([kept, big].map((c) => bits(run(e, c)).slice()));
      } finally {
        e.pool.close();
      }
    }
    for (const [i, c] of [kept, big].entries()) {
      assert.deepEqual(outs[0][i], outs[1][i], `${desc(c)}: 1 vs 2 threads differ`);
      check(c, new Float32Array(outs[1][i].buffer), desc(c));
    }
  }
});

Deno.test("gemm: k = 0 or alpha = 0 scale C by beta; m = 0 or n = 0 do nothing", async () => {
  const e = await Env.of(KERNELS[0], 2);
  try {
    const C = new Float32Array([1, 2, 3, 4, 5, 6]);
    const A = new Float32Array([NaN, NaN, NaN, NaN]);
    let c = e.put(C);
    const a = e.put(A);
    e.pool.sgemm(false, false, 2, 3, 0, 1, a, 1, a, 3, 0.5, c, 3);
    assert.deepEqual(Array.from(e.get(c, 6)), [0.5, 1, 1.5, 2, 2.5, 3]);
    c = e.put(C);
    e.pool.sgemm(false, false, 2, 3, 1, 0, a, 1, a, 3, 0, c, 3);
    assert.deepEqual(Array.from(e.get(c, 6)), [0, 0, 0, 0, 0, 0]);
    c = e.put(C);
    e.pool.sgemm(false, false, 0, 3, 4, 1, a, 4, a, 3, 0, c, 3);
    e.pool.sgemm(false, false, 2, 0, 4, 1, a, 4, a, 3, 0, c, 3);
    assert.deepEqual(Array.from(e.get(c, 6)), Array.from(C));
  } finally {
    e.pool.close();
  }
});

Deno.test("gemm: bad arguments throw RangeError; a closed pool throws", async () => {
  const e = await Env.of(KERNELS[0], 2);
  try {
    const a = e.put(new Float32Array(64));
    assert.throws(() => e.pool.sgemm(false, false, 4, 4, 4, 1, a, 3, a, 4, 0, a, 4), RangeError);
    assert.throws(() => e.pool.sgemm(false, false, 4, 4, 4, 1, a, 4, a, 4, 0, a, 2), RangeError);
    assert.throws(() => e.pool.sgemm(true, false, 5, 4, 4, 1, a, 4, a, 4, 0, a, 4), RangeError);
    assert.throws(() => e.pool.sgemm(false, false, 2.5, 4, 4, 1, a, 4, a, 4, 0, a, 4), RangeError);
    const end = e.memory.buffer.byteLength;
    assert.throws(
      () => e.pool.sgemm(false, false, 4, 4, 4, 1, end - 32, 4, a, 4, 0, a, 4),
      RangeError,
    );
  } finally {
    e.pool.close();
  }
  assert.throws(() => e.pool.sgemm(false, false, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 1), /closed/);
  await assert.rejects(
    createGemmPool(e.memory, { threads: 2, scratchPtr: 0, scratchBytes: 1000 }),
    RangeError,
  );
  await assert.rejects(
    createGemmPool(new WebAssembly.Memory({ initial: 1 }) as WebAssembly.Memory, {
      threads: 1,
      scratchPtr: 0,
      scratchBytes: gemmScratchBytes(1),
    }),
    TypeError,
  );
});

Deno.test("gemm: memory grown after the pool started is seen by the workers", async () => {
  const mem = new WebAssembly.Memory({ initial: 200, maximum: 65536, shared: true });
  const e = await Env.of(KERNELS[0], 2, mem);
  try {
    const before = mem.buffer.byteLength;
    e.top = before + 4096; // place the operands above the old end
    const c = makeCase(rng(5), 70, 90, 33, false, false, 1, 0, [0, 0, 0]);
    const out = (() => {
      const a = e.put(c.A), b = e.put(c.B), cp = e.put(c.C0);
      assert.ok(a > before && mem.buffer.byteLength > before);
      e.pool.sgemm(false, false, c.m, c.n, c.k, 1, a, c.lda, b, c.ldb, 0, cp, c.ldc);
      return e.get(cp, c.C0.length);
    })();
    check(c, out, "after grow");
  } finally {
    e.pool.close();
  }
});

Deno.test("gemm: relaxed SIMD is feature-detected with validate; the plain kernel is the fallback", async () => {
  const plain = await loadGemmKernel(true, () => false);
  assert.equal(plain.relaxed, false);
  assert.equal(WebAssembly.Module.exports(plain.module).some((x) => x.name === "macro"), true);
  const off = await loadGemmKernel(false);
  assert.equal(off.relaxed, false);
  const auto = await loadGemmKernel();
  assert.equal(auto.relaxed, RELAXED);
  // the plain module must validate everywhere SIMD128 + threads do; the relaxed one must not
  // validate without relaxed SIMD: it really uses f32x4.relaxed_madd (opcode 0xfd 0x105)
  const relaxedBytes = await Deno.readFile(GEMM_WASM_URLS.relaxed);
  const plainBytes = await Deno.readFile(GEMM_WASM_URLS.simd);
  const has = (b: Uint8Array, seq: number[]) =>
    b.some((_, i) => seq.every((x, j) => b[i + j] === x));
  assert.ok(has(relaxedBytes, [0xfd, 0x85, 0x02]), "relaxed module lacks f32x4.relaxed_madd");
  assert.ok(!has(plainBytes, [0xfd, 0x85, 0x02]), "plain module uses f32x4.relaxed_madd");
});

async function smoke(args: string[], cwd = "/tmp"): Promise<Record<string, unknown>> {
  const out = await new Deno.Command("deno", {
    args: ["run", "--quiet", ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, `deno run ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(text.trim().split("\n").pop()!);
}

Deno.test("gemm: workers start with permissions scoped to the library's files", async () => {
  const script = `${ROOT}/tests/fixtures/gemm_smoke.ts`;
  const r = await smoke([`--allow-read=${ROOT}/lib,${ROOT}/wasm`, script]);
  assert.deepEqual(r, { threads: 2, relaxed: RELAXED, sum: 959000, ok: true });
});

Deno.test("gemm: workers start when the library is served over http", async () => {
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    async (req) => {
      const path = decodeURIComponent(new URL(req.url).pathname);
      if (path.includes("..")) return new Response("no", { status: 403 });
      try {
        const body = await Deno.readFile(ROOT + path);
        const type = path.endsWith(".ts")
          ? "application/typescript"
          : path.endsWith(".wasm")
          ? "application/wasm"
          : "application/octet-stream";
        return new Response(body, { headers: { "content-type": type } });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  const host = `127.0.0.1:${server.addr.port}`;
  const denoDir = await Deno.makeTempDir({ prefix: "lumen-gemm-http-" });
  try {
    const out = await new Deno.Command("deno", {
      args: [
        "run",
        "--quiet",
        `--allow-net=${host}`,
        `--allow-import=${host}`,
        `http://${host}/tests/fixtures/gemm_smoke.ts`,
      ],
      cwd: "/tmp",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", DENO_DIR: denoDir },
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    assert.deepEqual(JSON.parse(text.trim()), {
      threads: 2,
      relaxed: RELAXED,
      sum: 959000,
      ok: true,
    });
  } finally {
    ac.abort();
    await server.finished;
    await Deno.remove(denoDir, { recursive: true });
  }
});

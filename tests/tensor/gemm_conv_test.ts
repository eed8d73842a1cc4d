/**
 * lib/tensor/wasm/gemm_pool.ts `sgemmConv` (B packed straight from an image, never an im2col
 * matrix) and `peak`: for both kernels and 1 and 2 threads, the implicit GEMM gives the same
 * bytes as an explicit im2col (built here in JS) + `sgemm`, for forward (col) and weight-gradient
 * (colᵀ) shapes over strides, paddings, dilations, odd sizes and several k blocks; the peak
 * counts the flops of every thread.
 */
import assert from "node:assert/strict";
import {
  createGemmPool,
  GEMM_WASM_URLS,
  type GemmPool,
  gemmScratchBytes,
} from "../../lib/tensor/wasm/gemm_pool.ts";
import { measureWasmPeak } from "../../lib/tensor/wasm/peak.ts";

const RELAXED = WebAssembly.validate(await Deno.readFile(GEMM_WASM_URLS.relaxed));
const KERNELS = RELAXED ? [true, false] : [false];

interface Geo {
  cin: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
}

const GEOS: Geo[] = [
  { cin: 3, h: 9, w: 7, kh: 4, kw: 4, sh: 2, sw: 2, ph: 1, pw: 1, dh: 1, dw: 1 },
  { cin: 2, h: 13, w: 6, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1 },
  { cin: 5, h: 11, w: 10, kh: 3, kw: 2, sh: 2, sw: 1, ph: 2, pw: 0, dh: 2, dw: 3 },
  { cin: 20, h: 15, w: 9, kh: 4, kw: 4, sh: 2, sw: 2, ph: 1, pw: 1, dh: 1, dw: 1 }, // K = 320: 2 k blocks
  { cin: 1, h: 40, w: 33, kh: 4, kw: 4, sh: 2, sw: 2, ph: 1, pw: 1, dh: 1, dw: 1 },
  // wide rows: whole panels of one output row (the vector paths), and the edges around them
  { cin: 2, h: 5, w: 70, kh: 4, kw: 4, sh: 2, sw: 2, ph: 1, pw: 1, dh: 1, dw: 1 },
  { cin: 3, h: 6, w: 41, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1 },
  { cin: 2, h: 4, w: 37, kh: 2, kw: 3, sh: 1, sw: 3, ph: 0, pw: 2, dh: 1, dw: 2 },
  // panels at both edges of a row (the masked vector path: left and right taps off the image)
  { cin: 3, h: 7, w: 16, kh: 4, kw: 4, sh: 2, sw: 2, ph: 1, pw: 1, dh: 1, dw: 1 },
  { cin: 2, h: 6, w: 8, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1 },
  { cin: 2, h: 5, w: 12, kh: 5, kw: 5, sh: 1, sw: 1, ph: 2, pw: 2, dh: 1, dw: 1 },
  { cin: 2, h: 9, w: 34, kh: 4, kw: 4, sh: 2, sw: 2, ph: 3, pw: 3, dh: 1, dw: 1 },
  // weight gradient's 4-tap vector loads: one kernel row of 8 taps; rows of 2 taps (never 4)
  { cin: 3, h: 5, w: 29, kh: 1, kw: 8, sh: 1, sw: 2, ph: 0, pw: 3, dh: 1, dw: 1 },
  { cin: 4, h: 6, w: 23, kh: 1, kw: 2, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1 },
];

const out = (n: number, k: number, s: number, p: number, d: number) =>
  Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;

/** The im2col matrix (K × P) of x. */
function im2col(x: Float32Array, g: Geo, oh: number, ow: number): Float32Array {
  const K = g.cin * g.kh * g.kw, P = oh * ow;
  const col = new Float32Array(K * P);
  for (let ci = 0; ci < g.cin; ci++) {
    for (let ky = 0; ky < g.kh; ky++) {
      for (let kx = 0; kx < g.kw; kx++) {
        const r = (ci * g.kh + ky) * g.kw + kx;
        for (let oy = 0; oy < oh; oy++) {
          for (let ox = 0; ox < ow; ox++) {
            const iy = oy * g.sh - g.ph + ky * g.dh, ix = ox * g.sw - g.pw + kx * g.dw;
            const v = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w
              ? x[(ci * g.h + iy) * g.w + ix]
              : 0;
            col[r * P + oy * ow + ox] = v;
          }
        }
      }
    }
  }
  return col;
}

async function poolOf(relaxed: boolean, threads: number) {
  const scratchBytes = gemmScratchBytes(threads);
  const pages = Math.ceil(scratchBytes / 65536) + 512;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: 65536, shared: true });
  const pool = await createGemmPool(memory, {
    threads,
    scratchPtr: 0,
    scratchBytes,
    relaxed,
    serialFlops: 0,
  });
  return { pool, memory, base: Math.ceil(scratchBytes / 64) * 64 + 64 };
}

function rand(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

/** Bytes of C from sgemmConv and from im2col + sgemm (both beta = 0.5 over the same C). */
function both(
  pool: GemmPool,
  memory: WebAssembly.Memory,
  base: number,
  g: Geo,
  m: number,
  trans: boolean,
): [Uint8Array, Uint8Array] {
  const oh = out(g.h, g.kh, g.sh, g.ph, g.dh), ow = out(g.w, g.kw, g.sw, g.pw, g.dw);
  const K = g.cin * g.kh * g.kw, P = oh * ow;
  const [k, n] = trans ? [P, K] : [K, P];
  const x = rand(g.cin * g.h * g.w, 1), a = rand(m * k, 2), c0 = rand(m * n, 3);
  const col = im2col(x, g, oh, ow);
  const px = base, pa = px + x.length * 4 + 64, pc = pa + a.length * 4 + 64;
  const pcol = pc + c0.length * 4 + 64;
  const f = new Float32Array(memory.buffer);
  f.set(x, px / 4);
  f.set(a, pa / 4);
  f.set(col, pcol / 4);
  const geom = [g.cin, g.h, g.w, g.kh, g.kw, oh, ow, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw];
  f.set(c0, pc / 4);
  pool.sgemmConv(trans, m, n, k, 1, pa, k, px, geom, 0.5, pc, n);
  const implicit = new Uint8Array(memory.buffer.slice(pc, pc + m * n * 4));
  f.set(c0, pc / 4);
  // explicit: col is K × P row-major; colᵀ as op(B) is B = col with transB
  pool.sgemm(false, trans, m, n, k, 1, pa, k, pcol, P, 0.5, pc, n);
  const explicit = new Uint8Array(memory.buffer.slice(pc, pc + m * n * 4));
  return [implicit, explicit];
}

/** Bytes of C from sgemmConv with a bias vector and from the bias copied into C first. */
function withBias(
  pool: GemmPool,
  memory: WebAssembly.Memory,
  base: number,
  g: Geo,
  m: number,
  beta: number,
): [Uint8Array, Uint8Array] {
  const oh = out(g.h, g.kh, g.sh, g.ph, g.dh), ow = out(g.w, g.kw, g.sw, g.pw, g.dw);
  const K = g.cin * g.kh * g.kw, P = oh * ow;
  const x = rand(g.cin * g.h * g.w, 4), a = rand(m * K, 5), bias = rand(m, 6);
  const px = base, pa = px + x.length * 4 + 64, pb = pa + a.length * 4 + 64;
  const pc = pb + m * 4 + 64;
  const f = new Float32Array(memory.buffer);
  f.set(x, px / 4);
  f.set(a, pa / 4);
  f.set(bias, pb / 4);
  const geom = [g.cin, g.h, g.w, g.kh, g.kw, oh, ow, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw];
  f.fill(NaN, pc / 4, pc / 4 + m * P); // C is not read when a bias is given
  pool.sgemmConv(false, m, P, K, 1, pa, K, px, geom, beta, pc, P, pb);
  const fused = new Uint8Array(memory.buffer.slice(pc, pc + m * P * 4));
  for (let i = 0; i < m; i++) f.fill(bias[i], pc / 4 + i * P, pc / 4 + (i + 1) * P);
  pool.sgemmConv(false, m, P, K, 1, pa, K, px, geom, beta, pc, P);
  const copied = new Uint8Array(memory.buffer.slice(pc, pc + m * P * 4));
  return [fused, copied];
}

for (const relaxed of KERNELS) {
  for (const threads of [1, 2]) {
    Deno.test(`gemm conv: a bias read in place of C = the bias copied into C (${relaxed ? "relaxed" : "plain"}, ${threads} thread${threads > 1 ? "s" : ""})`, async () => {
      const { pool, memory, base } = await poolOf(relaxed, threads);
      try {
        for (const g of GEOS) {
          for (const m of [1, 7, 13, 70]) {
            for (const beta of [1, 0.5]) {
              const [fused, copied] = withBias(pool, memory, base, g, m, beta);
              assert.deepEqual(fused, copied, `${JSON.stringify(g)} m=${m} beta=${beta}`);
            }
          }
        }
      } finally {
        pool.close();
      }
    });
    Deno.test(`gemm conv: packed from the image = im2col + sgemm (${relaxed ? "relaxed" : "plain"}, ${threads} thread${threads > 1 ? "s" : ""})`, async () => {
      const { pool, memory, base } = await poolOf(relaxed, threads);
      try {
        for (const g of GEOS) {
          for (const m of [1, 7, 13]) {
            for (const trans of [false, true]) {
              const [imp, exp] = both(pool, memory, base, g, m, trans);
              assert.deepEqual(imp, exp, `${JSON.stringify(g)} m=${m} trans=${trans}`);
            }
          }
        }
      } finally {
        pool.close();
      }
    });
  }
}

Deno.test("gemm conv: a geometry that does not match k and n is refused", async () => {
  const { pool, base } = await poolOf(false, 1);
  try {
    const geom = [1, 4, 4, 2, 2, 3, 3, 1, 1, 0, 0, 1, 1];
    assert.throws(
      () => pool.sgemmConv(false, 2, 9, 5, 1, base, 5, base, geom, 0, base, 9),
      RangeError,
    );
    assert.throws(
      () => pool.sgemmConv(false, 2, 9, 4, 1, base, 4, base, [1, 2], 0, base, 9),
      RangeError,
    );
  } finally {
    pool.close();
  }
});

Deno.test("gemm peak: every thread's flops, a positive rate", async () => {
  for (const threads of [1, 2]) {
    const { pool } = await poolOf(RELAXED, threads);
    try {
      const one = pool.peak(10);
      assert.equal(one.flops, threads * 10 * 12 * 8 * 8);
      const r = measureWasmPeak(pool, { burstMs: 2, bursts: 3, minMs: 10 });
      assert.ok(r.gflops > 0 && r.gflops >= r.medianGflops && r.bursts >= 3);
      assert.equal(r.threads, threads);
    } finally {
      pool.close();
    }
  }
});

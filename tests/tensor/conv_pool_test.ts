/**
 * The wasm backend's convolutions on the GEMM pool (lib/tensor/wasm/conv.ts): B packed straight
 * from the image (forward, weight gradient), the data gradient by GEMM + col2im, against a
 * float64 reference, over odd sizes, batches of 2, accumulate on and off, with a bias (read by the
 * GEMM in place of y) and without, the data gradient in one col tile and in many,
 * 1 and 2 threads; the same bytes for 1 and 2 threads.
 */
import assert from "node:assert/strict";
import * as T from "../../lib/tensor/mod.ts";
import type { Conv2dParams } from "../../lib/tensor/backend.ts";

function rand(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

function geom(
  n: number,
  cIn: number,
  h: number,
  w: number,
  cOut: number,
  k: number,
  s: number,
  pad: number,
): Conv2dParams {
  const oh = Math.floor((h + 2 * pad - k) / s) + 1, ow = Math.floor((w + 2 * pad - k) / s) + 1;
  return {
    n,
    cIn,
    h,
    w,
    cOut,
    kh: k,
    kw: k,
    oh,
    ow,
    strideH: s,
    strideW: s,
    padH: pad,
    padW: pad,
    dilH: 1,
    dilW: 1,
    groups: 1,
  };
}

/** Reference forward y (+ bias), data gradient dx, weight gradient dw (float64). */
function reference(
  p: Conv2dParams,
  x: Float32Array,
  wt: Float32Array,
  dy: Float32Array,
  bias: Float32Array,
) {
  const y = new Float64Array(p.n * p.cOut * p.oh * p.ow);
  for (let i = 0; i < y.length; i++) y[i] = bias[Math.floor(i / (p.oh * p.ow)) % p.cOut];
  const dx = new Float64Array(p.n * p.cIn * p.h * p.w);
  const dw = new Float64Array(wt.length);
  for (let n = 0; n < p.n; n++) {
    for (let co = 0; co < p.cOut; co++) {
      for (let oy = 0; oy < p.oh; oy++) {
        for (let ox = 0; ox < p.ow; ox++) {
          const yi = ((n * p.cOut + co) * p.oh + oy) * p.ow + ox;
          for (let ci = 0; ci < p.cIn; ci++) {
            for (let ky = 0; ky < p.kh; ky++) {
              const iy = oy * p.strideH - p.padH + ky;
              if (iy < 0 || iy >= p.h) continue;
              for (let kx = 0; kx < p.kw; kx++) {
                const ix = ox * p.strideW - p.padW + kx;
                if (ix < 0 || ix >= p.w) continue;
                const wi = ((co * p.cIn + ci) * p.kh + ky) * p.kw + kx;
                const xi = ((n * p.cIn + ci) * p.h + iy) * p.w + ix;
                y[yi] += wt[wi] * x[xi];
                dx[xi] += wt[wi] * dy[yi];
                dw[wi] += x[xi] * dy[yi];
              }
            }
          }
        }
      }
    }
  }
  return { y, dx, dw };
}

function close(got: Float32Array, want: Float64Array, what: string): void {
  assert.equal(got.length, want.length, what);
  let scale = 1e-6;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < got.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= 1e-5 * scale + 1e-6)) {
      assert.fail(`${what}[${i}]: ${got[i]} vs ${want[i]}`);
    }
  }
}

const CASES: Conv2dParams[] = [
  geom(1, 3, 9, 7, 5, 4, 2, 1),
  geom(2, 4, 12, 10, 6, 4, 2, 1),
  geom(1, 17, 15, 8, 9, 4, 2, 1), // K = 272: two k blocks in the weight GEMMs
  geom(2, 2, 7, 3, 3, 3, 1, 1), // 3×3 stride 1
  geom(1, 1, 2, 2, 3, 4, 2, 1), // a 1×1 output
  geom(1, 16, 34, 66, 8, 4, 2, 1), // K = 256: the data gradient in 9 col tiles (64 KiB scratch)
  // col2im's one-pass stride-2 rows (outputs ≥ 8 wide) with no padding and with more than k/2
  geom(2, 3, 9, 40, 5, 4, 2, 0),
  geom(1, 2, 11, 37, 3, 4, 2, 3),
];

async function backend(threads: number): Promise<T.WasmBackend> {
  const be = new T.WasmBackend({ initialMiB: 16 });
  assert.ok(await T.startWasmThreads(be, threads));
  await be.startThreads(threads);
  be.parallelMin = 64;
  return be;
}

/** Forward, data and weight gradient (the last two also accumulated onto 1s) as bytes. */
function run(be: T.WasmBackend, p: Conv2dParams) {
  const x = rand(p.n * p.cIn * p.h * p.w, 1), wt = rand(p.cOut * p.cIn * p.kh * p.kw, 2);
  const dy = rand(p.n * p.cOut * p.oh * p.ow, 3), bias = rand(p.cOut, 4);
  be.convScratchBytes = p.cIn === 16 ? 64 << 10 : 32 << 20;
  const st = (a: Float32Array) => {
    const s = be.alloc(a.length, "float32", "step");
    be.write(s, a);
    return s;
  };
  const sx = st(x), sw = st(wt), sdy = st(dy), sb = st(bias);
  const sy = be.alloc(dy.length, "float32", "step");
  const sdx = be.alloc(x.length, "float32", "step"), sdw = be.alloc(wt.length, "float32", "step");
  be.conv2d(sx, sw, sb, sy, p);
  const yb = be.readSync(sy) as Float32Array;
  be.conv2d(sx, sw, null, sy, p);
  be.conv2dBackwardData(sdy, sw, sdx, p, false);
  be.conv2dBackwardWeight(sx, sdy, sdw, null, p, false);
  const out = {
    y: be.readSync(sy) as Float32Array,
    yBias: yb,
    dx: be.readSync(sdx) as Float32Array,
    dw: be.readSync(sdw) as Float32Array,
    dxAcc: new Float32Array(0) as Float32Array<ArrayBufferLike>,
    dwAcc: new Float32Array(0) as Float32Array<ArrayBufferLike>,
  };
  be.fill(sdx, 1);
  be.fill(sdw, 1);
  be.conv2dBackwardData(sdy, sw, sdx, p, true);
  be.conv2dBackwardWeight(sx, sdy, sdw, null, p, true);
  out.dxAcc = be.readSync(sdx) as Float32Array;
  out.dwAcc = be.readSync(sdw) as Float32Array;
  be.resetArena();
  return { out, ref: reference(p, x, wt, dy, new Float32Array(p.cOut)), bias };
}

Deno.test("conv on the GEMM pool: forward and both gradients = float64 reference; 1 and 2 threads give the same bytes", async () => {
  const b1 = await backend(1), b2 = await backend(2);
  try {
    for (const p of CASES) {
      const r1 = run(b1, p), r2 = run(b2, p);
      const tag = `${p.cIn}→${p.cOut} ${p.h}×${p.w} k${p.kh} s${p.strideH} n${p.n}`;
      close(r2.out.y, r2.ref.y, `${tag} y`);
      const yb = r2.ref.y.map((v, i) => v + r2.bias[Math.floor(i / (p.oh * p.ow)) % p.cOut]);
      close(r2.out.yBias, yb, `${tag} y + bias`);
      close(r2.out.dx, r2.ref.dx, `${tag} dx`);
      close(r2.out.dw, r2.ref.dw, `${tag} dw`);
      close(r2.out.dxAcc, r2.ref.dx.map((v) => v + 1), `${tag} dx accumulated`);
      close(r2.out.dwAcc, r2.ref.dw.map((v) => v + 1), `${tag} dw accumulated`);
      for (const k of ["y", "yBias", "dx", "dw", "dxAcc", "dwAcc"] as const) {
        assert.deepEqual(r1.out[k], r2.out[k], `${tag} ${k}: 1 thread ≠ 2 threads`);
      }
    }
  } finally {
    for (const b of [b1, b2]) {
      b.closeGemmPool();
      b.stopThreads();
    }
  }
});

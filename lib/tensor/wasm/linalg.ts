/**
 * The linalg family of the wasm backend (lib/tensor/ops/linalg.ts): SGEMM on byte offsets and
 * batched matmul. A GEMM runs on the multi-threaded GEMM pool (lib/tensor/wasm/gemm_pool.ts)
 * when one is installed, else on the engine's single-threaded Rust `sgemm`.
 *
 * @module
 */
import type { MatmulParams, Storage } from "../backend.ts";
import type { WasmBackend } from "./backend.ts";
import type { GemmPool } from "./gemm_pool.ts";

/** The GEMM interface the backend calls (lib/tensor/wasm/gemm_pool.ts implements it). */
export type Sgemm = Pick<GemmPool, "sgemm">;

/**
 * A started GEMM pool: an {@link Sgemm} with its thread count, and (lib/tensor/wasm/gemm_pool.ts)
 * the GEMM whose B is a convolution's im2col matrix packed straight from the image.
 */
export type ThreadedSgemm =
  & Pick<GemmPool, "sgemm" | "threads" | "close">
  & Partial<Pick<GemmPool, "sgemmConv">>;

/**
 * C = alpha·op(A)·op(B) + beta·C on byte offsets (the pool when installed, else Rust).
 *
 * @example
 * gemm(be, false, false, m, n, k, 1, pa, k, pb, n, 0, pc, n);
 */
export function gemm(
  be: WasmBackend,
  ta: boolean,
  tb: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: number,
  lda: number,
  b: number,
  ldb: number,
  beta: number,
  c: number,
  ldc: number,
): void {
  if (m === 0 || n === 0) return;
  const pool = be.gemmPool;
  if (pool) {
    pool.sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  } else {
    be.engine.sgemm(
      ta ? 1 : 0,
      tb ? 1 : 0,
      m,
      n,
      k,
      alpha,
      a,
      lda,
      b,
      ldb,
      beta,
      c,
      ldc,
      be.gemmScratch,
    );
  }
}

/**
 * Batched C[b] = alpha·op(A[b])·op(B[b]) + beta·C[b] ({@link Backend.matmul}).
 *
 * @example
 * const flags = { transA: false, transB: false, alpha: 1, beta: 0 };
 * matmul(be, a, b, c, { batch: 1, m, n, k, strideA: 0, strideB: 0, strideC: 0, ...flags });
 */
export function matmul(be: WasmBackend, a: Storage, b: Storage, c: Storage, p: MatmulParams): void {
  const lda = p.transA ? p.m : p.k;
  const ldb = p.transB ? p.k : p.n;
  const pa = be.p(a, p.offsetA ?? 0),
    pb = be.p(b, p.offsetB ?? 0),
    pc = be.p(c, p.offsetC ?? 0);
  for (let i = 0; i < p.batch; i++) {
    be.gemm(
      p.transA,
      p.transB,
      p.m,
      p.n,
      p.k,
      p.alpha,
      pa + i * p.strideA * 4,
      lda,
      pb + i * p.strideB * 4,
      ldb,
      p.beta,
      pc + i * p.strideC * 4,
      p.n,
    );
  }
}

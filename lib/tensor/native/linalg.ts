/**
 * Linear algebra over oneDNN: row-major single-precision GEMM (`dnnl_sgemm`).
 *
 * @example
 * ```ts
 * import { sgemm } from "./linalg.ts";
 * const c = new Float32Array(4);
 * sgemm(false, false, 2, 2, 1, new Float32Array([1, 2]), new Float32Array([3, 4]), c);
 * // c = [3, 4, 6, 8]
 * ```
 *
 * @module
 */
import { loadDnnl } from "./library.ts";

/**
 * C = alpha·op(A)·op(B) + beta·C, row-major; A is M×K (K×M when transA), B is K×N (N×K when
 * transB), C is M×N. Throws on a oneDNN error status.
 */
export function sgemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  alpha = 1,
  beta = 0,
): void {
  if (a.length < m * k || b.length < k * n || c.length < m * n) {
    throw new Error(`native sgemm: buffers too small for ${m}×${n}×${k}`);
  }
  const { symbols } = loadDnnl();
  const lda = transA ? m : k, ldb = transB ? k : n;
  const st = symbols.dnnl_sgemm(
    transA ? 84 : 78, // 'T' : 'N'
    transB ? 84 : 78,
    BigInt(m),
    BigInt(n),
    BigInt(k),
    alpha,
    a,
    BigInt(lda),
    b,
    BigInt(ldb),
    beta,
    c,
    BigInt(n),
  );
  if (st !== 0) throw new Error(`native sgemm: oneDNN status ${st} for ${m}×${n}×${k}`);
}

/**
 * The linalg family of the webgpu backend (lib/tensor/ops/linalg.ts): batched SGEMM on
 * kernels/linalg.wgsl (64×64 tiles of C per workgroup, batches on the z axis of the grid).
 *
 * @module
 */
import type { MatmulParams, Storage } from "../backend.ts";
import { Params } from "./runtime.ts";
import type { WebGpuBackend } from "./backend.ts";

/**
 * Batched C[b] = alpha·op(A[b])·op(B[b]) + beta·C[b] ({@link Backend.matmul}).
 *
 * @example
 * matmul(be, a, b, c, p);
 */
export function matmul(
  be: WebGpuBackend,
  a: Storage,
  b: Storage,
  c: Storage,
  p: MatmulParams,
): void {
  const { m, n, k } = p;
  if (m === 0 || n === 0 || p.batch === 0) return;
  const lda = p.transA ? m : k, ldb = p.transB ? k : n;
  const maxZ = be.rt.ctx.maxGroups;
  for (let b0 = 0; b0 < p.batch; b0 += maxZ) {
    const nb = Math.min(maxZ, p.batch - b0);
    const prm = new Params().u(m, n, k, 0, lda, ldb, n, 0, p.strideA, p.strideB, p.strideC, 0)
      .u(
        (p.offsetA ?? 0) + b0 * p.strideA,
        (p.offsetB ?? 0) + b0 * p.strideB,
        (p.offsetC ?? 0) + b0 * p.strideC,
        0,
      ).f(p.alpha, p.beta);
    be.run(
      {
        file: "linalg",
        entry: "gemm",
        layout: "urrw",
        constants: { TA: p.transA ? 1 : 0, TB: p.transB ? 1 : 0 },
      },
      [null, be.b(a), be.b(b), be.b(c)],
      prm,
      [Math.ceil(n / 64), Math.ceil(m / 64), nb],
    );
  }
}

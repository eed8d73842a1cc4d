/**
 * Matrix products, forward and backward side by side: matmul (batched, broadcasting batch
 * axes like torch.matmul) and linear (x·Wᵀ + b).
 *
 * @module
 */
import { empty, fmtShape, record, sizeOf, Tensor, TensorError } from "../tensor.ts";
import { broadcastShapes, checkFloat, checkSame, reshapeNoGrad } from "./util.ts";
import { kReduce } from "./reduce.ts";
import { expand } from "./shape.ts";

/**
 * Raw batched GEMM (no tape): C[batch] = op(A)·op(B), A [batch?, m, k] (or [k, m] when
 * transA), B likewise; aBatched/bBatched false = the same matrix for every batch.
 */
export function kMatmul(
  a: Tensor,
  b: Tensor,
  batch: number,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  aBatched: boolean,
  bBatched: boolean,
  outShape: readonly number[],
): Tensor {
  const c = empty(outShape, { backend: a.backend });
  a.backend.matmul(a.storage, b.storage, c.storage, {
    batch,
    m,
    n,
    k,
    transA,
    transB,
    strideA: aBatched ? m * k : 0,
    strideB: bBatched ? k * n : 0,
    strideC: m * n,
    alpha: 1,
    beta: 0,
  });
  return c;
}

/** torch.matmul: 1-D operands are promoted and their axis removed; batch axes broadcast. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkSame("matmul", a, b);
  checkFloat("matmul", a, b);
  if (a.ndim === 0 || b.ndim === 0) {
    throw new TensorError("matmul", "scalars cannot be multiplied with matmul");
  }
  const a2 = a.ndim === 1 ? reshapeT(a, [1, a.shape[0]]) : a;
  const b2 = b.ndim === 1 ? reshapeT(b, [b.shape[0], 1]) : b;
  const m = a2.shape[a2.ndim - 2], k = a2.shape[a2.ndim - 1];
  const k2 = b2.shape[b2.ndim - 2], n = b2.shape[b2.ndim - 1];
  if (k !== k2) {
    throw new TensorError(
      "matmul",
      `inner sizes differ: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`,
    );
  }
  const aB = a2.shape.slice(0, -2), bB = b2.shape.slice(0, -2);
  const batchShape = broadcastShapes("matmul", aB, bB);
  const batch = sizeOf(batchShape);
  // Operands whose batch axes are not the full broadcast batch (and not absent) are expanded.
  const aFull = sizeOf(aB) === batch && aB.length === batchShape.length;
  const bFull = sizeOf(bB) === batch && bB.length === batchShape.length;
  const A = !aFull && sizeOf(aB) !== 1 ? expand(a2, [...batchShape, m, k]) : a2;
  const B = !bFull && sizeOf(bB) !== 1 ? expand(b2, [...batchShape, k, n]) : b2;
  const aBat = sizeOf(A.shape.slice(0, -2)) === batch && batch > 1;
  const bBat = sizeOf(B.shape.slice(0, -2)) === batch && batch > 1;
  let outShape = [...batchShape, m, n];
  const c = kMatmul(A, B, batch, m, n, k, false, false, aBat, bBat, outShape);
  const out = record(c, "matmul", [A, B], (g) => {
    // dA = g·Bᵀ, dB = Aᵀ·g (summed over batches where the operand was shared)
    let dA: Tensor | null = null, dB: Tensor | null = null;
    if (A.requiresGrad) {
      if (aBat) dA = kMatmul(g, B, batch, m, k, n, false, true, true, bBat, A.shape);
      else {
        // shared A: Σ_b g_b·B_bᵀ: stack batches along n when B is batched
        const t = kMatmul(g, B, batch, m, k, n, false, true, true, bBat, [batch, m, k]);
        dA = reshapeNoGrad(kReduce("sum", t, [0]), A.shape);
      }
    }
    if (B.requiresGrad) {
      if (bBat) dB = kMatmul(A, g, batch, k, n, m, true, false, aBat, true, B.shape);
      else if (!aBat) {
        dB = kMatmul(A, g, batch, k, n, m, true, false, false, true, [batch, k, n]);
        dB = reshapeNoGrad(kReduce("sum", dB, [0]), B.shape);
      } else {
        // shared B, batched A: dB = Σ_b A_bᵀ·g_b = (A as [batch·m, k])ᵀ·(g as [batch·m, n])
        dB = kMatmul(A, g, 1, k, n, batch * m, true, false, false, false, B.shape);
      }
    }
    return [dA, dB];
  });
  if (a.ndim === 1) outShape = outShape.filter((_, i) => i !== outShape.length - 2);
  if (b.ndim === 1) outShape = outShape.slice(0, -1);
  return outShape.length === c.ndim ? out : reshapeT(out, outShape);
}

function reshapeT(x: Tensor, shape: number[]): Tensor {
  const out = new Tensor(x.storage, shape);
  return record(out, "reshape", [x], (g) => [reshapeNoGrad(g, x.shape)]);
}

/** y = x·Wᵀ + b with x [..., in], W [out, in], b [out] (or null). */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  checkSame("linear", x, weight);
  checkFloat("linear", x, weight);
  if (weight.ndim !== 2 || x.ndim < 1 || x.shape[x.ndim - 1] !== weight.shape[1]) {
    throw new TensorError(
      "linear",
      `input ${fmtShape(x.shape)} does not fit weight ${fmtShape(weight.shape)}`,
    );
  }
  const [outF, inF] = weight.shape;
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== outF)) {
    throw new TensorError(
      "linear",
      `bias ${fmtShape(bias.shape)} for weight ${fmtShape(weight.shape)}`,
    );
  }
  const rows = x.size / inF;
  const outShape = [...x.shape.slice(0, -1), outF];
  const y = empty(outShape, { backend: x.backend });
  const be = x.backend;
  if (bias) {
    be.copy(
      bias.storage,
      { offset: 0, strides: [0, 1] },
      y.storage,
      { offset: 0, strides: [outF, 1] },
      [rows, outF],
      false,
    );
  }
  be.matmul(x.storage, weight.storage, y.storage, {
    batch: 1,
    m: rows,
    n: outF,
    k: inF,
    transA: false,
    transB: true,
    strideA: 0,
    strideB: 0,
    strideC: 0,
    alpha: 1,
    beta: bias ? 1 : 0,
  });
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record(y, "linear", inputs, (g) => {
    const res: (Tensor | null)[] = [null, null, null];
    if (x.requiresGrad) {
      res[0] = kMatmul(g, weight, 1, rows, inF, outF, false, false, false, false, x.shape);
    }
    if (weight.requiresGrad) {
      res[1] = kMatmul(g, x, 1, outF, inF, rows, true, false, false, false, weight.shape);
    }
    if (bias && bias.requiresGrad) {
      res[2] = reshapeNoGrad(kReduce("sum", reshapeNoGrad(g, [rows, outF]), [0]), [outF]);
    }
    return bias ? res : res.slice(0, 2);
  });
}

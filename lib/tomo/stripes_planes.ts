/**
 * Stripe masks streamed through the WASM kernels in sinogram (plane-major) layout: each detector
 * row is one angles × columns plane, as the scan readers give them, so nothing is transposed.
 * Detection and merge step 1 are fused (`detect_mask_planes`: at least `size` window values at or
 * below the threshold ⇔ the window's element size−1 is, so no sort is needed), then merge steps
 * 2–5 (`merge_planes`). Same bits as {@link stripesDetect} then {@link stripesMerge}; the
 * detection weights are not produced (use stripes.ts for them).
 *
 * All buffers live in one WASM instance allocated once: (slab + 2·max(radius,1)) float32 input
 * planes and their gradient, (slab + 2·⌊depth/2⌋) uint8 step-1 planes, `slab` output planes and a
 * few single-plane scratch buffers: a fixed amount whatever the number of rows. Input rows are
 * read once; the halo rows are kept by shifting the buffers.
 *
 * @example
 * ```ts
 * import { stripesMaskPlanes } from "./stripes_planes.ts";
 * await stripesMaskPlanes([1801, 64, 2560], (r0, r1, dst) => fill(dst), (y0, y1, m) => save(m), {
 *   detect: { size: 250, radius: 3 }, merge: { threshold: 0.63, minStripeLength: 600 },
 * });
 * ```
 * @module
 */
import { loadWasm, WasmArena } from "../wasm/load.ts";
import { detectHalo, mergeHalo, sensitivityCount } from "./stripes_ref.ts";
import {
  type DetectParams,
  detectParams,
  type MergeParams,
  mergeParams,
  type Shape3,
} from "./stripes.ts";

interface Exports {
  detect_mask_planes(...a: number[]): void;
  merge_planes(...a: number[]): void;
}

/** Fills `dst` with the normalised sinograms of rows [r0, r1): (r1−r0) × angles × columns. */
export type PlaneReader = (r0: number, r1: number, dst: Float32Array) => void | Promise<void>;
/** Receives the mask of rows [y0, y1), (y1−y0) × angles × columns; the view is reused after. */
export type PlaneWriter = (y0: number, y1: number, mask: Uint8Array) => void | Promise<void>;

/** Options of {@link stripesMaskPlanes}. */
export interface PlaneMaskOptions {
  detect?: DetectParams;
  merge?: MergeParams;
  /** Output rows per kernel call (default 4). */
  slabRows?: number;
  /** Output rows [start, stop) to make (default all); halo rows are read as needed. */
  rows?: [number, number];
}

/** Bytes of WASM memory {@link stripesMaskPlanes} uses for a shape and its parameters. */
export function planeMaskBytes(shape: Shape3, slab: number, radius: number, depth: number) {
  const [Z, , X] = shape;
  const P = Z * X, h = detectHalo(radius), hd = mergeHalo(depth);
  return 8 * P * (slab + 2 * h) + P * (slab + 2 * hd) + P * slab + 4 * P + 4 * (Z + 1) * X +
    2 * P + 4 * (X + 1) + 8 * (2 * radius + 1) ** 2 + 1024;
}

/**
 * The stripe mask of output rows `opts.rows` of a scan, slab by slab (see the module doc).
 * `read` is called with increasing, non-overlapping row ranges; `write` in row order.
 *
 * @example
 * ```ts
 * await stripesMaskPlanes(shape, read, write, { detect, merge, rows: [0, 128] });
 * ```
 */
export async function stripesMaskPlanes(
  shape: Shape3,
  read: PlaneReader,
  write: PlaneWriter,
  opts: PlaneMaskOptions = {},
): Promise<void> {
  const { size, radius } = detectParams(shape, opts.detect);
  const p = mergeParams(shape, opts.merge);
  const [Z, Y, X] = shape;
  const [R0, R1] = opts.rows ?? [0, Y];
  if (!(Number.isInteger(R0) && Number.isInteger(R1) && 0 <= R0 && R0 < R1 && R1 <= Y)) {
    throw new RangeError(`stripesMaskPlanes: rows: [${R0}, ${R1}) is not inside [0, ${Y})`);
  }
  const S = opts.slabRows ?? 4;
  if (!(Number.isInteger(S) && S >= 1)) {
    throw new RangeError(`stripesMaskPlanes: slabRows: must be an integer ≥ 1, got ${S}`);
  }
  const h = detectHalo(radius), hd = mergeHalo(p.minStripeDepth);
  const P = Z * X;
  const inst = await loadWasm(new URL("../../wasm/stripes.wasm", import.meta.url));
  const ex = inst.exports as unknown as Exports;
  const a = WasmArena.of(inst);
  const inCap = S + 2 * h, m1Cap = S + 2 * hd;
  const pIn = a.alloc(4 * P * inCap), pG = a.alloc(4 * P * inCap), pW = a.alloc(4 * P);
  const pC = a.alloc(4 * (Z + 1) * X), pM1 = a.alloc(P * m1Cap), pOut = a.alloc(P * S);
  const pA = a.alloc(P), pB = a.alloc(P), pR = a.alloc(4 * (X + 1));
  const pPlate = a.alloc(8 * (2 * radius + 1) ** 2, 8);
  const buf = a.memory.buffer; // no allocation after this point: the views stay valid
  const f32 = new Float32Array(buf, pIn, P * inCap);
  const m1 = new Uint8Array(buf, pM1, P * m1Cap);
  const thrD = sensitivityCount(p.sensitivityPerc, p.minStripeDepth);
  const thrV = sensitivityCount(p.sensitivityPerc, p.minStripeLength);
  const thr = Math.fround(p.threshold);
  let inLo = Math.max(0, R0 - hd - h), inHi = inLo; // input rows held: [inLo, inHi)
  let m1Lo = Math.max(0, R0 - hd), done = m1Lo; // step-1 rows held: [m1Lo, done)
  for (let y0 = R0; y0 < R1; y0 += S) {
    const y1 = Math.min(R1, y0 + S);
    const need = Math.min(Y, y1 + hd);
    const keep = Math.max(0, y0 - hd);
    if (keep > m1Lo) {
      m1.copyWithin(0, (keep - m1Lo) * P, (done - m1Lo) * P);
      m1Lo = keep;
    }
    while (done < need) {
      const b0 = done, b1 = Math.min(need, done + S);
      const ia = Math.max(0, b0 - h), ib = Math.min(Y, b1 + h);
      if (ia > inLo) {
        f32.copyWithin(0, (ia - inLo) * P, (inHi - inLo) * P);
        inLo = ia;
      }
      if (ib > inHi) {
        await read(inHi, ib, f32.subarray((inHi - inLo) * P, (ib - inLo) * P));
        inHi = ib;
      }
      ex.detect_mask_planes(
        pIn,
        pG,
        pW,
        pC,
        pM1 + (b0 - m1Lo) * P,
        pPlate,
        Z,
        Y,
        X,
        inLo,
        inHi - inLo,
        b0,
        b1,
        size,
        radius,
        thr,
      );
      done = b1;
    }
    ex.merge_planes(
      pM1,
      pOut,
      pA,
      pB,
      pC,
      pR,
      Z,
      Y,
      X,
      m1Lo,
      done - m1Lo,
      y0,
      y1,
      p.minStripeLength,
      p.minStripeDepth,
      p.minStripeWidth,
      thrV,
      thrD,
    );
    await write(y0, y1, new Uint8Array(buf, pOut, P * (y1 - y0)));
  }
}

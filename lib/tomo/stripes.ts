/**
 * Stripe detection exactly as Larix `STRIPES_DETECT` + `STRIPES_MERGE` (TomoPy's
 * `stripes_detect3d` / `stripes_mask3d` are identical copies), quirks included: the mirror rule
 * about the current voxel, element size−1 of the sorted window as the "median", the smoothed
 * value kept where both means are zero, and every merging step reading a snapshot of the mask.
 * Algorithm and parameters: Larix's STRIPES_DETECT and STRIPES_MERGE (TomoPy's remove_stripe_based_*).
 *
 * Volumes are float32 `[angles, detector rows, detector columns]` in C order; stripes run along
 * the angles. Three backends give the same bits: `"wasm"` (Rust SIMD128, the default),
 * `"webgpu"` (WGSL compute shaders) and `"ts"` (the reference loops).
 *
 * Everything runs in slabs of detector rows with halos (detection needs ±max(radius,1) rows,
 * merging ±⌊depth/2⌋ rows; the steps along angles and columns need no halo because slabs span
 * those axes whole), so memory stays bounded by the slab size: {@link stripesMaskScan} streams a
 * scan of any size from a row reader to a row writer.
 *
 * Inputs for which the C code would read outside its arrays are refused (RangeError naming the
 * parameter): rows < 2 or < 2·radius, columns < 4 or < 2·radius, angles < 2·radius, and for
 * merging angles < 4·width.
 *
 * @example
 * ```ts
 * import { stripesDetect, stripesMerge } from "./stripes.ts";
 * const shape: [number, number, number] = [100, 3, 30];
 * const vol = new Float32Array(100 * 3 * 30).map(() => Math.random());
 * const w = await stripesDetect(vol, shape, { size: 10, radius: 1 });
 * const mask = await stripesMerge(w, shape, { threshold: 0.6, minStripeLength: 10,
 *   minStripeDepth: 0, minStripeWidth: 5, sensitivityPerc: 85 });
 * ```
 * @module
 */
import { detectHalo, detectRowsRef, mergeHalo, mergeRowsRef, thresholdRef } from "./stripes_ref.ts";

/** `[angles, detector rows, detector columns]`. */
export type Shape3 = readonly [number, number, number];

/** STRIPES_DETECT parameters (TomoPy defaults: size 10, radius 3). */
export interface DetectParams {
  /** Half-length of the vertical (angles) median window; 0 < size ≤ angles/2. */
  size?: number;
  /** Radius of the ratio stencil. */
  radius?: number;
}

/** STRIPES_MERGE parameters (TomoPy defaults: 0.6, 20, 10, 5, 85). */
export interface MergeParams {
  /** Weights ≤ threshold (compared in float32) are stripe candidates. */
  threshold?: number;
  /** L, along the angles: 0 < L < angles. */
  minStripeLength?: number;
  /** D, along the detector rows: 0 ≤ D < rows (0 skips the depth step). */
  minStripeDepth?: number;
  /** W, along the detector columns: 0 < W < columns; also the number of merging passes. */
  minStripeWidth?: number;
  /** Strictness in percent: 0 < s ≤ 100. */
  sensitivityPerc?: number;
}

/** Which implementation runs the kernels. */
export type StripesBackendName = "wasm" | "webgpu" | "ts";

/** Execution options. */
export interface StripesRunOptions {
  /** Default "wasm". */
  backend?: StripesBackendName;
  /** Output rows per slab; default: as many as keep a slab's input near 64 MiB, at least 4. */
  slabRows?: number;
}

/** The row-block kernels a backend provides (see stripes_ref.ts for the contracts). */
export interface StripesKernels {
  /** Weights of rows [y0,y1) from input rows [ya, ya+nIn). */
  detectRows(
    input: Float32Array,
    Z: number,
    Y: number,
    X: number,
    ya: number,
    nIn: number,
    y0: number,
    y1: number,
    size: number,
    radius: number,
  ): Float32Array | Promise<Float32Array>;
  /** The same from one Z × X plane per input row (saves assembling the block), if supported. */
  detectRowsFromPlanes?(
    planes: Float32Array[],
    Z: number,
    Y: number,
    X: number,
    ya: number,
    y0: number,
    y1: number,
    size: number,
    radius: number,
  ): Float32Array | Promise<Float32Array>;
  /** Merge steps 2–5 for rows [y0,y1) from step-1 mask rows [ya, ya+nIn). */
  mergeRows(
    m1: Uint8Array,
    Z: number,
    Y: number,
    X: number,
    ya: number,
    nIn: number,
    y0: number,
    y1: number,
    L: number,
    D: number,
    W: number,
    sens: number,
  ): Uint8Array | Promise<Uint8Array>;
}

const refKernels: StripesKernels = { detectRows: detectRowsRef, mergeRows: mergeRowsRef };
let wasmKernels: Promise<StripesKernels> | null = null;
let gpuKernels: Promise<StripesKernels> | null = null;

/** The kernels of a backend (loaded once per process). */
export function stripesKernels(backend: StripesBackendName = "wasm"): Promise<StripesKernels> {
  try {
    return loadKernels(backend);
  } catch (e) {
    return Promise.reject(e);
  }
}

function loadKernels(backend: StripesBackendName): Promise<StripesKernels> {
  switch (backend) {
    case "ts":
      return Promise.resolve(refKernels);
    case "wasm":
      if (!wasmKernels) {
        wasmKernels = import("./stripes_wasm.ts").then((m) => m.StripesWasm.load());
        wasmKernels.catch(() => (wasmKernels = null));
      }
      return wasmKernels;
    case "webgpu":
      if (!gpuKernels) {
        gpuKernels = import("./stripes_webgpu.ts").then((m) => m.StripesWebGpu.create());
        gpuKernels.catch(() => (gpuKernels = null));
      }
      return gpuKernels;
    default:
      throw new RangeError(`stripes: backend: unknown "${backend}" (wasm, webgpu or ts)`);
  }
}

function checkShape(who: string, data: ArrayLike<number>, shape: Shape3): void {
  if (shape.length !== 3 || !shape.every((n) => Number.isInteger(n) && n > 0)) {
    throw new RangeError(`${who}: shape: must be three positive integers, got [${shape}]`);
  }
  const n = shape[0] * shape[1] * shape[2];
  if (data.length !== n) {
    throw new RangeError(`${who}: data has ${data.length} values, shape [${shape}] needs ${n}`);
  }
}

/** Resolved detection parameters, checked against the shape. */
export function detectParams(shape: Shape3, p: DetectParams = {}): Required<DetectParams> {
  const size = p.size ?? 10, radius = p.radius ?? 3;
  const [Z, Y, X] = shape;
  const bad = (name: string, msg: string) => new RangeError(`stripesDetect: ${name}: ${msg}`);
  if (!Number.isInteger(size) || size <= 0 || size > Math.trunc(Z / 2)) {
    throw bad("size", `must be an integer in [1, angles/2 = ${Math.trunc(Z / 2)}], got ${size}`);
  }
  if (!Number.isInteger(radius) || radius < 0) {
    throw bad("radius", `must be a non-negative integer, got ${radius}`);
  }
  if (Y < Math.max(2, 2 * radius)) {
    throw bad(
      "radius",
      `needs at least max(2, 2·radius) = ${Math.max(2, 2 * radius)} rows, have ${Y}`,
    );
  }
  if (X < Math.max(4, 2 * radius)) {
    throw bad(
      "radius",
      `needs at least max(4, 2·radius) = ${Math.max(4, 2 * radius)} columns, have ${X}`,
    );
  }
  if (Z < 2 * radius) {
    throw bad("radius", `needs at least 2·radius = ${2 * radius} angles, have ${Z}`);
  }
  return { size, radius };
}

/** Resolved merging parameters, checked against the shape as TomoPy does (and Z ≥ 4W). */
export function mergeParams(shape: Shape3, p: MergeParams = {}): Required<MergeParams> {
  const r = {
    threshold: p.threshold ?? 0.6,
    minStripeLength: p.minStripeLength ?? 20,
    minStripeDepth: p.minStripeDepth ?? 10,
    minStripeWidth: p.minStripeWidth ?? 5,
    sensitivityPerc: p.sensitivityPerc ?? 85,
  };
  const [Z, Y, X] = shape;
  const bad = (name: string, msg: string) => new RangeError(`stripesMerge: ${name}: ${msg}`);
  if (!Number.isFinite(r.threshold)) throw bad("threshold", `must be a number, got ${r.threshold}`);
  const L = r.minStripeLength, D = r.minStripeDepth, W = r.minStripeWidth;
  if (!Number.isInteger(L) || L <= 0 || L >= Z) {
    throw bad("minStripeLength", `must be an integer in [1, angles−1 = ${Z - 1}], got ${L}`);
  }
  if (!Number.isInteger(D) || D < 0 || D >= Y) {
    throw bad("minStripeDepth", `must be an integer in [0, rows−1 = ${Y - 1}], got ${D}`);
  }
  if (!Number.isInteger(W) || W <= 0 || W >= X) {
    throw bad("minStripeWidth", `must be an integer in [1, columns−1 = ${X - 1}], got ${W}`);
  }
  if (Z < 4 * W) {
    throw bad("minStripeWidth", `vertical merging needs angles ≥ 4·width = ${4 * W}, have ${Z}`);
  }
  if (!(r.sensitivityPerc > 0 && r.sensitivityPerc <= 100)) {
    throw bad("sensitivityPerc", `must be in (0, 100], got ${r.sensitivityPerc}`);
  }
  return r;
}

/** Copies rows [y0, y1) of a Z × Y × X volume into a Z × (y1−y0) × X block. */
export function extractRows<T extends Float32Array | Uint8Array>(
  vol: T,
  shape: Shape3,
  y0: number,
  y1: number,
): T {
  const [Z, Y, X] = shape;
  const n = y1 - y0;
  if (y0 === 0 && y1 === Y) return vol;
  const out = new (vol.constructor as new (n: number) => T)(Z * n * X);
  for (let k = 0; k < Z; k++) {
    out.set(vol.subarray((k * Y + y0) * X, (k * Y + y1) * X), k * n * X);
  }
  return out;
}

function placeRows<T extends Float32Array | Uint8Array>(
  dst: T,
  shape: Shape3,
  y0: number,
  y1: number,
  block: T,
): void {
  const [Z, Y, X] = shape;
  const n = y1 - y0;
  for (let k = 0; k < Z; k++) {
    dst.set(block.subarray(k * n * X, (k + 1) * n * X), (k * Y + y0) * X);
  }
}

function defaultSlab(shape: Shape3, halo: number, bytesPerVoxel: number): number {
  const [Z, , X] = shape;
  const rows = Math.floor((64 << 20) / (Z * X * bytesPerVoxel)) - 2 * halo;
  return Math.max(1, Math.min(shape[1], Math.max(4, rows)));
}

/**
 * STRIPES_DETECT: weights in [0,1] (smaller at stripe edges), same shape as the volume.
 */
export async function stripesDetect(
  volume: Float32Array,
  shape: Shape3,
  params: DetectParams & StripesRunOptions = {},
): Promise<Float32Array> {
  checkShape("stripesDetect", volume, shape);
  const { size, radius } = detectParams(shape, params);
  const k = await stripesKernels(params.backend);
  const [Z, Y, X] = shape;
  const h = detectHalo(radius);
  const slab = params.slabRows ?? defaultSlab(shape, h, 12);
  if (!(slab >= 1)) throw new RangeError(`stripesDetect: slabRows: must be ≥ 1, got ${slab}`);
  const out = new Float32Array(volume.length);
  for (let y0 = 0; y0 < Y; y0 += slab) {
    const y1 = Math.min(Y, y0 + slab);
    const ya = Math.max(0, y0 - h), yb = Math.min(Y, y1 + h);
    const block = extractRows(volume, shape, ya, yb);
    const w = await k.detectRows(block, Z, Y, X, ya, yb - ya, y0, y1, size, radius);
    placeRows(out, shape, y0, y1, w);
  }
  return out;
}

/**
 * STRIPES_MERGE: the uint8 (0/1) stripe mask from detection weights.
 */
export async function stripesMerge(
  weights: Float32Array,
  shape: Shape3,
  params: MergeParams & StripesRunOptions = {},
): Promise<Uint8Array> {
  checkShape("stripesMerge", weights, shape);
  const p = mergeParams(shape, params);
  const k = await stripesKernels(params.backend);
  const [Z, Y, X] = shape;
  const hd = mergeHalo(p.minStripeDepth);
  const slab = params.slabRows ?? defaultSlab(shape, hd, 2);
  if (!(slab >= 1)) throw new RangeError(`stripesMerge: slabRows: must be ≥ 1, got ${slab}`);
  const m1 = thresholdRef(weights, p.threshold);
  const out = new Uint8Array(weights.length);
  for (let y0 = 0; y0 < Y; y0 += slab) {
    const y1 = Math.min(Y, y0 + slab);
    const ya = Math.max(0, y0 - hd), yb = Math.min(Y, y1 + hd);
    const block = extractRows(m1, shape, ya, yb);
    const m = await k.mergeRows(
      block,
      Z,
      Y,
      X,
      ya,
      yb - ya,
      y0,
      y1,
      p.minStripeLength,
      p.minStripeDepth,
      p.minStripeWidth,
      p.sensitivityPerc,
    );
    placeRows(out, shape, y0, y1, m);
  }
  return out;
}

/**
 * Reads rows [y0, y1) of a scan as float32: a Z × (y1−y0) × X block, or with
 * `rowOrder: "sinogram"` (y1−y0) × Z × X, one sinogram per row (as NeXus readers give them).
 */
export type RowReader = (y0: number, y1: number) => Float32Array | Promise<Float32Array>;
/** Receives the mask (or weights) of rows [y0, y1) as a Z × (y1−y0) × X block, in row order. */
export type RowWriter<T> = (y0: number, y1: number, block: T) => void | Promise<void>;

/** Options of {@link stripesMaskScan}. */
export interface MaskScanOptions extends StripesRunOptions {
  /** Detection parameters. */
  detect?: DetectParams;
  /** Merging parameters. */
  merge?: MergeParams;
  /** Also receives the detection weights of each block of rows, in row order. */
  onWeights?: RowWriter<Float32Array>;
  /** Layout of what `read` returns (default "volume": Z × rows × X). */
  rowOrder?: "volume" | "sinogram";
}

/**
 * Detect + merge over a whole scan, slab by slab: reads input rows from `read` (each row once,
 * in order), hands the mask of each slab of `slabRows` rows to `write` in row order.
 *
 * Memory: detection keeps (slab + 2·max(radius,1)) rows of float32 input (three copies with the
 * WASM kernel: the cache, the kernel's input and its gradient) and merging
 * (2·slab + 2·⌊depth/2⌋) rows of uint8 masks — whatever the number of rows. With the default
 * 4-row slabs and a 1801 × 2560-pixel sinogram a float32 row is ≈ 18 MiB.
 * Gives the same bits as {@link stripesDetect} then {@link stripesMerge} on the whole volume.
 */
export async function stripesMaskScan(
  shape: Shape3,
  read: RowReader,
  write: RowWriter<Uint8Array>,
  opts: MaskScanOptions = {},
): Promise<void> {
  const { size, radius } = detectParams(shape, opts.detect);
  const p = mergeParams(shape, opts.merge);
  const k = await stripesKernels(opts.backend);
  const [Z, Y, X] = shape;
  const h = detectHalo(radius), hd = mergeHalo(p.minStripeDepth);
  const slab = opts.slabRows ?? Math.min(Y, 4);
  if (!(slab >= 1)) throw new RangeError(`stripesMaskScan: slabRows: must be ≥ 1, got ${slab}`);
  const inputs = new Map<number, Float32Array>(); // normalised input rows, one Z × X plane each
  let readTo = 0; // rows [0, readTo) have been read
  const planes = new Map<number, Uint8Array>(); // step-1 mask, one Z × X plane per row
  let done = 0;
  for (let y0 = 0; y0 < Y; y0 += slab) {
    const y1 = Math.min(Y, y0 + slab);
    const need = Math.min(Y, y1 + hd);
    while (done < need) {
      // detection block: `slab` rows (fewer at the end), input with its halo
      const b0 = done, b1 = Math.min(need, done + slab);
      const ia = Math.max(0, b0 - h), ib = Math.min(Y, b1 + h);
      if (ib > readTo) {
        const r0 = Math.max(readTo, ia);
        const input = await read(r0, ib);
        const nr = ib - r0;
        if (input.length !== Z * nr * X) {
          throw new RangeError(
            `stripesMaskScan: reader gave ${input.length} values for rows [${r0},${ib}), expected ${
              Z * nr * X
            }`,
          );
        }
        for (let l = 0; l < nr; l++) {
          if (opts.rowOrder === "sinogram") {
            inputs.set(r0 + l, input.subarray(l * Z * X, (l + 1) * Z * X));
            continue;
          }
          const pl = new Float32Array(Z * X);
          for (let kk = 0; kk < Z; kk++) {
            pl.set(input.subarray((kk * nr + l) * X, (kk * nr + l + 1) * X), kk * X);
          }
          inputs.set(r0 + l, pl);
        }
        readTo = ib;
      }
      const nIn = ib - ia;
      const block = new Float32Array(Z * nIn * X);
      for (let l = 0; l < nIn; l++) {
        const pl = inputs.get(ia + l)!;
        for (let kk = 0; kk < Z; kk++) {
          block.set(pl.subarray(kk * X, (kk + 1) * X), (kk * nIn + l) * X);
        }
      }
      const w = await k.detectRows(block, Z, Y, X, ia, nIn, b0, b1, size, radius);
      if (opts.onWeights) await opts.onWeights(b0, b1, w);
      const m = thresholdRef(w, p.threshold);
      const nb = b1 - b0;
      for (let l = 0; l < nb; l++) {
        const pl = new Uint8Array(Z * X);
        for (let kk = 0; kk < Z; kk++) {
          pl.set(m.subarray((kk * nb + l) * X, (kk * nb + l + 1) * X), kk * X);
        }
        planes.set(b0 + l, pl);
      }
      done = b1;
      for (const r of [...inputs.keys()]) if (r < done - h) inputs.delete(r);
    }
    const ma = Math.max(0, y0 - hd), mb = need, n = mb - ma;
    const block = new Uint8Array(Z * n * X);
    for (let l = 0; l < n; l++) {
      const pl = planes.get(ma + l)!;
      for (let kk = 0; kk < Z; kk++) {
        block.set(pl.subarray(kk * X, (kk + 1) * X), (kk * n + l) * X);
      }
    }
    const mask = await k.mergeRows(
      block,
      Z,
      Y,
      X,
      ma,
      n,
      y0,
      y1,
      p.minStripeLength,
      p.minStripeDepth,
      p.minStripeWidth,
      p.sensitivityPerc,
    );
    await write(y0, y1, mask);
    for (const r of [...planes.keys()]) if (r < y1 - hd) planes.delete(r);
  }
}

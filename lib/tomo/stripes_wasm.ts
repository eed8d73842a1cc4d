/**
 * The WASM (Rust, SIMD128) stripe-detection kernels: `wasm/stripes.wasm`, built from
 * `wasm/stripes/` by `wasm/build.sh`. One instance per {@link StripesWasm}; each call copies its
 * row block in, runs, and copies the result out, reusing the module memory between calls.
 *
 * @module
 */
import { loadWasm, WasmArena } from "../wasm/load.ts";
import { detectHalo, mergeHalo, sensitivityCount } from "./stripes_ref.ts";

interface Exports {
  detect_rows(
    inp: number,
    grad: number,
    out: number,
    keys: number,
    res: number,
    med: number,
    plate: number,
    z: number,
    y: number,
    x: number,
    ya: number,
    nIn: number,
    y0: number,
    y1: number,
    size: number,
    radius: number,
  ): void;
  merge_rows(
    m1: number,
    out: number,
    a: number,
    b: number,
    c: number,
    rp: number,
    z: number,
    y: number,
    x: number,
    ya: number,
    nIn: number,
    y0: number,
    y1: number,
    len: number,
    depth: number,
    width: number,
    thrV: number,
    thrD: number,
  ): void;
}

/** Columns per block in the median pass (MB in wasm/stripes/src/lib.rs). */
const MB = 16;

/** A loaded instance of the stripe kernels. Not re-entrant: one call at a time. */
export class StripesWasm {
  private constructor(private ex: Exports, private arena: WasmArena) {}

  /** Loads `wasm/stripes.wasm` (compiled once per process). */
  static async load(): Promise<StripesWasm> {
    const inst = await loadWasm(new URL("../../wasm/stripes.wasm", import.meta.url));
    return new StripesWasm(inst.exports as unknown as Exports, WasmArena.of(inst));
  }

  /** {@link StripesWasm.detectRows} from one Z × X plane per input row [ya, ya + planes.length). */
  detectRowsFromPlanes(
    planes: Float32Array[],
    Z: number,
    Y: number,
    X: number,
    ya: number,
    y0: number,
    y1: number,
    size: number,
    radius: number,
  ): Float32Array {
    const nIn = planes.length;
    return this.detect(Z, Y, X, ya, nIn, y0, y1, size, radius, (dst) => {
      for (let l = 0; l < nIn; l++) {
        const pl = planes[l];
        for (let k = 0; k < Z; k++) dst.set(pl.subarray(k * X, (k + 1) * X), (k * nIn + l) * X);
      }
    });
  }

  /** Weights for rows [y0,y1) from input rows [ya, ya+nIn) (see detectRowsRef). */
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
  ): Float32Array {
    const nInV = Z * nIn * X;
    return this.detect(Z, Y, X, ya, nIn, y0, y1, size, radius, (dst) => {
      dst.set(input.subarray(0, nInV));
    });
  }

  private detect(
    Z: number,
    Y: number,
    X: number,
    ya: number,
    nIn: number,
    y0: number,
    y1: number,
    size: number,
    radius: number,
    fill: (dst: Float32Array) => void,
  ): Float32Array {
    const h = detectHalo(radius);
    if (ya > Math.max(0, y0 - h) || ya + nIn < Math.min(Y, y1 + h)) {
      throw new RangeError(`detectRows: input rows [${ya},${ya + nIn}) lack the halo`);
    }
    const nOut = y1 - y0;
    const a = this.arena;
    a.reset();
    const nInV = Z * nIn * X, nOutV = Z * nOut * X;
    const pIn = a.alloc(4 * nInV), pG = a.alloc(4 * nInV), pOut = a.alloc(4 * nOutV);
    const pKeys = a.alloc(4 * MB * Z), pRes = a.alloc(4 * MB * Z);
    const pMed = a.alloc(25 * Z + 8 * (Math.floor(Z / 64) + 1) + 4096, 8);
    const pPlate = a.alloc(4 * (2 * radius + 1) ** 2);
    fill(a.f32(pIn, nInV));
    this.ex.detect_rows(
      pIn,
      pG,
      pOut,
      pKeys,
      pRes,
      pMed,
      pPlate,
      Z,
      Y,
      X,
      ya,
      nIn,
      y0,
      y1,
      size,
      radius,
    );
    return a.f32(pOut, nOutV).slice();
  }

  /** Merge steps 2–5 for rows [y0,y1) from step-1 mask rows [ya, ya+nIn) (see mergeRowsRef). */
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
  ): Uint8Array {
    const hd = mergeHalo(D);
    if (ya > Math.max(0, y0 - hd) || ya + nIn < Math.min(Y, y1 + hd)) {
      throw new RangeError(`mergeRows: input rows [${ya},${ya + nIn}) lack the halo`);
    }
    const nOut = y1 - y0;
    const a = this.arena;
    a.reset();
    const nInV = Z * nIn * X, nOutV = Z * nOut * X, plane = Z * X;
    const pM = a.alloc(nInV), pOut = a.alloc(nOutV), pA = a.alloc(plane), pB = a.alloc(plane);
    const pC = a.alloc(4 * (Z + 1) * X), pR = a.alloc(4 * (X + 1));
    a.u8(pM, nInV).set(m1.subarray(0, nInV));
    this.ex.merge_rows(
      pM,
      pOut,
      pA,
      pB,
      pC,
      pR,
      Z,
      Y,
      X,
      ya,
      nIn,
      y0,
      y1,
      L,
      D,
      W,
      sensitivityCount(sens, L),
      sensitivityCount(sens, D),
    );
    return a.u8(pOut, nOutV).slice();
  }
}

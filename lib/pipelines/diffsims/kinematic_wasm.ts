/**
 * The diffsims hot loops in WebAssembly (`wasm/diffsims.wasm`, Rust + SIMD128, built from
 * `wasm/diffsims/` by `wasm/build.sh`): kinematical spots, the radial profile of the Gaussian
 * pattern without rendering it, and the full pattern with its radial mean (for noise).
 *
 * - Spots: pixels equal {@link kinematicSpots}' bit for bit (same f64 operations); the scan
 *   skips lattice rows that cannot reach the Ewald band; |F|² multiplies per-axis phase factors
 *   exp(2πi·h·x)·exp(2πi·k·y)·exp(2πi·l·z) computed once per phase and lattice extent, and is
 *   kept per reflection while phase and lattice scale repeat (intensities agree to ~1e-15).
 * - Profile: the radial mean is linear in the spots, so each spot adds its intensity × the
 *   radial weights of a unit spot at its pixel (a table per sigma over the detector's 1/8 by
 *   symmetry, f32, built once); the pattern's maximum (which `x_all` is divided by) is found
 *   exactly by evaluating only the 8 × 8 tiles whose upper bound exceeds the best value so far.
 *   Equal to the full render + integration to ~1e-7 of the maximum.
 *
 * One instance serves one thread; calls are synchronous.
 *
 * @example
 * ```ts
 * import { KinematicWasm } from "./kinematic_wasm.ts";
 * const k = await KinematicWasm.load();
 * const spots = k.spots(phase, rot, { wavelength, calibration: 0.00588, relrod: 0.2, size: 515 });
 * const profile = k.profile(spots, 515, 2, radialBins(515, 256)); // = integrate(renderPattern(…))
 * ```
 * @module
 */
import { loadWasm, WasmArena } from "../../wasm/load.ts";
import {
  gaussianKernel,
  integrate,
  kinematicSpots,
  type Phase,
  type RadialBins,
  reciprocalBasis,
  renderPattern,
  type SpotOptions,
  type Spots,
} from "./kinematic.ts";

interface Exports {
  spots(...a: number[]): number;
  profile(...a: number[]): number;
  build_table(...a: number[]): number;
  profile_table(...a: number[]): number;
  render(...a: number[]): number;
  integrate(...a: number[]): void;
}

/** The operations a simulation needs, in TypeScript ({@link TS_KERNELS}) or WASM. */
export interface SimKernels {
  /** {@link kinematicSpots}. */
  spots(ph: Phase, rot: readonly number[], o: SpotOptions): Spots;
  /** `integrate(renderPattern(spots, size, sigma), rb)`. */
  profile(spots: Spots, size: number, sigma: number, rb: RadialBins): Float64Array;
  /** {@link renderPattern}. */
  render(spots: Spots, size: number, sigma: number): Float64Array;
  /** {@link integrate}. */
  integrate(img: Float64Array, rb: RadialBins): Float64Array;
}

/**
 * The TypeScript reference kernels (kinematic.ts).
 * @example
 * ```ts
 * const p = TS_KERNELS.profile(spots, 515, 2, radialBins(515, 256));
 * ```
 */
export const TS_KERNELS: SimKernels = {
  spots: kinematicSpots,
  profile: (s, size, sigma, rb) => integrate(renderPattern(s, size, sigma), rb),
  render: renderPattern,
  integrate,
};

interface PhaseTables {
  id: number;
  atomSp: Int32Array;
  occ: Float64Array;
  species: Float64Array;
  nsp: number;
  kind: number;
  phases: Map<string, Float64Array>;
}

const tables = new WeakMap<Phase, PhaseTables>();
let nextId = 0;

/** Tile side of the maximum search (TILE in wasm/diffsims/src/lib.rs). */
const TILE = 8;

/** Largest radial-weight table kept per sigma (bytes). */
const TABLE_BYTES = 48 << 20;

function phaseTables(ph: Phase): PhaseTables {
  let t = tables.get(ph);
  if (t) return t;
  const keys = new Map<string, number>();
  const sp: number[] = [];
  const atomSp = new Int32Array(ph.atoms.length);
  ph.atoms.forEach((a, i) => {
    const key = `${a.coeffs.join(",")};${a.b}`;
    let s = keys.get(key);
    if (s === undefined) {
      keys.set(key, s = keys.size);
      sp.push(...a.coeffs.slice(0, 10), a.b);
    }
    atomSp[i] = s;
  });
  t = {
    id: nextId++,
    atomSp,
    occ: Float64Array.from(ph.atoms, (a) => a.occupancy),
    species: Float64Array.from(sp),
    nsp: keys.size,
    kind: ph.scattering === "lobato" ? 0 : 1,
    phases: new Map(),
  };
  tables.set(ph, t);
  return t;
}

/** exp(2πi·n·x) for n = −m..m per axis, per atom (re, im pairs). */
function phaseFactors(ph: Phase, t: PhaseTables, ext: [number, number, number]): Float64Array {
  const key = ext.join(",");
  let f = t.phases.get(key);
  if (f) return f;
  const per = ext.reduce((s, m) => s + 2 * m + 1, 0);
  f = new Float64Array(2 * per * ph.atoms.length);
  ph.atoms.forEach((a, i) => {
    let o = 2 * per * i;
    for (let ax = 0; ax < 3; ax++) {
      for (let n = -ext[ax]; n <= ext[ax]; n++) {
        const p = 2 * Math.PI * n * a.xyz[ax];
        f[o++] = Math.cos(p);
        f[o++] = Math.sin(p);
      }
    }
  });
  t.phases.set(key, f);
  return f;
}

/** A loaded instance of the diffsims kernels. Not re-entrant. */
export class KinematicWasm implements SimKernels {
  private size = -1;
  private pImg = 0;
  private pOwner = 0;
  private pNear = 0;
  private fixed = 0;
  private bins = new WeakMap<RadialBins, { bins: number; count: number }>();
  private cap = 4096;
  private tables = new Map<string, { first: number; pool: number; stride: number }>();
  /** |F|² cache: the key of the last spots call, and the region kept for it (0: none yet). */
  private fKey = "";
  private fPtr = 0;
  private fLen = 0;
  private fLive = false;

  private constructor(private ex: Exports, private arena: WasmArena) {}

  /** Loads `wasm/diffsims.wasm` (compiled once per process, one instance per call). */
  static async load(): Promise<KinematicWasm> {
    const inst = await loadWasm(new URL("../../../wasm/diffsims.wasm", import.meta.url));
    return new KinematicWasm(inst.exports as unknown as Exports, WasmArena.of(inst));
  }

  /** Zeroed scratch image and owner map for `size`, kept between calls. */
  private detector(size: number): void {
    if (size === this.size) return this.arena.reset(this.fixed);
    const a = this.arena;
    a.reset();
    this.bins = new WeakMap();
    this.tables = new Map();
    this.fPtr = this.fLen = 0;
    this.fKey = "";
    this.pImg = a.alloc(8 * size * size);
    this.pOwner = a.alloc(4 * size * size);
    this.pNear = a.alloc(8 * Math.ceil(size / TILE) ** 2);
    new Uint8Array(
      a.memory.buffer,
      this.pImg,
      this.pNear + 8 * Math.ceil(size / TILE) ** 2 - this.pImg,
    ).fill(0);
    this.size = size;
    this.fixed = a.mark();
  }

  private radial(rb: RadialBins): { bins: number; count: number } {
    this.detector(rb.size);
    let r = this.bins.get(rb);
    if (!r) {
      const a = this.arena;
      r = { bins: a.alloc(4 * rb.bin.length), count: a.alloc(8 * rb.nbins) };
      new Int32Array(a.memory.buffer, r.bins, rb.bin.length).set(rb.bin);
      new Float64Array(a.memory.buffer, r.count, rb.nbins).set(rb.count);
      this.bins.set(rb, r);
      this.fixed = a.mark();
    }
    return r;
  }

  /** {@link kinematicSpots} in WASM. */
  spots(ph: Phase, rot: readonly number[], o: SpotOptions): Spots {
    const scale = o.scale ?? 1;
    const rb = reciprocalBasis(ph.basis.map((v) => v * scale));
    const side = o.size / 2 * o.calibration;
    const rmax = side * Math.SQRT2;
    const len = (i: number) =>
      Math.hypot(ph.basis[i * 3], ph.basis[i * 3 + 1], ph.basis[i * 3 + 2]);
    const ext = [0, 1, 2].map((i) => Math.ceil(rmax * len(i) * scale)) as [number, number, number];
    const t = phaseTables(ph);
    const pf = phaseFactors(ph, t, ext);
    const nat = ph.atoms.length;
    if (this.size < 0) this.detector(o.size);
    const a = this.arena;
    const fc = this.structureCache(t, ext, scale);
    for (;;) {
      a.reset(this.fixed);
      const pGeo = a.alloc(8 * 24), pDims = a.alloc(4 * 6), pSp = a.alloc(4 * nat);
      const pOcc = a.alloc(8 * nat), pPh = a.alloc(8 * pf.length);
      const pSpec = a.alloc(8 * t.species.length), pF = a.alloc(8 * t.nsp);
      const cap = this.cap;
      const pPx = a.alloc(4 * cap), pPy = a.alloc(4 * cap), pI = a.alloc(8 * cap);
      const pIdx = a.alloc(4 * cap);
      const buf = a.memory.buffer;
      new Float64Array(buf, pGeo, 24).set([
        ...rb,
        ...rot,
        rmax,
        1 / o.wavelength,
        o.relrod,
        side,
        o.calibration,
        o.size,
      ]);
      new Int32Array(buf, pDims, 6).set([...ext, nat, t.nsp, t.kind]);
      new Int32Array(buf, pSp, nat).set(t.atomSp);
      new Float64Array(buf, pOcc, nat).set(t.occ);
      new Float64Array(buf, pPh, pf.length).set(pf);
      new Float64Array(buf, pSpec, t.species.length).set(t.species);
      const n = this.ex.spots(pGeo, pDims, pSp, pOcc, pPh, pSpec, pF, pPx, pPy, pI, pIdx, cap, fc);
      if (n < 0) {
        this.cap = -n + 64;
        continue;
      }
      const idx = new Int32Array(buf, pIdx, n);
      const nk = 2 * ext[1] + 1, nl = 2 * ext[2] + 1;
      const hkl = new Int32Array(3 * n);
      for (let j = 0; j < n; j++) {
        const v = idx[j];
        hkl[3 * j] = Math.floor(v / (nk * nl)) - ext[0];
        hkl[3 * j + 1] = Math.floor(v / nl) % nk - ext[1];
        hkl[3 * j + 2] = v % nl - ext[2];
      }
      return {
        px: new Int32Array(buf, pPx, n).slice(),
        py: new Int32Array(buf, pPy, n).slice(),
        intensity: new Float64Array(buf, pI, n).slice(),
        hkl,
      };
    }
  }

  /**
   * The |F|² cache region for this phase, extent and scale: used from the second consecutive
   * call with the same key on (lattice scales drawn per pattern never repeat; 0 = no cache).
   */
  private structureCache(t: PhaseTables, ext: number[], scale: number): number {
    const key = `${t.id};${ext.join(",")};${scale}`;
    if (key !== this.fKey) {
      this.fKey = key;
      this.fLive = false;
      return 0;
    }
    const len = ext.reduce((p, m) => p * (2 * m + 1), 1);
    if (!this.fLive) {
      if (len > this.fLen) {
        this.arena.reset(this.fixed);
        this.fPtr = this.arena.alloc(8 * len);
        this.fLen = len;
        this.fixed = this.arena.mark();
      }
      new Float64Array(this.arena.memory.buffer, this.fPtr, len).fill(NaN);
      this.fLive = true;
    }
    return this.fPtr;
  }

  private spotArgs(s: Spots, sigma: number, size: number): number[] {
    const k = gaussianKernel(sigma);
    const r = (k.length - 1) >> 1;
    if (r >= size) throw new RangeError(`sigma ${sigma} is too large for a ${size} px detector`);
    const a = this.arena, n = s.intensity.length;
    const pPx = a.alloc(4 * n), pPy = a.alloc(4 * n), pV = a.alloc(8 * n);
    const pK = a.alloc(8 * k.length), pFx = a.alloc(8 * (k.length + 1));
    const pFy = a.alloc(8 * (k.length + 1));
    const buf = a.memory.buffer;
    new Int32Array(buf, pPx, n).set(s.px);
    new Int32Array(buf, pPy, n).set(s.py);
    new Float64Array(buf, pV, n).set(s.intensity);
    new Float64Array(buf, pK, k.length).set(k);
    return [pPx, pPy, pV, n, pK, r, pFx, pFy];
  }

  /** The per-pixel radial weights of a unit spot for (rb, sigma), built once (null: too big). */
  private table(rb: RadialBins, sigma: number, m: { bins: number }) {
    const key = `${sigma};${rb.nbins}`;
    const hit = this.tables.get(key);
    if (hit) return hit;
    const k = gaussianKernel(sigma);
    const r = (k.length - 1) >> 1;
    const half = (rb.size + 1) >> 1, slots = half * (half + 1) / 2;
    let stride = Math.floor(2 * r * Math.SQRT2 / rb.width) + 3;
    const a = this.arena;
    for (;;) {
      if (slots * stride * 4 > TABLE_BYTES) return null;
      a.reset(this.fixed);
      const first = a.alloc(4 * slots), pool = a.alloc(4 * slots * stride);
      const pK = a.alloc(8 * k.length), acc = a.alloc(8 * (stride + 2));
      const pFx = a.alloc(8 * (k.length + 1)), pFy = a.alloc(8 * (k.length + 1));
      new Float64Array(a.memory.buffer, pK, k.length).set(k);
      const widest = this.ex.build_table(
        rb.size,
        pK,
        r,
        m.bins,
        stride,
        first,
        pool,
        acc,
        pFx,
        pFy,
      );
      if (widest > stride) {
        stride = widest;
        continue;
      }
      a.reset(pK);
      this.fixed = a.mark();
      const t = { first, pool, stride };
      this.tables.set(key, t);
      return t;
    }
  }

  /**
   * `integrate(renderPattern(spots, size, sigma), rb)` without rendering the pattern: radial
   * weights per spot pixel from a table built once per sigma, and the pattern's maximum from the
   * few spot windows that can hold it (windowed rendering when the table would be too large).
   */
  profile(spots: Spots, size: number, sigma: number, rb: RadialBins): Float64Array {
    if (rb.size !== size) throw new RangeError(`radial bins for ${rb.size} px, not ${size}`);
    const m = this.radial(rb);
    const t = this.table(rb, sigma, m);
    if (!t) return this.profileWindowed(spots, size, sigma, rb);
    const [pPx, pPy, pV, n, pK, r, pFx, pFy] = this.spotArgs(spots, sigma, size);
    const a = this.arena;
    const pOut = a.alloc(8 * rb.nbins);
    const tiles = Math.ceil(size / TILE) ** 2;
    const pWork = a.alloc(4 * (2 * n + 3 * tiles + 1)), pUb = a.alloc(8 * tiles);
    const pTile = a.alloc(8 * TILE * TILE);
    let hcap = 16;
    while (hcap < 2 * n) hcap *= 2;
    const pHash = a.alloc(8 * hcap);
    this.ex.profile_table(
      pPx,
      pPy,
      pV,
      n,
      size,
      pK,
      r,
      t.first,
      t.pool,
      t.stride,
      m.count,
      rb.nbins,
      pHash,
      pWork,
      this.pNear,
      pUb,
      pTile,
      pFx,
      pFy,
      pOut,
    );
    return new Float64Array(a.memory.buffer, pOut, rb.nbins).slice();
  }

  /** The windowed path of {@link KinematicWasm.profile}: no table (too large, or in tests). */
  profileWindowed(spots: Spots, size: number, sigma: number, rb: RadialBins): Float64Array {
    const m = this.radial(rb);
    const [pPx, pPy, pV, n, pK, r, pFx, pFy] = this.spotArgs(spots, sigma, size);
    const pOut = this.arena.alloc(8 * rb.nbins);
    this.ex.profile(
      pPx,
      pPy,
      pV,
      n,
      size,
      pK,
      r,
      m.bins,
      m.count,
      rb.nbins,
      this.pImg,
      this.pOwner,
      pFx,
      pFy,
      pOut,
    );
    return new Float64Array(this.arena.memory.buffer, pOut, rb.nbins).slice();
  }

  /** {@link renderPattern} in WASM. */
  render(spots: Spots, size: number, sigma: number): Float64Array {
    this.detector(size);
    const [pPx, pPy, pV, n, pK, r, pFx, pFy] = this.spotArgs(spots, sigma, size);
    this.ex.render(pPx, pPy, pV, n, size, pK, r, this.pImg, this.pOwner, pFx, pFy);
    const img = new Float64Array(this.arena.memory.buffer, this.pImg, size * size).slice();
    new Float64Array(this.arena.memory.buffer, this.pImg, size * size).fill(0);
    return img;
  }

  /** {@link integrate} in WASM. */
  integrate(img: Float64Array, rb: RadialBins): Float64Array {
    const m = this.radial(rb);
    const a = this.arena;
    const pIn = a.alloc(8 * img.length), pOut = a.alloc(8 * rb.nbins);
    new Float64Array(a.memory.buffer, pIn, img.length).set(img);
    this.ex.integrate(pIn, m.bins, m.count, rb.nbins, img.length, pOut);
    return new Float64Array(a.memory.buffer, pOut, rb.nbins).slice();
  }
}

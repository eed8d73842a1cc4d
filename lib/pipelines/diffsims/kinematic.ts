/**
 * Kinematical electron diffraction as diffsims computes it: reciprocal-lattice points within
 * the detector's reach, rotated by the orientation; excitation error ε = z_sphere − g_z against
 * the Ewald sphere of radius 1/λ, kept where |ε| < relrod length, with the linear shape factor
 * 1 − |ε|/relrod; intensity = shape·|F|² with F = Σ occ·f(g)·exp(2πi h·x − ¼·B·g²), f the Lobato
 * electron scattering factor Σ aᵢ(2 + bᵢg²)/(1 + bᵢg²)² (or International Tables C 4.3.2.3:
 * Σ aᵢ·exp(−bᵢg²/4); Doyle & Turner (1968), Acta Cryst. A24, 390: the same form with four
 * terms) and B = 8π²·Uiso. Spots go to pixel
 * ⌊g/cal + size/2⌋ (one value per pixel, the last wins), are blurred by a Gaussian (scipy's
 * `gaussian_filter`: truncate 4σ, mirrored edges) and the pattern is divided by its maximum.
 * The azimuthal integration bins pixel centres by radius from the detector centre into `nbins`
 * equal bins up to the farthest pixel centre and averages each bin.
 *
 * @example
 * ```ts
 * import { parseCif } from "./cif.ts";
 * import { electronWavelength, kinematicSpots, preparePhase, renderPattern } from "./kinematic.ts";
 * const ph = preparePhase(parseCif(Deno.readTextFileSync("pb.cif"), "pb.cif"));
 * const spots = kinematicSpots(ph, [1, 0, 0, 0, 1, 0, 0, 0, 1], { wavelength: electronWavelength(200), calibration: 0.00588, relrod: 0.2, size: 515 });
 * renderPattern(spots, 515, 2).length; // 515 * 515
 * ```
 * @module
 */
import { type Cell, type Cif, expandCell } from "./cif.ts";
import { LOBATO } from "./lobato_params.ts";
import { XTABLES } from "./xtables_params.ts";
import { DOYLE_TURNER } from "./doyle_turner_params.ts";
import { LumenError } from "../../run/errors.ts";

/** A phase ready to simulate: the direct basis (rows a, b, c in Å) and the atoms of the cell. */
export interface Phase {
  name: string;
  basis: number[];
  atoms: { xyz: [number, number, number]; occupancy: number; b: number; coeffs: number[] }[];
  /** Which parameterisation `coeffs` hold. */
  scattering: ScatteringParams;
}

/** diffsims' electron scattering-factor parameterisations. */
export type ScatteringParams = "lobato" | "xtables" | "doyle_turner";

const TABLES = { lobato: LOBATO, xtables: XTABLES, doyle_turner: DOYLE_TURNER };

/** Spots of one pattern. */
export interface Spots {
  /** Pixel column and row of each spot. */
  px: Int32Array;
  py: Int32Array;
  intensity: Float64Array;
  /** Miller indices, 3 per spot. */
  hkl: Int32Array;
}

/** Geometry of one simulation. */
export interface SpotOptions {
  /** Electron wavelength, Å. */
  wavelength: number;
  /** Å⁻¹ per pixel. */
  calibration: number;
  /** Relrod length (largest excitation error), Å⁻¹. */
  relrod: number;
  /** Detector side, pixels. */
  size: number;
  /** Isotropic lattice scale factor (default 1). */
  scale?: number;
}

/**
 * The relativistic electron wavelength (Å) at `kv` kilovolts (diffsims' formula, CODATA 2018).
 *
 * @example
 * ```ts
 * electronWavelength(200); // 0.025079…
 * ```
 */
export function electronWavelength(kv: number): number {
  const h = 6.62607015e-34, me = 9.1093837015e-31, e = 1.602176634e-19, c = 299792458;
  const E = kv * 1e3;
  return h / Math.sqrt(2 * me * e * E * (1 + (e / (2 * me * c * c)) * E)) * 1e10;
}

/**
 * The direct basis of a cell (rows a, b, c; a along x, b in the xy-plane), row-major 3×3.
 * @example
 * ```ts
 * directBasis({ a: 4, b: 4, c: 4, alpha: 90, beta: 90, gamma: 90 }); // ≈ 4·identity
 * ```
 */
export function directBasis(c: Cell): number[] {
  const r = Math.PI / 180;
  const [ca, cb, cg, sg] = [
    Math.cos(c.alpha * r),
    Math.cos(c.beta * r),
    Math.cos(c.gamma * r),
    Math.sin(c.gamma * r),
  ];
  const cy = (ca - cb * cg) / sg;
  return [
    c.a,
    0,
    0,
    c.b * cg,
    c.b * sg,
    0,
    c.c * cb,
    c.c * cy,
    c.c * Math.sqrt(1 - cb * cb - cy * cy),
  ];
}

/**
 * The reciprocal basis (rows a*, b*, c*, without 2π) of a direct basis.
 * @example
 * ```ts
 * reciprocalBasis([4, 0, 0, 0, 4, 0, 0, 0, 4]); // 0.25·identity
 * ```
 */
export function reciprocalBasis(a: number[]): number[] {
  const [a0, a1, a2, b0, b1, b2, c0, c1, c2] = a;
  const det = a0 * (b1 * c2 - b2 * c1) - a1 * (b0 * c2 - b2 * c0) + a2 * (b0 * c1 - b1 * c0);
  // rows of (A⁻¹)ᵀ = cross products / det
  return [
    (b1 * c2 - b2 * c1) / det,
    (b2 * c0 - b0 * c2) / det,
    (b0 * c1 - b1 * c0) / det,
    (c1 * a2 - c2 * a1) / det,
    (c2 * a0 - c0 * a2) / det,
    (c0 * a1 - c1 * a0) / det,
    (a1 * b2 - a2 * b1) / det,
    (a2 * b0 - a0 * b2) / det,
    (a0 * b1 - a1 * b0) / det,
  ];
}

/**
 * Expands a CIF to a {@link Phase} with Lobato (default), International Tables C 4.3.2.3
 * (`xtables`) or Doyle–Turner (`doyle_turner`) electron scattering factors; throws naming the file for elements without them.
 *
 * @example
 * ```ts
 * preparePhase(cif).atoms.length; // 4 for fcc Pb
 * ```
 */
export function preparePhase(
  cif: Cif,
  name = cif.file,
  scattering: ScatteringParams = "lobato",
): Phase {
  const table = TABLES[scattering];
  const atoms = expandCell(cif).map((a) => {
    const c = table[a.element];
    if (!c) {
      throw new LumenError(cif.file, "", `no ${scattering} scattering parameters for ${a.element}`);
    }
    return {
      xyz: a.xyz,
      occupancy: a.occupancy,
      b: 8 * Math.PI * Math.PI * a.uiso,
      coeffs: [...c.flat(), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0].slice(0, 10),
    };
  });
  return { name, basis: directBasis(cif.cell), atoms, scattering };
}

/**
 * The spots of one orientation (`rot`, row-major 3×3, g_lab = rot·g_crystal), in enumeration
 * order h, k, l ascending (the order decides which spot a shared pixel keeps).
 * @example
 * ```ts
 * const s = kinematicSpots(phase, eulerToMatrix(0, 0, 0), { wavelength: electronWavelength(200), calibration: 0.00588, relrod: 0.1, size: 515 });
 * ```
 */
export function kinematicSpots(ph: Phase, rot: readonly number[], o: SpotOptions): Spots {
  const scale = o.scale ?? 1;
  const lob = ph.scattering === "lobato";
  const rb = reciprocalBasis(ph.basis.map((v) => v * scale));
  const side = o.size / 2 * o.calibration;
  const rmax = side * Math.SQRT2;
  const rs = 1 / o.wavelength;
  const len = (i: number) => Math.hypot(ph.basis[i * 3], ph.basis[i * 3 + 1], ph.basis[i * 3 + 2]);
  const [hm, km, lm] = [0, 1, 2].map((i) => Math.ceil(rmax * len(i) * scale));
  const px: number[] = [], py: number[] = [], inten: number[] = [], hkl: number[] = [];
  let imax = 0;
  for (let h = -hm; h <= hm; h++) {
    for (let k = -km; k <= km; k++) {
      for (let l = -lm; l <= lm; l++) {
        if (h === 0 && k === 0 && l === 0) continue;
        const gx0 = h * rb[0] + k * rb[3] + l * rb[6];
        const gy0 = h * rb[1] + k * rb[4] + l * rb[7];
        const gz0 = h * rb[2] + k * rb[5] + l * rb[8];
        const g2 = gx0 * gx0 + gy0 * gy0 + gz0 * gz0;
        if (g2 > rmax * rmax) continue;
        const gx = rot[0] * gx0 + rot[1] * gy0 + rot[2] * gz0;
        const gy = rot[3] * gx0 + rot[4] * gy0 + rot[5] * gz0;
        const gz = rot[6] * gx0 + rot[7] * gy0 + rot[8] * gz0;
        const rspot2 = gx * gx + gy * gy;
        if (rspot2 >= rs * rs) continue;
        const eps = rs - Math.sqrt(rs * rs - rspot2) - gz;
        if (!(Math.abs(eps) < o.relrod)) continue;
        if (!(Math.abs(gx) < side && Math.abs(gy) < side)) continue;
        let re = 0, im = 0;
        for (const a of ph.atoms) {
          let f = 0;
          for (let i = 0; i < 10; i += 2) {
            const bg = a.coeffs[i + 1] * g2;
            f += lob
              ? a.coeffs[i] * (2 + bg) / ((1 + bg) * (1 + bg))
              : a.coeffs[i] * Math.exp(-0.25 * bg);
          }
          const amp = f * a.occupancy * Math.exp(-0.25 * a.b * g2);
          const p = 2 * Math.PI * (h * a.xyz[0] + k * a.xyz[1] + l * a.xyz[2]);
          re += amp * Math.cos(p);
          im += amp * Math.sin(p);
        }
        const i = (1 - Math.abs(eps) / o.relrod) * (re * re + im * im);
        px.push(Math.trunc(gx / o.calibration + o.size / 2));
        py.push(Math.trunc(gy / o.calibration + o.size / 2));
        inten.push(i);
        hkl.push(h, k, l);
        if (i > imax) imax = i;
      }
    }
  }
  const keep = inten.map((v) => v > imax * 1e-20);
  const sel = <T>(a: T[], n = 1) => a.filter((_, j) => keep[Math.floor(j / n)]);
  return {
    px: Int32Array.from(sel(px)),
    py: Int32Array.from(sel(py)),
    intensity: Float64Array.from(sel(inten)),
    hkl: Int32Array.from(sel(hkl, 3)),
  };
}

/**
 * The normalised 1D Gaussian kernel of scipy's `gaussian_filter` (radius ⌊4σ + 0.5⌋).
 * @example
 * ```ts
 * gaussianKernel(1).length; // 9 (radius 4)
 * ```
 */
export function gaussianKernel(sigma: number): Float64Array {
  const r = Math.floor(4 * sigma + 0.5);
  const k = new Float64Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) s += k[i + r] = Math.exp(-0.5 * i * i / (sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= s;
  return k;
}

function footprint(s: number, n: number, k: Float64Array, out: Float64Array): number {
  const r = (k.length - 1) >> 1;
  const lo = Math.max(0, s - r);
  out.fill(0);
  for (const j of [s, -1 - s, 2 * n - 1 - s]) {
    for (let p = Math.max(0, j - r); p <= Math.min(n - 1, j + r); p++) {
      out[p - lo] += k[r + (p - j)];
    }
  }
  return lo;
}

/**
 * The detector image (row-major size×size, row = py): spots placed one value per pixel, blurred
 * by a Gaussian of `sigma` pixels with mirrored edges, divided by the maximum. Empty → zeros.
 * @example
 * ```ts
 * const img = renderPattern(spots, 515, 2); // max 1
 * ```
 */
export function renderPattern(spots: Spots, size: number, sigma: number): Float64Array {
  const img = new Float64Array(size * size);
  const delta = new Map<number, number>();
  for (let i = 0; i < spots.intensity.length; i++) {
    delta.set(spots.py[i] * size + spots.px[i], spots.intensity[i]);
  }
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) >> 1;
  if (r >= size) throw new RangeError(`sigma ${sigma} is too large for a ${size} px detector`);
  const fx = new Float64Array(2 * r + 1), fy = new Float64Array(2 * r + 1);
  for (const [pos, v] of delta) {
    if (v === 0) continue;
    const y = Math.floor(pos / size), x = pos - y * size;
    const x0 = footprint(x, size, k, fx), y0 = footprint(y, size, k, fy);
    for (let a = 0; a < fy.length && y0 + a < size; a++) {
      const wy = fy[a] * v;
      if (wy === 0) continue;
      const row = (y0 + a) * size + x0;
      for (let b = 0; b < fx.length && x0 + b < size; b++) img[row + b] += wy * fx[b];
    }
  }
  let max = 0;
  for (let i = 0; i < img.length; i++) if (img[i] > max) max = img[i];
  if (max > 0) { for (let i = 0; i < img.length; i++) img[i] /= max; }
  return img;
}

/** Radial bin of every pixel and the pixel count per bin, for {@link integrate}. */
export interface RadialBins {
  size: number;
  nbins: number;
  bin: Int32Array;
  count: Float64Array;
  /** Bin width in pixels. */
  width: number;
}

/**
 * Bins pixel centres (i + 0.5) by distance from (size/2, size/2), `nbins` bins up to the farthest.
 * @example
 * ```ts
 * const rb = radialBins(515, 256);
 * ```
 */
export function radialBins(size: number, nbins: number): RadialBins {
  const c = size / 2;
  const rmax = Math.SQRT2 * (c - 0.5);
  const width = rmax / nbins;
  const bin = new Int32Array(size * size);
  const count = new Float64Array(nbins);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const r = Math.hypot(x + 0.5 - c, y + 0.5 - c);
      const b = Math.min(nbins - 1, Math.floor(r / width));
      bin[y * size + x] = b;
      count[b]++;
    }
  }
  return { size, nbins, bin, count, width };
}

/**
 * The azimuthal mean of an image per radial bin.
 * @example
 * ```ts
 * const profile = integrate(renderPattern(spots, 515, 2), radialBins(515, 256));
 * ```
 */
export function integrate(img: Float64Array, rb: RadialBins): Float64Array {
  const out = new Float64Array(rb.nbins);
  for (let i = 0; i < img.length; i++) out[rb.bin[i]] += img[i];
  for (let b = 0; b < rb.nbins; b++) out[b] = rb.count[b] ? out[b] / rb.count[b] : 0;
  return out;
}

/**
 * The q (Å⁻¹) of each bin centre at `calibration` Å⁻¹ per pixel.
 * @example
 * ```ts
 * binQ(radialBins(515, 256), 0.00588)[13]; // q of the first cropped bin
 * ```
 */
export function binQ(rb: RadialBins, calibration: number): Float64Array {
  return Float64Array.from({ length: rb.nbins }, (_, i) => (i + 0.5) * rb.width * calibration);
}

/**
 * X-ray powder peaks as pymatgen's `XRDCalculator.get_pattern` computes them (the oracle of
 * diffsims XL's evaluator): atomic scattering factors f(s) = Z − 41.78214·s²·Σ aᵢ·exp(−bᵢ·s²),
 * |F|² times the Lorentz–polarisation factor (1+cos²2θ)/(sin²θ·cosθ), reflections within
 * 1e-5° of 2θ merged, peaks under 1e-3 % dropped, intensities scaled to a maximum of 100.
 * `q = 2·sin θ / λ` (Å⁻¹).
 *
 * @example
 * ```ts
 * import { parseCif } from "./cif.ts";
 * import { xrdPeaks } from "./xrd.ts";
 * const peaks = xrdPeaks(parseCif(Deno.readTextFileSync("pb.cif"), "pb.cif"), { wavelength: 0.61992 });
 * peaks[0].hkl; // [[1, 1, 1]]
 * ```
 * @module
 */
import { atomicNumber, type Cell, type Cif, expandCell } from "./cif.ts";
import { XRAY_SCATTERING } from "./xray_scattering.ts";
import { LumenError } from "../../run/errors.ts";

/** One powder peak. */
export interface XrdPeak {
  /** 2·sin θ / λ in Å⁻¹ (= 1/d). */
  q: number;
  /** Degrees. */
  two_theta: number;
  /** Scaled to a maximum of 100. */
  intensity: number;
  /** One representative per family of permuted |h|,|k|,|l| (hexagonal cells: 4 indices). */
  hkl: number[][];
  /** Multiplicity of each family in `hkl`. */
  multiplicity: number[];
}

/** Options of {@link xrdPeaks}. */
export interface XrdOptions {
  /** Å (default 0.61992, the evaluator's). */
  wavelength?: number;
  /** 2θ range in degrees (default [0, 90], pymatgen's). */
  twoThetaRange?: [number, number];
  /** Largest q (Å⁻¹) reported; default: no limit beyond the 2θ range. */
  qMax?: number;
}

/**
 * The reciprocal metric tensor G* (row-major 3×3) of a cell.
 * @example
 * ```ts
 * reciprocalMetric({ a: 4, b: 4, c: 4, alpha: 90, beta: 90, gamma: 90 }); // 1/16 on the diagonal
 * ```
 */
export function reciprocalMetric(c: Cell): number[] {
  const r = Math.PI / 180;
  const [ca, cb, cg] = [Math.cos(c.alpha * r), Math.cos(c.beta * r), Math.cos(c.gamma * r)];
  const g = [
    c.a * c.a,
    c.a * c.b * cg,
    c.a * c.c * cb,
    c.a * c.b * cg,
    c.b * c.b,
    c.b * c.c * ca,
    c.a * c.c * cb,
    c.b * c.c * ca,
    c.c * c.c,
  ]; // deno-fmt-ignore
  const det = g[0] * (g[4] * g[8] - g[5] * g[7]) - g[1] * (g[3] * g[8] - g[5] * g[6]) +
    g[2] * (g[3] * g[7] - g[4] * g[6]);
  const inv = [
    g[4] * g[8] - g[5] * g[7],
    g[2] * g[7] - g[1] * g[8],
    g[1] * g[5] - g[2] * g[4],
    g[5] * g[6] - g[3] * g[8],
    g[0] * g[8] - g[2] * g[6],
    g[2] * g[3] - g[0] * g[5],
    g[3] * g[7] - g[4] * g[6],
    g[1] * g[6] - g[0] * g[7],
    g[0] * g[4] - g[1] * g[3],
  ]; // deno-fmt-ignore
  return inv.map((v) => v / det);
}

function isHexagonal(c: Cell): boolean {
  const tol = 1e-5 * 180 / Math.PI * 0 + 5; // pymatgen: angles within 5°, lengths within 1e-2 rel
  const near = (x: number, y: number) => Math.abs(x - y) < tol;
  const ang = [c.alpha, c.beta, c.gamma].sort((x, y) => x - y);
  const len = [c.a, c.b, c.c];
  const rightAngles = near(ang[0], 90) && near(ang[1], 90);
  if (!rightAngles || !near(ang[2], 120)) return false;
  const iHex = [c.alpha, c.beta, c.gamma].findIndex((x) => near(x, 120));
  const others = len.filter((_, k) => k !== iHex);
  return Math.abs(others[0] - others[1]) < 0.01 * others[0];
}

function families(hkls: number[][]): [number[][], number[]] {
  const keys = new Map<string, number>();
  const reps: number[][] = [];
  const mult: number[] = [];
  for (const h of hkls) {
    const key = h.map(Math.abs).sort((x, y) => x - y).join(",");
    const at = keys.get(key);
    if (at === undefined) {
      keys.set(key, reps.length);
      reps.push(h);
      mult.push(1);
    } else {
      mult[at]++;
      const cur = reps[at];
      // the representative with the most non-negative indices first, as pymatgen sorts them
      if (h.join(",") > cur.join(",") && h.every((v) => v >= 0)) reps[at] = h;
    }
  }
  return [reps, mult];
}

/**
 * The powder peak list of a parsed CIF, equal to pymatgen's XRDCalculator.
 *
 * @example
 * ```ts
 * import { parseCif } from "./cif.ts";
 * import { xrdPeaks } from "./xrd.ts";
 * const cif = parseCif(Deno.readTextFileSync("pbi2.cif"), "pbi2.cif");
 * xrdPeaks(cif, { wavelength: 0.61992, qMax: 1.4 }).map((p) => p.q);
 * ```
 */
export function xrdPeaks(cif: Cif, opts: XrdOptions = {}): XrdPeak[] {
  const lambda = opts.wavelength ?? 0.61992;
  const [t0, t1] = opts.twoThetaRange ?? [0, 90];
  const rad = Math.PI / 180;
  const minR = 2 * Math.sin(t0 * rad / 2) / lambda;
  const maxR = 2 * Math.sin(t1 * rad / 2) / lambda;
  const atoms = expandCell(cif);
  const zs: number[] = [];
  const coeffs: (readonly (readonly [number, number])[])[] = [];
  for (const a of atoms) {
    const c = XRAY_SCATTERING[a.element];
    if (!c) {
      throw new LumenError(cif.file, "", `no X-ray scattering coefficients for ${a.element}`);
    }
    zs.push(atomicNumber(a.element));
    coeffs.push(c);
  }
  const gs = reciprocalMetric(cif.cell);
  const c = cif.cell;
  const hm = Math.ceil(maxR * c.a) + 1,
    km = Math.ceil(maxR * c.b) + 1,
    lm = Math.ceil(maxR * c.c) + 1;
  const pts: { hkl: number[]; g: number }[] = [];
  for (let h = -hm; h <= hm; h++) {
    for (let k = -km; k <= km; k++) {
      for (let l = -lm; l <= lm; l++) {
        const g2 = gs[0] * h * h + gs[4] * k * k + gs[8] * l * l + 2 * gs[1] * h * k +
          2 * gs[2] * h * l + 2 * gs[5] * k * l;
        const g = Math.sqrt(Math.max(0, g2));
        if (g <= maxR + 1e-8 && g !== 0 && (!minR || g >= minR)) pts.push({ hkl: [h, k, l], g });
      }
    }
  }
  pts.sort((x, y) =>
    x.g - y.g || y.hkl[0] - x.hkl[0] || y.hkl[1] - x.hkl[1] || y.hkl[2] - x.hkl[2]
  );
  const hex = isHexagonal(cif.cell);
  const peaks: { tt: number; i: number; hkls: number[][]; g: number }[] = [];
  for (const { hkl, g } of pts) {
    const theta = Math.asin(lambda * g / 2);
    const s2 = (g / 2) ** 2;
    let re = 0, im = 0;
    for (let n = 0; n < atoms.length; n++) {
      let sum = 0;
      for (const [a, b] of coeffs[n]) sum += a * Math.exp(-b * s2);
      const f = (zs[n] - 41.78214 * s2 * sum) * atoms[n].occupancy;
      const p = 2 * Math.PI *
        (atoms[n].xyz[0] * hkl[0] + atoms[n].xyz[1] * hkl[1] + atoms[n].xyz[2] * hkl[2]);
      re += f * Math.cos(p);
      im += f * Math.sin(p);
    }
    const lorentz = (1 + Math.cos(2 * theta) ** 2) / (Math.sin(theta) ** 2 * Math.cos(theta));
    const ihkl = re * re + im * im;
    const tt = 2 * theta / rad;
    const label = hex ? [hkl[0], hkl[1], -hkl[0] - hkl[1], hkl[2]] : hkl;
    const prev = peaks.find((p) => Math.abs(p.tt - tt) < 1e-5);
    if (prev) {
      prev.i += ihkl * lorentz;
      prev.hkls.push(label);
    } else peaks.push({ tt, i: ihkl * lorentz, hkls: [label], g });
  }
  if (peaks.length === 0) return [];
  const max = Math.max(...peaks.map((p) => p.i));
  peaks.sort((x, y) => x.tt - y.tt);
  const out: XrdPeak[] = [];
  for (const p of peaks) {
    if (p.i / max * 100 <= 1e-3) continue;
    const q = 2 * Math.sin(p.tt * rad / 2) / lambda;
    if (opts.qMax !== undefined && q > opts.qMax) continue;
    const [reps, mult] = families(p.hkls);
    out.push({ q, two_theta: p.tt, intensity: p.i / max * 100, hkl: reps, multiplicity: mult });
  }
  return out;
}

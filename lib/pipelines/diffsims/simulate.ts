/**
 * One point of a diffsims XL parameter space → 1D profiles, as the original's Dagster job makes
 * them: per phase `n_points` orientations (uniformly random, or given Euler angles); per
 * orientation a relrod length and a Gaussian sigma (drawn from their lists, or every one), the
 * calibration × (1 + U(−p, p)/100) for the spot positions, the lattice × U(lo, hi) where the phase
 * has a scaling range, and 0…n of the n brightest spots zeroed; the detector image (noise: Poisson
 * then salt at the spike value with probability (1−snr)/2, only where the spike ≠ 0) is
 * integrated to 256 radial bins at the nominal calibration (`x_all`); background A·exp(−τq) is
 * added after dividing by the maximum; `x_px` is bins 13:160 divided by their maximum. Rows are
 * phase-major, labels are the phase index.
 *
 * @example
 * ```ts
 * import { simulatePoint } from "./simulate.ts";
 * const r = simulatePoint(point.params, [{ name: "pb", cif }], point.seed);
 * r.xPx.length / 147; // number of profiles
 * ```
 * @module
 */
import type { Cif } from "./cif.ts";
import {
  binQ,
  electronWavelength,
  type Phase,
  preparePhase,
  type RadialBins,
  radialBins,
  type ScatteringParams,
} from "./kinematic.ts";
import { type SimKernels, TS_KERNELS } from "./kinematic_wasm.ts";
import { eulerToMatrix, randomRotation } from "./orientations.ts";
import { SimRng } from "../../data/rng.ts";
import { LumenError } from "../../run/errors.ts";

/** The profiles of one point. */
export interface SimResult {
  phases: string[];
  /** (N, 256) radial profiles. */
  xAll: Float32Array;
  /** (N,) phase index of each row. */
  yAll: Float64Array;
  /** (N, crop) cropped, renormalised profiles. */
  xPx: Float32Array;
  /** (256,) q of each bin, Å⁻¹. */
  qAxis: Float64Array;
  nbins: number;
  crop: number;
}

// deno-lint-ignore no-explicit-any
type P = any;

function pick<T>(rng: SimRng, list: readonly T[]): T {
  return list[rng.int(0, list.length - 1)];
}

function variants(rng: SimRng, mode: unknown, all: number[][], none: boolean): number[][] {
  if (mode === false) return [[0, 0]];
  if (mode === "random") return [pick(rng, all)];
  return none ? [[0, 0], ...all] : all;
}

/** What every chunk of a point shares (derived from the parameters once). */
interface Setup {
  size: number;
  nbins: number;
  calibration: number;
  wavelength: number;
  scattering: ScatteringParams;
  rb: RadialBins;
  qAxis: Float64Array;
  c0: number;
  c1: number;
}

const binsCache = new Map<string, RadialBins>();

function setup(params: P): Setup {
  const det = params.detector_geometry;
  const size: number = det.detector_size;
  const nbins = Math.ceil((Math.floor(size / 2) - 1) / 2) * 2;
  const calList = ([] as number[]).concat(params.calibration_parameters.calibration_value);
  const calibration = calList.reduce((a, b) => a + b, 0) / calList.length;
  if (params.data_augmentation_parameters.simulated_direct_beam_bool) {
    throw new LumenError(
      "simulated_direct_beam_bool",
      "",
      "a simulated direct beam is not supported",
    );
  }
  const scattering = params.structure_parameters.scattering_params;
  if (!["lobato", "xtables", "doyle_turner"].includes(scattering)) {
    throw new LumenError(
      "structure_parameters.scattering_params",
      "",
      `'${scattering}' is not available (lobato, xtables and doyle_turner are)`,
    );
  }
  const key = `${size},${nbins}`;
  let rb = binsCache.get(key);
  if (!rb) binsCache.set(key, rb = radialBins(size, nbins));
  const pp = params.postprocessing_parameters;
  return {
    size,
    nbins,
    calibration,
    wavelength: electronWavelength(det.beam_energy),
    scattering,
    rb,
    qAxis: binQ(rb, calibration),
    c0: pp.cropping_start_px,
    c1: pp.cropping_stop_px,
  };
}

/** A share of one phase's orientations: the unit of work that threads split. */
export interface Chunk {
  /** Phase index (the label). */
  phase: number;
  /** Chunk index within the phase. */
  index: number;
  /** First orientation and how many. */
  start: number;
  count: number;
}

/**
 * The chunks of a point: per phase, `simulation_orientations_chunk_size` orientations each.
 * @example
 * ```ts
 * pointChunks(params, 3); // [{ phase: 0, index: 0, start: 0, count: 1000 }, …]
 * ```
 */
export function pointChunks(params: P, nPhases: number, eulers?: number[][][]): Chunk[] {
  const size = Math.max(1, params.simulation_orientations_chunk_size ?? 1000);
  const out: Chunk[] = [];
  for (let pi = 0; pi < nPhases; pi++) {
    const n = eulers ? eulers[pi].length : params.orientations_parameters.n_points;
    for (let c = 0; c * size < n; c++) {
      out.push({ phase: pi, index: c, start: c * size, count: Math.min(size, n - c * size) });
    }
  }
  return out;
}

/** The seed of a chunk's own random stream (so chunks can run in any order, on any thread). */
function chunkSeed(seed: number, c: Chunk): number {
  return (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(c.phase + 1, 0x85ebca6b) ^
    Math.imul(c.index + 1, 0xc2b2ae35)) >>> 0;
}

/**
 * The 256-bin profiles of one chunk (rows in order) with their labels.
 * @example
 * ```ts
 * const part = simulateChunk(params, phase, pointChunks(params, 1)[0], seed);
 * ```
 */
export function simulateChunk(
  params: P,
  ph: Phase,
  chunk: Chunk,
  seed: number,
  eulers?: number[][],
  kernels: SimKernels = TS_KERNELS,
): { rows: Float64Array; labels: Float64Array } {
  const st = setup(params);
  const { size, rb, qAxis, calibration, wavelength } = st;
  const rng = new SimRng(chunkSeed(seed, chunk));
  const pi = chunk.phase;
  const modPct: number = params.calibration_parameters.calibration_modify_percent ?? 0;
  const rr = params.relrod_parameters, sg = params.sigma_parameters;
  const aug = params.data_augmentation_parameters;
  const pr = aug.peak_removal, nz = aug.noise_addition, bk = aug.background_parameters;
  const range = params.structure_parameters.lattice_scaling_ranges?.[pi] as
    | [number, number]
    | null
    | undefined;
  const noiseAll = nz.snrs.flatMap((s: number) => nz.intensity_spikes.map((k: number) => [s, k]));
  const bkgAll = bk.a_vals.flatMap((a: number) => bk.tau_vals.map((t: number) => [a, t]));
  const rows: Float64Array[] = [];
  for (let j = chunk.start; j < chunk.start + chunk.count; j++) {
    const rot = eulers
      ? eulerToMatrix(eulers[j][0], eulers[j][1], eulers[j][2])
      : randomRotation(rng);
    const relrods: number[] = rr.randomise_relrod ? [pick(rng, rr.relrod_list)] : rr.relrod_list;
    for (const relrod of relrods) {
      const c = modPct ? calibration * (1 + rng.range(-modPct, modPct) / 100) : calibration;
      const scale = range ? rng.range(range[0], range[1]) : 1;
      const spots = kernels.spots(ph, rot, { wavelength, calibration: c, relrod, size, scale });
      if (pr.remove_peaks_from_diffraction_library) {
        const order = [...spots.intensity.keys()].sort((a, b) =>
          spots.intensity[b] - spots.intensity[a] || a - b
        ).slice(0, pr.n_intensity_peaks);
        const k = pr.num_peaks_to_remove === "random"
          ? rng.int(0, order.length)
          : Math.min(pr.num_peaks_to_remove, order.length);
        for (let m = 0; m < k; m++) {
          const at = rng.int(m, order.length - 1);
          [order[m], order[at]] = [order[at], order[m]];
          spots.intensity[order[m]] = 0;
        }
      }
      const sigmas: number[] = sg.randomise_sigmas
        ? [pick(rng, sg.sigma_2d_gaussian_list)]
        : sg.sigma_2d_gaussian_list;
      for (const sigma of sigmas) {
        const noise = variants(rng, nz.add_noise, noiseAll, nz.include_also_non_noisy_simulation);
        // the 2D pattern only when noise needs its pixels
        const clean = noise.some(([, k]) => k) ? kernels.render(spots, size, sigma) : null;
        for (const [snr, spike] of noise) {
          const prof = !clean
            ? kernels.profile(spots, size, sigma, rb)
            : kernels.integrate(spike ? addNoise(clean, snr, spike, rng) : clean, rb);
          const bkgs = variants(
            rng,
            bk.add_background_to_1d,
            bkgAll,
            bk.include_also_non_bkg_simulation,
          );
          for (const [a, tau] of bkgs) {
            rows.push(
              bk.add_background_to_1d === false ? prof : addBackground(prof, qAxis, a, tau),
            );
          }
        }
      }
    }
  }
  const flat = new Float64Array(rows.length * st.nbins);
  rows.forEach((r, i) => flat.set(r, i * st.nbins));
  return { rows: flat, labels: new Float64Array(rows.length).fill(pi) };
}

/**
 * Joins chunk results (in chunk order) into a point's {@link SimResult}: `x_all` and the
 * cropped, renormalised `x_px`.
 * @example
 * ```ts
 * const r = assemblePoint(params, ["pb"], [simulateChunk(params, phase, chunk, seed)]);
 * ```
 */
export function assemblePoint(
  params: P,
  names: string[],
  parts: { rows: Float64Array; labels: Float64Array }[],
): SimResult {
  const { nbins, c0, c1, qAxis } = setup(params);
  const crop = c1 - c0;
  const N = parts.reduce((a, p) => a + p.labels.length, 0);
  const xAll = new Float32Array(N * nbins), xPx = new Float32Array(N * crop);
  const yAll = new Float64Array(N);
  let i = 0;
  for (const p of parts) {
    yAll.set(p.labels, i);
    for (let k = 0; k < p.labels.length; k++, i++) {
      const r = p.rows.subarray(k * nbins, (k + 1) * nbins);
      xAll.set(r, i * nbins);
      let max = 0;
      for (let b = c0; b < c1; b++) max = Math.max(max, r[b]);
      for (let b = c0; b < c1; b++) xPx[i * crop + b - c0] = max > 0 ? r[b] / max : 0;
    }
  }
  return { phases: names, xAll, yAll, xPx, qAxis, nbins, crop };
}

/**
 * Simulates one parameter-space point. `phases` are the parsed CIFs in label order; `eulers`
 * (per phase, Bunge degrees) replace the random orientations when given; `kernels` run the
 * hot loops (default the TypeScript reference; `KinematicWasm` gives the same profiles). Each
 * chunk of orientations draws from its own seeded stream, so the result does not depend on how
 * chunks are spread over threads (`simulatePointThreads`).
 * @example
 * ```ts
 * const r = simulatePoint(point.params, [{ name: "pb", cif }], point.seed); r.xPx.length / 147;
 * ```
 */
export function simulatePoint(
  params: P,
  phases: { name: string; cif: Cif }[],
  seed: number,
  eulers?: number[][][],
  kernels: SimKernels = TS_KERNELS,
): SimResult {
  const { scattering } = setup(params);
  const prepared = phases.map((p) => preparePhase(p.cif, p.name, scattering));
  const parts = pointChunks(params, phases.length, eulers).map((c) =>
    simulateChunk(params, prepared[c.phase], c, seed, eulers?.[c.phase], kernels)
  );
  return assemblePoint(params, phases.map((p) => p.name), parts);
}

/**
 * Poisson noise, division by the maximum, then salt at `spike` with probability (1−snr)/2.
 * @example
 * ```ts
 * const noisy = addNoise(pattern, 0.99, 0.1, new SimRng(0));
 * ```
 */
export function addNoise(img: Float64Array, snr: number, spike: number, rng: SimRng): Float64Array {
  const out = new Float64Array(img.length);
  let max = 0;
  for (let i = 0; i < img.length; i++) {
    out[i] = img[i] + (img[i] > 0 ? rng.poisson(img[i]) : 0);
    if (out[i] > max) max = out[i];
  }
  const p = (1 - snr) / 2;
  for (let i = 0; i < out.length; i++) {
    if (max > 0) out[i] /= max;
    if (rng.uniform() < p) out[i] = spike;
  }
  return out;
}

/**
 * A profile divided by its maximum plus A·exp(−τ·q) (A = 0: only the division).
 * @example
 * ```ts
 * addBackground(profile, q, 0.5, 1.0); // profile / max + 0.5·exp(−q)
 * ```
 */
export function addBackground(
  prof: Float64Array,
  q: Float64Array,
  a: number,
  tau: number,
): Float64Array {
  let max = 0;
  for (const v of prof) max = Math.max(max, v);
  return prof.map((v, i) => (max > 0 ? v / max : 0) + a * Math.exp(-tau * q[i]));
}

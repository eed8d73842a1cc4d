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
  integrate,
  kinematicSpots,
  preparePhase,
  radialBins,
  renderPattern,
} from "./kinematic.ts";
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

/**
 * Simulates one parameter-space point. `phases` are the parsed CIFs in label order; `eulers`
 * (per phase, Bunge degrees) replace the random orientations when given.
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
): SimResult {
  const rng = new SimRng(seed);
  const det = params.detector_geometry;
  const size: number = det.detector_size;
  const nbins = Math.ceil((Math.floor(size / 2) - 1) / 2) * 2;
  const cal = params.calibration_parameters;
  const calList = ([] as number[]).concat(cal.calibration_value);
  const calibration = calList.reduce((a, b) => a + b, 0) / calList.length;
  const modPct: number = cal.calibration_modify_percent ?? 0;
  const wavelength = electronWavelength(det.beam_energy);
  const rr = params.relrod_parameters, sg = params.sigma_parameters;
  const aug = params.data_augmentation_parameters;
  const pr = aug.peak_removal, nz = aug.noise_addition, bk = aug.background_parameters;
  if (aug.simulated_direct_beam_bool) {
    throw new LumenError(
      "simulated_direct_beam_bool",
      "",
      "a simulated direct beam is not supported",
    );
  }
  const scattering = params.structure_parameters.scattering_params;
  if (scattering !== "lobato" && scattering !== "xtables") {
    throw new LumenError(
      "structure_parameters.scattering_params",
      "",
      `'${scattering}' is not available (lobato and xtables are)`,
    );
  }
  const scaling: ([number, number] | null)[] | null =
    params.structure_parameters.lattice_scaling_ranges;
  const [c0, c1] = [
    params.postprocessing_parameters.cropping_start_px,
    params.postprocessing_parameters.cropping_stop_px,
  ];
  const crop = c1 - c0;
  const rb = radialBins(size, nbins);
  const qAxis = binQ(rb, calibration);
  const noiseAll = nz.snrs.flatMap((s: number) => nz.intensity_spikes.map((k: number) => [s, k]));
  const bkgAll = bk.a_vals.flatMap((a: number) => bk.tau_vals.map((t: number) => [a, t]));
  const rows: Float64Array[] = [], labels: number[] = [];
  phases.forEach((phase, pi) => {
    const ph = preparePhase(phase.cif, phase.name, scattering);
    const n = eulers ? eulers[pi].length : params.orientations_parameters.n_points;
    for (let j = 0; j < n; j++) {
      const rot = eulers
        ? eulerToMatrix(eulers[pi][j][0], eulers[pi][j][1], eulers[pi][j][2])
        : randomRotation(rng);
      const relrods: number[] = rr.randomise_relrod ? [pick(rng, rr.relrod_list)] : rr.relrod_list;
      for (const relrod of relrods) {
        const c = modPct ? calibration * (1 + rng.range(-modPct, modPct) / 100) : calibration;
        const range = scaling?.[pi];
        const scale = range ? rng.range(range[0], range[1]) : 1;
        const spots = kinematicSpots(ph, rot, { wavelength, calibration: c, relrod, size, scale });
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
          const clean = renderPattern(spots, size, sigma);
          const noise = variants(rng, nz.add_noise, noiseAll, nz.include_also_non_noisy_simulation);
          for (const [snr, spike] of noise) {
            const img = spike ? addNoise(clean, snr, spike, rng) : clean;
            const prof = integrate(img, rb);
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
              labels.push(pi);
            }
          }
        }
      }
    }
  });
  const N = rows.length;
  const xAll = new Float32Array(N * nbins), xPx = new Float32Array(N * crop);
  rows.forEach((r, i) => {
    xAll.set(r, i * nbins);
    let max = 0;
    for (let b = c0; b < c1; b++) max = Math.max(max, r[b]);
    for (let b = c0; b < c1; b++) xPx[i * crop + b - c0] = max > 0 ? r[b] / max : 0;
  });
  return {
    phases: phases.map((p) => p.name),
    xAll,
    yAll: Float64Array.from(labels),
    xPx,
    qAxis,
    nbins,
    crop,
  };
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

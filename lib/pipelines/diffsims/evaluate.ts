/**
 * diffsims XL's evaluation of a phase map against the crystal structures: the argmax phase of
 * every pixel; per phase the mean experimental profile over its pixels; O'Haver peaks of that
 * profile; for each peak the nearest X-ray powder peak (cif-peaks, λ = 0.61992 Å) of the phase's
 * CIF; error = mean |Δq| over the peaks. Lumen reports the mean over phases and each phase's
 * value, and beside them the original's numbers: its per-phase profile averages over all pixels
 * (the others as zeros), its q axis steps by range/147, and its "mean" is the sum over phases.
 *
 * @example
 * ```ts
 * import { evaluatePrediction } from "./evaluate.ts";
 * const r = evaluatePrediction(pred, exp, phases, (p) => cifPeakQs(`cifs/${p}.cif`));
 * r.mean_error; // Å⁻¹
 * ```
 * @module
 */
import { findPeaksOhaver } from "./peaks.ts";
import { phaseMap } from "./predict.ts";
import type { Experiment } from "./predict.ts";
import { lineChartSvg } from "../../viz/line_chart.ts";
import type { HtmlReportOptions } from "../../viz/html_report.ts";

/** One phase's evaluation. */
export interface PhaseEvaluation {
  phase: string;
  pixels: number;
  /** Mean |Δq| (Å⁻¹) of the experimental peaks to the nearest simulated one; null: no pixels. */
  error: number | null;
  exp_peaks: number[];
  sim_peaks: number[];
  /** The original's value (all-pixel mean, range/147 axis). */
  error_original: number | null;
  /** The mean profile over the phase's pixels. */
  profile: number[];
}

/** The evaluation of one prediction. */
export interface Evaluation {
  phases: PhaseEvaluation[];
  /** Mean over the phases that have pixels. */
  mean_error: number | null;
  /** What the original prints as "Mean error": the sum of its per-phase values. */
  original_reported_mean: number | null;
}

/**
 * Mean over experimental peaks of the distance to the nearest simulated peak.
 * @example
 * ```ts
 * nearestPeakError([0.35, 0.41], [0.3499, 0.4040]); // ≈ 0.0004
 * ```
 */
export function nearestPeakError(exp: readonly number[], sim: readonly number[]): number | null {
  if (exp.length === 0 || sim.length === 0) return null;
  let s = 0;
  for (const q of exp) s += Math.min(...sim.map((p) => Math.abs(p - q)));
  return s / exp.length;
}

/**
 * Evaluates `pred` (ny·nx·n probabilities) against the experiment's profiles; `simPeaks(phase)`
 * gives the phase's powder-peak q values.
 * @example
 * ```ts
 * const r = evaluatePrediction(pred, exp, ["pb"], () => [0.35, 0.404]); r.mean_error;
 * ```
 */
export function evaluatePrediction(
  pred: Float32Array,
  e: Experiment,
  phases: readonly string[],
  simPeaks: (phase: string) => number[],
): Evaluation {
  const npx = e.ny * e.nx, L = e.len;
  const map = phaseMap(pred, npx);
  const step = (e.x[L - 1] - e.x[0]) / L;
  const xOrig = Array.from({ length: L }, (_, i) => e.x[0] + i * step);
  const out: PhaseEvaluation[] = phases.map((phase, k) => {
    const sum = new Float64Array(L);
    let count = 0;
    for (let p = 0; p < npx; p++) {
      if (map[p] !== k) continue;
      count++;
      for (let i = 0; i < L; i++) sum[i] += e.y[p * L + i];
    }
    const sim = simPeaks(phase);
    if (count === 0) {
      return {
        phase,
        pixels: 0,
        error: null,
        exp_peaks: [],
        sim_peaks: sim,
        error_original: null,
        profile: [],
      };
    }
    const own = Array.from(sum, (v) => v / count);
    const all = Array.from(sum, (v) => v / npx);
    const peaks = findPeaksOhaver(own, e.x).map((p) => p.position);
    const peaksOrig = findPeaksOhaver(all, xOrig).map((p) => p.position);
    return {
      phase,
      pixels: count,
      error: nearestPeakError(peaks, sim),
      exp_peaks: peaks,
      sim_peaks: sim,
      error_original: nearestPeakError(peaksOrig, sim),
      profile: own,
    };
  });
  const errs = out.map((p) => p.error).filter((v): v is number => v !== null);
  const orig = out.map((p) => p.error_original).filter((v): v is number => v !== null);
  return {
    phases: out,
    mean_error: errs.length ? errs.reduce((a, b) => a + b, 0) / errs.length : null,
    original_reported_mean: orig.length ? orig.reduce((a, b) => a + b, 0) : null,
  };
}

/**
 * The CSV table of an evaluation (one row per phase, then the mean).
 * @example
 * ```ts
 * Deno.writeTextFileSync("eval.csv", evaluationCsv("roi_probability_pred.npz", r));
 * ```
 */
export function evaluationCsv(file: string, r: Evaluation): string {
  const f = (v: number | null) => (v === null ? "" : v.toPrecision(6));
  const rows = ["file,phase,pixels,n_exp_peaks,error,error_original"];
  for (const p of r.phases) {
    rows.push(
      `${file},${p.phase},${p.pixels},${p.exp_peaks.length},${f(p.error)},${f(p.error_original)}`,
    );
  }
  rows.push(`${file},mean,,,${f(r.mean_error)},${f(r.original_reported_mean)}`);
  return rows.join("\n") + "\n";
}

const DIFFERENCES =
  "Lumen averages each phase's profile over that phase's own pixels, on the experiment's own q " +
  "axis, and reports the mean of the per-phase errors. The original averages over all pixels with " +
  "the other phases' pixels as zeros (amplitudes shrink with the phase's area, which changes the " +
  "0.1·max amplitude threshold and the peaks found), steps its q axis by range/147 instead of " +
  "range/146 (positions shift by up to one bin), and prints the sum over phases as the mean. " +
  "The column error_original and original_reported_mean give the original's numbers.";

function stick(name: string, qs: number[], h: number, color: string) {
  return { name, x: qs.flatMap((q) => [q, q, q]), y: qs.flatMap(() => [0, h, 0]), color };
}

/**
 * The HTML report of an evaluation: each phase's mean profile with both peak sets.
 * @example
 * ```ts
 * await writeHtmlReport("eval.html", evaluationReport("roi", exp.x, r));
 * ```
 */
export function evaluationReport(
  name: string,
  q: ArrayLike<number>,
  r: Evaluation,
): HtmlReportOptions {
  const qMax = q[q.length - 1];
  return {
    title: `diffsims evaluation — ${name}`,
    meta: {
      mean_error: r.mean_error ?? "n/a",
      original_reported_mean: r.original_reported_mean ?? "n/a",
    },
    sections: [
      { heading: "Lumen vs the original", text: DIFFERENCES },
      ...r.phases.filter((p) => p.pixels).map((p) => ({
        heading: `${p.phase}: ${p.pixels} pixels, error ${p.error?.toPrecision(4)} 1/Å`,
        svgs: [lineChartSvg([
          { name: "mean profile", x: Array.from(q), y: p.profile },
          stick("experimental peaks", p.exp_peaks, Math.max(...p.profile), "#d55e00"),
          stick(
            "cif-peaks",
            p.sim_peaks.filter((v) => v <= qMax),
            0.5 * Math.max(...p.profile),
            "#009e73",
          ),
        ], { xLabel: "q (1/Å)", yLabel: "intensity" })],
      })),
    ],
  };
}

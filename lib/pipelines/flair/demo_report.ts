/**
 * The Flair demo's scoring and report: held-out stroke Dice and visible-volume errors against the
 * synthetic patients' known volumes, whether the issue's bars are met, and the HTML page.
 *
 * @example
 * ```ts
 * import { flairDemoReport } from "./demo_report.ts";
 * const r = await flairDemoReport({ rows, newPatient, truth, fresh, results, reports, parity, out, seconds, seed: 0 });
 * r.accepted; // stroke Dice ≥ 0.8 and visible within 15 %
 * ```
 * @module
 */
import { join } from "node:path";
import { htmlReport } from "../../viz/html_report.ts";
import type { OutOfFoldRow, PatientResult } from "./infer_run.ts";

/** Known volumes of a synthetic patient, in mL. */
export interface KnownVolumes {
  strokeMl: number;
  visibleMl: number;
}

/** What {@link flairDemoReport} needs. */
export interface FlairDemoReportInput {
  rows: OutOfFoldRow[];
  newPatient: PatientResult;
  truth: Map<string, KnownVolumes>;
  fresh: KnownVolumes;
  /** The inference results folder (holds NEW/key_slices.png). */
  results: string;
  reports: string[];
  parity: number[];
  out: string;
  seconds: number;
  seed: number;
}

/**
 * Scores the held-out patients and renders the demo's page.
 *
 * @example
 * ```ts
 * const { html, meanDice, worstVis, accepted } = await flairDemoReport(input);
 * ```
 */
export async function flairDemoReport(
  o: FlairDemoReportInput,
): Promise<{
  html: string;
  meanDice: number;
  worstVis: number;
  accepted: boolean;
  patients: { patient: string; dice: number; visibleError: number }[];
}> {
  const { rows, truth, fresh, reports, parity, out } = o;
  const np = o.newPatient, secs = o.seconds, f = { seed: o.seed }, results = o.results;
  const meanDice = rows.reduce((a, r) => a + r.dice.stroke, 0) / rows.length;
  const visErr = rows.map((r) => {
    const t = truth.get(r.patient)!.visibleMl;
    return Math.abs(r.pred.visibleMl - t) / t;
  });
  const worstVis = Math.max(...visErr);
  const accepted = meanDice >= 0.8 && worstVis <= 0.15;
  const table = rows.map((r) => {
    const t = truth.get(r.patient)!;
    return [
      r.patient,
      r.fold,
      t.strokeMl,
      r.pred.strokeMl,
      t.visibleMl,
      r.pred.visibleMl,
      r.dice.stroke,
      r.dice.visible,
    ];
  });
  const png = await Deno.readFile(join(results, "NEW", "key_slices.png"));
  const html = htmlReport({
    title: "Flair Visibility demo",
    subtitle: "synthetic patients; a small U-Net (width 8) trained for a few CPU minutes on " +
      "crops, batch-norm statistics re-estimated on training-like crops, run on whole slices",
    meta: { seconds: Math.round(secs), folds: 2, patients: rows.length, seed: f.seed },
    sections: [
      {
        heading: "Held-out patients (each fold's model on its own test patients)",
        tables: [{
          columns: [
            "patient",
            "fold",
            "true stroke mL",
            "stroke mL",
            "true visible mL",
            "visible mL",
            "Dice stroke",
            "Dice visible",
          ],
          rows: table,
          digits: 4,
        }],
        text: `Mean Dice of the stroke on held-out patients: ${meanDice.toFixed(3)}; ` +
          `worst visible volume error ${(100 * worstVis).toFixed(1)} % ` +
          `(target: Dice ≥ 0.8, visible within 15 %: ${accepted ? "met" : "not met"}). ` +
          "Training reports: " + reports.map((r) => r.slice(out.length + 1)).join(", ") +
          `. ONNX (onnxruntime-web) − engine: ${parity.map((d) => d.toExponential(1)).join(", ")}.`,
      },
      {
        heading: "New patient (majority vote of the 2 fold models)",
        tables: [{
          columns: [
            "true stroke mL",
            "stroke mL",
            "true visible mL",
            "visible mL (mean)",
            "visible mL (majority)",
          ],
          rows: [[
            fresh.strokeMl,
            np.strokeMl,
            fresh.visibleMl,
            np.visibleMlMean,
            np.visibleMlMajority,
          ]],
          digits: 4,
        }],
        images: [{
          png,
          title: "key slices",
          caption: "heatmap: mask outline green, stroke outline blue, visible red",
        }],
      },
    ],
  });
  const patients = rows.map((r) => ({
    patient: r.patient,
    dice: r.dice.stroke,
    visibleError: (r.pred.visibleMl - truth.get(r.patient)!.visibleMl) /
      truth.get(r.patient)!.visibleMl,
  }));
  return { html, meanDice, worstVis, accepted, patients };
}

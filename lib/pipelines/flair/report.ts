/**
 * The HTML report of a Flair Visibility fold's training: loss and metric curves per epoch and
 * a table of every epoch (losses, learning rate, Dice per structure, κ, AUC), one file.
 *
 * @example
 * ```ts
 * import { writeTrainReport } from "./report.ts";
 * await writeTrainReport("saved_models/FVV-k0.run/report.html", "FVV fold 0", result.history, {});
 * ```
 * @module
 */
import { htmlReport } from "../../viz/html_report.ts";
import { lineChartSvg } from "../../viz/line_chart.ts";
import { writeTextAtomic } from "../../run/atomic.ts";
import type { EpochRecord } from "./train.ts";

/**
 * The report's HTML.
 *
 * @example
 * ```ts
 * import { trainReportHtml } from "./report.ts";
 * console.log(trainReportHtml("run", [], {}).startsWith("<!DOCTYPE html>")); // true
 * ```
 */
export function trainReportHtml(
  title: string,
  history: readonly EpochRecord[],
  meta: Record<string, string | number>,
): string {
  const x = history.map((h) => h.epoch);
  const curve = (name: string, f: (h: EpochRecord) => number) => ({
    name,
    x,
    y: history.map((h) => f(h) ?? NaN),
  });
  const losses = lineChartSvg([
    curve("train loss", (h) => h.train_loss),
    curve("validation loss", (h) => h.val_loss),
  ], { title: "loss", xLabel: "epoch", integerX: true, logY: true });
  const metrics = lineChartSvg([
    curve("Dice mask", (h) => h.metrics.dice.mask),
    curve("Dice stroke", (h) => h.metrics.dice.stroke),
    curve("Dice visible", (h) => h.metrics.dice.visible),
    curve("κ", (h) => h.metrics.kappa),
    curve("AUC", (h) => h.metrics.auc),
  ], { title: "validation metrics", xLabel: "epoch", integerX: true });
  const rows = history.map((h) => [
    h.epoch,
    h.lr,
    h.train_loss,
    h.val_loss,
    h.metrics.dice.mask,
    h.metrics.dice.stroke,
    h.metrics.dice.visible,
    h.metrics.diceMean,
    h.metrics.visDice,
    h.metrics.kappa,
    h.metrics.auc,
  ]);
  return htmlReport({
    title,
    subtitle: "Flair Visibility: 2.5D U-Net (from scratch, standing in for the original's " +
      "DeepLabV3+ with an ImageNet-pretrained EfficientNet-B0 3D encoder)",
    meta,
    sections: [
      { heading: "Curves", svgs: [losses, metrics] },
      {
        heading: "Epochs",
        tables: [{
          columns: [
            "epoch",
            "lr",
            "train loss",
            "val loss",
            "Dice mask",
            "Dice stroke",
            "Dice visible",
            "Dice mean",
            "vis/not-vis Dice",
            "κ",
            "AUC",
          ],
          rows,
          digits: 4,
        }],
      },
    ],
  });
}

/**
 * Writes the report atomically.
 *
 * @example
 * ```ts
 * import { writeTrainReport } from "./report.ts";
 * await writeTrainReport("/tmp/report.html", "run", [], {});
 * ```
 */
export async function writeTrainReport(
  path: string,
  title: string,
  history: readonly EpochRecord[],
  meta: Record<string, string | number>,
): Promise<void> {
  await writeTextAtomic(path, trainReportHtml(title, history, meta), { overwrite: true });
}

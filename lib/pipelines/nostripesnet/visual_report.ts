/**
 * The HTML report of `visualize`: the training log's loss curves, the test tool's metric tables
 * and the figures, grouped by kind (embedded, or linked to the PNG files).
 *
 * @example
 * ```ts
 * import { reportSections } from "./visual_report.ts";
 * const sections = await reportSections(figures, { testPath: "test_results/m.metrics.json", embed: true, outDir: "figures" });
 * ```
 * @module
 */
import { basename, dirname, extname, relative } from "node:path";
import { existsSync } from "node:fs";
import { LumenError } from "../../run/errors.ts";
import { readLog } from "../../run/log.ts";
import { type LossRecord, type ReportSection, writeHtmlReport } from "../../viz/html_report.ts";
import { readTestResult, testReportTables } from "./test_result.ts";
import type { LoadedNoStripesNet } from "./model.ts";

/** A figure written for the report. */
export interface VisualFigure {
  section: "Synthetic stripes" | "Real stripes" | "Test patches";
  title: string;
  caption: string;
  path: string;
  png: Uint8Array;
}

const SECTION_TEXT: Record<string, string> = {
  "Synthetic stripes": "Clean, stripe and model output sinograms (values in [0, 1]) over their " +
    "filtered back-projection reconstructions, with shared display ranges.",
};

/**
 * The training log of a checkpoint: `log` when given (it must exist), else
 * `<model dir>/<run name>.log.jsonl` when present.
 *
 * @example
 * ```ts
 * await trainingLosses("runs/patch_10.json"); // { path: "runs/patch.log.jsonl", losses: [...] }
 * ```
 */
export async function trainingLosses(
  modelFile: string,
  log?: string,
): Promise<{ path: string; losses?: LossRecord[] }> {
  const run = basename(modelFile, extname(modelFile)).replace(/_\d+(_b\d+)?$/, "");
  const path = log ?? `${dirname(modelFile)}/${run}.log.jsonl`;
  if (log && !existsSync(log)) throw new LumenError(log, "", "no such training log");
  return { path, losses: existsSync(path) ? await readLog(path) as LossRecord[] : undefined };
}

/**
 * The report's sections: test metrics (when `testPath` exists; it must when `required`), then
 * the figures by kind.
 *
 * @example
 * ```ts
 * const sections = await reportSections(figures, { testPath, embed: false, outDir: "figures" });
 * ```
 */
export async function reportSections(
  figures: readonly VisualFigure[],
  o: { testPath: string; required?: boolean; embed: boolean; outDir: string },
): Promise<ReportSection[]> {
  if (o.required && !existsSync(o.testPath)) {
    throw new LumenError(o.testPath, "", "no such test result");
  }
  const sections: ReportSection[] = [];
  if (existsSync(o.testPath)) {
    const r = await readTestResult(o.testPath);
    sections.push({
      heading: "Test metrics",
      text:
        `${r.pairs.test} test pairs of ${r.pairs.total}, ${r.batches} batches of ≤ ${r.batchSize} (${o.testPath}).`,
      tables: testReportTables(r),
    });
  }
  for (const heading of ["Synthetic stripes", "Real stripes", "Test patches"] as const) {
    const images = figures.filter((x) => x.section === heading).map((x) => ({
      title: x.title,
      caption: x.caption,
      ...(o.embed ? { png: x.png } : { src: relative(o.outDir, x.path) }),
    }));
    if (images.length) sections.push({ heading, text: SECTION_TEXT[heading], images });
  }
  return sections;
}

/** What {@link writeVisualReport} says about the model and the data besides the figures. */
export interface VisualReportInfo {
  /** The report's name (the figures' prefix). */
  name: string;
  modelFile: string;
  net: LoadedNoStripesNet;
  dataset: string;
  sample: number;
  layout: { ph: number; pw: number; angles: number; cols: number };
  /** The training log (default: found beside the model, see {@link trainingLosses}). */
  log?: string;
  /** The test result (default `./test_results/<name>.metrics.json`, when present). */
  testResults?: string;
  embed: boolean;
  /** The command line, shown at the foot. */
  footer: string;
}

/**
 * Writes `visualize`'s HTML report at `path`: the loss curves, the test metrics and `figures`
 * (embedded, or linked relative to the report's folder).
 *
 * @example
 * ```ts
 * await writeVisualReport("figures/m.report.html", figures, { name: "m", modelFile, net, dataset: "data", sample: 0, layout: L, embed: true, footer: "" });
 * ```
 */
export async function writeVisualReport(
  path: string,
  figures: readonly VisualFigure[],
  o: VisualReportInfo,
  overwrite = false,
): Promise<void> {
  const log = await trainingLosses(o.modelFile, o.log);
  const sections = await reportSections(figures, {
    testPath: o.testResults ?? `./test_results/${o.name}.metrics.json`,
    required: !!o.testResults,
    embed: o.embed,
    outDir: dirname(path),
  });
  const { net, layout: L } = o;
  await writeHtmlReport(path, {
    title: `NoStripesNet: ${o.name}`,
    subtitle: `model ${o.modelFile}${net.epoch !== null ? `, epoch ${net.epoch}` : ""}`,
    meta: {
      model: o.modelFile,
      architecture: `PatchUNet width ${net.config.genWidth}, depth ${net.config.genDepth}`,
      dataset: o.dataset,
      sample: o.sample,
      "patch size": `${L.ph}×${L.pw}`,
      "sinogram size": `${L.angles}×${L.cols}`,
      "training log": log.losses ? log.path : "not found",
      generated: new Date().toISOString(),
    },
    losses: log.losses,
    sections,
    footer: o.footer,
  }, { overwrite });
}

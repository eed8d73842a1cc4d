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
import type { LossRecord, ReportSection } from "../../viz/html_report.ts";
import { readTestResult, testReportTables } from "./test_result.ts";

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

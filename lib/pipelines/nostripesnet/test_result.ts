/**
 * The result of testing a NoStripesNet model (tools/nostripesnet/test.ts) as one JSON-able record, and its
 * renderings: the printed table, CSV rows and the tables of the HTML report.
 *
 * @example
 * ```ts
 * import { formatTestTable, readTestResult } from "./test_result.ts";
 * const r = await readTestResult("test_results/patch_example.metrics.json");
 * console.log(formatTestTable(r));
 * ```
 * @module
 */
import { LumenError } from "../../run/errors.ts";
import { writeTextAtomic } from "../../run/atomic.ts";
import { type Provenance, writeProvenance } from "../../run/provenance.ts";
import { writeCsv } from "../../io/csv.ts";
import type { ReportTable } from "../../viz/html_report.ts";
import type { RmseResult } from "./metrics.ts";

/** Format tag of {@link NsnTestResult}. */
export const TEST_RESULT_FORMAT = "lumen.nsn-test/1";

/** One RMSE row (uint16 units): a method's output against the clean patches. */
export interface RmseRow {
  /** "stripe (input)", "Vo sorting", "model" … */
  method: string;
  whole: number | null;
  stripe: number | null;
  rest: number | null;
}

/** What tools/nostripesnet/test.ts writes (`<name>.metrics.json`); NaN is stored as null. */
export interface NsnTestResult {
  format: typeof TEST_RESULT_FORMAT;
  /** The model file tested. */
  model: string;
  /** Its training epoch, when known. */
  epoch: number | null;
  root: string;
  /** Pairs in the dataset and in the test split. */
  pairs: { total: number; test: number };
  batchSize: number;
  batches: number;
  /** The selected metrics: mean over batches of the per-batch means (the original's numbers). */
  metrics: { index: number; name: string; label: string; value: number | null }[];
  /** Per-batch values of each metric. */
  perBatch: Record<string, (number | null)[]>;
  /** Discriminator accuracy on fake and real pairs, mean over batches (null without a disc). */
  discriminatorAccuracy: { total: number | null; fake: number | null; real: number | null } | null;
  /** RMSE in uint16 units, pooled over all test pixels, as the paper's table. */
  rmse: {
    units: "uint16";
    rows: RmseRow[];
    pixels: { whole: number; stripe: number; rest: number };
  };
  /** Wall time of the test in seconds. */
  seconds: number;
}

/**
 * NaN and ±∞ as null (JSON has no NaN).
 * @example `finiteOrNull(NaN)` // null
 */
export function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/**
 * An RMSE row from an accumulator's result.
 * @example `rmseRow("model", acc.result())`
 */
export function rmseRow(method: string, r: RmseResult): RmseRow {
  return {
    method,
    whole: finiteOrNull(r.whole),
    stripe: finiteOrNull(r.stripe),
    rest: finiteOrNull(r.rest),
  };
}

function fmt(v: number | null | undefined, digits = 6): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-4)) return v.toExponential(digits - 1);
  return String(Number(v.toPrecision(digits)));
}

function pad(s: string, n: number, right = false): string {
  const len = [...s].length;
  return len >= n ? s : right ? " ".repeat(n - len) + s : s + " ".repeat(n - len);
}

/**
 * The result as the printed table: the nine metrics (index, name, value), the RMSE table and
 * the discriminator accuracy.
 * @example `console.log(formatTestTable(result))`
 */
export function formatTestTable(r: NsnTestResult): string {
  const lines: string[] = [];
  lines.push(
    `Test of ${r.model}${
      r.epoch !== null ? ` (epoch ${r.epoch})` : ""
    }: ${r.pairs.test} test pairs of ${r.pairs.total}, ${r.batches} batches of ≤ ${r.batchSize}`,
  );
  if (r.metrics.length) {
    lines.push("", "Mean scores over all batches:");
    lines.push(`  ${pad("#", 2)}  ${pad("metric", 24)}${pad("value", 14, true)}`);
    for (const m of r.metrics) {
      lines.push(`  ${pad(String(m.index), 2)}  ${pad(m.name, 24)}${pad(fmt(m.value), 14, true)}`);
    }
  }
  if (r.rmse.rows.length) {
    lines.push("", "RMSE in uint16 units (pooled over the test pixels):");
    lines.push(
      `  ${pad("method", 18)}${pad("whole image", 14, true)}${pad("stripe region", 16, true)}${
        pad("rest", 12, true)
      }`,
    );
    for (const x of r.rmse.rows) {
      lines.push(
        `  ${pad(x.method, 18)}${pad(fmt(x.whole, 5), 14, true)}${pad(fmt(x.stripe, 5), 16, true)}${
          pad(fmt(x.rest, 5), 12, true)
        }`,
      );
    }
    const p = r.rmse.pixels;
    lines.push(`  (${p.stripe} of ${p.whole} pixels in the stripe region)`);
  }
  if (r.discriminatorAccuracy) {
    const a = r.discriminatorAccuracy;
    lines.push(
      "",
      `Discriminator accuracy: total ${fmt(a.total, 4)}, fake ${fmt(a.fake, 4)}, real ${
        fmt(a.real, 4)
      }`,
    );
  }
  return lines.join("\n");
}

/**
 * CSV rows (with a header): `kind,method,name,index,value` for metrics, RMSE and accuracy.
 * @example `await writeCsv("m.csv", testResultCsvRows(result))`
 */
export function testResultCsvRows(r: NsnTestResult): (string | number | null)[][] {
  const rows: (string | number | null)[][] = [["kind", "method", "name", "index", "value"]];
  for (const m of r.metrics) rows.push(["metric", "model", m.name, m.index, m.value]);
  for (const x of r.rmse.rows) {
    for (const k of ["whole", "stripe", "rest"] as const) {
      rows.push(["rmse_uint16", x.method, k, null, x[k]]);
    }
  }
  if (r.discriminatorAccuracy) {
    for (const k of ["total", "fake", "real"] as const) {
      rows.push(["accuracy", "discriminator", k, null, r.discriminatorAccuracy[k]]);
    }
  }
  return rows;
}

/**
 * The result as HTML report tables (metrics; RMSE; discriminator accuracy).
 * @example `htmlReport({ title, sections: [{ heading: "Test", tables: testReportTables(r) }] })`
 */
export function testReportTables(r: NsnTestResult): ReportTable[] {
  const t: ReportTable[] = [];
  if (r.metrics.length) {
    t.push({
      title: "NoStripesNet test metrics (mean over batches)",
      columns: ["#", "metric", "", "value"],
      rows: r.metrics.map((m) => [m.index, m.name, m.label, m.value]),
      caption: "Between clean and model output, both in [−1, 1]. Dice and IoU count exactly " +
        "equal pixels (the original's definitions; nearly meaningless for float images).",
    });
  }
  if (r.rmse.rows.length) {
    t.push({
      title: "RMSE in uint16 units",
      columns: ["method", "whole image", "stripe region", "rest"],
      rows: r.rmse.rows.map((x) => [x.method, x.whole, x.stripe, x.rest]),
      caption: `Pooled over ${r.rmse.pixels.whole} test pixels, ${r.rmse.pixels.stripe} of them ` +
        "in the stripe region (where clean and stripe differ), as in the paper's table.",
      digits: 5,
    });
  }
  if (r.discriminatorAccuracy) {
    const a = r.discriminatorAccuracy;
    t.push({
      title: "Discriminator accuracy",
      columns: ["total", "fake", "real"],
      rows: [[a.total, a.fake, a.real]],
      digits: 4,
    });
  }
  return t;
}

/**
 * Reads a `<name>.metrics.json` written by tools/nostripesnet/test.ts; throws a LumenError for anything else.
 * @example `await readTestResult("test_results/demo.metrics.json")`
 */
export async function readTestResult(path: string): Promise<NsnTestResult> {
  let v: unknown;
  try {
    v = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new LumenError(path, "", `cannot read a test result (${(e as Error).message})`);
  }
  const r = v as NsnTestResult;
  if (!r || r.format !== TEST_RESULT_FORMAT) {
    throw new LumenError(path, "format", `not a ${TEST_RESULT_FORMAT} record (write it with test)`);
  }
  return r;
}

/**
 * Writes a test result as `json` (with its uuid and the provenance sidecar beside it) and as CSV
 * rows in `csv`; refuses existing files unless `overwrite`.
 *
 * @example
 * ```ts
 * await writeTestResult(result, prov, { json: "out/m.metrics.json", csv: "out/m.metrics.csv" });
 * ```
 */
export async function writeTestResult(
  r: NsnTestResult,
  prov: Provenance,
  paths: { json: string; csv: string },
  overwrite = false,
): Promise<void> {
  const text = JSON.stringify({ ...r, uuid: prov.uuid }, null, 1) + "\n";
  await writeTextAtomic(paths.json, text, { overwrite });
  await writeProvenance(paths.json, prov);
  await writeCsv(paths.csv, testResultCsvRows(r), { overwrite });
}

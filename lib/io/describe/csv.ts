/**
 * CSV and TSV described: whether the first row is a header, the row count, and each column's
 * type ("number" where every value is one) with the minimum and maximum of numeric columns.
 *
 * @example
 * ```ts
 * import { describeCsv } from "./csv.ts";
 * const d = await describeCsv("table.csv", {}); // { arrays: [], rows: 3, header: true, columns }
 * ```
 * @module
 */
import { readInput } from "../../run/atomic.ts";
import { decodeText, parseCsvAsync } from "../csv.ts";
import type { DescribeOptions, Details } from "./types.ts";

/** One described column. */
export interface CsvColumn {
  /** The header's name, or "column N". */
  name: string;
  /** "number" or "text". */
  type: string;
  /** Minimum of a numeric column. */
  min?: number;
  /** Maximum of a numeric column. */
  max?: number;
}

const numeric = (s: string) => s.trim() !== "" && Number.isFinite(Number(s));

/**
 * Describes a CSV file, or a TSV file (by its `.tsv` name); empty rows are skipped. Rows whose
 * field count differs from the header's are counted in `ragged` (with the field counts found).
 *
 * @example
 * ```ts
 * (await describeCsv("table.csv", {})).columns; // [{ name: "id", type: "number", min: 1, max: 3 }, …]
 * ```
 */
export async function describeCsv(path: string, opts: DescribeOptions): Promise<Details> {
  const text = decodeText(await readInput(path), path);
  const delimiter = path.toLowerCase().endsWith(".tsv") ? "\t" : ",";
  const rows = (await parseCsvAsync(text, path, { delimiter })).filter((r) =>
    r.some((c) => c !== "")
  );
  if (rows.length === 0) return { arrays: [], rows: 0, columns: [] };
  const hasHeader = rows.length > 1 && !rows[0].every(numeric);
  const header = hasHeader ? rows[0] : rows[0].map((_, i) => `column ${i}`);
  const body = hasHeader ? rows.slice(1) : rows;
  const columns = header.map((name, j) => {
    const vals = body.map((r) => r[j] ?? "");
    const nums = vals.filter(numeric).map(Number);
    const col: CsvColumn = {
      name,
      type: nums.length === vals.length && vals.length ? "number" : "text",
    };
    if (col.type === "number" && (opts.stats ?? true)) {
      col.min = nums.reduce((x, y) => Math.min(x, y));
      col.max = nums.reduce((x, y) => Math.max(x, y));
    }
    return col;
  });
  const out: Details = { arrays: [], rows: body.length, header: hasHeader, columns };
  // rows whose field count differs from the header's: counted, with the counts found
  const odd = body.filter((r) => r.length !== header.length);
  if (odd.length) {
    const widths = [...new Set(rows.map((r) => r.length))].sort((a, b) => a - b);
    out.ragged = { rows: odd.length, widths };
  }
  return out;
}

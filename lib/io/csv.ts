/**
 * CSV as RFC 4180 defines it: fields separated by commas (or another delimiter), records by CRLF
 * (LF and lone CR are accepted on read), fields containing the delimiter, a quote, CR or LF
 * enclosed in double quotes with inner quotes doubled.
 *
 * Reading is strict: an unterminated quoted field, or text after a closing quote, is a
 * {@link LumenError} with line and column (`m.csv: line 3:7: text after closing quote`).
 * A UTF-8 byte-order mark is skipped. Writing quotes only the fields that need it and ends every
 * record with CRLF.
 *
 * @example
 * ```ts
 * import { parseCsv, formatCsv, parseCsvRecords } from "./csv.ts";
 * parseCsv('a,b\r\n1,"x, y"\r\n'); // [["a","b"],["1","x, y"]]
 * formatCsv([["name", "note"], ["a", 'say "hi"']]); // 'name,note\r\na,"say ""hi"""\r\n'
 * parseCsvRecords("a,b\n1,2\n").records; // [{ a: "1", b: "2" }]
 * ```
 * @module
 */
import { LumenError } from "../run/errors.ts";
import { readInput, writeTextAtomic } from "../run/atomic.ts";
import { safePoint } from "../run/interrupt.ts";

/** Options of the CSV reader and writer. */
export interface CsvOptions {
  /** Field delimiter, one character (default ","). */
  delimiter?: string;
}

/**
 * Parses CSV text into rows of fields. `file` names the source in errors.
 * An empty input gives no rows; a final line break does not start an empty row.
 */
export function parseCsv(text: string, file = "<csv>", opts: CsvOptions = {}): string[][] {
  const steps = csvSteps(text, file, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * {@link parseCsv} with a safe point (lib/run/interrupt.ts) every 65,536 rows, so that a signal
 * stops a long parse there.
 *
 * @example
 * ```ts
 * const rows = await parseCsvAsync(Deno.readTextFileSync("big.csv"), "big.csv");
 * ```
 */
export async function parseCsvAsync(
  text: string,
  file = "<csv>",
  opts: CsvOptions = {},
): Promise<string[][]> {
  const steps = csvSteps(text, file, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await safePoint();
  }
}

/** The parse of {@link parseCsv}, yielding every 65,536 rows. */
function* csvSteps(text: string, file: string, opts: CsvOptions): Generator<void, string[][]> {
  const delim = opts.delimiter ?? ",";
  if (delim.length !== 1 || delim === '"' || delim === "\n" || delim === "\r") {
    throw new RangeError(`bad CSV delimiter ${JSON.stringify(delim)}`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0, line = 1, lineStart = 0;
  const n = text.length;
  const fail = (at: number, atLine: number, atStart: number, problem: string): never => {
    throw new LumenError(file, `line ${atLine}:${at - atStart + 1}`, problem);
  };
  if (n === 0) return rows;
  for (;;) {
    // One field starts at i.
    let field: string;
    if (text[i] === '"') {
      const qLine = line, qStart = lineStart, qAt = i;
      i++;
      let s = "";
      for (;;) {
        const j = text.indexOf('"', i);
        if (j < 0) fail(qAt, qLine, qStart, "unterminated quoted field");
        const chunk = text.slice(i, j);
        for (let k = 0; k < chunk.length; k++) {
          const c = chunk.charCodeAt(k);
          // A line ends at LF, or at a CR not followed by LF.
          if (c === 10 || (c === 13 && chunk.charCodeAt(k + 1) !== 10)) {
            line++;
            lineStart = i + k + 1;
          }
        }
        s += chunk;
        if (text[j + 1] === '"') {
          s += '"';
          i = j + 2;
          continue;
        }
        i = j + 1;
        break;
      }
      field = s;
      const c = text[i];
      if (i < n && c !== delim && c !== "\n" && c !== "\r") {
        fail(i, line, lineStart, "text after closing quote");
      }
    } else {
      let j = i;
      while (j < n) {
        const c = text[j];
        if (c === delim || c === "\n" || c === "\r") break;
        if (c === '"') fail(j, line, lineStart, "quote inside an unquoted field");
        j++;
      }
      field = text.slice(i, j);
      i = j;
    }
    row.push(field);
    if (i >= n) {
      rows.push(row);
      break;
    }
    const c = text[i];
    if (c === delim) {
      i++;
      if (i >= n) {
        row.push("");
        rows.push(row);
        break;
      }
      continue;
    }
    // Record end: \r\n, \n or \r.
    i += c === "\r" && text[i + 1] === "\n" ? 2 : 1;
    line++;
    lineStart = i;
    rows.push(row);
    row = [];
    if (i >= n) break;
    if ((rows.length & 0xffff) === 0) yield;
  }
  return rows;
}

function needsQuotes(f: string, delim: string): boolean {
  return f.includes(delim) || f.includes('"') || f.includes("\n") || f.includes("\r");
}

/** Formats rows as CSV text (CRLF after every record; quotes only where needed). */
export function formatCsv(
  rows: readonly (readonly (string | number | boolean | null | undefined)[])[],
  opts: CsvOptions = {},
): string {
  const delim = opts.delimiter ?? ",";
  let out = "";
  for (const row of rows) {
    out += row.map((v) => {
      const f = v === null || v === undefined ? "" : String(v);
      return needsQuotes(f, delim) ? `"${f.replaceAll('"', '""')}"` : f;
    }).join(delim) + "\r\n";
  }
  return out;
}

/**
 * Parses CSV whose first row is a header into records keyed by column name. A row with a different
 * number of fields than the header is an error naming its line.
 */
export function parseCsvRecords(
  text: string,
  file = "<csv>",
  opts: CsvOptions = {},
): { header: string[]; records: Record<string, string>[] } {
  const rows = parseCsv(text, file, opts);
  if (rows.length === 0) return { header: [], records: [] };
  const header = rows[0];
  const dup = header.find((h, i) => header.indexOf(h) !== i);
  if (dup !== undefined) throw new LumenError(file, "line 1", `duplicate column '${dup}'`);
  const records: Record<string, string>[] = [];
  // Line numbers: count lines per row (rows may span lines inside quotes).
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r];
    if (row.length === 1 && row[0] === "") continue; // blank line
    if (row.length !== header.length) {
      throw new LumenError(
        file,
        `record ${r + 1}`,
        `${row.length} fields, the header has ${header.length}`,
      );
    }
    const rec: Record<string, string> = {};
    header.forEach((h, i) => (rec[h] = row[i]));
    records.push(rec);
  }
  return { header, records };
}

/** Reads a CSV file into rows. */
export async function readCsv(path: string, opts: CsvOptions = {}): Promise<string[][]> {
  return parseCsv(decodeText(await readInput(path), path), path, opts);
}

/** Decodes UTF-8 text, or throws a LumenError naming the first bad byte. */
export function decodeText(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    // Find the offending offset for the message.
    let lo = 0, hi = bytes.length;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      try {
        new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, mid), { stream: true });
        lo = mid;
      } catch {
        hi = mid;
      }
    }
    throw new LumenError(file, `byte ${lo}`, "not valid UTF-8 text");
  }
}

/** Writes rows as a CSV file, atomically. */
export function writeCsv(
  path: string,
  rows: readonly (readonly (string | number | boolean | null | undefined)[])[],
  opts: CsvOptions & { overwrite?: boolean } = {},
): Promise<void> {
  return writeTextAtomic(path, formatCsv(rows, opts), { overwrite: opts.overwrite });
}

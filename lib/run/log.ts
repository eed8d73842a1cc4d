/**
 * JSON-lines logs (one JSON object per line), the training and run logs of Lumen: appended, each
 * line written through to the file as it is logged, so a crash loses nothing already logged and
 * `tail -f` shows progress.
 *
 * @example
 * ```ts
 * import { openLog, readLog } from "./log.ts";
 * const log = openLog("runs/a/train.jsonl");
 * log.write({ epoch: 1, step: 10, loss_g: 0.42 });
 * log.close();
 * const rows = await readLog("runs/a/train.jsonl");
 * ```
 * @module
 */
import { LumenError } from "./errors.ts";

/** Options of {@link openLog}. */
export interface LogOptions {
  /** Keep what the file holds and append (default true); false truncates it. */
  append?: boolean;
  /**
   * Add `"t"` (seconds since the log was opened, 3 decimals) to each record that has none
   * (default false).
   */
  elapsed?: boolean;
  /** Add `"time"` (ISO-8601 wall clock) to each record that has none (default false). */
  time?: boolean;
}

/** An open JSON-lines log. */
export interface JsonLog {
  /** The file's path. */
  readonly path: string;
  /** Writes one record as one line. NaN and ±Infinity become the strings "NaN", "Infinity"… */
  write(record: Record<string, unknown>): void;
  /** Closes the file (further writes throw). */
  close(): void;
}

const enc = new TextEncoder();

function replacer(_k: string, v: unknown): unknown {
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  if (typeof v === "bigint") return v.toString();
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    return Array.from(v as unknown as ArrayLike<number | bigint>, (x) => replacer("", x));
  }
  return v;
}

/** One record as its JSON line (without the newline). */
export function jsonLine(record: Record<string, unknown>): string {
  return JSON.stringify(record, replacer);
}

/** Opens (creating it and its folder when missing) a JSON-lines log for appending. */
export function openLog(path: string, opts: LogOptions = {}): JsonLog {
  let file: Deno.FsFile;
  try {
    const dir = path.replace(/\/[^/]*$/, "");
    if (dir && dir !== path) Deno.mkdirSync(dir, { recursive: true });
    file = Deno.openSync(path, {
      write: true,
      create: true,
      append: opts.append ?? true,
      truncate: !(opts.append ?? true),
    });
  } catch (e) {
    throw new LumenError(path, "", `cannot open log (${(e as Error).message})`);
  }
  const start = performance.now();
  let closed = false;
  return {
    path,
    write(record) {
      if (closed) throw new LumenError(path, "", "log is closed");
      const rec: Record<string, unknown> = { ...record };
      if (opts.elapsed && !("t" in rec)) {
        rec.t = Math.round(performance.now() - start) / 1000;
      }
      if (opts.time && !("time" in rec)) rec.time = new Date().toISOString();
      // One write call per line: with O_APPEND the line lands whole, even beside other writers.
      const data = enc.encode(jsonLine(rec) + "\n");
      let off = 0;
      while (off < data.length) off += file.writeSync(data.subarray(off));
    },
    close() {
      if (closed) return;
      closed = true;
      file.close();
    },
  };
}

/**
 * Reads a JSON-lines log. A last line cut short (a crash mid-write) is ignored; a malformed line
 * elsewhere throws a LumenError naming the line.
 */
export async function readLog(path: string): Promise<Record<string, unknown>[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new LumenError(path, "", `cannot read log (${(e as Error).message})`);
  }
  const lines = text.split("\n");
  const complete = text.endsWith("\n");
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === "") continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      if (i === lines.length - 1 && !complete) break;
      throw new LumenError(path, `line ${i + 1}`, "not a JSON object");
    }
  }
  return out;
}

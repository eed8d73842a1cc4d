/**
 * The memory budget of the readers: the most bytes one decode may allocate. A reader compares the
 * size a header declares (times the copies decoding makes) with the budget before allocating, and
 * refuses with one line naming the file, the declared size and the budget, so a hostile header
 * ends in a clear error, not in gigabytes of memory or a raw `RangeError`.
 *
 * The budget is {@link DEFAULT_MAX_MEMORY} unless a tool's `--max-memory` flag sets it
 * ({@link setMaxMemory} with {@link parseMemorySize}); a reader's `maxMemory` option overrides it
 * for one call.
 *
 * @example
 * ```ts
 * import { checkMemory, parseMemorySize, setMaxMemory } from "./budget.ts";
 * setMaxMemory(parseMemorySize("8G"));
 * checkMemory("a.npy", "header", "shape (1000, 1000) of <f8", 8e6); // fine
 * ```
 * @module
 */
import { LumenError } from "../run/errors.ts";

/** The default budget: 2 GiB. */
export const DEFAULT_MAX_MEMORY = 2 ** 31;

let budget = DEFAULT_MAX_MEMORY;

/**
 * The process-wide budget in bytes.
 *
 * @example
 * ```ts
 * maxMemory(); // 2147483648 unless --max-memory set it
 * ```
 */
export function maxMemory(): number {
  return budget;
}

/**
 * Sets the process-wide budget (what `--max-memory` does); returns the previous one.
 *
 * @example
 * ```ts
 * const old = setMaxMemory(512 * 2 ** 20);
 * setMaxMemory(old);
 * ```
 */
export function setMaxMemory(bytes: number): number {
  if (!(bytes > 0) || !Number.isFinite(bytes)) {
    throw new RangeError(`memory budget must be a positive number of bytes, got ${bytes}`);
  }
  const old = budget;
  budget = Math.floor(bytes);
  return old;
}

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 2 ** 10,
  kb: 1e3,
  kib: 2 ** 10,
  m: 2 ** 20,
  mb: 1e6,
  mib: 2 ** 20,
  g: 2 ** 30,
  gb: 1e9,
  gib: 2 ** 30,
  t: 2 ** 40,
  tb: 1e12,
  tib: 2 ** 40,
};

/**
 * Parses a memory size as `--max-memory` takes it: bytes, or a number with a unit (`512M`,
 * `2G`, `1.5GiB`, `4GB`; K/M/G/T alone are powers of 1024). Throws a LumenError naming the flag.
 *
 * @example
 * ```ts
 * parseMemorySize("2G"); // 2147483648
 * parseMemorySize("500MB"); // 500000000
 * ```
 */
export function parseMemorySize(text: string, flag = "--max-memory"): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  const v = m && unit ? Number(m[1]) * unit : NaN;
  if (!(v >= 1)) {
    throw new LumenError(flag, "", `'${text}' is not a memory size (bytes, or e.g. 512M, 2G)`);
  }
  return Math.floor(v);
}

/** A size in bytes with a binary unit for people: "2 GiB", "37.3 GiB", "512 B". */
function human(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
  let u = 0, v = n;
  while (v >= 1024 && u < units.length - 1) v /= 1024, u++;
  return `${u === 0 ? v : Number(v.toPrecision(3))} ${units[u]}`;
}

/**
 * Refuses, before anything is allocated, a decode that would take `bytes` (what the header
 * declares, `what` says which header values) when that exceeds the budget. The one-line error
 * reads `file: place: <what> would take N bytes (x GiB), over the M-byte limit of --max-memory
 * (y GiB); corrupt or hostile header?`.
 *
 * @example
 * ```ts
 * checkMemory("big.npy", "header", "shape (100000, 100000) of <f8", 8e10); // throws
 * ```
 */
export function checkMemory(
  file: string,
  place: string,
  what: string,
  bytes: number | bigint,
  limit: number = budget,
): void {
  const approx = Number(bytes);
  if (approx <= limit) return;
  const n = typeof bytes === "bigint"
    ? bytes.toString()
    : Number.isFinite(bytes)
    ? BigInt(Math.round(bytes)).toString()
    : String(bytes);
  throw new LumenError(
    file,
    place,
    `${what} would take ${n} bytes (${human(approx)}), over the ${limit}-byte limit of ` +
      `--max-memory (${human(limit)}); corrupt or hostile header?`,
  );
}

/**
 * The exact product of sizes (dimensions, then bytes per element) as a BigInt, so that a size
 * beyond 2^53 that a header declares prints as declared, not rounded.
 *
 * @example
 * ```ts
 * exactBytes([3, 2 ** 52 + 1], 1); // 13510798882111491n (as a number: 13510798882111492)
 * ```
 */
export function exactBytes(...factors: readonly (number | readonly number[])[]): bigint {
  let n = 1n;
  for (const f of factors) {
    for (const x of typeof f === "number" ? [f] : f) n *= BigInt(Math.trunc(x));
  }
  return n;
}

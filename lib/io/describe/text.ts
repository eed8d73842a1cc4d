/**
 * The pieces of the human-readable form of a {@link Description}: numbers, sizes, arrays, names
 * and attributes as `inspect` prints them.
 *
 * @example
 * ```ts
 * import { fmtBytes, fmtNum } from "./text.ts";
 * fmtBytes(2048); // "2.0 KiB"
 * fmtNum(0.000012345); // "1.2345e-5"
 * ```
 * @module
 */
import type { ArrayInfo, JsonNumber } from "./types.ts";

/**
 * A number for reading: integers whole, others to 6 significant digits, tiny or huge ones in
 * exponent form; "-" for null.
 *
 * @example
 * ```ts
 * fmtNum(3.14159265); // "3.14159"
 * ```
 */
export function fmtNum(v: JsonNumber): string {
  if (v === null) return "-";
  if (typeof v === "string") return v;
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e6
    ? String(Number(v.toPrecision(6)))
    : v.toExponential(4);
}

/**
 * A byte count in B, KiB, MiB, GiB or TiB.
 *
 * @example
 * ```ts
 * fmtBytes(3 * 1024 ** 2); // "3.0 MiB"
 * ```
 */
export function fmtBytes(n: number): string {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0, x = n;
  while (x >= 1024 && i < u.length - 1) x /= 1024, i++;
  return i ? `${x.toFixed(1)} ${u[i]}` : `${n} B`;
}

/**
 * An array's dtype, shape, minimum, maximum, NaN count and read error on one line.
 *
 * @example
 * ```ts
 * fmtArray({ name: "a", shape: [2, 3], dtype: "float32", min: 0, max: 1 });
 * // "float32 (2, 3)  min 0 max 1"
 * ```
 */
export function fmtArray(a: ArrayInfo): string {
  const parts = [`${a.dtype} (${(a.exactShape ?? a.shape).join(", ")})`];
  if (a.min !== null || a.max !== null) parts.push(`min ${fmtNum(a.min)} max ${fmtNum(a.max)}`);
  if (a.nan) parts.push(`${a.nan} NaN`);
  if (a.error) parts.push(`(unreadable: ${a.error})`);
  return parts.join("  ");
}

/**
 * A name as shown in text: JSON-quoted when it holds control characters or spaces at its ends.
 *
 * @example
 * ```ts
 * showName("a\nb"); // "\"a\\nb\""
 * ```
 */
export function showName(name: string): string {
  // deno-lint-ignore no-control-regex
  return /[\x00-\x1f\x7f]|^\s|\s$/.test(name) ? JSON.stringify(name) : name;
}

/**
 * `s` cut to `n` characters, ending in "..." where it was cut.
 *
 * @example
 * ```ts
 * clip("abcdefgh", 6); // "abc..."
 * ```
 */
export function clip(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 3) + "..." : s;
}

/**
 * One `@name = value` line per attribute, indented.
 *
 * @example
 * ```ts
 * fmtAttrs({ units: "counts" }, "  "); // ['  @units = "counts"']
 * ```
 */
export function fmtAttrs(attrs: unknown, indent: string): string[] {
  if (!attrs || typeof attrs !== "object") return [];
  return Object.entries(attrs as Record<string, unknown>).map(([k, v]) => {
    return `${indent}@${showName(k)} = ${clip(JSON.stringify(v) ?? String(v), 80)}`;
  });
}

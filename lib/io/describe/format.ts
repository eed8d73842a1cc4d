/**
 * The printed forms of a {@link Description}: text for reading (a title line, one line per
 * array, then the format's details: the HDF5 tree, TIFF pages, the NIfTI header, the tar
 * listing…), or one JSON document indented by two spaces.
 *
 * @example
 * ```ts
 * import { formatDescription } from "./format.ts";
 * console.log(formatDescription(await describe("scan.nxs")));
 * console.log(formatDescription(await describe("scan.nxs"), { json: true }));
 * ```
 * @module
 */
import { hdf5Lines } from "./hdf5.ts";
import { niftiLines } from "./nifti.ts";
import { tarLines } from "./tar.ts";
import { fmtArray, fmtBytes } from "./text.ts";
import { tiffLines } from "./tiff.ts";
import type { Description, FileFormat } from "./types.ts";

/** Options of {@link formatDescription}. */
export interface FormatOptions {
  /** One JSON document instead of text. */
  json?: boolean;
}

/** Array fields every array line shows; the others follow as `key value`. */
const SHOWN = ["name", "shape", "dtype", "min", "max", "nan"];

/** Formats whose details have their own lines after the arrays. */
const DETAIL_LINES: Partial<Record<FileFormat, (d: Description) => string[]>> = {
  tar: tarLines,
  tiff: tiffLines,
  nifti: niftiLines,
};

/** Any other format's details: `key: value`, lists with one item a line (200 at most). */
function otherLines(d: Description): string[] {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(d)) {
    if (["file", "format", "bytes", "arrays"].includes(k)) continue;
    if (Array.isArray(v)) {
      lines.push(`  ${k}: ${v.length}`);
      for (const item of v.slice(0, 200)) {
        lines.push(`    ${typeof item === "object" ? JSON.stringify(item) : item}`);
      }
      if (v.length > 200) lines.push(`    … ${v.length - 200} more`);
    } else lines.push(`  ${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`);
  }
  return lines;
}

/**
 * JSON indented by two spaces, with arrays of plain values (shapes, min/max lists) on one line.
 *
 * @example
 * ```ts
 * prettyJson({ shape: [2, 3] }); // '{\n  "shape": [2,3]\n}'
 * ```
 */
export function prettyJson(value: unknown, indent = ""): string {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== "object")) return JSON.stringify(value);
    const inner = indent + "  ";
    return `[\n${value.map((v) => inner + prettyJson(v, inner)).join(",\n")}\n${indent}]`;
  }
  if (value && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return "{}";
    const inner = indent + "  ";
    const body = entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${prettyJson(v, inner)}`);
    return `{\n${body.join(",\n")}\n${indent}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * A description as `inspect` prints it, ending in a newline: text, or JSON with `json`.
 *
 * @example
 * ```ts
 * formatDescription(d); // "a.npy: npy, 176 B\n  a.npy  float32 (3, 4)  min 0 max 11  order C  descr <f4\n"
 * ```
 */
export function formatDescription(d: Description, opts: FormatOptions = {}): string {
  if (opts.json) return prettyJson(d) + "\n";
  const lines = [`${d.file}: ${d.format}, ${fmtBytes(d.bytes)}`];
  if (d.format === "hdf5") lines.push(...hdf5Lines(d));
  else {
    for (const a of d.arrays) {
      const extra = Object.entries(a).filter(([k]) => !SHOWN.includes(k))
        .map(([k, v]) => `${k} ${typeof v === "object" ? JSON.stringify(v) : v}`);
      lines.push(`  ${a.name}  ${fmtArray(a)}${extra.length ? "  " + extra.join("  ") : ""}`);
    }
    lines.push(...(DETAIL_LINES[d.format] ?? otherLines)(d));
  }
  return lines.join("\n") + "\n";
}

/**
 * JSON and JSON lines described: a JSON document's structure (types, keys, array lengths, two
 * levels deep); a JSON-lines file's record count and the keys its records use.
 *
 * @example
 * ```ts
 * import { describeJson } from "./json.ts";
 * const d = await describeJson("meta.json"); // { arrays: [], content: { type: "object", … } }
 * ```
 * @module
 */
import { readInput } from "../../run/atomic.ts";
import { decodeText } from "../csv.ts";
import { parseJson } from "../json.ts";
import type { Details } from "./types.ts";

/**
 * The structure of a parsed value: "number", "string"…, `{ type: "array", length, first }` and
 * `{ type: "object", keys }`, two levels deep.
 *
 * @example
 * ```ts
 * describeValue({ a: [1, 2] }); // { type: "object", keys: { a: { type: "array", length: 2, first: "number" } } }
 * ```
 */
export function describeValue(v: unknown, depth = 0): unknown {
  if (Array.isArray(v)) {
    return {
      type: "array",
      length: v.length,
      ...(v.length && depth < 2 ? { first: describeValue(v[0], depth + 1) } : {}),
    };
  }
  if (v && typeof v === "object") {
    const keys = Object.keys(v);
    if (depth >= 2) return { type: "object", keys };
    return {
      type: "object",
      keys: Object.fromEntries(
        keys.map((k) => [k, describeValue((v as Record<string, unknown>)[k], depth + 1)]),
      ),
    };
  }
  return v === null ? "null" : typeof v;
}

/**
 * Describes a JSON file (parse errors name line and column).
 *
 * @example
 * ```ts
 * (await describeJson("meta.json")).content;
 * ```
 */
export async function describeJson(path: string): Promise<Details> {
  const text = decodeText(await readInput(path), path);
  return { arrays: [], content: describeValue(parseJson(text, path)) };
}

/**
 * Describes a JSON-lines file: records (blank lines skipped) and the keys they use.
 *
 * @example
 * ```ts
 * await describeJsonLines("log.jsonl"); // { arrays: [], records: 120, keys: ["step", "loss"] }
 * ```
 */
export async function describeJsonLines(path: string): Promise<Details> {
  const text = decodeText(await readInput(path), path);
  const keys = new Set<string>();
  let records = 0;
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    const o = parseJson(line, `${path}: line ${i + 1}`);
    if (o && typeof o === "object") Object.keys(o).forEach((k) => keys.add(k));
    records++;
  });
  return { arrays: [], records, keys: [...keys] };
}

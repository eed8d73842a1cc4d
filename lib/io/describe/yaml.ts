/**
 * YAML described: the document's structure, as for JSON.
 *
 * @example
 * ```ts
 * import { describeYaml } from "./yaml.ts";
 * const d = await describeYaml("config.yaml"); // { arrays: [], content: { type: "object", … } }
 * ```
 * @module
 */
import { readInput } from "../../run/atomic.ts";
import { decodeText } from "../csv.ts";
import { parseYaml } from "../yaml.ts";
import { describeValue } from "./json.ts";
import type { Details } from "./types.ts";

/**
 * Describes a YAML file.
 *
 * @example
 * ```ts
 * (await describeYaml("config.yaml")).content;
 * ```
 */
export async function describeYaml(path: string): Promise<Details> {
  const text = decodeText(await readInput(path), path);
  return { arrays: [], content: describeValue(parseYaml(text, path)) };
}

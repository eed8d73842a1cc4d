/**
 * YAML files through the npm `yaml` package (YAML 1.2, `yaml@2.9.1` pinned in lib/deps.ts), with
 * the error convention: a parse error is one line naming the file, line and column
 * (`cfg.yaml: line 2:1: Map keys must be unique`). Duplicate keys and multiple documents are
 * errors. Writing is atomic.
 *
 * @example
 * ```ts
 * import { parseYaml, stringifyYaml } from "./yaml.ts";
 * parseYaml("epochs: 10\nlr: 1e-3\n", "train.yaml"); // { epochs: 10, lr: 0.001 }
 * stringifyYaml({ epochs: 10 }); // "epochs: 10\n"
 * ```
 * @module
 */
import { YAML } from "../deps.ts";
import { LumenError } from "../run/errors.ts";
import { readInput, writeTextAtomic } from "../run/atomic.ts";
import { decodeText } from "./csv.ts";
import process from "node:process";

interface YamlErrorLike {
  name: string;
  message: string;
  code?: string;
  linePos?: { line: number; col: number }[];
}

/**
 * Parses one YAML document; on failure throws a LumenError with `line L:C`.
 *
 * @example
 * ```ts
 * const cfg = parseYaml<{ seed: number }>(text, "run.yaml");
 * ```
 */
export function parseYaml<T = unknown>(text: string, file = "<yaml>"): T {
  try {
    return withoutEnv(() => YAML.parse(text, { prettyErrors: true, uniqueKeys: true }) as T);
  } catch (e) {
    const err = e as YamlErrorLike;
    if (e instanceof ReferenceError) {
      // the yaml package reports alias problems as ReferenceErrors, without a position
      const m = e.message.split("\n")[0];
      const problem = /Excessive alias count/.test(m)
        ? "aliases expand too far (a 'billion laughs' document?); refusing to expand them"
        : /Unresolved alias/.test(m)
        ? `alias to an anchor that is not defined before it (${m.replace(/^.*: /, "*")})`
        : m;
      throw new LumenError(file, "", problem);
    }
    if (err?.name !== "YAMLParseError" && err?.name !== "YAMLWarning") throw e;
    const pos = err.linePos?.[0];
    const msg = err.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    throw new LumenError(file, pos ? `line ${pos.line}:${pos.col}` : "", msg);
  }
}

/**
 * Runs `fn` with an empty `process.env` unless env access is granted: the yaml package reads
 * `LOG_TOKENS` and `LOG_STREAM` (debug switches) while parsing, which in Deno needs
 * `--allow-env`; reading YAML should need no permission but `--allow-read`.
 *
 * @example
 * ```ts
 * const doc = withoutEnv(() => YAML.parseDocument(text));
 * ```
 */
export function withoutEnv<T>(fn: () => T): T {
  let granted = false;
  try {
    granted = Deno.permissions.querySync({ name: "env", variable: "LOG_TOKENS" }).state ===
        "granted" &&
      Deno.permissions.querySync({ name: "env", variable: "LOG_STREAM" }).state === "granted";
  } catch {
    granted = false;
  }
  const saved = Object.getOwnPropertyDescriptor(process, "env");
  if (granted || !saved?.configurable) return fn();
  Object.defineProperty(process, "env", { value: {}, configurable: true, writable: true });
  try {
    return fn();
  } finally {
    Object.defineProperty(process, "env", saved);
  }
}

/** Reads and parses a YAML file. */
export async function readYaml<T = unknown>(path: string): Promise<T> {
  return parseYaml<T>(decodeText(await readInput(path), path), path);
}

/** Formats a value as YAML text. */
export function stringifyYaml(value: unknown): string {
  return YAML.stringify(value);
}

/** Writes a value as a YAML file, atomically. */
export function writeYaml(
  path: string,
  value: unknown,
  opts: { overwrite?: boolean } = {},
): Promise<void> {
  return writeTextAtomic(path, stringifyYaml(value), { overwrite: opts.overwrite });
}

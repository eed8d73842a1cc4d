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
  checkPrintable(text, file);
  // YAML line breaks are \r\n, \r or \n, all read as \n (§5.4); the parser takes a lone \r as
  // text and fails on \r\n inside quotes
  const lf = text.replace(/\r\n?/g, "\n");
  try {
    return withoutEnv(() => {
      const doc = YAML.parseDocument(lf, {
        prettyErrors: true,
        uniqueKeys: true,
        logLevel: "error",
      });
      // warnings (an application tag such as `!pspace`, read as the node it tags) are not
      // printed: logLevel "error" keeps the multiple-documents error, which "silent" drops
      if (doc.errors[0]) throw doc.errors[0];
      emptyKey(doc, lf, file);
      return doc.toJS() as T;
    });
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
 * Refuses a mapping entry with no key at all (`: 10`, or `a: [1]: 2`, which the parser reads
 * as a second entry with an empty key): YAML 1.1 readers (PyYAML) reject both, and no config
 * means them; `~: 1` and `"": 1` are keys and pass.
 */
function emptyKey(doc: ReturnType<typeof YAML.parseDocument>, text: string, file: string): void {
  let at = -1;
  YAML.visit(doc, {
    Pair(_, p) {
      const k = p.key as unknown;
      const none = k === null ||
        (YAML.isScalar(k) && k.value === null && (k as { source?: string }).source === "");
      if (!none) return;
      at = YAML.isScalar(k) && k.range ? k.range[0] : 0;
      return YAML.visit.BREAK;
    },
  });
  if (at < 0) return;
  const before = text.slice(0, at);
  const line = before.split("\n").length, col = at - before.lastIndexOf("\n");
  throw new LumenError(
    file,
    `line ${line}:${col}`,
    "a mapping entry without a key (a ':' with nothing before it); corrupt file?",
  );
}

/** Characters a YAML stream may not hold (YAML 1.2 §5.1: outside c-printable). */
const NON_PRINTABLE = /[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\ud800-\udfff]/;

/**
 * Refuses a control character (NUL, a form feed…) that YAML does not allow, naming its line
 * and column: the npm parser would take it as text.
 *
 * @example
 * ```ts
 * checkPrintable("a: 1\n", "c.yaml"); // fine
 * checkPrintable("a: \0\n", "c.yaml"); // throws "c.yaml: line 1:4: control character U+0000 …"
 * ```
 */
export function checkPrintable(text: string, file: string): void {
  const m = NON_PRINTABLE.exec(text);
  if (!m) return;
  const before = text.slice(0, m.index);
  const line = before.split("\n").length;
  const col = m.index - before.lastIndexOf("\n");
  const code = m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
  throw new LumenError(
    file,
    `line ${line}:${col}`,
    `control character U+${code}, which YAML does not allow (a damaged or binary file?)`,
  );
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

/**
 * JSON files with the error convention: a parse failure names the file, the line and column and
 * what was expected (`cfg.json: line 3:9: expected ',' or '}' after a value, found 'x'`), whatever
 * V8's own message says. Writing is atomic, pretty-printed, and ends with a newline.
 *
 * @example
 * ```ts
 * import { parseJson, readJson, writeJson } from "./json.ts";
 * parseJson('{"a": 1}', "inline"); // { a: 1 }
 * await writeJson("out/meta.json", { ok: true }, { overwrite: true });
 * const meta = await readJson("out/meta.json");
 * ```
 * @module
 */
import { LumenError } from "../run/errors.ts";
import { readInput, writeTextAtomic } from "../run/atomic.ts";
import { decodeText } from "./csv.ts";

/** Line and column (1-based) of a character offset in `text`. */
export function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1, start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, col: offset - start + 1 };
}

/** Finds the first syntax error in JSON text: its offset and a description. */
function locateJsonError(text: string): { at: number; problem: string } {
  let i = 0;
  const n = text.length;
  const show = (k: number) => (k >= n ? "end of input" : `'${text[k]}'`);
  class Stop {
    constructor(readonly at: number, readonly problem: string) {}
  }
  const ws = () => {
    while (i < n && " \t\n\r".includes(text[i])) i++;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') {
          throw new Stop(i, `expected a property name in quotes, found ${show(i)}`);
        }
        string();
        ws();
        if (text[i] !== ":") {
          throw new Stop(i, `expected ':' after a property name, found ${show(i)}`);
        }
        i++;
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") return void i++;
        throw new Stop(i, `expected ',' or '}' after a value, found ${show(i)}`);
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") return void i++;
        throw new Stop(i, `expected ',' or ']' after a value, found ${show(i)}`);
      }
    }
    if (c === '"') return string();
    for (const lit of ["true", "false", "null"]) {
      if (text.startsWith(lit, i)) return void (i += lit.length);
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (m && m[0].length > 0 && m[0] !== "-") return void (i += m[0].length);
    throw new Stop(i, `expected a value, found ${show(i)}`);
  };
  const string = () => {
    const start = i;
    i++;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 34) return void i++;
      if (c < 0x20) throw new Stop(i, "control character inside a string (escape it)");
      if (c === 92) {
        const e = text[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            throw new Stop(i, "bad \\u escape in a string");
          }
          i += 6;
          continue;
        }
        if (!'"\\/bfnrt'.includes(e ?? "")) {
          throw new Stop(i, `bad escape '\\${e ?? ""}' in a string`);
        }
        i += 2;
        continue;
      }
      i++;
    }
    throw new Stop(start, "unterminated string");
  };
  try {
    value();
    ws();
    if (i < n) return { at: i, problem: `unexpected ${show(i)} after the JSON value` };
    return { at: n, problem: "invalid JSON" };
  } catch (e) {
    if (e instanceof Stop) return { at: e.at, problem: e.problem };
    throw e;
  }
}

/**
 * Parses JSON text; on failure throws a LumenError with `line L:C`.
 *
 * @example
 * ```ts
 * parseJson("[1, 2", "x.json"); // LumenError "x.json: line 1:6: expected ',' or ']' after a value, found end of input"
 * ```
 */
export function parseJson<T = unknown>(text: string, file = "<json>"): T {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    const { at, problem } = locateJsonError(text);
    const { line, col } = lineCol(text, at);
    throw new LumenError(file, `line ${line}:${col}`, problem);
  }
}

/** Reads and parses a JSON file. */
export async function readJson<T = unknown>(path: string): Promise<T> {
  return parseJson<T>(decodeText(await readInput(path), path), path);
}

/** Formats a value as JSON text: indented (2 spaces by default), with a final newline. */
export function formatJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, null, indent) + "\n";
}

/** Writes a value as a JSON file, atomically. */
export function writeJson(
  path: string,
  value: unknown,
  opts: { overwrite?: boolean; indent?: number } = {},
): Promise<void> {
  return writeTextAtomic(path, formatJson(value, opts.indent ?? 2), { overwrite: opts.overwrite });
}

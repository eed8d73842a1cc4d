/**
 * Declarative command-line flags for Lumen tools, on top of `node:util` parseArgs.
 *
 * A tool describes itself once (name, summary, the exact Deno permissions it needs, positional
 * arguments and flags); {@link parseFlags} turns `Deno.args` into typed values and
 * {@link usage} prints the `--help` text. Flag keys are camelCase in code and kebab-case on the
 * command line (`outDir` ↔ `--out-dir`). Every tool gets `--help` (`-h`) and `--quiet` (`-q`);
 * {@link SEED} and {@link OVERWRITE} are ready-made specs for the tools that need them.
 *
 * Bad input throws a {@link UsageError} (a LumenError naming the flag): one line, exit 2 when the
 * tool runs through `runTool` (lib/run/main.ts).
 *
 * @example
 * ```ts
 * import { defineTool, parseFlags, SEED } from "./flags.ts";
 * const meta = defineTool({
 *   name: "mask",
 *   summary: "finds stripe masks in a scan",
 *   permissions: ["--allow-read", "--allow-write=OUT"],
 *   args: [{ name: "SCAN", help: "NeXus scan" }],
 *   flags: {
 *     out: { type: "string", short: "o", arg: "OUT", help: "output file", required: true },
 *     rows: { type: "list", of: "int", help: "detector rows" },
 *     method: { type: "choice", choices: ["mean", "median"], default: "mean", help: "filter" },
 *     seed: SEED,
 *   },
 * });
 * const f = parseFlags(meta, ["scan.nxs", "-o", "m.h5", "--rows", "1,2"]);
 * f.out; // string
 * f.method; // "mean" | "median"
 * f.rows; // number[]
 * f._; // ["scan.nxs"]
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { LumenError } from "./errors.ts";
import { hasEmbeddedAssets } from "../wasm/load.ts";

/** A command-line mistake: unknown flag, bad value, missing argument. Tools exit 2 on it. */
export class UsageError extends LumenError {
  /** The exit status for usage errors. */
  readonly exitCode = 2;
  /**
   * @param flag the flag or argument at fault (`--rows`, `FILE`)
   * @param problem what is wrong, one line
   */
  constructor(flag: string, problem: string) {
    super(flag, "", problem);
    this.name = "UsageError";
  }
}

interface BaseFlag {
  /** One line for `--help`. */
  help: string;
  /** A one-letter alias: `-o` for `short: "o"`. */
  short?: string;
  /** Other long names (kebab-case, without `--`), e.g. the spellings of an original tool. */
  aliases?: readonly string[];
  /** The value's placeholder in `--help` (`OUT`, `N`); defaults from the type. */
  arg?: string;
  /** The tool cannot run without it. */
  required?: boolean;
  /**
   * Whether the flag belongs in the provenance record (default true). Set false for flags that
   * cannot change an artifact's bytes (verbosity, overwriting, thread counts…).
   */
  provenance?: boolean;
}

/** A free-form string. */
export interface StringFlag extends BaseFlag {
  type: "string";
  default?: string;
}
/** A finite decimal number (`1.5`, `-2e-3`). */
export interface NumberFlag extends BaseFlag {
  type: "number";
  default?: number;
  min?: number;
  max?: number;
}
/** A safe integer (`42`, `-3`). */
export interface IntFlag extends BaseFlag {
  type: "int";
  default?: number;
  min?: number;
  max?: number;
}
/** A switch: `--x` sets it, `--no-x` clears it. Absent means `default` (false). */
export interface BooleanFlag extends BaseFlag {
  type: "boolean";
  default?: boolean;
}
/** One of a fixed set of words. */
export interface ChoiceFlag extends BaseFlag {
  type: "choice";
  choices: readonly string[];
  default?: string;
}
/**
 * A list: comma-separated (`--rows 1,2,3`), repeated (`--rows 1 --rows 2`) or separated by spaces
 * as argparse's `nargs` takes them (`--rows 1 2 3`): the arguments that follow the flag are taken
 * while they are numbers (numeric lists), or up to the next flag (string lists of tools that have
 * no positional arguments).
 */
export interface ListFlag extends BaseFlag {
  type: "list";
  /** Element type (default "string"). */
  of?: "string" | "number" | "int";
  default?: readonly (string | number)[];
  min?: number;
  max?: number;
}

/** Any flag specification. */
export type FlagSpec = StringFlag | NumberFlag | IntFlag | BooleanFlag | ChoiceFlag | ListFlag;
/** A tool's flags by camelCase key. */
export type FlagSpecs = Record<string, FlagSpec>;

/** A positional argument. */
export interface ArgSpec {
  /** Placeholder in usage (`FILE`). */
  name: string;
  /** One line for `--help`. */
  help: string;
  /** May be left out (only trailing arguments). */
  optional?: boolean;
  /** Takes all remaining arguments (last one only). */
  variadic?: boolean;
}

/** How a tool describes itself. */
export interface ToolMeta<F extends FlagSpecs = FlagSpecs> {
  /** The tool's name (`inspect`); the prefix of its error lines. */
  name: string;
  /** One line: what the tool does. */
  summary: string;
  /** More paragraphs for `--help`. */
  description?: string;
  /** The exact `deno run` permission flags the tool needs, e.g. `["--allow-read"]`. */
  permissions: readonly string[];
  /**
   * The tool loads files that lie beside its code (`.wasm`, `.wgsl`, through lib/wasm/load.ts):
   * run by URL, it then also needs `--allow-net` for the host its code comes from (see
   * {@link permissionsHere}).
   */
  assets?: boolean;
  /** The deno.json task that runs the tool, when there is one. */
  task?: string;
  /** Positional arguments, in order. */
  args?: readonly ArgSpec[];
  /** The tool's own flags (`help` and `quiet` are added). */
  flags: F;
  /** Example command lines (arguments only) for `--help`. */
  examples?: readonly string[];
}

type ValueOf<S> = S extends { type: "boolean" } ? boolean
  : S extends { type: "number" | "int" } ? number
  : S extends { type: "choice"; choices: readonly (infer C)[] } ? C
  : S extends { type: "list"; of: "number" | "int" } ? number[]
  : S extends { type: "list" } ? string[]
  : string;
type AlwaysSet<S> = S extends { type: "boolean" | "list" } ? true
  : S extends { default: unknown } ? true
  : S extends { required: true } ? true
  : false;

/** The typed values of a tool's flags: flags with a default or `required` are never undefined. */
export type FlagValues<F extends FlagSpecs> = {
  -readonly [K in keyof F]: AlwaysSet<F[K]> extends true ? ValueOf<F[K]>
    : ValueOf<F[K]> | undefined;
};

/** What {@link parseFlags} returns: the tool's flags, the common ones and the positionals. */
export type Parsed<F extends FlagSpecs> = FlagValues<F> & {
  /** `--help` was given (nothing else was checked). */
  help: boolean;
  /** `--quiet`: no progress bars, no chatter on stderr. */
  quiet: boolean;
  /** Positional arguments. */
  _: string[];
};

/** `--seed N`: the random seed (default 0). The same seed gives byte-identical artifacts. */
export const SEED = {
  type: "int",
  default: 0,
  min: 0,
  arg: "N",
  help: "random seed; the same seed gives byte-identical outputs",
} as const satisfies IntFlag;

/** `--overwrite`: replace outputs that exist (without it, tools refuse). */
export const OVERWRITE = {
  type: "boolean",
  help: "replace outputs that already exist",
  provenance: false,
} as const satisfies BooleanFlag;

/**
 * `--backend`: where the engine computes (default auto: WebGPU on a real GPU, else native
 * oneDNN where `--allow-ffi` names libdnnl.so.2, else WASM on the CPU).
 */
export const BACKEND = {
  type: "choice",
  choices: ["auto", "wasm", "webgpu", "native"],
  default: "auto",
  help: "compute backend (auto: webgpu on a real GPU, else native oneDNN when run with " +
    "--allow-ffi=<libdnnl.so.2>, else wasm; webgpu also runs on llvmpipe)",
  provenance: false,
} as const satisfies ChoiceFlag;

/** `--threads N`: CPU threads of the wasm backend. */
export const THREADS = {
  type: "int",
  min: 1,
  help: "CPU threads (default: all cores)",
  provenance: false,
} as const satisfies IntFlag;

const COMMON: FlagSpecs = {
  help: { type: "boolean", short: "h", help: "print this help and exit", provenance: false },
  quiet: { type: "boolean", short: "q", help: "no progress bar or chatter", provenance: false },
};

/**
 * Checks a tool description and keeps literal types (choices) for {@link parseFlags}.
 * Throws (a programming error, not a UsageError) when it is inconsistent.
 */
export function defineTool<const F extends FlagSpecs>(meta: ToolMeta<F>): ToolMeta<F> {
  const shorts = new Set(["h", "q"]);
  for (const [key, spec] of Object.entries(meta.flags)) {
    if (key in COMMON) throw new Error(`${meta.name}: flag --${key} is predefined`);
    if (!/^[a-z][a-zA-Z0-9]*$/.test(key)) throw new Error(`${meta.name}: bad flag key ${key}`);
    for (const a of spec.aliases ?? []) {
      if (!/^[a-zA-Z][a-zA-Z0-9-]*$/.test(a)) throw new Error(`${meta.name}: bad alias --${a}`);
    }
    if (spec.short !== undefined) {
      if (!/^[a-zA-Z]$/.test(spec.short) || shorts.has(spec.short)) {
        throw new Error(`${meta.name}: short alias -${spec.short} is taken or invalid`);
      }
      shorts.add(spec.short);
    }
    if (
      spec.type === "choice" && spec.default !== undefined && !spec.choices.includes(spec.default)
    ) {
      throw new Error(`${meta.name}: default of --${kebab(key)} is not one of its choices`);
    }
  }
  const args = meta.args ?? [];
  args.forEach((a, i) => {
    if (a.variadic && i !== args.length - 1) throw new Error(`${meta.name}: ${a.name} not last`);
    if (!a.optional && i > 0 && args[i - 1].optional) {
      throw new Error(`${meta.name}: required ${a.name} after an optional argument`);
    }
  });
  return meta;
}

/** camelCase key → kebab-case flag name (`outDir` → `out-dir`). */
export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INT_RE = /^[+-]?\d+$/;

function parseScalar(
  flag: string,
  type: "string" | "number" | "int",
  raw: string,
  lim: { min?: number; max?: number },
): string | number {
  if (type === "string") return raw;
  const s = raw.trim();
  let v: number;
  if (type === "int") {
    v = Number(s);
    if (!INT_RE.test(s) || !Number.isSafeInteger(v)) {
      throw new UsageError(flag, `expected an integer, got "${raw}"`);
    }
  } else {
    v = Number(s);
    if (!NUMBER_RE.test(s) || !Number.isFinite(v)) {
      throw new UsageError(flag, `expected a number, got "${raw}"`);
    }
  }
  if (lim.min !== undefined && v < lim.min) {
    throw new UsageError(flag, `must be at least ${lim.min}, got ${raw}`);
  }
  if (lim.max !== undefined && v > lim.max) {
    throw new UsageError(flag, `must be at most ${lim.max}, got ${raw}`);
  }
  return v;
}

/**
 * Parses command-line arguments against a tool's description.
 *
 * With `--help` anywhere (before `--`), returns at once with `help: true` and nothing checked.
 * Throws {@link UsageError} for an unknown flag, a missing or malformed value, a missing required
 * flag or argument, or an unexpected argument.
 */
export function parseFlags<F extends FlagSpecs>(
  meta: ToolMeta<F>,
  argv: readonly string[],
): Parsed<F> {
  const specs: FlagSpecs = { ...COMMON, ...meta.flags };
  const byName = new Map<string, [string, FlagSpec]>();
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple: true }> =
    {};
  for (const [key, spec] of Object.entries(specs)) {
    const name = kebab(key);
    const type = spec.type === "boolean" ? "boolean" as const : "string" as const;
    byName.set(name, [key, spec]);
    options[name] = { type, multiple: true, ...(spec.short ? { short: spec.short } : {}) };
    for (const a of spec.aliases ?? []) {
      byName.set(a, [key, spec]);
      options[a] = { type, multiple: true };
    }
  }
  let tokens;
  try {
    ({ tokens } = parseArgs({
      args: [...argv],
      options,
      strict: false,
      allowPositionals: true,
      allowNegative: true,
      tokens: true,
    }));
  } catch (e) {
    // e.g. `--no-x` for a flag that is not a switch
    const flag = /'(-[^' ]+)'/.exec(String((e as Error).message))?.[1] ?? "argument";
    throw new UsageError(flag, "unknown flag; see --help");
  }

  // --help wins over everything else.
  for (const t of tokens) {
    if (t.kind === "option-terminator") break;
    if (t.kind === "option" && (t.name === "help" || t.name === "h") && t.value === undefined) {
      return { help: true, quiet: false, _: [] } as unknown as Parsed<F>;
    }
  }

  // key → [flag as typed, raw value] (booleans: "true"/"false")
  const raw = new Map<string, [string, string][]>();
  const positionals: string[] = [];
  // the list flag whose space-separated values may follow (argparse's nargs)
  let open: { values: [string, string][]; flag: string; numeric: boolean } | null = null;
  const takesSpaced = !(meta.args ?? []).length;
  for (const t of tokens) {
    if (t.kind === "positional") {
      if (open && (open.numeric ? NUMBER_RE.test(t.value.trim()) : takesSpaced)) {
        open.values.push([open.flag, t.value]);
      } else {
        open = null;
        positionals.push(t.value);
      }
      continue;
    }
    open = null;
    if (t.kind !== "option") continue;
    let name = t.name; // parseArgs already maps known short aliases to their long names

    let negated = false;
    if (
      !byName.has(name) && name.startsWith("no-") &&
      byName.get(name.slice(3))?.[1].type === "boolean"
    ) {
      name = name.slice(3);
      negated = true;
    }
    const entry = byName.get(name);
    if (!entry) {
      const hint = closest(name, [...byName.keys()]);
      throw new UsageError(
        t.rawName,
        `unknown flag${hint ? ` (did you mean --${hint}?)` : ""}; see --help`,
      );
    }
    const [key, spec] = entry;
    const list = raw.get(key) ?? [];
    raw.set(key, list);
    if (spec.type === "boolean") {
      if (t.value !== undefined) throw new UsageError(t.rawName, "takes no value");
      list.push([t.rawName, negated ? "false" : "true"]);
      continue;
    }
    const v = t.value;
    // parseArgs (non-strict) takes the next argument as the value even when it looks like a flag;
    // accept that only for numbers (`--shift -3`).
    if (
      v === undefined ||
      (!t.inlineValue && v.startsWith("-") && v.length > 1 && !NUMBER_RE.test(v))
    ) {
      throw new UsageError(t.rawName, `needs a value (${t.rawName}=${placeholder(spec)})`);
    }
    list.push([t.rawName, v]);
    if (spec.type === "list" && !t.inlineValue) {
      open = { values: list, flag: t.rawName, numeric: (spec.of ?? "string") !== "string" };
    }
  }

  const out: Record<string, unknown> = { _: positionals };
  for (const [key, spec] of Object.entries(specs)) {
    const given = raw.get(key);
    if (given === undefined || given.length === 0) {
      if (spec.required) throw new UsageError(`--${kebab(key)}`, "is required; see --help");
      if (spec.type === "boolean") out[key] = spec.default ?? false;
      else if (spec.type === "list") out[key] = spec.default ? [...spec.default] : [];
      else out[key] = spec.default;
      continue;
    }
    const [flag, last] = given[given.length - 1];
    const vals = given.map(([, v]) => v);
    switch (spec.type) {
      case "boolean":
        out[key] = last === "true";
        break;
      case "string":
        out[key] = last;
        break;
      case "number":
      case "int":
        out[key] = parseScalar(flag, spec.type, last, spec);
        break;
      case "choice":
        if (!spec.choices.includes(last)) {
          throw new UsageError(flag, `expected one of ${spec.choices.join(", ")}; got "${last}"`);
        }
        out[key] = last;
        break;
      case "list": {
        const items = vals.flatMap((v) => v.split(",")).map((s) => s.trim()).filter((s) =>
          s !== ""
        );
        out[key] = items.map((s) => parseScalar(flag, spec.of ?? "string", s, spec));
        break;
      }
    }
  }

  const args = meta.args ?? [];
  const minArgs = args.filter((a) => !a.optional).length;
  const maxArgs = args.some((a) => a.variadic) ? Infinity : args.length;
  if (positionals.length < minArgs) {
    throw new UsageError(args[positionals.length].name, "missing argument; see --help");
  }
  if (positionals.length > maxArgs) {
    throw new UsageError(positionals[maxArgs], "unexpected argument; see --help");
  }
  return out as Parsed<F>;
}

function placeholder(spec: FlagSpec): string {
  if (spec.arg) return spec.arg;
  switch (spec.type) {
    case "number":
      return "X";
    case "int":
      return "N";
    case "choice":
      return spec.choices.join("|");
    case "list":
      return spec.of === "number" ? "X,X…" : spec.of === "int" ? "N,N…" : "A,B…";
    default:
      return "VALUE";
  }
}

/** The nearest flag name within edit distance 2, for "did you mean". */
function closest(name: string, names: string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const n of names) {
    const d = editDistance(name, n);
    if (d < bestD) [best, bestD] = [n, d];
  }
  return best;
}

/** Edit distance counting a swap of neighbours as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => {
    const row = new Array<number>(b.length + 1).fill(0);
    row[0] = i;
    return row;
  });
  for (let j = 0; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/** How the running tool is named in usage lines: a path relative to the cwd, or its URL. */
function toolRef(name: string): string {
  try {
    const main = Deno.mainModule;
    if (main.startsWith("file:")) {
      const path = decodeURIComponent(new URL(main).pathname);
      let cwd = "";
      if (Deno.permissions.querySync({ name: "read" }).state === "granted") cwd = Deno.cwd();
      return cwd && path.startsWith(cwd + "/") ? path.slice(cwd.length + 1) : path;
    }
    return main;
  } catch {
    return `tools/${name}.ts`;
  }
}

/**
 * The permissions a tool needs where it runs now: its own ({@link ToolMeta.permissions}), plus
 * `--allow-net=HOST` for the server its code comes from when it runs by URL and loads files beside
 * its code (`assets`) that it does not carry itself (a bundle carries them).
 *
 * @example
 * ```ts
 * permissionsHere(meta, "https://example.org/lumen/tools/data_generator.ts");
 * // ["--allow-read", "--allow-write=ROOT", "--allow-net=example.org"]
 * ```
 */
export function permissionsHere(meta: ToolMeta, mainModule?: string): string[] {
  const perms = [...meta.permissions];
  let main = mainModule;
  if (main === undefined) {
    try {
      main = Deno.mainModule;
    } catch {
      main = "";
    }
  }
  if (meta.assets && /^https?:/.test(main) && !hasEmbeddedAssets()) {
    const host = new URL(main).host;
    if (!perms.some((p) => p === "--allow-net" || p === `--allow-net=${host}`)) {
      perms.push(`--allow-net=${host}`);
    }
  }
  return perms;
}

/** The `--help` text of a tool. */
export function usage(meta: ToolMeta): string {
  const specs: FlagSpecs = { ...meta.flags, ...COMMON };
  const args = meta.args ?? [];
  const synopsis = args.map((a) => {
    const s = a.variadic ? `${a.name}...` : a.name;
    return a.optional ? `[${s}]` : s;
  });
  const lines: string[] = [`${meta.name}: ${meta.summary}`, ""];
  const perms = permissionsHere(meta).join(" ");
  const tail = [...synopsis, "[options]"].join(" ");
  lines.push(`Usage: deno run ${perms ? perms + " " : ""}${toolRef(meta.name)} ${tail}`);
  if (meta.task) lines.push(`       deno task ${meta.task} ${tail}`);
  if (meta.description) lines.push("", ...meta.description.trim().split("\n"));
  const rows = (items: [string, string][]) => {
    const w = Math.min(30, Math.max(...items.map(([l]) => l.length)) + 2);
    return items.map(([l, h]) =>
      `  ${l.padEnd(w)}${l.length >= w ? "\n  " + " ".repeat(w) : ""}${h}`
    );
  };
  if (args.length) {
    lines.push("", "Arguments:");
    lines.push(...rows(args.map((a) => [a.name, a.help + (a.optional ? " (optional)" : "")])));
  }
  lines.push("", "Options:");
  lines.push(
    ...rows(
      Object.entries(specs).map(([key, spec]) => {
        const name = [kebab(key), ...(spec.aliases ?? [])].map((n) => `--${n}`).join(", ");
        let left = spec.short ? `-${spec.short}, ${name}` : `    ${name}`;
        if (spec.type !== "boolean") left += ` ${placeholder(spec)}`;
        const notes: string[] = [];
        if (spec.required) notes.push("required");
        if (spec.type === "list") notes.push("separated by commas or spaces, or repeated");
        if (spec.default !== undefined && !(spec.type === "boolean" && spec.default === false)) {
          const d = Array.isArray(spec.default) ? spec.default.join(",") : String(spec.default);
          notes.push(`default ${d}`);
        }
        if (spec.type === "boolean" && spec.default === true) {
          notes.push(`--no-${kebab(key)} to clear`);
        }
        return [left, spec.help + (notes.length ? ` (${notes.join("; ")})` : "")];
      }),
    ),
  );
  lines.push("", `Permissions: ${perms || "(none)"}`);
  if (meta.examples?.length) {
    lines.push("", "Examples:");
    for (const e of meta.examples) {
      lines.push(`  ${meta.task ? `deno task ${meta.task}` : meta.name} ${e}`);
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * The flags that belong in a provenance record: every flag whose spec does not say
 * `provenance: false` (so not `--help`, `--quiet`, `--overwrite`), with defaults filled in,
 * under its command-line name, plus the positionals under `_`. Two command lines that mean the
 * same thing (`--seed 1` and `--seed=1`) give the same record.
 */
export function provenanceArgs<F extends FlagSpecs>(
  meta: ToolMeta<F>,
  values: Parsed<F>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(meta.flags)) {
    if (spec.provenance === false) continue;
    const v = (values as Record<string, unknown>)[key];
    if (v !== undefined) out[kebab(key)] = v;
  }
  out._ = [...values._];
  return out;
}

/**
 * The command line that gives these values, for a report's footer: the tool's name, then every
 * flag whose value differs from its default (`--name value`, lists space-separated, switches
 * bare), then the positionals. Built from the parsed values, so it is right however the tool was
 * called (`runTool`, `callTool`, the demo).
 *
 * @example
 * ```ts
 * commandLine(meta, parseFlags(meta, ["-o", "m.h5", "--rows", "1,2"])); // "mask --out m.h5 --rows 1 2"
 * ```
 */
export function commandLine<F extends FlagSpecs>(meta: ToolMeta<F>, values: Parsed<F>): string {
  const parts = [meta.name];
  const v = values as Record<string, unknown>;
  for (const [key, spec] of Object.entries(meta.flags)) {
    const x = v[key];
    if (x === undefined || (spec.type !== "list" && x === spec.default)) continue;
    if (spec.type === "boolean") {
      if (x === true) parts.push(`--${kebab(key)}`);
      else if (spec.default === true) parts.push(`--no-${kebab(key)}`);
      continue;
    }
    if (Array.isArray(x)) {
      if (!x.length || JSON.stringify(x) === JSON.stringify(spec.default ?? [])) continue;
      parts.push(`--${kebab(key)}`, ...x.map(String));
    } else parts.push(`--${kebab(key)}`, String(x));
  }
  parts.push(...values._);
  return parts.map((p) => /^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, "'\\''")}'`).join(
    " ",
  );
}

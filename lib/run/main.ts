/**
 * The entry wrapper of every Lumen tool: parses flags, prints `--help`, runs the tool, and turns
 * any failure into the one-line error convention.
 *
 * - `--help`: usage (with the Deno permissions the tool needs) on stdout, exit 0.
 * - Bad flags ({@link UsageError}): `tool: error: --flag: problem` on stderr, exit 2.
 * - Any other error: `tool: error: file: place: problem` (or the error's message) on one line,
 *   exit 1. With the environment variable `LUMEN_DEBUG` set (and readable: `--allow-env`), the
 *   stack follows.
 * - SIGINT / SIGTERM: holds the work at its next safe point (lib/run/interrupt.ts), runs the
 *   clean-ups registered with {@link onAbort} (temporary files of atomic writes…), prints
 *   `tool: interrupted`, exits 130 / 143. A second signal exits at once.
 *
 * @example
 * ```ts
 * import { defineTool } from "./flags.ts";
 * import { runTool } from "./main.ts";
 * const meta = defineTool({
 *   name: "hello", summary: "greets", permissions: [],
 *   flags: { name: { type: "string", default: "world", help: "who" } },
 * });
 * if (import.meta.main) await runTool(meta, (f) => console.log(`hello ${f.name}`));
 * ```
 * @module
 */
import { dirname, resolve } from "node:path";
import { LumenError } from "./errors.ts";
import { type FlagSpecs, type Parsed, parseFlags, type ToolMeta, usage } from "./flags.ts";
import { requestStop } from "./interrupt.ts";

type Cleanup = () => void | Promise<void>;
const cleanups = new Set<Cleanup>();

/**
 * Registers a clean-up to run when the tool stops abnormally (signal, uncaught error). Returns a
 * function that unregisters it; call that once the work it guards is finished.
 */
export function onAbort(fn: Cleanup): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/** Runs and forgets every registered clean-up (each at most 5 s; failures ignored). */
async function runCleanups(): Promise<void> {
  const fns = [...cleanups].reverse();
  cleanups.clear();
  for (const fn of fns) {
    try {
      await Promise.race([fn(), new Promise((r) => setTimeout(r, 5000))]);
    } catch {
      // a clean-up that fails must not hide the original problem
    }
  }
}

/** Whether `LUMEN_DEBUG` is set, without prompting for permission. */
export function debugEnabled(): boolean {
  try {
    const st = Deno.permissions.querySync({ name: "env", variable: "LUMEN_DEBUG" }).state;
    return st === "granted" && !!Deno.env.get("LUMEN_DEBUG");
  } catch {
    return false;
  }
}

/**
 * The one line for a permission that is missing (`NotCapable`): what was refused, the flag that
 * grants it, and, for a write outside the scope a `deno task` grants, the direct `deno run`
 * command with that permission. Null for other errors.
 *
 * @example
 * ```ts
 * permissionLine(new Deno.errors.NotCapable('Requires write access to "/data/x.h5", run again with the --allow-write flag'), "tools/t.ts", ["--allow-read", "--allow-write=."], ["-o", "/data/x.h5"]);
 * // 'write access to "/data/x.h5" is not granted; add --allow-write=/data, e.g. deno run --allow-read --allow-write=/data tools/t.ts -o /data/x.h5'
 * ```
 */
export function permissionLine(
  err: unknown,
  tool: string,
  perms: readonly string[],
  argv: readonly string[],
): string | null {
  if (!(err instanceof Deno.errors.NotCapable) && !(err instanceof Deno.errors.PermissionDenied)) {
    return null;
  }
  const m = /Requires (\w+) access to "?([^",]+)"?/.exec((err as Error).message);
  if (!m) return null;
  const [, kind, what] = m;
  const flag = `--allow-${kind}`;
  let grant = flag;
  if (kind === "write" || kind === "read") grant = `${flag}=${dirname(resolve(what))}`;
  else if (kind === "env" || kind === "net" || kind === "run" || kind === "ffi") {
    grant = `${flag}=${what}`;
  }
  const kept = perms.filter((p) => !p.startsWith(`${flag}=`) && p !== flag);
  const cmd = ["deno run", ...kept, grant, tool, ...argv.map(shellWord)].join(" ");
  return `${kind} access to "${what}" is not granted; add ${grant}, e.g. ${cmd}`;
}

function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/** One line describing an error (collapses newlines; LumenError keeps its file: place: problem). */
export function errorLine(err: unknown): string {
  let msg: string;
  if (err instanceof Error) {
    msg = err.message || err.name;
    if (!(err instanceof LumenError) && err.name && !["Error", "LumenError"].includes(err.name)) {
      msg = `${err.name}: ${msg}`;
    }
  } else msg = String(err);
  return msg.replace(/\s*\n\s*/g, " ").trim();
}

/** Prints the one-line error of `tool` for `err` (and its stack under LUMEN_DEBUG). */
export function reportError(tool: string, err: unknown, meta?: ToolMeta): void {
  const perm = meta ? permissionLine(err, toolPath(meta), meta.permissions, Deno.args) : null;
  const text = `${tool}: error: ${perm ?? errorLine(err)}\n`;
  const stack = debugEnabled() && err instanceof Error && err.stack ? err.stack + "\n" : "";
  writeAllSync(Deno.stderr, new TextEncoder().encode(text + stack));
}

function writeAllSync(w: { writeSync(p: Uint8Array): number }, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += w.writeSync(data.subarray(off));
}

/** The running tool's path for a command line (relative to the cwd when inside it). */
function toolPath(meta: ToolMeta): string {
  try {
    const main = Deno.mainModule;
    if (!main.startsWith("file:")) return main;
    const p = decodeURIComponent(new URL(main).pathname);
    const cwd = Deno.cwd();
    return p.startsWith(cwd + "/") ? p.slice(cwd.length + 1) : p;
  } catch {
    return `tools/${meta.name}.ts`;
  }
}

/**
 * Under `deno task` the working directory is the repository's; the caller's folder is in
 * `INIT_CWD`. When that variable is readable (`--allow-env=INIT_CWD`, which the tasks grant),
 * the tool moves there, so that user paths resolve against the folder the user typed them in.
 *
 * @example
 * ```ts
 * enterCallerDir(); // cd "$INIT_CWD" when it is set, readable and a folder
 * ```
 */
export function enterCallerDir(): void {
  try {
    const st = Deno.permissions.querySync({ name: "env", variable: "INIT_CWD" }).state;
    if (st !== "granted") return;
    const dir = Deno.env.get("INIT_CWD");
    if (dir && dir !== Deno.cwd() && Deno.statSync(dir).isDirectory) Deno.chdir(dir);
  } catch {
    // not readable or gone: stay where deno task started
  }
}

/** The exit status for an error: a UsageError's 2, otherwise 1. */
function exitCodeOf(err: unknown): number {
  const c = (err as { exitCode?: unknown })?.exitCode;
  return typeof c === "number" && Number.isInteger(c) && c > 0 ? c : 1;
}

/**
 * Runs a tool: parses `argv` (default `Deno.args`) with `meta`, calls `body` with the typed flags,
 * and exits the process: with `body`'s return value (default 0), 0 after `--help`, 2 on bad
 * flags, 1 on any other error, 130/143 on SIGINT/SIGTERM. Never returns.
 */
export async function runTool<F extends FlagSpecs>(
  meta: ToolMeta<F>,
  body: (flags: Parsed<F>) => Promise<number | void> | number | void,
  argv: readonly string[] = Deno.args,
): Promise<never> {
  // Set once the tool is on its way out (signal or error): the first cause decides the exit.
  let stopping: Promise<never> | null = null;
  const onSignal = (sig: "SIGINT" | "SIGTERM") => () => {
    const code = sig === "SIGINT" ? 130 : 143;
    if (stopping) Deno.exit(code);
    requestStop();
    try {
      Deno.stderr.writeSync(new TextEncoder().encode(`\n${meta.name}: interrupted\n`));
    } catch { /* stderr closed */ }
    stopping = runCleanups().then(() => Deno.exit(code));
  };
  const listeners: [Deno.Signal, () => void][] = [];
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    try {
      const fn = onSignal(sig);
      Deno.addSignalListener(sig, fn);
      listeners.push([sig, fn]);
    } catch {
      // SIGTERM cannot be listened to on Windows
    }
  }
  const fail = (err: unknown): Promise<never> => {
    if (stopping) return stopping;
    reportError(meta.name, err, meta as unknown as ToolMeta);
    stopping = runCleanups().then(() => Deno.exit(exitCodeOf(err)));
    return stopping;
  };
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    fail(e.reason);
  });
  globalThis.addEventListener("error", (e) => {
    e.preventDefault();
    fail(e.error ?? e.message);
  });

  let code = 0;
  try {
    enterCallerDir();
    const flags = parseFlags(meta, argv);
    if (flags.help) {
      writeAllSync(Deno.stdout, new TextEncoder().encode(usage(meta as unknown as ToolMeta)));
    } else {
      code = (await body(flags)) ?? 0;
    }
  } catch (err) {
    await fail(err);
  }
  if (stopping) await stopping; // a signal arrived while the body ran: its handler decides
  for (const [sig, fn] of listeners) Deno.removeSignalListener(sig, fn);
  Deno.exit(code);
}

/**
 * Runs a tool's body in this process, as a library call: parses `argv` with `meta` and awaits
 * `body`. Errors are thrown, not printed, and the process is not exited, so a pipeline (the demo,
 * a test) can chain tools with one set of permissions.
 *
 * @example
 * ```ts
 * import { main as dataGenerator } from "../../tools/nostripesnet/data_generator.ts";
 * await dataGenerator(["--mode", "patch", "--root", "data", "--hdf-root", "scan.nxs"]);
 * ```
 */
export async function callTool<F extends FlagSpecs>(
  meta: ToolMeta<F>,
  body: (flags: Parsed<F>) => Promise<number | void> | number | void,
  argv: readonly string[],
): Promise<void> {
  const flags = parseFlags(meta, argv);
  if (flags.help) {
    writeAllSync(Deno.stdout, new TextEncoder().encode(usage(meta as unknown as ToolMeta)));
    return;
  }
  const code = (await body(flags)) ?? 0;
  if (code !== 0) throw new LumenError(meta.name, "", `exited with status ${code}`);
}

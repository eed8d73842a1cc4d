/**
 * `deno task bundle`: one self-contained JavaScript file per tool (`dist/<tool>.js`, e.g. `dist/nostripesnet/data_generator.js`), made with
 * `deno bundle` (esbuild, which Deno fetches from npm once; no other network). A bundle holds the
 * tool, the library, its npm packages (h5wasm carries its WebAssembly inside its JavaScript) and
 * Lumen's own `wasm/*.wasm` and `kernels/*.wgsl`, which lib/wasm/load.ts then takes from the
 * bundle instead of fetching them from beside the code. It runs with nothing but the `deno`
 * binary: no repository, no network, an empty DENO_DIR.
 *
 * ```sh
 * deno task bundle                          # every tool
 * deno task bundle inspect nostripesnet/data_generator   # or data-generator, data_generator
 * deno run --allow-read dist/inspect.js scan.nxs
 * ```
 *
 * @module
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Buffer } from "node:buffer";
import { defineTool, UsageError } from "../lib/run/flags.ts";
import { runTool } from "../lib/run/main.ts";
import { LumenError } from "../lib/run/errors.ts";
import { VERSION } from "../lib/version.ts";

/** The recipe's command line. */
export const meta = defineTool({
  name: "bundle",
  summary: "write one self-contained file per tool into dist/ (deno bundle)",
  permissions: ["--allow-read", "--allow-write=OUT", "--allow-run=deno"],
  task: "bundle",
  args: [{ name: "TOOL", help: "tools to bundle (default: all)", optional: true, variadic: true }],
  flags: {
    out: { type: "string", short: "o", default: "dist", arg: "OUT", help: "output folder" },
    check: { type: "boolean", default: true, help: "run each bundle's --help once it is written" },
  },
  examples: ["", "inspect data_generator", "inspect --out /tmp/lumen-dist"],
});

/**
 * The repository root (this file's parent folder).
 *
 * @example
 * ```ts
 * `${REPO}/tools/inspect.ts`;
 * ```
 */
export const REPO: string = dirname(dirname(fileURLToPath(import.meta.url)));

/**
 * The tools in `tools/`, as paths below it without `.ts`: the cross-pipeline tools at the top
 * (`inspect`, `demo`, …) and one folder per pipeline (`nostripesnet/train`, …); `_`-prefixed
 * helpers are left out.
 *
 * @example
 * ```ts
 * toolNames(); // ["demo", "inspect", "nostripesnet/apply_model", …]
 * ```
 */
export function toolNames(): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of Deno.readDirSync(`${REPO}/tools${rel ? `/${rel}` : ""}`)) {
      if (e.name.startsWith("_")) continue;
      const name = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory && !rel) walk(name);
      else if (e.isFile && e.name.endsWith(".ts")) out.push(name.slice(0, -3));
    }
  };
  walk("");
  return out.sort();
}

/** The tool file that a `deno task` runs (`tools/<id>.ts` in its command), if any. */
function taskTool(task: string): string | undefined {
  try {
    const cfg = JSON.parse(Deno.readTextFileSync(`${REPO}/deno.json`));
    const cmd = cfg.tasks?.[task];
    const m = typeof cmd === "string" ? /\btools\/([a-z0-9_/]+)\.ts\b/.exec(cmd) : null;
    return m?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Resolves what a user names a tool by: its path below `tools/` (`nostripesnet/data_generator`),
 * the `deno task` that runs it (`data-generator`), or its step name where only one pipeline has
 * it (`data_generator`). Throws a one-line UsageError otherwise.
 *
 * @example
 * ```ts
 * resolveTool("data-generator"); // "nostripesnet/data_generator"
 * ```
 */
export function resolveTool(name: string, have: string[] = toolNames()): string {
  if (have.includes(name)) return name;
  const viaTask = taskTool(name);
  if (viaTask && have.includes(viaTask)) return viaTask;
  const bySteps = have.filter((t) => t.endsWith(`/${name}`));
  if (bySteps.length === 1) return bySteps[0];
  const why = bySteps.length > 1 ? `ambiguous (${bySteps.join(", ")})` : "no such tool";
  throw new UsageError("TOOL", `${name}: ${why} (tools/ has: ${have.join(", ")})`);
}

/**
 * Resolves tool names (all tools when none is given) with {@link resolveTool}.
 *
 * @example
 * ```ts
 * checkTools(["inspect", "data-generator"]); // ["inspect", "nostripesnet/data_generator"]
 * ```
 */
export function checkTools(names: string[]): string[] {
  const have = toolNames();
  return names.length ? names.map((n) => resolveTool(n, have)) : have;
}

/**
 * The files beside the code that a bundle carries: `wasm/*.wasm` and `kernels/*.wgsl`.
 *
 * @example
 * ```ts
 * assetFiles(); // ["kernels/conv.wgsl", …, "wasm/tomo.wasm"]
 * ```
 */
export function assetFiles(): string[] {
  const out: string[] = [];
  for (const [dir, ext] of [["wasm", ".wasm"], ["kernels", ".wgsl"]]) {
    try {
      for (const e of Deno.readDirSync(`${REPO}/${dir}`)) {
        if (e.isFile && e.name.endsWith(ext)) out.push(`${dir}/${e.name}`);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return out.sort();
}

/**
 * The preamble that puts the assets (base64) in the global lib/wasm/load.ts reads
 * (`ASSETS_GLOBAL`, `Symbol.for("lumen.assets")`): one statement that runs before every module
 * of the bundle. Keys are `wasm/<name>.wasm`, `kernels/<name>.wgsl`, as `assetKey` makes them.
 *
 * @example
 * ```ts
 * const js = assetsPreamble(["wasm/tomo.wasm"]); // 'globalThis[Symbol.for("lumen.assets")] = {…};'
 * ```
 */
export function assetsPreamble(files: string[]): string {
  const entries = files.map((f) =>
    `  ${JSON.stringify(f)}: "${
      Buffer.from(Deno.readFileSync(`${REPO}/${f}`)).toString("base64")
    }",`
  );
  return `globalThis[Symbol.for("lumen.assets")] = {\n${entries.join("\n")}\n};\n`;
}

/**
 * Runs a command; returns its exit status and output.
 *
 * @example
 * ```ts
 * sh("deno", ["--version"]).out; // "deno 2.9.6 …"
 * ```
 */
export function sh(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): { code: number; out: string; err: string } {
  const r = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", ...opts })
    .outputSync();
  const d = new TextDecoder();
  return { code: r.code, out: d.decode(r.stdout), err: d.decode(r.stderr) };
}

/**
 * The line that says what went wrong in a command's output (for one-line errors).
 *
 * @example
 * ```ts
 * lastLine("Download …\nerror: Module not found\n"); // "Module not found"
 * ```
 */
export function lastLine(text: string): string {
  // deno-lint-ignore no-control-regex
  const lines = text.replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((l) => l.trim())
    .filter((l) => l && !/^(Stack backtrace|\d+: <unknown>)/.test(l));
  const err = lines.find((l) => /^error:/.test(l) || /: error: /.test(l));
  return (err ?? lines[lines.length - 1] ?? "failed").replace(/^error:\s*/, "");
}

/**
 * The git commit of the repository (read from .git, no git process), or "unknown".
 *
 * @example
 * ```ts
 * repoCommit(); // "36cee8fdc775e411de0b18d387c4a7e595f640f6"
 * ```
 */
export function repoCommit(): string {
  try {
    const head = Deno.readTextFileSync(`${REPO}/.git/HEAD`).trim();
    if (!head.startsWith("ref:")) return head;
    const ref = head.slice(4).trim();
    try {
      return Deno.readTextFileSync(`${REPO}/.git/${ref}`).trim();
    } catch {
      const packed = Deno.readTextFileSync(`${REPO}/.git/packed-refs`);
      return packed.split("\n").find((l) => l.endsWith(` ${ref}`))?.split(" ")[0] ?? "unknown";
    }
  } catch {
    return "unknown";
  }
}

/**
 * Bundles `tools/<tool>.ts` into `file` (written atomically) with a header (tool, version,
 * commit) and the assets preamble. The tool itself is the entry: `deno bundle` turns
 * `import.meta.main` into `false` in every other module.
 *
 * @example
 * ```ts
 * bundleOne("inspect", "/tmp/dist/inspect.js", assetsPreamble(assetFiles()));
 * ```
 */
export function bundleOne(tool: string, file: string, preamble: string): void {
  // deno bundle adds its `require` shim (for the npm packages' CommonJS) only to *.js outputs
  const tmp = file.replace(/(\.js)?$/, ".tmp.js");
  const r = sh("deno", [
    "bundle",
    "--quiet",
    "--platform",
    "deno",
    "-o",
    tmp,
    `tools/${tool}.ts`,
  ], { cwd: REPO });
  if (r.code !== 0) {
    try {
      Deno.removeSync(tmp);
    } catch { /* not written */ }
    throw new LumenError(`tools/${tool}.ts`, "deno bundle", lastLine(r.err + r.out));
  }
  const body = Deno.readTextFileSync(tmp);
  const header = `// Lumen ${VERSION} (commit ${repoCommit()}): tools/${tool}.ts in one file, ` +
    `made by \`deno task bundle\`.\n// Run: deno run <permissions> ${tool}.js --help\n`;
  Deno.writeTextFileSync(tmp, header + preamble + body);
  Deno.renameSync(tmp, file);
}

/**
 * Checks that a bundle starts and answers `--help` with nothing but itself (no remote modules,
 * no npm packages, no config); throws a one-line LumenError otherwise.
 *
 * @example
 * ```ts
 * checkBundle("/work/lumen/dist/inspect.js");
 * ```
 */
export function checkBundle(file: string): void {
  const r = sh("deno", [
    "run",
    "--quiet",
    "--no-remote",
    "--no-npm",
    "--no-config",
    "--no-prompt",
    file,
    "--help",
  ], { cwd: dirname(file) });
  if (r.code !== 0 || !r.out.includes("Usage: deno run")) {
    throw new LumenError(file, "--help", lastLine(r.err || r.out || `exit ${r.code}`));
  }
}

if (import.meta.main) {
  await runTool(meta, (f) => {
    const tools = checkTools(f._);
    const out = isAbsolute(f.out) ? f.out : resolve(f.out);
    Deno.mkdirSync(out, { recursive: true });
    const preamble = assetsPreamble(assetFiles());
    for (const tool of tools) {
      const file = `${out}/${tool}.js`;
      Deno.mkdirSync(dirname(file), { recursive: true });
      bundleOne(tool, file, preamble);
      if (f.check) checkBundle(file);
      const mib = (Deno.statSync(file).size / 2 ** 20).toFixed(1);
      if (!f.quiet) console.log(`${file}  ${mib} MiB`);
    }
  });
}

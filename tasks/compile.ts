/**
 * `deno task compile`: standalone binaries (`dist/bin/<tool>`) with `deno compile`, made from
 * the tools' bundles (tasks/bundle.ts), so they carry the same embedded `.wasm`/`.wgsl` files.
 *
 * `deno compile` needs `denort`, Deno's runtime without the CLI, of exactly this Deno version and
 * platform. It downloads it from dl.deno.land, which cannot be reached everywhere (not here);
 * then point `DENORT_BIN` at a local copy (`unzip denort-x86_64-unknown-linux-gnu.zip` from the
 * Deno release of the same version, fetched where the web is reachable). The plain `deno`
 * binary cannot stand in for it (its binaries answer as the Deno CLI; this task refuses it).
 *
 * A binary cannot be given permission flags when it runs, so it carries the tool's own, with
 * placeholder scopes (`--allow-write=ROOT`) widened to the whole permission (`--allow-write`).
 *
 * ```sh
 * DENORT_BIN=/opt/deno-2.9.6/denort deno task compile inspect data_generator
 * dist/bin/inspect scan.nxs
 * ```
 *
 * @module
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { Buffer } from "node:buffer";
import { defineTool, UsageError } from "../lib/run/flags.ts";
import { runTool } from "../lib/run/main.ts";
import { LumenError } from "../lib/run/errors.ts";
import { assetFiles, assetsPreamble, bundleOne, checkTools, lastLine, REPO, sh } from "./bundle.ts";

/** The task's command line. */
export const meta = defineTool({
  name: "compile",
  summary: "build standalone binaries of the tools into dist/bin/ (deno compile)",
  permissions: ["--allow-read", "--allow-write=OUT", "--allow-run=deno", "--allow-env=DENORT_BIN"],
  task: "compile",
  args: [{ name: "TOOL", help: "tools to compile (default: all)", optional: true, variadic: true }],
  flags: {
    out: { type: "string", short: "o", default: "dist", arg: "OUT", help: "output folder" },
    target: { type: "string", help: "deno compile --target (default: this machine's)" },
  },
  description: [
    "deno compile needs the denort runtime of this Deno version: set DENORT_BIN to a local copy",
    "where it cannot be downloaded (see README, Run anywhere).",
  ].join("\n"),
  examples: ["inspect data_generator"],
});

/**
 * A tool's permissions for a binary: placeholder scopes (`=ROOT`) widened to the whole flag.
 *
 * @example
 * ```ts
 * binaryPermissions(["--allow-read", "--allow-write=ROOT"]); // ["--allow-read", "--allow-write"]
 * ```
 */
export function binaryPermissions(perms: readonly string[]): string[] {
  return perms.map((p) => p.replace(/=[A-Z][A-Z_]*$/, ""));
}

/**
 * Why `DENORT_BIN` cannot serve, as one line, or null when it is unset or names a file that can.
 * The Deno CLI binary is refused: binaries built on it answer as the CLI, not as the tool.
 *
 * @example
 * ```ts
 * denortProblem("/nonexistent"); // "/nonexistent does not exist (…)"
 * ```
 */
export function denortProblem(denort: string | undefined): string | null {
  if (denort === undefined || denort === "") return null;
  let st: Deno.FileInfo;
  try {
    st = Deno.statSync(denort);
  } catch {
    return `${denort} does not exist (it must name the denort of Deno ${Deno.version.deno})`;
  }
  if (!st.isFile) return `${denort} is not a file`;
  if (st.mode !== null && (st.mode & 0o111) === 0) return `${denort} is not executable`;
  const bytes = Deno.readFileSync(denort);
  const has = (text: string) =>
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
      .includes(text);
  if (has("A modern JavaScript and TypeScript runtime") && has("Run a JavaScript or TypeScript")) {
    return `${denort} is the Deno CLI, not denort: binaries built on it answer as ` +
      "the CLI (take denort from denort-<target>.zip of the same Deno release)";
  }
  return null;
}

const UNAVAILABLE = `the denort runtime of Deno ${Deno.version.deno} is not available: ` +
  "deno compile could not download it; set DENORT_BIN to a local denort of that version " +
  "(README: Run anywhere)";

if (import.meta.main) {
  await runTool(meta, async (f) => {
    const tools = checkTools(f._);
    if (f.target && !/^[a-z0-9_-]+$/.test(f.target)) {
      throw new UsageError("--target", `${f.target}: not a target triple`);
    }
    const denort = Deno.env.get("DENORT_BIN");
    const problem = denortProblem(denort);
    if (problem) throw new LumenError("DENORT_BIN", "", problem);
    const out = isAbsolute(f.out) ? f.out : resolve(f.out);
    Deno.mkdirSync(`${out}/bin`, { recursive: true });
    const preamble = assetsPreamble(assetFiles());
    for (const tool of tools) {
      const js = `${out}/${tool}.js`;
      Deno.mkdirSync(dirname(js), { recursive: true });
      Deno.mkdirSync(dirname(`${out}/bin/${tool}`), { recursive: true });
      bundleOne(tool, js, preamble);
      const toolMeta = (await import(`${REPO}/tools/${tool}.ts`)).meta as {
        permissions: readonly string[];
      };
      const bin = `${out}/bin/${tool}`;
      const r = sh("deno", [
        "compile",
        "--quiet",
        "--no-config",
        ...(f.target ? ["--target", f.target] : []),
        ...binaryPermissions(toolMeta.permissions),
        "--output",
        bin,
        js,
      ], { cwd: out });
      if (r.code !== 0) {
        if (!denort && /denort/i.test(r.err)) {
          throw new LumenError(`tools/${tool}.ts`, "", UNAVAILABLE);
        }
        throw new LumenError("deno compile", tool, lastLine(r.err + r.out));
      }
      if (!f.quiet) console.log(`${bin}  ${(Deno.statSync(bin).size / 2 ** 20).toFixed(0)} MiB`);
    }
  });
}

/**
 * `deno task bench [NAME]`: runs every benchmark file in bench/ (each `bench/*.ts` except this one
 * and files starting with `_`), one after the other so that timings do not disturb each other,
 * and forwards their JSON lines to stdout.
 *
 * Each benchmark file is a script run as `deno run <permissions> bench/X.ts [NAME]`: it runs the
 * benchmarks whose name starts with NAME (all without it) and prints one JSON object per line per
 * result, at least `{"bench": "<name>", …}`. Lines that are not JSON objects go to stderr.
 *
 * A file's permissions are those of its first line of the form
 * `// bench-permissions: --allow-read --allow-run=/usr/bin/python3 …`, else
 * {@link DEFAULT_PERMISSIONS}. `-A`/`--allow-all` there is refused.
 *
 * @module
 */
import { defineTool } from "../lib/run/flags.ts";
import { runTool } from "../lib/run/main.ts";
import { LumenError } from "../lib/run/errors.ts";

/** Permissions of a benchmark file that names none. */
export const DEFAULT_PERMISSIONS: readonly string[] = [
  "--allow-read",
  "--allow-write=/tmp",
  "--allow-env",
  "--allow-run=/usr/bin/python3",
  "--allow-sys",
];

const HERE = decodeURIComponent(new URL(".", import.meta.url).pathname).replace(/\/$/, "");

/** The benchmark files, sorted. */
export function benchFiles(dir = HERE): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    if (e.isFile && e.name.endsWith(".ts") && e.name !== "main.ts" && !e.name.startsWith("_")) {
      out.push(`${dir}/${e.name}`);
    }
  }
  return out.sort();
}

/** The permissions declared by a benchmark file (see the module doc). */
export function benchPermissions(source: string, file = "bench"): string[] {
  const m = /^\/\/\s*bench-permissions:(.*)$/m.exec(source);
  if (!m) return [...DEFAULT_PERMISSIONS];
  const perms = m[1].trim().split(/\s+/).filter((p) => p);
  for (const p of perms) {
    if (p === "-A" || p === "--allow-all" || !p.startsWith("--allow-")) {
      throw new LumenError(file, "bench-permissions", `"${p}" is not a scoped --allow-… flag`);
    }
  }
  return perms;
}

/**
 * The deno to run benchmark files with: this process's own binary when `--allow-run` covers its
 * path, else `deno` from PATH (what `--allow-run=deno` grants).
 */
function denoBinary(): string {
  try {
    const exe = Deno.execPath();
    if (Deno.permissions.querySync({ name: "run", command: exe }).state === "granted") return exe;
  } catch { /* no permission to ask */ }
  return "deno";
}

const meta = defineTool({
  name: "bench",
  summary: "runs the benchmarks in bench/ and prints their JSON lines",
  permissions: ["--allow-read", "--allow-run=deno"],
  task: "bench",
  args: [{ name: "NAME", help: "run only benchmarks whose name starts with NAME", optional: true }],
  flags: {
    list: { type: "boolean", help: "list the benchmark files and their permissions, run nothing" },
  },
  description:
    `Benchmark files run one at a time; each gets NAME and decides which of its benchmarks
match. Output: one JSON object per line, at least {"bench": NAME, ...}.`,
});

if (import.meta.main) {
  await runTool(meta, async (f) => {
    const prefix = f._[0] ?? "";
    const files = benchFiles();
    let failed = 0;
    for (const file of files) {
      const rel = `bench/${file.slice(HERE.length + 1)}`;
      const perms = benchPermissions(await Deno.readTextFile(file), rel);
      if (f.list) {
        console.log(`${rel}  ${perms.join(" ")}`);
        continue;
      }
      let child: Deno.ChildProcess;
      try {
        child = new Deno.Command(denoBinary(), {
          args: ["run", "--quiet", ...perms, file, ...(prefix ? [prefix] : [])],
          stdout: "piped",
          stderr: "inherit",
          stdin: "null",
        }).spawn();
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) {
          throw new LumenError("deno", "", "not on PATH (run `npx -y deno@2.9.6 task bench`)");
        }
        throw e;
      }
      let rest = "";
      const dec = new TextDecoder();
      const forward = (line: string) => {
        if (!line.trim()) return;
        let obj: unknown;
        try {
          obj = JSON.parse(line);
        } catch { /* not JSON */ }
        if (obj && typeof obj === "object" && !Array.isArray(obj)) {
          const name = (obj as { bench?: unknown }).bench;
          if (typeof name === "string" && !name.startsWith(prefix)) return;
          console.log(JSON.stringify(obj));
        } else console.error(`${rel}: ${line}`);
      };
      for await (const chunk of child.stdout) {
        rest += dec.decode(chunk, { stream: true });
        const lines = rest.split("\n");
        rest = lines.pop()!;
        lines.forEach(forward);
      }
      forward(rest);
      const st = await child.status;
      if (!st.success) {
        console.error(`bench: ${rel} exited with ${st.code}`);
        failed++;
      }
    }
    if (failed) {
      throw new LumenError("bench", "", `${failed} of ${files.length} benchmark files failed`);
    }
  });
}

/**
 * Shared test helpers: where the real data lives, and running the Python reference
 * implementations (Debian's /usr/bin/python3 with numpy, h5py, tifffile, nibabel, torch, onnx,
 * scikit-image) to make fixtures and to check that files written here open there.
 *
 * Tests that need them skip with a clear message where they are absent.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";

/** The repository root. */
export const ROOT: string = fileURLToPath(new URL("../", import.meta.url)).replace(/\/$/, "");

/** `../shared/data` beside the repository, or null where it is absent (a user's fresh clone). */
export const SHARED_DATA: string | null = (() => {
  const p = `${ROOT}/../shared/data`;
  return existsSync(p) ? p : null;
})();

/** The reference Python (Debian's, which has the scientific packages). */
export const PYTHON = "/usr/bin/python3";

const pyModuleCache = new Map<string, boolean>();

/** True when `/usr/bin/python3` can import every module named. */
export function hasPython(...modules: string[]): boolean {
  const key = modules.join(",");
  const hit = pyModuleCache.get(key);
  if (hit !== undefined) return hit;
  let ok = false;
  try {
    const r = new Deno.Command(PYTHON, {
      args: ["-c", modules.map((m) => `import ${m}`).join("; ") || "pass"],
      stdout: "null",
      stderr: "null",
    }).outputSync();
    ok = r.success;
  } catch {
    ok = false;
  }
  pyModuleCache.set(key, ok);
  if (!ok) {
    console.warn(`skip: ${PYTHON} lacks ${modules.join(", ")} (apt-get install python3-…)`);
  }
  return ok;
}

/** True when ../shared/data exists; otherwise prints why the test is skipped. */
export function hasSharedData(): boolean {
  if (SHARED_DATA === null) {
    console.warn("skip: ../shared/data is absent (tests on real data need it beside the repo)");
    return false;
  }
  return true;
}

/**
 * Runs a Python script (path relative to the repo root, or `-c` code) with arguments and
 * returns its stdout; throws with stderr on failure.
 */
export function runPython(script: string, args: string[] = []): string {
  const argv = script.startsWith("-c ") ? ["-c", script.slice(3), ...args] : [
    `${ROOT}/${script}`,
    ...args,
  ];
  const r = new Deno.Command(PYTHON, { args: argv, stdout: "piped", stderr: "piped" })
    .outputSync();
  const out = new TextDecoder().decode(r.stdout);
  if (!r.success) {
    throw new Error(`python ${script} failed:\n${new TextDecoder().decode(r.stderr)}`);
  }
  return out;
}

/**
 * Makes fixtures once per script version: runs `tests/fixtures/<name>.py OUTDIR` into
 * `tests/fixtures/out/<name>/` unless that folder already holds the output of the same script
 * bytes. Returns the folder.
 */
export async function pyFixture(name: string): Promise<string> {
  const script = `tests/fixtures/${name}.py`;
  const src = await Deno.readFile(`${ROOT}/${script}`);
  const hash = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", src)))
    .map((b) => b.toString(16).padStart(2, "0")).join("").slice(0, 16);
  const dir = `${ROOT}/tests/fixtures/out/${name}`;
  const stamp = `${dir}/.stamp`;
  if (existsSync(stamp) && (await Deno.readTextFile(stamp)) === hash) return dir;
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  runPython(script, [dir]);
  await Deno.writeTextFile(stamp, hash);
  return dir;
}

/** Runs a Lumen tool (`tools/<name>.ts`) with the given deno permissions and arguments. */
export async function runTool(
  name: string,
  perms: string[],
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await new Deno.Command("deno", {
    args: ["run", "--quiet", ...perms, `${ROOT}/tools/${name}.ts`, ...args],
    stdout: "piped",
    stderr: "piped",
    cwd: opts.cwd,
    env: opts.env,
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

/**
 * data_generator's arguments for the small fixture scan (tests/fixtures/nsn_scan.py).
 *
 * @example
 * ```ts
 * generatorArgs("/tmp/fx"); // ["--mode", "patch", "--root", "out", …]
 * ```
 */
export function generatorArgs(fx: string, root = "out"): string[] {
  return [
    "--mode",
    "patch",
    "--root",
    root,
    "--hdf-root",
    `${fx}/scan.nxs`,
    "--mask",
    `${fx}/masks.npz`,
    "--patch-size",
    "20,32",
    "--chunk-size",
    "4",
  ];
}

/**
 * A patch dataset of the nsn_scan fixture (20×32 patches) in a new temporary folder, made by
 * data_generator. Returns the fixture folder and the dataset root.
 */
export async function nsnDataset(extra: string[] = []): Promise<{ fx: string; root: string }> {
  const fx = await pyFixture("nsn_scan");
  const root = await Deno.makeTempDir();
  const r = await runTool("nostripesnet/data_generator", ["--allow-read", "--allow-write=/tmp"], [
    ...generatorArgs(fx, root),
    "--quiet",
    ...extra,
  ]);
  if (r.code !== 0) throw new Error(`data_generator failed: ${r.stderr}`);
  return { fx, root };
}

/** What {@link interruptAt} saw. */
export interface Interrupted {
  /** The tool reached the safe point and was sent the signal there. */
  paused: boolean;
  /** Exit status. */
  code: number;
  stderr: string;
}

/**
 * Runs a tool with `LUMEN_PAUSE_AT=point` (lib/run/interrupt.ts), waits for the line saying it
 * paused at that safe point, sends `signal` and waits for the exit. No timing is involved: a tool
 * that ends before the point simply returns `paused: false`.
 *
 * @example
 * ```ts
 * const r = await interruptAt("nostripesnet/data_generator", PERMS, args, 3);
 * r.paused && r.code === 130;
 * ```
 */
export async function interruptAt(
  name: string,
  perms: string[],
  args: string[],
  point: number,
  signal: Deno.Signal = "SIGINT",
): Promise<Interrupted> {
  const child = new Deno.Command("deno", {
    args: [
      "run",
      "--quiet",
      ...perms,
      "--allow-env=LUMEN_PAUSE_AT",
      `${ROOT}/tools/${name}.ts`,
      ...args,
    ],
    env: { LUMEN_PAUSE_AT: String(point) },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const dec = new TextDecoder();
  let text = "", paused = false;
  const reader = child.stderr.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += dec.decode(value, { stream: true });
    if (!paused && text.includes(`lumen: paused at safe point ${point}\n`)) {
      paused = true;
      child.kill(signal);
    }
  }
  const { code } = await child.status;
  return { paused, code, stderr: text };
}

/**
 * Files under `dir` (relative, sorted) with their SHA-256, leaving out provenance sidecars
 * (they hold a creation time); hidden temporary files are listed like any other.
 *
 * @example
 * ```ts
 * assert.deepEqual(await treeHashes(a), await treeHashes(b));
 * ```
 */
export async function treeHashes(dir: string, rel = ""): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for (const e of [...Deno.readDirSync(`${dir}/${rel}`)].sort((a, b) => a.name < b.name ? -1 : 1)) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory) out.push([`${r}/`, ""], ...await treeHashes(dir, r));
    else if (!r.endsWith(".prov.json")) {
      const h = await crypto.subtle.digest("SHA-256", await Deno.readFile(`${dir}/${r}`));
      out.push([r, Array.from(new Uint8Array(h), (b) => b.toString(16).padStart(2, "0")).join("")]);
    }
  }
  return out;
}

/**
 * How many safe points a run of a tool passes (`LUMEN_PAUSE_AT=0` makes it say so at exit), so
 * that interrupt tests pick points inside the run whatever the readers' own safe points are.
 *
 * @example
 * ```ts
 * const n = await countSafePoints("nostripesnet/data_generator", PERMS, args);
 * ```
 */
export async function countSafePoints(
  name: string,
  perms: string[],
  args: string[],
): Promise<number> {
  const r = await runTool(name, [...perms, "--allow-env=LUMEN_PAUSE_AT"], args, {
    env: { LUMEN_PAUSE_AT: "0" },
  });
  if (r.code !== 0) throw new Error(`${name} failed: ${r.stderr}`);
  return Number(/lumen: (\d+) safe points/.exec(r.stderr)?.[1] ?? 0);
}

/**
 * train's arguments for the small test datasets: patch mode, batch 4, one thread, quiet, the
 * tiny preset unless another is named; `extra` (epochs, saving…) is appended.
 *
 * @example
 * ```ts
 * nsnTrainArgs(root, runs, ["--epochs", "2"]); // ["--mode", "patch", "--root", root, …, "--epochs", "2"]
 * ```
 */
export function nsnTrainArgs(
  root: string,
  dir: string,
  extra: string[] = [],
  o: { name?: string; preset?: string } = {},
): string[] {
  return [
    ...["--mode", "patch", "--root", root, "--save-dir", dir, "--name", o.name ?? "t"],
    ...["--preset", o.preset ?? "tiny", "-B", "4", "--threads", "1", "--quiet", ...extra],
  ];
}

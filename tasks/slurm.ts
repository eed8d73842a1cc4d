/**
 * SLURM recipe: writes and submits an `sbatch` job array that runs one Lumen step in N shards
 * (`--shard $SLURM_ARRAY_TASK_ID/N`), and a merge job (`--merge N`) that depends on it
 * (`afterok`, `--kill-on-invalid-dep=yes`: when a shard fails or is cancelled, the merge is
 * cancelled at once instead of waiting forever). `--dry-run` prints the two scripts and submits
 * nothing; `--wait` waits for the merge and fails (naming the shards that did not finish) when it
 * did not run. Rerunning the same command after a failure runs every array task again, and the
 * finished shards skip themselves (the step sees their manifests), so only what is missing is made.
 *
 * ```sh
 * deno task slurm data_generator --shards 8 --partition debug --time 01:00:00 --mem 8G --cpus 2 \
 *   -- --mode patch --root ./data --hdf-root scan.nxs --mask masks.npz
 * ```
 * The jobs run `deno run <the step's own permissions> tools/<step>.ts …` from this checkout (the
 * permissions' placeholders, such as `--allow-write=ROOT`, filled in from the step's own flags),
 * or a bundle made by `deno task bundle` with `--bundle dist/<step>.js`. The nodes must see the
 * same paths (a shared file system) and the `deno` binary given by `--deno` (default: this one).
 *
 * @module
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import {
  defineTool,
  type FlagSpecs,
  parseFlags,
  type ToolMeta,
  UsageError,
} from "../lib/run/flags.ts";
import { runTool } from "../lib/run/main.ts";
import { LumenError } from "../lib/run/errors.ts";
import { resolveTool } from "./bundle.ts";

/** The recipe's command line. */
export const meta = defineTool({
  name: "slurm",
  summary: "submit a Lumen step to SLURM as a sharded job array plus a dependent merge job",
  permissions: ["--allow-read", "--allow-write=SCRIPTS", "--allow-run=sbatch,sinfo,scontrol"],
  task: "slurm",
  args: [
    { name: "STEP", help: "the tool to run (a file name in tools/, e.g. data_generator)" },
    { name: "ARGS", help: "the tool's own arguments, after --", optional: true, variadic: true },
  ],
  flags: {
    shards: { type: "int", min: 1, max: 10000, default: 4, help: "number of shards (array tasks)" },
    partition: { type: "string", help: "SLURM partition (default: the cluster's default)" },
    time: { type: "string", default: "01:00:00", help: "time limit per shard (sbatch --time)" },
    mem: { type: "string", default: "4G", help: "memory per shard (sbatch --mem)" },
    cpus: { type: "int", min: 1, default: 2, help: "CPUs per shard (--cpus-per-task)" },
    gpus: { type: "int", min: 0, default: 0, help: "GPUs per shard (--gpus)" },
    bundle: { type: "string", help: "run this bundle (deno task bundle) instead of tools/STEP.ts" },
    deno: { type: "string", help: "the deno binary on the nodes (default: this one)" },
    scripts: {
      type: "string",
      default: "slurm_jobs",
      arg: "SCRIPTS",
      help: "folder for the scripts and the jobs' logs",
    },
    allow: {
      type: "list",
      help: "permission flags for the step (default: its own, placeholders filled from its flags)",
    },
    dryRun: { type: "boolean", help: "print the scripts, submit nothing" },
    wait: { type: "boolean", help: "wait for the merge job; fail if it did not run" },
  },
  examples: [
    "data_generator --shards 4 --partition debug -- --mode patch --root data --hdf-root s.nxs",
    "data_generator --shards 4 --dry-run -- --mode patch --root data --hdf-root s.nxs",
  ],
});

/** The repository root. */
const REPO = dirname(dirname(fileURLToPath(import.meta.url)));

/** Runs a SLURM command; a missing client is a one-line LumenError. */
function run(cmd: string, args: string[]): { ok: boolean; out: string; err: string } {
  let r: Deno.CommandOutput;
  try {
    r = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", stdin: "null" })
      .outputSync();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new LumenError(cmd, "", "not found: is the SLURM client installed on this node?");
    }
    throw e;
  }
  const d = new TextDecoder();
  return { ok: r.success, out: d.decode(r.stdout).trim(), err: d.decode(r.stderr).trim() };
}

/**
 * The partitions the cluster has (`sinfo`); SLURM marks the default one with `*`, removed here.
 *
 * @example
 * ```ts
 * partitions(); // ["debug"]
 * ```
 */
export function partitions(): string[] {
  const r = run("sinfo", ["-h", "-o", "%P"]);
  if (!r.ok) {
    throw new LumenError("sinfo", "", `${lastLine(r.err) || "failed"} (is slurmctld reachable?)`);
  }
  return r.out.split("\n").map((s) => s.trim().replace(/\*$/, "")).filter(Boolean);
}

function lastLine(text: string): string {
  return text.split("\n").map((l) => l.trim()).filter(Boolean).pop() ?? "";
}

/** Shell-quotes one word. */
function q(s: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** What the two job scripts need. */
export interface RecipeOptions {
  /** The step (tool name). */
  step: string;
  /** The step's own arguments (no --shard/--merge). */
  toolArgs: string[];
  /** Number of shards. */
  shards: number;
  /** sbatch --partition (none: the cluster's default). */
  partition?: string;
  /** sbatch --time. */
  time: string;
  /** sbatch --mem. */
  mem: string;
  /** sbatch --cpus-per-task. */
  cpus: number;
  /** sbatch --gpus (0: none). */
  gpus: number;
  /** The module the jobs run (tools/<step>.ts or a bundle), absolute. */
  program: string;
  /** The deno binary on the nodes. */
  deno: string;
  /** `deno run` permission flags for the step. */
  permissions: string[];
  /** The jobs' working directory. */
  workdir: string;
  /** Folder of the jobs' logs. */
  logs: string;
}

/**
 * The array script and the merge script for a step, as text.
 *
 * @example
 * ```ts
 * const { array, merge } = jobScripts({ step: "data_generator", toolArgs: [], shards: 2,
 *   time: "1:00:00", mem: "1G", cpus: 1, gpus: 0, program: "/lumen/tools/data_generator.ts",
 *   deno: "/usr/bin/deno", permissions: ["--allow-read"], workdir: "/data", logs: "/data/logs" });
 * ```
 */
export function jobScripts(o: RecipeOptions): { array: string; merge: string } {
  const head = (name: string, extra: string[]) =>
    [
      "#!/bin/bash",
      `#SBATCH --job-name=${q(name)}`,
      ...(o.partition ? [`#SBATCH --partition=${q(o.partition)}`] : []),
      `#SBATCH --time=${q(o.time)}`,
      `#SBATCH --mem=${q(o.mem)}`,
      `#SBATCH --cpus-per-task=${o.cpus}`,
      ...(o.gpus > 0 ? [`#SBATCH --gpus=${o.gpus}`] : []),
      ...extra,
      "set -euo pipefail",
      `cd ${q(o.workdir)}`,
    ].join("\n");
  const cmd = [o.deno, "run", "--quiet", "--no-prompt", ...o.permissions, o.program, ...o.toolArgs]
    .map(q).join(" ");
  const array = `${
    head(`lumen-${o.step}`, [
      `#SBATCH --array=0-${o.shards - 1}`,
      `#SBATCH --output=${q(`${o.logs}/${o.step}_%A_%a.out`)}`,
    ])
  }\nexec ${cmd} --shard "\${SLURM_ARRAY_TASK_ID}/${o.shards}"\n`;
  const merge = `${
    head(`lumen-${o.step}-merge`, [
      `#SBATCH --output=${q(`${o.logs}/${o.step}_merge_%j.out`)}`,
      "#SBATCH --kill-on-invalid-dep=yes",
      "# submitted with --dependency=afterok:<the array job>",
    ])
  }\nexec ${cmd} --merge ${o.shards}\n`;
  return { array, merge };
}

/**
 * The step's permissions for the jobs: its own (`meta.permissions`), with each placeholder scope
 * (`--allow-write=ROOT`) replaced by the absolute path given to the flag whose value it names
 * (`--root`, whose `arg` is `ROOT`), or its default; the working directory when no flag names it.
 *
 * @example
 * ```ts
 * stepPermissions(dataGeneratorMeta, ["--mode", "patch", "--root", "out"], "/scratch");
 * // ["--allow-read", "--allow-write=/scratch/out"]
 * ```
 */
export function stepPermissions(
  toolMeta: ToolMeta<FlagSpecs>,
  toolArgs: string[],
  cwd: string,
): string[] {
  let values: Record<string, unknown>;
  try {
    values = parseFlags(toolMeta, toolArgs) as Record<string, unknown>;
  } catch (e) {
    const err = e as LumenError;
    throw new UsageError("ARGS", `${toolMeta.name}: ${err.message}`);
  }
  return toolMeta.permissions.map((p) => {
    const m = /^(--allow-[a-z]+)=([A-Z][A-Z_]*)$/.exec(p);
    if (!m) return p;
    const key = Object.keys(toolMeta.flags).find((k) => toolMeta.flags[k].arg === m[2]);
    const v = key === undefined ? undefined : values[key];
    return `${m[1]}=${typeof v === "string" ? resolve(cwd, v) : cwd}`;
  });
}

/** A job's state (`scontrol show job`: COMPLETED, FAILED, CANCELLED…), or "" when unknown. */
function jobState(id: string): string {
  const r = run("scontrol", ["-o", "show", "job", id]);
  return r.ok ? /\bJobState=(\S+)/.exec(r.out)?.[1] ?? "" : "";
}

const ENDED = new Set([
  "COMPLETED",
  "FAILED",
  "CANCELLED",
  "TIMEOUT",
  "NODE_FAIL",
  "OUT_OF_MEMORY",
  "PREEMPTED",
  "BOOT_FAIL",
  "DEADLINE",
]);

/**
 * Waits until a job has ended (polling `scontrol` every 0.5 s, slowing to every 10 s) and returns
 * its final state ("" when SLURM no longer knows the job).
 */
async function waitFor(id: string): Promise<string> {
  let delay = 500;
  for (;;) {
    const state = jobState(id);
    if (state === "" || ENDED.has(state)) return state;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(10_000, Math.round(delay * 1.25));
  }
}

/**
 * Waits until every task of an array job has ended (so that a rerun cannot race a shard that is
 * still running) and returns the states by task index.
 */
async function waitForArray(arrayId: string): Promise<Map<number, string>> {
  let delay = 500;
  for (;;) {
    const states = new Map<number, string>();
    const r = run("scontrol", ["-o", "show", "job", arrayId]);
    if (r.ok) {
      for (const line of r.out.split("\n")) {
        const task = /\bArrayTaskId=(\S+)/.exec(line)?.[1];
        const state = /\bJobState=(\S+)/.exec(line)?.[1] ?? "";
        // a pending remainder reads ArrayTaskId=2-3 (or 2,4): one state for all of them
        for (const t of (task ?? "").split(",")) {
          const [a, b] = t.split("-").map(Number);
          if (Number.isInteger(a)) {
            for (let i = a; i <= (Number.isInteger(b) ? b : a); i++) states.set(i, state);
          }
        }
      }
    }
    if ([...states.values()].every((st) => ENDED.has(st))) return states;
    await new Promise((res) => setTimeout(res, delay));
    delay = Math.min(10_000, Math.round(delay * 1.25));
  }
}

/** The last line of a job's log, or "". */
function logTail(path: string): string {
  try {
    return lastLine(Deno.readTextFileSync(path));
  } catch {
    return "";
  }
}

function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text, { mode: 0o755 });
  renameSync(`${path}.tmp`, path);
}

if (import.meta.main) {
  await runTool(meta, async (f) => {
    const [named, ...toolArgs] = f._;
    if (!/^[a-z0-9_/-]+$/.test(named)) {
      throw new UsageError("STEP", `${named}: expected a tool name such as data_generator`);
    }
    const tool = resolveTool(named);
    const step = tool.replaceAll("/", "_");
    const stepFile = `${REPO}/tools/${tool}.ts`;
    if (!existsSync(stepFile)) throw new UsageError("STEP", `${named}: no such tool in tools/`);
    for (const a of toolArgs) {
      if (/^--(shard|merge)(=|$)/.test(a)) {
        throw new UsageError("ARGS", `${a}: the recipe adds --shard and --merge itself`);
      }
    }
    let toolMeta: ToolMeta<FlagSpecs>;
    try {
      toolMeta = (await import(stepFile)).meta;
    } catch (e) {
      throw new LumenError(
        `tools/${tool}.ts`,
        "",
        `cannot load the step (${(e as Error).message})`,
      );
    }
    if (!toolMeta?.flags?.shard || !toolMeta.flags.merge) {
      throw new UsageError("STEP", `${step} cannot be sharded (it has no --shard and --merge)`);
    }
    const cwd = Deno.cwd();
    const permissions = f.allow.length ? f.allow : stepPermissions(toolMeta, toolArgs, cwd);
    let program = stepFile;
    if (f.bundle) {
      program = resolve(f.bundle);
      if (!existsSync(program)) {
        throw new LumenError(f.bundle, "", "no such bundle (make it with deno task bundle)");
      }
    }
    const deno = f.deno ? resolve(f.deno) : Deno.execPath();
    if (!existsSync(deno)) throw new LumenError("--deno", deno, "no such file");
    const scripts = isAbsolute(f.scripts) ? f.scripts : resolve(f.scripts);
    const o: RecipeOptions = {
      step,
      toolArgs,
      shards: f.shards,
      partition: f.partition,
      time: f.time,
      mem: f.mem,
      cpus: f.cpus,
      gpus: f.gpus,
      program,
      deno,
      permissions,
      workdir: cwd,
      logs: `${scripts}/logs`,
    };
    const { array, merge } = jobScripts(o);
    const arrayPath = `${scripts}/${step}_array.sbatch`;
    const mergePath = `${scripts}/${step}_merge.sbatch`;
    if (f.dryRun) {
      console.log(`# ${arrayPath}\n${array}\n# ${mergePath}\n${merge}`);
      return;
    }
    if (f.partition) {
      const have = partitions();
      if (!have.includes(f.partition)) {
        throw new LumenError(
          "--partition",
          f.partition,
          `no such partition on this cluster (it has: ${
            have.join(", ") || "none"
          }); nothing submitted`,
        );
      }
    }
    mkdirSync(`${scripts}/logs`, { recursive: true });
    writeAtomic(arrayPath, array);
    writeAtomic(mergePath, merge);
    const a = run("sbatch", ["--parsable", arrayPath]);
    if (!a.ok) {
      throw new LumenError(
        "sbatch",
        arrayPath,
        `${lastLine(a.err) || "failed"}; nothing submitted`,
      );
    }
    const arrayId = a.out.split("\n").pop()!.split(";")[0];
    const m = run("sbatch", [
      "--parsable",
      "--kill-on-invalid-dep=yes",
      `--dependency=afterok:${arrayId}`,
      mergePath,
    ]);
    const mergeId = /^(\d+)/m.exec(m.out)?.[1] ?? "";
    if (!mergeId) {
      throw new LumenError(
        "sbatch",
        mergePath,
        `${lastLine(m.err) || "submission failed"}; array job ${arrayId} was submitted without ` +
          "its merge: rerun the same command once it has ended",
      );
    }
    if (f.wait) {
      // Polled here rather than with sbatch --wait, which polls slowly and exits 0 even when the
      // merge was cancelled.
      const state = await waitFor(mergeId);
      if (state !== "COMPLETED") {
        const failed = [...(await waitForArray(arrayId))].filter(([, st]) => st !== "COMPLETED")
          .sort(([x], [y]) => x - y).map(([i, st]) => `${i} ${st}`);
        const log = `${o.logs}/${step}_merge_${mergeId}.out`;
        const why = failed.length
          ? `the merge did not run: array job ${arrayId} shard${failed.length > 1 ? "s" : ""} ${
            failed.join(", ")
          }`
          : `the merge ended ${state || "unknown"}${logTail(log) ? ` (${logTail(log)})` : ""}`;
        throw new LumenError(
          mergePath,
          `job ${mergeId}`,
          `${why}: nothing merged; logs in ${o.logs}; rerun the same command to finish`,
        );
      }
    }
    console.log(JSON.stringify({ array: arrayId, merge: mergeId, shards: f.shards, scripts }));
  });
}

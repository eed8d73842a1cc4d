/**
 * SLURM recipe: writes and submits an `sbatch` job array that runs one Lumen step in N shards
 * (`--shard $SLURM_ARRAY_TASK_ID/N`), and a merge job that depends on it (`afterok`) and runs the
 * same step with `--merge N`. `--dry-run` prints the two scripts and submits nothing.
 *
 * ```sh
 * deno run --allow-read --allow-write --allow-run=sbatch,sinfo tasks/slurm.ts \
 *   data_generator --shards 8 --partition debug --time 01:00:00 --mem 8G --cpus 2 -- \
 *   --mode patch --root ./data --hdf-root scan.nxs --mask masks.npz
 * ```
 * The jobs run `deno run <the step's own permissions> tools/<step>.ts …` from this checkout, or a
 * bundle made by `deno task bundle` with `--bundle dist/<step>.js`.
 *
 * @module
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { defineTool } from "../lib/run/flags.ts";
import { runTool } from "../lib/run/main.ts";
import { LumenError } from "../lib/run/errors.ts";

/** The recipe's command line. */
export const meta = defineTool({
  name: "slurm",
  summary: "submit a Lumen step to SLURM as a sharded job array plus a dependent merge job",
  permissions: [
    "--allow-read",
    "--allow-write",
    "--allow-run=sbatch,sinfo",
    "--allow-env=SLURM_CONF",
  ],
  task: "slurm",
  args: [
    { name: "STEP", help: "the tool to run (a file name in tools/, e.g. data_generator)" },
    { name: "ARGS", help: "the tool's own arguments, after --", optional: true, variadic: true },
  ],
  flags: {
    shards: { type: "int", min: 1, default: 4, help: "number of shards (array tasks)" },
    partition: { type: "string", help: "SLURM partition (default: the cluster's default)" },
    time: { type: "string", default: "01:00:00", help: "time limit per shard (sbatch --time)" },
    mem: { type: "string", default: "4G", help: "memory per shard (sbatch --mem)" },
    cpus: { type: "int", min: 1, default: 2, help: "CPUs per shard (--cpus-per-task)" },
    gpus: { type: "int", min: 0, default: 0, help: "GPUs per shard (--gpus)" },
    bundle: { type: "string", help: "run this bundle (deno task bundle) instead of tools/STEP.ts" },
    deno: { type: "string", help: "the deno binary on the nodes (default: this one)" },
    scripts: { type: "string", default: "slurm_jobs", help: "folder for the scripts and logs" },
    allow: {
      type: "list",
      help: "permission flags for the step (default: the step's own, with placeholders = cwd)",
    },
    dryRun: { type: "boolean", help: "print the scripts, submit nothing" },
    wait: { type: "boolean", help: "wait for the merge job and fail if it fails" },
  },
  examples: [
    "data_generator --shards 4 --partition debug -- --mode patch --root data --hdf-root s.nxs",
  ],
});

const REPO = dirname(dirname(fileURLToPath(import.meta.url)));

function run(cmd: string, args: string[]): { ok: boolean; out: string; err: string } {
  let r: Deno.CommandOutput;
  try {
    r = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).outputSync();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new LumenError(cmd, "", "not found: is the SLURM client installed on this node?");
    }
    throw e;
  }
  const d = new TextDecoder();
  return { ok: r.success, out: d.decode(r.stdout).trim(), err: d.decode(r.stderr).trim() };
}

/** The partitions the cluster has (sinfo), default first marked by SLURM with `*`. */
export function partitions(): string[] {
  const r = run("sinfo", ["-h", "-o", "%P"]);
  if (!r.ok) throw new LumenError("sinfo", "", r.err || "failed: is slurmctld reachable?");
  return r.out.split("\n").map((s) => s.trim().replace(/\*$/, "")).filter(Boolean);
}

/** Shell-quotes one word. */
function q(s: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** What the two job scripts need. */
export interface RecipeOptions {
  step: string;
  toolArgs: string[];
  shards: number;
  partition?: string;
  time: string;
  mem: string;
  cpus: number;
  gpus: number;
  program: string;
  deno: string;
  permissions: string[];
  workdir: string;
  logs: string;
}

/**
 * The array script and the merge script for a step, as text.
 *
 * @example
 * ```ts
 * const { array, merge } = jobScripts({ step: "data_generator", toolArgs: [], shards: 2,
 *   time: "1:00:00", mem: "1G", cpus: 1, gpus: 0, program: "tools/data_generator.ts",
 *   deno: "deno", permissions: ["--allow-read"], workdir: ".", logs: "logs" });
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
  const cmd = [o.deno, "run", "--quiet", ...o.permissions, o.program, ...o.toolArgs].map(q)
    .join(" ");
  const array = `${
    head(`lumen-${o.step}`, [
      `#SBATCH --array=0-${o.shards - 1}`,
      `#SBATCH --output=${q(`${o.logs}/${o.step}_%A_%a.out`)}`,
    ])
  }\nexec ${cmd} --quiet --shard "\${SLURM_ARRAY_TASK_ID}/${o.shards}"\n`;
  const merge = `${
    head(`lumen-${o.step}-merge`, [`#SBATCH --output=${q(`${o.logs}/${o.step}_merge_%j.out`)}`])
  }\nexec ${cmd} --quiet --merge ${o.shards}\n`;
  return { array, merge };
}

function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text, { mode: 0o755 });
  renameSync(`${path}.tmp`, path);
}

if (import.meta.main) {
  await runTool(meta, async (f) => {
    const [step, ...toolArgs] = f._;
    if (!/^[a-z0-9_]+$/.test(step)) {
      throw new LumenError("STEP", step, "expected a tool name such as data_generator");
    }
    const program = f.bundle ? resolve(f.bundle) : `${REPO}/tools/${step}.ts`;
    let permissions: string[];
    if (f.allow && f.allow.length) {
      permissions = f.allow;
    } else {
      let toolMeta: { permissions: readonly string[] };
      try {
        toolMeta = (await import(`${REPO}/tools/${step}.ts`)).meta;
      } catch (e) {
        throw new LumenError(
          `tools/${step}.ts`,
          "",
          `cannot load the step (${(e as Error).message})`,
        );
      }
      permissions = toolMeta.permissions.map((p) =>
        p.replace(/=([A-Z][A-Z_]*)$/, `=${Deno.cwd()}`)
      );
    }
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
      deno: f.deno ?? Deno.execPath(),
      permissions,
      workdir: Deno.cwd(),
      logs: `${scripts}/logs`,
    };
    const { array, merge } = jobScripts(o);
    if (f.dryRun) {
      console.log(
        `# ${scripts}/${step}_array.sbatch\n${array}\n# ${scripts}/${step}_merge.sbatch\n${merge}`,
      );
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
    writeAtomic(`${scripts}/${step}_array.sbatch`, array);
    writeAtomic(`${scripts}/${step}_merge.sbatch`, merge);
    const a = run("sbatch", ["--parsable", `${scripts}/${step}_array.sbatch`]);
    if (!a.ok) throw new LumenError("sbatch", `${step}_array.sbatch`, a.err || "submission failed");
    const arrayId = a.out.split(";")[0];
    // A merge whose shards failed is cancelled at once (kill-on-invalid-dep), never left pending.
    const m = run("sbatch", [
      "--parsable",
      "--kill-on-invalid-dep=yes",
      `--dependency=afterok:${arrayId}`,
      ...(f.wait ? ["--wait"] : []),
      `${scripts}/${step}_merge.sbatch`,
    ]);
    const mergeId = m.out.split("\n")[0].split(";")[0];
    if (!m.ok) {
      throw new LumenError(
        `${scripts}/${step}_merge.sbatch`,
        mergeId ? `job ${mergeId}` : "",
        f.wait && mergeId
          ? `the merge did not complete (a shard failed or the merge found a missing shard; see ${scripts}/logs): nothing merged`
          : m.err || "submission failed",
      );
    }
    console.log(JSON.stringify({ array: arrayId, merge: mergeId, shards: f.shards, scripts }));
  });
}

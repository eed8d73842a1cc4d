/**
 * `train`: trains a SEAMLeSS alignment pyramid on gen_stack stacks with the original's command
 * line (`train.py [--param VALUE …] EXPERIMENT_NAME`: `--mask_smooth_radius` or
 * `--mask-smooth-radius`). Writes
 * `out/<name>/` (args.json, args.txt, `<name>.log`, report.html, checkpoints) and `pt/<name>`;
 * refuses a name already used unless `--overwrite`, resumes a killed run.
 *
 * @module
 */
import {
  BACKEND,
  commandLine,
  defineTool,
  OVERWRITE,
  type Parsed,
  provenanceArgs,
  SEED,
  THREADS,
} from "../../lib/run/flags.ts";
import { callTool, runTool } from "../../lib/run/main.ts";
import { makeProvenance } from "../../lib/run/provenance.ts";
import { initEngine } from "../../lib/tensor/engine.ts";
import { originalFlags } from "../../lib/pipelines/seamless/flags.ts";
import { TRAIN_FLAGS, trainArgsOf } from "../../lib/pipelines/seamless/train_flags.ts";
import { trainRun, type TrainRunResult } from "../../lib/pipelines/seamless/train_run.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "seamless/train",
  summary: "train a SEAMLeSS pyramid (out/<name>/, pt/<name>); a used name is refused",
  permissions: ["--allow-read", "--allow-write=DIR"],
  args: [{ name: "EXPERIMENT_NAME", help: "run name (out/<name>/, pt/<name>)" }],
  flags: { ...TRAIN_FLAGS, seed: SEED, overwrite: OVERWRITE, backend: BACKEND, threads: THREADS },
  examples: [
    "--stack basil_v0_train_mip5.h5 --size 8 --lambda1 2 --lambda2 0.04 --lambda3 0 --lambda4 5 " +
    "--lambda5 0 --mask_smooth_radius 75 --mask_neighborhood_radius 75 --lr 0.0003 --trunc 0 " +
    "--padding 0 --lambda6 1 --epochs 10 fine_tune_example",
  ],
});

type Flags = Parsed<typeof meta.flags>;

/** Runs the tool. */
export async function train(f: Flags): Promise<TrainRunResult> {
  const args = trainArgsOf(f);
  await initEngine({ backend: f.backend, threads: f.threads });
  const provenance = await makeProvenance({
    tool: meta.name,
    args: provenanceArgs(meta, f),
    seed: f.seed,
    inputs: [
      f.stack,
      ...(f.stateArchive ? [`${f.stateArchive.replace(/\.(json|pt)$/, "")}.json`] : []),
    ],
  });
  return await trainRun({
    name: String(f._[0]),
    root: f.root,
    stack: f.stack,
    epochs: f.epochs,
    seed: f.seed,
    k: f.k,
    trainSize: f.trainSize,
    pe: f.pe,
    upsampleAlignCorners: f.upsampleAlignCorners,
    stateArchive: f.stateArchive ?? null,
    overwrite: f.overwrite,
    checkpointSteps: f.checkpointTime,
    provenance,
    commandLine: commandLine(meta, f),
    args,
    onRecord: f.quiet ? undefined : (r) => {
      if (r.event === "epoch") {
        console.error(
          `epoch ${r.epoch}: total ${r.train_total} error ${r.train_error} penalty ${r.train_penalty}`,
        );
      }
    },
  });
}

/** Runs the tool in this process (errors are thrown). */
export const main = (argv: readonly string[]): Promise<void> =>
  callTool(meta, async (f) => {
    await train(f);
  }, originalFlags(argv));

if (import.meta.main) {
  await runTool(meta, async (f) => {
    const r = await train(f);
    console.log(`${r.pt}.json, ${r.report}`);
  }, originalFlags(Deno.args));
}

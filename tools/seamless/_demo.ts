/**
 * The SEAMLeSS demo, end to end on generated EM-like stacks (CloudVolume is not reachable):
 *
 * 1. writes synthetic training stacks (membranes, known smooth deformations, a crack with its
 *    ternary mask) as a gen_stack file;
 * 2. trains a small pyramid with the original's penalties in its fine-tuning mode (all levels,
 *    lr × 0.2, as the README's `--trunc 0 --fine_tuning` example);
 * 3. aligns a fresh synthetic stack section by section and scores it: residual displacement
 *    against the known field, and the chunked Pearson correlation before and after;
 * 4. writes an HTML page with the figures and links the training report.
 *
 * @example
 * ```ts
 * import { runDemo } from "./_demo.ts";
 * const r = await runDemo("demo_out/seamless", { quiet: true, seed: 0 });
 * console.log(r.index);
 * ```
 * @module
 */
import type { DemoResult } from "../../lib/run/demo.ts";
import { makeProvenance } from "../../lib/run/provenance.ts";
import { closeEngine, initEngine } from "../../lib/tensor/engine.ts";
import { alignStack } from "../../lib/pipelines/seamless/align.ts";
import { synthStack, writeSynthStacks } from "../../lib/pipelines/seamless/synth.ts";
import { scoreSynthetic } from "../../lib/pipelines/seamless/synth_score.ts";
import { writeDemoPage } from "../../lib/pipelines/seamless/demo_report.ts";
import { TRAIN_DEFAULTS } from "../../lib/pipelines/seamless/trainer.ts";
import { trainRun } from "../../lib/pipelines/seamless/train_run.ts";

const DIM = 32, SHIFT = 2, PADDING = 4, STACKS = 24, DEPTH = 10, EPOCHS = 6, LR = 0.01;
/** Cell diameter (px): at 8 px a 32 px section holds enough membranes to fix its shift. */
const CELL = 8;
/** Adam's β2: 0.99 adapts the step to the shrinking gradients faster than 0.999. */
const BETA2 = 0.99;
/** The lr × 0.3 from epoch 4 and again from epoch 5: the field settles instead of wandering. */
const MILESTONES = [4, 5], GAMMA = 0.3;
/** Levels: at 32 px a third level (9 px) learned nothing of the shift. */
const SIZE = 2;

/** Runs the demo into `out` (created; it should not hold an earlier run). */
export async function runDemo(
  out: string,
  f: { quiet: boolean; seed: number; threads?: number; epochs?: number },
): Promise<DemoResult> {
  const t0 = performance.now();
  const say = (s: string) => {
    if (!f.quiet) {
      console.log(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${s}`);
    }
  };
  Deno.mkdirSync(out, { recursive: true });
  // At 32 px the convolutions are too small for a second thread to pay: one thread gives the
  // same bytes for about half the CPU time (the pool's threads spin while they wait).
  await initEngine({ backend: "wasm", threads: f.threads ?? 1 });
  try {
    return await demoSteps(out, f, say);
  } finally {
    closeEngine();
  }
}

async function demoSteps(
  out: string,
  f: { quiet: boolean; seed: number; epochs?: number },
  say: (s: string) => void,
): Promise<DemoResult> {
  say(
    `1/4 synthetic EM stacks (${STACKS} × ${DEPTH} sections, ${DIM} px, ${CELL} px cells, a crack in section 2)`,
  );
  const stackPath = `${out}/synth_train_mip0.h5`;
  await writeSynthStacks(stackPath, STACKS, {
    depth: DEPTH,
    dim: DIM,
    cracks: [2],
    seed: f.seed,
    maxShift: SHIFT,
    cell: CELL,
  });
  // Six passes over the stacks: 1152 pair steps (two passes: residual ≈ 40 %, four ≈ 30 %).
  const epochs = f.epochs ?? EPOCHS;
  say(`2/4 train (size ${SIZE}, k 3, all levels fine-tuned from the start, ${epochs} epochs)`);
  const args = {
    ...TRAIN_DEFAULTS,
    size: SIZE,
    trunc: 0,
    fine_tuning: true,
    fall_time: 1000,
    padding: PADDING,
    lr: LR,
    lambda1: 0.1,
    lambda2: 0.04,
    lambda3: 0,
    lambda4: 5,
    lambda5: 0,
    lambda6: 0,
    mask_smooth_radius: 2,
    mask_neighborhood_radius: 3,
    adam_beta2: BETA2,
    lr_milestones: MILESTONES,
    lr_gamma: GAMMA,
  };
  const provenance = await makeProvenance({ tool: "seamless/_demo", args, seed: f.seed });
  const run = await trainRun({
    name: "demo",
    root: out,
    stack: stackPath,
    args,
    epochs,
    seed: f.seed,
    k: 3,
    pe: false,
    trainSize: DIM,
    checkpointSteps: 0,
    provenance,
    commandLine:
      `seamless-train --stack synth_train_mip0.h5 --epochs ${epochs} --size ${SIZE} --k 3 --trunc 0 --fine_tuning --fall_time 1000 ` +
      `--padding ${PADDING} --lr ${LR} --lambda2 0.04 --lambda3 0 --lambda4 5 --lambda5 0 --lambda6 0 --adam_beta2 ${BETA2} ` +
      `--lr_milestones ${MILESTONES.join(",")} --lr_gamma ${GAMMA} demo`,
  });
  say("3/4 align fresh stacks (3 × 6 sections) and score them");
  const tests = [101, 102, 103].map((k) =>
    synthStack({ depth: 6, dim: DIM, seed: f.seed + k, maxShift: SHIFT, cell: CELL })
  );
  const test = tests[0];
  const aligned = await alignStack(run.net, test.sections, { chunk: 8, padding: PADDING });
  // Each section against its raw neighbour: the network's own field, scored against the truth.
  const r = await scoreSynthetic(run.net, tests, PADDING, SHIFT + 3);
  const ratio = r.residual / r.unaligned;
  say("4/4 report");
  const index = `${out}/seamless_demo.html`;
  const cpc = await writeDemoPage(index, test, aligned, r, { epochs, shift: SHIFT });
  return {
    index,
    summary: [
      `trained pt: ${run.pt}.json (${run.last.total?.toPrecision(3)} final total)`,
      `residual displacement ${r.residual.toFixed(3)} px vs ${
        r.unaligned.toFixed(3)
      } px unaligned (${(100 * ratio).toFixed(0)} %)`,
      `chunked Pearson ${cpc.before.toFixed(3)} → ${cpc.after.toFixed(3)}`,
      `report: ${index}`,
    ],
  };
}

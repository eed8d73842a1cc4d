/**
 * Evaluating a patch model on the test split (NoStripesNet's `network.testing`): batches through
 * the generator in eval mode (dropout off; batch norm on the batch's statistics, as the
 * original's layers keep none), the original's metrics per batch, pooled RMSE in uint16 units
 * for the model, the stripe input and Vo's sorting, and the discriminator's accuracy.
 *
 * @example
 * ```ts
 * import { evaluatePatchModel } from "./evaluate.ts";
 * const r = await evaluatePatchModel({ gen, disc, set, batchSize: 16, metrics: selectMetrics("all") });
 * r.rmse.rows; // [stripe (input), Vo sorting, model]
 * ```
 * @module
 */
import { noGrad, resetArena } from "../../tensor/tensor.ts";
import { cat } from "../../tensor/ops/mod.ts";
import { safePoint } from "../../run/interrupt.ts";
import type { Progress } from "../../run/progress.ts";
import { removeStripeBasedSorting } from "../../tomo/vo_sorting.ts";
import { figurePng, type Panel } from "../../viz/figure.ts";
import type { PatchDiscriminator } from "./patch_discriminator.ts";
import type { PatchUNet } from "./patch_unet.ts";
import type { PatchBatch, PatchSet } from "./patch_loader.ts";
import { inpaint } from "./model.ts";
import {
  discriminatorAccuracy,
  type NsnMetricInfo,
  NsnMetricsAccumulator,
  RmseAccumulator,
  stripeRegion,
} from "./metrics.ts";
import { finiteOrNull, type NsnTestResult, rmseRow } from "./test_result.ts";

/** Host arrays of one batch through the networks. */
export interface BatchOutputs {
  clean: Float32Array;
  stripe: Float32Array;
  /** The generator's inpainting. */
  out: Float32Array;
  /** Discriminator logits on (mask, output) and (mask, clean), when there is one. */
  fake?: Float32Array;
  real?: Float32Array;
}

/**
 * One batch through the generator (and the discriminator), without gradients.
 *
 * @example
 * ```ts
 * const r = await batchOutputs(gen, disc, batch);
 * ```
 */
export async function batchOutputs(
  gen: PatchUNet,
  disc: PatchDiscriminator | null,
  b: PatchBatch,
): Promise<BatchOutputs> {
  const clean = await b.clean.data(), stripe = await b.stripe.data();
  return await noGrad(async () => {
    const fakeB = inpaint(gen, b.stripe, b.mask);
    const out = await fakeB.data();
    let fake: Float32Array | undefined, real: Float32Array | undefined;
    if (disc) {
      fake = await disc.forward(cat([b.mask, fakeB], 1)).data();
      real = await disc.forward(cat([b.mask, b.clean], 1)).data();
    }
    resetArena(fakeB.backend);
    return { clean, stripe, out, fake, real };
  });
}

/** Options of {@link evaluatePatchModel}. */
export interface EvaluateOptions {
  gen: PatchUNet;
  disc: PatchDiscriminator | null;
  set: PatchSet;
  batchSize: number;
  metrics: readonly NsnMetricInfo[];
  /** RMSE rows for the stripe input and Vo's sorting too (default true). */
  baselines?: boolean;
  /** Vo's window (default 31, the paper's). */
  voSize?: number;
  bar?: Progress;
  /** Called after each batch with its number (1-based), its outputs and the running means. */
  onBatch?: (i: number, r: BatchOutputs, means: Record<string, number>, acc: number[]) => void;
}

/**
 * The original's console lines of a test run as an `onBatch` callback: the batch number with
 * `verbose`, the running means and the discriminator accuracy with `eachBatch`.
 *
 * @example
 * ```ts
 * await evaluatePatchModel({ ...o, onBatch: batchPrinter(10, { verbose: true, eachBatch: false }) });
 * ```
 */
export function batchPrinter(
  nBatches: number,
  o: { verbose: boolean; eachBatch: boolean },
): NonNullable<EvaluateOptions["onBatch"]> {
  return (i, r, means, [total, fake, real]) => {
    if (o.verbose) console.log(`\tBatch [${i}/${nBatches}]`);
    if (!o.eachBatch) return;
    for (const k of Object.keys(means)) console.log(`\t\t${k.padEnd(23)}: ${means[k]}`);
    if (r.fake) {
      console.log(`\t\tDiscriminator Accuracy - Total: ${total}, Fake: ${fake}, Real: ${real}`);
    }
  };
}

/** The measured part of a test result. */
export type Evaluation = Pick<
  NsnTestResult,
  "batches" | "metrics" | "perBatch" | "discriminatorAccuracy" | "rmse"
>;

/**
 * Runs the test set through the model and measures it (see the module doc). Each batch is a
 * safe point.
 *
 * @example
 * ```ts
 * const e = await evaluatePatchModel({ gen: net.gen, disc: null, set, batchSize: 4, metrics: [] });
 * ```
 */
export async function evaluatePatchModel(o: EvaluateOptions): Promise<Evaluation> {
  o.gen.eval();
  o.disc?.eval();
  const acc = new NsnMetricsAccumulator(o.metrics);
  const rm = {
    model: new RmseAccumulator(),
    input: new RmseAccumulator(),
    vo: new RmseAccumulator(),
  };
  const accs = { total: [] as number[], fake: [] as number[], real: [] as number[] };
  const baselines = o.baselines ?? true;
  let i = 0;
  for await (const b of o.set.batches(o.batchSize)) {
    i++;
    const r = await batchOutputs(o.gen, o.disc, b);
    const [n, , h, w] = b.stripe.shape;
    if (o.metrics.length) acc.addBatch(r.clean, r.out, [n, h, w]);
    const region = stripeRegion(r.clean, r.stripe);
    rm.model.add(r.clean, r.out, region);
    if (baselines) {
      rm.input.add(r.clean, r.stripe, region);
      const hw = h * w, vo = new Float32Array(n * hw);
      const size = o.voSize ?? 31;
      for (let j = 0; j < n; j++) {
        vo.set(
          removeStripeBasedSorting(r.stripe.subarray(j * hw, (j + 1) * hw), h, w, { size }),
          j * hw,
        );
      }
      rm.vo.add(r.clean, vo, region);
    }
    if (r.fake && r.real) {
      const fa = discriminatorAccuracy(r.fake, 0), ra = discriminatorAccuracy(r.real, 1);
      accs.fake.push(fa);
      accs.real.push(ra);
      accs.total.push((fa + ra) / 2);
    }
    o.onBatch?.(i, r, acc.means(), [
      accs.total.at(-1) ?? NaN,
      accs.fake.at(-1) ?? NaN,
      accs.real.at(-1) ?? NaN,
    ]);
    o.bar?.tick();
    await safePoint();
  }
  const mean = (xs: number[]) => finiteOrNull(xs.reduce((a, v) => a + v, 0) / xs.length);
  const means = acc.means();
  const modelRmse = rm.model.result();
  return {
    batches: acc.batches || i,
    metrics: o.metrics.map((m) => ({
      index: m.index,
      name: m.name,
      label: m.label,
      value: finiteOrNull(means[m.name]),
    })),
    perBatch: Object.fromEntries(
      Object.entries(acc.perBatch).map(([k, v]) => [k, v.map(finiteOrNull)]),
    ),
    discriminatorAccuracy: accs.total.length
      ? { total: mean(accs.total), fake: mean(accs.fake), real: mean(accs.real) }
      : null,
    rmse: {
      units: "uint16",
      rows: [
        ...(baselines
          ? [rmseRow("stripe (input)", rm.input.result()), rmseRow("Vo sorting", rm.vo.result())]
          : []),
        rmseRow("model", modelRmse),
      ],
      pixels: modelRmse.pixels,
    },
  };
}

/**
 * A PNG of the first test batch: stripe input, model output and clean patch for up to 4 pairs
 * (`test --visual-only`).
 *
 * @example
 * ```ts
 * const png = await firstBatchFigure(gen, set, 16, "patch_100: first test batch");
 * ```
 */
export async function firstBatchFigure(
  gen: PatchUNet,
  set: PatchSet,
  batchSize: number,
  title: string,
): Promise<Uint8Array> {
  gen.eval();
  for await (const b of set.batches(batchSize)) {
    const r = await batchOutputs(gen, null, b);
    const [n, , h, w] = b.stripe.shape;
    const hw = h * w, panels: Panel[] = [];
    const size = [Math.min(h, 2 * Math.min(w, 256)), Math.min(w, 256)] as const;
    for (let i = 0; i < Math.min(n, 4); i++) {
      const sl = (a: Float32Array) => a.subarray(i * hw, (i + 1) * hw);
      for (
        const [t, a] of [["stripe", r.stripe], ["model output", r.out], ["clean", r.clean]] as const
      ) {
        panels.push({ data: sl(a), shape: [h, w], title: t, range: [-1, 1], size });
      }
    }
    return figurePng(panels, { columns: 3, title });
  }
  throw new Error("firstBatchFigure: the test set is empty");
}

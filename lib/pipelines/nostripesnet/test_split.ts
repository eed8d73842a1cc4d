/**
 * The test split a NoStripesNet checkpoint was trained with: the ratios and seed its training
 * recorded (or `--tvt` for an original `.tar`, which records none), cut by the same seeded
 * shuffle as training, so `test` and `visualize` look at patches training never saw.
 *
 * @example
 * ```ts
 * import { trainedTestSplit } from "./test_split.ts";
 * const { tvt, test } = trainedTestSplit(120, [], net.data); // tvt [3, 1, 1], 24 indices
 * ```
 * @module
 */
import { LumenError } from "../../run/errors.ts";
import type { TrainingData } from "./model.ts";
import { splitPairs } from "./patch_loader.ts";

/**
 * Indices of the test pairs among `n` pairs for a model trained on `data` (`tvt` overrides the
 * recorded ratios when it has 3 values; 3:1:1 and seed 0 when neither says).
 *
 * @example
 * ```ts
 * trainedTestSplit(10, [8, 1, 1], null).test.length; // 1
 * ```
 */
export function trainedTestSplit(
  n: number,
  tvt: readonly number[],
  data: TrainingData | null,
): { tvt: [number, number, number]; test: number[] } {
  const r = tvt.length ? tvt : data?.tvt ?? [3, 1, 1];
  if (r.length !== 3) throw new LumenError("--tvt", r.join(","), "expected 3 ratios");
  const ratios: [number, number, number] = [r[0], r[1], r[2]];
  return { tvt: ratios, test: splitPairs(n, ratios, data?.splitSeed ?? 0).test };
}

/**
 * Whether a Lumen checkpoint (`<base>.json` beside its `.safetensors`) holds a discriminator;
 * false when the record cannot be read.
 *
 * @example
 * ```ts
 * if (await checkpointHasDisc("runs/patch_10.json")) console.log("discriminator accuracy");
 * ```
 */
export async function checkpointHasDisc(path: string): Promise<boolean> {
  try {
    const rec = JSON.parse(
      await Deno.readTextFile(path.replace(/\.(optim\.)?safetensors$/, ".json")),
    );
    return !!rec?.modules?.disc;
  } catch {
    return false;
  }
}

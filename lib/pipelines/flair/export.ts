/**
 * ONNX export of Flair Visibility fold models: each fold's best checkpoint (by the original's
 * checkpoint metric, the mean of the visible and not-visible Dice, unless told otherwise)
 * becomes `model<k+1>.onnx` with input `modelInput` (N, 2, 7, 256, 256), output `modelOutput`
 * (N, 3, 256, 256) and a dynamic batch axis N; the file's metadata names the fold, epoch and
 * size. {@link onnxParity} runs a model in onnxruntime-web and in the engine on the same input.
 *
 * @example
 * ```ts
 * import { exportFold } from "./export.ts";
 * const r = await exportFold("saved_models", "FVV", 0, "saved_models_ONNX");
 * console.log(r.path); // saved_models_ONNX/model1.onnx
 * ```
 * @module
 */
import { join } from "node:path";
import { noGrad, resetArena, tensor } from "../../tensor/tensor.ts";
import { loadCheckpoint, readCheckpointRecord } from "../../nn/checkpoint.ts";
import { exportOnnx } from "../../nn/onnx_export.ts";
import { OnnxInference } from "../../nn/onnx_runtime.ts";
import { writeFileAtomic } from "../../run/atomic.ts";
import { LumenError } from "../../run/errors.ts";
import { CHANNELS, FlairUNet, OUTPUTS, STACK } from "./model.ts";
import { SLICE } from "./slices.ts";

/** ONNX input and output names (the original's). */
export const ONNX_INPUT = "modelInput";
export const ONNX_OUTPUT = "modelOutput";

/** What {@link exportFold} wrote. */
export interface ExportedFold {
  kfold: number;
  path: string;
  checkpoint: string;
  epoch: number;
  metric: string;
  value: number;
}

/**
 * Loads a FlairUNet checkpoint (its size from the record).
 *
 * @example
 * ```ts
 * import { loadFlairNet } from "./export.ts";
 * const net = await loadFlairNet("saved_models/FVV-k0-epoch12");
 * ```
 */
export async function loadFlairNet(path: string): Promise<FlairUNet> {
  const rec = await readCheckpointRecord(path);
  const cfg = rec.modules.net?.config as { width?: number; depth?: number } | undefined;
  if (!cfg?.width || !cfg?.depth) {
    throw new LumenError(`${path}.json`, "modules.net", "not a Flair Visibility checkpoint");
  }
  const net = new FlairUNet({ width: cfg.width, depth: cfg.depth });
  await loadCheckpoint(path, { modules: { net } });
  net.eval();
  return net;
}

/**
 * Exports fold `k`'s best checkpoint of run `name` in `models` to `<out>/model<k+1>.onnx`.
 *
 * @example
 * ```ts
 * import { exportFold } from "./export.ts";
 * await exportFold("saved_models", "FVV", 2, "saved_models_ONNX", "kappa");
 * ```
 */
export async function exportFold(
  models: string,
  name: string,
  k: number,
  out: string,
  metric = "visDice",
): Promise<ExportedFold> {
  const bestPath = join(models, `${name}-k${k}.best.json`);
  let best: Record<string, { value: number; epoch: number; path: string }>;
  try {
    best = JSON.parse(await Deno.readTextFile(bestPath)).best;
  } catch {
    throw new LumenError(bestPath, "", `missing: fold ${k} of run ${name} was not trained`);
  }
  const b = best[metric] ?? best.diceMean;
  if (!b) throw new LumenError(bestPath, metric, "no checkpoint recorded");
  const ckpt = join(models, b.path.slice(b.path.lastIndexOf("/") + 1));
  const net = await loadFlairNet(ckpt);
  const bytes = await exportOnnx(net, {
    inputShape: [CHANNELS, STACK, SLICE, SLICE],
    outputShape: [OUTPUTS, SLICE, SLICE],
    inputName: ONNX_INPUT,
    outputName: ONNX_OUTPUT,
    docString: "Flair Visibility 2.5D U-Net: [brain mask, stroke, visible] logits",
    metadata: {
      kfold: String(k),
      epoch: String(b.epoch),
      metric,
      width: String(net.width),
      depth: String(net.depth),
    },
  });
  await Deno.mkdir(out, { recursive: true });
  const path = join(out, `model${k + 1}.onnx`);
  await writeFileAtomic(path, bytes, { overwrite: true });
  return { kfold: k, path, checkpoint: ckpt, epoch: b.epoch, metric, value: b.value };
}

/**
 * The largest |ORT − engine| over the outputs for input `x` (N, 2, 7, 256, 256).
 *
 * @example
 * ```ts
 * import { onnxParity } from "./export.ts";
 * const d = await onnxParity("saved_models_ONNX/model1.onnx", net, x, 2);
 * ```
 */
export async function onnxParity(
  onnx: string | Uint8Array,
  net: FlairUNet,
  x: Float32Array,
  n: number,
): Promise<number> {
  const shape = [n, CHANNELS, STACK, SLICE, SLICE];
  net.eval();
  const engine = await noGrad(() => net.forward(tensor(x, shape))).data();
  resetArena();
  const s = await OnnxInference.create(onnx, { provider: "wasm", threads: 1 });
  try {
    const y = (await s.run({ [ONNX_INPUT]: { dtype: "float32", shape, data: x } })).get(
      ONNX_OUTPUT,
    )!;
    let d = 0;
    const a = y.data as Float32Array;
    for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - engine[i]));
    return d;
  } finally {
    await s.release();
  }
}

/**
 * NoStripesNet's patch model as one unit: the generator (PatchUNet) and discriminator
 * (PatchDiscriminator) with presets (the paper's architecture, and a small one for CPU demos),
 * built with NoStripesNet's initialisation from a seed, and loaded from a Lumen checkpoint or an
 * original `torch.save` `.tar` (keys `gen_state_dict`, `disc_state_dict`).
 *
 * @example
 * ```ts
 * import { buildNoStripesNet, loadNoStripesNet } from "./model.ts";
 * const { gen, disc } = buildNoStripesNet({ preset: "small" }, 0);
 * const loaded = await loadNoStripesNet("runs/demo_3.json"); // or an original .tar
 * ```
 * @module
 */
import { LumenError } from "../../run/errors.ts";
import { checkpointBase, loadWeights, readCheckpointRecord } from "../../nn/checkpoint.ts";
import { InitRng } from "../../nn/init.ts";
import { initNoStripesNet, PatchUNet } from "./patch_unet.ts";
import { PatchDiscriminator } from "./patch_discriminator.ts";
import { extractPatch, insertPatch, nanRange, type PatchGrid } from "../../data/patches.ts";
import { noGrad, resetArena, type Tensor, tensor } from "../../tensor/tensor.ts";
import { add, mul, where } from "../../tensor/ops/mod.ts";

/** Architecture sizes. */
export interface NoStripesNetConfig {
  /** First-level filters and levels of the generator (paper: 64, 8). */
  genWidth: number;
  genDepth: number;
  /** First-block filters and blocks of the discriminator (paper: 64, 7). */
  discWidth: number;
  discDepth: number;
}

/** The presets: `paper` is NoStripesNet's architecture (54.4 M + 15.4 M parameters). */
export const NSN_PRESETS: Record<"paper" | "small" | "tiny", NoStripesNetConfig> = {
  paper: { genWidth: 64, genDepth: 8, discWidth: 64, discDepth: 7 },
  small: { genWidth: 16, genDepth: 6, discWidth: 16, discDepth: 4 },
  tiny: { genWidth: 4, genDepth: 3, discWidth: 4, discDepth: 2 },
};

/** A preset name plus optional overrides. */
export interface NoStripesNetSpec extends Partial<NoStripesNetConfig> {
  preset?: keyof typeof NSN_PRESETS;
}

/** The generator and discriminator. */
export interface NoStripesNet {
  gen: PatchUNet;
  disc: PatchDiscriminator;
  config: NoStripesNetConfig;
}

/** Resolves a spec to sizes. */
export function nsnConfig(spec: NoStripesNetSpec = {}): NoStripesNetConfig {
  const base = NSN_PRESETS[spec.preset ?? "paper"];
  if (!base) {
    throw new LumenError("--preset", String(spec.preset), "unknown preset (paper, small, tiny)");
  }
  return {
    genWidth: spec.genWidth ?? base.genWidth,
    genDepth: spec.genDepth ?? base.genDepth,
    discWidth: spec.discWidth ?? base.discWidth,
    discDepth: spec.discDepth ?? base.discDepth,
  };
}

/**
 * The preset's depths reduced to what a patch size allows: every generator level halves the
 * patch (needs min(H, W) ≥ 2^genDepth), the discriminator halves it once more after its blocks
 * (min(H, W) ≥ 2^(discDepth+1)). At 1801×256 the paper's depths (8, 7) fit exactly; at DIAD's 26
 * columns they become (4, 3). Returns the config and the names of the depths it lowered.
 *
 * @example
 * ```ts
 * fitToPatch(NSN_PRESETS.small, [3001, 26]).config; // { genWidth: 16, genDepth: 4, discWidth: 16, discDepth: 3 }
 * ```
 */
export function fitToPatch(
  config: NoStripesNetConfig,
  patch: readonly [number, number],
): { config: NoStripesNetConfig; lowered: string[] } {
  const levels = Math.floor(Math.log2(Math.min(patch[0], patch[1])));
  if (levels < 2) {
    throw new LumenError(
      "--patch-size",
      patch.join(","),
      "patches narrower than 4 pixels cannot be halved twice by the generator",
    );
  }
  const out = { ...config };
  const lowered: string[] = [];
  if (out.genDepth > levels) {
    out.genDepth = levels;
    lowered.push(`generator depth ${config.genDepth} → ${levels}`);
  }
  if (out.discDepth > levels - 1) {
    out.discDepth = levels - 1;
    lowered.push(`discriminator depth ${config.discDepth} → ${levels - 1}`);
  }
  return { config: out, lowered };
}

/**
 * Builds both networks with NoStripesNet's initialisation (conv weights N(0, 0.02), BN weights
 * N(1, 0.02)) drawn from `seed`: the same seed gives the same weights on every backend.
 */
export function buildNoStripesNet(spec: NoStripesNetSpec = {}, seed = 0): NoStripesNet {
  const config = nsnConfig(spec);
  const gen = new PatchUNet({ width: config.genWidth, depth: config.genDepth });
  const disc = new PatchDiscriminator({ width: config.discWidth, depth: config.discDepth });
  const rng = new InitRng(seed);
  initNoStripesNet(gen, rng);
  initNoStripesNet(disc, rng);
  return { gen, disc, config };
}

/** True for the files `torch.save` writes (zip or legacy pickle). */
async function isTorchFile(path: string): Promise<boolean> {
  const f = await Deno.open(path).catch(() => null);
  if (!f) return false;
  try {
    const head = new Uint8Array(2);
    await f.read(head);
    return (head[0] === 0x50 && head[1] === 0x4b) || head[0] === 0x80;
  } finally {
    f.close();
  }
}

/** What a Lumen checkpoint records of the data it was trained on. */
export interface TrainingData {
  /** Patch (height, width) of the training pairs. */
  patchSize: [number, number];
  /** The train/validate/test ratio. */
  tvt: [number, number, number];
  /** Seed of the split's shuffle. */
  splitSeed: number;
  /** Pairs in the dataset. */
  pairs: number;
}

/** A loaded model: the networks, the epoch, where it came from, its training data (Lumen's). */
export type LoadedNoStripesNet = NoStripesNet & {
  epoch: number | null;
  source: "lumen" | "torch";
  /** Null for an original `.tar`, which does not record it. */
  data: TrainingData | null;
};

/**
 * Loads NoStripesNet from a Lumen checkpoint (`<base>.json`, or its `.safetensors`) written by
 * `train`, or from an original NoStripesNet `.tar` (then the architecture is `spec`, the paper's
 * by default). Throws a LumenError naming the file when it holds another kind of model.
 */
export async function loadNoStripesNet(
  path: string,
  spec: NoStripesNetSpec = {},
): Promise<LoadedNoStripesNet> {
  if (/\.(tar|pt|pth)$/.test(path) || (!path.endsWith(".json") && await isTorchFile(path))) {
    const net = buildNoStripesNet(spec, 0);
    await loadWeights(net.gen, path, { key: "gen_state_dict" });
    await loadWeights(net.disc, path, { key: "disc_state_dict" });
    return { ...net, epoch: null, source: "torch", data: null };
  }
  const rec = await readCheckpointRecord(path);
  const g = rec.modules.gen?.config, d = rec.modules.disc?.config;
  if (!g || g.type !== "PatchUNet" || (d && d.type !== "PatchDiscriminator")) {
    const kinds = Object.entries(rec.modules).map(([k, m]) => `${k}: ${m.config.type}`).join(", ");
    throw new LumenError(
      `${checkpointBase(path)}.json`,
      "modules",
      `holds ${
        kinds || "no modules"
      }, not a NoStripesNet patch model (gen: PatchUNet, disc: PatchDiscriminator)`,
    );
  }
  const config: NoStripesNetConfig = {
    genWidth: g.width as number,
    genDepth: g.depth as number,
    discWidth: (d?.width as number) ?? NSN_PRESETS.paper.discWidth,
    discDepth: (d?.depth as number) ?? NSN_PRESETS.paper.discDepth,
  };
  const net = buildNoStripesNet(config, 0);
  const w = `${checkpointBase(path)}.safetensors`;
  await loadWeights(net.gen, w, { prefix: "gen." });
  if (d) await loadWeights(net.disc, w, { prefix: "disc." });
  const data = rec.extra.data as TrainingData | undefined;
  return { ...net, epoch: rec.epoch, source: "lumen", data: data ?? null };
}

/** How a sinogram is mapped to the generator's [−1, 1] range and back. */
export interface SinogramScale {
  lo: number;
  hi: number;
}

/**
 * NoStripesNet's masked inpainting on tensors `[N, 1, H, W]`: `gen_in + mask · G(gen_in)` with
 * `gen_in` the input with the masked pixels set to 0 (the graph of MaskedGAN's forward).
 *
 * @example
 * ```ts
 * const fakeB = inpaint(gen, batch.stripe, batch.mask);
 * ```
 */
export function inpaint(gen: PatchUNet, x: Tensor, mask: Tensor): Tensor {
  const genIn = where(mask, 0, x);
  return add(genIn, mul(mask, gen.forward(genIn)));
}

/**
 * The generator's inpainting of a batch of patches, in one forward pass: each `xs[i]` (H × W,
 * values in [−1, 1]) with its 0/1 stripe mask `masks[i]` gives `gen_in + mask · G(gen_in)`, where
 * `gen_in` is `x` with the masked pixels zeroed (NoStripesNet's MaskedGAN). Eval mode (no
 * dropout); batch norm uses the batch's statistics, as NoStripesNet's does, so batches of the
 * size used in training give the outputs training saw.
 *
 * @example
 * ```ts
 * const [y] = await inpaintBatch(gen, [x], [mask], [128, 64]);
 * ```
 */
export async function inpaintBatch(
  gen: PatchUNet,
  xs: readonly Float32Array[],
  masks: readonly Float32Array[],
  shape: readonly [number, number],
): Promise<Float32Array[]> {
  const [h, w] = shape, n = xs.length, hw = h * w;
  if (!n) return [];
  const x = new Float32Array(n * hw), m = new Float32Array(n * hw);
  xs.forEach((v, i) => x.set(v, i * hw));
  masks.forEach((v, i) => m.set(v, i * hw));
  const wasTraining = gen.training;
  gen.eval();
  try {
    const out = await noGrad(async () => {
      const y = inpaint(gen, tensor(x, [n, 1, h, w]), tensor(m, [n, 1, h, w]));
      const d = await y.data();
      resetArena(y.backend);
      return d;
    });
    return xs.map((_, i) => out.slice(i * hw, (i + 1) * hw));
  } finally {
    if (wasTraining) gen.train();
  }
}

/**
 * Runs the generator over one sinogram (angles × cols), in place: every patch is scaled as in
 * training (clip to the sinogram's [lo, hi], then to [−1, 1]) and the patches go through the
 * generator in batches of `batchSize` (so that batch-norm statistics are those of a training-size
 * batch); the output replaces only the patches whose mask has stripes, and only where the mask
 * is set. Clean patches pass through untouched.
 *
 * @returns the number of patches with stripes that the model inpainted
 */
export async function inpaintSinogram(
  gen: PatchUNet,
  sino: Float32Array,
  mask: Uint8Array,
  grid: PatchGrid,
  opts: { scale?: SinogramScale; batchSize?: number } = {},
): Promise<number> {
  const [lo, hi] = opts.scale ? [opts.scale.lo, opts.scale.hi] : nanRange([sino]);
  const span = hi - lo || 1;
  const striped = new Set<number>();
  for (let p = 0; p < grid.count; p++) {
    if (extractPatch(mask, grid, p).some((v) => v !== 0)) striped.add(p);
  }
  if (!striped.size) return 0;
  const batch = opts.batchSize ?? 16;
  for (let p0 = 0; p0 < grid.count; p0 += batch) {
    const ps = Array.from({ length: Math.min(batch, grid.count - p0) }, (_, i) => p0 + i);
    if (!ps.some((p) => striped.has(p))) continue;
    const xs = ps.map((p) => {
      const x = extractPatch(sino, grid, p);
      for (let k = 0; k < x.length; k++) {
        const v = x[k];
        x[k] = (((v < lo ? lo : v > hi ? hi : v) - lo) / span) * 2 - 1;
      }
      return x;
    });
    const ms = ps.map((p) => {
      const raw = extractPatch(mask, grid, p), m = new Float32Array(raw.length);
      for (let k = 0; k < raw.length; k++) if (raw[k]) m[k] = 1;
      return m;
    });
    const ys = await inpaintBatch(gen, xs, ms, [grid.height, grid.width]);
    ps.forEach((p, i) => {
      if (!striped.has(p)) return;
      const out = extractPatch(sino, grid, p), m = ms[i], y = ys[i];
      for (let k = 0; k < out.length; k++) if (m[k]) out[k] = ((y[k] + 1) / 2) * span + lo;
      insertPatch(sino, grid, p, out);
    });
  }
  return striped.size;
}

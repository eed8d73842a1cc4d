/**
 * The sample-level steps of data_generator that are not patch mode: where a sample goes and
 * whether it may be written there, and the `synthetic` samples (one simulated scan each).
 *
 * @example
 * ```ts
 * import { checkSampleTarget, sampleDir } from "./generator_run.ts";
 * const dir = sampleDir("data", 0);                    // "data/0000"
 * checkSampleTarget("data", dir, { overwrite: false });  // throws when data/0000 is finished
 * ```
 * @module
 */
import { existsSync, mkdirSync, statSync } from "node:fs";
import { LumenError } from "../../run/errors.ts";
import { type Provenance, writeProvenance } from "../../run/provenance.ts";
import type { SCAN_PRESETS } from "../../tomo/scan_sim.ts";
import { writeSyntheticSample } from "./sinogram_dataset.ts";

/**
 * `<root>/<sample:04>`.
 *
 * @example
 * ```ts
 * sampleDir("data", 7); // "data/0007"
 * ```
 */
export function sampleDir(root: string, sample: number): string {
  return `${root}/${String(sample).padStart(4, "0")}`;
}

/**
 * Makes the dataset root (a folder) and refuses a finished sample (its `<dir>.prov.json`
 * exists) unless `overwrite`; a merge may finish a sample whose folder is not there yet.
 *
 * @example
 * ```ts
 * checkSampleTarget("data", "data/0000", { overwrite: true });
 * ```
 */
export function checkSampleTarget(
  root: string,
  dir: string,
  o: { overwrite?: boolean; merge?: number },
): void {
  if (existsSync(root) && !statSync(root).isDirectory()) {
    throw new LumenError(root, "", "the dataset root is not a folder");
  }
  mkdirSync(root, { recursive: true });
  const finished = existsSync(`${dir}.prov.json`);
  if (finished && !o.overwrite && !(o.merge !== undefined && !existsSync(dir))) {
    throw new LumenError(
      dir,
      "",
      o.merge !== undefined
        ? "already merged; pass --overwrite to merge again"
        : "the dataset root already holds this sample; pass --overwrite to replace it, or choose --sample",
    );
  }
}

/** Options of {@link writeSyntheticSamples}. */
export interface SyntheticSamplesOptions {
  root: string;
  /** How many samples, numbered from `sample`, seeded from `seed` (sample k: seed + k). */
  samples: number;
  sample: number;
  seed: number;
  preset: keyof typeof SCAN_PRESETS;
  patchSize: [number, number];
  shift: number;
  overwrite?: boolean;
  /** The record of sample `sample` made with `seed`. */
  provenance: (sample: number, seed: number) => Promise<Provenance>;
  say?: (line: string) => void;
}

/**
 * `--mode synthetic`: `samples` simulated scans, each cut into clean/stripe patch pairs and
 * finished by its provenance record.
 *
 * @example
 * ```ts
 * await writeSyntheticSamples({ root: "data", samples: 2, sample: 0, seed: 0, preset: "tiny", patchSize: [32, 16], shift: 0, provenance });
 * ```
 */
export async function writeSyntheticSamples(o: SyntheticSamplesOptions): Promise<void> {
  for (let k = 0; k < o.samples; k++) {
    const sample = o.sample + k, out = sampleDir(o.root, sample), seed = o.seed + k;
    const [rows, count] = await writeSyntheticSample({
      dir: out,
      preset: o.preset,
      patchSize: o.patchSize,
      sample,
      shift: o.shift,
      seed,
      overwrite: o.overwrite,
    });
    await writeProvenance(out, await o.provenance(sample, seed));
    o.say?.(`${rows} synthetic sinograms, ${count} patches each → ${out}`);
  }
}

/**
 * `data_generator`: a NoStripesNet dataset from a tomography scan (NoStripesNet's
 * `simulator.data_generator`: its flags, folder layout, file names and uint16 scaling).
 *
 * `--mode patch` cuts every sinogram into patches (`--patch-size`, default 1801 256); patches
 * without stripes in the mask (`--mask`, entry `m<scan name>`) become clean/simulated-stripe pairs
 * under `fake_artifacts`, patches with real stripes go to `real_artifacts/stripe`. `--mode paired`
 * does the same with whole sinograms; `--mode raw` stores the normalised sinograms alone;
 * `--mode synthetic` needs no scan: it simulates one and makes patches of it (the original's
 * `simple`/`complex`).
 *
 * Patch mode resumes an interrupted run only when the arguments that decide the output are the
 * recorded ones. `--shard i/N` writes detector rows of shard i under `<root>/<sample>.shards/`,
 * `--merge N` checks every shard and moves them into place. A finished sample (its
 * `<root>/<sample>.prov.json` exists) is never overwritten without `--overwrite`.
 *
 * @module
 */
import { defineTool, OVERWRITE, type Parsed, provenanceArgs, SEED } from "../../lib/run/flags.ts";
import { callTool, runTool } from "../../lib/run/main.ts";
import { makePatchSample } from "../../lib/pipelines/nostripesnet/patch_sample.ts";
import { LumenError } from "../../lib/run/errors.ts";
import { progress } from "../../lib/run/progress.ts";
import { makeProvenance, writeProvenance } from "../../lib/run/provenance.ts";
import { type Shard } from "../../lib/run/shard.ts";
import { openScan, type TomoScan } from "../../lib/io/nexus.ts";
import { scanOptions } from "../../lib/tomo/scan_flags.ts";
import {
  checkGeneratorFlags,
  DATA_GENERATOR_FLAGS,
} from "../../lib/pipelines/nostripesnet/generator_flags.ts";
import { loadStripeMask } from "../../lib/pipelines/nostripesnet/stripe_mask.ts";
import { loadPatchFlags } from "../../lib/pipelines/nostripesnet/mask_flags.ts";
import { patchGrid } from "../../lib/data/patches.ts";
import { writeWholeSinograms } from "../../lib/pipelines/nostripesnet/sinogram_dataset.ts";
import {
  checkSampleTarget,
  sampleDir,
  writeSyntheticSamples,
} from "../../lib/pipelines/nostripesnet/generator_run.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "data_generator",
  summary: "make a NoStripesNet dataset (patches of clean/stripe sinograms) from a scan",
  permissions: ["--allow-read", "--allow-write=ROOT"],
  assets: true,
  task: "data-generator",
  flags: { ...DATA_GENERATOR_FLAGS, seed: SEED, overwrite: OVERWRITE },
  examples: [
    "--mode patch --root ./data --hdf-root 119617.nxs --chunk-size 2160 --mask stripe_masks.npz --verbose",
  ],
});

type Flags = Parsed<typeof meta.flags>;

/** The flags that decide a sample's bytes (not how it is sharded). */
const sampleArgs = (f: Flags) => provenanceArgs(meta, { ...f, shard: undefined, merge: undefined });

async function provenance(f: Flags, scan: TomoScan | null) {
  return await makeProvenance({
    tool: "data_generator",
    args: sampleArgs(f),
    seed: f.seed,
    inputs: [...(scan ? scan.inputPaths() : []), ...(f.mask ? [f.mask] : [])],
    fast: 64 << 20,
  });
}

async function patchMode(f: Flags, dir: string, scan: TomoScan, shard: Shard | null) {
  if (!f.mask) {
    throw new LumenError(
      "--mask",
      "",
      "A mask should be given: --mode patch needs the stripe-mask archive (make it with generate_mask)",
    );
  }
  const shape = [scan.projections.count, scan.rows, scan.cols];
  const patchSize: [number, number] = [f.patchSize[0], f.patchSize[1]];
  const grid = patchGrid([shape[0], shape[2]], patchSize, scan.path);
  await makePatchSample({
    scan,
    dir,
    mask: await loadPatchFlags(f.mask, { key: f.maskName, scan: f.hdfRoot, shape, grid }),
    patchSize,
    sample: f.sample,
    shift: f.shift,
    seed: f.seed,
    chunkSize: f.chunkSize,
    shard,
    merge: f.merge,
    overwrite: f.overwrite,
    args: sampleArgs(f),
    provenance: () => provenance(f, scan),
    bar: (n) => progress("sinograms", n, { quiet: f.quiet }),
    say: f.verbose ? (line) => console.log(line) : undefined,
  });
}

/** Makes the dataset the flags ask for. */
async function generate(f: Flags): Promise<void> {
  const { shard } = checkGeneratorFlags(f);
  const dir = sampleDir(f.root, f.sample);
  checkSampleTarget(f.root, dir, f);
  const say = f.verbose ? (line: string) => console.log(line) : undefined;
  if (f.mode === "synthetic") {
    return await writeSyntheticSamples({
      ...f,
      preset: f.scanPreset as "demo" | "test" | "tiny",
      patchSize: [f.patchSize[0], f.patchSize[1]],
      provenance: (sample, seed) => provenance({ ...f, sample, seed }, null),
      say,
    });
  }
  const scan = await openScan(f.hdfRoot!, scanOptions(f));
  try {
    if (f.mode === "patch") return await patchMode(f, dir, scan, shard);
    const mask = f.mode === "paired"
      ? await loadStripeMask(f.mask!, {
        key: f.maskName,
        scan: f.hdfRoot,
        shape: [scan.projections.count, scan.rows, scan.cols],
      })
      : undefined;
    const bar = progress("sinograms", scan.rows, { quiet: f.quiet });
    const [H, W] = await writeWholeSinograms({
      scan,
      mode: f.mode as "raw" | "paired",
      dir,
      mask,
      size: [f.size[0], f.size[1]],
      sample: f.sample,
      shift: f.shift,
      seed: f.seed,
      chunkSize: f.chunkSize,
      overwrite: f.overwrite,
      bar,
    });
    bar.done();
    await writeProvenance(dir, await provenance(f, scan));
    if (f.verbose) console.log(`${scan.rows} sinograms (${H}×${W}) → ${dir}`);
  } finally {
    scan.close();
  }
}

/** Runs the tool in this process (see callTool): errors are thrown, the process keeps running. */
export const main = (argv: readonly string[]): Promise<void> => callTool(meta, generate, argv);

if (import.meta.main) await runTool(meta, generate);

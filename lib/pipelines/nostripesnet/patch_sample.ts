/**
 * One sample of a patch dataset from a scan, as data_generator makes it: the whole detector, one
 * SLURM shard of its rows (staged under `<sample>.shards/`, finished by a manifest), or the merge
 * of all shards. A sample resumes only with the arguments it was started with
 * (lib/run/resume.ts); it is finished when its provenance sidecar is written.
 *
 * @example
 * ```ts
 * import { makePatchSample } from "./patch_sample.ts";
 * await makePatchSample({ scan, dir: "data/0000", mask, patchSize: [1801, 256], sample: 0, shift: 0, seed: 0, args, provenance });
 * ```
 * @module
 */
import { existsSync, rmSync } from "node:fs";
import type { TomoScan } from "../../io/nexus.ts";
import type { Progress } from "../../run/progress.ts";
import { type Provenance, writeProvenance } from "../../run/provenance.ts";
import { finishResumableDir, openResumableDir } from "../../run/resume.ts";
import {
  checkShards,
  finishShard,
  mergeShards,
  removeShards,
  type Shard,
  shardDir,
  shardRange,
} from "../../run/shard.ts";
import { patchGrid } from "../../data/patches.ts";
import { generatePatchSinograms, makeSampleDirs } from "./patch_dataset.ts";
import type { StripeMask } from "./stripe_mask.ts";
import type { PatchFlags } from "./mask_flags.ts";

/** Options of {@link makePatchSample}. */
export interface PatchSampleOptions {
  scan: TomoScan;
  /** `<root>/<sample:04>`. */
  dir: string;
  /** The scan's stripe mask, or its patches' stripe flags (mask_flags.ts). */
  mask: StripeMask | PatchFlags;
  patchSize: [number, number];
  sample: number;
  shift: number;
  seed: number;
  chunkSize?: number;
  /** Make only this shard's rows. */
  shard?: Shard | null;
  /** Merge this many finished shards instead. */
  merge?: number;
  overwrite?: boolean;
  /** The arguments that decide the sample's bytes (compared on resume). */
  args: Record<string, unknown>;
  /** The sample's record, made when it is finished. */
  provenance: () => Promise<Provenance>;
  bar?: (total: number) => Progress;
  say?: (line: string) => void;
}

/**
 * Makes, resumes, shards or merges one sample (see the module doc).
 *
 * @example
 * ```ts
 * await makePatchSample({ ...o, shard: { index: 1, count: 4 } });
 * await makePatchSample({ ...o, merge: 4 });
 * ```
 */
export async function makePatchSample(o: PatchSampleOptions): Promise<void> {
  const { scan, dir } = o;
  const rows = scan.rows;
  const grid = patchGrid([scan.projections.count, scan.cols], o.patchSize, scan.path);
  if (o.merge !== undefined) {
    mergeShards(dir, checkShards(dir, o.merge, rows), { overwrite: o.overwrite });
    makeSampleDirs(dir);
    await writeProvenance(dir, await o.provenance());
    removeShards(dir);
    o.say?.(`merged ${o.merge} shards into ${dir}`);
    return;
  }
  const shard = o.shard ?? null;
  const [r0, r1] = shard ? shardRange(rows, shard) : [0, rows];
  const outDir = shard ? shardDir(dir, shard) : dir;
  if (shard && existsSync(`${outDir}/MANIFEST.json`)) {
    o.say?.(`shard ${shard.index}/${shard.count} already complete`);
    return;
  }
  if (o.overwrite && !shard) rmSync(`${dir}.prov.json`, { force: true });
  openResumableDir(outDir, o.args, { overwrite: o.overwrite });
  makeSampleDirs(outDir);
  const bar = o.bar?.(r1 - r0);
  const r = await generatePatchSinograms({
    dir: outDir,
    grid,
    sample: o.sample,
    shift: o.shift,
    seed: o.seed,
    scan,
    mask: o.mask,
    rows: [r0, r1],
    chunkSize: o.chunkSize,
    bar,
  });
  bar?.done();
  // a shard's staging folder keeps its record (it goes at the merge); a sample loses it
  if (shard) finishShard(dir, shard, "data_generator", [r0, r1], r.files);
  else {
    await writeProvenance(dir, await o.provenance());
    finishResumableDir(outDir);
  }
  o.say?.(
    `${r.made} sinograms written, ${r.skipped} already there, ${grid.count} patches each → ${outDir}`,
  );
}

/**
 * `data_generator`: a NoStripesNet dataset from a tomography scan (NoStripesNet's
 * `simulator.data_generator`, same flags, folder layout, file names and uint16 scaling).
 *
 * `--mode patch` cuts every sinogram into patches (`--patch-size`, default 1801,256); patches
 * without stripes in the mask (`--mask`, entry `m<scan name>`) become clean/simulated-stripe pairs
 * under `fake_artifacts`, patches with real stripes go to `real_artifacts/stripe`. `--mode paired`
 * does the same with whole sinograms; `--mode raw` stores the normalised sinograms alone;
 * `--mode synthetic` needs no scan: it simulates one (lib/tomo/scan_sim.ts) and makes patches of it.
 *
 * Resumable: a rerun skips sinograms already written. Shardable: `--shard i/N` writes detector
 * rows of shard i under `<root>/<sample>.shards/`, `--merge N` checks every shard and moves them
 * into place. A finished sample (its `<root>/<sample>.prov.json` exists) is never overwritten
 * without `--overwrite`.
 *
 * @module
 */
import { basename, extname } from "node:path";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import {
  defineTool,
  OVERWRITE,
  type Parsed,
  provenanceArgs,
  SEED,
  UsageError,
} from "../../lib/run/flags.ts";
import { callTool, runTool } from "../../lib/run/main.ts";
import { LumenError } from "../../lib/run/errors.ts";
import { progress } from "../../lib/run/progress.ts";
import { makeProvenance, writeProvenance } from "../../lib/run/provenance.ts";
import {
  checkShards,
  finishShard,
  parseShard,
  type Shard,
  shardDir,
  shardRange,
} from "../../lib/run/shard.ts";
import { openScan, type TomoScan } from "../../lib/io/nexus.ts";
import { normaliseFrames, readSinograms } from "../../lib/tomo/normalise.ts";
import { SCAN_PRESETS, simulateScan } from "../../lib/tomo/scan_sim.ts";
import { readNpzArray } from "../../lib/io/npz.ts";
import { nanRange, patchGrid, toUint16 } from "../../lib/data/patches.ts";
import { resize2d } from "../../lib/data/resize.ts";
import { ndarray } from "../../lib/io/array.ts";
import { encodeTiff } from "../../lib/io/tiff.ts";
import { buildDirAtomic, writeFileAtomicSync } from "../../lib/run/atomic.ts";
import { SimRng } from "../../lib/data/rng.ts";
import { pairedStripes } from "../../lib/pipelines/nostripesnet/stripe_sim.ts";
import {
  cleanPatches,
  makeSampleDirs,
  PATCH_DIRS,
  patchSeed,
  sinogramDone,
  sinogramFiles,
  writePatchSinogram,
} from "../../lib/pipelines/nostripesnet/patch_dataset.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "data_generator",
  summary: "make a NoStripesNet dataset (patches of clean/stripe sinograms) from a scan",
  permissions: ["--allow-read", "--allow-write=ROOT"],
  assets: true,
  task: "data-generator",
  flags: {
    mode: {
      type: "choice",
      choices: ["patch", "paired", "raw", "synthetic"],
      short: "m",
      required: true,
      help: "what to make (patch: the NoStripesNet patch dataset)",
    },
    root: { type: "string", short: "r", default: "./data", arg: "ROOT", help: "dataset root" },
    hdfRoot: { type: "string", short: "H", arg: "SCAN", help: "the NeXus/HDF5 scan" },
    flats: { type: "string", arg: "FILE", help: "HDF5 file with the flats and darks" },
    mask: { type: "string", arg: "NPZ", help: "stripe-mask archive (generate_mask)" },
    maskName: { type: "string", arg: "KEY", help: "entry in --mask (default m<scan name>)" },
    chunkSize: {
      type: "int",
      short: "C",
      min: 1,
      default: 243,
      help: "detector rows read at once",
      provenance: false,
    },
    patchSize: {
      type: "list",
      of: "int",
      min: 1,
      default: [1801, 256],
      arg: "H,W",
      help: "patch height (angles), width (columns)",
    },
    sample: { type: "int", short: "s", min: 0, default: 0, help: "sample number (folder name)" },
    shift: { type: "int", min: 0, default: 0, help: "shift number (file names)" },
    seed: SEED,
    shard: { type: "string", arg: "i/N", help: "make only shard i of N (detector-row ranges)" },
    merge: { type: "int", min: 1, arg: "N", help: "check the N shards and move them into place" },
    size: {
      type: "list",
      of: "int",
      min: 0,
      default: [402, 362],
      arg: "H,W",
      help: "raw/paired: resize sinograms to H,W (0,0 keeps them)",
    },
    scanPreset: {
      type: "choice",
      choices: ["demo", "test", "tiny"],
      default: "test",
      help: "synthetic: size of the simulated scan (demo 256×32×512, test 128×8×128, tiny 32×4×48)",
    },
    verbose: { type: "boolean", short: "v", help: "print what is done", provenance: false },
    overwrite: OVERWRITE,
  },
  examples: [
    "--mode patch --root ./data --hdf-root 119617.nxs --chunk-size 2160 --mask stripe_masks.npz --verbose",
  ],
});

type Flags = Parsed<typeof meta.flags>;

/** `<root>/<sample:04>`, and whether it is finished (its provenance sidecar exists). */
function sampleDir(f: Flags): { dir: string; finished: boolean } {
  const dir = `${f.root}/${String(f.sample).padStart(4, "0")}`;
  return { dir, finished: existsSync(`${dir}.prov.json`) };
}

/** Refuses to replace a finished sample without --overwrite. */
function refuseFinished(dir: string): never {
  throw new LumenError(
    dir,
    "",
    "the dataset root already holds this sample; pass --overwrite to replace it, or choose --sample",
  );
}

/** The sample's provenance: the flags that determine it (not sharding), seed, input hashes. */
function sampleProvenance(f: Flags) {
  return makeProvenance({
    tool: "data_generator",
    args: provenanceArgs(meta, { ...f, shard: undefined, merge: undefined }),
    seed: f.seed,
    inputs: [f.hdfRoot, f.mask, f.flats].filter((x): x is string => !!x),
    fast: 64 << 20,
  });
}

/** Detector-row sinograms of a scan's mask entry: (angles, rows, cols) uint8. */
async function loadMask(f: Flags, scan: TomoScan): Promise<Uint8Array | null> {
  if (!f.mask) return null;
  const key = f.maskName ?? `m${basename(f.hdfRoot!, extname(f.hdfRoot!))}`;
  const arr = await readNpzArray(f.mask, key);
  const want = [scan.projections.count, scan.rows, scan.cols];
  if (arr.shape.length !== 3 || arr.shape.some((d, i) => d !== want[i])) {
    throw new LumenError(
      f.mask,
      key,
      `mask shape (${arr.shape.join(", ")}) does not match the scan's (angles, rows, columns) = (${
        want.join(", ")
      })`,
    );
  }
  if (arr.dtype === "uint8" || arr.dtype === "bool" || arr.dtype === "int8") {
    return new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.length);
  }
  const out = new Uint8Array(arr.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Number(arr.data[i]) !== 0 ? 1 : 0;
  return out;
}

/** Mask sinogram of one detector row (angles × cols). */
function maskRow(mask: Uint8Array, angles: number, rows: number, cols: number, row: number) {
  const out = new Uint8Array(angles * cols);
  for (let a = 0; a < angles; a++) {
    const s = (a * rows + row) * cols;
    out.set(mask.subarray(s, s + cols), a * cols);
  }
  return out;
}

function listFiles(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const e of readdirSync(`${dir}/${rel}`, { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(dir, r));
    else if (e.isFile() && !e.name.endsWith(".tmp") && e.name !== "MANIFEST.json") out.push(r);
  }
  return out.sort();
}

/** `--shard` as a usage error (exit 2) when malformed. */
function shardFlag(text: string): Shard {
  try {
    return parseShard(text);
  } catch (e) {
    throw new UsageError("--shard", `${text}: ${(e as LumenError).problem}`);
  }
}

async function patchMode(f: Flags): Promise<void> {
  if (!f.hdfRoot) throw new LumenError("--hdf-root", "", "a scan is required for --mode patch");
  if (f.patchSize.length !== 2) {
    throw new LumenError("--patch-size", f.patchSize.join(","), "expected H,W");
  }
  const { dir: finalDir, finished: complete } = sampleDir(f);
  const prov = finalDir;
  if (complete && !f.overwrite && f.merge === undefined) refuseFinished(finalDir);
  const scan = await openScan(f.hdfRoot, f.flats ? { flatsFile: f.flats } : {});
  try {
    const angles = scan.projections.count, rows = scan.rows, cols = scan.cols;
    const grid = patchGrid([angles, cols], [f.patchSize[0], f.patchSize[1]], f.hdfRoot);
    const provenance = () => sampleProvenance(f);

    if (f.merge !== undefined) {
      if (complete && !f.overwrite) {
        throw new LumenError(finalDir, "", "already merged; pass --overwrite to merge again");
      }
      const manifests = checkShards(finalDir, f.merge, rows);
      if (complete) rmSync(finalDir, { recursive: true, force: true });
      makeSampleDirs(finalDir);
      for (const m of manifests) {
        const dir = shardDir(finalDir, m.shard);
        for (const file of m.files) renameSync(`${dir}/${file.path}`, `${finalDir}/${file.path}`);
      }
      await writeProvenance(prov, await provenance());
      rmSync(`${finalDir}.shards`, { recursive: true, force: true });
      if (f.verbose) console.log(`merged ${f.merge} shards into ${finalDir}`);
      return;
    }

    const shard = f.shard ? shardFlag(f.shard) : null;
    const [r0, r1] = shard ? shardRange(rows, shard) : [0, rows];
    const outDir = shard ? shardDir(finalDir, shard) : finalDir;
    if (shard && existsSync(`${outDir}/MANIFEST.json`)) {
      if (f.verbose) console.log(`shard ${f.shard} already complete`);
      return;
    }
    if (complete && f.overwrite && !shard) {
      rmSync(`${prov}.prov.json`);
      rmSync(finalDir, { recursive: true, force: true });
    }
    makeSampleDirs(outDir);
    const mask = await loadMask(f, scan);
    const opts = { dir: outDir, grid, sample: f.sample, shift: f.shift, seed: f.seed };
    const bar = progress("sinograms", r1 - r0, { quiet: f.quiet });
    const written: string[] = [];
    let made = 0, skipped = 0;
    for (let c0 = r0; c0 < r1; c0 += f.chunkSize) {
      const c1 = Math.min(r1, c0 + f.chunkSize);
      const todo: number[] = [];
      const masks = new Map<number, Uint8Array | null>();
      for (let row = c0; row < c1; row++) {
        const m = mask ? maskRow(mask, angles, rows, cols, row) : null;
        const files = sinogramFiles(opts, row, cleanPatches(grid, m));
        written.push(...files);
        if (sinogramDone(outDir, files)) {
          skipped++;
          bar.tick();
        } else {
          todo.push(row);
          masks.set(row, m);
        }
      }
      if (!todo.length) continue;
      const a = todo[0], b = todo[todo.length - 1] + 1;
      const sinos = await readSinograms(scan, a, b);
      for (const row of todo) {
        const off = (row - a) * angles * cols;
        writePatchSinogram({
          row,
          sino: sinos.data.subarray(off, off + angles * cols),
          mask: masks.get(row)!,
        }, opts);
        made++;
        bar.tick();
      }
    }
    bar.done();
    if (shard) {
      finishShard(finalDir, shard, "data_generator", [r0, r1], written);
    } else {
      await writeProvenance(prov, await provenance());
    }
    if (f.verbose) {
      console.log(
        `${made} sinograms written, ${skipped} already there, ${grid.count} patches each → ${outDir}`,
      );
    }
  } finally {
    scan.close();
  }
}

/**
 * `raw` and `paired`: whole sinograms, resized (`--size`), scaled to uint16 by the range of the
 * whole sample (NoStripesNet's reload-and-renormalise pass, done here as a first pass over the
 * scan that finds the range of sinograms 20 … rows − 20, then a second that writes).
 */
async function wholeSinogramMode(f: Flags): Promise<void> {
  if (!f.hdfRoot) throw new LumenError("--hdf-root", "", `a scan is required for --mode ${f.mode}`);
  if (f.shard || f.merge !== undefined) {
    throw new UsageError(
      "--shard",
      `only --mode patch is sharded (${f.mode} scales by the whole sample)`,
    );
  }
  if (f.size.length !== 2) throw new UsageError("--size", `${f.size.join(",")}: expected H,W`);
  const { dir: finalDir, finished } = sampleDir(f);
  const sampleName = finalDir.slice(finalDir.lastIndexOf("/") + 1);
  if (finished && !f.overwrite) refuseFinished(finalDir);
  const scan = await openScan(f.hdfRoot, f.flats ? { flatsFile: f.flats } : {});
  try {
    const angles = scan.projections.count, rows = scan.rows, cols = scan.cols;
    const [H, W] = f.size[0] > 0 && f.size[1] > 0 ? [f.size[0], f.size[1]] : [angles, cols];
    const mask = f.mode === "paired" ? await loadMask(f, scan) : null;
    if (f.mode === "paired" && !mask) {
      throw new LumenError("--mask", "", "--mode paired needs the stripe mask (generate_mask)");
    }
    /** The images of one row: [kind path, image] pairs, stripe (or raw) image first. */
    const images = (row: number, sino: Float32Array): [string, Float32Array][] => {
      const img = H === angles && W === cols ? sino : resize2d(sino, [angles, cols], [H, W]);
      const name = `${sampleName}_shift${String(f.shift).padStart(2, "0")}_${
        String(row).padStart(4, "0")
      }.tif`;
      if (f.mode === "raw") return [[`shift${String(f.shift).padStart(2, "0")}/${name}`, img]];
      const m = maskRow(mask!, angles, rows, cols, row);
      if (m.some((v) => v !== 0)) return [[`real_artifacts/stripe/${name}`, img]];
      const rng = new SimRng(patchSeed(f.seed, f.sample, row, 0));
      const stripe = pairedStripes(img, H, W, rng).stripe;
      return [[`fake_artifacts/stripe/${name}`, stripe], [`fake_artifacts/clean/${name}`, img]];
    };
    const forEachRow = async (fn: (row: number, imgs: [string, Float32Array][]) => void) => {
      for (let c0 = 0; c0 < rows; c0 += f.chunkSize) {
        const c1 = Math.min(rows, c0 + f.chunkSize);
        const sinos = await readSinograms(scan, c0, c1);
        for (let row = c0; row < c1; row++) {
          const off = (row - c0) * angles * cols;
          fn(row, images(row, sinos.data.subarray(off, off + angles * cols)));
        }
      }
    };
    // pass 1: the sample's range (stripe images of sinograms 20 … rows − 20, as the original)
    const trim = rows > 40 ? 20 : 0;
    let lo = Infinity, hi = -Infinity;
    await forEachRow((row, imgs) => {
      if (row < trim || row >= rows - trim) return;
      const [l, h] = nanRange([imgs[0][1]]);
      if (l < lo) lo = l;
      if (h > hi) hi = h;
    });
    // pass 2: write into a temporary folder, renamed into place when complete
    const bar = progress("sinograms", rows, { quiet: f.quiet });
    await buildDirAtomic(finalDir, async (tmp) => {
      for (
        const d of f.mode === "raw" ? [`shift${String(f.shift).padStart(2, "0")}`] : PATCH_DIRS
      ) {
        mkdirSync(`${tmp}/${d}`, { recursive: true });
      }
      await forEachRow((_row, imgs) => {
        for (const [rel, img] of imgs) {
          writeFileAtomicSync(`${tmp}/${rel}`, encodeTiff(ndarray(toUint16(img, lo, hi), [H, W])));
        }
        bar.tick();
      });
    }, { overwrite: f.overwrite });
    bar.done();
    await writeProvenance(
      finalDir,
      await sampleProvenance(f),
    );
    if (f.verbose) console.log(`${rows} sinograms (${H}×${W}) → ${finalDir}`);
  } finally {
    scan.close();
  }
}

/**
 * `synthetic`: no scan file. A phantom scan is simulated (lib/tomo/scan_sim.ts, `--scan-preset`,
 * `--seed`) without detector defects, normalised with its own flats and darks, and every patch of
 * every sinogram becomes a clean/simulated-stripe pair.
 */
async function syntheticMode(f: Flags): Promise<void> {
  if (f.shard || f.merge !== undefined) {
    throw new UsageError("--shard", "--mode synthetic is not sharded (it is small by design)");
  }
  const { dir: finalDir, finished } = sampleDir(f);
  if (finished && !f.overwrite) refuseFinished(finalDir);
  const preset = SCAN_PRESETS[f.scanPreset as keyof typeof SCAN_PRESETS];
  const sim = simulateScan({ ...preset, seed: f.seed, defects: false });
  const [, rows, cols] = sim.shape;
  const angles = sim.angles.length;
  const frames = (key: number) => {
    const idx = [...sim.imageKey.keys()].filter((i) => sim.imageKey[i] === key);
    const out = new Uint16Array(idx.length * rows * cols);
    idx.forEach((fr, j) =>
      out.set(sim.data.subarray(fr * rows * cols, (fr + 1) * rows * cols), j * rows * cols)
    );
    return ndarray(out, [idx.length, rows, cols]);
  };
  const sinos = await normaliseFrames(
    ndarray(sim.clean, [angles, rows, cols]),
    frames(1),
    frames(2),
  );
  const grid = patchGrid([angles, cols], [f.patchSize[0], f.patchSize[1]], "synthetic scan");
  await buildDirAtomic(finalDir, (tmp) => {
    makeSampleDirs(tmp);
    const opts = { dir: tmp, grid, sample: f.sample, shift: f.shift, seed: f.seed };
    for (let row = 0; row < rows; row++) {
      const off = row * angles * cols;
      writePatchSinogram(
        { row, sino: sinos.data.subarray(off, off + angles * cols), mask: null },
        opts,
      );
    }
  }, { overwrite: f.overwrite });
  await writeProvenance(
    finalDir,
    await sampleProvenance(f),
  );
  if (f.verbose) {
    console.log(`${rows} synthetic sinograms, ${grid.count} patches each → ${finalDir}`);
  }
}

/** Makes the dataset the flags ask for. */
async function generate(f: Flags): Promise<void> {
  mkdirSync(f.root, { recursive: true });
  if (!statSync(f.root).isDirectory()) {
    throw new LumenError(f.root, "", "the dataset root is not a folder");
  }
  switch (f.mode) {
    case "patch":
      return await patchMode(f);
    case "raw":
    case "paired":
      return await wholeSinogramMode(f);
    case "synthetic":
      return await syntheticMode(f);
  }
}

/** Runs the tool in this process (see callTool): errors are thrown, the process keeps running. */
export const main = (argv: readonly string[]): Promise<void> => callTool(meta, generate, argv);

if (import.meta.main) await runTool(meta, generate);

/**
 * `apply_model`: removes stripes from a whole scan, patch by patch (NoStripesNet's
 * `apply_model.py`), and writes the corrected sinograms as a chunked HDF5 volume.
 *
 * `--method model` (default) runs a trained generator on the patches that the stripe mask
 * (`--mask`, from generate_mask) marks, scaling each sinogram exactly as training did (the
 * original fed −log data without that scaling); clean patches pass through. `--method vo-sorting`
 * applies Vo et al.'s sorting-based stripe removal instead (the classical baseline), so the two
 * can be compared on the same scan.
 *
 * Output: `<out>` with `/data` float32 (angles, rows, columns) of normalised −log sinograms,
 * chunks (angles, 1, columns), gzip; provenance in its `provenance` attribute and beside it. It is
 * built as `<out>.partial` and renamed when complete; a killed run resumes from the rows done.
 *
 * @module
 */
import { basename, extname } from "node:path";
import { existsSync, renameSync, rmSync } from "node:fs";
import {
  BACKEND,
  defineTool,
  OVERWRITE,
  type Parsed,
  provenanceArgs,
  THREADS,
} from "../../lib/run/flags.ts";
import { callTool, runTool } from "../../lib/run/main.ts";
import { LumenError } from "../../lib/run/errors.ts";
import { progress } from "../../lib/run/progress.ts";
import { embedProvenance, makeProvenance, writeProvenance } from "../../lib/run/provenance.ts";
import { openScan } from "../../lib/io/nexus.ts";
import { H5File } from "../../lib/io/hdf5.ts";
import { ndarray } from "../../lib/io/array.ts";
import { readNpzArray } from "../../lib/io/npz.ts";
import { readSinograms } from "../../lib/tomo/normalise.ts";
import { patchGrid } from "../../lib/data/patches.ts";
import { initEngine } from "../../lib/tensor/engine.ts";
import { inpaintSinogram, loadNoStripesNet } from "../../lib/pipelines/nostripesnet/model.ts";
import { defaultSortingSize, removeStripeBasedSorting } from "../../lib/tomo/vo_sorting.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "apply_model",
  summary: "remove stripes from a whole scan with a trained model (or Vo's sorting) into HDF5",
  permissions: ["--allow-read", "--allow-write=OUT"],
  assets: true,
  task: "apply-model",
  flags: {
    h5: { type: "string", required: true, arg: "SCAN", help: "the NeXus/HDF5 scan" },
    flats: { type: "string", arg: "FILE", help: "HDF5 file with the flats and darks" },
    out: { type: "string", short: "o", required: true, arg: "OUT", help: "output HDF5 file" },
    method: {
      type: "choice",
      choices: ["model", "vo-sorting"],
      default: "model",
      help: "model: the trained generator; vo-sorting: Vo et al. (2018) baseline",
    },
    modelFile: { type: "string", short: "f", arg: "FILE", help: "checkpoint (.json or .tar)" },
    mask: { type: "string", arg: "NPZ", help: "stripe-mask archive (generate_mask)" },
    maskName: { type: "string", arg: "KEY", help: "entry in --mask (default m<scan name>)" },
    patchSize: {
      type: "list",
      of: "int",
      min: 1,
      default: [1801, 256],
      arg: "H,W",
      help: "patch height (angles), width (columns), as in training",
    },
    voSize: { type: "int", min: 1, help: "Vo sorting: median window (default TomoPy's rule)" },
    chunkSize: {
      type: "int",
      short: "C",
      min: 1,
      default: 16,
      help: "detector rows read at once",
      provenance: false,
    },
    backend: BACKEND,
    threads: THREADS,
    verbose: { type: "boolean", short: "v", help: "print what is done", provenance: false },
    overwrite: OVERWRITE,
  },
  examples: [
    "--h5 119617.nxs --mask stripe_masks.npz --model-file runs/patch_100.json --out clean.h5",
    "--h5 119617.nxs --method vo-sorting --out vo.h5",
  ],
});

type Flags = Parsed<typeof meta.flags>;

async function apply(f: Flags): Promise<void> {
  if (existsSync(f.out) && !f.overwrite) {
    throw new LumenError(f.out, "", "exists; pass --overwrite to replace it");
  }
  if (f.method === "model" && !f.modelFile) {
    throw new LumenError("--model-file", "", "--method model needs a trained checkpoint");
  }
  if (f.method === "model" && !f.mask) {
    throw new LumenError("--mask", "", "--method model needs the stripe mask (generate_mask)");
  }
  const scan = await openScan(f.h5, f.flats ? { flatsFile: f.flats } : {});
  const partial = `${f.out}.partial`;
  let out: H5File | null = null;
  try {
    const angles = scan.projections.count, rows = scan.rows, cols = scan.cols;
    let mask: Uint8Array | null = null;
    if (f.mask) {
      const key = f.maskName ?? `m${basename(f.h5, extname(f.h5))}`;
      const m = await readNpzArray(f.mask, key);
      if (m.shape.join() !== [angles, rows, cols].join()) {
        throw new LumenError(
          f.mask,
          key,
          `mask shape (${
            m.shape.join(", ")
          }) does not match the scan's (angles, rows, columns) = (${angles}, ${rows}, ${cols})`,
        );
      }
      mask = m.data instanceof Uint8Array ? m.data : Uint8Array.from(m.data as ArrayLike<number>);
    }
    const prov = await makeProvenance({
      tool: "apply_model",
      args: provenanceArgs(meta, f),
      seed: null,
      inputs: [f.h5, ...[f.flats, f.mask, f.modelFile].filter((x): x is string => !!x)],
      fast: 64 << 20,
    });
    const grid = f.method === "model"
      ? patchGrid([angles, cols], [f.patchSize[0], f.patchSize[1]], f.h5)
      : null;
    const net = f.method === "model"
      ? (await initEngine({ backend: f.backend, threads: f.threads }),
        await loadNoStripesNet(f.modelFile!))
      : null;
    // resume a partial output of the same computation; otherwise start one
    let done = 0;
    if (existsSync(partial)) {
      const p = await H5File.open(partial, "a");
      if (p.attr("/data", "uuid") === prov.uuid) {
        out = p;
        done = Number(p.attr("/data", "rows_done") ?? 0);
      } else {
        p.close();
        rmSync(partial);
      }
    }
    if (!out) {
      out = await H5File.open(partial, "w");
      out.createDataset("/data", [angles, rows, cols], "float32", {
        chunks: [angles, 1, cols],
        compression: 4,
        attrs: { method: f.method, uuid: prov.uuid, rows_done: 0 },
      });
    }
    if (f.verbose && done) console.log(`resuming at row ${done} of ${rows}`);
    const bar = progress("sinograms", rows, { quiet: f.quiet });
    bar.set(done);
    let patches = 0;
    const voSize = f.voSize ?? defaultSortingSize(cols);
    for (let r0 = done; r0 < rows; r0 += f.chunkSize) {
      const r1 = Math.min(rows, r0 + f.chunkSize);
      const sinos = await readSinograms(scan, r0, r1);
      for (let row = r0; row < r1; row++) {
        const sino = sinos.data.subarray(
          (row - r0) * angles * cols,
          (row - r0 + 1) * angles * cols,
        );
        if (net) {
          const m = new Uint8Array(angles * cols);
          for (let a = 0; a < angles; a++) {
            const s = (a * rows + row) * cols;
            m.set(mask!.subarray(s, s + cols), a * cols);
          }
          patches += await inpaintSinogram(net.gen, sino, m, grid!);
        } else {
          sino.set(removeStripeBasedSorting(sino, angles, cols, { size: voSize }));
        }
        // (angles, cols) → the row's slab (angles, 1, cols)
        out.writeSlice("/data", [0, row, 0], ndarray(sino, [angles, 1, cols]));
        bar.tick();
      }
      out.setAttr("/data", "rows_done", r1);
      out.flush();
    }
    bar.done();
    out.setAttr("/data", "provenance", embedProvenance(prov));
    out.close();
    out = null;
    if (f.overwrite && existsSync(f.out)) rmSync(f.out);
    renameSync(partial, f.out);
    await writeProvenance(f.out, prov);
    if (f.verbose) {
      console.log(
        `${rows} sinograms → ${f.out}` +
          (net ? ` (the model ran on ${patches} stripe patches)` : ""),
      );
    }
  } finally {
    out?.close();
    scan.close();
  }
}

/** Runs the tool in this process (see callTool): errors are thrown, the process keeps running. */
export const main = (argv: readonly string[]): Promise<void> => callTool(meta, apply, argv);

if (import.meta.main) await runTool(meta, apply);

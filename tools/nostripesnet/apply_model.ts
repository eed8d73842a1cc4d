/**
 * `apply_model`: removes stripes from a whole scan, patch by patch (NoStripesNet's
 * `apply_model.py MODEL H5 -m MASK -o OUT`), and writes the corrected sinograms as a volume.
 *
 * `--method model` (default) runs a trained generator on the patches that the stripe mask
 * (`--mask`/`-m`, from generate_mask) marks, scaling each sinogram exactly as training did (the
 * original fed −log data without that scaling); clean patches pass through. The patch size is
 * the one the checkpoint was trained with. `--method vo-sorting` applies Vo et al.'s
 * sorting-based stripe removal instead (the classical baseline).
 *
 * Output: `/data` float32 (angles, rows, columns) of normalised −log sinograms, in the format of
 * `--out`'s extension (.h5/.hdf5/.nxs HDF5, .npz, .npy, .tif), with provenance beside it. It is
 * built as `<out>.partial`; an interrupted run resumes from the rows done when its arguments are
 * the same.
 *
 * @module
 */
import { defineTool, type Parsed, provenanceArgs } from "../../lib/run/flags.ts";
import { APPLY_MODEL_FLAGS } from "../../lib/pipelines/nostripesnet/apply_model_flags.ts";
import { refuseExisting } from "../../lib/run/atomic.ts";
import { callTool, runTool } from "../../lib/run/main.ts";
import { LumenError } from "../../lib/run/errors.ts";
import { progress } from "../../lib/run/progress.ts";
import { embedProvenance, makeProvenance, writeProvenance } from "../../lib/run/provenance.ts";
import { openScan } from "../../lib/io/nexus.ts";
import { volumeFormat } from "../../lib/io/volume.ts";
import { scanOptions } from "../../lib/tomo/scan_flags.ts";
import { sortingSize } from "../../lib/tomo/vo_sorting.ts";
import { patchGrid } from "../../lib/data/patches.ts";
import { initEngine } from "../../lib/tensor/engine.ts";
import { loadNoStripesNet } from "../../lib/pipelines/nostripesnet/model.ts";
import { loadStripeMask } from "../../lib/pipelines/nostripesnet/stripe_mask.ts";
import { type ApplyMethod, applyToScan } from "../../lib/pipelines/nostripesnet/apply_volume.ts";
import { ddpNote, resolveModelFile } from "../../lib/pipelines/nostripesnet/original_cli.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "apply_model",
  summary: "remove stripes from a whole scan with a trained model (or Vo's sorting)",
  permissions: ["--allow-read", "--allow-write=OUT"],
  assets: true,
  task: "apply-model",
  args: [
    { name: "MODEL", help: "checkpoint (as the original's first argument)", optional: true },
    { name: "H5", help: "the scan (as the original's second argument)", optional: true },
  ],
  flags: APPLY_MODEL_FLAGS,
  examples: [
    "pretrained_models/patch_100.json 119617.nxs -m stripe_masks.npz -o clean.h5",
    "--h5 119617.nxs --method vo-sorting --out vo.npz",
  ],
});

type Flags = Parsed<typeof meta.flags>;

async function apply(f: Flags): Promise<void> {
  if (f.ddp) ddpNote("apply_model", f.quiet);
  if (f._.length === 2) [f.modelFile, f.h5] = f._;
  else if (f._.length === 1) f.h5 ??= f._[0];
  if (!f.h5) throw new LumenError("--h5", "", "the scan is required (H5 argument or --h5)");
  volumeFormat(f.out, "--out");
  refuseExisting([f.out], f.overwrite);
  if (f.method === "model" && !f.modelFile) {
    throw new LumenError("--model-file", "", "--method model needs a trained checkpoint");
  }
  if (f.method === "model" && !f.mask) {
    throw new LumenError("--mask", "", "--method model needs the stripe mask (generate_mask)");
  }
  const modelFile = f.modelFile ? resolveModelFile(f.modelFile) : undefined;
  const scan = await openScan(f.h5, scanOptions(f));
  try {
    const angles = scan.projections.count, rows = scan.rows, cols = scan.cols;
    let method: ApplyMethod;
    if (f.method === "model") {
      const mask = await loadStripeMask(f.mask!, {
        key: f.maskName,
        scan: f.h5,
        shape: [angles, rows, cols],
      });
      await initEngine({ backend: f.backend, threads: f.threads });
      const net = await loadNoStripesNet(modelFile!);
      const size = f.patchSize.length ? f.patchSize : net.data?.patchSize ?? [1801, 256];
      if (size.length !== 2) throw new LumenError("--patch-size", size.join(" "), "expected H W");
      method = {
        kind: "model",
        gen: net.gen,
        mask,
        grid: patchGrid([angles, cols], [size[0], size[1]], f.h5),
      };
    } else {
      method = { kind: "vo-sorting", size: sortingSize(f.voSize, cols) };
    }
    const args = provenanceArgs(meta, { ...f, _: [] });
    const prov = await makeProvenance({
      tool: "apply_model",
      args,
      seed: null,
      inputs: [...scan.inputPaths(), ...[f.mask, modelFile].filter((x): x is string => !!x)],
      fast: 64 << 20,
    });
    const bar = progress("sinograms", rows, { quiet: f.quiet });
    const r = await applyToScan({
      scan,
      out: f.out,
      method,
      args,
      uuid: prov.uuid,
      chunkSize: f.chunkSize,
      writerWorker: f.writer === "worker",
      overwrite: f.overwrite,
      bar,
      onResume: (row) => f.verbose && console.log(`resuming at row ${row} of ${rows}`),
      attrs: () => ({ provenance: embedProvenance(prov) }),
    });
    bar.done();
    await writeProvenance(f.out, prov);
    if (f.verbose) {
      console.log(
        `${rows} sinograms → ${f.out}` +
          (method.kind === "model" ? ` (the model ran on ${r.patches} stripe patches)` : ""),
      );
      const s = r.seconds;
      console.log(
        `time: read ${s.read.toFixed(2)} s, correct ${s.correct.toFixed(2)} s, write ${
          s.write.toFixed(2)
        } s`,
      );
    }
  } finally {
    scan.close();
  }
}

/** Runs the tool in this process (see callTool): errors are thrown, the process keeps running. */
export const main = (argv: readonly string[]): Promise<void> => callTool(meta, apply, argv);

if (import.meta.main) await runTool(meta, apply);

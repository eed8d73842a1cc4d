/**
 * NoStripesNet's demo: the pipeline end to end on a simulated scan, every step the same tool a
 * user runs, called in-process.
 *
 * 1. simulates a tomography scan (a phantom projected in parallel beam, detector counts with
 *    flats, darks, noise and stripe-making detector defects) and writes it as a NeXus file in the
 *    i12 layout (lib/tomo/scan_sim.ts);
 * 2. `generate_mask`: finds its stripes (Larix STRIPES_DETECT + STRIPES_MERGE) into an .npz;
 * 3. `data_generator --mode patch`: cuts the sinograms into patches, pairs the clean ones with
 *    simulated stripes;
 * 4. `train --mode patch --preset small`: trains the GAN for a few epochs;
 * 5. `test`: the nine metrics and the RMSE table (stripe input, Vo's sorting, the model) on the
 *    held-out patches;
 * 6. `visualize`: figures of sinograms and reconstructions, and an HTML report.
 *
 * @example
 * ```ts
 * import { runDemo } from "./_demo.ts";
 * const r = await runDemo("demo_out/nostripesnet", { epochs: 1, preset: "tiny", seed: 0, quiet: true });
 * console.log(r.index);
 * ```
 * @module
 */
import { demoArgv, type DemoResult } from "../../lib/run/demo.ts";
import { makeProvenance, writeProvenance } from "../../lib/run/provenance.ts";
import { SCAN_PRESETS, simulateScan, writeScanNexus } from "../../lib/tomo/scan_sim.ts";
import { main as generateMask } from "./generate_mask.ts";
import { main as dataGenerator } from "./data_generator.ts";
import { main as train } from "./train.ts";
import { main as test } from "./test.ts";
import { main as visualize } from "./visualize.ts";

/** The demo's settings. */
export interface NsnDemoOptions {
  /** Training epochs (30 in `deno task demo`). */
  epochs: number;
  /** Model size. */
  preset: "small" | "tiny" | "paper";
  seed: number;
  threads?: number;
  quiet?: boolean;
}

/**
 * Runs NoStripesNet's demo into `out` (which must not hold an earlier run) and returns where its
 * report is and a summary of the artifacts.
 */
export async function runDemo(out: string, f: NsnDemoOptions): Promise<DemoResult> {
  const common = { threads: f.threads || undefined, quiet: f.quiet };
  const t0 = performance.now();
  const step = (name: string) => {
    if (!f.quiet) {
      console.log(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${name}`);
    }
  };

  step("1/6 simulating a scan (256 angles × 32 rows × 512 columns, 8 detector defects)");
  Deno.mkdirSync(out, { recursive: true });
  const scanPath = `${out}/scan.nxs`;
  // a bright beam (60 000 counts in the flats, as at a synchrotron) and eight defective pixels
  const sim = simulateScan({ ...SCAN_PRESETS.demo, seed: f.seed, flux: 60000, defects: 8 });
  await writeScanNexus(scanPath, sim);
  await writeProvenance(
    scanPath,
    await makeProvenance({ tool: "demo", args: { preset: "demo" }, seed: f.seed }),
  );

  step("2/6 generate_mask: stripe detection");
  const mask = { mask: `${out}/masks.npz`, "mask-name": "mscan" };
  await generateMask(demoArgv({
    h5: scanPath,
    archive: mask.mask,
    "file-name": mask["mask-name"],
    size: 35,
    radius: 3,
    threshold: 0.63,
    length: 85,
    depth: 10,
    width: 5,
    sensitivity: 85,
    quiet: f.quiet,
  }));

  step("3/6 data_generator --mode patch: 128×64 patches, simulated stripes on the clean ones");
  const data = `${out}/data`;
  await dataGenerator(demoArgv({
    mode: "patch",
    root: data,
    "hdf-root": scanPath,
    ...mask,
    "patch-size": "128,64",
    seed: f.seed,
    quiet: f.quiet,
  }));

  step(`4/6 train --mode patch --preset ${f.preset}: ${f.epochs} epochs`);
  await train(demoArgv({
    mode: "patch",
    root: data,
    "save-dir": `${out}/runs`,
    name: "demo",
    preset: f.preset,
    epochs: f.epochs,
    "batch-size": 8,
    "save-every": 0,
    // a short run: a higher rate than the paper's 2e-4, and no plateau decay
    "learning-rate": "1e-3",
    "plateau-patience": "100,100",
    seed: f.seed,
    ...common,
    verbose: !f.quiet,
  }));
  const model = `${out}/runs/demo_${f.epochs}.json`;

  step("5/6 test: metrics and RMSE on the held-out patches");
  const testOut = { "out-dir": `${out}/test_results`, name: "demo" };
  await test(demoArgv({ mode: "patch", root: data, "model-file": model, ...testOut, ...common }));

  step("6/6 visualize: figures and the HTML report");
  await visualize(demoArgv({
    root: data,
    "model-file": model,
    "out-dir": `${out}/figures`,
    name: "demo",
    "test-results": `${out}/test_results/demo.metrics.json`,
    ...mask,
    "sino-size": `${sim.angles.length},${sim.shape[2]}`,
    "last-angle": sim.angles[sim.angles.length - 1],
    ...common,
  }));

  return {
    index: `${out}/figures/demo.report.html`,
    summary: [
      `scan          ${out}/scan.nxs  (inspect it: deno task inspect ${out}/scan.nxs)`,
      `stripe mask   ${out}/masks.npz`,
      `dataset       ${out}/data/0000/`,
      `model         ${model}  (log: ${out}/runs/demo.log.jsonl)`,
      `metrics       ${out}/test_results/demo.metrics.json, .csv`,
      `figures       ${out}/figures/`,
      `report        ${out}/figures/demo.report.html`,
    ],
  };
}

/**
 * `deno task demo`: NoStripesNet end to end on embedded data, nothing but the clone needed.
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
 * 6. `visualize`: figures of sinograms and reconstructions, and an HTML report;
 *
 * then prints where everything is. Every step is the same tool a user runs, called in-process.
 *
 * @module
 */
import { existsSync, rmSync } from "node:fs";
import { defineTool, OVERWRITE, SEED, THREADS } from "../lib/run/flags.ts";
import { callTool, runTool } from "../lib/run/main.ts";
import { LumenError } from "../lib/run/errors.ts";
import { makeProvenance, writeProvenance } from "../lib/run/provenance.ts";
import { SCAN_PRESETS, simulateScan, writeScanNexus } from "../lib/tomo/scan_sim.ts";
import { main as generateMask } from "./nostripesnet/generate_mask.ts";
import { main as dataGenerator } from "./nostripesnet/data_generator.ts";
import { main as train } from "./nostripesnet/train.ts";
import { main as test } from "./nostripesnet/test.ts";
import { main as visualize } from "./nostripesnet/visualize.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "demo",
  summary: "NoStripesNet end to end on a simulated scan: mask, dataset, training, test, figures",
  permissions: ["--allow-read", "--allow-write=OUT"],
  assets: true,
  task: "demo",
  flags: {
    out: { type: "string", default: "demo_out", arg: "OUT", help: "folder for everything" },
    epochs: { type: "int", min: 1, default: 30, help: "training epochs" },
    preset: {
      type: "choice",
      choices: ["small", "tiny", "paper"],
      default: "small",
      help: "model size",
    },
    threads: THREADS,
    seed: SEED,
    overwrite: OVERWRITE,
  },
});

async function demo(f: import("../lib/run/flags.ts").Parsed<typeof meta.flags>): Promise<void> {
  const out = f.out;
  if (existsSync(out)) {
    if (!f.overwrite) {
      throw new LumenError(out, "", "exists; pass --overwrite to run the demo again into it");
    }
    rmSync(out, { recursive: true });
  }
  const q = f.quiet ? ["--quiet"] : [];
  const threads = f.threads ? ["--threads", String(f.threads)] : [];
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
  await generateMask([
    "--h5",
    scanPath,
    "--archive",
    `${out}/masks.npz`,
    "--file-name",
    "mscan",
    "--size",
    "35",
    "--radius",
    "3",
    "--threshold",
    "0.63",
    "--length",
    "85",
    "--depth",
    "10",
    "--width",
    "5",
    "--sensitivity",
    "85",
    ...q,
  ]);

  step("3/6 data_generator --mode patch: 128×64 patches, simulated stripes on the clean ones");
  await dataGenerator([
    "--mode",
    "patch",
    "--root",
    `${out}/data`,
    "--hdf-root",
    scanPath,
    "--mask",
    `${out}/masks.npz`,
    "--mask-name",
    "mscan",
    "--patch-size",
    "128,64",
    "--seed",
    String(f.seed),
    ...q,
  ]);

  step(`4/6 train --mode patch --preset ${f.preset}: ${f.epochs} epochs`);
  await train([
    "--mode",
    "patch",
    "--root",
    `${out}/data`,
    "--save-dir",
    `${out}/runs`,
    "--name",
    "demo",
    "--preset",
    f.preset,
    "--epochs",
    String(f.epochs),
    "--batch-size",
    "8",
    "--save-every",
    "0",
    // a short run: a higher rate than the paper's 2e-4, and no plateau decay
    "--learning-rate",
    "1e-3",
    "--plateau-patience",
    "100,100",
    "--seed",
    String(f.seed),
    ...threads,
    ...q,
    ...(f.quiet ? [] : ["--verbose"]),
  ]);
  const model = `${out}/runs/demo_${f.epochs}.json`;

  step("5/6 test: metrics and RMSE on the held-out patches");
  await test([
    "--mode",
    "patch",
    "--root",
    `${out}/data`,
    "--model-file",
    model,
    "--out-dir",
    `${out}/test_results`,
    "--name",
    "demo",
    ...threads,
    ...q,
  ]);

  step("6/6 visualize: figures and the HTML report");
  await visualize([
    "--root",
    `${out}/data`,
    "--model-file",
    model,
    "--out-dir",
    `${out}/figures`,
    "--name",
    "demo",
    "--test-results",
    `${out}/test_results/demo.metrics.json`,
    "--mask",
    `${out}/masks.npz`,
    "--mask-name",
    "mscan",
    "--sino-size",
    `${sim.angles.length},${sim.shape[2]}`,
    "--last-angle",
    String(sim.angles[sim.angles.length - 1]),
    ...threads,
    ...q,
  ]);

  const secs = ((performance.now() - t0) / 1000).toFixed(0);
  console.log(`\ndemo done in ${secs} s. Results in ${out}/:
  scan          ${out}/scan.nxs  (inspect it: deno task inspect ${out}/scan.nxs)
  stripe mask   ${out}/masks.npz
  dataset       ${out}/data/0000/
  model         ${model}  (log: ${out}/runs/demo.log.jsonl)
  metrics       ${out}/test_results/demo.metrics.json, .csv
  figures       ${out}/figures/
  report        ${out}/figures/demo.report.html`);
}

/** Runs the demo in this process (see callTool). */
export const main = (argv: readonly string[]): Promise<void> => callTool(meta, demo, argv);

if (import.meta.main) await runTool(meta, demo);

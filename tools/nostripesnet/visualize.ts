/**
 * `visualize`: figures and an HTML report of a NoStripesNet patch model (NoStripesNet's
 * `network/patch_visualizer.py` and its notebook).
 *
 * For chosen sinograms of one sample of a patch dataset it reassembles the patches, runs the
 * generator on the patches with simulated stripes (one patch per forward pass, mask
 * `|clean − stripe| > min`, as training), and draws clean / stripe / model output sinograms over
 * their filtered back-projection reconstructions (`<name>_sino_<row>.png`). Patches that hold real
 * stripes (`real_artifacts`) are shown as recorded in all three columns (the original left them
 * black, which spoils the reconstructions). Real-stripe figures (`<name>_real_<row>.png`) show the
 * recorded sinogram, Vo's sorting and, when the stripe mask archive is given (`--mask`), the model
 * output. A patch figure shows test pairs (stripe / output / clean / |output − clean|).
 *
 * The report `<name>.report.html` holds the loss curves of the training log (default
 * `<model dir>/<run name>.log.jsonl`), the metric tables of `tools/nostripesnet/test.ts` (default
 * `./test_results/<name>.metrics.json`, when present) and the figures, embedded (or linked with
 * `--no-embed`). `--check` opens it in headless Chromium and fails unless every image loads and
 * the console stays clean (then also grant `--allow-run=/usr/bin/chromium --allow-net=127.0.0.1
 * --allow-write=/tmp`).
 *
 * @module
 */
import { basename, extname } from "node:path";
import { mkdirSync } from "node:fs";
import { commandLine, defineTool, type Parsed } from "../../lib/run/flags.ts";
import { VISUALIZE_FLAGS } from "../../lib/pipelines/nostripesnet/visualize_flags.ts";
import { callTool, runTool } from "../../lib/run/main.ts";
import {
  type VisualFigure,
  writeVisualReport,
} from "../../lib/pipelines/nostripesnet/visual_report.ts";
import { LumenError } from "../../lib/run/errors.ts";
import { progress } from "../../lib/run/progress.ts";
import { refuseExisting, writeFileAtomic } from "../../lib/run/atomic.ts";
import { initEngine } from "../../lib/tensor/engine.ts";
import { sortingSize } from "../../lib/tomo/vo_sorting.ts";
import { checkHtmlInChromium } from "../../lib/viz/browser_check.ts";
import { loadNoStripesNet, type NSN_PRESETS } from "../../lib/pipelines/nostripesnet/model.ts";
import { listPatchPairs } from "../../lib/pipelines/nostripesnet/patch_loader.ts";
import { trainedTestSplit } from "../../lib/pipelines/nostripesnet/test_split.ts";
import { loadStripeMask } from "../../lib/pipelines/nostripesnet/stripe_mask.ts";
import { resolveModelFile } from "../../lib/pipelines/nostripesnet/original_cli.ts";
import {
  chooseRows,
  indexSample,
  projectionAngles,
  sinogramLayout,
} from "../../lib/pipelines/nostripesnet/sample_index.ts";
import {
  fakeRowFigure,
  realRowFigure,
  testPatchesFigure,
} from "../../lib/pipelines/nostripesnet/visual.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "visualize",
  summary: "figures (sinograms over reconstructions) and an HTML report of a NoStripesNet model",
  permissions: ["--allow-read", "--allow-write=OUT_DIR"],
  assets: true,
  flags: VISUALIZE_FLAGS,
  examples: [
    "--root ./data --model-file ./pretrained_models/patch_example_10.json --out-dir ./figures",
    "-r ./data -f wider_stripes_100.tar --sinograms 1000,1500 --mask stripe_masks.npz",
  ],
});

type Flags = Parsed<typeof meta.flags>;

async function visualize(f: Flags): Promise<void> {
  const modelFile = resolveModelFile(f.modelFile);
  const name = f.name ?? basename(modelFile, extname(modelFile));
  const reportPath = `${f.outDir}/${name}.report.html`;
  refuseExisting([reportPath], f.overwrite, "or choose another --name");
  const idx = indexSample(f.root, f.sample, f.shift);
  const L = await sinogramLayout(idx, f.sinoSize);
  const theta = projectionAngles(L.angles, f.lastAngle);
  const fig = { fbp: { angles: theta, center: f.center }, reconBin: f.reconBin };
  const { fake: fakeRows, real: realRows } = chooseRows(idx, f.sinograms, f.real);
  const mask = f.mask && realRows.length
    ? await loadStripeMask(f.mask, { key: f.maskName, shape: [L.angles, -1, L.cols] })
    : null;
  await initEngine({ backend: f.backend, threads: f.threads });
  const net = await loadNoStripesNet(modelFile, {
    preset: f.preset as keyof typeof NSN_PRESETS,
    genWidth: f.width,
    genDepth: f.depth,
  });
  mkdirSync(f.outDir, { recursive: true });
  const figures: VisualFigure[] = [];
  const add = async (fig: Omit<VisualFigure, "path">, file: string) => {
    const path = `${f.outDir}/${file}`;
    await writeFileAtomic(path, fig.png, { overwrite: f.overwrite });
    figures.push({ ...fig, path });
    if (f.verbose) console.log(`${fig.title}: ${path}`);
  };
  const bar = progress("sinograms", fakeRows.length + realRows.length, {
    quiet: f.quiet || f.verbose,
  });
  const row4 = (r: number) => String(r).padStart(4, "0");
  for (const row of fakeRows) {
    const { png, ran } = await fakeRowFigure(net.gen, idx, L, row, fig);
    const caption = `synthetic stripes; the model ran on ${ran} patch${ran === 1 ? "" : "es"}`;
    const title = `Sinogram ${row}`;
    await add(
      { section: "Synthetic stripes", title, caption, png },
      `${name}_sino_${row4(row)}.png`,
    );
    bar.tick();
  }
  const voSize = sortingSize(f.voSize, L.cols);
  for (const row of realRows) {
    const { png, caption } = await realRowFigure(net.gen, idx, L, row, mask, fig, voSize);
    const title = `Sinogram ${row}, real stripes`;
    await add({ section: "Real stripes", title, caption, png }, `${name}_real_${row4(row)}.png`);
    bar.tick();
  }
  bar.done();
  // test pairs of the split the model was trained with
  const pairs = f.patches > 0 ? await listPatchPairs(f.root).catch(() => []) : [];
  if (pairs.length) {
    const { tvt, test } = trainedTestSplit(pairs.length, f.tvt, net.data);
    const png = await testPatchesFigure(net.gen, pairs, test.slice(0, f.patches));
    const caption = `test split of ${tvt.join(":")}; values in [−1, 1]; the error in magma`;
    const part = { section: "Test patches" as const, title: "Test patches", caption };
    if (png) await add({ ...part, png }, `${name}_patches.png`);
  }
  // the report
  await writeVisualReport(reportPath, figures, {
    name,
    modelFile,
    net,
    dataset: f.root,
    sample: f.sample,
    layout: L,
    log: f.log,
    testResults: f.testResults,
    embed: f.embed,
    footer: commandLine(meta, f),
  }, f.overwrite);
  if (!f.quiet) {
    console.log(
      `wrote ${figures.length} figure${figures.length === 1 ? "" : "s"} and ${reportPath}`,
    );
  }
  if (f.check) {
    const r = await checkHtmlInChromium(reportPath);
    if (!r.ok) throw new LumenError(reportPath, "chromium", r.problems.join("; "));
    if (!f.quiet) {
      console.log(
        `chromium: ${r.images.length} images loaded, ${r.svgCount} charts, no console errors`,
      );
    }
  }
}

/** Runs the tool in this process (see callTool): errors are thrown, the process keeps running. */
export const main = (argv: readonly string[]): Promise<void> => callTool(meta, visualize, argv);

if (import.meta.main) await runTool(meta, visualize);

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
import { basename, dirname, extname, relative } from "node:path";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { BACKEND, defineTool, OVERWRITE, type Parsed, THREADS } from "../../lib/run/flags.ts";
import { callTool, runTool } from "../../lib/run/main.ts";
import { TAR_ARCHITECTURE } from "../../lib/pipelines/nostripesnet/flags.ts";
import { LumenError } from "../../lib/run/errors.ts";
import { progress } from "../../lib/run/progress.ts";
import { writeFileAtomic } from "../../lib/run/atomic.ts";
import { readLog } from "../../lib/run/log.ts";
import { readTiff } from "../../lib/io/tiff.ts";
import { readNpzArray } from "../../lib/io/npz.ts";
import { fromUint16 } from "../../lib/data/patches.ts";
import type { PatchPair } from "../../lib/pipelines/nostripesnet/patch_loader.ts";
import type { NSN_PRESETS } from "../../lib/pipelines/nostripesnet/model.ts";
import { defaultSortingSize, removeStripeBasedSorting } from "../../lib/tomo/vo_sorting.ts";
import { sinogramFigure } from "../../lib/pipelines/nostripesnet/figures.ts";
import { figurePng, type Panel } from "../../lib/viz/figure.ts";
import {
  type LossRecord,
  type ReportImage,
  type ReportSection,
  writeHtmlReport,
} from "../../lib/viz/html_report.ts";
import { checkHtmlInChromium } from "../../lib/viz/browser_check.ts";
import { readTestResult, testReportTables } from "../../lib/pipelines/nostripesnet/test_result.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "visualize",
  summary: "figures (sinograms over reconstructions) and an HTML report of a NoStripesNet model",
  permissions: ["--allow-read", "--allow-write=OUT_DIR"],
  assets: true,
  flags: {
    root: { type: "string", short: "r", default: "./data", arg: "ROOT", help: "dataset root" },
    modelFile: {
      type: "string",
      short: "f",
      required: true,
      arg: "FILE",
      help: "checkpoint (Lumen .json from train, or NoStripesNet .tar)",
    },
    sample: { type: "int", min: 0, default: 0, help: "sample number (folder <root>/<sample:04>)" },
    shift: { type: "int", min: 0, default: 0, help: "shift number in the file names" },
    sinograms: {
      type: "list",
      of: "int",
      min: 0,
      arg: "ROWS",
      help: "sinogram indices to draw (default: 3 spread over those with simulated stripes)",
    },
    real: {
      type: "boolean",
      default: true,
      help: "also draw sinograms with real stripes (--no-real: skip)",
    },
    mask: { type: "string", arg: "NPZ", help: "stripe-mask archive: the model on real stripes" },
    maskName: { type: "string", arg: "KEY", help: "entry in --mask (default: the only m* entry)" },
    sinoSize: {
      type: "list",
      of: "int",
      min: 1,
      arg: "H,W",
      help: "full sinogram size (default: one row of patches)",
    },
    lastAngle: {
      type: "number",
      help: "angle of the last projection in degrees (default 180 for an odd count, e.g. " +
        "1801 over 0–180°, else 180·(n−1)/n)",
    },
    center: { type: "number", help: "rotation axis in detector pixels (default columns/2)" },
    reconBin: { type: "int", min: 1, help: "column binning for FBP (default ⌈columns/512⌉)" },
    patches: { type: "int", min: 0, default: 4, help: "test pairs in the patch figure (0: none)" },
    log: {
      type: "string",
      arg: "JSONL",
      help: "training log (default <model dir>/<run>.log.jsonl)",
    },
    testResults: {
      type: "string",
      arg: "JSON",
      help: "test metrics (default ./test_results/<name>.metrics.json)",
    },
    outDir: {
      type: "string",
      short: "o",
      default: "./figures",
      arg: "OUT_DIR",
      help: "where the PNGs and the report go",
    },
    name: { type: "string", short: "n", help: "output file prefix (default: model file name)" },
    embed: {
      type: "boolean",
      default: true,
      help: "embed the figures in the report (--no-embed: link the PNG files)",
    },
    check: {
      type: "boolean",
      help: "open the report in headless Chromium and check it (needs more permissions)",
      provenance: false,
    },
    ...TAR_ARCHITECTURE,
    backend: BACKEND,
    threads: THREADS,
    verbose: { type: "boolean", short: "v", help: "print what is done", provenance: false },
    overwrite: OVERWRITE,
  },
  examples: [
    "--root ./data --model-file ./pretrained_models/patch_example_10.json --out-dir ./figures",
    "-r ./data -f wider_stripes_100.tar --sinograms 1000,1500 --mask stripe_masks.npz",
  ],
});

type Flags = Parsed<typeof meta.flags>;

/**
 * The engine and the model code, imported after the flags are read: the engine compiles its
 * WebAssembly when imported, which `--help` must not need.
 */
async function engine() {
  const [e, t, ops, data, nsn] = await Promise.all([
    import("../../lib/tensor/engine.ts"),
    import("../../lib/tensor/tensor.ts"),
    import("../../lib/tensor/ops/mod.ts"),
    import("../../lib/pipelines/nostripesnet/patch_loader.ts"),
    import("../../lib/pipelines/nostripesnet/model.ts"),
  ]);
  return { ...e, ...t, ...ops, ...data, ...nsn };
}
type Engine = Awaited<ReturnType<typeof engine>>;

const PATCH_RE = /^(\d{4,})_shift(\d{2,})_(\d{4,})_w(\d{2,})\.tif$/;

/** The patches of one sample: per sinogram row, per patch index, where each kind lies. */
interface SampleIndex {
  dir: string;
  rows: Map<number, Map<number, { clean?: string; stripe?: string; real?: string }>>;
}

function indexSample(root: string, sample: number, shift: number): SampleIndex {
  const dir = `${root}/${String(sample).padStart(4, "0")}`;
  if (!existsSync(dir)) {
    throw new LumenError(dir, "", `no such sample folder (--sample ${sample})`);
  }
  const rows: SampleIndex["rows"] = new Map();
  const kinds = [
    ["fake_artifacts/clean", "clean"],
    ["fake_artifacts/stripe", "stripe"],
    ["real_artifacts/stripe", "real"],
  ] as const;
  for (const [sub, kind] of kinds) {
    const d = `${dir}/${sub}`;
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) {
      const m = PATCH_RE.exec(f);
      if (!m || Number(m[1]) !== sample || Number(m[2]) !== shift) continue;
      const row = Number(m[3]), p = Number(m[4]);
      let r = rows.get(row);
      if (!r) rows.set(row, r = new Map());
      let e = r.get(p);
      if (!e) r.set(p, e = {});
      e[kind] = `${d}/${f}`;
    }
  }
  if (!rows.size) {
    throw new LumenError(dir, "", `holds no patches of sample ${sample}, shift ${shift}`);
  }
  return { dir, rows };
}

async function readU16(path: string): Promise<{ data: Uint16Array; shape: [number, number] }> {
  const a = await readTiff(path);
  if (a.dtype !== "uint16" || a.shape.length !== 2) {
    throw new LumenError(path, "", `expected a 2-D uint16 patch, found ${a.dtype} [${a.shape}]`);
  }
  return { data: a.data as Uint16Array, shape: [a.shape[0], a.shape[1]] };
}

/** The [0, 1] values of a uint16 patch. */
function unit(u: Uint16Array): Float32Array {
  return Float32Array.from(u, (v) => v / 65535);
}

interface Layout {
  ph: number;
  pw: number;
  angles: number;
  cols: number;
  nA: number;
  nC: number;
  offA: number;
  offC: number;
}

function put(dst: Float32Array, L: Layout, p: number, patch: Float32Array): void {
  const r0 = L.offA + Math.floor(p / L.nC) * L.ph, c0 = L.offC + (p % L.nC) * L.pw;
  for (let y = 0; y < L.ph; y++) {
    dst.set(patch.subarray(y * L.pw, (y + 1) * L.pw), (r0 + y) * L.cols + c0);
  }
}

function take(src: Float32Array | Uint8Array, L: Layout, p: number): Float32Array {
  const r0 = L.offA + Math.floor(p / L.nC) * L.ph, c0 = L.offC + (p % L.nC) * L.pw;
  const out = new Float32Array(L.ph * L.pw);
  for (let y = 0; y < L.ph; y++) {
    for (let x = 0; x < L.pw; x++) out[y * L.pw + x] = src[(r0 + y) * L.cols + c0 + x];
  }
  return out;
}

async function visualize(f: Flags): Promise<void> {
  const name = f.name ?? basename(f.modelFile, extname(f.modelFile));
  const reportPath = `${f.outDir}/${name}.report.html`;
  if (existsSync(reportPath) && !f.overwrite) {
    throw new LumenError(
      reportPath,
      "",
      "exists; pass --overwrite to replace it, or choose another --name",
    );
  }
  const idx = indexSample(f.root, f.sample, f.shift);
  // geometry from the first patch
  const first = [...idx.rows.values()][0].values().next().value!;
  const { shape: [ph, pw] } = await readU16((first.clean ?? first.real ?? first.stripe)!);
  const maxP = Math.max(...[...idx.rows.values()].flatMap((r) => [...r.keys()])) + 1;
  let angles = ph, cols = pw * maxP;
  if (f.sinoSize.length) {
    if (f.sinoSize.length !== 2) {
      throw new LumenError("--sino-size", f.sinoSize.join(","), "expected H,W");
    }
    [angles, cols] = f.sinoSize;
  }
  const nA = Math.floor(angles / ph), nC = Math.floor(cols / pw);
  if (nA < 1 || nC < 1 || nA * nC < maxP) {
    throw new LumenError(
      "--sino-size",
      `${angles},${cols}`,
      `${maxP} patches of ${ph}×${pw} do not fit a ${angles}×${cols} sinogram`,
    );
  }
  const L: Layout = {
    ph,
    pw,
    angles,
    cols,
    nA,
    nC,
    offA: Math.floor((angles - nA * ph) / 2),
    offC: Math.floor((cols - nC * pw) / 2),
  };
  const lastDeg = f.lastAngle ?? (angles % 2 === 1 ? 180 : (180 * (angles - 1)) / angles);
  const theta = Array.from(
    { length: angles },
    (_, a) => (angles > 1 ? (lastDeg * a) / (angles - 1) : 0) * Math.PI / 180,
  );
  const fbpOpts = { angles: theta, center: f.center };

  // which sinograms
  const allRows = [...idx.rows.keys()].sort((a, b) => a - b);
  const hasFake = (r: number) => [...idx.rows.get(r)!.values()].some((e) => e.clean && e.stripe);
  const hasReal = (r: number) => [...idx.rows.get(r)!.values()].some((e) => e.real);
  const spread = (xs: number[], k: number) =>
    xs.length <= k
      ? xs
      : Array.from({ length: k }, (_, i) => xs[Math.round((i * (xs.length - 1)) / (k - 1 || 1))]);
  let fakeRows: number[], realRows: number[];
  if (f.sinograms?.length) {
    for (const r of f.sinograms) {
      if (!idx.rows.has(r)) {
        throw new LumenError(
          "--sinograms",
          String(r),
          `sample ${f.sample} has no patches of sinogram ${r}`,
        );
      }
    }
    fakeRows = f.sinograms.filter(hasFake);
    realRows = f.real ? f.sinograms.filter(hasReal) : [];
  } else {
    fakeRows = spread(allRows.filter(hasFake), 3);
    realRows = f.real ? spread(allRows.filter(hasReal), 2) : [];
  }

  // the stripe mask for real stripes
  let realMask: { data: Uint8Array; shape: number[] } | null = null;
  if (f.mask && realRows.length) {
    let key = f.maskName;
    if (!key) {
      const { listNpz } = await import("../../lib/io/npz.ts");
      const keys = (await listNpz(f.mask)).map((e) => e.name).filter((n) =>
        /^m/.test(n) && !n.endsWith("_weights")
      );
      if (keys.length !== 1) {
        throw new LumenError(
          f.mask,
          "",
          `holds ${keys.length} masks (${keys.join(", ")}): choose one with --mask-name`,
        );
      }
      key = keys[0];
    }
    const m = await readNpzArray(f.mask, key);
    if (m.shape.length !== 3 || m.shape[0] !== angles || m.shape[2] !== cols) {
      throw new LumenError(
        f.mask,
        key,
        `mask shape (${
          m.shape.join(", ")
        }) does not match sinograms of ${angles}×${cols} (give --sino-size)`,
      );
    }
    realMask = { data: m.data as Uint8Array, shape: m.shape };
  }

  const E = await engine();
  await E.initEngine({ backend: f.backend, threads: f.threads });
  const net = await E.loadNoStripesNet(f.modelFile, {
    preset: f.preset as keyof typeof NSN_PRESETS,
    genWidth: f.width,
    genDepth: f.depth,
  });
  net.gen.eval();
  mkdirSync(f.outDir, { recursive: true });
  const images: {
    section: "fake" | "real" | "patches";
    title: string;
    caption: string;
    path: string;
    png: Uint8Array;
  }[] = [];
  const write = async (file: string, png: Uint8Array) => {
    const path = `${f.outDir}/${file}`;
    await writeFileAtomic(path, png, { overwrite: f.overwrite });
    return path;
  };
  const bar = progress("sinograms", fakeRows.length + realRows.length, {
    quiet: f.quiet || f.verbose,
  });

  for (const row of fakeRows) {
    const clean = new Float32Array(angles * cols), stripe = new Float32Array(angles * cols);
    const out = new Float32Array(angles * cols);
    // the sinogram's pairs go through the generator as one batch (batch-norm statistics of a
    // batch, as in training)
    const pairs: { p: number; xs: Float32Array; mask: Float32Array }[] = [];
    for (const [p, e] of idx.rows.get(row)!) {
      if (e.clean && e.stripe) {
        const c = await readU16(e.clean), s = await readU16(e.stripe);
        const cm = fromUint16(c.data), sm = fromUint16(s.data);
        pairs.push({ p, xs: sm, mask: E.stripeMask(cm, sm) });
        put(clean, L, p, unit(c.data));
        put(stripe, L, p, unit(s.data));
      } else if (e.real) {
        const r = unit((await readU16(e.real)).data);
        put(clean, L, p, r);
        put(stripe, L, p, r);
        put(out, L, p, r);
      }
    }
    const ys = await E.inpaintBatch(net.gen, pairs.map((q) => q.xs), pairs.map((q) => q.mask), [
      ph,
      pw,
    ]);
    pairs.forEach((q, i) => put(out, L, q.p, ys[i].map((v) => (v + 1) / 2)));
    const ran = pairs.length;
    const { png } = sinogramFigure([
      { title: "clean", data: clean },
      { title: "stripe", data: stripe },
      { title: "model output", data: out },
    ], { shape: [angles, cols], title: `Sinogram ${row}`, fbp: fbpOpts, reconBin: f.reconBin });
    const path = await write(`${name}_sino_${String(row).padStart(4, "0")}.png`, png);
    images.push({
      section: "fake",
      title: `Sinogram ${row}`,
      caption: `synthetic stripes; the model ran on ${ran} patch${ran === 1 ? "" : "es"}`,
      path,
      png,
    });
    if (f.verbose) console.log(`sinogram ${row}: ${path}`);
    bar.tick();
  }

  for (const row of realRows) {
    const raw = new Float32Array(angles * cols);
    const realPatches: number[] = [];
    for (const [p, e] of idx.rows.get(row)!) {
      const src = e.real ?? e.clean;
      if (!src) continue;
      put(raw, L, p, unit((await readU16(src)).data));
      if (e.real) realPatches.push(p);
    }
    const vo = removeStripeBasedSorting(raw, angles, cols, { size: defaultSortingSize(cols) });
    const cols3 = [{ title: "raw", data: raw }, { title: "Vo sorting", data: vo }];
    let caption = "real stripes";
    if (realMask) {
      const [A, R, C] = realMask.shape;
      if (row >= R) throw new LumenError(f.mask!, "", `has ${R} rows; sinogram ${row} is outside`);
      const m = new Uint8Array(A * C);
      for (let a = 0; a < A; a++) {
        m.set(realMask.data.subarray((a * R + row) * C, (a * R + row + 1) * C), a * C);
      }
      const out = raw.slice();
      // every patch of the row in one batch (batch-norm statistics as in training); the output
      // replaces only the real-stripe patches that the mask marks
      const ps = [...idx.rows.get(row)!.keys()];
      const masks = ps.map((p) => take(m, L, p).map((v) => (v ? 1 : 0)));
      const ys = await E.inpaintBatch(
        net.gen,
        ps.map((p) => take(raw, L, p).map((v) => v * 2 - 1)),
        masks,
        [ph, pw],
      );
      let ran = 0;
      ps.forEach((p, i) => {
        if (!realPatches.includes(p) || !masks[i].some((v) => v !== 0)) return;
        put(out, L, p, ys[i].map((v) => (v + 1) / 2));
        ran++;
      });
      cols3.push({ title: "model output", data: out });
      caption += `; the model ran on ${ran} patch${ran === 1 ? "" : "es"} (mask ${
        basename(f.mask!)
      })`;
    } else caption += "; give --mask to run the model on them";
    const { png } = sinogramFigure(cols3, {
      shape: [angles, cols],
      title: `Sinogram ${row} (real stripes)`,
      fbp: fbpOpts,
      reconBin: f.reconBin,
    });
    const path = await write(`${name}_real_${String(row).padStart(4, "0")}.png`, png);
    images.push({ section: "real", title: `Sinogram ${row}, real stripes`, caption, path, png });
    if (f.verbose) console.log(`sinogram ${row} (real stripes): ${path}`);
    bar.tick();
  }
  bar.done();

  // test pairs: stripe / output / clean / |output − clean|
  if (f.patches > 0) {
    let pairs: PatchPair[];
    try {
      pairs = await E.listPatchPairs(f.root);
    } catch {
      pairs = [];
    }
    if (pairs.length) {
      const test = E.splitPairs(pairs.length, [3, 1, 1], 0).test.slice(0, f.patches);
      const panels: Panel[] = [];
      const size = [Math.min(ph, 2 * Math.min(pw, 192)), Math.min(pw, 192)] as const;
      const cs: Float32Array[] = [], ss: Float32Array[] = [];
      for (const i of test) {
        cs.push(fromUint16((await readU16(pairs[i].clean)).data));
        ss.push(fromUint16((await readU16(pairs[i].stripe)).data));
      }
      const ys = await E.inpaintBatch(net.gen, ss, cs.map((c, j) => E.stripeMask(c, ss[j])), [
        ph,
        pw,
      ]);
      for (const [j, i] of test.entries()) {
        const c = cs[j], s = ss[j], y = ys[j];
        const err = y.map((v, k) => Math.abs(v - c[k]));
        // "0000/0000_shift00_0012_w03.tif" → "0012_w03"
        const t = pairs[i].name.replace(/^.*_(\d+_w\d+)\.tif$/, "$1");
        panels.push(
          { data: s, shape: [ph, pw], title: `${t} stripe`, range: [-1, 1], size },
          { data: y, shape: [ph, pw], title: "model output", range: [-1, 1], size },
          { data: c, shape: [ph, pw], title: "clean", range: [-1, 1], size },
          {
            data: err,
            shape: [ph, pw],
            title: "|output - clean|",
            colormap: "magma",
            colorbar: true,
            size,
          },
        );
      }
      if (panels.length) {
        const png = figurePng(panels, {
          columns: 4,
          title: "Test patches",
          textScale: 1,
          titleScale: 2,
        });
        const path = await write(`${name}_patches.png`, png);
        images.push({
          section: "patches",
          title: "Test patches",
          caption: "values in [−1, 1]; the error in magma with its range on the bar",
          path,
          png,
        });
      }
    }
  }

  // the report
  const runName = basename(f.modelFile, extname(f.modelFile)).replace(/_\d+(_b\d+)?$/, "");
  const logPath = f.log ?? `${dirname(f.modelFile)}/${runName}.log.jsonl`;
  let losses: LossRecord[] | undefined;
  if (existsSync(logPath)) losses = await readLog(logPath) as LossRecord[];
  else if (f.log) throw new LumenError(f.log, "", "no such training log");
  const testPath = f.testResults ?? `./test_results/${name}.metrics.json`;
  const sections: ReportSection[] = [];
  if (existsSync(testPath)) {
    const r = await readTestResult(testPath);
    sections.push({
      heading: "Test metrics",
      text:
        `${r.pairs.test} test pairs of ${r.pairs.total}, ${r.batches} batches of ≤ ${r.batchSize} (${testPath}).`,
      tables: testReportTables(r),
    });
  } else if (f.testResults) throw new LumenError(f.testResults, "", "no such test result");
  const img = (x: (typeof images)[number]): ReportImage => ({
    title: x.title,
    caption: x.caption,
    ...(f.embed ? { png: x.png } : { src: relative(f.outDir, x.path) }),
  });
  const bySection = (s: string) => images.filter((x) => x.section === s).map(img);
  if (bySection("fake").length) {
    sections.push({
      heading: "Synthetic stripes",
      text: "Clean, stripe and model output sinograms (values in [0, 1]) over their filtered " +
        "back-projection reconstructions, with shared display ranges.",
      images: bySection("fake"),
    });
  }
  if (bySection("real").length) {
    sections.push({ heading: "Real stripes", images: bySection("real") });
  }
  if (bySection("patches").length) {
    sections.push({ heading: "Test patches", images: bySection("patches") });
  }
  await writeHtmlReport(reportPath, {
    title: `NoStripesNet: ${name}`,
    subtitle: `model ${f.modelFile}${net.epoch !== null ? `, epoch ${net.epoch}` : ""}`,
    meta: {
      model: f.modelFile,
      architecture: `PatchUNet width ${net.config.genWidth}, depth ${net.config.genDepth}`,
      dataset: f.root,
      sample: f.sample,
      "patch size": `${ph}×${pw}`,
      "sinogram size": `${angles}×${cols}`,
      "training log": losses ? logPath : "not found",
      generated: new Date().toISOString(),
    },
    losses,
    sections,
    footer: `visualize ${Deno.args.join(" ")}`,
  }, { overwrite: f.overwrite });
  if (!f.quiet) {
    console.log(`wrote ${images.length} figure${images.length === 1 ? "" : "s"} and ${reportPath}`);
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

/**
 * `align`: applies a trained SEAMLeSS network to a whole stack, section by section (each to
 * the previous aligned one), resumably (`<out>.parts/`). Writes an HDF5 with `main` (z, y, x)
 * aligned sections, `field` (z, y, x, 2) displacements in pixels and the per-section quality
 * `cpc_before`/`cpc_after` (chunked Pearson correlation with the neighbour, eval/cpc.py).
 *
 * @module
 */
import { renameSync, rmSync } from "node:fs";
import { BACKEND, defineTool, OVERWRITE, type Parsed, THREADS } from "../../lib/run/flags.ts";
import { callTool, runTool } from "../../lib/run/main.ts";
import { LumenError } from "../../lib/run/errors.ts";
import { pathExists, tempPathBeside } from "../../lib/run/atomic.ts";
import { finishResumableDir, openResumableDir } from "../../lib/run/resume.ts";
import { initEngine } from "../../lib/tensor/engine.ts";
import { H5File } from "../../lib/io/hdf5.ts";
import { readVolume } from "../../lib/pipelines/seamless/gen_stack.ts";
import { plane } from "../../lib/pipelines/seamless/masks.ts";
import { type AlignedSection, alignStack } from "../../lib/pipelines/seamless/align.ts";
import { loadNet, netBase } from "../../lib/pipelines/seamless/train_run.ts";
import { originalFlags } from "../../lib/pipelines/seamless/flags.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "seamless/align",
  summary: "align a stack with a trained network; writes aligned sections, fields and quality",
  permissions: ["--allow-read", "--allow-write=DIR"],
  flags: {
    net: { type: "string", arg: "NET", required: true, help: "trained network (pt/NAME)" },
    source: {
      type: "string",
      arg: "VOLUME",
      required: true,
      help: "vol.h5:/dataset, .tif or .npy (z, y, x)",
    },
    out: { type: "string", arg: "FILE", required: true, help: "aligned HDF5 to write" },
    chunk: { type: "int", min: 2, default: 32, help: "tile side of the Pearson quality measure" },
    padding: {
      type: "int",
      min: 0,
      arg: "PX",
      help: "zero frame around each section (default: the network's training --padding)",
    },
    overwrite: OVERWRITE,
    backend: BACKEND,
    threads: THREADS,
  },
  examples: ["--net pt/fine_tune_example --source vol.h5:/volume --out aligned.h5"],
});

type Flags = Parsed<typeof meta.flags>;

/** Runs the tool; returns the sections. */
export async function align(
  f: Flags,
  onSection?: (z: number, s: AlignedSection) => void,
): Promise<AlignedSection[]> {
  if (pathExists(f.out) && !f.overwrite) {
    throw new LumenError(f.out, "", "exists; pass --overwrite to replace it");
  }
  await initEngine({ backend: f.backend, threads: f.threads });
  const { net, extra } = await loadNet(f.net);
  const padding = f.padding ?? (extra.args as { padding?: number } | undefined)?.padding ?? 0;
  const vol = await readVolume(f.source);
  const [depth, h, w] = vol.shape;
  const sections = Array.from(
    { length: depth },
    (_, z) => plane(h, w, vol.data.subarray(z * h * w, (z + 1) * h * w)),
  );
  const parts = `${f.out}.parts`;
  openResumableDir(parts, { net: netBase(f.net), source: f.source, chunk: f.chunk, padding }, {
    overwrite: f.overwrite,
  });
  const res = await alignStack(net, sections, { chunk: f.chunk, padding, parts, onSection });
  const main = new Float32Array(depth * h * w), field = new Float32Array(depth * h * w * 2);
  res.forEach((s, z) => {
    main.set(s.aligned.data, z * h * w);
    field.set(s.field, z * h * w * 2);
  });
  const tmp = tempPathBeside(f.out);
  const file = await H5File.open(tmp, "w");
  try {
    file.write("main", { data: main, shape: [depth, h, w], dtype: "float32" });
    file.write("field", { data: field, shape: [depth, h, w, 2], dtype: "float32" });
    file.write("cpc_before", {
      data: Float64Array.from(res, (s) => s.cpcBefore),
      shape: [depth],
      dtype: "float64",
    });
    file.write("cpc_after", {
      data: Float64Array.from(res, (s) => s.cpcAfter),
      shape: [depth],
      dtype: "float64",
    });
  } finally {
    file.close();
  }
  renameSync(tmp, f.out);
  finishResumableDir(parts);
  rmSync(parts, { recursive: true, force: true });
  return res;
}

/** Runs the tool in this process (errors are thrown). */
export const main = (argv: readonly string[]): Promise<void> =>
  callTool(meta, async (f) => {
    await align(f);
  }, originalFlags(argv));

if (import.meta.main) {
  await runTool(meta, async (f) => {
    const t0 = performance.now();
    const res = await align(
      f,
      f.quiet ? undefined : (z, s) => {
        if (z > 0) {
          console.error(`section ${z}: cpc ${s.cpcBefore.toFixed(4)} → ${s.cpcAfter.toFixed(4)}`);
        }
      },
    );
    const secs = (performance.now() - t0) / 1000;
    console.log(`${f.out}: ${res.length} sections, ${(res.length / secs).toFixed(2)} sections/s`);
  }, originalFlags(Deno.args));
}

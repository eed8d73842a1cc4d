/**
 * `deno task demo`: a first look at Lumen with nothing but the clone. It simulates a small
 * tomography scan, writes it as a NeXus file in the i12 layout (darks, flats, projections and an
 * image key, chunked and compressed), opens it again with the scan reader, normalises it into
 * sinograms (flat/dark correction and −log in the WebAssembly kernel) and writes them as a TIFF
 * stack, with provenance sidecars; then prints what the scan file holds (`inspect`).
 *
 * The phantom is a few ellipsoids projected analytically in parallel beam; a few detector columns
 * have a gain error in the projections but not in the flats, so the sinograms show stripes.
 * (A temporary demo: it gives way to the NoStripesNet pipeline; lib/sim will hold the real
 * phantom and stripe simulation.)
 *
 * @module
 */
import { defineTool, OVERWRITE, provenanceArgs, SEED } from "../lib/run/flags.ts";
import { onAbort, runTool } from "../lib/run/main.ts";
import { ioError, pathExists, tempPathBeside } from "../lib/run/atomic.ts";
import { LumenError } from "../lib/run/errors.ts";
import { embedProvenance, makeProvenance, writeProvenance } from "../lib/run/provenance.ts";
import { progress } from "../lib/run/progress.ts";
import { ndarray } from "../lib/io/array.ts";
import { H5File } from "../lib/io/hdf5.ts";
import { openScan } from "../lib/io/nexus.ts";
import { writeTiff } from "../lib/io/tiff.ts";
import { readSinograms } from "../lib/tomo/normalise.ts";
import { SimRng } from "../lib/sim/rng.ts";
import { formatReport, inspectFile } from "./inspect.ts";

/** An ellipsoid of the phantom: centre, semi-axes (fractions of the half-width), attenuation. */
interface Ellipsoid {
  x: number;
  y: number;
  z: number;
  a: number;
  b: number;
  c: number;
  /** Rotation about the vertical axis, radians. */
  phi: number;
  mu: number;
}

/** A small 3-D Shepp–Logan-like phantom (coordinates in [-1, 1]). */
export const PHANTOM: readonly Ellipsoid[] = [
  { x: 0, y: 0, z: 0, a: 0.69, b: 0.92, c: 0.9, phi: 0, mu: 1.0 },
  { x: 0, y: -0.0184, z: 0, a: 0.6624, b: 0.874, c: 0.88, phi: 0, mu: -0.8 },
  { x: 0.22, y: 0, z: 0, a: 0.11, b: 0.31, c: 0.5, phi: -0.314, mu: -0.2 },
  { x: -0.22, y: 0, z: 0, a: 0.16, b: 0.41, c: 0.6, phi: 0.314, mu: -0.2 },
  { x: 0, y: 0.35, z: 0, a: 0.21, b: 0.25, c: 0.4, phi: 0, mu: 0.1 },
  { x: 0, y: -0.6, z: 0.1, a: 0.05, b: 0.05, c: 0.3, phi: 0, mu: 0.3 },
];

/**
 * Line integrals of the phantom in parallel beam: detector row at height `z` (in [-1, 1]),
 * rotation `theta` (radians), detector coordinate `s` (in [-1, 1]).
 */
export function projectPhantom(z: number, theta: number, s: number): number {
  let p = 0;
  for (const e of PHANTOM) {
    const dz = (z - e.z) / e.c;
    if (dz * dz >= 1) continue;
    const k = Math.sqrt(1 - dz * dz); // the ellipsoid's slice at height z is an ellipse
    const a = e.a * k, b = e.b * k;
    const t = theta - e.phi;
    const r2 = a * a * Math.cos(t) ** 2 + b * b * Math.sin(t) ** 2;
    const d = s - (e.x * Math.cos(theta) + e.y * Math.sin(theta));
    if (d * d < r2) p += (2 * e.mu * a * b * Math.sqrt(r2 - d * d)) / r2;
  }
  return p;
}

/** What {@link simulateScan} makes. */
export interface SimulatedScan {
  /** (frames, rows, cols) uint16 counts: darks, flats, projections, flats. */
  data: Uint16Array;
  imageKey: Int32Array;
  /** Degrees, one per frame (0 for flats and darks). */
  angles: Float64Array;
  frames: number;
  /** Columns with a gain error (the stripes). */
  stripeColumns: number[];
}

/** Simulates a scan: `nAngles` projections over [0, 180)°, `nFlats` flats at each end. */
export function simulateScan(
  nAngles: number,
  rows: number,
  cols: number,
  seed: number,
  nFlats = 10,
  nDarks = 10,
  onFrame: () => void = () => {},
): SimulatedScan {
  const rng = new SimRng(seed);
  const frames = nDarks + 2 * nFlats + nAngles;
  const data = new Uint16Array(frames * rows * cols);
  const imageKey = new Int32Array(frames);
  const angles = new Float64Array(frames);
  const I0 = 20000, dark = 100, muScale = 3;
  // beam profile: brighter in the middle, varying slowly with the row
  const flat = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const u = (c - cols / 2) / cols, v = (r - rows / 2) / Math.max(rows, 1);
      flat[r * cols + c] = I0 * (0.75 + 0.25 * Math.exp(-4 * (u * u + v * v)));
    }
  }
  // a few columns whose gain differs in the projections only: stripes in the sinograms
  const stripeColumns = [Math.floor(cols * 0.3), Math.floor(cols * 0.55), Math.floor(cols * 0.56)];
  const gain = new Float64Array(cols).fill(1);
  stripeColumns.forEach((c, i) => (gain[c] = i % 2 ? 0.96 : 1.05));
  const put = (f: number, mean: (r: number, c: number) => number) => {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const m = mean(r, c);
        const v = m > 50 ? m + Math.sqrt(m) * rng.normal() : rng.poisson(m);
        data[(f * rows + r) * cols + c] = Math.max(0, Math.min(65535, Math.round(v)));
      }
    }
    onFrame();
  };
  let f = 0;
  for (let i = 0; i < nDarks; i++, f++) {
    imageKey[f] = 2;
    put(f, () => dark);
  }
  for (let i = 0; i < nFlats; i++, f++) {
    imageKey[f] = 1;
    put(f, (r, c) => dark + flat[r * cols + c]);
  }
  for (let i = 0; i < nAngles; i++, f++) {
    const deg = (180 * i) / nAngles;
    imageKey[f] = 0;
    angles[f] = deg;
    const th = (deg * Math.PI) / 180;
    put(f, (r, c) => {
      const z = rows > 1 ? -0.6 + (1.2 * r) / (rows - 1) : 0;
      const s = -1 + (2 * (c + 0.5)) / cols;
      return dark + gain[c] * flat[r * cols + c] * Math.exp(-muScale * projectPhantom(z, th, s));
    });
  }
  for (let i = 0; i < nFlats; i++, f++) {
    imageKey[f] = 1;
    put(f, (r, c) => dark + flat[r * cols + c]);
  }
  return { data, imageKey, angles, frames, stripeColumns };
}

/** Writes a simulated scan as a NeXus file in the i12 layout (`/entry1/tomo_entry/...`). */
export async function writeI12(
  path: string,
  scan: SimulatedScan,
  rows: number,
  cols: number,
  prov: string,
) {
  const f = await H5File.open(path, "x");
  try {
    const E = "/entry1/tomo_entry";
    f.createGroup("/entry1");
    f.setAttr("/entry1", "NX_class", "NXentry");
    f.createGroup(E);
    f.setAttr(E, "NX_class", "NXsubentry");
    f.setAttr(E, "definition", "NXtomo");
    f.createGroup(`${E}/instrument/detector`);
    f.setAttr(`${E}/instrument`, "NX_class", "NXinstrument");
    f.setAttr(`${E}/instrument/detector`, "NX_class", "NXdetector");
    f.write(`${E}/instrument/detector/data`, ndarray(scan.data, [scan.frames, rows, cols]), {
      chunks: [1, rows, cols],
      compression: 4,
      attrs: { units: "counts" },
    });
    f.write(`${E}/instrument/detector/image_key`, ndarray(scan.imageKey, [scan.frames]));
    f.createGroup(`${E}/sample`);
    f.setAttr(`${E}/sample`, "NX_class", "NXsample");
    f.write(`${E}/sample/rotation_angle`, ndarray(scan.angles, [scan.frames]), {
      attrs: { units: "degrees" },
    });
    f.createGroup(`${E}/data`);
    f.setAttr(`${E}/data`, "NX_class", "NXdata");
    f.setAttr(`${E}/data`, "signal", "data");
    f.softLink(`${E}/data/data`, `${E}/instrument/detector/data`);
    f.softLink(`${E}/data/rotation_angle`, `${E}/sample/rotation_angle`);
    f.softLink(`${E}/data/image_key`, `${E}/instrument/detector/image_key`);
    f.setAttr("/", "lumen_provenance", prov);
  } finally {
    f.close();
  }
}

/** The tool's description. */
export const meta = defineTool({
  name: "demo",
  summary: "simulates a small tomography scan, normalises it into sinograms, and inspects it",
  permissions: ["--allow-read", "--allow-write=OUT"],
  task: "demo",
  flags: {
    out: { type: "string", short: "o", default: "demo_out", arg: "OUT", help: "output folder" },
    angles: { type: "int", default: 180, min: 2, max: 10000, help: "projections over 180°" },
    rows: { type: "int", default: 8, min: 1, max: 2048, help: "detector rows" },
    cols: { type: "int", default: 128, min: 8, max: 4096, help: "detector columns" },
    seed: SEED,
    overwrite: OVERWRITE,
  },
  description:
    `Writes OUT/scan.nxs (NeXus, i12 layout) and OUT/sinograms.tif (float32, rows × angles ×
cols), each with a provenance sidecar (.prov.json). Each file is written under a temporary
name and renamed into place, so an interrupted demo leaves no half-written file. The same seed
gives the same bytes.`,
  examples: ["", "--angles 360 --cols 256 --overwrite", "--out /tmp/demo --seed 7"],
});

if (import.meta.main) {
  await runTool(meta, async (f) => {
    const { angles, rows, cols, seed } = f;
    const args = provenanceArgs(meta, f);
    const say = (s: string) => f.quiet || console.error(s);
    const scanPath = `${f.out}/scan.nxs`, sinoPath = `${f.out}/sinograms.tif`;
    for (const p of [scanPath, sinoPath]) {
      if (!f.overwrite && pathExists(p)) throw new LumenError(p, "", "exists; pass --overwrite");
    }
    await Deno.mkdir(f.out, { recursive: true }).catch((e) => {
      throw ioError(f.out, e, "cannot create directory");
    });

    const bar = progress("simulating", angles + 30, { quiet: f.quiet });
    const scan = simulateScan(angles, rows, cols, seed, 10, 10, () => bar.tick());
    bar.done();
    // The scan is written under a temporary name beside its final one, then renamed.
    const scanProv = await makeProvenance({ tool: "demo", args, seed });
    const tmp = tempPathBeside(scanPath);
    const forget = onAbort(() => Deno.remove(tmp).catch(() => {}));
    try {
      await writeI12(tmp, scan, rows, cols, embedProvenance(scanProv));
      await Deno.rename(tmp, scanPath);
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      throw e;
    } finally {
      forget();
    }
    await writeProvenance(scanPath, scanProv);

    // Read it back as any scan: normalised sinograms (rows, angles, cols).
    const opened = await openScan(scanPath);
    let sino;
    try {
      sino = await readSinograms(opened, 0, rows);
    } finally {
      opened.close();
    }
    await writeTiff(sinoPath, sino, { overwrite: true });
    const sinoProv = await makeProvenance({ tool: "demo", args, seed, inputs: [scanPath] });
    await writeProvenance(sinoPath, sinoProv);
    say(`stripes simulated at detector columns ${scan.stripeColumns.join(", ")}`);

    console.log(formatReport(await inspectFile(scanPath)));
    console.log(formatReport(await inspectFile(sinoPath)));
    say(`wrote ${scanPath} and ${sinoPath} (and their .prov.json)`);
  });
}

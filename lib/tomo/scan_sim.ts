/**
 * A synthetic tomography scan for the demo and the tests: a phantom projected in parallel beam
 * (exact line integrals, lib/tomo/phantom.ts), turned into uint16 detector counts with a beam
 * profile, fixed-pattern gain, beam-intensity fluctuation, dark current and Poisson-like noise,
 * plus flats and darks, and detector defects that survive flat-field correction and so make
 * stripes in the sinograms:
 *
 * - `gain`: a pixel blob whose gain in the projections differs from the flats' by ε
 *   (mis-calibration / drift) → a constant stripe (full, or partial when limited to an angle
 *   range);
 * - `nonlinear`: a blob with a non-linear response (transmission^(1+κ)) → a stripe whose strength
 *   follows the sample's attenuation (a "varying" stripe);
 * - `hot`: extra counts in the projections only → a negative stripe;
 * - `dead`: no signal in projections and flats (off by default: it gives −log(1e-9) ≈ 20.7).
 *
 * Written as a NeXus file in the i12 layout ({@link writeScanNexus}):
 * `/entry1/tomo_entry/data/data` uint16 (frames, rows, cols) chunked one frame per chunk,
 * `/entry1/tomo_entry/instrument/detector/image_key` (0 projection, 1 flat, 2 dark),
 * `/entry1/tomo_entry/data/rotation_angle` (degrees, one per frame). Frames: half the flats, half
 * the darks, the projections, the other flats, the other darks.
 *
 * Everything is seeded (lib/data/rng.ts): the same options give the same bytes. The defect-free
 * projections with the same noise (`clean`) and the defect map are returned too, as ground truth.
 *
 * Sizes: the default (`SCAN_PRESETS.demo`) is 256 angles over 180° × 32 rows × 512 columns: two
 * 256-wide patches per sinogram with a 256-angle patch height (NoStripesNet's 1801×256 patches,
 * shortened for a laptop demo), and large enough for stripe detection with scaled-down
 * parameters.
 *
 * @example
 * ```ts
 * import { simulateScan, writeScanNexus } from "./scan_sim.ts";
 * const scan = simulateScan({ seed: 1 });
 * await writeScanNexus("/tmp/synthetic.nxs", scan);
 * ```
 * @module
 */
import { H5File } from "../io/hdf5.ts";
import { ndarray } from "../io/array.ts";
import { type Ellipsoid, projectEllipsoids, randomPhantom, sheppLogan3d } from "./phantom.ts";
import { SimRng } from "../data/rng.ts";

/** A detector defect: a blob of pixels over a range of projections. */
export interface Defect {
  /** What goes wrong (see the module documentation). */
  kind: "gain" | "nonlinear" | "hot" | "dead";
  /** Detector rows [start, stop). */
  rows: [number, number];
  /** Detector columns [start, stop). */
  cols: [number, number];
  /** Projections [start, stop) (the whole scan for full stripes). */
  angles: [number, number];
  /** ε for gain, κ for nonlinear, extra counts as a fraction of the flux for hot; 0 for dead. */
  amount: number;
}

/** Options of {@link simulateScan}. */
export interface ScanSimOptions {
  /** Number of projections (default 256). */
  angles?: number;
  /** Detector rows (default 32). */
  rows?: number;
  /** Detector columns (default 512). */
  cols?: number;
  /** Angular range in degrees, projections at range·a/angles (default 180). */
  range?: number;
  /** Flat-field frames (default 20). */
  flats?: number;
  /** Dark-field frames (default 10). */
  darks?: number;
  /** Seed of everything (default 0). */
  seed?: number;
  /** "random" (default, seeded inclusions), "shepp-logan", or ellipsoids. */
  phantom?: "random" | "shepp-logan" | Ellipsoid[];
  /** Peak flat-field counts above dark (default 20000). */
  flux?: number;
  /** Mean dark counts (default 100). */
  darkLevel?: number;
  /** Rotation axis in detector columns (default ⌊cols/2⌋). */
  center?: number;
  /** Defects: a list, a count of random ones (default ≈ cols/32 + rows/8), or false. */
  defects?: Defect[] | number | false;
  /** Include a dead-pixel defect among the random ones (default false). */
  dead?: boolean;
}

/** A simulated scan. */
export interface SimulatedScan {
  /** Frames (flats, darks, projections, flats, darks) × rows × cols, uint16 counts. */
  data: Uint16Array;
  /** [frames, rows, cols]. */
  shape: [number, number, number];
  /** Per frame: 0 projection, 1 flat, 2 dark. */
  imageKey: Int32Array;
  /** Per frame rotation angle in degrees (flats and darks: 0). */
  frameAngles: Float64Array;
  /** Per projection angle in degrees. */
  angles: Float64Array;
  /** The projections without defects, same noise: angles × rows × cols. */
  clean: Uint16Array;
  /** The defects applied. */
  defects: Defect[];
  /** Rotation axis (detector column). */
  center: number;
  /** The options used, all defaults filled in (JSON-safe except an ellipsoid phantom). */
  options: Required<Omit<ScanSimOptions, "defects">> & { defects: Defect[] };
}

/** Ready-made sizes. */
export const SCAN_PRESETS: Record<"demo" | "test" | "tiny", ScanSimOptions> = {
  demo: { angles: 256, rows: 32, cols: 512, flats: 20, darks: 10 },
  test: { angles: 128, rows: 8, cols: 128, flats: 6, darks: 4 },
  tiny: { angles: 32, rows: 4, cols: 48, flats: 2, darks: 2 },
};

/** Random defects for a detector of `rows × cols` over `angles` projections. */
export function randomDefects(
  rng: SimRng,
  angles: number,
  rows: number,
  cols: number,
  count: number,
  dead = false,
): Defect[] {
  const out: Defect[] = [];
  for (let n = 0; n < count; n++) {
    const u = rng.uniform();
    const kind: Defect["kind"] = dead && n === 0
      ? "dead"
      : u < 0.6
      ? "gain"
      : u < 0.82
      ? "nonlinear"
      : "hot";
    const h = rng.int(1, Math.max(1, Math.min(6, Math.ceil(rows / 3))));
    const w = kind === "dead" ? rng.int(1, 2) : rng.int(1, 4);
    const r0 = rng.int(0, rows - h), c0 = rng.int(2, Math.max(2, cols - w - 2));
    const partial = kind !== "dead" && rng.uniform() < 0.3;
    let a0 = 0, a1 = angles;
    if (partial) {
      const len = Math.max(2, Math.round(angles * rng.range(0.2, 0.7)));
      a0 = rng.int(0, angles - len);
      a1 = a0 + len;
    }
    const sign = rng.uniform() < 0.5 ? -1 : 1;
    const amount = kind === "gain"
      ? sign * rng.range(0.03, 0.15)
      : kind === "nonlinear"
      ? sign * rng.range(0.05, 0.25)
      : kind === "hot"
      ? rng.range(0.02, 0.1)
      : 0;
    out.push({
      kind,
      rows: [r0, r0 + h],
      cols: [c0, Math.min(cols, c0 + w)],
      angles: [a0, a1],
      amount,
    });
  }
  return out;
}

const clamp16 = (v: number) => (v <= 0 ? 0 : v >= 65535 ? 65535 : Math.round(v));

/** Simulates a scan (see the module documentation). */
export function simulateScan(opts: ScanSimOptions = {}): SimulatedScan {
  const A = opts.angles ?? 256, R = opts.rows ?? 32, N = opts.cols ?? 512;
  const nF = opts.flats ?? 20, nD = opts.darks ?? 10;
  const seed = opts.seed ?? 0, range = opts.range ?? 180;
  const flux = opts.flux ?? 20000, darkLevel = opts.darkLevel ?? 100;
  const center = opts.center ?? Math.floor(N / 2);
  for (const [k, v] of Object.entries({ angles: A, rows: R, cols: N })) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`simulateScan: ${k}: must be a positive integer, got ${v}`);
    }
  }
  if (!Number.isInteger(nF) || nF < 0 || !Number.isInteger(nD) || nD < 0) {
    throw new RangeError(`simulateScan: flats/darks: must be non-negative integers`);
  }
  const rng = new SimRng(seed);
  const rPh = rng.fork(), rDef = rng.fork(), rBeam = rng.fork(), rNoise = rng.fork();
  const phantom = opts.phantom === "shepp-logan"
    ? sheppLogan3d(N, R)
    : Array.isArray(opts.phantom)
    ? opts.phantom
    : randomPhantom(N, R, rPh.nextU32(), 24);
  const angles = Float64Array.from({ length: A }, (_, a) => (range * a) / A);
  const atten = projectEllipsoids(
    phantom,
    Array.from(angles, (d) => (d * Math.PI) / 180),
    R,
    N,
    center,
  );
  const defects = Array.isArray(opts.defects)
    ? opts.defects
    : opts.defects === false
    ? []
    : randomDefects(rDef, A, R, N, opts.defects ?? Math.round(N / 32 + R / 8), opts.dead ?? false);

  // beam: smooth profile × fixed-pattern gain (flat-field corrects both)
  const beam = new Float64Array(R * N);
  for (let v = 0; v < R; v++) {
    for (let u = 0; u < N; u++) {
      const prof = (0.55 + 0.45 * Math.exp(-(((u - N / 2) / (0.5 * N)) ** 2))) *
        (0.85 + 0.15 * Math.cos((Math.PI * (v - R / 2)) / (1.3 * R)));
      const ripple = 1 + 0.02 * Math.sin(u / 7.3 + v / 3.1);
      beam[v * N + u] = flux * prof * ripple * (1 + 0.03 * rBeam.normal());
    }
  }
  const darkMap = new Float64Array(R * N);
  for (let p = 0; p < R * N; p++) darkMap[p] = darkLevel * (1 + 0.1 * rBeam.normal());
  // per-pixel defect lookups: projection-side factors, flat-side factors
  const frames = nF + nD + A;
  const fl1 = nF >> 1, dk1 = nD >> 1;
  const imageKey = new Int32Array(frames);
  const frameAngles = new Float64Array(frames);
  let f = 0;
  for (let i = 0; i < fl1; i++) imageKey[f++] = 1;
  for (let i = 0; i < dk1; i++) imageKey[f++] = 2;
  const p0 = f;
  for (let a = 0; a < A; a++) {
    imageKey[f] = 0;
    frameAngles[f++] = angles[a];
  }
  for (let i = fl1; i < nF; i++) imageKey[f++] = 1;
  for (let i = dk1; i < nD; i++) imageKey[f++] = 2;

  const data = new Uint16Array(frames * R * N);
  const clean = new Uint16Array(A * R * N);
  const deadPix = new Uint8Array(R * N);
  for (const d of defects) {
    if (d.kind !== "dead") continue;
    for (let v = d.rows[0]; v < d.rows[1]; v++) {
      for (let u = d.cols[0]; u < d.cols[1]; u++) deadPix[v * N + u] = 1;
    }
  }
  const pix = R * N;
  for (let fr = 0; fr < frames; fr++) {
    const key = imageKey[fr];
    const fluct = 1 + 0.004 * rNoise.normal();
    const o = fr * pix;
    if (key === 2) {
      for (let p = 0; p < pix; p++) {
        data[o + p] = clamp16(darkMap[p] + Math.sqrt(darkMap[p]) * rNoise.normal());
      }
      continue;
    }
    const a = fr - p0;
    const lam = new Float64Array(pix); // signal without defects
    const lamD = new Float64Array(pix); // with defects
    for (let p = 0; p < pix; p++) {
      const t = key === 0 ? Math.exp(-atten[a * pix + p]) : 1;
      lam[p] = beam[p] * fluct * t;
      lamD[p] = deadPix[p] ? 0 : lam[p];
    }
    if (key === 0) {
      for (const d of defects) {
        if (d.kind === "dead" || a < d.angles[0] || a >= d.angles[1]) continue;
        for (let v = d.rows[0]; v < d.rows[1]; v++) {
          for (let u = d.cols[0]; u < d.cols[1]; u++) {
            const p = v * N + u;
            if (d.kind === "gain") lamD[p] *= 1 + d.amount;
            else if (d.kind === "nonlinear") {
              const t = Math.exp(-atten[a * pix + p]);
              lamD[p] *= Math.pow(t, d.amount);
            } else lamD[p] += d.amount * flux;
          }
        }
      }
    }
    for (let p = 0; p < pix; p++) {
      const z = rNoise.normal();
      const dk = darkMap[p];
      const sD = lamD[p] + dk, sC = lam[p] + dk;
      data[o + p] = clamp16(sD + Math.sqrt(sD) * z);
      if (key === 0) clean[a * pix + p] = clamp16(sC + Math.sqrt(sC) * z);
    }
  }
  return {
    data,
    shape: [frames, R, N],
    imageKey,
    frameAngles,
    angles,
    clean,
    defects,
    center,
    options: {
      angles: A,
      rows: R,
      cols: N,
      range,
      flats: nF,
      darks: nD,
      seed,
      phantom: opts.phantom ?? "random",
      flux,
      darkLevel,
      center,
      dead: opts.dead ?? false,
      defects,
    },
  };
}

/**
 * Where the defects act: uint8 (angles × rows × cols), 1 on the projections and pixels of a
 * defect — the ground truth a stripe mask should find.
 */
export function defectMap(scan: SimulatedScan): Uint8Array {
  const [, R, N] = scan.shape;
  const A = scan.angles.length;
  const m = new Uint8Array(A * R * N);
  for (const d of scan.defects) {
    for (let a = d.angles[0]; a < d.angles[1]; a++) {
      for (let v = d.rows[0]; v < d.rows[1]; v++) {
        m.fill(1, (a * R + v) * N + d.cols[0], (a * R + v) * N + d.cols[1]);
      }
    }
  }
  return m;
}

/** Options of {@link writeScanNexus}. */
export interface WriteScanOptions {
  /** Deflate level for the frames (default none: i12 files are usually uncompressed). */
  compression?: number;
  /** Also write the defect-free projections, image-keyed with the same flats and darks, here. */
  cleanPath?: string;
}

/** Writes a simulated scan as a NeXus file in the i12 layout (see the module documentation). */
export async function writeScanNexus(
  path: string,
  scan: SimulatedScan,
  opts: WriteScanOptions = {},
): Promise<void> {
  await writeFrames(path, scan, scan.data, opts.compression);
  if (opts.cleanPath) {
    const [, R, N] = scan.shape;
    const pix = R * N;
    const frames = scan.data.slice();
    let a = 0;
    for (let f = 0; f < scan.imageKey.length; f++) {
      if (scan.imageKey[f] === 0) frames.set(scan.clean.subarray(a * pix, ++a * pix), f * pix);
    }
    // flats/darks of the clean file: the defect-free ones (no dead pixels)
    await writeFrames(opts.cleanPath, scan, frames, opts.compression, true);
  }
}

/** Writes one NeXus file (H5File pins HDF5's clock, so the same scan gives the same bytes). */
async function writeFrames(
  path: string,
  scan: SimulatedScan,
  frames: Uint16Array,
  compression: number | undefined,
  clean = false,
): Promise<void> {
  const [F, R, N] = scan.shape;
  const f = await H5File.open(path, "w");
  try {
    for (
      const [g, cls] of [
        ["/entry1", "NXentry"],
        ["/entry1/tomo_entry", "NXsubentry"],
        ["/entry1/tomo_entry/data", "NXdata"],
        ["/entry1/tomo_entry/instrument", "NXinstrument"],
        ["/entry1/tomo_entry/instrument/detector", "NXdetector"],
        ["/entry1/tomo_entry/sample", "NXsample"],
      ]
    ) {
      f.createGroup(g);
      f.setAttr(g, "NX_class", cls);
    }
    f.setAttr("/entry1/tomo_entry", "definition", "NXtomo");
    f.write("/entry1/tomo_entry/data/data", ndarray(frames, [F, R, N]), {
      chunks: [1, R, N],
      compression: compression ?? null,
      attrs: { units: "counts" },
    });
    f.setAttr("/entry1/tomo_entry/data", "signal", "data");
    f.write("/entry1/tomo_entry/instrument/detector/image_key", ndarray(scan.imageKey, [F]));
    f.write("/entry1/tomo_entry/data/rotation_angle", ndarray(scan.frameAngles, [F]), {
      attrs: { units: "degrees" },
    });
    const o = scan.options;
    f.setAttr(
      "/entry1/tomo_entry/sample",
      "lumen_simulation",
      JSON.stringify({
        ...o,
        phantom: typeof o.phantom === "string" ? o.phantom : "ellipsoids",
        clean,
      }),
    );
  } finally {
    f.close();
  }
}

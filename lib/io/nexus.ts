/**
 * Tomography scans in HDF5/NeXus files: the three layouts (i12, DIAD, DataExchange) and paths
 * the user names, read lazily.
 *
 * | layout | projections (frames, rows, cols) | image key (0 proj, 1 flat, 2 dark) | angles |
 * |---|---|---|---|
 * | `i12` | `/entry1/tomo_entry/data/data` | `/entry1/tomo_entry/instrument/detector/image_key` | `/entry1/tomo_entry/data/rotation_angle` |
 * | `diad` | `/entry/imaging/data` (external link) | `/entry/instrument/imaging/image_key` | `/entry/imaging_sum/gts_theta_value` |
 * | `nxtomo` | `/entry/data/data` | `/entry/instrument/detector/image_key` | `/entry/data/rotation_angle` |
 * | `dataexchange` | `/exchange/data` (flats `data_white`, darks `data_dark`) | none | `/exchange/theta` |
 *
 * Opening reads only the image key and the shapes; projections, flats, darks and angles are read
 * when asked for, and only the frames, detector rows and columns asked for (a volume never has
 * to fit in memory). Flats and darks may come from a second file (`flatsFile`).
 *
 * @example
 * ```ts
 * import { openScan } from "./nexus.ts";
 * const scan = await openScan("k11-18014.nxs");
 * console.log(scan.layout, scan.projections.count, scan.flats.count, scan.darks.count);
 * const angles = scan.angles();                       // degrees, one per projection
 * const block = scan.projections.read({ angles: [0, 100], rows: [10, 12] }); // (100, 2, cols)
 * scan.close();
 * ```
 * @module
 */
import { dirname, join, relative, resolve as resolvePath } from "node:path";
import { LumenError } from "../run/errors.ts";
import { type DType, type NdArray, ndarray, sizeOf, type TypedArray } from "./array.ts";
import { H5File } from "./hdf5.ts";

/** Which layout a scan was found in ("custom" when the user named the data path). */
export type ScanLayout = "i12" | "diad" | "nxtomo" | "dataexchange" | "custom";

/** Dataset paths of a scan. Flats/darks are separate datasets (DataExchange) or taken from
 * `data` by the image key. */
export interface ScanPaths {
  /** Frames (frames, rows, cols): projections, and flats/darks where there is an image key. */
  data: string;
  /** Per-frame key: 0 projection, 1 flat, 2 dark (others ignored). */
  imageKey?: string;
  /** Rotation angles: one per frame or one per projection. */
  angles?: string;
  /** Separate flat-field frames (flats, rows, cols). */
  flats?: string;
  /** Separate dark-field frames (darks, rows, cols). */
  darks?: string;
}

/** Options of {@link openScan}. */
export interface OpenScanOptions {
  /** Paths to use instead of (or to complete) a known layout. */
  paths?: Partial<ScanPaths>;
  /** A second file holding the flats and darks (image-keyed or DataExchange). */
  flatsFile?: string;
  /** Paths inside `flatsFile`, where it follows no known layout. */
  flatsPaths?: Partial<ScanPaths>;
  /**
   * False reads every dataset through HDF5; by default uncompressed ones are read with
   * positioned reads (lib/io/hdf5_direct.ts), the same bytes.
   */
  directReads?: boolean;
}

/** A detector-row/column/frame window; every range is [start, stop), default all. */
export interface FrameWindow {
  /** Range of frames within the set (projection numbers for projections). */
  angles?: [number, number];
  /** Detector rows. */
  rows?: [number, number];
  /** Detector columns. */
  cols?: [number, number];
}

/** The known layouts: data, image key, angle candidates, separate flats/darks. */
const LAYOUTS: {
  layout: Exclude<ScanLayout, "custom">;
  data: string;
  imageKey?: string[];
  angles: string[];
  flats?: string;
  darks?: string;
}[] = [
  {
    layout: "i12",
    data: "/entry1/tomo_entry/data/data",
    imageKey: [
      "/entry1/tomo_entry/instrument/detector/image_key",
      "/entry1/instrument/image_key/image_key",
    ],
    angles: [
      "/entry1/tomo_entry/data/rotation_angle",
      "/entry1/tomo_entry/sample/rotation_angle",
      "/entry1/tomo_entry/data/rotation_angle_degrees",
    ],
  },
  {
    layout: "diad",
    data: "/entry/imaging/data",
    imageKey: ["/entry/instrument/imaging/image_key", "/entry/instrument/EtherCAT/image_key"],
    angles: [
      "/entry/imaging_sum/gts_theta_value",
      "/entry/imaging/gts_theta_value",
      "/entry/instrument/gts_theta/value",
    ],
  },
  {
    layout: "nxtomo",
    data: "/entry/data/data",
    imageKey: ["/entry/instrument/detector/image_key", "/entry/data/image_key"],
    angles: ["/entry/data/rotation_angle", "/entry/sample/rotation_angle"],
  },
  {
    layout: "dataexchange",
    data: "/exchange/data",
    angles: ["/exchange/theta"],
    flats: "/exchange/data_white",
    darks: "/exchange/data_dark",
  },
];

/**
 * A set of frames (projections, flats or darks): a dataset and the frame indices along its
 * first axis. Reads only what is asked, one hyperslab per contiguous run of frames.
 */
export class FrameSet {
  /** The file holding the frames. */
  readonly file: H5File;
  /** Dataset path (frames, rows, cols). */
  readonly path: string;
  /** Frame indices along the dataset's first axis, ascending. */
  readonly index: Int32Array;
  /** Detector rows of each frame. */
  readonly rows: number;
  /** Detector columns of each frame. */
  readonly cols: number;
  /** Element type as stored. */
  readonly dtype: DType;

  /**
   * @param file the open file
   * @param path dataset (frames, rows, cols)
   * @param index frame indices (ascending)
   * @param rows detector rows
   * @param cols detector columns
   * @param dtype stored dtype
   */
  constructor(
    file: H5File,
    path: string,
    index: Int32Array,
    rows: number,
    cols: number,
    dtype: DType,
  ) {
    this.file = file;
    this.path = path;
    this.index = index;
    this.rows = rows;
    this.cols = cols;
    this.dtype = dtype;
  }

  /** Number of frames. */
  get count(): number {
    return this.index.length;
  }

  /**
   * Contiguous runs of frames within [a0, a1) of this set: `[firstFrame, n, setOffset]`, with
   * runs split so that none is longer than `maxRun`.
   */
  runs(a0 = 0, a1 = this.count, maxRun = Infinity): [number, number, number][] {
    const out: [number, number, number][] = [];
    let i = a0;
    while (i < a1) {
      let j = i + 1;
      while (j < a1 && this.index[j] === this.index[j - 1] + 1 && j - i < maxRun) j++;
      out.push([this.index[i], j - i, i]);
      i = j;
    }
    return out;
  }

  private window(
    w: FrameWindow,
  ): { a: [number, number]; r: [number, number]; c: [number, number] } {
    const chk = (name: string, v: [number, number] | undefined, n: number): [number, number] => {
      const [s, e] = v ?? [0, n];
      if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e > n || s > e) {
        throw new LumenError(this.file.path, this.path, `${name} [${s}, ${e}) out of range 0–${n}`);
      }
      return [s, e];
    };
    return {
      a: chk("frames", w.angles, this.count),
      r: chk("rows", w.rows, this.rows),
      c: chk("columns", w.cols, this.cols),
    };
  }

  /** Reads frames × rows × cols of the window, as stored (frames, rows, cols). */
  read(w: FrameWindow = {}): NdArray {
    const { a, r, c } = this.window(w);
    const na = a[1] - a[0], nr = r[1] - r[0], nc = c[1] - c[0];
    const shape = [na, nr, nc];
    let out: TypedArray | null = null;
    const per = nr * nc;
    for (const [start, n, off] of this.runs(a[0], a[1])) {
      const part = this.file.read(this.path, [[start, start + n], r, c]);
      if (!out) {
        const Ctor = part.data.constructor as unknown as { new (n: number): TypedArray };
        out = new Ctor(sizeOf(shape));
      }
      (out as Uint8Array).set(part.data as unknown as Uint8Array, (off - a[0]) * per);
    }
    if (!out) return ndarray(new Float32Array(0), shape, "float32");
    return ndarray(out, shape, this.dtype);
  }
}

/** An open tomography scan. Close it when done. */
export class TomoScan {
  /** The file as named. */
  readonly path: string;
  /** Layout found (or "custom"). */
  readonly layout: ScanLayout;
  /** The paths in use. */
  readonly paths: ScanPaths;
  /** The open file. */
  readonly file: H5File;
  /** The second file the flats/darks come from, if any. */
  readonly flatsFile: H5File | null;
  /** Frames in the data dataset (projections + flats + darks where keyed). */
  readonly nFrames: number;
  /** Detector rows. */
  readonly rows: number;
  /** Detector columns. */
  readonly cols: number;
  /** Stored dtype of the projections. */
  readonly dtype: DType;
  /** The projections. */
  readonly projections: FrameSet;
  /** The flat fields (possibly none). */
  readonly flats: FrameSet;
  /** The dark fields (possibly none). */
  readonly darks: FrameSet;
  private readonly keys: Int32Array | null;
  private anglesCache: Float64Array | null = null;

  /** @internal use {@link openScan} */
  constructor(init: {
    path: string;
    layout: ScanLayout;
    paths: ScanPaths;
    file: H5File;
    flatsFile: H5File | null;
    nFrames: number;
    rows: number;
    cols: number;
    dtype: DType;
    projections: FrameSet;
    flats: FrameSet;
    darks: FrameSet;
    keys: Int32Array | null;
  }) {
    this.path = init.path;
    this.layout = init.layout;
    this.paths = init.paths;
    this.file = init.file;
    this.flatsFile = init.flatsFile;
    this.nFrames = init.nFrames;
    this.rows = init.rows;
    this.cols = init.cols;
    this.dtype = init.dtype;
    this.projections = init.projections;
    this.flats = init.flats;
    this.darks = init.darks;
    this.keys = init.keys;
  }

  /** The image key of every frame (a copy), or null where the layout has none. */
  imageKeys(): Int32Array | null {
    return this.keys ? this.keys.slice() : null;
  }

  /**
   * Rotation angle of each projection, in degrees (converted where the dataset's `units`
   * attribute says radians). Read on first call.
   *
   * @throws LumenError when the file has no angles (name them with `paths.angles`)
   */
  angles(): Float64Array {
    if (this.anglesCache) return this.anglesCache.slice();
    const p = this.paths.angles;
    if (!p) {
      throw new LumenError(this.path, "", "no rotation angles found (name them with paths.angles)");
    }
    const a = this.file.read(p);
    if (a.shape.length !== 1) {
      throw new LumenError(this.path, p, `angles have shape [${a.shape}], expected one axis`);
    }
    const v = Float64Array.from(a.data as ArrayLike<number>, Number);
    let out: Float64Array;
    if (v.length === this.nFrames && this.keys) {
      out = Float64Array.from(this.projections.index, (i) => v[i]);
    } else if (v.length === this.projections.count) {
      out = v;
    } else {
      throw new LumenError(
        this.path,
        p,
        `${v.length} angles for ${this.nFrames} frames and ${this.projections.count} projections`,
      );
    }
    const units = String(this.file.attr(p, "units") ?? "").toLowerCase();
    if (/^rad/.test(units)) { for (let i = 0; i < out.length; i++) out[i] *= 180 / Math.PI; }
    this.anglesCache = out;
    return out.slice();
  }

  /**
   * Every file the scan's reads have touched so far: the scan, the targets of its external links,
   * the flats file and its links (absolute paths, each once). Hash these for provenance.
   *
   * @example
   * ```ts
   * const inputs = scan.filesRead(); // after readSinograms(scan, …)
   * ```
   */
  filesRead(): string[] {
    const all = [...this.file.filesRead(), ...(this.flatsFile?.filesRead() ?? [])];
    return [...new Set(all)];
  }

  /**
   * {@link filesRead} as paths a provenance record can hold: the scan and the flats file as they
   * were given, every other file relative to the given scan's folder (as links name them).
   *
   * @example
   * ```ts
   * scan.inputPaths(); // ["k11-18014.nxs", "k11-18014/k11-18014-imaging.h5"]
   * ```
   */
  inputPaths(): string[] {
    const given = new Map<string, string>([[resolvePath(this.path), this.path]]);
    if (this.flatsFile) given.set(resolvePath(this.flatsFile.path), this.flatsFile.path);
    const base = dirname(resolvePath(this.path));
    return this.filesRead().map((abs) =>
      given.get(abs) ?? join(dirname(this.path), relative(base, abs))
    );
  }

  /** Closes the file(s). */
  close(): void {
    this.file.close();
    if (this.flatsFile && this.flatsFile !== this.file) this.flatsFile.close();
  }
}

function detect(f: H5File): (typeof LAYOUTS)[number] | null {
  for (const l of LAYOUTS) if (f.isDataset(l.data)) return l;
  return null;
}

function first(f: H5File, cands: string[] | undefined): string | undefined {
  return cands?.find((p) => f.isDataset(p));
}

function threeD(f: H5File, path: string): { shape: number[]; dtype: DType } {
  const info = f.dataset(path);
  if (info.shape.length !== 3) {
    throw new LumenError(f.path, path, `has shape [${info.shape}], expected (frames, rows, cols)`);
  }
  const ok: string[] = [
    "int8",
    "uint8",
    "int16",
    "uint16",
    "int32",
    "uint32",
    "float32",
    "float64",
  ];
  if (!ok.includes(info.dtype)) {
    throw new LumenError(f.path, path, `dtype ${info.dtype} is not an image type`);
  }
  return { shape: info.shape, dtype: info.dtype as DType };
}

function readKeys(f: H5File, path: string, n: number): Int32Array {
  const k = f.read(path);
  if (k.shape.length !== 1 || k.shape[0] !== n) {
    throw new LumenError(f.path, path, `image key has shape [${k.shape}], the data ${n} frames`);
  }
  return Int32Array.from(k.data as ArrayLike<number>, Number);
}

function indicesOf(keys: Int32Array, v: number): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < keys.length; i++) if (keys[i] === v) out.push(i);
  return Int32Array.from(out);
}

function range(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

/** Paths of a file: a known layout completed/overridden by the user's. */
function pathsFor(
  f: H5File,
  user: Partial<ScanPaths> | undefined,
): { layout: ScanLayout; paths: ScanPaths } {
  const l = detect(f);
  if (!l && !user?.data) {
    const cands = f.walk().filter((n) => n.kind === "dataset" && n.shape.length === 3).map((n) =>
      `${n.path} [${(n as { shape: number[] }).shape}]`
    );
    throw new LumenError(
      f.path,
      "",
      `no known tomography layout (i12 /entry1/tomo_entry/data/data, DIAD /entry/imaging/data, ` +
        `NXtomo /entry/data/data, DataExchange /exchange/data); name the paths (--data-path, ` +
        `--image-key-path, --angles-path, --flats-path, --darks-path). ` +
        `3-D datasets here: ${cands.join(", ") || "none"}`,
    );
  }
  const paths: ScanPaths = {
    data: user?.data ?? l!.data,
    imageKey: user?.imageKey ?? first(f, l?.imageKey),
    angles: user?.angles ?? first(f, l?.angles),
    flats: user?.flats ?? (l?.flats && f.isDataset(l.flats) ? l.flats : undefined),
    darks: user?.darks ?? (l?.darks && f.isDataset(l.darks) ? l.darks : undefined),
  };
  for (const k of ["data", "imageKey", "angles", "flats", "darks"] as const) {
    const p = paths[k];
    if (user?.[k] && p && !f.isDataset(p)) f.dataset(p); // throws, listing what exists
  }
  const layout: ScanLayout = user?.data && (!l || user.data !== l.data) ? "custom" : l!.layout;
  return { layout, paths };
}

/** Flats and darks of a file: separate datasets, or image-keyed frames of its data. */
function flatsDarksOf(
  f: H5File,
  paths: ScanPaths,
  keys: Int32Array | null,
  rows: number,
  cols: number,
): { flats: FrameSet | null; darks: FrameSet | null } {
  const sep = (p: string | undefined): FrameSet | null => {
    if (!p) return null;
    const { shape, dtype } = threeD(f, p);
    if (shape[1] !== rows || shape[2] !== cols) {
      throw new LumenError(
        f.path,
        p,
        `frames are ${shape[1]}×${shape[2]}, projections ${rows}×${cols}`,
      );
    }
    return new FrameSet(f, p, range(shape[0]), rows, cols, dtype);
  };
  let flats = sep(paths.flats), darks = sep(paths.darks);
  if (keys) {
    const { dtype } = threeD(f, paths.data);
    const fi = indicesOf(keys, 1), di = indicesOf(keys, 2);
    if (!flats && fi.length) flats = new FrameSet(f, paths.data, fi, rows, cols, dtype);
    if (!darks && di.length) darks = new FrameSet(f, paths.data, di, rows, cols, dtype);
  }
  return { flats, darks };
}

/**
 * Opens a tomography scan.
 *
 * @param path the NeXus/HDF5 file
 * @param opts user paths (`paths`), a second file with flats and darks (`flatsFile`, and
 *   `flatsPaths` inside it)
 * @throws LumenError naming the file and path for missing datasets (listing those that exist),
 *   inconsistent shapes, or files that follow no known layout when no paths are given
 */
export async function openScan(path: string, opts: OpenScanOptions = {}): Promise<TomoScan> {
  const direct = { direct: opts.directReads ?? true };
  const f = await H5File.open(path, "r", direct);
  let ff: H5File | null = null;
  try {
    const { layout, paths } = pathsFor(f, opts.paths);
    const { shape, dtype } = threeD(f, paths.data);
    const [nFrames, rows, cols] = shape;
    const keys = paths.imageKey ? readKeys(f, paths.imageKey, nFrames) : null;
    const projIdx = keys ? indicesOf(keys, 0) : range(nFrames);
    const projections = new FrameSet(f, paths.data, projIdx, rows, cols, dtype);
    let { flats, darks } = flatsDarksOf(f, paths, keys, rows, cols);
    if (opts.flatsFile) {
      ff = await H5File.open(opts.flatsFile, "r", direct);
      const fp = pathsFor(ff, opts.flatsPaths).paths;
      const fshape = threeD(ff, fp.data).shape;
      if (fshape[1] !== rows || fshape[2] !== cols) {
        throw new LumenError(
          opts.flatsFile,
          fp.data,
          `frames are ${fshape[1]}×${fshape[2]}, the scan's ${rows}×${cols}`,
        );
      }
      const fkeys = fp.imageKey ? readKeys(ff, fp.imageKey, fshape[0]) : null;
      const got = flatsDarksOf(ff, fp, fkeys, rows, cols);
      if (!got.flats && !got.darks) {
        throw new LumenError(
          opts.flatsFile,
          "",
          "holds no flats or darks (no image key 1/2, no data_white/data_dark)",
        );
      }
      flats = got.flats ?? flats;
      darks = got.darks ?? darks;
    }
    const empty = (p: string) => new FrameSet(f, p, new Int32Array(0), rows, cols, dtype);
    return new TomoScan({
      path,
      layout,
      paths,
      file: f,
      flatsFile: ff,
      nFrames,
      rows,
      cols,
      dtype,
      projections,
      flats: flats ?? empty(paths.data),
      darks: darks ?? empty(paths.data),
      keys,
    });
  } catch (e) {
    f.close();
    ff?.close();
    throw e;
  }
}

/**
 * Training data from simulation files, streamed: one `sim-<uuid>.hdf5` (its `1d/x_px`, `1d/y_px`)
 * is in memory at a time. Each file's rows are split into train and test sets by a seeded
 * permutation (test fraction 0.25 as the original's `train_test_split`); an epoch visits the files
 * in a seeded order and each file's training rows in a seeded order, in batches.
 *
 * @example
 * ```ts
 * import { SimSet } from "./sim_data.ts";
 * const set = await SimSet.open(["sims/"], { testFraction: 0.25, seed: 10 });
 * for await (const b of set.batches("train", 0, 64)) console.log(b.labels.length);
 * ```
 * @module
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { H5File } from "../../io/hdf5.ts";
import { SimRng } from "../../data/rng.ts";
import { LumenError } from "../../run/errors.ts";

/** One simulation file of a set. */
export interface SimFileInfo {
  path: string;
  /** `sim-<uuid>` from its metadata. */
  id: string;
  rows: number;
  /** Training and test row indices. */
  train: number[];
  test: number[];
}

/** A batch of profiles (flat, n × len) and labels. */
export interface SimBatch {
  x: Float32Array;
  labels: Int32Array;
}

function shuffle(a: number[], rng: SimRng): number[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/**
 * Expands folders to their `*.hdf5` files (sorted); files are kept as given.
 * @example
 * ```ts
 * listSimFiles(["sims/"]); // ["sims/sim-….hdf5", …]
 * ```
 */
export function listSimFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new LumenError(p, "", "no such file or folder");
    }
    if (st.isDirectory()) {
      out.push(...readdirSync(p).filter((f) => f.endsWith(".hdf5")).sort().map((f) => join(p, f)));
    } else out.push(p);
  }
  if (out.length === 0) throw new LumenError(paths.join(" "), "", "no .hdf5 simulation files");
  return out;
}

/**
 * Simulation files with a common phase list.
 * @example
 * ```ts
 * const set = await SimSet.open(["sims/"]); set.count("train");
 * ```
 */
export class SimSet {
  private constructor(
    readonly files: SimFileInfo[],
    readonly phases: string[],
    readonly len: number,
    readonly qAxis: Float64Array,
    private readonly seed: number,
  ) {}

  /** Opens the files (headers only) and splits each. */
  static async open(
    paths: readonly string[],
    o: { testFraction?: number; seed?: number } = {},
  ): Promise<SimSet> {
    const seed = o.seed ?? 10, tf = o.testFraction ?? 0.25;
    const files: SimFileInfo[] = [];
    let phases: string[] | null = null, len = 0;
    let qAxis = new Float64Array();
    for (const path of listSimFiles(paths)) {
      const f = await H5File.open(path);
      try {
        if (!f.has("1d/x_px")) throw new LumenError(path, "1d/x_px", "missing: not a simulation");
        const [rows, l] = f.shape("1d/x_px");
        const ph = f.attr("metadata", "phases") as string[];
        if (phases && JSON.stringify(ph) !== JSON.stringify(phases)) {
          throw new LumenError(path, "metadata@phases", `${ph} differ from ${phases}`);
        }
        phases = ph;
        len = l;
        if (qAxis.length === 0) {
          qAxis = Float64Array.from(f.read("1d/x_all_q_axis").data as Float64Array);
        }
        const perm = shuffle([...Array(rows).keys()], new SimRng(seed + files.length));
        const nTest = Math.round(rows * tf);
        files.push({
          path,
          id: String(f.attr("metadata", "id")),
          rows,
          test: perm.slice(0, nTest).sort((a, b) => a - b),
          train: perm.slice(nTest),
        });
      } finally {
        f.close();
      }
    }
    return new SimSet(files, phases!, len, qAxis, seed);
  }

  /** Number of rows in a split. */
  count(split: "train" | "test"): number {
    return this.files.reduce((n, f) => n + f[split].length, 0);
  }

  /** The batches of a split for an epoch (test: in file and row order). */
  async *batches(split: "train" | "test", epoch: number, size: number): AsyncGenerator<SimBatch> {
    const rng = new SimRng(this.seed * 1000 + epoch + 1);
    const order = [...this.files.keys()];
    if (split === "train") shuffle(order, rng);
    for (const fi of order) {
      const info = this.files[fi];
      const f = await H5File.open(info.path);
      let x: Float32Array, y: Float64Array;
      try {
        x = Float32Array.from(f.read("1d/x_px").data as ArrayLike<number>);
        y = Float64Array.from(f.read("1d/y_px").data as ArrayLike<number>);
      } finally {
        f.close();
      }
      const rows = split === "train" ? shuffle(info.train.slice(), rng) : info[split];
      for (let s = 0; s < rows.length; s += size) {
        const idx = rows.slice(s, s + size);
        const bx = new Float32Array(idx.length * this.len);
        idx.forEach((r, i) => bx.set(x.subarray(r * this.len, (r + 1) * this.len), i * this.len));
        yield { x: bx, labels: Int32Array.from(idx, (r) => y[r]) };
      }
    }
  }
}

/**
 * The inputs of one parameter-space point, as the original's simulator finds them: the phase
 * CIFs (`structure_parameters.phase_files` under `root_path`/`phase_files_location_from_root`)
 * and, with `orientations_parameters.use_orix_sampling`, the orientation lists: per phase one
 * `.npy` of Euler angles (N, 3), degrees, named by `orientation_files_list` with `xxxx` replaced
 * by each `orientation_sampling_mode` (several modes pool their rows), under
 * `ori_files_location_from_root`; `n_points` rows are drawn per phase with replacement, as the
 * original's `load_orientation_list` does (with Lumen's seeded generator instead of Python's
 * `random`, so the draws differ from the original's while following the same rule).
 *
 * @example
 * ```ts
 * import { pointInputs } from "./sim_point.ts";
 * const { phases, eulers, files } = await pointInputs(point.params, "space.yaml", point.seed);
 * ```
 * @module
 */
import { basename, dirname, isAbsolute, join } from "node:path";
import { type Cif, decodeCif, parseCif } from "./cif.ts";
import { readNpy } from "../../io/npy.ts";
import { readInput } from "../../run/atomic.ts";
import { LumenError } from "../../run/errors.ts";
import { SimRng } from "../../data/rng.ts";

/** What a point simulates from. */
export interface PointInputs {
  phases: { name: string; cif: Cif }[];
  /** Per phase, the drawn Euler angles (degrees), when orientation files are used. */
  eulers?: number[][][];
  /** Every file read (CIFs, orientation lists), for provenance. */
  files: string[];
}

// deno-lint-ignore no-explicit-any
type P = any;

/**
 * The orientation-list paths of every phase (outer: phases; inner: sampling modes).
 * @example
 * ```ts
 * orientationFiles(params, "/data"); // [["/data/models/…/orientations_pg422_3_cubo.npy", …], …]
 * ```
 */
export function orientationFiles(params: P, root: string): string[][] {
  const o = params.orientations_parameters;
  const modes: string[] = ([] as string[]).concat(o.orientation_sampling_mode);
  const dir = isAbsolute(o.ori_files_location_from_root)
    ? o.ori_files_location_from_root
    : join(root, o.ori_files_location_from_root);
  return (o.orientation_files_list as string[]).map((f) =>
    modes.map((m) => join(dir, f.replaceAll("xxxx", m)))
  );
}

/**
 * Reads the orientation lists and draws `n` rows per phase with replacement.
 * @example
 * ```ts
 * const eulers = await drawOrientations([["a_euler.npy"]], 100, new SimRng(1)); // [100 × 3]
 * ```
 */
export async function drawOrientations(
  files: string[][],
  n: number,
  rng: SimRng,
): Promise<number[][][]> {
  const out: number[][][] = [];
  for (const group of files) {
    const pool: number[][] = [];
    for (const f of group) {
      const a = await readNpy(f);
      if (a.shape.length !== 2 || a.shape[1] !== 3) {
        throw new LumenError(
          f,
          "",
          `orientation list must be (N, 3) Euler angles, not (${a.shape})`,
        );
      }
      const d = a.data as ArrayLike<number | bigint>;
      for (let i = 0; i < a.shape[0]; i++) {
        pool.push([Number(d[3 * i]), Number(d[3 * i + 1]), Number(d[3 * i + 2])]);
      }
    }
    if (pool.length === 0) throw new LumenError(group[0] ?? "", "", "orientation list is empty");
    out.push(Array.from({ length: n }, () => pool[rng.int(0, pool.length - 1)]));
  }
  return out;
}

/**
 * Loads the CIFs (and orientation lists) of a point whose YAML is at `config`.
 * @example
 * ```ts
 * const inp = await pointInputs(point.params, "space.yaml", point.seed);
 * ```
 */
export async function pointInputs(params: P, config: string, seed: number): Promise<PointInputs> {
  const root = isAbsolute(params.root_path)
    ? params.root_path
    : join(dirname(config), params.root_path);
  const sp = params.structure_parameters;
  const files = (sp.phase_files as string[]).map((p) =>
    isAbsolute(p) ? p : join(root, sp.phase_files_location_from_root as string, p)
  );
  if (files.length === 0) {
    throw new LumenError(config, "", "structure_parameters.phase_files is empty");
  }
  const phases = await Promise.all(files.map(async (p) => ({
    name: basename(p).replace(/\.[^.]*$/, ""),
    cif: parseCif(decodeCif(await readInput(p), p), p),
  })));
  if (!params.orientations_parameters.use_orix_sampling) return { phases, files };
  const ori = orientationFiles(params, root);
  if (ori.length !== phases.length) {
    throw new LumenError(
      config,
      "",
      `orientations_parameters.orientation_files_list has ${ori.length} files for ${phases.length} phases`,
    );
  }
  // a stream of its own, so that the draws do not shift the simulation's random numbers
  const eulers = await drawOrientations(
    ori,
    params.orientations_parameters.n_points,
    new SimRng((seed ^ 0x6f726978) >>> 0),
  );
  return { phases, eulers, files: [...files, ...ori.flat()] };
}

/**
 * A UTC time stamp `YYYYMMDD_HHMMSS` (the original's file time stamps).
 * @example
 * ```ts
 * fileStamp(new Date(0)); // "19700101_000000"
 * ```
 */
export function fileStamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}_${p(d.getUTCHours())}${
    p(d.getUTCMinutes())
  }${p(d.getUTCSeconds())}`;
}

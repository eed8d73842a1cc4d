/**
 * diffsims XL's parameter-space YAML: the simulation settings (`sim_params`) with swept
 * dimensions, in either of two forms:
 *
 * - the original's paramspace tags: `sim_params: !pspace` and, at any key, `!pdim` with `values`
 *   (or `range: [start, stop, step]`, `linspace: [a, b, n]`, `logspace: [a, b, n]`) and `default`;
 * - a plain form: a top-level `sweep:` mapping that mirrors `sim_params`, where each leaf list is
 *   a dimension (its elements are the points).
 *
 * Keys missing from the file take the original's `param_space_yaml.yml` values. Unknown keys,
 * wrong types and unknown tags are one-line errors naming the file, line and key path. The
 * points are the Cartesian product of the dimensions, which are ordered by key path; the first
 * varies fastest. Each point has a name-based uuid (of its resolved settings) and its seed
 * (`random_seed` of the point).
 *
 * @example
 * ```ts
 * import { parseParamSpace, spacePoints } from "./param_space.ts";
 * const s = parseParamSpace("sim_params: !pspace\n  random_seed: !pdim {default: 0, values: [0, 5]}\n", "p.yml");
 * spacePoints(s).map((p) => p.seed); // [0, 5]
 * ```
 * @module
 */
import { withoutEnv } from "../../io/yaml.ts";
import { YAML } from "../../deps.ts";
import { LumenError } from "../../run/errors.ts";
import { canonicalJson, uuidFrom } from "../../run/provenance.ts";

/**
 * A leaf type: `number`, `int`, `string`, `bool`, `null`, `range` ([lo, hi] or null), `'word'`,
 * `T[]`, unions with `|`.
 */
type Leaf = string;
/** The shape of the settings: nested keys down to leaf types. */
export interface Schema {
  [key: string]: Leaf | Schema;
}

/**
 * The keys of `sim_params` and their types.
 * @example
 * ```ts
 * SIM_SCHEMA.relrod_parameters; // { randomise_relrod: "bool", relrod_list: "number[]" }
 * ```
 */
export const SIM_SCHEMA: Schema = {
  root_path: "string",
  simulation_orientations_chunk_size: "int",
  random_seed: "int",
  save_relpath: "string",
  structure_parameters: {
    phase_files_location_from_root: "string",
    phase_files: "string[]",
    add_bkg_phase: "bool",
    scattering_params: "'lobato'|'xtables'|'doyle_turner'",
    lattice_scaling_ranges: "range[]|null",
  },
  calibration_parameters: {
    calibration_value: "number[]|number",
    calibration_modify_percent: "number|null",
  },
  orientations_parameters: {
    n_points: "int",
    use_orix_sampling: "bool",
    ori_files_location_from_root: "string",
    orientation_files_list: "string[]",
    orientation_sampling_mode: "string[]|string",
  },
  data_augmentation_parameters: {
    peak_removal: {
      remove_peaks_from_diffraction_library: "bool",
      n_intensity_peaks: "int",
      num_peaks_to_remove: "int|'random'",
    },
    noise_addition: {
      add_noise: "bool|'random'",
      include_also_non_noisy_simulation: "bool",
      snrs: "number[]",
      intensity_spikes: "number[]",
    },
    background_parameters: {
      add_background_to_1d: "bool|'random'",
      include_also_non_bkg_simulation: "bool",
      a_vals: "number[]",
      tau_vals: "number[]",
    },
    simulated_direct_beam_bool: "bool",
  },
  relrod_parameters: { randomise_relrod: "bool", relrod_list: "number[]" },
  sigma_parameters: { randomise_sigmas: "bool", sigma_2d_gaussian_list: "number[]" },
  detector_geometry: {
    detector_size: "int",
    beam_energy: "number",
    detector_pix_size: "number",
    detector_type: "string",
    radial_integration_1d: "bool",
    radial_integration_2d: "bool",
    save_peak_position_library: "bool",
  },
  postprocessing_parameters: {
    crop_in_k: "bool",
    crop_in_px: "bool",
    save_full_scan: "bool",
    cropping_start_k: "number",
    cropping_stop_k: "number",
    cropped_signal_k_points: "int",
    cropping_start_px: "int",
    cropping_stop_px: "int",
    sqrt_signal: "bool",
    save_md_to_mongodb: "bool",
  },
};

/**
 * The original's `param_space_yaml.yml` values (root_path `.`, no sweep), used for missing keys.
 * @example
 * ```ts
 * (SIM_DEFAULTS.detector_geometry as Record<string, unknown>).detector_size; // 515
 * ```
 */
export const SIM_DEFAULTS: Record<string, unknown> = {
  root_path: ".",
  simulation_orientations_chunk_size: 1000,
  random_seed: 10,
  save_relpath: "data/simulations",
  structure_parameters: {
    phase_files_location_from_root: "models/crystal_phases",
    phase_files: [],
    add_bkg_phase: false,
    scattering_params: "lobato",
    lattice_scaling_ranges: null,
  },
  calibration_parameters: { calibration_value: [0.00588], calibration_modify_percent: 5 },
  orientations_parameters: {
    n_points: 10000,
    use_orix_sampling: false,
    ori_files_location_from_root: "models/orix_orientation_full_lists",
    orientation_files_list: [],
    orientation_sampling_mode: ["cubo", "euler", "quat"],
  },
  data_augmentation_parameters: {
    peak_removal: {
      remove_peaks_from_diffraction_library: true,
      n_intensity_peaks: 20,
      num_peaks_to_remove: "random",
    },
    noise_addition: {
      add_noise: false,
      include_also_non_noisy_simulation: false,
      snrs: [0.9, 0.99, 0.999, 0.9999],
      intensity_spikes: [0, 0.1, 0.25, 0.5, 0.75],
    },
    background_parameters: {
      add_background_to_1d: false,
      include_also_non_bkg_simulation: false,
      a_vals: [0, 0.1, 1, 5, 10],
      tau_vals: [0.1, 0.5, 1, 1.5, 2, 2.5],
    },
    simulated_direct_beam_bool: false,
  },
  relrod_parameters: { randomise_relrod: true, relrod_list: [0.02, 0.2, 0.4, 0.6, 1, 2, 5, 10] },
  sigma_parameters: {
    randomise_sigmas: true,
    sigma_2d_gaussian_list: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  },
  detector_geometry: {
    detector_size: 515,
    beam_energy: 200,
    detector_pix_size: 55e-6,
    detector_type: "Medipix515x515Detector",
    radial_integration_1d: true,
    radial_integration_2d: false,
    save_peak_position_library: false,
  },
  postprocessing_parameters: {
    crop_in_k: false,
    crop_in_px: true,
    save_full_scan: true,
    cropping_start_k: 0.11,
    cropping_stop_k: 1.3,
    cropped_signal_k_points: 147,
    cropping_start_px: 13,
    cropping_stop_px: 160,
    sqrt_signal: false,
    save_md_to_mongodb: false,
  },
};

/** One swept dimension. */
export interface Dimension {
  /** Key path inside `sim_params`. */
  path: string[];
  /** The points along it. */
  values: unknown[];
  /** The value outside a sweep (paramspace's `default`; the first value in the plain form). */
  default: unknown;
  /** paramspace's `order` (dimensions sort by it, then by path); default +∞. */
  order: number;
  /** Line of the dimension in the file. */
  line: number;
}

/** A parsed parameter space. */
export interface ParamSpace {
  file: string;
  /** The settings with every dimension at its default and missing keys filled in. */
  base: Record<string, unknown>;
  /** The dimensions, in iteration order. */
  dims: Dimension[];
}

/** One point of the space. */
export interface SpacePoint {
  /** 0-based index in iteration order. */
  index: number;
  /** Name-based uuid of the resolved settings. */
  uuid: string;
  /** The point's `random_seed`. */
  seed: number;
  /** The resolved settings. */
  params: Record<string, unknown>;
  /** The value of each dimension, by dotted path. */
  coords: Record<string, unknown>;
}

type Node = unknown;
interface Ctx {
  file: string;
  lc: InstanceType<typeof YAML.LineCounter>;
  dims: Dimension[];
}

function lineOf(ctx: Ctx, node: Node): number {
  const r = (node as { range?: number[] })?.range;
  return r ? ctx.lc.linePos(r[0]).line : 0;
}

function fail(ctx: Ctx, line: number, path: string[], problem: string): never {
  throw new LumenError(ctx.file, line ? `line ${line}` : "", `${path.join(".")}: ${problem}`);
}

function toJs(ctx: Ctx, node: Node, path: string[], inSpace: boolean, keyLine = 0): unknown {
  const tag = (node as { tag?: string })?.tag;
  if (tag === "!pspace") {
    if (!YAML.isMap(node)) fail(ctx, lineOf(ctx, node), path, "!pspace must tag a mapping");
    return toJs(ctx, Object.assign(node, { tag: undefined }), path, true);
  }
  if (tag === "!pdim") {
    if (!inSpace) fail(ctx, lineOf(ctx, node), path, "!pdim outside a !pspace");
    if (!YAML.isMap(node)) fail(ctx, lineOf(ctx, node), path, "!pdim must tag a mapping");
    const m = toJs(ctx, Object.assign(node, { tag: undefined }), path, false) as Record<
      string,
      unknown
    >;
    return makeDim(ctx, m, path, keyLine || lineOf(ctx, node));
  }
  if (tag && tag.startsWith("!")) fail(ctx, lineOf(ctx, node), path, `unknown tag ${tag}`);
  if (YAML.isMap(node)) {
    const out: Record<string, unknown> = {};
    for (const it of node.items) {
      const key = String(YAML.isScalar(it.key) ? it.key.value : it.key);
      out[key] = toJs(ctx, it.value, [...path, key], inSpace, lineOf(ctx, it.key));
    }
    return out;
  }
  if (YAML.isSeq(node)) return node.items.map((v, i) => toJs(ctx, v, [...path, `${i}`], inSpace));
  if (YAML.isScalar(node)) return node.value;
  if (YAML.isAlias(node)) fail(ctx, lineOf(ctx, node), path, "aliases are not supported");
  return node ?? null;
}

const DIM_KEYS = ["default", "values", "range", "linspace", "logspace", "order", "name"];

function makeDim(ctx: Ctx, m: Record<string, unknown>, path: string[], line: number): symbol {
  for (const k of Object.keys(m)) {
    if (!DIM_KEYS.includes(k)) fail(ctx, line, path, `unknown !pdim key '${k}'`);
  }
  const nums = (k: string, n: number): number[] => {
    const v = m[k];
    if (!Array.isArray(v) || v.length !== n || v.some((x) => typeof x !== "number")) {
      fail(ctx, line, path, `!pdim ${k} must be a list of ${n} numbers`);
    }
    return v as number[];
  };
  let values: unknown[];
  if (m.values !== undefined) {
    if (!Array.isArray(m.values)) fail(ctx, line, path, "!pdim values must be a list");
    values = m.values;
  } else if (m.range !== undefined) {
    const r = Array.isArray(m.range) && m.range.length === 2
      ? [...nums("range", 2), 1]
      : nums("range", 3);
    if (r[2] === 0) fail(ctx, line, path, "!pdim range step is 0");
    values = [];
    for (let x = r[0]; r[2] > 0 ? x < r[1] : x > r[1]; x += r[2]) values.push(x);
  } else if (m.linspace !== undefined || m.logspace !== undefined) {
    const log = m.linspace === undefined;
    const [a, b, n] = nums(log ? "logspace" : "linspace", 3);
    values = Array.from({ length: n }, (_, i) => {
      const t = n === 1 ? a : a + (b - a) * i / (n - 1);
      return log ? 10 ** t : t;
    });
  } else fail(ctx, line, path, "!pdim needs values, range, linspace or logspace");
  if (values.length === 0) fail(ctx, line, path, "!pdim has no values");
  const order = m.order === undefined ? Infinity : Number(m.order);
  ctx.dims.push({
    path,
    values,
    default: m.default === undefined ? values[0] : m.default,
    order,
    line,
  });
  return DIM;
}

const DIM = Symbol("dim");

function checkLeaf(type: Leaf, v: unknown): boolean {
  return type.split("|").some((t) => {
    if (t.endsWith("[]")) return Array.isArray(v) && v.every((x) => checkLeaf(t.slice(0, -2), x));
    if (t.startsWith("'")) return v === t.slice(1, -1);
    if (t === "number") return typeof v === "number" && Number.isFinite(v);
    if (t === "int") return Number.isSafeInteger(v);
    if (t === "string") return typeof v === "string";
    if (t === "bool") return typeof v === "boolean";
    if (t === "null") return v === null;
    if (t === "range") {
      return v === null || (Array.isArray(v) && v.length === 2 && v.every(Number.isFinite));
    }
    return false;
  });
}

function lineAt(ctx: Ctx, doc: YAML.Document, path: string[]): number {
  for (let n = path.length; n > 0; n--) {
    const node = doc.getIn(path.slice(0, n), true);
    if (node) return lineOf(ctx, node);
  }
  return 0;
}

function validate(
  ctx: Ctx,
  doc: YAML.Document,
  docPath: string[],
  v: unknown,
  schema: Schema,
  path: string[],
): void {
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    fail(ctx, lineAt(ctx, doc, docPath), path, "expected a mapping");
  }
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const s = schema[k];
    const p = [...path, k], dp = [...docPath, k];
    if (s === undefined) fail(ctx, lineAt(ctx, doc, dp), p, "unknown key");
    if (x === DIM) continue;
    if (typeof s === "string") {
      if (!checkLeaf(s, x)) {
        fail(ctx, lineAt(ctx, doc, dp), p, `expected ${s}, got ${JSON.stringify(x)}`);
      }
    } else validate(ctx, doc, dp, x, s, p);
  }
}

function leafType(path: string[]): Leaf | Schema | undefined {
  let s: Leaf | Schema | undefined = SIM_SCHEMA;
  for (const k of path) s = typeof s === "object" ? s[k] : undefined;
  return s;
}

function merge(base: unknown, over: unknown): unknown {
  if (
    over && typeof over === "object" && !Array.isArray(over) && base &&
    typeof base === "object" && !Array.isArray(base)
  ) {
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [k, v] of Object.entries(over)) out[k] = merge(out[k], v);
    return out;
  }
  return over;
}

function setIn(obj: Record<string, unknown>, path: string[], v: unknown): void {
  let o = obj;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>;
  o[path[path.length - 1]] = v;
}

function collectSweep(ctx: Ctx, doc: YAML.Document, v: unknown, path: string[]): void {
  const type = leafType(path);
  if (type === undefined) fail(ctx, lineAt(ctx, doc, ["sweep", ...path]), path, "unknown key");
  if (typeof type === "object") {
    if (v === null || typeof v !== "object" || Array.isArray(v)) {
      fail(ctx, lineAt(ctx, doc, ["sweep", ...path]), path, "expected a mapping");
    }
    for (const [k, x] of Object.entries(v as object)) collectSweep(ctx, doc, x, [...path, k]);
    return;
  }
  const line = lineAt(ctx, doc, ["sweep", ...path]);
  if (!Array.isArray(v) || v.length === 0) {
    fail(ctx, line, path, "a sweep entry must be a non-empty list of values");
  }
  ctx.dims.push({ path, values: v, default: v[0], order: Infinity, line });
}

/**
 * Parses a parameter-space YAML (either form); throws one-line errors naming file, line and key.
 *
 * @example
 * ```ts
 * const s = parseParamSpace("sim_params:\n  random_seed: 1\nsweep:\n  random_seed: [1, 2, 3]\n", "p.yml");
 * s.dims[0].values; // [1, 2, 3]
 * ```
 */
export function parseParamSpace(text: string, file: string): ParamSpace {
  const lc = new YAML.LineCounter();
  const doc = withoutEnv(() =>
    YAML.parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false })
  );
  const ctx: Ctx = { file, lc, dims: [] };
  const err = doc.errors[0];
  if (err) {
    const pos = lc.linePos(err.pos[0]);
    throw new LumenError(file, `line ${pos.line}:${pos.col}`, err.message.split("\n")[0]);
  }
  const root = toJs(ctx, doc.contents, [], false);
  if (root === null || typeof root !== "object" || Array.isArray(root)) {
    throw new LumenError(file, "", "expected a mapping with sim_params");
  }
  const top = root as Record<string, unknown>;
  for (const k of Object.keys(top)) {
    if (k !== "sim_params" && k !== "sweep") {
      fail(ctx, lineAt(ctx, doc, [k]), [k], "unknown key (expected sim_params and sweep)");
    }
  }
  for (const d of ctx.dims) {
    if (d.path[0] !== "sim_params") fail(ctx, d.line, d.path, "!pdim outside sim_params");
    d.path = d.path.slice(1);
  }
  const params = (top.sim_params ?? {}) as Record<string, unknown>;
  validate(ctx, doc, ["sim_params"], params, SIM_SCHEMA, []);
  for (const d of ctx.dims) {
    const t = leafType(d.path);
    for (const v of [...d.values, d.default]) {
      if (typeof t === "string" && !checkLeaf(t, v)) {
        fail(ctx, d.line, d.path, `expected ${t}, got ${JSON.stringify(v)}`);
      }
    }
  }
  if (top.sweep !== undefined && top.sweep !== null) collectSweep(ctx, doc, top.sweep, []);
  const seen = new Set<string>();
  for (const d of ctx.dims) {
    const key = d.path.join(".");
    if (seen.has(key)) fail(ctx, d.line, d.path, "swept twice");
    seen.add(key);
  }
  const base = merge(structuredClone(SIM_DEFAULTS), stripDims(params)) as Record<string, unknown>;
  for (const d of ctx.dims) setIn(base, d.path, d.default);
  const dims = ctx.dims.slice().sort((a, b) =>
    a.order - b.order || (a.path.join(".") < b.path.join(".") ? -1 : 1)
  );
  return { file, base, dims };
}

function stripDims(v: unknown): unknown {
  if (v === DIM) return undefined;
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== DIM) out[k] = stripDims(x);
    return out;
  }
  return v;
}

/**
 * Number of points (the product of the dimensions' lengths; 1 without dimensions).
 * @example
 * ```ts
 * spaceVolume(parseParamSpace("sweep:\n  random_seed: [1, 2]\n", "p.yml")); // 2
 * ```
 */
export function spaceVolume(s: ParamSpace): number {
  return s.dims.reduce((n, d) => n * d.values.length, 1);
}

/**
 * Every point of the space, in order (first dimension fastest).
 *
 * @example
 * ```ts
 * spacePoints(space).length === spaceVolume(space); // true
 * ```
 */
export function spacePoints(s: ParamSpace): SpacePoint[] {
  const n = spaceVolume(s);
  const out: SpacePoint[] = [];
  for (let i = 0; i < n; i++) {
    const params = structuredClone(s.base);
    const coords: Record<string, unknown> = {};
    let r = i;
    for (const d of s.dims) {
      const v = d.values[r % d.values.length];
      r = Math.floor(r / d.values.length);
      setIn(params, d.path, structuredClone(v));
      coords[d.path.join(".")] = v;
    }
    out.push({
      index: i,
      uuid: uuidFrom(canonicalJson({ index: i, params })),
      seed: Number(params.random_seed),
      params,
      coords,
    });
  }
  return out;
}

/**
 * Phase-probability maps of experimental scans: an experimental `.npz` holds `x` (147,) (q in
 * Å⁻¹) and `y` (ny, nx, 147) (radial profiles); every pixel's profile goes through the CNN's
 * softmax → `pred` (ny, nx, n_phases), written as `<exp>_probability_pred.npz` with `phases` and
 * `cnn_id`, and a phase-map PNG (argmax, one colour per phase).
 *
 * @example
 * ```ts
 * import { predictMap, readExperiment } from "./predict.ts";
 * const exp = await readExperiment("roi_3_rebin_radial_crop.npz", 147);
 * const pred = predictMap(net, exp); // Float32Array ny·nx·n
 * ```
 * @module
 */
import { readNpz } from "../../io/npz.ts";
import { encodePng } from "../../io/png.ts";
import { ndarray } from "../../io/array.ts";
import { LumenError } from "../../run/errors.ts";
import type { Sequential } from "../../nn/layers.ts";
import { predictProba } from "./cnn.ts";

/** An experimental scan. */
export interface Experiment {
  path: string;
  /** (len,) q axis. */
  x: Float64Array;
  /** (ny, nx, len) profiles, float32. */
  y: Float32Array;
  ny: number;
  nx: number;
  len: number;
}

/**
 * Reads and checks an experimental `.npz` (`x` (len,), `y` (ny, nx, len)).
 * @example
 * ```ts
 * const e = await readExperiment("roi_3_rebin_radial_crop.npz", 147); // e.ny, e.nx
 * ```
 */
export async function readExperiment(path: string, len: number): Promise<Experiment> {
  const z = await readNpz(path);
  const x = z.get("x"), y = z.get("y");
  if (!x || !y) throw new LumenError(path, "", "needs arrays x (q axis) and y (ny, nx, q)");
  if (x.shape.length !== 1 || x.shape[0] !== len) {
    throw new LumenError(path, "x", `shape (${x.shape.join(", ")}), expected (${len},)`);
  }
  if (y.shape.length !== 3 || y.shape[2] !== len) {
    throw new LumenError(path, "y", `shape (${y.shape.join(", ")}), expected (ny, nx, ${len})`);
  }
  return {
    path,
    x: Float64Array.from(x.data as ArrayLike<number>),
    y: Float32Array.from(y.data as ArrayLike<number>),
    ny: y.shape[0],
    nx: y.shape[1],
    len,
  };
}

/**
 * Softmax probabilities of every pixel, (ny·nx·n) row-major, in chunks of `chunk` pixels.
 * @example
 * ```ts
 * const pred = predictMap(net, exp); // ny·nx·n
 * ```
 */
export function predictMap(net: Sequential, e: Experiment, chunk = 1024): Float32Array {
  const n = e.ny * e.nx;
  let out: Float32Array | null = null;
  for (let s = 0; s < n; s += chunk) {
    const m = Math.min(chunk, n - s);
    const p = predictProba(net, e.y.subarray(s * e.len, (s + m) * e.len), m);
    const c = p.length / m;
    out ??= new Float32Array(n * c);
    out.set(p, s * c);
  }
  return out ?? new Float32Array();
}

/**
 * Argmax phase of each pixel.
 * @example
 * ```ts
 * phaseMap(new Float32Array([0.2, 0.8, 0.9, 0.1]), 2); // Int32Array [1, 0]
 * ```
 */
export function phaseMap(pred: Float32Array, pixels: number): Int32Array {
  const c = pred.length / pixels;
  const out = new Int32Array(pixels);
  for (let i = 0; i < pixels; i++) {
    let b = 0;
    for (let k = 1; k < c; k++) if (pred[i * c + k] > pred[i * c + b]) b = k;
    out[i] = b;
  }
  return out;
}

const COLOURS = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
  [188, 189, 34],
  [23, 190, 207],
]; // deno-fmt-ignore

/**
 * A PNG of the phase map, one colour per phase, each pixel scaled to `zoom`×`zoom`.
 * @example
 * ```ts
 * Deno.writeFileSync("map.png", phaseMapPng(map, ny, nx));
 * ```
 */
export function phaseMapPng(map: Int32Array, ny: number, nx: number, zoom = 4): Uint8Array {
  const h = ny * zoom, w = nx * zoom;
  const img = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const c = COLOURS[map[Math.floor(y / zoom) * nx + Math.floor(x / zoom)] % COLOURS.length];
      img.set(c, (y * w + x) * 3);
    }
  }
  return encodePng(ndarray(img, [h, w, 3]));
}

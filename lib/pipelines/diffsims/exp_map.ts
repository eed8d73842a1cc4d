/**
 * An experimental-like scan simulated with a known phase layout (for the demo and tests): each
 * pixel's profile is a simulated, cropped profile (`x_px`) of its phase, with the q axis of the
 * crop (`x`), as an experimental `.npz` holds them.
 *
 * @example
 * ```ts
 * import { stripesLayout, simulateMap } from "./exp_map.ts";
 * const layout = stripesLayout(12, 18, 3);
 * const m = simulateMap(params, phases, layout, 12, 18, 7); // { x, y }
 * ```
 * @module
 */
import type { Cif } from "./cif.ts";
import { simulatePoint } from "./simulate.ts";
import type { SimKernels } from "./kinematic_wasm.ts";

/**
 * Vertical bands of `n` phases over an ny × nx map (phase = band index).
 * @example
 * ```ts
 * stripesLayout(2, 3, 3); // Int32Array [0, 1, 2, 0, 1, 2]
 * ```
 */
export function stripesLayout(ny: number, nx: number, n: number): Int32Array {
  const m = new Int32Array(ny * nx);
  for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) m[y * nx + x] = Math.floor(x * n / nx);
  return m;
}

/**
 * Simulates the map: `x` (crop,) and `y` (ny·nx·crop).
 * @example
 * ```ts
 * const { x, y } = simulateMap(point.params, phases, stripesLayout(12, 18, 3), 12, 18, 7);
 * ```
 */
export function simulateMap(
  params: Record<string, unknown>,
  phases: { name: string; cif: Cif }[],
  layout: Int32Array,
  ny: number,
  nx: number,
  seed: number,
  kernels?: SimKernels,
): { x: Float64Array; y: Float32Array; len: number } {
  const p = structuredClone(params) as Record<string, Record<string, unknown>>;
  let x = new Float64Array(), len = 0;
  const y = new Float32Array(0);
  let out = y;
  phases.forEach((ph, k) => {
    const pix = [...layout.keys()].filter((i) => layout[i] === k);
    if (pix.length === 0) return;
    p.orientations_parameters = { ...p.orientations_parameters, n_points: pix.length };
    const r = simulatePoint(p, [ph], seed + 101 * k, undefined, kernels);
    const pp = p.postprocessing_parameters as Record<string, number>;
    len = r.crop;
    x = r.qAxis.slice(pp.cropping_start_px, pp.cropping_stop_px);
    if (out.length === 0) out = new Float32Array(ny * nx * len);
    pix.forEach((px, j) => out.set(r.xPx.subarray(j * len, (j + 1) * len), px * len));
  });
  return { x, y: out, len };
}

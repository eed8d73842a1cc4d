/**
 * DDPM noise schedules (linear as Ho et al., cosine as Nichol & Dhariwal), the forward noising
 * x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε, and the DDIM update (Song et al.; diffusers' "leading" timestep
 * spacing, ᾱ = 1 after the last step, optional x₀ clipping to [−1, 1] with the model's ε kept,
 * as diffusers' DDIMScheduler does by default), in float64 on flat arrays.
 *
 * @example
 * ```ts
 * import { ddimStep, ddimTimesteps, makeSchedule } from "./diffusion_schedule.ts";
 * const s = makeSchedule("linear", 1000);
 * const ts = ddimTimesteps(1000, 50); // [980, 960, …, 0]
 * const prev = ddimStep(s, xt, eps, ts[0], ts[1], { eta: 0 });
 * ```
 * @module
 */
import { LumenError } from "../../run/errors.ts";

/** A noise schedule over `T` steps. */
export interface NoiseSchedule {
  kind: "linear" | "cosine";
  T: number;
  betas: Float64Array;
  /** ᾱ_t = Π_{s ≤ t} (1 − β_s). */
  alphasCumprod: Float64Array;
}

/**
 * β and ᾱ for `T` steps: linear β from 1e-4 to 0.02, or the cosine ᾱ (offset s = 0.008, β ≤
 * 0.999).
 *
 * @example
 * ```ts
 * makeSchedule("cosine", 1000).alphasCumprod[999]; // close to 0
 * ```
 */
export function makeSchedule(
  kind: "linear" | "cosine",
  T: number,
  betaStart = 1e-4,
  betaEnd = 0.02,
): NoiseSchedule {
  if (!Number.isInteger(T) || T < 2) throw new LumenError("schedule", "", "T must be ≥ 2");
  const betas = new Float64Array(T);
  if (kind === "linear") {
    for (let i = 0; i < T; i++) betas[i] = betaStart + (betaEnd - betaStart) * i / (T - 1);
  } else {
    const f = (t: number) => Math.cos(((t / T + 0.008) / 1.008) * Math.PI / 2) ** 2;
    for (let i = 0; i < T; i++) betas[i] = Math.min(1 - f(i + 1) / f(i), 0.999);
  }
  const alphasCumprod = new Float64Array(T);
  let p = 1;
  for (let i = 0; i < T; i++) {
    p *= 1 - betas[i];
    alphasCumprod[i] = p;
  }
  return { kind, T, betas, alphasCumprod };
}

/**
 * x_t for x₀, ε and a timestep per sample (`x0` and `eps` hold `n` samples of `per` values).
 *
 * @example
 * ```ts
 * qSample(s, x0, eps, [10, 500], x0.length / 2);
 * ```
 */
export function qSample(
  s: NoiseSchedule,
  x0: ArrayLike<number>,
  eps: ArrayLike<number>,
  t: readonly number[],
  per: number,
): Float32Array {
  const out = new Float32Array(x0.length);
  t.forEach((ti, n) => {
    const a = Math.sqrt(s.alphasCumprod[ti]), b = Math.sqrt(1 - s.alphasCumprod[ti]);
    for (let i = n * per; i < (n + 1) * per; i++) out[i] = a * x0[i] + b * eps[i];
  });
  return out;
}

/**
 * DDIM's timesteps for `steps` sampling steps ("leading": multiples of ⌊T/steps⌋, descending).
 *
 * @example
 * ```ts
 * ddimTimesteps(1000, 4); // [750, 500, 250, 0]
 * ```
 */
export function ddimTimesteps(T: number, steps: number): number[] {
  if (!Number.isInteger(steps) || steps < 1 || steps > T) {
    throw new LumenError("--steps", "", `must be an integer in 1…${T}`);
  }
  const ratio = Math.floor(T / steps);
  return Array.from({ length: steps }, (_, i) => (steps - 1 - i) * ratio);
}

/** Options of {@link ddimStep}. */
export interface DdimOptions {
  /** 0: deterministic DDIM; 1: DDPM-like noise. */
  eta?: number;
  /** Clip the predicted x₀ to [−1, 1] (default true). */
  clip?: boolean;
  /** Standard normal noise (needed when eta > 0). */
  noise?: ArrayLike<number>;
}

/**
 * One DDIM update from x_t (timestep `t`) to the previous timestep `tPrev` (−1: the end, ᾱ = 1)
 * given the predicted noise `eps`.
 *
 * @example
 * ```ts
 * const x = ddimStep(s, xt, eps, 980, 960);
 * ```
 */
export function ddimStep(
  s: NoiseSchedule,
  xt: ArrayLike<number>,
  eps: ArrayLike<number>,
  t: number,
  tPrev: number,
  o: DdimOptions = {},
): Float32Array {
  const eta = o.eta ?? 0, clip = o.clip ?? true;
  const at = s.alphasCumprod[t];
  const ap = tPrev >= 0 ? s.alphasCumprod[tPrev] : 1;
  const sigma = eta * Math.sqrt((1 - ap) / (1 - at)) * Math.sqrt(1 - at / ap);
  if (sigma > 0 && !o.noise) throw new LumenError("ddim", "", "eta > 0 needs noise");
  const dirScale = Math.sqrt(Math.max(0, 1 - ap - sigma * sigma));
  const out = new Float32Array(xt.length);
  const sa = Math.sqrt(at), sb = Math.sqrt(1 - at), sp = Math.sqrt(ap);
  for (let i = 0; i < xt.length; i++) {
    let x0 = (xt[i] - sb * eps[i]) / sa;
    if (clip) x0 = Math.max(-1, Math.min(1, x0));
    out[i] = sp * x0 + dirScale * eps[i] + (sigma > 0 ? sigma * o.noise![i] : 0);
  }
  return out;
}

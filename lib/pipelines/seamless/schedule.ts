/**
 * The original's level schedule (train.py, 2018): every `fall_time` epochs the truncation level
 * drops by one (a finer level is trained), the last epoch of each block fine-tunes all levels at
 * lr × `fine_tuning_lr_factor`; a fresh Adam is built whenever the plan changes. Replayed from
 * epoch 0, so a resumed run gets the same plan.
 *
 * @module
 */
import type { Parameter } from "../../nn/module.ts";
import type { Pyramid } from "./pyramid.ts";

/** The schedule's inputs (the original's flag names). */
export interface ScheduleArgs {
  trunc: number;
  fall_time: number;
  size: number;
  fine_tuning: boolean;
  skip: number;
  lr: number;
  fine_tuning_lr_factor: number;
  /** Epochs at which the learning rate is multiplied by `lr_gamma` (default none). */
  lr_milestones?: number[];
  /** Factor of each milestone (default 0.1, torch's MultiStepLR). */
  lr_gamma?: number;
}

/** The plan of one epoch. */
export interface LevelPlan {
  /** The level trained (field output resolution). */
  trunc: number;
  /** All levels (and encoders) trained, at the reduced rate. */
  fineTuning: boolean;
  /** A new optimizer is built at this epoch's first step. */
  rebuild: boolean;
  /** The epoch whose start built the optimizer in use. */
  builtAt: number;
}

/**
 * The plan of `epoch`, replaying the original's per-epoch rule from epoch 0.
 *
 * @example
 * ```ts
 * levelPlan(2, { trunc: 4, fall_time: 2, size: 5, fine_tuning: false, skip: 0, lr: 2e-4,
 *   fine_tuning_lr_factor: 0.2 }); // { trunc: 3, fineTuning: false, rebuild: true, builtAt: 2 }
 * ```
 */
export function levelPlan(epoch: number, a: ScheduleArgs): LevelPlan {
  let trunc = a.trunc, ft = a.fine_tuning, builtAt = 0, rebuild = false;
  for (let e = 0; e <= epoch; e++) {
    rebuild = false;
    if (e % a.fall_time === 0 && (trunc > 0 || a.trunc === 0)) {
      ft = a.fine_tuning;
      if (e > 0 && trunc > 0) trunc--;
      rebuild = true;
    } else if (e >= a.fall_time * a.size - 1 || e % a.fall_time === a.fall_time - 1) {
      if (!ft) {
        ft = true;
        rebuild = true;
      }
    }
    if (rebuild) builtAt = e;
  }
  return { trunc, fineTuning: ft, rebuild, builtAt };
}

/**
 * The parameters and learning rate of the optimizer built at `epoch` (the original's `opt`):
 * one field net, or all of them when fine-tuning; encoders and pre-encoder when fine-tuning or
 * in the first block.
 *
 * @example
 * ```ts
 * const { params, lr } = planParams(net, levelPlan(0, args), 0, args);
 * ```
 */
export function planParams(
  net: Pyramid,
  plan: LevelPlan,
  epoch: number,
  a: ScheduleArgs,
): { params: Parameter[]; lr: number } {
  const params: Parameter[] = [];
  if (plan.trunc >= a.skip && !plan.fineTuning) {
    params.push(...net.mlist.items[plan.trunc].parameters());
  } else params.push(...net.mlist.parameters());
  if (plan.fineTuning || epoch < a.fall_time - 1) {
    params.push(...net.enclist.parameters(), ...net.pe.parameters());
  }
  return { params, lr: lrAt(epoch, plan, a) };
}

/**
 * The learning rate of `epoch` under `plan`: `lr` (× the fine-tuning factor while fine-tuning),
 * × `lr_gamma` for each of `lr_milestones` at or before `epoch` (torch's MultiStepLR).
 *
 * @example
 * ```ts
 * lrAt(5, levelPlan(5, a), { ...a, lr: 0.01, lr_milestones: [4, 5], lr_gamma: 0.3 });
 * // 0.01 × 0.2 × 0.09 when fine-tuning
 * ```
 */
export function lrAt(epoch: number, plan: LevelPlan, a: ScheduleArgs): number {
  const base = plan.fineTuning ? a.lr * a.fine_tuning_lr_factor : a.lr;
  const passed = (a.lr_milestones ?? []).filter((m) => m <= epoch).length;
  return base * (a.lr_gamma ?? 0.1) ** passed;
}

/**
 * Scores a trained network on synthetic stacks with known deformations: each section is aligned
 * to its raw neighbour (z onto z − 1, with the training zero frame) and the network's field is
 * compared with the true one ({@link residualDisplacement}).
 *
 * @module
 */
import { alignSection } from "./align.ts";
import type { Pyramid } from "./pyramid.ts";
import { type Residual, residualDisplacement, type SynthStack } from "./synth.ts";

/**
 * Mean residual and unaligned displacement over every neighbouring pair of `stacks`.
 *
 * @example
 * ```ts
 * const r = await scoreSynthetic(net, [synthStack({ depth: 6, dim: 32, seed: 9 })], 4, 5);
 * r.residual / r.unaligned; // 1: no better than leaving the sections unaligned
 * ```
 */
export async function scoreSynthetic(
  net: Pyramid,
  stacks: SynthStack[],
  padding: number,
  margin: number,
): Promise<Residual> {
  let residual = 0, unaligned = 0;
  for (const s of stacks) {
    const dim = s.sections[0].w;
    const fields = new Map<number, Float32Array>();
    for (let z = 1; z < s.sections.length; z++) {
      fields.set(z, (await alignSection(net, s.sections[z], s.sections[z - 1], padding)).field);
    }
    const r = residualDisplacement(s, fields, dim, margin);
    residual += r.residual / stacks.length;
    unaligned += r.unaligned / stacks.length;
  }
  return { residual, unaligned };
}

/**
 * AdamW (torch.optim.AdamW: decoupled weight decay p ← p·(1 − lr·wd) before the Adam update;
 * default weight decay 0.01).
 *
 * @module
 */
import type { Parameter } from "../nn/module.ts";
import { Adam, type AdamOptions } from "./adam.ts";
import type { GroupSpec } from "./optimizer.ts";

/** AdamW. */
export class AdamW extends Adam {
  override readonly kind: string = "AdamW";

  constructor(params: Parameter[] | GroupSpec[], o: AdamOptions = {}) {
    super(params, o, 0.01);
    this.decoupled = true;
  }
}

/**
 * The stripe-detection parameters the NoStripesNet mask tests use on their small scans: as
 * generate_mask flags and as the library's detect/merge parameters (the same values; the merge
 * threshold and sensitivity are the tool's defaults).
 *
 * @example
 * ```ts
 * import { MASK_FLAGS, MASK_DETECT, MASK_MERGE } from "./_mask_params.ts";
 * await runTool("nostripesnet/generate_mask", perms, ["--h5", scan, ...MASK_FLAGS]);
 * await maskScan(scan, { detect: MASK_DETECT, merge: MASK_MERGE });
 * ```
 * @module
 */
import type { DetectParams, MergeParams } from "../../../lib/tomo/stripes.ts";

/** generate_mask's flags for these parameters. */
export const MASK_FLAGS: string[] = [
  "--size",
  "30",
  "--radius",
  "3",
  "--length",
  "60",
  "--depth",
  "4",
  "--width",
  "3",
];
/** STRIPES_DETECT's parameters. */
export const MASK_DETECT: DetectParams = { size: 30, radius: 3 };
/** STRIPES_MERGE's parameters. */
export const MASK_MERGE: MergeParams = {
  threshold: 0.63,
  minStripeLength: 60,
  minStripeDepth: 4,
  minStripeWidth: 3,
  sensitivityPerc: 85,
};

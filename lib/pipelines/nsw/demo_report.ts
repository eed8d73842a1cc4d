/**
 * The NSW demo's HTML report: the run's facts, real training images, the DDIM samples per phase
 * and the FID table.
 *
 * @example
 * ```ts
 * import { writeDemoReport } from "./demo_report.ts";
 * await writeDemoReport("demo_out/nsw/report.html", { meta, real, samples, size: 32, fid });
 * ```
 * @module
 */
import { writeHtmlReport } from "../../viz/html_report.ts";
import { mosaicPng } from "./diffusion_report.ts";
import type { FidResult } from "./fid.ts";

/** What the demo report shows. */
export interface DemoReport {
  meta: Record<string, string | number>;
  /** Real images in [−1, 1]. */
  real: readonly Float32Array[];
  /** Samples, one row per draw, phases in order along each row. */
  samples: readonly Float32Array[];
  size: number;
  fid: readonly (readonly [string, FidResult])[];
}

/**
 * Writes the report (replacing an earlier one).
 *
 * @example
 * ```ts
 * await writeDemoReport(path, report);
 * ```
 */
export async function writeDemoReport(path: string, r: DemoReport): Promise<void> {
  await writeHtmlReport(path, {
    title: "NSW embryo augmentation demo",
    subtitle: "synthetic time-lapses → split → image folder → DDPM → synthetic set → FID",
    meta: r.meta,
    sections: [
      {
        heading: "Real training images (median frame per phase per video)",
        images: [{ png: mosaicPng(r.real, r.size, 16) }],
      },
      {
        heading: "DDIM samples of each phase's model (columns in phase order, tPB2 … tHB)",
        text: "A demo-length training run (16 px): one row per draw. The classifier's accuracy " +
          "on them is in the table above.",
        images: [{ png: mosaicPng(r.samples, r.size, 16) }],
      },
      {
        heading: "FID",
        text: "Features: 4×4 block means of the gray images (16 numbers per image), " +
          "standing in for the classifier's penultimate features; every image counts.",
        tables: [{
          columns: ["sets", "FID", "n₁", "n₂", "features"],
          rows: r.fid.map(([name, f]) => [name, f.fid, f.nReal, f.nFake, f.dims]),
        }],
      },
    ],
  }, { overwrite: true });
}

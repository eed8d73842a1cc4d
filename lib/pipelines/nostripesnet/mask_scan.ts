/**
 * generate_mask's work: the stripe mask of a whole scan (Larix `STRIPES_DETECT` +
 * `STRIPES_MERGE`, lib/tomo/stripes.ts, on the flat/dark-normalised −log sinograms, in slabs of
 * detector rows) and the checks that run before it (entry names, the archive, the parameters
 * against the scan's shape).
 *
 * @example
 * ```ts
 * import { maskScan } from "./mask_scan.ts";
 * const { mask } = await maskScan(scan, { detect: { size: 250, radius: 3 }, merge: { threshold: 0.63, minStripeLength: 600, minStripeDepth: 30, minStripeWidth: 22, sensitivityPerc: 85 } });
 * ```
 * @module
 */
import { basename, dirname, extname } from "node:path";
import { existsSync, statSync } from "node:fs";
import { LumenError } from "../../run/errors.ts";
import { UsageError } from "../../run/flags.ts";
import type { Progress } from "../../run/progress.ts";
import type { TomoScan } from "../../io/nexus.ts";
import { listNpz } from "../../io/npz.ts";
import { readSinograms } from "../../tomo/normalise.ts";
import {
  type DetectParams,
  detectParams,
  type MergeParams,
  mergeParams,
  type Shape3,
  type StripesBackendName,
  stripesMaskScan,
} from "../../tomo/stripes.ts";
import { probeWebGpu } from "../../tensor/webgpu/device.ts";
import { maskKeyFor } from "./stripe_mask.ts";
import { maskScanToArchive } from "./mask_parallel.ts";
import type { OpenScanOptions } from "../../io/nexus.ts";

const ENTRY_RE = /^[A-Za-z0-9_.-]+$/;

/**
 * The entry a mask goes to: `--file-name`, else `m<scan stem>`. Any name is accepted (as the
 * original does), with a warning on stderr when data_generator will not find it by its rule.
 *
 * @example
 * ```ts
 * maskEntry("119617.nxs"); // "m119617"
 * ```
 */
export function maskEntry(scan: string, fileName?: string): string {
  const stem = basename(scan, extname(scan));
  if (!ENTRY_RE.test(stem)) {
    throw new UsageError(
      "--h5",
      `"${stem}" cannot name an archive entry (letters, digits, _ . - only)`,
    );
  }
  const key = fileName ?? maskKeyFor(scan);
  if (!ENTRY_RE.test(key)) {
    throw new UsageError(
      "--file-name",
      `"${key}" cannot name an archive entry (letters, digits, _ . - only)`,
    );
  }
  if (key !== maskKeyFor(scan)) {
    console.error(
      `generate_mask: warning: entry "${key}" is not ${
        maskKeyFor(scan)
      }: data_generator finds the mask of ${
        basename(scan)
      } by that name, so pass it --mask-name ${key}`,
    );
  }
  return key;
}

/**
 * Checks that the archive's folder exists and that an existing archive is an .npz without the
 * entries (unless `overwrite`); reads only its directory.
 *
 * @example
 * ```ts
 * await checkArchive("masks.npz", ["m119617"], false);
 * ```
 */
export async function checkArchive(
  archive: string,
  entries: readonly string[],
  overwrite: boolean,
): Promise<void> {
  const dir = dirname(archive);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new LumenError(archive, "", `folder ${dir} does not exist`);
  }
  if (!existsSync(archive)) return;
  if (statSync(archive).isDirectory()) {
    throw new LumenError(archive, "", "is a folder, not an .npz archive");
  }
  const have = new Set((await listNpz(archive)).map((e) => e.name));
  for (const k of entries) {
    if (have.has(k) && !overwrite) {
      throw new LumenError(archive, `${k}.npy`, "entry exists; pass --overwrite to replace it");
    }
  }
}

/** The flag that carries each detection parameter. */
const PARAM_FLAG: Record<string, string> = {
  size: "--size",
  radius: "--radius",
  threshold: "--threshold",
  minStripeLength: "--length",
  minStripeDepth: "--depth",
  minStripeWidth: "--width",
  sensitivityPerc: "--sensitivity",
};

/**
 * Checks the detection parameters against a scan's shape; a bad one is a UsageError naming its
 * flag and the scan's shape.
 *
 * @example
 * ```ts
 * checkStripeParams([1801, 2160, 2560], { size: 250, radius: 3 }, merge);
 * ```
 */
export function checkStripeParams(shape: Shape3, det: DetectParams, mer: MergeParams): void {
  try {
    detectParams(shape, det);
    mergeParams(shape, mer);
  } catch (e) {
    const m = e instanceof RangeError ? /^stripes\w+: (\w+): (.*)$/.exec(e.message) : null;
    if (!m || !PARAM_FLAG[m[1]]) throw e;
    throw new UsageError(
      PARAM_FLAG[m[1]],
      `${m[2]} (the scan has ${shape[0]} angles, ${shape[1]} rows, ${shape[2]} columns)`,
    );
  }
}

/**
 * The stripe kernels' backend for `--backend` (auto: webgpu on a real GPU, else wasm).
 *
 * @example
 * ```ts
 * await stripesBackend("auto"); // "wasm" on a machine without a GPU
 * ```
 */
export async function stripesBackend(want: string): Promise<StripesBackendName> {
  if (want !== "auto") return want as StripesBackendName;
  const probe = await probeWebGpu().catch(() => null);
  return probe?.available && !probe.fallback ? "webgpu" : "wasm";
}

/** Options of {@link maskScan}. */
export interface MaskScanOptions {
  detect: DetectParams;
  merge: MergeParams;
  backend?: StripesBackendName;
  /** Detector rows per slab (memory grows with it). */
  slabRows?: number;
  /** Also return the detection weights. */
  weights?: boolean;
  bar?: Progress;
}

/**
 * The stripe mask (angles, rows, columns) of a scan, 0/1, and its weights when asked.
 *
 * @example
 * ```ts
 * const { mask, ones, seconds } = await maskScan(scan, { detect, merge, weights: true });
 * ```
 */
export async function maskScan(
  scan: TomoScan,
  o: MaskScanOptions,
): Promise<
  { shape: Shape3; mask: Uint8Array; weights: Float32Array | null; ones: number; seconds: number }
> {
  const A = scan.projections.count, R = scan.rows, N = scan.cols;
  const shape: Shape3 = [A, R, N];
  if (!scan.flats.count) {
    throw new LumenError(
      scan.path,
      "",
      "no flat fields in the scan; name a file with them in --flats",
    );
  }
  checkStripeParams(shape, o.detect, o.merge);
  const mask = new Uint8Array(A * R * N);
  const weights = o.weights ? new Float32Array(A * R * N) : null;
  const place = <T extends Uint8Array | Float32Array>(dst: T, y0: number, y1: number, blk: T) => {
    const n = y1 - y0;
    for (let k = 0; k < A; k++) dst.set(blk.subarray(k * n * N, (k + 1) * n * N), (k * R + y0) * N);
  };
  const t0 = performance.now();
  await stripesMaskScan(
    shape,
    async (y0, y1) => (await readSinograms(scan, y0, y1)).data, // (rows, angles, cols)
    (y0, y1, blk) => {
      place(mask, y0, y1, blk);
      o.bar?.tick(y1 - y0);
    },
    {
      detect: o.detect,
      merge: o.merge,
      backend: o.backend,
      slabRows: o.slabRows,
      onWeights: weights ? (y0, y1, w) => place(weights, y0, y1, w) : undefined,
      rowOrder: "sinogram",
    },
  );
  const seconds = (performance.now() - t0) / 1000;
  let ones = 0;
  for (let i = 0; i < mask.length; i++) ones += mask[i];
  return { shape, mask, weights, ones, seconds };
}

/**
 * The stripe mask of a scan straight into its archive entry, on every core, with memory bounded
 * by a slab (mask_parallel.ts); the same checks as {@link maskScan}, the same mask bits. The
 * weights are not made here (use {@link maskScan}).
 *
 * @example
 * ```ts
 * const { ones } = await maskScanToEntry(scan, {}, { detect, merge }, "masks.npz", "m119617", false);
 * ```
 */
export async function maskScanToEntry(
  scan: TomoScan,
  scanOptions: OpenScanOptions,
  o: Omit<MaskScanOptions, "weights" | "backend"> & { workers?: number },
  archive: string,
  entry: string,
  overwrite: boolean,
): Promise<{ shape: Shape3; ones: number; seconds: number }> {
  const shape: Shape3 = [scan.projections.count, scan.rows, scan.cols];
  if (!scan.flats.count) {
    throw new LumenError(
      scan.path,
      "",
      "no flat fields in the scan; name a file with them in --flats",
    );
  }
  checkStripeParams(shape, o.detect, o.merge);
  const r = await maskScanToArchive({
    path: scan.path,
    scanOptions,
    shape,
    detect: o.detect,
    merge: o.merge,
    archive,
    entry,
    overwrite,
    slabRows: o.slabRows,
    workers: o.workers,
    bar: o.bar,
  });
  return { shape, ...r };
}

/**
 * The command-line flags of every tool that reads a tomography scan: a second file with flats and
 * darks, and the dataset paths for files in none of the known layouts (lib/io/nexus.ts).
 *
 * @example
 * ```ts
 * import { SCAN_FLAGS, scanOptions } from "./scan_flags.ts";
 * const meta = defineTool({ name: "t", summary: "…", permissions: [], flags: { ...SCAN_FLAGS } });
 * const f = parseFlags(meta, ["--data-path", "/exchange/data"]);
 * const scan = await openScan("scan.h5", scanOptions(f));
 * ```
 * @module
 */
import type { OpenScanOptions, ScanPaths } from "../io/nexus.ts";

/** Flags naming where a scan's data lie. */
export const SCAN_FLAGS = {
  flats: { type: "string", arg: "FILE", help: "HDF5 file with the flats and darks" },
  dataPath: {
    type: "string",
    arg: "PATH",
    help: "dataset of the frames (frames, rows, columns), for files in no known layout",
  },
  imageKeyPath: {
    type: "string",
    arg: "PATH",
    help: "dataset of the image key (0 projection, 1 flat, 2 dark)",
  },
  anglesPath: { type: "string", arg: "PATH", help: "dataset of the rotation angles" },
  flatsPath: { type: "string", arg: "PATH", help: "dataset of separate flat-field frames" },
  darksPath: { type: "string", arg: "PATH", help: "dataset of separate dark-field frames" },
} as const;

/** The values of {@link SCAN_FLAGS}. */
export interface ScanFlagValues {
  flats?: string;
  dataPath?: string;
  imageKeyPath?: string;
  anglesPath?: string;
  flatsPath?: string;
  darksPath?: string;
}

/**
 * The {@link OpenScanOptions} the flags ask for (paths given apply to the scan; a flats file
 * follows its own layout, or the same flats/darks paths).
 *
 * @example
 * ```ts
 * scanOptions({ dataPath: "/exchange/data", flats: "flats.h5" });
 * // { paths: { data: "/exchange/data" }, flatsFile: "flats.h5", flatsPaths: {} }
 * ```
 */
export function scanOptions(f: ScanFlagValues): OpenScanOptions {
  const paths: Partial<ScanPaths> = {};
  if (f.dataPath) paths.data = f.dataPath;
  if (f.imageKeyPath) paths.imageKey = f.imageKeyPath;
  if (f.anglesPath) paths.angles = f.anglesPath;
  if (f.flatsPath) paths.flats = f.flatsPath;
  if (f.darksPath) paths.darks = f.darksPath;
  const out: OpenScanOptions = {};
  if (Object.keys(paths).length) out.paths = paths;
  if (f.flats) {
    out.flatsFile = f.flats;
    const fp: Partial<ScanPaths> = {};
    if (f.flatsPath) fp.flats = f.flatsPath;
    if (f.darksPath) fp.darks = f.darksPath;
    out.flatsPaths = fp;
  }
  return out;
}

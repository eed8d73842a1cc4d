/**
 * The simulation files in the original's layout: HDF5 `sim-<uuid>.hdf5` with group `1d`
 * (`x_all` (N,256), `y_all` (N,), `x_px` (N,147), `y_px` (N,), `x_all_q_axis` (256,)) and group
 * `metadata` with attributes `phases`, `summary`, `id`, `timestamp` and `metadata_json`; and an
 * `.npz` with the same keys (`1d/x_all`, …, `metadata/phases`, …) on request.
 *
 * @example
 * ```ts
 * import { writeSimHdf5 } from "./sim_io.ts";
 * await writeSimHdf5("sims/sim-1234.hdf5", result, { id: "sim-1234", timestamp: "20260101_000000", params: {} });
 * ```
 * @module
 */
import { renameSync } from "node:fs";
import { H5File } from "../../io/hdf5.ts";
import { ndarray } from "../../io/array.ts";
import { writeNpz } from "../../io/npz.ts";
import { tempPathBeside } from "../../run/atomic.ts";
import type { SimResult } from "./simulate.ts";

/** What a simulation file records besides the profiles. */
export interface SimMeta {
  /** `sim-<uuid>`. */
  id: string;
  /** `YYYYMMDD_HHMMSS`. */
  timestamp: string;
  /** The point's resolved settings (stored as `metadata_json`). */
  params: unknown;
}

function summary(r: SimResult, params: Record<string, Record<string, unknown>>): string {
  const n = r.yAll.length;
  return `1D_simulated_data_${r.phases.length}classes_${n}profiles_cal${
    String((params.calibration_parameters?.calibration_value as number[] | undefined)?.[0])
      .replace(".", "p")
  }`;
}

/**
 * The arrays of a simulation by their HDF5 path.
 * @example
 * ```ts
 * Object.keys(simArrays(result)); // ["1d/x_all", "1d/y_all", …]
 * ```
 */
export function simArrays(r: SimResult): Record<string, ReturnType<typeof ndarray>> {
  const n = r.yAll.length;
  return {
    "1d/x_all": ndarray(r.xAll, [n, r.nbins]),
    "1d/y_all": ndarray(r.yAll, [n]),
    "1d/x_px": ndarray(r.xPx, [n, r.crop]),
    "1d/y_px": ndarray(r.yAll.slice(), [n]),
    "1d/x_all_q_axis": ndarray(r.qAxis, [r.nbins]),
  };
}

/**
 * Writes `sim-<uuid>.hdf5` atomically.
 * @example
 * ```ts
 * await writeSimHdf5("sims/sim-1.hdf5", result, { id: "sim-1", timestamp: "20260101_000000", params: {} });
 * ```
 */
export async function writeSimHdf5(path: string, r: SimResult, m: SimMeta): Promise<void> {
  const tmp = tempPathBeside(path);
  const f = await H5File.open(tmp, "w");
  try {
    for (const [k, a] of Object.entries(simArrays(r))) f.write(k, a);
    f.createGroup("metadata");
    f.setAttr("metadata", "phases", r.phases);
    f.setAttr(
      "metadata",
      "summary",
      summary(r, m.params as Record<string, Record<string, unknown>>),
    );
    f.setAttr("metadata", "id", m.id);
    f.setAttr("metadata", "timestamp", m.timestamp);
    f.setAttr("metadata", "metadata_json", JSON.stringify(m.params));
  } finally {
    f.close();
  }
  renameSync(tmp, path);
}

/**
 * Writes the same keys as an `.npz` (strings stored as UTF-8 bytes, uint8).
 * @example
 * ```ts
 * await writeSimNpz("sims/sim-1.npz", result, { id: "sim-1", timestamp: "20260101_000000", params: {} });
 * ```
 */
export function writeSimNpz(path: string, r: SimResult, m: SimMeta): Promise<void> {
  const enc = (s: string) => {
    const b = new TextEncoder().encode(s);
    return ndarray(b, [b.length]);
  };
  return writeNpz(path, {
    ...simArrays(r),
    "metadata/phases": enc(JSON.stringify(r.phases)),
    "metadata/id": enc(m.id),
    "metadata/timestamp": enc(m.timestamp),
    "metadata/metadata_json": enc(JSON.stringify(m.params)),
  }, { overwrite: true });
}

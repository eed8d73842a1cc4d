/**
 * `cif-peaks`: the X-ray powder peak list of a CIF as pymatgen's XRDCalculator computes it (the
 * oracle of diffsims XL's evaluator), with `q = 2·sin θ / λ` in Å⁻¹. Prints a table, or with
 * `--json` `{"file", "wavelength", "peaks": [{"q", "two_theta", "intensity", "hkl"}]}`.
 *
 * @module
 */
import { defineTool, type Parsed } from "../../lib/run/flags.ts";
import { callTool, runTool } from "../../lib/run/main.ts";
import { readInput } from "../../lib/run/atomic.ts";
import { decodeCif, parseCif, type XrdPeak, xrdPeaks } from "../../lib/pipelines/diffsims/mod.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "diffsims/cif_peaks",
  task: "cif-peaks",
  summary: "X-ray powder peaks of a CIF (pymatgen XRDCalculator), q = 2 sin θ / λ in 1/Å",
  permissions: ["--allow-read"],
  args: [{ name: "FILE", help: "a .cif file" }],
  flags: {
    wavelength: { type: "number", min: 0.01, default: 0.61992, arg: "Å", help: "X-ray wavelength" },
    qMax: { type: "number", min: 0, arg: "1/Å", help: "largest q reported" },
    json: { type: "boolean", help: "print JSON instead of a table" },
  },
  examples: ["models/crystal_phases/pbi2.cif --wavelength 0.61992 --json"],
});

type Flags = Parsed<typeof meta.flags>;

/** What the tool reports for one CIF. */
export interface CifPeaksResult {
  file: string;
  wavelength: number;
  peaks: { q: number; two_theta: number; intensity: number; hkl: number[][] }[];
}

/**
 * The peak list of `file` at `wavelength` (Å), up to `qMax` (Å⁻¹).
 *
 * @example
 * ```ts
 * const r = await cifPeaks("pb.cif", 0.61992);
 * r.peaks[0].q; // 1/d of (1 1 1)
 * ```
 */
export async function cifPeaks(
  file: string,
  wavelength: number,
  qMax?: number,
): Promise<CifPeaksResult> {
  const text = decodeCif(await readInput(file), file);
  const peaks: XrdPeak[] = xrdPeaks(parseCif(text, file), { wavelength, qMax });
  return {
    file,
    wavelength,
    peaks: peaks.map((p) => ({
      q: p.q,
      two_theta: p.two_theta,
      intensity: p.intensity,
      hkl: p.hkl,
    })),
  };
}

/**
 * The table printed without `--json`.
 * @example
 * ```ts
 * console.log(formatPeaks(await cifPeaks("pb.cif", 0.61992)));
 * ```
 */
export function formatPeaks(r: CifPeaksResult): string {
  const lines = [`# ${r.file}  λ = ${r.wavelength} Å`, "q(1/Å)     2θ(°)      I      hkl"];
  for (const p of r.peaks) {
    lines.push(
      `${p.q.toFixed(5).padEnd(10)} ${p.two_theta.toFixed(4).padEnd(10)} ${
        p.intensity.toFixed(2).padStart(6)
      }  ${p.hkl.map((h) => `(${h.join(" ")})`).join(" ")}`,
    );
  }
  return lines.join("\n") + "\n";
}

async function body(f: Flags): Promise<void> {
  const r = await cifPeaks(f._[0], f.wavelength, f.qMax);
  const text = f.json ? JSON.stringify(r) + "\n" : formatPeaks(r);
  await Deno.stdout.write(new TextEncoder().encode(text));
}

/** Runs the tool in this process (errors are thrown). */
export const main = (argv: readonly string[]): Promise<void> => callTool(meta, body, argv);

if (import.meta.main) await runTool(meta, body);

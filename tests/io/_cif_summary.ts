/**
 * What the fuzz suite compares of a CIF with pymatgen (tests/fixtures/fuzz_reference.py): its
 * cell and the number of sites in the full cell, through the diffsims parser.
 *
 * @example
 * ```ts
 * import { cifSummary } from "./_cif_summary.ts";
 * cifSummary(Deno.readFileSync("pb.cif"), "pb.cif").sites; // 4
 * ```
 * @module
 */
import { decodeCif, expandCell, parseCif } from "../../lib/pipelines/diffsims/cif.ts";

/** The summary of a CIF file's bytes; throws the parser's one-line error. */
export function cifSummary(bytes: Uint8Array, path: string): Record<string, unknown> {
  const cif = parseCif(decodeCif(bytes, path), path);
  const c = cif.cell;
  return {
    format: "cif",
    arrays: [],
    damaged: [],
    cell: [c.a, c.b, c.c, c.alpha, c.beta, c.gamma],
    sites: expandCell(cif).length,
  };
}

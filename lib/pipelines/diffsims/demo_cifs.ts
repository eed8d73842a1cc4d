/**
 * Three textbook crystal structures written by this project for the diffsims demo and tests:
 * lead (Fm-3m, a = 4.95 Å), the cubic perovskite CsPbBr₃ (Pm-3m, a = 5.87 Å) and lead iodide
 * PbI₂ (P-3m1, a = 4.557 Å, c = 6.979 Å, I at z = 0.265). The symmetry operations are generated
 * (the 48 signed permutations of m-3m with the F centring; the 12 operations of -3m1).
 *
 * @example
 * ```ts
 * import { DEMO_CIFS } from "./demo_cifs.ts";
 * import { parseCif } from "./cif.ts";
 * parseCif(DEMO_CIFS.pb, "pb.cif").symops.length; // 192
 * ```
 * @module
 */

const AXES = ["x", "y", "z"];

function signedPermutations(): string[][] {
  const perms = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
  const out: string[][] = [];
  for (const p of perms) {
    for (let s = 0; s < 8; s++) {
      out.push(p.map((a, i) => ((s >> i) & 1 ? "-" : "") + AXES[a]));
    }
  }
  return out;
}

function withShift(op: string[], t: string[]): string {
  return op.map((c, i) => (t[i] === "0" ? c : `${c}+${t[i]}`)).join(",");
}

function cubicOps(centred: boolean): string[] {
  const shifts = centred
    ? [["0", "0", "0"], ["0", "1/2", "1/2"], ["1/2", "0", "1/2"], ["1/2", "1/2", "0"]]
    : [["0", "0", "0"]];
  return shifts.flatMap((t) => signedPermutations().map((op) => withShift(op, t)));
}

const TRIGONAL_OPS = [
  "x,y,z",
  "-y,x-y,z",
  "-x+y,-x,z",
  "y,x,-z",
  "x-y,-y,-z",
  "-x,-x+y,-z",
  "-x,-y,-z",
  "y,-x+y,-z",
  "x-y,x,-z",
  "-y,-x,z",
  "-x+y,y,z",
  "x,x-y,z",
]; // deno-fmt-ignore

function cifText(
  name: string,
  sg: string,
  cell: [number, number, number, number, number, number],
  ops: string[],
  sites: [string, string, number, number, number, number][],
): string {
  const [a, b, c, al, be, ga] = cell;
  return [
    `data_${name}`,
    `_symmetry_space_group_name_H-M '${sg}'`,
    `_cell_length_a ${a}`,
    `_cell_length_b ${b}`,
    `_cell_length_c ${c}`,
    `_cell_angle_alpha ${al}`,
    `_cell_angle_beta ${be}`,
    `_cell_angle_gamma ${ga}`,
    "loop_",
    "_symmetry_equiv_pos_as_xyz",
    ...ops.map((o) => `'${o}'`),
    "loop_",
    "_atom_site_label",
    "_atom_site_type_symbol",
    "_atom_site_fract_x",
    "_atom_site_fract_y",
    "_atom_site_fract_z",
    "_atom_site_occupancy",
    "_atom_site_U_iso_or_equiv",
    ...sites.map(([l, t, x, y, z, u]) => `${l} ${t} ${x} ${y} ${z} 1 ${u}`),
    "",
  ].join("\n");
}

/**
 * The demo's CIF texts by phase name.
 * @example
 * ```ts
 * Deno.writeTextFileSync("pb.cif", DEMO_CIFS.pb);
 * ```
 */
export const DEMO_CIFS: Readonly<Record<"pb" | "cspbbr3" | "pbi2", string>> = {
  pb: cifText("pb", "F m -3 m", [4.95, 4.95, 4.95, 90, 90, 90], cubicOps(true), [
    ["Pb1", "Pb", 0, 0, 0, 0.0152],
  ]),
  cspbbr3: cifText("cspbbr3", "P m -3 m", [5.87, 5.87, 5.87, 90, 90, 90], cubicOps(false), [
    ["Cs1", "Cs+1", 0.5, 0.5, 0.5, 0.03],
    ["Pb1", "Pb+2", 0, 0, 0, 0.015],
    ["Br1", "Br-1", 0.5, 0, 0, 0.04],
  ]),
  pbi2: cifText("pbi2", "P -3 m 1", [4.557, 4.557, 6.979, 90, 90, 120], TRIGONAL_OPS, [
    ["Pb1", "Pb+2", 0, 0, 0, 0.02],
    ["I1", "I-1", 0.33333, 0.66667, 0.265, 0.025],
  ]),
};

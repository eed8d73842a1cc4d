import { deepStrictEqual as assertEquals, throws } from "node:assert";
import { parseCif } from "../../../lib/pipelines/diffsims/cif.ts";
import { DEMO_CIFS } from "../../../lib/pipelines/diffsims/demo_cifs.ts";

Deno.test("cif: any whitespace separates tokens (vertical tab, form feed, lone CR, U+00A0)", () => {
  for (const ws of ["\v", "\f", "\u00a0"]) {
    const c = parseCif(DEMO_CIFS.pb.replace("_cell_length_a ", `_cell_length_a${ws}`), "pb.cif");
    assertEquals(c.cell.a, 4.95);
  }
  const cr = parseCif(DEMO_CIFS.pb.replaceAll("\n", "\r"), "pb.cif");
  assertEquals(cr.symops.length, 192);
});

Deno.test("cif: a space group without readable symmetry operations is refused", () => {
  const damaged = DEMO_CIFS.pb.replace("_symmetry_equiv_pos_as_xyz", "_symmetry_equiv_por_as_xyz")
    .replace("_space_group_symop_operation_xyz", "_space_group_symop_operation_xyq");
  throws(() => parseCif(damaged, "pb.cif"), /pb\.cif.*space group 'F m -3 m' but no symmetry/);
});

Deno.test("cif: atom sites without _atom_site_label are refused with the loop's line", () => {
  const text = DEMO_CIFS.pb.replace("_atom_site_label", "_atom_site_lable");
  throws(() => parseCif(text, "pb.cif"), /pb\.cif: line \d+: atom sites lack _atom_site_label/);
});

import { deepStrictEqual as assertEquals, throws } from "node:assert";
import { decodeCif, parseCif } from "../../../lib/pipelines/diffsims/cif.ts";
import { DEMO_CIFS } from "../../../lib/pipelines/diffsims/demo_cifs.ts";

Deno.test("cif: tab, lone CR and U+00A0 separate tokens; other control characters are refused with their line", () => {
  for (const ws of ["\t", "\u00a0"]) {
    const c = parseCif(DEMO_CIFS.pb.replace("_cell_length_a ", `_cell_length_a${ws}`), "pb.cif");
    assertEquals(c.cell.a, 4.95);
  }
  const cr = parseCif(DEMO_CIFS.pb.replaceAll("\n", "\r"), "pb.cif");
  assertEquals(cr.symops.length, 192);
  const line = DEMO_CIFS.pb.slice(0, DEMO_CIFS.pb.indexOf("_cell_length_a")).split("\n").length;
  for (
    const [ch, code] of [["\v", "000B"], ["\f", "000C"], ["\u0011", "0011"], ["\u007f", "007F"]]
  ) {
    const text = DEMO_CIFS.pb.replace("_cell_length_a ", `_cell_length_a${ch}`);
    throws(
      () => parseCif(text, "pb.cif"),
      new RegExp(`^LumenError: pb\\.cif: line ${line}: character U\\+${code} is not allowed`),
    );
  }
});

Deno.test("cif: bytes that are not UTF-8 are refused with their line; a byte-order mark is dropped", () => {
  const bytes = new TextEncoder().encode(DEMO_CIFS.pb);
  const at = DEMO_CIFS.pb.indexOf("_cell_length_a");
  const line = DEMO_CIFS.pb.slice(0, at).split("\n").length;
  const bad = bytes.slice();
  bad[at + 3] = 0xff;
  throws(
    () => decodeCif(bad, "pb.cif"),
    new RegExp(`pb\\.cif: line ${line}: byte ${at + 3} is not UTF-8`),
  );
  const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...bytes]);
  assertEquals(decodeCif(bom, "pb.cif"), DEMO_CIFS.pb);
  assertEquals(parseCif(decodeCif(bytes, "pb.cif"), "pb.cif").symops.length, 192);
});

Deno.test("cif: an atom site loop cut before its first row is refused", () => {
  const text = DEMO_CIFS.pb.slice(0, DEMO_CIFS.pb.indexOf("_atom_site_occupancy") + 21);
  throws(() => parseCif(text, "pb.cif"), /pb\.cif: line \d+: the atom site loop has no rows/);
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

Deno.test("cif: data items before the first data_ block header are refused", () => {
  const text = DEMO_CIFS.pb.replace(/^data_\S+/m, "# no block");
  throws(() => parseCif(text, "pb.cif"), /pb\.cif: line \d+: '_\S+' before any data_ block header/);
});

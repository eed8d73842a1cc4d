/**
 * The reference check's rules for files where Lumen and the Python reference library part ways
 * without the file being corrupt (tests/io/_fuzz_reference.ts): YAML 1.2 flow syntax that
 * PyYAML's YAML 1.1 scanner refuses (tests/fixtures/fuzz_yaml12.py), each rule with a file it
 * covers and one it must not cover; CIF reserved words and data names in another case, which CIF
 * 1.1 allows and pymatgen matches in lower case only.
 */
import assert from "node:assert/strict";
import { describe } from "../../lib/io/describe/mod.ts";
import { parseYaml } from "../../lib/io/yaml.ts";
import { DEMO_CIFS } from "../../lib/pipelines/diffsims/demo_cifs.ts";
import { referenceAvailable, referenceCheck } from "./_fuzz_reference.ts";
import { cifSummary } from "./_cif_summary.ts";

const dir = Deno.makeTempDirSync({ prefix: "lumen_ref_rules_" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

function put(name: string, text: string): string {
  Deno.writeTextFileSync(`${dir}/${name}`, text);
  return `${dir}/${name}`;
}

/** The summary the describe child gives the reference check (tests/io/_describe_child.ts). */
async function summaryOf(path: string): Promise<Record<string, unknown>> {
  const d = await describe(path) as unknown as Record<string, unknown>;
  return { format: d.format, arrays: [], damaged: [], content: d.content };
}

Deno.test("yaml 1.2: flow syntax that PyYAML's 1.1 scanner refuses is read as the spec says", () => {
  // [40] ns-tag-char excludes the flow indicators: `!128` tags an empty node, `]` closes
  assert.deepEqual(parseYaml("layers: [64,!128]\n"), { layers: [64, ""] });
  // [126] ns-plain-first: `:` or `?` may start a plain scalar when a safe character follows
  assert.deepEqual(parseYaml("layers: [6g, :28]\n"), { layers: ["6g", ":28"] });
  assert.deepEqual(parseYaml("opt: {name: :dam}\n"), { opt: { name: ":dam" } });
  // [130] ns-plain-char: `?` inside a plain scalar is an ordinary character
  assert.deepEqual(parseYaml("layers: [64, 1?8]\n"), { layers: [64, "1?8"] });
});

Deno.test({
  name: "fuzz reference: YAML 1.2 grammar differences are counted apart, each by its rule",
  ignore: !(await referenceAvailable()),
  fn: async () => {
    const cases: [string, string][] = [
      ["layers: [64,!128]\n", "tag-before-flow-indicator"],
      ["epochs: 10\nlayers: [64, !28]\nopt: &o {name: adam}\n", "tag-before-flow-indicator"],
      ["layers: [6g, :28]\n", "plain-starts-with-indicator"],
      ["opt: &o {name: :dam}\nalso: *o\n", "plain-starts-with-indicator"],
      ["layers: [64, 1?8]\n", "question-mark-in-plain"],
    ];
    const reqs = await Promise.all(cases.map(async ([text], i) => {
      const path = put(`y${i}.yaml`, text);
      return { path, summary: await summaryOf(path) };
    }));
    const v = await referenceCheck(reqs);
    assert.deepEqual(
      v.map((x) => [x.verdict, x.detail]),
      cases.map(([, rule]) => ["yaml-1.2", rule]),
    );
    // not covered: a rule's place plus a real error elsewhere, a bad flow sequence in block
    // context, and a shape that differs after the rewrite
    const neg = [
      put("n0.yaml", "a: [1?8]\nb: @x\n"),
      put("n1.yaml", "a: [64, 128\n"),
      put("n2.yaml", "a: [1?8]\n"),
    ];
    const object = (keys: number) => ({
      format: "yaml",
      arrays: [],
      damaged: [],
      content: { type: "object", keys: Object.fromEntries([...Array(keys)].map((_, i) => [i, 0])) },
    });
    const w = await referenceCheck([
      { path: neg[0], summary: object(2) },
      { path: neg[1], summary: object(1) },
      { path: neg[2], summary: object(2) },
    ]);
    assert.deepEqual(w.map((x) => x.verdict), ["finding", "finding", "mismatch"]);
  },
});

Deno.test({
  name:
    "fuzz reference: CIF names in other cases count apart (cif-1.1); a CIF with no structure stays a finding",
  ignore: !(await referenceAvailable()),
  fn: async () => {
    const pb = DEMO_CIFS.pb;
    const texts = [
      pb.replace("data_", "daTa_"),
      pb.replace("_cell_angle_gamma", "_cell_aNgle_gamma"),
      pb,
    ];
    const reqs = texts.map((t, i) => {
      const path = put(`c${i}.cif`, t);
      return { path, summary: cifSummary(new TextEncoder().encode(t), path) };
    });
    // a file pymatgen refuses for another reason keeps its finding: no atom site loop at all
    const cut = pb.slice(0, pb.indexOf("loop_\n_atom_site"));
    const cutPath = put("cut.cif", cut.replace("data_", "DATA_"));
    reqs.push({ path: cutPath, summary: reqs[2].summary });
    const v = await referenceCheck(reqs);
    assert.deepEqual(v.map((x) => x.verdict), ["cif-1.1", "cif-1.1", "match", "finding"]);
  },
});

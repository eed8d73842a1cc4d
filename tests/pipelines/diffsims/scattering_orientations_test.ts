import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { DEMO_CIFS } from "../../../lib/pipelines/diffsims/demo_cifs.ts";
import { DOYLE_TURNER } from "../../../lib/pipelines/diffsims/doyle_turner_params.ts";
import { parseCif } from "../../../lib/pipelines/diffsims/cif.ts";
import { preparePhase } from "../../../lib/pipelines/diffsims/kinematic.ts";
import { parseParamSpace, spacePoints } from "../../../lib/pipelines/diffsims/param_space.ts";
import { simulatePoint } from "../../../lib/pipelines/diffsims/simulate.ts";
import { pointInputs } from "../../../lib/pipelines/diffsims/sim_point.ts";
import { main as simulate } from "../../../tools/diffsims/simulate.ts";
import { ndarray } from "../../../lib/io/array.ts";
import { writeNpy } from "../../../lib/io/npy.ts";
import { hasPython } from "../../_helpers.ts";

Deno.test({
  name: "Doyle–Turner parameters and f(s) = Σ a·exp(−b·s²) equal an independent numpy evaluation",
  ignore: !hasPython("numpy"),
  fn: async () => {
    const r = await new Deno.Command("/usr/bin/python3", {
      args: ["tests/fixtures/diffsims/doyle_turner_ref.py"],
    }).output();
    assert(r.success, new TextDecoder().decode(r.stderr));
    const ref = JSON.parse(new TextDecoder().decode(r.stdout));
    for (const [el, params] of Object.entries(ref.params as Record<string, number[][]>)) {
      assertEquals(DOYLE_TURNER[el].map((p) => [...p]), params, el);
      // the simulation's form: coefficients padded to five pairs, f(g) = Σ aᵢ·exp(−bᵢ·g²/4)
      const c = [...DOYLE_TURNER[el].flat(), 0, 0, 0, 0, 0, 0].slice(0, 10);
      (ref.g as number[]).forEach((g, i) => {
        let f = 0;
        for (let k = 0; k < 10; k += 2) f += c[k] * Math.exp(-0.25 * c[k + 1] * g * g);
        const want = ref.f[el][i];
        assert(Math.abs(f - want) <= 1e-12 * Math.abs(want), `${el} f(${g}) ${f} vs ${want}`);
      });
    }
    assertEquals(Object.keys(DOYLE_TURNER).length, 98);
  },
});

Deno.test("scattering_params: doyle_turner is selectable and differs from lobato", () => {
  const space = (sc: string) =>
    spacePoints(parseParamSpace(
      `sim_params:
  random_seed: 2
  structure_parameters: {scattering_params: ${sc}}
  orientations_parameters: {n_points: 2}
`,
      "dt.yml",
    ))[0];
  const phases = [{ name: "pbi2", cif: parseCif(DEMO_CIFS.pbi2, "pbi2.cif") }];
  const dt = simulatePoint(space("doyle_turner").params, phases, 2);
  const lob = simulatePoint(space("lobato").params, phases, 2);
  assertEquals(dt.xAll.length, lob.xAll.length);
  let d = 0;
  for (let i = 0; i < dt.xAll.length; i++) d = Math.max(d, Math.abs(dt.xAll[i] - lob.xAll[i]));
  assert(d > 1e-4 && d < 0.5, `doyle_turner vs lobato max difference ${d}`);
  const ph = preparePhase(parseCif(DEMO_CIFS.pbi2, "pbi2.cif"), "pbi2", "doyle_turner");
  assertEquals(ph.atoms[0].coeffs.length, 10);
});

const DIR = "/tmp/lumen_diffsims_ori";
const YAML = (modes: string) =>
  `sim_params:
  random_seed: 7
  root_path: '.'
  structure_parameters:
    phase_files_location_from_root: '.'
    phase_files: ['pb.cif', 'pbi2.cif']
  orientations_parameters:
    n_points: 5
    use_orix_sampling: true
    ori_files_location_from_root: 'models/orix_orientation_full_lists'
    orientation_files_list: ['orientations_pg432_xxxx.npy', 'orientations_pg3m_xxxx.npy']
    orientation_sampling_mode: ${modes}
`;

Deno.test("orientation files: the original's .npy Euler lists, xxxx per sampling mode, pooled", async () => {
  rmSync(DIR, { recursive: true, force: true });
  const ori = `${DIR}/models/orix_orientation_full_lists`;
  mkdirSync(ori, { recursive: true });
  for (const [k, v] of Object.entries(DEMO_CIFS)) writeFileSync(`${DIR}/${k}.cif`, v);
  const rows: Record<string, number[][]> = {};
  let t = 0;
  for (const pg of ["pg432", "pg3m"]) {
    for (const mode of ["cubo", "euler"]) {
      const r = Array.from({ length: 4 }, () => [t += 7, (t * 3) % 180, (t * 5) % 360]);
      rows[`${pg}_${mode}`] = r;
      await writeNpy(
        `${ori}/orientations_${pg}_${mode}.npy`,
        ndarray(Float64Array.from(r.flat()), [4, 3]),
      );
    }
  }
  writeFileSync(`${DIR}/one.yaml`, YAML("['euler']"));
  writeFileSync(`${DIR}/two.yaml`, YAML("['cubo', 'euler']"));
  for (const [cfg, modes] of [["one", ["euler"]], ["two", ["cubo", "euler"]]] as const) {
    const pt = spacePoints(parseParamSpace(readFileSync(`${DIR}/${cfg}.yaml`, "utf8"), cfg))[0];
    const inp = await pointInputs(pt.params, `${DIR}/${cfg}.yaml`, pt.seed);
    assertEquals(inp.eulers!.length, 2);
    ["pg432", "pg3m"].forEach((pg, i) => {
      const pool = modes.flatMap((m) => rows[`${pg}_${m}`]).map((r) => r.join(","));
      assertEquals(inp.eulers![i].length, 5);
      for (const e of inp.eulers![i]) assert(pool.includes(e.join(",")), `${cfg} ${pg} ${e}`);
    });
    assert(inp.files.some((f) => f.endsWith(`orientations_pg3m_${modes[0]}.npy`)));
    const again = await pointInputs(pt.params, `${DIR}/${cfg}.yaml`, pt.seed);
    assertEquals(again.eulers, inp.eulers);
    const r = simulatePoint(pt.params, inp.phases, pt.seed, inp.eulers);
    assertEquals(r.yAll.length % 10, 0);
  }
  // the tool reads them and records them as inputs
  await simulate(["--config", `${DIR}/two.yaml`, "--out", `${DIR}/sims`, "--quiet"]);
  const side = readdirSync(`${DIR}/sims`).find((f) => f.endsWith(".json") || f.includes("prov"));
  assert(side, readdirSync(`${DIR}/sims`).join(" "));
  assert(readFileSync(`${DIR}/sims/${side}`, "utf8").includes("orientations_pg432_cubo.npy"));
  // a list that is not (N, 3) is one line naming the file
  await writeNpy(`${ori}/orientations_pg3m_cubo.npy`, ndarray(new Float64Array(8), [4, 2]), {
    overwrite: true,
  });
  const pt = spacePoints(parseParamSpace(readFileSync(`${DIR}/two.yaml`, "utf8"), "two"))[0];
  await rejects(
    pointInputs(pt.params, `${DIR}/two.yaml`, pt.seed),
    (e: Error) =>
      /orientations_pg3m_cubo\.npy.*\(N, 3\)/.test(e.message) && !e.message.includes("\n"),
  );
});

import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { DEMO_CIFS } from "../../../lib/pipelines/diffsims/demo_cifs.ts";
import { main as simulate } from "../../../tools/diffsims/simulate.ts";
import { H5File } from "../../../lib/io/hdf5.ts";
import { readNpz } from "../../../lib/io/npz.ts";
import { hasPython } from "../../_helpers.ts";
import { parseParamSpace, spacePoints } from "../../../lib/pipelines/diffsims/param_space.ts";
import { simulatePoint } from "../../../lib/pipelines/diffsims/simulate.ts";
import { parseCif } from "../../../lib/pipelines/diffsims/cif.ts";

const DIR = "/tmp/lumen_diffsims_sim";
const SPACE = `sim_params: !pspace
  random_seed: !pdim
    default: 0
    values: [1, 2, 3]
  structure_parameters:
    phase_files_location_from_root: '.'
    phase_files: ['pb.cif', 'cspbbr3.cif', 'pbi2.cif']
    lattice_scaling_ranges: [[0.98, 1.02], null, null]
  orientations_parameters:
    n_points: 6
  sigma_parameters:
    sigma_2d_gaussian_list: [1, 2]
  relrod_parameters:
    relrod_list: [0.02, 0.05]
  data_augmentation_parameters:
    noise_addition:
      add_noise: 'random'
      snrs: [0.99]
      intensity_spikes: [0, 0.1]
    background_parameters:
      add_background_to_1d: 'random'
`;

function setup(): string {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  for (const [k, v] of Object.entries(DEMO_CIFS)) writeFileSync(`${DIR}/${k}.cif`, v);
  writeFileSync(`${DIR}/space.yaml`, SPACE);
  return `${DIR}/space.yaml`;
}

const hdf5s = (d: string) => readdirSync(d).filter((f) => f.endsWith(".hdf5")).sort();

Deno.test("simulate: original layout, sharded run equals the unsharded one byte for byte", async () => {
  const cfg = setup();
  await simulate(["--config", cfg, "--out", `${DIR}/a`, "--npz", "--quiet"]);
  const files = hdf5s(`${DIR}/a`);
  assertEquals(files.length, 3);
  const f = await H5File.open(`${DIR}/a/${files[0]}`);
  try {
    assertEquals(f.shape("1d/x_all"), [18, 256]);
    assertEquals(f.shape("1d/x_px"), [18, 147]);
    assertEquals(f.shape("1d/y_all"), [18]);
    assertEquals(f.shape("1d/x_all_q_axis"), [256]);
    assertEquals(f.attr("metadata", "phases"), ["pb", "cspbbr3", "pbi2"]);
    assertEquals(f.attr("metadata", "id"), files[0].replace(".hdf5", ""));
    assert(/^\d{8}_\d{6}$/.test(String(f.attr("metadata", "timestamp"))));
    const md = JSON.parse(String(f.attr("metadata", "metadata_json")));
    assertEquals(md.orientations_parameters.n_points, 6);
    assertEquals([...(f.read("1d/y_px").data as Float64Array)], [
      ...Array(6).fill(0),
      ...Array(6).fill(1),
      ...Array(6).fill(2),
    ]);
    const xp = f.read("1d/x_px").data as Float32Array;
    for (let r = 0; r < 18; r++) {
      assertEquals(Math.max(...xp.subarray(r * 147, r * 147 + 147)), 1);
    }
  } finally {
    f.close();
  }
  const npz = await readNpz(`${DIR}/a/${files[0].replace(".hdf5", ".npz")}`);
  assertEquals(npz.get("1d/x_px")!.shape, [18, 147]);
  // sharded: 0/2 and 1/2, a killed shard reruns alone (its manifest is absent), then merge
  await simulate(["--config", cfg, "--out", `${DIR}/b`, "--shard", "1/2", "--quiet"]);
  await simulate(["--config", cfg, "--out", `${DIR}/b`, "--shard", "0/2", "--quiet"]);
  rmSync(`${DIR}/b/.staging.shards/0000-of-0002/MANIFEST.json`);
  await rejects(simulate(["--config", cfg, "--out", `${DIR}/b`, "--merge", "2"]), /shard/);
  await simulate(["--config", cfg, "--out", `${DIR}/b`, "--shard", "0/2", "--overwrite"]);
  await simulate(["--config", cfg, "--out", `${DIR}/b`, "--merge", "2"]);
  assertEquals(hdf5s(`${DIR}/b`), files);
  assert(!existsSync(`${DIR}/b/.staging.shards`));
  for (const n of files) {
    assert(readFileSync(`${DIR}/a/${n}`).equals(readFileSync(`${DIR}/b/${n}`)), n);
  }
  if (hasPython("h5py")) {
    const r = await new Deno.Command("/usr/bin/python3", {
      args: [
        "-c",
        "import h5py,sys; f=h5py.File(sys.argv[1]); print(f['1d/x_px'].shape, list(f['metadata'].attrs['phases']))",
        `${DIR}/a/${files[0]}`,
      ],
    }).output();
    const out = new TextDecoder().decode(r.stdout);
    assert(out.includes("(18, 147)") && out.includes("cspbbr3"), out);
  }
});

Deno.test("simulate --list and one-line errors", async () => {
  const cfg = setup();
  const r = await new Deno.Command("deno", {
    args: [
      "run",
      "--quiet",
      "--allow-read",
      "tools/diffsims/simulate.ts",
      "--config",
      cfg,
      "--out",
      `${DIR}/x`,
      "--list",
    ],
  }).output();
  const lines = new TextDecoder().decode(r.stdout).trim().split("\n");
  assertEquals(lines.length, 3);
  assert(/^0 [0-9a-f-]{36} 1 \{"random_seed":1\}$/.test(lines[0]), lines[0]);
  writeFileSync(`${DIR}/bad.yaml`, SPACE.replace("n_points", "n_pints"));
  await rejects(
    simulate(["--config", `${DIR}/bad.yaml`, "--out", `${DIR}/x`]),
    /bad.yaml: line 10: orientations_parameters.n_pints: unknown key/,
  );
  writeFileSync(`${DIR}/el.cif`, DEMO_CIFS.pb.replace("Pb1 Pb ", "Xx1 Qq "));
  writeFileSync(`${DIR}/el.yaml`, SPACE.replace("'pb.cif'", "'el.cif'"));
  await rejects(simulate(["--config", `${DIR}/el.yaml`, "--out", `${DIR}/x`]), /unknown element/);
  writeFileSync(`${DIR}/nocell.cif`, DEMO_CIFS.pb.replace(/_cell_length_a.*\n/, ""));
  writeFileSync(`${DIR}/nc.yaml`, SPACE.replace("'pb.cif'", "'nocell.cif'"));
  await rejects(
    simulate(["--config", `${DIR}/nc.yaml`, "--out", `${DIR}/x`]),
    /nocell.cif: no _cell_length_a/,
  );
});

Deno.test("simulatePoint: lists iterated in full multiply the rows, phase-major labels", () => {
  const text = `sim_params:
  random_seed: 3
  orientations_parameters: {n_points: 2}
  relrod_parameters: {randomise_relrod: false, relrod_list: [0.1, 0.3]}
  sigma_parameters: {randomise_sigmas: false, sigma_2d_gaussian_list: [1, 2, 4]}
  data_augmentation_parameters:
    peak_removal: {remove_peaks_from_diffraction_library: false}
    noise_addition: {add_noise: true, include_also_non_noisy_simulation: true, snrs: [0.99], intensity_spikes: [0.1, 0.2]}
    background_parameters: {add_background_to_1d: true, a_vals: [0.5], tau_vals: [1, 2]}
`;
  const pt = spacePoints(parseParamSpace(text, "full.yml"))[0];
  const phases = ["pb", "pbi2"].map((n) => ({
    name: n,
    cif: parseCif(DEMO_CIFS[n as "pb" | "pbi2"], `${n}.cif`),
  }));
  const r = simulatePoint(pt.params, phases, pt.seed);
  const per = 2 * 2 * 3 * 3 * 2; // orientations × relrods × sigmas × (clean + 2 noisy) × backgrounds
  assertEquals(r.yAll.length, 2 * per);
  assertEquals([...r.yAll].slice(per - 1, per + 1), [0, 1]);
  // rows 0 and 1: the same clean profile (divided by its max) with A = 0.5 and τ = 1, 2
  const q = r.qAxis;
  for (const b of [20, 100, 200]) {
    const d = r.xAll[b] - r.xAll[256 + b];
    const want = 0.5 * (Math.exp(-q[b]) - Math.exp(-2 * q[b]));
    assert(Math.abs(d - want) < 1e-6, `bin ${b}: ${d} vs ${want}`);
  }
  // x_px: bins 13:160 of each row divided by their maximum
  const maxCrop = Math.max(...r.xAll.subarray(13, 160));
  assert(Math.abs(r.xPx[5] - r.xAll[18] / maxCrop) < 1e-6);
});

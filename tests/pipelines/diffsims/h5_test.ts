/**
 * The simulate tool's files open in the Python stack the original's notebooks use: h5py reads
 * `sim-<uuid>.hdf5` with the original's keys, shapes and attributes (`1d/x_all` (N,256) …,
 * `metadata` attrs as Python strings, `phases` as a list of strings, `metadata_json` as JSON),
 * and numpy's `np.load` reads the `.npz` with the same keys and the same numbers bit for bit.
 * Skips where /usr/bin/python3 lacks h5py or numpy.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { DEMO_CIFS } from "../../../lib/pipelines/diffsims/demo_cifs.ts";
import { hasPython, PYTHON, ROOT } from "../../_helpers.ts";

const DIR = "/tmp/lumen_diffsims_h5";
const SPACE = `sim_params: !pspace
  random_seed: !pdim
    default: 0
    values: [4, 5]
  structure_parameters:
    phase_files_location_from_root: '.'
    phase_files: ['pb.cif', 'pbi2.cif']
  orientations_parameters:
    n_points: 3
`;

/** Reads every file with h5py and numpy and prints one JSON object per file. */
const CHECK = `
import glob, json, re, sys
import h5py, numpy as np
out = []
for p in sorted(glob.glob(sys.argv[1] + "/*.hdf5")):
    with h5py.File(p, "r") as f:
        tree = {}
        f.visititems(lambda n, o: tree.__setitem__(n, [list(o.shape), o.dtype.str]) if isinstance(o, h5py.Dataset) else tree.__setitem__(n, "group"))
        a = f["metadata"].attrs
        attrs = {k: type(v).__name__ for k, v in a.items()}
        phases = [str(s) for s in a["phases"]]
        md = json.loads(a["metadata_json"])
        x_px, y = f["1d/x_px"][:], f["1d/y_all"][:]
        q = f["1d/x_all_q_axis"][:]
        npz = np.load(p[:-5] + ".npz", allow_pickle=False)
        same = {k: bool(np.array_equal(npz[k], f[k][:]) and npz[k].dtype == f[k].dtype) for k in tree if tree[k] != "group"}
        text = {k: bytes(npz["metadata/" + k]).decode() for k in ["id", "timestamp", "metadata_json"]}
        out.append({
            "file": p.split("/")[-1], "tree": tree, "attrs": attrs, "phases": phases,
            "id": a["id"], "timestamp": a["timestamp"], "summary": a["summary"],
            "seed": md["random_seed"], "labels": y.tolist(),
            "row_max": x_px.max(1).tolist(), "row_min": float(x_px.min()),
            "q_increasing": bool(np.all(np.diff(q) > 0)),
            "npz_keys": sorted(npz.files), "npz_same": same,
            "npz_text_same": text == {"id": a["id"], "timestamp": a["timestamp"], "metadata_json": a["metadata_json"]},
            "npz_phases": json.loads(bytes(npz["metadata/phases"]).decode()),
        })
print(json.dumps(out))
`;

Deno.test({
  name: "simulate: the HDF5 opens in h5py and the .npz in numpy with the original's keys",
  ignore: !hasPython("h5py", "numpy"),
  fn: async () => {
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    for (const [k, v] of Object.entries(DEMO_CIFS)) writeFileSync(`${DIR}/${k}.cif`, v);
    writeFileSync(`${DIR}/space.yaml`, SPACE);
    const run = await new Deno.Command("deno", {
      args: [
        "run",
        "--quiet",
        "--allow-read",
        `--allow-write=${DIR}`,
        `${ROOT}/tools/diffsims/simulate.ts`,
        "--config",
        `${DIR}/space.yaml`,
        "--out",
        `${DIR}/sims`,
        "--npz",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert(run.success, new TextDecoder().decode(run.stderr));
    const r = await new Deno.Command(PYTHON, {
      args: ["-c", CHECK, `${DIR}/sims`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert(r.success, new TextDecoder().decode(r.stderr));
    const files = JSON.parse(new TextDecoder().decode(r.stdout));
    assertEquals(files.length, 2);
    assertEquals(
      files.map((f: { file: string }) => f.file),
      readdirSync(`${DIR}/sims`).filter((f) => f.endsWith(".hdf5")).sort(),
    );
    const seeds = new Set<number>();
    for (const f of files) {
      assertEquals(f.tree, {
        "1d": "group",
        "1d/x_all": [[6, 256], "<f4"],
        "1d/x_all_q_axis": [[256], "<f8"],
        "1d/x_px": [[6, 147], "<f4"],
        "1d/y_all": [[6], "<f8"],
        "1d/y_px": [[6], "<f8"],
        "metadata": "group",
      });
      assertEquals(f.attrs, {
        id: "str",
        metadata_json: "str",
        phases: "ndarray",
        summary: "str",
        timestamp: "str",
      });
      assertEquals(f.phases, ["pb", "pbi2"]);
      assertEquals(f.npz_phases, ["pb", "pbi2"]);
      assertEquals(f.id, f.file.replace(/\.hdf5$/, ""));
      assert(/^sim-[0-9a-f-]{36}$/.test(f.id), f.id);
      assert(/^\d{8}_\d{6}$/.test(f.timestamp), f.timestamp);
      assertEquals(f.summary, "1D_simulated_data_2classes_6profiles_cal0p00588");
      assertEquals(f.labels, [0, 0, 0, 1, 1, 1]);
      assertEquals(f.row_max, Array(6).fill(1));
      assert(f.row_min >= 0);
      assert(f.q_increasing);
      assertEquals(f.npz_keys, [
        "1d/x_all",
        "1d/x_all_q_axis",
        "1d/x_px",
        "1d/y_all",
        "1d/y_px",
        "metadata/id",
        "metadata/metadata_json",
        "metadata/phases",
        "metadata/timestamp",
      ]);
      for (const [k, same] of Object.entries(f.npz_same)) assert(same, `npz ${k} differs`);
      assert(f.npz_text_same, "npz metadata strings differ from the HDF5 attributes");
      seeds.add(f.seed);
    }
    assertEquals([...seeds].sort(), [4, 5]);
  },
});

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { hasPython, nsnDataset, pyFixture, runPython, runTool } from "../../_helpers.ts";

const noPy = !hasPython("numpy", "h5py");
const PERMS = ["--allow-read", "--allow-write=/tmp"];

/** A tiny trained model (tiny preset, 1 epoch) on the nsn_scan fixture's patches. */
async function model(): Promise<{ fx: string; ckpt: string; dirs: string[] }> {
  const { fx, root } = await nsnDataset();
  const runs = await Deno.makeTempDir();
  const r = await runTool("nostripesnet/train", PERMS, [
    "--mode",
    "patch",
    "--root",
    root,
    "--save-dir",
    runs,
    "--name",
    "m",
    "--preset",
    "tiny",
    "--epochs",
    "1",
    "-B",
    "4",
    "--threads",
    "1",
    "--quiet",
  ]);
  assert.equal(r.code, 0, r.stderr);
  return { fx, ckpt: `${runs}/m_1.json`, dirs: [root, runs] };
}

const CHECK = `
import sys, json, h5py, numpy as np
out, fx = sys.argv[1], sys.argv[2]
f = h5py.File(out, "r")
d = f["data"]
s = np.swapaxes(np.load(fx + "/sinos.npy"), 0, 1)   # (angles, rows, cols)
m = np.load(fx + "/masks.npz")["mscan"].astype(bool)
a = d[()]
print(json.dumps({
  "shape": list(d.shape), "chunks": list(d.chunks), "compression": d.compression,
  "method": d.attrs["method"], "prov": json.loads(d.attrs["provenance"])["tool"],
  "unmasked_err": float(np.abs(a[~m] - s[~m]).max()),
  "masked_changed": int((np.abs(a[m] - s[m]) > 1e-6).sum()), "masked": int(m.sum()),
  "finite": bool(np.isfinite(a).all()),
}))
`;

Deno.test({
  name: "apply_model: the model inpaints only the masked pixels; HDF5 opens in h5py",
  ignore: noPy,
  fn: async () => {
    const { fx, ckpt, dirs } = await model();
    const out = `${await Deno.makeTempDir()}/clean.h5`;
    const r = await runTool("nostripesnet/apply_model", PERMS, [
      "--h5",
      `${fx}/scan.nxs`,
      "--mask",
      `${fx}/masks.npz`,
      "--mask-name",
      "mscan",
      "--model-file",
      ckpt,
      "--patch-size",
      "20,32",
      "--out",
      out,
      "--quiet",
      "--threads",
      "1",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(`${out}.prov.json`) && !existsSync(`${out}.partial`));
    const c = JSON.parse(runPython(`-c ${CHECK}`, [out, fx]));
    assert.deepEqual(c.shape, [40, 6, 70]);
    assert.deepEqual(c.chunks, [40, 1, 70]);
    assert.equal(c.compression, "gzip");
    assert.equal(c.method, "model");
    assert.equal(c.prov, "apply_model");
    assert.ok(c.finite);
    assert.ok(c.unmasked_err < 1e-5, `unmasked pixels moved by ${c.unmasked_err}`);
    assert.ok(c.masked_changed > 0.9 * c.masked, `${c.masked_changed} of ${c.masked} changed`);
    // exists: refused without --overwrite
    const again = await runTool("nostripesnet/apply_model", PERMS, [
      "--h5",
      `${fx}/scan.nxs`,
      "--method",
      "vo-sorting",
      "--out",
      out,
    ]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /clean\.h5: exists; pass --overwrite/);
    for (const d of dirs) await Deno.remove(d, { recursive: true });
  },
});

Deno.test({
  name: "apply_model --method vo-sorting, and resume of a partial output",
  ignore: noPy,
  fn: async () => {
    const fx = await pyFixture("nsn_scan");
    const dir = await Deno.makeTempDir();
    const args = ["--h5", `${fx}/scan.nxs`, "--method", "vo-sorting", "--quiet"];
    assert.equal(
      (await runTool("nostripesnet/apply_model", PERMS, [...args, "--out", `${dir}/a.h5`])).code,
      0,
    );
    const c = JSON.parse(runPython(`-c ${CHECK}`, [`${dir}/a.h5`, fx]));
    assert.equal(c.method, "vo-sorting");
    assert.ok(c.unmasked_err > 1e-4, "Vo's sorting changes the sinograms");
    // a run killed after 2 rows leaves its partial file, rows 2… still empty
    assert.equal(
      (await runTool("nostripesnet/apply_model", PERMS, [...args, "--out", `${dir}/b.h5`])).code,
      0,
    );
    await Deno.remove(`${dir}/b.h5.prov.json`);
    runPython(
      `-c import h5py, os, sys; os.rename(sys.argv[1], sys.argv[2]); f = h5py.File(sys.argv[2], "a"); f["data"][:, 2:, :] = 0; f["data"].attrs["rows_done"] = 2; del f["data"].attrs["provenance"]; f.close()`,
      [`${dir}/b.h5`, `${dir}/b.h5.partial`],
    );
    const r = await runTool("nostripesnet/apply_model", PERMS, [
      ...args,
      "--out",
      `${dir}/b.h5`,
      "--verbose",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /resuming at row 2 of 6/);
    const same = runPython(
      `-c import h5py, sys, numpy as np; print(np.array_equal(h5py.File(sys.argv[1])["data"][()], h5py.File(sys.argv[2])["data"][()]))`,
      [`${dir}/a.h5`, `${dir}/b.h5`],
    );
    assert.equal(same.trim(), "True");
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "apply_model bad input: mask shape, missing model, model file of another mode",
  ignore: noPy,
  fn: async () => {
    const fx = await pyFixture("nsn_scan");
    const dir = await Deno.makeTempDir();
    const base = ["--h5", `${fx}/scan.nxs`, "--out", `${dir}/x.h5`];
    const r1 = await runTool("nostripesnet/apply_model", PERMS, [
      ...base,
      "--model-file",
      "m.json",
    ]);
    assert.equal(r1.code, 1);
    assert.match(r1.stderr, /--mask: --method model needs the stripe mask/);
    const r2 = await runTool("nostripesnet/apply_model", PERMS, [
      ...base,
      "--model-file",
      "m.json",
      "--mask",
      `${fx}/badmask.npz`,
      "--mask-name",
      "mscan",
    ]);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /badmask\.npz: mscan: mask shape \(40, 5, 70\) does not match/);
    await Deno.writeTextFile(
      `${dir}/other.json`,
      JSON.stringify({
        format: "lumen.checkpoint/1",
        modules: { net: { config: { type: "Conv1d" }, tensors: {} } },
        optimizers: {},
        schedulers: {},
        rngs: {},
        epoch: 0,
        step: 0,
        extra: {},
        provenance: null,
        files: { weights: { name: "other.safetensors", sha256: "", bytes: 0 } },
      }),
    );
    const r3 = await runTool("nostripesnet/apply_model", PERMS, [
      ...base,
      "--model-file",
      `${dir}/other.json`,
      "--mask",
      `${fx}/masks.npz`,
      "--mask-name",
      "mscan",
      "--patch-size",
      "20,32",
    ]);
    assert.equal(r3.code, 1);
    assert.match(r3.stderr, /not a NoStripesNet patch model/);
    for (const r of [r1, r2, r3]) assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.ok(!existsSync(`${dir}/x.h5`) && !existsSync(`${dir}/x.h5.partial`));
    await Deno.remove(dir, { recursive: true });
  },
});

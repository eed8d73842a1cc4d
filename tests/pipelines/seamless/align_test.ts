/**
 * SEAMLeSS align and net_hist: the aligned stack opens in h5py with its datasets and shapes,
 * the per-section quality equals numpy's chunked Pearson correlation of the written sections,
 * a rerun refuses to overwrite, and net_hist prints the lineage.
 */
import assert from "node:assert/strict";
import { hasPython, runPython, runTool } from "../../_helpers.ts";
import { Pyramid } from "../../../lib/pipelines/seamless/pyramid.ts";
import { synthStack } from "../../../lib/pipelines/seamless/synth.ts";
import { saveCheckpoint } from "../../../lib/nn/checkpoint.ts";
import { manualInitSeed } from "../../../lib/nn/init.ts";
import { writeNpy } from "../../../lib/io/npy.ts";
import { chunkedPearson } from "../../../lib/pipelines/seamless/cpc.ts";
import { plane } from "../../../lib/pipelines/seamless/masks.ts";
import { formatNetHistory, netHistory } from "../../../lib/pipelines/seamless/net_hist.ts";

const PERMS = ["--allow-read", "--allow-write=/tmp", "--allow-env=INIT_CWD"];
const noPy = !hasPython("numpy", "h5py");

async function setup(): Promise<{ dir: string; vol: string; net: string }> {
  const dir = await Deno.makeTempDir();
  const s = synthStack({ depth: 4, dim: 40, seed: 5 });
  const d = new Float32Array(4 * 40 * 40);
  s.sections.forEach((p, z) => d.set(p.data, z * 1600));
  await writeNpy(`${dir}/vol.npy`, { data: d, shape: [4, 40, 40], dtype: "float32" });
  manualInitSeed(2);
  const net = new Pyramid({ size: 3, k: 3, trainSize: 40 });
  await Deno.mkdir(`${dir}/pt`);
  await saveCheckpoint(`${dir}/pt/root`, {
    modules: { pyramid: net },
    extra: { id: "root-id", name: "root", parent: null, args: { lambda1: 2, lr: 3e-4, size: 3 } },
  });
  await saveCheckpoint(`${dir}/pt/kid`, {
    modules: { pyramid: net },
    extra: { id: "kid-id", name: "kid", parent: `${dir}/pt/root`, args: { lambda1: 1, size: 3 } },
  });
  return { dir, vol: `${dir}/vol.npy`, net: `${dir}/pt/kid` };
}

Deno.test("seamless cpc: chunked Pearson of identical and independent tiles", () => {
  const a = plane(8, 8, Array.from({ length: 64 }, (_, i) => Math.sin(i * 1.3)));
  assert.ok(Math.abs(chunkedPearson(a, a, 4).mean - 1) < 1e-12);
  const flat = plane(8, 8, new Float32Array(64).fill(2));
  assert.ok(Number.isNaN(chunkedPearson(a, flat, 4).mean));
});

Deno.test({
  name: "seamless align tool: h5py opens the aligned stack; quality equals numpy's",
  ignore: noPy,
  async fn() {
    const { dir, vol, net } = await setup();
    const out = `${dir}/aligned.h5`;
    const r = await runTool("seamless/align", PERMS, [
      "--net",
      net,
      "--source",
      vol,
      "--out",
      out,
      "--chunk",
      "10",
      "-q",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /4 sections, [\d.]+ sections\/s/);
    const py = runPython(
      `-c import h5py, numpy as np, sys
f = h5py.File(sys.argv[1], "r"); v = np.load(sys.argv[2])
m = f["main"][:]
def cpc(a, b, c):
    rs = []
    for y in range(0, a.shape[0] - c + 1, c):
        for x in range(0, a.shape[1] - c + 1, c):
            u, w = a[y:y+c, x:x+c].ravel().astype(np.float64), b[y:y+c, x:x+c].ravel().astype(np.float64)
            if u.var() > 0 and w.var() > 0: rs.append(np.corrcoef(u, w)[0, 1])
    return np.mean(rs)
after = max(abs(cpc(m[z-1], m[z], 10) - f["cpc_after"][z]) for z in range(1, 4))
before = max(abs(cpc(v[z-1], v[z], 10) - f["cpc_before"][z]) for z in range(1, 4))
print(list(f["main"].shape), list(f["field"].shape), f["main"].dtype, float(after), float(before), bool((m[0] == v[0]).all()))`,
      [out, vol],
    );
    const [shape, fshape, dtype, after, before, first] = py.trim().split(/ (?![^[]*\])/);
    assert.equal(shape, "[4, 40, 40]");
    assert.equal(fshape, "[4, 40, 40, 2]");
    assert.equal(dtype, "float32");
    assert.ok(Number(after) < 1e-5 && Number(before) < 1e-5, py);
    assert.equal(first, "True");
    const again = await runTool("seamless/align", PERMS, [
      "--net",
      net,
      "--source",
      vol,
      "--out",
      out,
    ]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /exists; pass --overwrite/);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("seamless net_hist: the chain of parents back to the root", async () => {
  const { dir, net } = await setup();
  const h = await netHistory(net);
  assert.deepEqual(h.map((e) => e.name), ["kid", "root"]);
  assert.equal(h[0].parent, `${dir}/pt/root`);
  assert.equal(h[1].parent, null);
  assert.equal(h[1].lr, 3e-4);
  const lines = formatNetHistory(h);
  assert.match(lines[0], /^kid \[kid-id\] λ1–6 1 /);
  assert.match(lines[1], /root \[root-id\].*\(root\)$/);
  const r = await runTool("seamless/net_hist", ["--allow-read", "--allow-env=INIT_CWD"], [net]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split("\n").length, 2);
  const miss = await runTool("seamless/net_hist", ["--allow-read", "--allow-env=INIT_CWD"], [
    `${dir}/pt/none`,
  ]);
  assert.match(miss.stderr, /no such network/);
  await Deno.remove(dir, { recursive: true });
});

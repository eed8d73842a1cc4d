import assert from "node:assert/strict";
import { hasPython, pyFixture } from "../../_helpers.ts";
import { featureStats, fid } from "../../../lib/pipelines/nsw/mod.ts";

interface Case {
  d: number;
  a: number[];
  b: number[];
  fid: number;
  mu1: number[];
  s1: number[];
}

Deno.test("nsw FID: equals pytorch-fid's numpy/scipy computation to 1e-6 relative", async () => {
  if (!hasPython("numpy", "scipy")) return;
  const dir = await pyFixture("nsw/fid_ref");
  const cases = JSON.parse(Deno.readTextFileSync(`${dir}/fid.json`)) as Case[];
  for (const c of cases) {
    const a = { rows: c.a.length / c.d, cols: c.d, data: c.a };
    const b = { rows: c.b.length / c.d, cols: c.d, data: c.b };
    const st = featureStats(a);
    st.mu.forEach((v, i) => assert.ok(Math.abs(v - c.mu1[i]) < 1e-12));
    st.sigma.forEach((v, i) => assert.ok(Math.abs(v - c.s1[i]) < 1e-10));
    const r = fid(a, b);
    assert.ok(Math.abs(r.fid - c.fid) <= 1e-6 * Math.abs(c.fid), `d=${c.d}: ${r.fid} vs ${c.fid}`);
    assert.equal(r.nReal, a.rows);
    assert.equal(r.nFake, b.rows);
  }
});

Deno.test("nsw FID: identical sets give 0, too few samples are refused", () => {
  const d = 4, n = 30;
  const data = Array.from({ length: n * d }, (_, i) => Math.sin(i * 1.7) + (i % d));
  const f = { rows: n, cols: d, data };
  assert.ok(Math.abs(fid(f, f).fid) < 1e-9);
  assert.throws(
    () => fid(f, { rows: 3, cols: d, data: data.slice(0, 12) }),
    /needs at least 4 images .* got 3/,
  );
});

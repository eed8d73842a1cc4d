import assert from "node:assert/strict";
import { hasPython, pyFixture } from "../_helpers.ts";
import {
  defaultSortingSize,
  removeStripeBasedSorting,
  removeStripeBasedSortingVolume,
} from "../../lib/tomo/vo_sorting.ts";

Deno.test("vo sorting: equals TomoPy's remove_stripe_based_sorting (numpy/scipy port), odd/even/default sizes, dim 1 and 2", async () => {
  if (!hasPython("numpy", "scipy")) return;
  const dir = await pyFixture("tomo_vo");
  const man = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
  const f32 = (n: string) => new Float32Array(Deno.readFileSync(`${dir}/${n}`).buffer);
  for (const c of man.cases) {
    const got = removeStripeBasedSortingVolume(f32(c.input), c.shape, {
      size: c.size ?? undefined,
      dim: c.dim,
    });
    const want = f32(c.output);
    let bad = 0;
    for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) bad++;
    assert.equal(bad, 0, `case ${JSON.stringify(c.shape)} size ${c.size} dim ${c.dim}`);
  }
});

Deno.test("vo sorting: removes a constant stripe from a smooth sinogram and keeps values", () => {
  const A = 90, N = 64;
  const s = new Float32Array(A * N);
  for (let a = 0; a < A; a++) {
    for (let c = 0; c < N; c++) {
      s[a * N + c] = Math.exp(-((c - 32 - 12 * Math.cos(a / 30)) ** 2) / 40);
    }
  }
  const striped = s.slice();
  for (let a = 0; a < A; a++) striped[a * N + 20] += 0.2;
  const out = removeStripeBasedSorting(striped, A, N, { size: 5 });
  let errIn = 0, errOut = 0;
  for (let a = 0; a < A; a++) {
    errIn += Math.abs(striped[a * N + 20] - s[a * N + 20]);
    errOut += Math.abs(out[a * N + 20] - s[a * N + 20]);
  }
  assert.ok(errOut < 0.2 * errIn, `stripe error ${errIn / A} → ${errOut / A}`);
  assert.equal(defaultSortingSize(2560), 21);
  assert.equal(defaultSortingSize(256), 5);
  assert.equal(defaultSortingSize(1000), 10);
  assert.throws(() => removeStripeBasedSorting(s, A, N + 1), /values/);
  assert.throws(() => removeStripeBasedSorting(s, A, N, { size: 0 }), /size/);
});

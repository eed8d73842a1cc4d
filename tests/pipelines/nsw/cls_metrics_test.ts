import assert from "node:assert/strict";
import { hasPython, pyFixture } from "../../_helpers.ts";
import { classificationMetrics, rocAuc } from "../../../lib/pipelines/nsw/mod.ts";

function close(a: readonly number[], b: readonly (number | null)[], what: string): void {
  a.forEach((v, i) => {
    const w = b[i];
    if (w === null) assert.ok(Number.isNaN(v), `${what}[${i}]`);
    else assert.ok(Math.abs(v - w) < 1e-9, `${what}[${i}]: ${v} vs ${w}`);
  });
}

Deno.test("nsw classifier metrics equal numpy/scipy", async () => {
  if (!hasPython("numpy", "scipy")) return;
  const r = JSON.parse(
    Deno.readTextFileSync(`${await pyFixture("nsw/metrics_ref")}/metrics.json`),
  );
  const m = classificationMetrics(r.labels, r.probs, 16);
  assert.deepEqual(m.confusion, r.confusion);
  close([m.accuracy, m.balancedAccuracy, m.rocAuc, m.entropy], [
    r.accuracy,
    r.balanced,
    r.roc_auc,
    r.entropy,
  ], "scalars");
  close(m.precision, r.precision, "precision");
  close(m.recall, r.recall, "recall");
  close(m.f1, r.f1, "f1");
  close(m.precisionRowNormalised, r.prn, "precision (row-normalised)");
  close(m.auc, r.auc, "auc");
});

Deno.test("nsw ROC-AUC: ties count half, undefined without negatives", () => {
  assert.equal(rocAuc([0.5, 0.5], [true, false]), 0.5);
  assert.equal(rocAuc([0.1, 0.9, 0.5], [false, true, true]), 1);
  assert.ok(Number.isNaN(rocAuc([0.1], [true])));
});

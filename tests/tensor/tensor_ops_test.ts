/**
 * PyTorch parity of every engine op, forward and gradients, on every registered backend, and
 * the backends against each other. Fixtures: tests/fixtures/torch_ops.py (Debian python3-torch).
 */
import assert from "node:assert";
import { hasPython, pyFixture } from "../_helpers.ts";
import {
  arr,
  compare,
  type Fixtures,
  loadFixtures,
  runCase,
  testBackends,
} from "./tensor_parity.ts";

const bs = await testBackends();
const fx: Fixtures | null = hasPython("torch", "numpy")
  ? await loadFixtures(await pyFixture("torch_ops"))
  : null;

if (fx) {
  for (const b of bs) {
    for (const c of fx.cases) {
      Deno.test(`torch parity: ${c.name} [${b.name}]`, async () => {
        const r = await runCase(fx, c, b);
        const rtol = c.rtol ?? 1e-4;
        const errs: string[] = [];
        if (r.yShape.join() !== c.y.shape.join()) {
          errs.push(`output shape [${r.yShape}] expected [${c.y.shape}]`);
        }
        const e = compare("y", r.y, arr(fx, c.y), rtol);
        if (e) errs.push(e);
        for (const [k, d] of Object.entries(c.grads)) {
          const ge = compare(`grad ${k}`, r.grads[k], arr(fx, d), rtol, c.atol?.[k] ?? 0);
          if (ge) errs.push(ge);
        }
        for (const [k, d] of Object.entries(c.extra ?? {})) {
          const xe = compare(k, r.extra[k], arr(fx, d), rtol);
          if (xe) errs.push(xe);
        }
        assert(errs.length === 0, `${c.name} on ${b.name}: ${errs.join("; ")}`);
      });
    }
  }
  // Backends agree with each other (the first registered is the reference).
  if (bs.length > 1) {
    for (const c of fx.cases) {
      Deno.test(`backends agree: ${c.name} [${bs.map((b) => b.name).join(" vs ")}]`, async () => {
        const ref = await runCase(fx, c, bs[0]);
        for (const b of bs.slice(1)) {
          const r = await runCase(fx, c, b);
          const errs = [compare("y", r.y, ref.y, 1e-4)];
          for (const k of Object.keys(ref.grads)) {
            errs.push(compare(`grad ${k}`, r.grads[k], ref.grads[k], 1e-4, c.atol?.[k] ?? 0));
          }
          const bad = errs.filter((x) => x !== null);
          assert(bad.length === 0, `${c.name}: ${b.name} vs ${bs[0].name}: ${bad.join("; ")}`);
        }
      });
    }
  }
}

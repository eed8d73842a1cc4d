import assert from "node:assert/strict";
import { hasPython, pyFixture } from "../../_helpers.ts";
import { ddimStep, ddimTimesteps, makeSchedule, qSample } from "../../../lib/pipelines/nsw/mod.ts";

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) {
    assert.ok(
      Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])),
      `${what}[${i}]: ${a[i]} vs ${b[i]}`,
    );
  }
}

Deno.test("nsw DDPM schedule, q_sample and DDIM step equal the numpy reference", async () => {
  if (!hasPython("numpy")) return;
  const dir = await pyFixture("nsw/diffusion_ref");
  const ref = JSON.parse(Deno.readTextFileSync(`${dir}/diffusion.json`));
  for (const kind of ["linear", "cosine"] as const) {
    const r = ref[kind];
    const s = makeSchedule(kind, 1000);
    close(s.betas, r.betas, 1e-12, `${kind} betas`);
    close(s.alphasCumprod, r.ac, 1e-12, `${kind} alphas_cumprod`);
    assert.deepEqual(ddimTimesteps(1000, 50), r.ts);
    close(qSample(s, r.x0, r.eps, r.tq, 16), r.q, 1e-6, `${kind} q_sample`);
    for (const c of r.cases) {
      const got = ddimStep(s, r.xt, r.eps, c.t, c.tp, { eta: c.eta, clip: c.clip, noise: r.noise });
      close(got, c.out, 1e-6, `${kind} ddim t=${c.t}`);
    }
  }
});

Deno.test("nsw DDIM: timesteps and refusals", () => {
  assert.deepEqual(ddimTimesteps(1000, 4), [750, 500, 250, 0]);
  assert.throws(() => ddimTimesteps(10, 11), /--steps/);
  const s = makeSchedule("linear", 10);
  assert.throws(() => ddimStep(s, [0], [0], 5, 4, { eta: 1 }), /needs noise/);
});

/**
 * Child process of bench/nostripesnet.ts: one measurement of NoStripesNet's paper model on the
 * engine, in a fresh process so that its peak memory (VmHWM) is the measurement's own.
 * Args: forward|step BACKEND H W REPEATS. Prints {"seconds", "peak_rss_bytes", "backend"}.
 *
 * @module
 */
import { initEngine } from "../lib/tensor/engine.ts";
import { noGrad, resetArena, tensor } from "../lib/tensor/tensor.ts";
import { buildNoStripesNet } from "../lib/pipelines/nostripesnet/model.ts";
import { MaskedGAN } from "../lib/pipelines/nostripesnet/gan.ts";

const [what, backendName, hs, ws, rs] = Deno.args;
const H = Number(hs), W = Number(ws), reps = Number(rs ?? 2);
const backend = await initEngine({ backend: backendName });
const { gen, disc } = buildNoStripesNet({ preset: "paper" }, 0);
const x = new Float32Array(H * W).map((_, i) => Math.tanh(Math.sin(i * 0.37)));
const m = new Float32Array(H * W);
for (let a = 0; a < H; a++) for (let c = 100; c < 106; c++) m[a * W + c] = 1;
let best = Infinity;
if (what === "forward") {
  gen.train();
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await noGrad(async () => {
      const y = gen.forward(tensor(x, [1, 1, H, W]));
      await y.data();
      resetArena(y.backend);
    });
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
} else {
  const gan = new MaskedGAN(gen, disc);
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await gan.trainStep({
      stripe: tensor(x, [1, 1, H, W]),
      mask: tensor(m, [1, 1, H, W]),
      clean: tensor(x, [1, 1, H, W]),
    });
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
}
console.log(JSON.stringify({ seconds: best, backend: backend.name }));
Deno.exit(0);

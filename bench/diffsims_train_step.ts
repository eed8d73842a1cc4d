// bench-permissions: --allow-read --allow-write=/tmp --allow-env --allow-run=/usr/bin/python3 --allow-sys
/**
 * diffsims XL's 1D CNN: one training step (train-mode forward with dropout, cross-entropy,
 * backward, Adam) on a batch of 64 profiles of 147 points, 3 phases, on the engine with 2 threads
 * against PyTorch CPU with 2 threads (bench/peers/diffsims_train_step.py, OMP_NUM_THREADS=2).
 * Lines: `diffsims_train_step_s` (best step, seconds, lower is better; the median is given too) and
 * `diffsims_train_profiles_per_s` (64 / best step).
 *
 * @module
 */
import { initEngine } from "../lib/tensor/engine.ts";
import { buildCnn, cnnBatch, cnnTrainStep } from "../lib/pipelines/diffsims/cnn.ts";
import { Adam } from "../lib/optim/adam.ts";
import { SimRng } from "../lib/data/rng.ts";
import { cpus } from "node:os";

const BATCH = 64, LEN = 147, REPEATS = 20;
const HERE = new URL(".", import.meta.url).pathname;
const prefix = Deno.args[0] ?? "";
const want = (n: string) => n.startsWith(prefix);

function line(
  bench: string,
  unit: string,
  ours: number,
  peer: number | null,
  lower: boolean,
  x = {},
) {
  const ratio = peer ? (lower ? peer / ours : ours / peer) : null;
  console.log(JSON.stringify({ bench, unit, ours, peer, ratio, ...x }));
}

if (want("diffsims_train_step_s") || want("diffsims_train_profiles_per_s")) {
  const backend = await initEngine({ threads: 2 });
  const net = buildCnn(3, LEN, 10);
  const opt = new Adam(net.parameters(), { lr: 1e-3 });
  const rng = new SimRng(0);
  const batch = cnnBatch(
    Float32Array.from({ length: BATCH * LEN }, () => rng.uniform()),
    Array.from({ length: BATCH }, (_, i) => i % 3),
    LEN,
  );
  const times: number[] = [];
  for (let r = 0; r < REPEATS + 3; r++) {
    const t0 = performance.now();
    await cnnTrainStep(net, opt, batch);
    times.push((performance.now() - t0) / 1000);
  }
  const ours = times.slice(3).sort((a, b) => a - b);
  let peer: { seconds: number; median: number } | null = null, peerError: string | undefined;
  const r = await new Deno.Command("/usr/bin/python3", {
    args: [`${HERE}peers/diffsims_train_step.py`, String(REPEATS)],
    env: { OMP_NUM_THREADS: "2" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  if (r.success) peer = JSON.parse(dec.decode(r.stdout).trim().split("\n").pop()!);
  else {
    peerError = dec.decode(r.stderr).trim().split("\n").slice(-2).join(" | ").slice(0, 300);
    console.error(`peer failed: ${peerError}`);
  }
  const x = {
    cpu: cpus()[0]?.model ?? "unknown",
    backend: backend.name,
    threads: 2,
    batch: BATCH,
    ours_median: ours[ours.length >> 1],
    peer_median: peer?.median ?? null,
    ...(peerError ? { peer_error: peerError } : {}),
  };
  if (want("diffsims_train_step_s")) {
    line("diffsims_train_step_s", "s", ours[0], peer?.seconds ?? null, true, x);
  }
  if (want("diffsims_train_profiles_per_s")) {
    line(
      "diffsims_train_profiles_per_s",
      "profiles/s",
      BATCH / ours[0],
      peer ? BATCH / peer.seconds : null,
      false,
      x,
    );
  }
}
// the engine's worker threads would keep the process alive
Deno.exit(0);

/**
 * A GEMM worker of lib/tensor/wasm/gemm_pool.ts: instantiates the kernel module on the shared
 * memory, then loops: wait (spin briefly, then `Atomics.wait`) for the call sequence number to
 * change, read the call from the control block, claim and compute jobs. Started by
 * `createGemmPool`; one message at start-up (memory, compiled module, control block, its
 * buffers), none per call.
 *
 * @module
 */
import {
  C_CMD,
  C_SEQ,
  CMD_EXIT,
  CMD_PEAK,
  controlViews,
  type GemmExports,
  readCall,
  runJobs,
  runPeak,
  type ThreadBuffers,
  waitChange,
} from "./gemm_pool.ts";

interface Init {
  memory: WebAssembly.Memory;
  module: WebAssembly.Module;
  ctlPtr: number;
  tid: number;
  buf: ThreadBuffers;
}

/** Atomics.loads to spin before sleeping: calls come in bursts (a training step issues hundreds). */
const SPINS = 100_000;

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<Init>) => void) | null;
  postMessage(m: unknown): void;
  close(): void;
};

scope.onmessage = (e: MessageEvent<Init>) => {
  scope.onmessage = null;
  const { memory, module, ctlPtr, tid, buf } = e.data;
  let ex: GemmExports;
  let ctl: ReturnType<typeof controlViews>;
  let seq: number;
  try {
    ex = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as GemmExports;
    ctl = controlViews(memory, ctlPtr);
    seq = Atomics.load(ctl.i32, C_SEQ);
  } catch (err) {
    scope.postMessage(String(err));
    return;
  }
  scope.postMessage("ready");
  for (;;) {
    seq = waitChange(ctl.i32, C_SEQ, seq, SPINS);
    const cmd = Atomics.load(ctl.i32, C_CMD);
    if (cmd === CMD_EXIT) break;
    if (cmd === CMD_PEAK) {
      runPeak(ex, ctl, seq);
      continue;
    }
    const err = runJobs(ex, ctl, seq, readCall(ctl.i32), buf);
    if (err) console.error(`gemm worker ${tid}:`, err);
  }
  scope.close();
};

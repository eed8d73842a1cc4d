/**
 * Worker threads for the engine's memory-bound kernels (im2col/col2im, elementwise, batch norm,
 * optimiser updates): each worker has its own instance of wasm/engine.wasm on the backend's
 * shared memory, with its own shadow stack. The caller splits a kernel's work into one argument
 * list per thread ({@link EnginePool.run}); the workers are woken through a control block with
 * `Atomics.notify`, no message is posted per call. Every element is computed by exactly one
 * thread with the same arithmetic as the single-thread path, so results do not depend on the
 * thread count.
 *
 * (The GEMMs have their own pool, lib/tensor/wasm/gemm_pool.ts.)
 *
 * @module
 */

/** Control block layout (i32 words, then f64 argument slots). */
const C_SEQ = 0; // call sequence number (workers wait on it)
const C_FN = 1; // export index, −1 = exit
const C_FIN = 2; // workers finished
const C_ERR = 3; // a worker failed
const ARGS_F64 = 2; // f64 index where the argument slots start (byte 16)
export const MAX_ARGS = 24;
/** Bytes of the control block for `threads`. */
export function controlBytes(threads: number): number {
  return 16 + threads * MAX_ARGS * 8;
}
/** Shadow-stack bytes per worker. */
export const WORKER_STACK = 256 << 10;

/** A kernel every thread runs with its own arguments. */
export class EnginePool {
  private ctl: Int32Array;
  private args: Float64Array;
  private closed = false;

  private constructor(
    readonly threads: number,
    private memory: WebAssembly.Memory,
    private ctlPtr: number,
    private names: string[],
    private workers: Worker[],
    private main: Record<string, (...a: number[]) => void>,
  ) {
    this.ctl = new Int32Array(memory.buffer, ctlPtr, 4);
    this.args = new Float64Array(memory.buffer, ctlPtr, 2 + threads * MAX_ARGS);
  }

  /**
   * Starts `threads − 1` workers.
   * @param ctlPtr 16-aligned bytes for {@link controlBytes}(threads)
   * @param stackTops one shadow-stack top (byte offset, 16-aligned) per worker
   */
  static async create(
    memory: WebAssembly.Memory,
    module: WebAssembly.Module,
    main: WebAssembly.Exports,
    threads: number,
    ctlPtr: number,
    stackTops: number[],
  ): Promise<EnginePool> {
    const names = WebAssembly.Module.exports(module).filter((e) => e.kind === "function").map((e) =>
      e.name
    );
    new Int32Array(memory.buffer, ctlPtr, 4).fill(0);
    const workers: Worker[] = [];
    try {
      const ready: Promise<void>[] = [];
      for (let t = 1; t < threads; t++) {
        const w = new Worker(new URL("./engine_worker.ts", import.meta.url), { type: "module" });
        workers.push(w);
        ready.push(
          new Promise<void>((res, rej) => {
            w.onmessage = (
              e,
            ) => (e.data === "ready" ? res() : rej(new Error(`engine worker ${t}: ${e.data}`)));
            w.onerror = (e) => {
              e.preventDefault();
              rej(new Error(`engine worker ${t}: ${e.message}`));
            };
          }),
        );
        w.postMessage({
          memory,
          module,
          ctlPtr,
          tid: t,
          threads,
          stackTop: stackTops[t - 1],
          names,
        });
      }
      await Promise.all(ready);
    } catch (e) {
      for (const w of workers) w.terminate();
      throw e;
    }
    for (const w of workers) {
      w.onmessage = null;
      w.onerror = (e) => {
        e.preventDefault();
        console.error(`engine worker: ${e.message}`);
      };
    }
    return new EnginePool(
      threads,
      memory,
      ctlPtr,
      names,
      workers,
      main as unknown as Record<string, (...a: number[]) => void>,
    );
  }

  private views(): void {
    if (this.ctl.buffer.byteLength !== this.memory.buffer.byteLength) {
      this.ctl = new Int32Array(this.memory.buffer, this.ctlPtr, 4);
      this.args = new Float64Array(this.memory.buffer, this.ctlPtr, 2 + this.threads * MAX_ARGS);
    }
  }

  /**
   * Runs export `fn` once per argument list: list 0 on this thread, list t on worker t
   * (fewer lists than threads leave the other workers idle). Returns when all are done.
   */
  run(fn: string, perThread: number[][]): void {
    if (this.closed) throw new Error("engine pool: closed");
    const n = perThread.length;
    if (n === 0) return;
    if (n === 1 || this.threads === 1) {
      for (const a of perThread) this.main[fn](...a);
      return;
    }
    if (n > this.threads) throw new Error(`engine pool: ${n} parts for ${this.threads} threads`);
    const idx = this.names.indexOf(fn);
    if (idx < 0) throw new Error(`engine pool: no export ${fn}`);
    this.views();
    for (let t = 0; t < this.threads; t++) {
      const a = t < n ? perThread[t] : null;
      const base = ARGS_F64 + t * MAX_ARGS;
      this.args[base] = a ? a.length : -1; // −1: idle this call
      if (a) {
        if (a.length >= MAX_ARGS) throw new Error(`engine pool: ${a.length} arguments`);
        for (let i = 0; i < a.length; i++) this.args[base + 1 + i] = a[i];
      }
    }
    Atomics.store(this.ctl, C_FIN, 0);
    Atomics.store(this.ctl, C_ERR, 0);
    Atomics.store(this.ctl, C_FN, idx);
    Atomics.add(this.ctl, C_SEQ, 1);
    Atomics.notify(this.ctl, C_SEQ);
    this.main[fn](...perThread[0]);
    const want = this.threads - 1;
    let fin = Atomics.load(this.ctl, C_FIN);
    while (fin < want) {
      Atomics.wait(this.ctl, C_FIN, fin);
      fin = Atomics.load(this.ctl, C_FIN);
    }
    if (Atomics.load(this.ctl, C_ERR) !== 0) {
      throw new Error(`engine pool: a worker failed in ${fn}`);
    }
  }

  /** Stops the workers. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.views();
    Atomics.store(this.ctl, C_FN, -1);
    Atomics.add(this.ctl, C_SEQ, 1);
    Atomics.notify(this.ctl, C_SEQ);
    for (const w of this.workers) setTimeout(() => w.terminate(), 100);
  }
}

/** Worker side: wait for a call, run this thread's argument list, report. */
export function workerLoop(
  memory: WebAssembly.Memory,
  ex: Record<string, (...a: number[]) => void>,
  names: string[],
  ctlPtr: number,
  tid: number,
  threads: number,
): void {
  let ctl = new Int32Array(memory.buffer, ctlPtr, 4);
  let args = new Float64Array(memory.buffer, ctlPtr, 2 + threads * MAX_ARGS);
  // The control block was zeroed before the workers started and no call is made before they
  // report ready, so the first call is sequence 1: start from 0, never from a fresh load (a call
  // made between "ready" and that load would be missed).
  let seq = 0;
  for (;;) {
    // spin a little (calls come in bursts), then sleep
    let s = Atomics.load(ctl, C_SEQ);
    for (let i = 0; i < 20000 && s === seq; i++) s = Atomics.load(ctl, C_SEQ);
    while (s === seq) {
      Atomics.wait(ctl, C_SEQ, seq);
      s = Atomics.load(ctl, C_SEQ);
    }
    seq = s;
    if (args.buffer.byteLength !== memory.buffer.byteLength) {
      ctl = new Int32Array(memory.buffer, ctlPtr, 4);
      args = new Float64Array(memory.buffer, ctlPtr, 2 + threads * MAX_ARGS);
    }
    const fi = Atomics.load(ctl, C_FN);
    if (fi < 0) return;
    const base = ARGS_F64 + tid * MAX_ARGS;
    const na = args[base];
    if (na >= 0) {
      try {
        const a: number[] = [];
        for (let i = 0; i < na; i++) a.push(args[base + 1 + i]);
        ex[names[fi]](...a);
      } catch (e) {
        console.error(`engine worker ${tid}: ${names[fi]}: ${(e as Error).message}`);
        Atomics.store(ctl, C_ERR, 1);
      }
    }
    Atomics.add(ctl, C_FIN, 1);
    Atomics.notify(ctl, C_FIN);
  }
}

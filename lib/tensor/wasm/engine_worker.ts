/**
 * An engine worker (see engine_pool.ts): instantiates wasm/engine.wasm on the shared memory,
 * moves its shadow stack to its own region, then serves calls until told to exit.
 *
 * @module
 */
import { workerLoop } from "./engine_pool.ts";

interface Init {
  memory: WebAssembly.Memory;
  module: WebAssembly.Module;
  ctlPtr: number;
  tid: number;
  threads: number;
  stackTop: number;
  names: string[];
}

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<Init>) => void) | null;
  postMessage(m: unknown): void;
  close(): void;
};

scope.onmessage = (e: MessageEvent<Init>) => {
  scope.onmessage = null;
  const { memory, module, ctlPtr, tid, threads, stackTop, names } = e.data;
  let ex: Record<string, unknown>;
  try {
    ex = new WebAssembly.Instance(module, { env: { memory } }).exports as Record<string, unknown>;
    const sp = ex.__stack_pointer;
    if (!(sp instanceof WebAssembly.Global)) {
      throw new Error("engine.wasm does not export __stack_pointer");
    }
    sp.value = stackTop;
  } catch (err) {
    scope.postMessage(String(err));
    return;
  }
  scope.postMessage("ready");
  workerLoop(memory, ex as Record<string, (...a: number[]) => void>, names, ctlPtr, tid, threads);
  scope.close();
};

/**
 * Backend registration and start-up: the `wasm` backend is always there (and is the default);
 * `webgpu` registers when its module exists (lib/tensor/webgpu); `native` (oneDNN through FFI,
 * lib/tensor/native) starts where libdnnl.so.2 loads and `--allow-ffi` names it. {@link initEngine}
 * picks the backend (`--backend wasm|webgpu|native|auto`) and starts the worker threads.
 *
 * @module
 */
import {
  type Backend,
  backendNames,
  getBackend,
  registerBackend,
  registerDefaultBackend,
  setDefaultBackend,
} from "./backend.ts";
import { type WasmBackend, wasmBackend } from "./wasm/backend.ts";

/**
 * Starts the GEMM pool (lib/tensor/wasm/gemm_pool.ts: relaxed-SIMD kernels, `threads` computing
 * threads incl. this one) on the wasm backend; with threads = 1 it runs on this thread alone.
 * Returns false where the pool module is absent (the Rust SGEMM stays in use).
 */
export async function startWasmThreads(b: WasmBackend, threads?: number): Promise<boolean> {
  const n = threads ?? Math.max(1, Math.min(navigator.hardwareConcurrency || 1, 16));
  if (b.hasGemmPool) {
    if (b.threads === n) return true;
    b.closeGemmPool();
  }
  let mod: Record<string, unknown>;
  try {
    const spec = "./wasm/gemm_pool.ts";
    mod = await import(spec);
  } catch {
    return false;
  }
  const create = mod.createGemmPool as (
    m: WebAssembly.Memory,
    o: { threads?: number; scratchPtr: number; scratchBytes: number },
  ) => Promise<{ threads: number; sgemm: WasmBackend["gemm"]; close(): void }>;
  const bytesOf = mod.gemmScratchBytes as (t: number) => number;
  if (typeof create !== "function" || typeof bytesOf !== "function") return false;
  const bytes = bytesOf(n);
  const ptr = b.reserveBytes(bytes);
  const pool = await create(b.memory, { threads: n, scratchPtr: ptr, scratchBytes: bytes });
  b.setGemmPool(pool);
  return true;
}

registerDefaultBackend(wasmBackend);
registerBackend("wasm", () => Promise.resolve(wasmBackend()));
registerBackend("webgpu", async () => {
  // loaded on demand, so that tools which never use WebGPU do not load its module
  const spec = "./webgpu/backend.ts";
  let mod: Record<string, unknown>;
  try {
    mod = await import(spec);
  } catch {
    return null;
  }
  const create = mod.createWebGpuBackend as (() => Promise<Backend | null>) | undefined;
  return create ? await create() : null;
});

/**
 * The native backend's module (evaluated on first use only), or null where it cannot be loaded.
 * A literal specifier keeps it in the module graph (bundles, runs by URL), so loading it needs no
 * permission; opening the library needs `--allow-ffi`.
 */
async function nativeModule(): Promise<Record<string, unknown> | null> {
  try {
    return await import("./native/backend.ts");
  } catch {
    return null;
  }
}

let nativeInUse: { stopThreads(): void } | null = null;

registerBackend("native", async () => {
  // null (no warning) where the module, the library or the FFI permission is missing
  const mod = await nativeModule();
  return mod ? (mod.nativeBackendOrNull as () => Backend | null)() : null;
});

/** The native backend, or an error line naming what is missing (library, `--allow-ffi`). */
async function startNative(threads: number | undefined, strict: boolean): Promise<Backend | null> {
  const mod = await nativeModule();
  if (!mod) {
    if (strict) throw new Error("--backend native: lib/tensor/native is not part of this build");
    return null;
  }
  if (threads) (mod.setNativeThreads as (n: number) => void)(threads);
  if (!strict) return await getBackend("native");
  try {
    return (mod.createNativeBackend as () => Backend)();
  } catch (e) {
    throw new Error(`--backend native: ${(e as Error).message.replace(/^native backend: /, "")}`);
  }
}

/** Options of {@link initEngine}. */
export interface EngineOptions {
  /**
   * "wasm" (default), "webgpu", "native", or "auto" (webgpu on a non-fallback adapter, else
   * native where oneDNN loads with the FFI permission granted, else wasm; never prompts).
   */
  backend?: string;
  /** CPU threads for the wasm GEMMs (default: all cores). 1 = no workers. */
  threads?: number;
}

/** Chooses and starts the default backend; returns it. */
export async function initEngine(opts: EngineOptions = {}): Promise<Backend> {
  const want = opts.backend ?? "wasm";
  let b: Backend | null = null;
  if (want === "auto") {
    // a real GPU only: probe the adapter first (starting a device on a software fallback such
    // as llvmpipe costs half a second and would be thrown away)
    const { probeWebGpu } = await import("./webgpu/device.ts");
    const probe = await probeWebGpu().catch(() => null);
    if (probe?.available && !probe.fallback) {
      const gpu = await getBackend("webgpu").catch(() => null);
      b = gpu && !(gpu as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter
        ? gpu
        : null;
    }
    if (!b) b = await startNative(opts.threads, false).catch(() => null);
  } else if (want === "native") {
    b = await startNative(opts.threads, true);
  } else if (want !== "wasm") {
    if (!backendNames().includes(want)) {
      throw new Error(
        `--backend ${want}: unknown (choose from ${backendNames().join(", ")}, auto)`,
      );
    }
    b = await getBackend(want);
    if (!b) throw new Error(`--backend ${want}: not available on this machine`);
  }
  if (b && b.name === "native") {
    const n = opts.threads ?? Math.max(1, Math.min(navigator.hardwareConcurrency || 1, 16));
    const nb = b as unknown as { startThreads(n: number): Promise<void>; stopThreads(): void };
    await nb.startThreads(n);
    nativeInUse = nb;
  }
  if (!b) {
    const w = wasmBackend();
    const n = opts.threads ?? Math.max(1, Math.min(navigator.hardwareConcurrency || 1, 16));
    await startWasmThreads(w, n);
    await w.startThreads(n);
    b = w;
  }
  setDefaultBackend(b);
  return b;
}

/** Stops the wasm backend's worker threads (GEMM pool and engine pool) so the process can exit. */
export function closeEngine(): void {
  const w = wasmBackend();
  w.closeGemmPool();
  w.stopThreads();
  nativeInUse?.stopThreads();
}

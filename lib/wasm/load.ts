/**
 * Loading Lumen's committed WebAssembly modules (`wasm/<name>.wasm`) from wherever the library
 * runs: a clone (`file:` URLs), or a URL import (`https:`). Compiled modules are cached per URL;
 * each {@link loadWasm} call makes a fresh instance (its own memory) of the cached module.
 *
 * @example
 * ```ts
 * import { loadWasm, WasmArena } from "./load.ts";
 * const inst = await loadWasm(new URL("../../wasm/tomo.wasm", import.meta.url));
 * const arena = WasmArena.of(inst);
 * const p = arena.alloc(1024);
 * ```
 * @module
 */

const compiled = new Map<string, Promise<WebAssembly.Module>>();

/** Fetches and compiles a .wasm file once per URL (file: and https: both work). */
export function compileWasm(url: URL | string): Promise<WebAssembly.Module> {
  const key = String(url);
  let p = compiled.get(key);
  if (!p) {
    p = (async () => {
      const res = await fetch(key);
      if (!res.ok) throw new Error(`${key}: HTTP ${res.status} ${res.statusText}`);
      return await WebAssembly.compile(await res.arrayBuffer());
    })();
    p.catch(() => compiled.delete(key));
    compiled.set(key, p);
  }
  return p;
}

/**
 * A new instance of the module at `url` (compiled once per URL).
 *
 * @param url where the .wasm file is, usually `new URL("../../wasm/x.wasm", import.meta.url)`
 * @param imports the module's imports (none for Lumen's self-contained kernels)
 */
export async function loadWasm(
  url: URL | string,
  imports: WebAssembly.Imports = {},
): Promise<WebAssembly.Instance> {
  const mod = await compileWasm(url);
  return await WebAssembly.instantiate(mod, imports);
}

/**
 * A bump allocator over a module's exported linear memory, starting above its `__heap_base`
 * (the first byte Rust's static data and stack do not use). Kernels that never allocate (as
 * Lumen's do) take pointers into regions handed out here; `reset()` frees them all at once.
 * Views returned by the typed-array helpers are invalid after the memory grows: take them after
 * the last `alloc` of a step.
 */
export class WasmArena {
  /** The module's memory. */
  readonly memory: WebAssembly.Memory;
  /** First usable byte (16-aligned `__heap_base`). */
  readonly base: number;
  private top: number;

  /**
   * @param memory the instance's exported memory
   * @param base the first byte this arena may use
   */
  constructor(memory: WebAssembly.Memory, base: number) {
    this.memory = memory;
    this.base = (base + 15) & ~15;
    this.top = this.base;
  }

  /** The arena of an instance that exports `memory` and (from rustc/wasm-ld) `__heap_base`. */
  static of(instance: WebAssembly.Instance): WasmArena {
    const ex = instance.exports as Record<string, unknown>;
    const memory = ex.memory;
    if (!(memory instanceof WebAssembly.Memory)) throw new Error("module exports no memory");
    const hb = ex.__heap_base;
    const base = hb instanceof WebAssembly.Global ? Number(hb.value) : memory.buffer.byteLength;
    return new WasmArena(memory, base);
  }

  /** Reserves `bytes` (aligned to `align`, a power of two), growing the memory if needed. */
  alloc(bytes: number, align = 16): number {
    const ptr = (this.top + align - 1) & ~(align - 1);
    const end = ptr + bytes;
    if (end > 0xffff_0000) throw new RangeError(`wasm arena: ${end} bytes exceed 4 GiB`);
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / 65536));
    this.top = end;
    return ptr;
  }

  /** The current top, to pass to {@link WasmArena.reset} later. */
  mark(): number {
    return this.top;
  }

  /** Frees everything allocated after `mark` (default: everything). */
  reset(mark: number = this.base): void {
    this.top = mark;
  }

  /** Bytes in use. */
  get used(): number {
    return this.top - this.base;
  }

  /** A Uint8Array view of `[ptr, ptr + n)`. */
  u8(ptr: number, n: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, ptr, n);
  }

  /** A Float32Array view of `n` floats at `ptr` (4-aligned). */
  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, n);
  }
}

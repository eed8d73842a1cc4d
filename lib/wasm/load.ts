/**
 * Loading Lumen's committed WebAssembly modules (`wasm/<name>.wasm`) and other files that live
 * beside the code (`kernels/<name>.wgsl`) from wherever the library runs: a clone (`file:` URLs),
 * a URL import (`https:`; the tool then needs `--allow-net` for that host), or a single-file
 * bundle (`deno task bundle`), which carries these files inside itself and puts them (base64) in
 * the global {@link ASSETS_GLOBAL} before any of its modules runs. There is one loading path: {@link assetBytes}
 * answers from the registered files when the bundle carries the one asked for, and fetches the
 * URL otherwise. Compiled modules are cached per URL; each {@link loadWasm} call makes a fresh
 * instance (its own memory) of the cached module.
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
const decoded = new Map<string, Uint8Array<ArrayBuffer>>();

/**
 * Where a bundle puts the files it carries (key → base64): a global, so that the bundle can set it
 * in a preamble that runs before any of its modules (`deno task bundle` writes that preamble).
 *
 * @example
 * ```ts
 * // the preamble of a bundle:
 * // globalThis[Symbol.for("lumen.assets")] = { "wasm/tomo.wasm": "AGFzbQ…" };
 * ASSETS_GLOBAL === Symbol.for("lumen.assets"); // true
 * ```
 */
export const ASSETS_GLOBAL: symbol = Symbol.for("lumen.assets");

function carried(): Record<string, string> {
  const g = globalThis as unknown as Record<symbol, Record<string, string> | undefined>;
  return (g[ASSETS_GLOBAL] ??= {});
}

/**
 * The key of an asset: its folder and file name (`wasm/tomo.wasm`, `kernels/conv.wgsl`), taken
 * from the end of its URL, so that `new URL("../../wasm/tomo.wasm", import.meta.url)` finds the
 * carried copy wherever the bundle that holds the module lies.
 *
 * @example
 * ```ts
 * assetKey("file:///opt/lumen/wasm/tomo.wasm"); // "wasm/tomo.wasm"
 * ```
 */
export function assetKey(url: URL | string): string {
  const path = decodeURIComponent(new URL(String(url)).pathname);
  return path.split("/").filter(Boolean).slice(-2).join("/");
}

/**
 * Registers files that the program carries (key → base64 content; keys as {@link assetKey} makes
 * them). Bundles do this in their preamble, through the same global.
 *
 * @example
 * ```ts
 * registerAssets({ "wasm/tiny.wasm": "AGFzbQEAAAA=" });
 * ```
 */
export function registerAssets(files: Readonly<Record<string, string>>): void {
  Object.assign(carried(), files);
  for (const key of Object.keys(files)) decoded.delete(key);
}

/** The carried copy of an asset, decoded once, or undefined. */
function carriedBytes(key: string): Uint8Array<ArrayBuffer> | undefined {
  let bytes = decoded.get(key);
  if (bytes) return bytes;
  const b64 = carried()[key];
  if (b64 === undefined) return undefined;
  const bin = atob(b64);
  bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  decoded.set(key, bytes);
  return bytes;
}

/**
 * True when this program carries its assets (a bundle or a compiled binary): it then needs no
 * permission to load them.
 *
 * @example
 * ```ts
 * if (!hasEmbeddedAssets()) console.log("loads .wasm from beside the code");
 * ```
 */
export function hasEmbeddedAssets(): boolean {
  return Object.keys(carried()).length > 0;
}

/**
 * The bytes of an asset: the registered copy when the program carries it, otherwise fetched
 * from `url` (`file:` needs read access to it, `https:` net access to its host).
 *
 * @example
 * ```ts
 * const wgsl = new TextDecoder().decode(
 *   await assetBytes(new URL("../../kernels/shape.wgsl", import.meta.url)),
 * );
 * ```
 */
export async function assetBytes(url: URL | string): Promise<Uint8Array<ArrayBuffer>> {
  const hit = carriedBytes(assetKey(url));
  if (hit) return hit;
  const res = await fetch(String(url));
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`);
  }
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * The text of an asset (a `.wgsl` kernel), through {@link assetBytes}.
 *
 * @example
 * ```ts
 * const code = await assetText(new URL("../../kernels/shape.wgsl", import.meta.url));
 * ```
 */
export async function assetText(url: URL | string): Promise<string> {
  return new TextDecoder().decode(await assetBytes(url));
}

/** Fetches (or takes the bundled copy of) a .wasm file and compiles it once per URL. */
export function compileWasm(url: URL | string): Promise<WebAssembly.Module> {
  const key = String(url);
  let p = compiled.get(key);
  if (!p) {
    p = (async () => await WebAssembly.compile(await assetBytes(key)))();
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

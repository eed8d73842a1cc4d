/**
 * Loads oneDNN (`libdnnl.so.2`, the 2.x C API) through `Deno.dlopen`. The library is found
 * through the `LUMEN_DNNL` environment variable or the usual names/paths; a missing library is
 * one error line that says how to install it. Needs `--allow-ffi=<library path>` (scoped, never
 * bare): with a scoped grant only the library's symbols may be called (no `Deno.UnsafePointer`),
 * so every oneDNN handle and native address is declared as a `usize` integer here, and
 * structures the library fills (memory descriptors, op descriptors) are passed as buffers.
 *
 * @example
 * ```ts
 * import { loadDnnl } from "./library.ts";
 * const lib = loadDnnl(); // throws a one-line error where absent
 * console.log(lib.version);
 * ```
 *
 * @module
 */

const dims = "buffer" as const; // const dnnl_dims_t (int64[12])
const md = "buffer" as const; // dnnl_memory_desc_t* filled or read by the library
const out = "buffer" as const; // an out-parameter handle (8 bytes)
const handle = "usize" as const; // dnnl_engine_t, dnnl_memory_t, dnnl_primitive_t, void*…

/** The oneDNN C symbols the native backend uses. */
export const DNNL_SYMBOLS = {
  dnnl_version: { parameters: [], result: "usize" },
  dnnl_sgemm: {
    parameters: [
      "u8",
      "u8",
      "i64",
      "i64",
      "i64",
      "f32",
      "buffer",
      "i64",
      "buffer",
      "i64",
      "f32",
      "buffer",
      "i64",
    ],
    result: "i32",
  },
  /** dnnl_sgemm on native addresses (a shared memory's base + byte offsets). */
  dnnl_sgemm_at: {
    name: "dnnl_sgemm",
    parameters: [
      "u8",
      "u8",
      "i64",
      "i64",
      "i64",
      "f32",
      handle,
      "i64",
      handle,
      "i64",
      "f32",
      handle,
      "i64",
    ],
    result: "i32",
  },
  dnnl_engine_create: { parameters: [out, "i32", "usize"], result: "i32" },
  dnnl_stream_create: { parameters: [out, handle, "u32"], result: "i32" },
  dnnl_stream_wait: { parameters: [handle], result: "i32" },
  dnnl_stream_destroy: { parameters: [handle], result: "i32" },
  dnnl_engine_destroy: { parameters: [handle], result: "i32" },
  dnnl_memory_desc_init_by_tag: { parameters: [md, "i32", dims, "i32", "i32"], result: "i32" },
  dnnl_memory_desc_equal: { parameters: [md, md], result: "i32" },
  dnnl_memory_desc_get_size: { parameters: [md], result: "usize" },
  dnnl_memory_create: { parameters: [out, md, handle, handle], result: "i32" },
  dnnl_memory_set_data_handle: { parameters: [handle, handle], result: "i32" },
  dnnl_memory_get_data_handle: { parameters: [handle, out], result: "i32" },
  /** dnnl_memory_create with a host buffer as the data (to learn its native address). */
  dnnl_memory_create_on: {
    name: "dnnl_memory_create",
    parameters: [out, md, handle, "buffer"],
    result: "i32",
  },
  dnnl_memory_destroy: { parameters: [handle], result: "i32" },
  dnnl_dilated_convolution_forward_desc_init: {
    parameters: ["buffer", "i32", "i32", md, md, md, md, dims, dims, dims, dims],
    result: "i32",
  },
  dnnl_dilated_convolution_backward_data_desc_init: {
    parameters: ["buffer", "i32", md, md, md, dims, dims, dims, dims],
    result: "i32",
  },
  dnnl_dilated_convolution_backward_weights_desc_init: {
    parameters: ["buffer", "i32", md, md, md, md, dims, dims, dims, dims],
    result: "i32",
  },
  dnnl_primitive_attr_create: { parameters: [out], result: "i32" },
  dnnl_primitive_attr_set_scratchpad_mode: { parameters: [handle, "i32"], result: "i32" },
  dnnl_primitive_desc_create: {
    parameters: [out, "buffer", handle, handle, handle],
    result: "i32",
  },
  dnnl_reorder_primitive_desc_create: {
    parameters: [out, md, handle, md, handle, handle],
    result: "i32",
  },
  dnnl_primitive_desc_query_md: { parameters: [handle, "i32", "i32"], result: "usize" },
  dnnl_primitive_desc_destroy: { parameters: [handle], result: "i32" },
  dnnl_primitive_create: { parameters: [out, handle], result: "i32" },
  dnnl_primitive_execute: { parameters: [handle, handle, "i32", "buffer"], result: "i32" },
  dnnl_primitive_destroy: { parameters: [handle], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The raw symbols of a loaded oneDNN. */
export type DnnlSymbols = Deno.DynamicLibrary<typeof DNNL_SYMBOLS>["symbols"];

/** A loaded oneDNN. */
export interface DnnlLibrary {
  /** Path that was opened. */
  path: string;
  /** "major.minor.patch" (read back through a reorder: scoped FFI cannot read pointers). */
  version: string;
  /** The raw symbols. */
  symbols: DnnlSymbols;
  /** Unloads the library. */
  close(): void;
}

/** Default search list, first existing wins (after `LUMEN_DNNL`). */
export const DNNL_CANDIDATES: readonly string[] = [
  "/usr/lib/x86_64-linux-gnu/libdnnl.so.2",
  "/usr/lib/aarch64-linux-gnu/libdnnl.so.2",
  "/usr/local/lib/libdnnl.so.2",
  "/usr/lib/libdnnl.so.2",
];

/** True when permission `desc` is granted now (queried, so it never prompts). */
function granted(desc: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(desc).state === "granted";
  } catch {
    return false;
  }
}

/**
 * The library path to open: `LUMEN_DNNL`, else the first existing candidate, else null. Looks
 * only where it may without asking (no permission prompt).
 */
export function findDnnl(): string | null {
  const env = granted({ name: "env", variable: "LUMEN_DNNL" })
    ? Deno.env.get("LUMEN_DNNL")
    : undefined;
  if (env) return env;
  for (const p of DNNL_CANDIDATES) {
    try {
      if (granted({ name: "read", path: p }) && Deno.statSync(p).isFile) return p;
    } catch {
      // not there: next candidate
    }
  }
  // without read permission, the first candidate that the FFI grant names
  return DNNL_CANDIDATES.find((p) => ffiGranted(p)) ?? null;
}

/** True when this process may call into `path` (a scoped or full `--allow-ffi`); never prompts. */
export function ffiGranted(path: string): boolean {
  return granted({ name: "ffi", path });
}

let cached: DnnlLibrary | null = null;

/** Opens oneDNN once; throws one line naming the problem and the fix. */
export function loadDnnl(): DnnlLibrary {
  if (cached) return cached;
  const path = findDnnl();
  if (!path) {
    throw new Error(
      "native backend: libdnnl.so.2 not found (install it with `apt-get install libdnnl2`, " +
        "or set LUMEN_DNNL to its path)",
    );
  }
  if (!ffiGranted(path)) {
    throw new Error(`native backend: needs --allow-ffi=${path} (oneDNN through Deno's FFI)`);
  }
  preferSleepingThreads();
  let lib: Deno.DynamicLibrary<typeof DNNL_SYMBOLS>;
  try {
    lib = Deno.dlopen(path, DNNL_SYMBOLS);
  } catch (e) {
    const msg = (e as Error).message.split("\n")[0];
    const hint = /symbol/i.test(msg)
      ? "the native backend uses oneDNN's 2.x C API: `apt-get install libdnnl2`, or LUMEN_DNNL"
      : `needs --allow-ffi=${path}; install with \`apt-get install libdnnl2\`, or set LUMEN_DNNL`;
    throw new Error(`native backend: cannot open ${path}: ${msg} (${hint})`);
  }
  const v = readInt32s(lib.symbols, lib.symbols.dnnl_version(), 3);
  cached = {
    path,
    version: v ? `${v[0]}.${v[1]}.${v[2]}` : "unknown",
    symbols: lib.symbols,
    close() {
      lib.close();
      cached = null;
    },
  };
  return cached;
}

/**
 * Sets `OMP_WAIT_POLICY=passive` for the OpenMP runtime that oneDNN brings (libgomp reads it
 * when it loads), unless the user set it or `--allow-env` is missing. By default OpenMP's
 * threads spin for a while after every parallel region, and between two oneDNN primitives the
 * backend runs its memory-bound kernels on the wasm pool's threads: the spinning threads then
 * take the cores those kernels need (measured on the NoStripesNet forward, 2 cores: 15–20 % less
 * CPU time, and less wall time on a loaded machine, with passive waiting).
 */
function preferSleepingThreads(): void {
  try {
    if (!granted({ name: "env", variable: "OMP_WAIT_POLICY" })) return;
    if (!Deno.env.get("OMP_WAIT_POLICY")) Deno.env.set("OMP_WAIT_POLICY", "passive");
  } catch {
    // no env access: OpenMP's default policy
  }
}

/** True where oneDNN loads (library present and FFI permitted); never throws or prompts. */
export function dnnlAvailable(): boolean {
  try {
    loadDnnl();
    return true;
  } catch {
    return false;
  }
}

/**
 * Copies `n` int32 values at a native address into a new array through a oneDNN reorder (the
 * one way to read memory under a scoped FFI grant); null where any step fails.
 */
function readInt32s(s: DnnlSymbols, addr: number | bigint, n: number): Int32Array | null {
  const h = new BigUint64Array(1);
  const take = (st: number): bigint | null => (st === 0 ? h[0] : null);
  const engine = take(s.dnnl_engine_create(h, 1, 0n));
  if (engine === null || !addr) return null;
  const d = new Uint8Array(2048);
  s.dnnl_memory_desc_init_by_tag(d, 1, new BigInt64Array([BigInt(n)]), 4, 2);
  const got = new Int32Array(n);
  const src = take(s.dnnl_memory_create(h, d, engine, BigInt(addr)));
  const dst = take(s.dnnl_memory_create_on(h, d, engine, got));
  const pd = take(s.dnnl_reorder_primitive_desc_create(h, d, engine, d, engine, 0n));
  const prim = pd === null ? null : take(s.dnnl_primitive_create(h, pd));
  const stream = take(s.dnnl_stream_create(h, engine, 1));
  let ok = false;
  if (src !== null && dst !== null && prim !== null && stream !== null) {
    const args = new BigUint64Array([1n, src, 17n, dst]);
    ok = s.dnnl_primitive_execute(prim, stream, 2, args) === 0 && s.dnnl_stream_wait(stream) === 0;
  }
  for (const [x, f] of [[prim, "p"], [pd, "d"], [src, "m"], [dst, "m"]] as const) {
    if (x === null) continue;
    if (f === "p") s.dnnl_primitive_destroy(x);
    else if (f === "d") s.dnnl_primitive_desc_destroy(x);
    else s.dnnl_memory_destroy(x);
  }
  if (stream !== null) s.dnnl_stream_destroy(stream);
  s.dnnl_engine_destroy(engine);
  return ok ? got : null;
}

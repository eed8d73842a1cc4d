/**
 * Loads oneDNN (`libdnnl.so.2`) through `Deno.dlopen`. The library is found through the
 * `LUMEN_DNNL` environment variable or the usual names/paths; a missing library is one error
 * line that says how to install it. Needs `--allow-ffi=<library path>` (scoped, never bare).
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

/** The oneDNN C symbols the native backend uses. */
export const DNNL_SYMBOLS = {
  dnnl_version: { parameters: [], result: "pointer" },
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
} as const satisfies Deno.ForeignLibraryInterface;

/** A loaded oneDNN. */
export interface DnnlLibrary {
  /** Path that was opened. */
  path: string;
  /** "major.minor.patch". */
  version: string;
  /** The raw symbols. */
  symbols: Deno.DynamicLibrary<typeof DNNL_SYMBOLS>["symbols"];
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

/** The library path to open: `LUMEN_DNNL`, else the first existing candidate, else null. */
export function findDnnl(): string | null {
  let env: string | undefined;
  try {
    env = Deno.env.get("LUMEN_DNNL");
  } catch {
    env = undefined;
  }
  if (env) return env;
  for (const p of DNNL_CANDIDATES) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch {
      // not there (or not readable): next candidate
    }
  }
  return null;
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
  let lib: Deno.DynamicLibrary<typeof DNNL_SYMBOLS>;
  try {
    lib = Deno.dlopen(path, DNNL_SYMBOLS);
  } catch (e) {
    const msg = (e as Error).message.split("\n")[0];
    throw new Error(
      `native backend: cannot open ${path}: ${msg} (needs --allow-ffi=${path}; ` +
        "install with `apt-get install libdnnl2`)",
    );
  }
  const vp = lib.symbols.dnnl_version();
  let version = "unknown";
  if (vp) {
    const v = new Deno.UnsafePointerView(vp);
    version = `${v.getInt32(0)}.${v.getInt32(4)}.${v.getInt32(8)}`;
  }
  cached = {
    path,
    version,
    symbols: lib.symbols,
    close() {
      lib.close();
      cached = null;
    },
  };
  return cached;
}

/** True where oneDNN loads (library present and FFI permitted); never throws. */
export function dnnlAvailable(): boolean {
  try {
    loadDnnl();
    return true;
  } catch {
    return false;
  }
}

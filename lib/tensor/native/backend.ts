/**
 * The `native` backend: the wasm backend's storage and memory-bound kernels, with the dense
 * kernels on oneDNN (libdnnl.so.2) through Deno's FFI. Every tensor lives in the backend's own
 * shared `WebAssembly.Memory`, whose bytes are native memory at a fixed address (a shared memory
 * never moves): oneDNN reads and writes them in place, so no op copies data between JS and the
 * library. GEMMs (matmul, and any GEMM a wasm kernel issues) go to `dnnl_sgemm`; convolution
 * forward, backward data and backward weights to oneDNN's convolution primitives; everything
 * else runs the wasm kernels on the same memory (identical results to the wasm backend).
 *
 * @example
 * ```ts
 * import { createNativeBackend } from "./backend.ts";
 * const be = createNativeBackend(); // throws one line where oneDNN or --allow-ffi is missing
 * const s = be.alloc(4, "float32", "step");
 * ```
 *
 * @module
 */
import type { Conv2dParams, Storage } from "../backend.ts";
import { WasmBackend, type WasmBackendOptions } from "../wasm/backend.ts";
import { type ConvKind, ConvPlans } from "./conv.ts";
import { type Dnnl, dnnl } from "./dnnl.ts";
import { dnnlAvailable, loadDnnl } from "./library.ts";

/** The native (oneDNN) backend; see the module doc. */
export class NativeBackend extends WasmBackend {
  /** The oneDNN engine and stream. */
  readonly dnnl: Dnnl;
  /** Convolution plans (primitives cached per geometry). */
  readonly convs: ConvPlans;
  /** oneDNN version ("2.6.3"). */
  readonly version: string;
  /** false: convolutions run as the wasm backend's im2col + GEMM (the GEMMs still on oneDNN). */
  convPrimitives = true;
  /**
   * Most scratchpad bytes a convolution primitive may take per call; a geometry whose primitive
   * needs more runs as im2col tiles + `dnnl_sgemm` (the tiles take at most
   * {@link WasmBackend.convScratchBytes}). oneDNN's GEMM-based backward passes of NoStripesNet's
   * wide layers ask for 65–142 MiB (a weight-gradient copy per thread, whole im2col buffers);
   * held beside a training step's activations, that raised its peak memory by about as much.
   */
  maxPrimitiveScratchBytes = 32 << 20;
  private base = 0n;
  private baseBytes = -1;

  constructor(opts: WasmBackendOptions = {}) {
    super(opts);
    // the storage, kernels and threads are the wasm backend's; only the name and dense ops differ
    Object.defineProperty(this, "name", { value: "native" });
    this.version = loadDnnl().version;
    this.dnnl = dnnl();
    this.convs = new ConvPlans(this.dnnl, {
      scratch: (bytes) => {
        const s = this.alloc(Math.ceil(bytes / 4), "float32", "step");
        return { addr: this.addr(s), release: () => this.free(s) };
      },
    });
  }

  /**
   * Native address of the memory's first byte. A shared memory never moves when it grows (its
   * whole range is reserved up front); this is checked after every growth, since addresses taken
   * before a call's scratch allocation are used after it.
   */
  get baseAddress(): bigint {
    const n = this.memory.buffer.byteLength;
    if (n !== this.baseBytes) {
      const base = this.dnnl.addressOf(new Uint8Array(this.memory.buffer, 0, 64));
      if (this.base !== 0n && base !== this.base) {
        throw new Error("native backend: the shared WebAssembly memory moved when it grew");
      }
      this.base = base;
      this.baseBytes = n;
    }
    return this.base;
  }

  /** Native address of a live storage (+ element offset); 0n for null. */
  addr(s: Storage | null, offset = 0): bigint {
    return s === null ? 0n : this.baseAddress + BigInt(this.p(s, offset));
  }

  /** C = alpha·op(A)·op(B) + beta·C on byte offsets of the memory, by `dnnl_sgemm`. */
  override gemm(
    ta: boolean,
    tb: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    beta: number,
    c: number,
    ldc: number,
  ): void {
    if (m === 0 || n === 0) return;
    const base = this.baseAddress;
    const st = this.dnnl.s.dnnl_sgemm_at(
      ta ? 84 : 78, // 'T' : 'N'
      tb ? 84 : 78,
      BigInt(m),
      BigInt(n),
      BigInt(k),
      alpha,
      base + BigInt(a),
      BigInt(lda),
      base + BigInt(b),
      BigInt(ldb),
      beta,
      base + BigInt(c),
      BigInt(ldc),
    );
    if (st !== 0) throw new Error(`native backend: dnnl_sgemm ${m}×${n}×${k} status ${st}`);
  }

  override conv2d(
    x: Storage,
    w: Storage,
    bias: Storage | null,
    y: Storage,
    p: Conv2dParams,
  ): void {
    if (!this.primitive(bias ? "fwd" : "fwdNoBias", p)) return super.conv2d(x, w, bias, y, p);
    this.convs.forward(this.addr(x), this.addr(w), this.addr(bias), this.addr(y), p);
  }

  override conv2dBackwardData(
    dy: Storage,
    w: Storage,
    dx: Storage,
    p: Conv2dParams,
    accumulate: boolean,
  ): void {
    if (!this.primitive("bwdData", p)) {
      return super.conv2dBackwardData(dy, w, dx, p, accumulate);
    }
    const n = p.n * p.cIn * p.h * p.w;
    const out = accumulate ? this.alloc(n, "float32", "step") : dx;
    try {
      this.convs.backwardData(this.addr(dy), this.addr(w), this.addr(out), p);
      if (accumulate) this.addInto(out, dx, n);
    } finally {
      if (out !== dx) this.free(out);
    }
  }

  override conv2dBackwardWeight(
    x: Storage,
    dy: Storage,
    dw: Storage,
    dbias: Storage | null,
    p: Conv2dParams,
    accumulate: boolean,
  ): void {
    if (!this.primitive(dbias ? "bwdWeights" : "bwdWeightsNoBias", p)) {
      return super.conv2dBackwardWeight(x, dy, dw, dbias, p, accumulate);
    }
    const nw = p.cOut * (p.cIn / p.groups) * p.kh * p.kw;
    const ow = accumulate ? this.alloc(nw, "float32", "step") : dw;
    const ob = accumulate && dbias ? this.alloc(p.cOut, "float32", "step") : dbias;
    try {
      this.convs.backwardWeights(this.addr(x), this.addr(dy), this.addr(ow), this.addr(ob), p);
      if (accumulate) {
        this.addInto(ow, dw, nw);
        if (dbias && ob) this.addInto(ob, dbias, p.cOut);
      }
    } finally {
      if (ow !== dw) this.free(ow);
      if (ob && ob !== dbias) this.free(ob);
    }
  }

  /** True when `kind` of `p` runs as a oneDNN primitive (see {@link maxPrimitiveScratchBytes}). */
  private primitive(kind: ConvKind, p: Conv2dParams): boolean {
    if (!this.convPrimitives || empty(p)) return false;
    return this.convs.scratchBytes(kind, p) <= this.maxPrimitiveScratchBytes;
  }

  /** dst += src over n contiguous elements. */
  private addInto(src: Storage, dst: Storage, n: number): void {
    const v = { offset: 0, strides: [1] };
    this.copy(src, v, dst, v, [n], true);
  }

  /** Frees the cached oneDNN primitives (they are rebuilt on demand). */
  clearPlans(): void {
    this.convs.clear();
  }
}

/** True for a convolution with no work (oneDNN refuses zero sizes; the wasm path handles them). */
function empty(p: Conv2dParams): boolean {
  return p.n === 0 || p.cIn === 0 || p.cOut === 0 || p.oh <= 0 || p.ow <= 0;
}

let instance: NativeBackend | null = null;

/**
 * The process's native backend, created on first use; throws one line where oneDNN or the FFI
 * permission is missing.
 *
 * @example
 * ```ts
 * const be = createNativeBackend();
 * ```
 */
export function createNativeBackend(): NativeBackend {
  instance ??= new NativeBackend();
  return instance;
}

/**
 * The native backend where oneDNN loads and the FFI permission is granted, else null (checked
 * without prompting).
 *
 * @example
 * ```ts
 * const be = nativeBackendOrNull() ?? wasmBackend();
 * ```
 */
export function nativeBackendOrNull(): NativeBackend | null {
  return instance ?? (dnnlAvailable() ? createNativeBackend() : null);
}

/**
 * Sets oneDNN's OpenMP thread count for a library not loaded yet (`OMP_NUM_THREADS`, which
 * libgomp reads when it loads); keeps a value the user set, and does nothing without
 * `--allow-env`.
 *
 * @example
 * ```ts
 * setNativeThreads(2);
 * ```
 */
export function setNativeThreads(n: number): void {
  try {
    const desc = { name: "env", variable: "OMP_NUM_THREADS" } as const;
    if (Deno.permissions.querySync(desc).state !== "granted") return;
    if (!Deno.env.get("OMP_NUM_THREADS")) Deno.env.set("OMP_NUM_THREADS", String(n));
  } catch {
    // no env access: the library uses every core
  }
}

/**
 * The `wasm` backend: every CPU tensor lives in ONE shared `WebAssembly.Memory`;
 * a storage is an offset and a size there. Kernels are Rust `no_std` SIMD128 functions
 * (wasm/engine → wasm/engine.wasm) that take byte offsets; GEMMs go to the multi-threaded
 * GEMM pool (lib/tensor/wasm/gemm_pool.ts) when it is started, else to the
 * single-threaded Rust SGEMM.
 *
 * Memory: one coalescing best-fit allocator above the engine's `__heap_base`; `persistent`
 * storages (parameters, optimiser state) stay until freed, `step` storages are all freed by
 * {@link WasmBackend.resetArena}. Using a freed storage throws.
 *
 * @module
 */
import type {
  AdamParams,
  Backend,
  BatchNormParams,
  BinaryOp,
  Conv2dParams,
  GridSampleParams,
  Lifetime,
  MatmulParams,
  MemoryStats,
  Pool2dParams,
  RandomKind,
  ReduceOp,
  SgdParams,
  Storage,
  TensorDType,
  UnaryOp,
  Upsample2dParams,
  View,
} from "../backend.ts";
import { compileWasm } from "../../wasm/load.ts";
import { controlBytes, EnginePool, WORKER_STACK } from "./engine_pool.ts";

const ENGINE_URL = new URL("../../../wasm/engine.wasm", import.meta.url);
const ENGINE_ABI = 2; // bump with wasm/engine/src/lib.rs abi_version when signatures change
/**
 * The compiled engine (top-level await: the module loads with the library). Without read access
 * to it (a tool run for `--help` with no permissions) the error is kept and thrown on first use.
 */
let engineModule: WebAssembly.Module | null = null;
let engineError: unknown = null;
try {
  engineModule = await compileWasm(ENGINE_URL);
} catch (e) {
  engineError = e;
}

const PAGE = 65536;
const MAX_PAGES = 65536; // 4 GiB
const ALIGN = 64;

const UNARY: Record<UnaryOp, number> = {
  neg: 0,
  exp: 1,
  log: 2,
  log1p: 3,
  sqrt: 4,
  rsqrt: 5,
  abs: 6,
  sign: 7,
  square: 8,
  recip: 9,
  relu: 10,
  leakyRelu: 11,
  tanh: 12,
  sigmoid: 13,
  softplus: 14,
  powScalar: 15,
  clamp: 16,
  addScalar: 17,
  mulScalar: 18,
  affine: 19,
};
const BINARY: Record<BinaryOp, number> = {
  add: 0,
  sub: 1,
  mul: 2,
  div: 3,
  pow: 4,
  max: 5,
  min: 6,
  gt: 7,
  ge: 8,
  lt: 9,
  le: 10,
  eq: 11,
  ne: 12,
};
const REDUCE: Record<ReduceOp, number> = { sum: 0, max: 1, min: 2, argmax: 3 };
const RANDOM: Record<RandomKind, number> = { uniform: 0, normal: 1, bernoulli: 2 };
const ACT = { none: 0, relu: 1, leakyRelu: 2 } as const;

/** The engine's exports (pointer arguments are byte offsets). */
interface Engine {
  abi_version(): number;
  __heap_base: WebAssembly.Global;
  fill_f32(out: number, n: number, v: number): void;
  cast_i32_f32(x: number, y: number, n: number): void;
  cast_f32_i32(x: number, y: number, n: number): void;
  copy_strided(src: number, dst: number, prm: number, acc: number): void;
  unary(op: number, x: number, y: number, n: number, a: number, b: number): void;
  unary_backward(
    op: number,
    x: number,
    y: number,
    dy: number,
    dx: number,
    n: number,
    a: number,
    b: number,
    acc: number,
  ): void;
  binary(op: number, a: number, b: number, out: number, prm: number): void;
  where_(c: number, a: number, b: number, out: number, prm: number): void;
  reduce(op: number, x: number, out: number, prm: number): void;
  softmax(x: number, y: number, rows: number, cols: number, log: number): void;
  softmax_backward(
    y: number,
    dy: number,
    dx: number,
    rows: number,
    cols: number,
    log: number,
  ): void;
  adam_step(
    p: number,
    g: number,
    m: number,
    v: number,
    n: number,
    b1: number,
    omb1: number,
    b2: number,
    omb2: number,
    stepSize: number,
    bc2: number,
    eps: number,
    wd: number,
    decay: number,
    decoupled: number,
  ): void;
  sgd_step(
    p: number,
    g: number,
    buf: number,
    n: number,
    lr: number,
    mom: number,
    omd: number,
    wd: number,
    nesterov: number,
    first: number,
  ): void;
  sgemm_scratch_floats(): number;
  sgemm(
    ta: number,
    tb: number,
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
    scratch: number,
  ): void;
  im2col_tile(x: number, col: number, prm: number, p0: number, ncols: number, ldcol: number): void;
  col2im_tile(col: number, dx: number, prm: number, p0: number, ncols: number): void;
  batch_norm(
    x: number,
    g: number,
    b: number,
    rm: number,
    rv: number,
    y: number,
    mean: number,
    invstd: number,
    n: number,
    c: number,
    hw: number,
    eps: number,
    useBatch: number,
    momentum: number,
    act: number,
    slope: number,
    c0: number,
    c1: number,
  ): void;
  batch_norm_backward(
    x: number,
    y: number,
    dy: number,
    g: number,
    mean: number,
    invstd: number,
    dx: number,
    dg: number,
    db: number,
    n: number,
    c: number,
    hw: number,
    useBatch: number,
    act: number,
    slope: number,
    c0: number,
    c1: number,
  ): void;
  max_pool2d(x: number, y: number, idx: number, prm: number): void;
  max_pool2d_backward(dy: number, idx: number, dx: number, prm: number): void;
  avg_pool2d(x: number, y: number, prm: number): void;
  avg_pool2d_backward(dy: number, dx: number, prm: number): void;
  upsample2d(
    x: number,
    y: number,
    planes: number,
    h: number,
    w: number,
    oh: number,
    ow: number,
    mode: number,
    align: number,
    sh: number,
    sw: number,
  ): void;
  upsample2d_backward(
    dy: number,
    dx: number,
    planes: number,
    h: number,
    w: number,
    oh: number,
    ow: number,
    mode: number,
    align: number,
    sh: number,
    sw: number,
  ): void;
  grid_sample(
    x: number,
    g: number,
    y: number,
    n: number,
    c: number,
    h: number,
    w: number,
    oh: number,
    ow: number,
    align: number,
  ): void;
  grid_sample_backward(
    x: number,
    g: number,
    dy: number,
    dx: number,
    dg: number,
    n: number,
    c: number,
    h: number,
    w: number,
    oh: number,
    ow: number,
    align: number,
  ): void;
  random_fill(
    out: number,
    n: number,
    kind: number,
    k0: number,
    k1: number,
    c0: number,
    c1: number,
    p: number,
    scale: number,
  ): void;
}

/** The GEMM interface the backend calls (lib/tensor/wasm/gemm_pool.ts implements it). */
export interface Sgemm {
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    aPtr: number,
    lda: number,
    bPtr: number,
    ldb: number,
    beta: number,
    cPtr: number,
    ldc: number,
  ): void;
}

/** A storage of the wasm backend: `bytes` at byte offset `ptr` of the shared memory. */
export class WasmStorage implements Storage {
  alive = true;
  constructor(
    readonly backend: WasmBackend,
    readonly size: number,
    readonly dtype: TensorDType,
    readonly lifetime: Lifetime,
    readonly ptr: number,
    readonly bytes: number,
  ) {}
}

/** Free blocks sorted by offset, coalesced; best fit. */
class Allocator {
  private starts: number[] = [];
  private sizes: number[] = [];
  top: number;

  constructor(private memory: WebAssembly.Memory, readonly base: number) {
    this.top = base;
  }

  alloc(bytes: number): number {
    const need = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    let best = -1;
    for (let i = 0; i < this.sizes.length; i++) {
      const s = this.sizes[i];
      if (s >= need && (best < 0 || s < this.sizes[best])) {
        best = i;
        if (s === need) break;
      }
    }
    if (best >= 0) {
      const p = this.starts[best];
      if (this.sizes[best] === need) {
        this.starts.splice(best, 1);
        this.sizes.splice(best, 1);
      } else {
        this.starts[best] += need;
        this.sizes[best] -= need;
      }
      return p;
    }
    // Extend: a free block ending at top is reused as the start.
    let p = this.top;
    const last = this.starts.length - 1;
    if (last >= 0 && this.starts[last] + this.sizes[last] === this.top) {
      p = this.starts[last];
      this.starts.pop();
      this.sizes.pop();
    }
    const end = p + need;
    this.ensure(end);
    this.top = end;
    return p;
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / PAGE);
    // grow in steps of at least 1/8 of the current size to limit the number of grows
    const want = Math.max(pages, Math.ceil(have / PAGE / 8));
    const cur = have / PAGE;
    const grow = Math.min(want, MAX_PAGES - cur);
    if (grow < pages) {
      throw new RangeError(
        `wasm backend: out of memory: ${end} bytes needed, the limit is 4 GiB (${have} in use)`,
      );
    }
    this.memory.grow(grow);
  }

  free(ptr: number, bytes: number): void {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    // binary search insert position
    let lo = 0, hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid] < ptr) lo = mid + 1;
      else hi = mid;
    }
    let start = ptr, len = size;
    // merge with previous
    if (lo > 0 && this.starts[lo - 1] + this.sizes[lo - 1] === start) {
      lo--;
      start = this.starts[lo];
      len += this.sizes[lo];
      this.starts.splice(lo, 1);
      this.sizes.splice(lo, 1);
    }
    // merge with next
    if (lo < this.starts.length && start + len === this.starts[lo]) {
      len += this.sizes[lo];
      this.starts.splice(lo, 1);
      this.sizes.splice(lo, 1);
    }
    if (start + len === this.top) {
      this.top = start; // give back to the top
    } else {
      this.starts.splice(lo, 0, start);
      this.sizes.splice(lo, 0, len);
    }
  }
}

/** Options of {@link createWasmBackend}. */
export interface WasmBackendOptions {
  /** Initial memory in MiB (default 64); it grows up to 4 GiB. */
  initialMiB?: number;
}

/** Collapses adjacent axes that are contiguous in every view; drops size-1 axes. */
function collapse(shape: number[], views: number[][]): { shape: number[]; strides: number[][] } {
  const s: number[] = [];
  const st: number[][] = views.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const n = s.length;
    if (n > 0 && views.every((v, k) => st[k][n - 1] === v[i] * shape[i])) {
      s[n - 1] *= shape[i];
      views.forEach((v, k) => (st[k][n - 1] = v[i]));
    } else {
      s.push(shape[i]);
      views.forEach((v, k) => st[k].push(v[i]));
    }
  }
  return { shape: s, strides: st };
}

/** The wasm backend (one per process; see {@link wasmBackend}). */
export class WasmBackend implements Backend {
  readonly name = "wasm";
  readonly memory: WebAssembly.Memory;
  readonly engine: Engine;
  private alloc_: Allocator;
  private stepSet = new Set<WasmStorage>();
  private persistentBytes = 0;
  private stepBytes = 0;
  private peak = 0;
  private prm: number;
  private gemmScratch: number;
  private gemmPool: (Sgemm & { threads: number; close(): void }) | null = null;
  private f32_: Float32Array;
  private i32_: Int32Array;
  private pool: EnginePool | null = null;
  /** Elements below which memory-bound kernels stay on one thread. */
  parallelMin = 1 << 15;
  /** Bytes of im2col scratch a convolution tile may use. */
  convScratchBytes = 32 << 20;

  constructor(opts: WasmBackendOptions = {}) {
    const initial = Math.ceil(((opts.initialMiB ?? 64) << 20) / PAGE);
    this.memory = new WebAssembly.Memory({ initial, maximum: MAX_PAGES, shared: true });
    if (!engineModule) throw engineError;
    const inst = new WebAssembly.Instance(engineModule, { env: { memory: this.memory } });
    this.engine = inst.exports as unknown as Engine;
    if (this.engine.abi_version() !== ENGINE_ABI) {
      throw new Error(
        `wasm/engine.wasm has ABI ${this.engine.abi_version()}, this library expects ${ENGINE_ABI}: rebuild it (deno task build:wasm)`,
      );
    }
    const heapBase = Number(this.engine.__heap_base.value);
    this.alloc_ = new Allocator(this.memory, Math.ceil(heapBase / ALIGN) * ALIGN);
    this.f32_ = new Float32Array(this.memory.buffer);
    this.i32_ = new Int32Array(this.memory.buffer);
    this.prm = this.alloc_.alloc(4096);
    this.gemmScratch = this.alloc_.alloc(this.engine.sgemm_scratch_floats() * 4);
  }

  // ---------------------------------------------------------------- memory

  /** Float32 view of the whole memory (refreshed after growth). */
  get f32(): Float32Array {
    if (
      this.f32_.buffer.byteLength !== this.memory.buffer.byteLength ||
      this.f32_.length * 4 !== this.memory.buffer.byteLength
    ) {
      this.f32_ = new Float32Array(this.memory.buffer);
      this.i32_ = new Int32Array(this.memory.buffer);
    }
    return this.f32_;
  }

  /** Int32 view of the whole memory. */
  get i32(): Int32Array {
    void this.f32;
    return this.i32_;
  }

  /** Reserves raw bytes (persistent) for other modules on this memory (e.g. the GEMM pool). */
  reserveBytes(bytes: number): number {
    this.persistentBytes += bytes;
    return this.alloc_.alloc(bytes);
  }

  alloc(size: number, dtype: TensorDType, lifetime: Lifetime): WasmStorage {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`wasm backend: bad size ${size}`);
    const bytes = size * 4;
    const ptr = this.alloc_.alloc(bytes);
    const s = new WasmStorage(this, size, dtype, lifetime, ptr, bytes);
    if (lifetime === "step") {
      this.stepSet.add(s);
      this.stepBytes += bytes;
    } else {
      this.persistentBytes += bytes;
    }
    const used = this.stepBytes + this.persistentBytes;
    if (used > this.peak) this.peak = used;
    return s;
  }

  free(st: Storage): void {
    const s = st as WasmStorage;
    if (!s.alive) return;
    s.alive = false;
    this.alloc_.free(s.ptr, s.bytes);
    if (s.lifetime === "step") {
      this.stepSet.delete(s);
      this.stepBytes -= s.bytes;
    } else {
      this.persistentBytes -= s.bytes;
    }
  }

  resetArena(): void {
    for (const s of this.stepSet) {
      s.alive = false;
      this.alloc_.free(s.ptr, s.bytes);
    }
    this.stepSet.clear();
    this.stepBytes = 0;
  }

  memoryStats(): MemoryStats {
    return {
      persistentBytes: this.persistentBytes,
      stepBytes: this.stepBytes,
      peakBytes: this.peak,
      reservedBytes: this.memory.buffer.byteLength,
    };
  }

  resetPeak(): void {
    this.peak = this.stepBytes + this.persistentBytes;
  }

  sync(): Promise<void> {
    return Promise.resolve();
  }

  /** Byte offset of a live storage (+ element offset). */
  p(st: Storage | null, offset = 0): number {
    if (st === null) return 0;
    const s = st as WasmStorage;
    if (!s.alive) {
      throw new Error(
        `wasm backend: a ${s.lifetime} tensor of ${s.size} elements was used after it was freed ` +
          `(step tensors are freed by resetArena(); keep persistent copies of what must survive)`,
      );
    }
    if (s.backend !== this) throw new Error("wasm backend: storage of another backend");
    return s.ptr + offset * 4;
  }

  write(st: Storage, data: Float32Array | Int32Array, offset = 0): void {
    const s = st as WasmStorage;
    if (offset + data.length > s.size) {
      throw new RangeError(
        `wasm backend: writing ${data.length} elements at ${offset} into ${s.size}`,
      );
    }
    const base = this.p(s, offset) >> 2;
    if (data instanceof Int32Array) this.i32.set(data, base);
    else this.f32.set(data, base);
  }

  readSync(st: Storage, offset = 0, size?: number): Float32Array | Int32Array {
    const s = st as WasmStorage;
    const n = size ?? s.size - offset;
    const base = this.p(s, offset) >> 2;
    return s.dtype === "int32" ? this.i32.slice(base, base + n) : this.f32.slice(base, base + n);
  }

  read(st: Storage, offset = 0, size?: number): Promise<Float32Array | Int32Array> {
    return Promise.resolve(this.readSync(st, offset, size));
  }

  /** Writes i32 parameters into the parameter block; returns its byte offset. */
  private params(vals: number[]): number {
    if (vals.length > 1024) throw new Error("wasm backend: parameter block overflow");
    this.i32.set(vals, this.prm >> 2);
    return this.prm;
  }

  /** The parameter block of thread t of a parallel call (256 bytes each, after the main one). */
  private paramsAt(t: number, vals: number[]): number {
    if (vals.length > 64) throw new Error("wasm backend: parameter block overflow");
    const at = this.prm + 1024 + t * 256;
    this.i32.set(vals, at >> 2);
    return at;
  }

  /** Threads for `n` elements of memory-bound work. */
  private parts(n: number): number {
    if (!this.pool || n < this.parallelMin) return 1;
    return this.pool.threads;
  }

  /** Splits [0, n) into `parts` ranges aligned to 16 elements. */
  private static ranges(n: number, parts: number): [number, number][] {
    const out: [number, number][] = [];
    const step = Math.ceil(n / parts / 16) * 16;
    for (let s = 0; s < n; s += step) out.push([s, Math.min(n, s + step)]);
    return out;
  }

  /** Runs `fn` once per argument list, on the engine pool when there is more than one. */
  private run(fn: keyof Engine, lists: number[][]): void {
    if (lists.length === 1 || !this.pool) {
      const f = this.engine[fn] as unknown as (...a: number[]) => void;
      for (const a of lists) f(...a);
    } else {
      this.pool.run(fn, lists);
    }
  }

  /**
   * A strided kernel over a collapsed shape, split along axis 0 across threads. `views` are the
   * operands' strides (element offsets in `offs`), `ptrs` their byte offsets; the output (if
   * `outPtr`) is contiguous. Calls fn(...ptrs, [out], prm, ...tail).
   */
  private stridedRun(
    fn: keyof Engine,
    shape: number[],
    strides: number[][],
    offs: number[],
    ptrs: number[],
    outPtr: number | null,
    tail: number[],
  ): void {
    const nd = shape.length;
    const total = shape.reduce((a, b) => a * b, 1);
    const parts = nd === 0 ? 1 : Math.min(this.parts(total), shape[0]);
    if (parts <= 1) {
      const prm = this.params([nd, ...shape, ...strides.flat(), ...offs]);
      this.run(fn, [[...ptrs, ...(outPtr === null ? [] : [outPtr]), prm, ...tail]]);
      return;
    }
    const inner = total / shape[0];
    const lists: number[][] = [];
    const rows = Math.ceil(shape[0] / parts);
    for (let t = 0, r0 = 0; r0 < shape[0]; t++, r0 += rows) {
      const r1 = Math.min(shape[0], r0 + rows);
      const sh = [r1 - r0, ...shape.slice(1)];
      const prm = this.paramsAt(t, [
        nd,
        ...sh,
        ...strides.flat(),
        ...offs.map((o, k) => o + r0 * strides[k][0]),
      ]);
      lists.push([...ptrs, ...(outPtr === null ? [] : [outPtr + r0 * inner * 4]), prm, ...tail]);
    }
    this.run(fn, lists);
  }

  /** {@link stridedRun} for kernels whose first argument is an op code (binary). */
  private stridedRunOp(
    fn: keyof Engine,
    op: number,
    shape: number[],
    strides: number[][],
    offs: number[],
    ptrs: number[],
    outPtr: number,
  ): void {
    const nd = shape.length;
    const total = shape.reduce((a, b) => a * b, 1);
    const parts = nd === 0 ? 1 : Math.min(this.parts(total), shape[0]);
    if (parts <= 1) {
      const prm = this.params([nd, ...shape, ...strides.flat(), ...offs]);
      this.run(fn, [[op, ...ptrs, outPtr, prm]]);
      return;
    }
    const inner = total / shape[0];
    const lists: number[][] = [];
    const rows = Math.ceil(shape[0] / parts);
    for (let t = 0, r0 = 0; r0 < shape[0]; t++, r0 += rows) {
      const r1 = Math.min(shape[0], r0 + rows);
      const prm = this.paramsAt(t, [
        nd,
        r1 - r0,
        ...shape.slice(1),
        ...strides.flat(),
        ...offs.map((o, k) => o + r0 * strides[k][0]),
      ]);
      lists.push([op, ...ptrs, outPtr + r0 * inner * 4, prm]);
    }
    this.run(fn, lists);
  }

  /** Starts the engine's worker threads (memory-bound kernels); `threads` counts this one. */
  async startThreads(threads: number): Promise<void> {
    if (this.pool) {
      if (this.pool.threads === threads) return;
      this.pool.close();
      this.pool = null;
    }
    if (threads <= 1) return;
    const t = Math.min(threads, 12);
    const ctl = this.reserveBytes(controlBytes(t));
    const tops: number[] = [];
    for (let i = 1; i < t; i++) tops.push(this.reserveBytes(WORKER_STACK) + WORKER_STACK);
    this.pool = await EnginePool.create(
      this.memory,
      engineModule!,
      this.engine as unknown as WebAssembly.Exports,
      t,
      ctl,
      tops,
    );
  }

  /** Stops the engine's worker threads. */
  stopThreads(): void {
    this.pool?.close();
    this.pool = null;
  }

  // ---------------------------------------------------------------- copies

  fill(out: Storage, value: number, offset = 0, size?: number): void {
    const n = size ?? out.size - offset;
    if (out.dtype === "int32") {
      const b = this.p(out, offset) >> 2;
      this.i32.fill(value, b, b + n);
    } else {
      const p = this.p(out, offset);
      this.run(
        "fill_f32",
        WasmBackend.ranges(n, this.parts(n)).map(([a, b]) => [p + a * 4, b - a, value]),
      );
    }
  }

  copy(
    src: Storage,
    srcView: View,
    dst: Storage,
    dstView: View,
    shape: number[],
    accumulate: boolean,
  ): void {
    if (shape.some((d) => d === 0)) return;
    const c = collapse(shape, [srcView.strides, dstView.strides]);
    if (c.shape.length > 8) {
      throw new Error(`wasm backend: copy over ${c.shape.length} non-contiguous axes`);
    }
    if (accumulate && dst.dtype === "int32") throw new Error("wasm backend: accumulate into int32");
    this.stridedRun(
      "copy_strided",
      c.shape,
      [c.strides[0], c.strides[1]],
      [srcView.offset, dstView.offset],
      [this.p(src), this.p(dst)],
      null,
      [accumulate ? 1 : 0],
    );
  }

  cast(src: Storage, dst: Storage, size: number): void {
    if (src.dtype === "int32" && dst.dtype === "float32") {
      this.engine.cast_i32_f32(this.p(src), this.p(dst), size);
    } else if (src.dtype === "float32" && dst.dtype === "int32") {
      this.engine.cast_f32_i32(this.p(src), this.p(dst), size);
    } else {
      const v = { offset: 0, strides: [1] };
      this.copy(src, v, dst, v, [size], false);
    }
  }

  // ---------------------------------------------------------------- elementwise

  unary(op: UnaryOp, x: Storage, out: Storage, size: number, alpha = 0, beta = 0): void {
    const px = this.p(x), po = this.p(out);
    this.run(
      "unary",
      WasmBackend.ranges(size, this.parts(size)).map((
        [a, b],
      ) => [UNARY[op], px + a * 4, po + a * 4, b - a, alpha, beta]),
    );
  }

  unaryBackward(
    op: UnaryOp,
    x: Storage | null,
    y: Storage | null,
    dy: Storage,
    dx: Storage,
    size: number,
    alpha = 0,
    beta = 0,
  ): void {
    const px = this.p(x), py = this.p(y), pg = this.p(dy), pd = this.p(dx);
    const off = (p: number, a: number) => (p === 0 ? 0 : p + a * 4);
    this.run(
      "unary_backward",
      WasmBackend.ranges(size, this.parts(size)).map((
        [a, b],
      ) => [UNARY[op], off(px, a), off(py, a), pg + a * 4, pd + a * 4, b - a, alpha, beta, 0]),
    );
  }

  binary(
    op: BinaryOp,
    a: Storage,
    aView: View,
    b: Storage,
    bView: View,
    out: Storage,
    shape: number[],
  ): void {
    if (shape.some((d) => d === 0)) return;
    const outStrides = stridesOf(shape);
    const c = collapse(shape, [aView.strides, bView.strides, outStrides]);
    if (c.shape.length > 8) throw new Error(`wasm backend: binary over ${c.shape.length} axes`);
    const pa = this.p(a), pb = this.p(b), po = this.p(out);
    this.stridedRunOp(
      "binary",
      BINARY[op],
      c.shape,
      [c.strides[0], c.strides[1]],
      [aView.offset, bView.offset],
      [pa, pb],
      po,
    );
  }

  where(
    cond: Storage,
    condView: View,
    a: Storage,
    aView: View,
    b: Storage,
    bView: View,
    out: Storage,
    shape: number[],
  ): void {
    if (shape.some((d) => d === 0)) return;
    const c = collapse(shape, [condView.strides, aView.strides, bView.strides, stridesOf(shape)]);
    this.stridedRun(
      "where_",
      c.shape,
      [c.strides[0], c.strides[1], c.strides[2]],
      [condView.offset, aView.offset, bView.offset],
      [this.p(cond), this.p(a), this.p(b)],
      this.p(out),
      [],
    );
  }

  reduce(op: ReduceOp, x: Storage, shape: number[], axes: number[], out: Storage): void {
    const st = stridesOf(shape);
    const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const ck = collapse(kept.map((i) => shape[i]), [kept.map((i) => st[i])]);
    // argmax needs the flat index in the reduced block: no collapsing needed there (one axis).
    const cr = op === "argmax"
      ? { shape: axes.map((i) => shape[i]), strides: [axes.map((i) => st[i])] }
      : collapse(axes.map((i) => shape[i]), [axes.map((i) => st[i])]);
    if (ck.shape.length > 8 || cr.shape.length > 8) {
      throw new Error("wasm backend: reduce over too many axes");
    }
    const prm = this.params([
      ck.shape.length,
      ...ck.shape,
      ...ck.strides[0],
      cr.shape.length,
      ...cr.shape,
      ...cr.strides[0],
    ]);
    this.engine.reduce(REDUCE[op], this.p(x), this.p(out), prm);
  }

  // ---------------------------------------------------------------- dense

  /** Installs (or removes, with null) the multi-threaded GEMM. */
  setGemmPool(pool: (Sgemm & { threads: number; close(): void }) | null): void {
    this.gemmPool = pool;
  }

  /** True when the GEMM pool is installed. */
  get hasGemmPool(): boolean {
    return this.gemmPool !== null;
  }

  /** Stops the GEMM pool's workers (the Rust SGEMM takes over). */
  closeGemmPool(): void {
    this.gemmPool?.close();
    this.gemmPool = null;
  }

  /** Threads the GEMMs use. */
  get threads(): number {
    return this.gemmPool?.threads ?? 1;
  }

  /** C = alpha·op(A)·op(B) + beta·C on byte offsets (pool when started, else Rust). */
  gemm(
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
    if (this.gemmPool) {
      this.gemmPool.sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    } else {
      this.engine.sgemm(
        ta ? 1 : 0,
        tb ? 1 : 0,
        m,
        n,
        k,
        alpha,
        a,
        lda,
        b,
        ldb,
        beta,
        c,
        ldc,
        this.gemmScratch,
      );
    }
  }

  matmul(a: Storage, b: Storage, c: Storage, p: MatmulParams): void {
    const lda = p.transA ? p.m : p.k;
    const ldb = p.transB ? p.k : p.n;
    const pa = this.p(a, p.offsetA ?? 0),
      pb = this.p(b, p.offsetB ?? 0),
      pc = this.p(c, p.offsetC ?? 0);
    for (let i = 0; i < p.batch; i++) {
      this.gemm(
        p.transA,
        p.transB,
        p.m,
        p.n,
        p.k,
        p.alpha,
        pa + i * p.strideA * 4,
        lda,
        pb + i * p.strideB * 4,
        ldb,
        p.beta,
        pc + i * p.strideC * 4,
        p.n,
      );
    }
  }

  private convPrm(p: Conv2dParams): number {
    return this.params([
      p.cIn,
      p.h,
      p.w,
      p.kh,
      p.kw,
      p.oh,
      p.ow,
      p.strideH,
      p.strideW,
      p.padH,
      p.padW,
      p.dilH,
      p.dilW,
    ]);
  }

  /** im2col of one tile, columns split across threads. */
  private im2col(x: number, col: number, p: Conv2dParams, p0: number, nc: number, K: number): void {
    const parts = this.parts(K * nc);
    if (parts <= 1) {
      this.engine.im2col_tile(x, col, this.convPrm(p), p0, nc, nc);
      return;
    }
    const prm = this.convPrm(p);
    this.run(
      "im2col_tile",
      WasmBackend.ranges(nc, parts).map(([a, b]) => [x, col + a * 4, prm, p0 + a, b - a, nc]),
    );
  }

  /** col2im of one tile, input channels split across threads (their planes do not overlap). */
  private col2im(col: number, dx: number, p: Conv2dParams, p0: number, nc: number): void {
    const kk = p.kh * p.kw;
    const parts = Math.min(this.parts(p.cIn * kk * nc), p.cIn);
    if (parts <= 1) {
      this.engine.col2im_tile(col, dx, this.convPrm(p), p0, nc);
      return;
    }
    const per = Math.ceil(p.cIn / parts);
    const lists: number[][] = [];
    for (let t = 0, c0 = 0; c0 < p.cIn; t++, c0 += per) {
      const c1 = Math.min(p.cIn, c0 + per);
      const prm = this.paramsAt(t, [
        c1 - c0,
        p.h,
        p.w,
        p.kh,
        p.kw,
        p.oh,
        p.ow,
        p.strideH,
        p.strideW,
        p.padH,
        p.padW,
        p.dilH,
        p.dilW,
      ]);
      lists.push([col + c0 * kk * nc * 4, dx + c0 * p.h * p.w * 4, prm, p0, nc]);
    }
    this.run("col2im_tile", lists);
  }

  /** Channel ranges of a per-channel kernel over n·c·hw elements. */
  private channelRanges(c: number, total: number): [number, number][] {
    const parts = Math.min(this.parts(total), c);
    const per = Math.ceil(c / parts);
    const out: [number, number][] = [];
    for (let c0 = 0; c0 < c; c0 += per) out.push([c0, Math.min(c, c0 + per)]);
    return out;
  }

  private static pointwise(p: Conv2dParams): boolean {
    return p.kh === 1 && p.kw === 1 && p.strideH === 1 && p.strideW === 1 && p.padH === 0 &&
      p.padW === 0;
  }

  /** Output pixels per im2col tile. */
  private tileCols(K: number, P: number): number {
    const cols = Math.floor(Math.max(this.convScratchBytes, K * 64 * 4) / (K * 4));
    return Math.max(1, Math.min(P, cols >= 16 ? cols - (cols % 8) : cols));
  }

  private checkGroups(p: Conv2dParams): void {
    if (p.groups !== 1) throw new Error(`wasm backend: conv2d groups=${p.groups} is not supported`);
  }

  conv2d(x: Storage, w: Storage, bias: Storage | null, y: Storage, p: Conv2dParams): void {
    this.checkGroups(p);
    const K = p.cIn * p.kh * p.kw, P = p.oh * p.ow, HW = p.h * p.w;
    if (bias) {
      this.copy(
        bias,
        { offset: 0, strides: [0, 1, 0] },
        y,
        { offset: 0, strides: [p.cOut * P, P, 1] },
        [p.n, p.cOut, P],
        false,
      );
    }
    const beta = bias ? 1 : 0;
    const px = this.p(x), pw = this.p(w), py = this.p(y);
    if (WasmBackend.pointwise(p)) {
      for (let i = 0; i < p.n; i++) {
        this.gemm(
          false,
          false,
          p.cOut,
          P,
          K,
          1,
          pw,
          K,
          px + i * p.cIn * HW * 4,
          P,
          beta,
          py + i * p.cOut * P * 4,
          P,
        );
      }
      return;
    }
    const T = this.tileCols(K, P);
    const col = this.alloc(K * T, "float32", "step");
    try {
      for (let i = 0; i < p.n; i++) {
        const xi = px + i * p.cIn * HW * 4, yi = py + i * p.cOut * P * 4;
        for (let p0 = 0; p0 < P; p0 += T) {
          const nc = Math.min(T, P - p0);
          this.im2col(xi, this.p(col), p, p0, nc, K);
          this.gemm(false, false, p.cOut, nc, K, 1, pw, K, this.p(col), nc, beta, yi + p0 * 4, P);
        }
      }
    } finally {
      this.free(col);
    }
  }

  conv2dBackwardData(
    dy: Storage,
    w: Storage,
    dx: Storage,
    p: Conv2dParams,
    accumulate: boolean,
  ): void {
    this.checkGroups(p);
    const K = p.cIn * p.kh * p.kw, P = p.oh * p.ow, HW = p.h * p.w;
    const pdy = this.p(dy), pw = this.p(w), pdx = this.p(dx);
    if (WasmBackend.pointwise(p)) {
      for (let i = 0; i < p.n; i++) {
        this.gemm(
          true,
          false,
          K,
          P,
          p.cOut,
          1,
          pw,
          K,
          pdy + i * p.cOut * P * 4,
          P,
          accumulate ? 1 : 0,
          pdx + i * p.cIn * HW * 4,
          P,
        );
      }
      return;
    }
    if (!accumulate) this.engine.fill_f32(pdx, p.n * p.cIn * HW, 0);
    const T = this.tileCols(K, P);
    const col = this.alloc(K * T, "float32", "step");
    try {
      for (let i = 0; i < p.n; i++) {
        const dyi = pdy + i * p.cOut * P * 4, dxi = pdx + i * p.cIn * HW * 4;
        for (let p0 = 0; p0 < P; p0 += T) {
          const nc = Math.min(T, P - p0);
          this.gemm(true, false, K, nc, p.cOut, 1, pw, K, dyi + p0 * 4, P, 0, this.p(col), nc);
          this.col2im(this.p(col), dxi, p, p0, nc);
        }
      }
    } finally {
      this.free(col);
    }
  }

  conv2dBackwardWeight(
    x: Storage,
    dy: Storage,
    dw: Storage,
    dbias: Storage | null,
    p: Conv2dParams,
    accumulate: boolean,
  ): void {
    this.checkGroups(p);
    const K = p.cIn * p.kh * p.kw, P = p.oh * p.ow, HW = p.h * p.w;
    const px = this.p(x), pdy = this.p(dy), pdw = this.p(dw);
    let first = !accumulate;
    if (WasmBackend.pointwise(p)) {
      for (let i = 0; i < p.n; i++) {
        this.gemm(
          false,
          true,
          p.cOut,
          K,
          P,
          1,
          pdy + i * p.cOut * P * 4,
          P,
          px + i * p.cIn * HW * 4,
          P,
          first ? 0 : 1,
          pdw,
          K,
        );
        first = false;
      }
    } else {
      const T = this.tileCols(K, P);
      const col = this.alloc(K * T, "float32", "step");
      try {
        for (let i = 0; i < p.n; i++) {
          const xi = px + i * p.cIn * HW * 4, dyi = pdy + i * p.cOut * P * 4;
          for (let p0 = 0; p0 < P; p0 += T) {
            const nc = Math.min(T, P - p0);
            this.im2col(xi, this.p(col), p, p0, nc, K);
            this.gemm(
              false,
              true,
              p.cOut,
              K,
              nc,
              1,
              dyi + p0 * 4,
              P,
              this.p(col),
              nc,
              first ? 0 : 1,
              pdw,
              K,
            );
            first = false;
          }
        }
      } finally {
        this.free(col);
      }
    }
    if (p.n === 0 || P === 0) {
      if (!accumulate) this.engine.fill_f32(pdw, p.cOut * K, 0);
    }
    if (dbias) {
      const tmp = accumulate ? this.alloc(p.cOut, "float32", "step") : dbias;
      const prm = this.params([1, p.cOut, P, 2, p.n, P, p.cOut * P, 1]);
      this.engine.reduce(0, pdy, this.p(tmp), prm);
      if (accumulate) {
        const v = { offset: 0, strides: [1] };
        this.copy(tmp, v, dbias, v, [p.cOut], true);
        this.free(tmp);
      }
    }
  }

  // ---------------------------------------------------------------- normalisation

  batchNorm(
    x: Storage,
    gamma: Storage | null,
    beta: Storage | null,
    runningMean: Storage | null,
    runningVar: Storage | null,
    y: Storage,
    mean: Storage,
    invstd: Storage,
    p: BatchNormParams,
  ): void {
    const a = [
      this.p(x),
      this.p(gamma),
      this.p(beta),
      this.p(runningMean),
      this.p(runningVar),
      this.p(y),
      this.p(mean),
      this.p(invstd),
      p.n,
      p.c,
      p.hw,
      p.eps,
      p.useBatchStats ? 1 : 0,
      p.momentum,
      ACT[p.activation],
      p.slope,
    ];
    this.run(
      "batch_norm",
      this.channelRanges(p.c, p.n * p.c * p.hw).map(([c0, c1]) => [...a, c0, c1]),
    );
  }

  batchNormBackward(
    x: Storage,
    y: Storage,
    dy: Storage,
    gamma: Storage | null,
    mean: Storage,
    invstd: Storage,
    dx: Storage,
    dgamma: Storage | null,
    dbeta: Storage | null,
    p: BatchNormParams,
  ): void {
    const a = [
      this.p(x),
      this.p(y),
      this.p(dy),
      this.p(gamma),
      this.p(mean),
      this.p(invstd),
      this.p(dx),
      this.p(dgamma),
      this.p(dbeta),
      p.n,
      p.c,
      p.hw,
      p.useBatchStats ? 1 : 0,
      ACT[p.activation],
      p.slope,
    ];
    this.run(
      "batch_norm_backward",
      this.channelRanges(p.c, p.n * p.c * p.hw).map(([c0, c1]) => [...a, c0, c1]),
    );
  }

  // ---------------------------------------------------------------- pooling, resampling

  private poolPrm(p: Pool2dParams): number {
    return this.params([
      p.n * p.c,
      p.h,
      p.w,
      p.oh,
      p.ow,
      p.kh,
      p.kw,
      p.strideH,
      p.strideW,
      p.padH,
      p.padW,
      p.dilH,
      p.dilW,
    ]);
  }

  maxPool2d(x: Storage, y: Storage, indices: Storage, p: Pool2dParams): void {
    this.engine.max_pool2d(this.p(x), this.p(y), this.p(indices), this.poolPrm(p));
  }

  maxPool2dBackward(dy: Storage, indices: Storage, dx: Storage, p: Pool2dParams): void {
    this.engine.max_pool2d_backward(this.p(dy), this.p(indices), this.p(dx), this.poolPrm(p));
  }

  avgPool2d(x: Storage, y: Storage, p: Pool2dParams): void {
    this.engine.avg_pool2d(this.p(x), this.p(y), this.poolPrm(p));
  }

  avgPool2dBackward(dy: Storage, dx: Storage, p: Pool2dParams): void {
    this.engine.avg_pool2d_backward(this.p(dy), this.p(dx), this.poolPrm(p));
  }

  upsample2d(x: Storage, y: Storage, p: Upsample2dParams): void {
    this.engine.upsample2d(
      this.p(x),
      this.p(y),
      p.n * p.c,
      p.h,
      p.w,
      p.oh,
      p.ow,
      p.mode === "nearest" ? 0 : 1,
      p.alignCorners ? 1 : 0,
      p.scaleH,
      p.scaleW,
    );
  }

  upsample2dBackward(dy: Storage, dx: Storage, p: Upsample2dParams): void {
    this.engine.upsample2d_backward(
      this.p(dy),
      this.p(dx),
      p.n * p.c,
      p.h,
      p.w,
      p.oh,
      p.ow,
      p.mode === "nearest" ? 0 : 1,
      p.alignCorners ? 1 : 0,
      p.scaleH,
      p.scaleW,
    );
  }

  gridSample(x: Storage, grid: Storage, y: Storage, p: GridSampleParams): void {
    this.engine.grid_sample(
      this.p(x),
      this.p(grid),
      this.p(y),
      p.n,
      p.c,
      p.h,
      p.w,
      p.oh,
      p.ow,
      p.alignCorners ? 1 : 0,
    );
  }

  gridSampleBackward(
    x: Storage,
    grid: Storage,
    dy: Storage,
    dx: Storage | null,
    dgrid: Storage | null,
    p: GridSampleParams,
  ): void {
    this.engine.grid_sample_backward(
      this.p(x),
      this.p(grid),
      this.p(dy),
      this.p(dx),
      this.p(dgrid),
      p.n,
      p.c,
      p.h,
      p.w,
      p.oh,
      p.ow,
      p.alignCorners ? 1 : 0,
    );
  }

  // ---------------------------------------------------------------- softmax, random, optimisers

  softmax(x: Storage, y: Storage, rows: number, cols: number, log: boolean): void {
    this.engine.softmax(this.p(x), this.p(y), rows, cols, log ? 1 : 0);
  }

  softmaxBackward(
    y: Storage,
    dy: Storage,
    dx: Storage,
    rows: number,
    cols: number,
    log: boolean,
  ): void {
    this.engine.softmax_backward(this.p(y), this.p(dy), this.p(dx), rows, cols, log ? 1 : 0);
  }

  random(
    out: Storage,
    size: number,
    kind: RandomKind,
    seedLo: number,
    seedHi: number,
    counter: number,
    p = 0.5,
    scale = 1,
  ): void {
    if (!Number.isSafeInteger(counter) || counter < 0) {
      throw new RangeError(`random: bad counter ${counter}`);
    }
    const lo = counter % 4294967296, hi = Math.floor(counter / 4294967296);
    this.engine.random_fill(
      this.p(out),
      size,
      RANDOM[kind],
      seedLo >>> 0,
      seedHi >>> 0,
      lo >>> 0,
      hi >>> 0,
      p,
      scale,
    );
  }

  adamStep(
    param: Storage,
    grad: Storage,
    m: Storage,
    v: Storage,
    size: number,
    p: AdamParams,
  ): void {
    const bc1 = 1 - Math.pow(p.beta1, p.step);
    const bc2 = 1 - Math.pow(p.beta2, p.step);
    const pp = this.p(param), pg = this.p(grad), pm = this.p(m), pv = this.p(v);
    const rest = [
      p.beta1,
      1 - p.beta1,
      p.beta2,
      1 - p.beta2,
      p.lr / bc1,
      Math.sqrt(bc2),
      p.eps,
      p.weightDecay,
      1 - p.lr * p.weightDecay,
      p.decoupled ? 1 : 0,
    ];
    this.run(
      "adam_step",
      WasmBackend.ranges(size, this.parts(size)).map((
        [a, b],
      ) => [pp + a * 4, pg + a * 4, pm + a * 4, pv + a * 4, b - a, ...rest]),
    );
  }

  sgdStep(param: Storage, grad: Storage, buf: Storage | null, size: number, p: SgdParams): void {
    if (p.momentum !== 0 && !buf) throw new Error("sgdStep: momentum needs a buffer");
    const pp = this.p(param), pg = this.p(grad), pb = this.p(buf);
    const rest = [
      p.lr,
      p.momentum,
      1 - p.dampening,
      p.weightDecay,
      p.nesterov ? 1 : 0,
      p.first ? 1 : 0,
    ];
    this.run(
      "sgd_step",
      WasmBackend.ranges(size, this.parts(size)).map((
        [a, b],
      ) => [pp + a * 4, pg + a * 4, pb === 0 ? 0 : pb + a * 4, b - a, ...rest]),
    );
  }
}

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

let instance: WasmBackend | null = null;

/** The process's wasm backend (created on first use, single-threaded GEMM until threads start). */
export function wasmBackend(): WasmBackend {
  if (!instance) instance = new WasmBackend();
  return instance;
}

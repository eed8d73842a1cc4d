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
 * This file holds the storage, the launch helpers and the threads; the kernels are in one file
 * per op family, named as in lib/tensor/ops/ (shape, elementwise, reduce, linalg, conv, norm,
 * pool, resample, softmax, random, optim), each a set of functions of this backend.
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
import { type Engine, ENGINE_ABI, engineModule } from "./abi.ts";
import { controlBytes, EnginePool, WORKER_STACK } from "./engine_pool.ts";
import { ALIGN, Allocator, MAX_PAGES, PAGE, WasmStorage } from "./memory.ts";
import * as shape from "./shape.ts";
import * as elementwise from "./elementwise.ts";
import * as reduce from "./reduce.ts";
import * as linalg from "./linalg.ts";
import * as conv from "./conv.ts";
import * as norm from "./norm.ts";
import * as pool from "./pool.ts";
import * as resample from "./resample.ts";
import * as softmax from "./softmax.ts";
import * as random from "./random.ts";
import * as optim from "./optim.ts";

export { WasmStorage } from "./memory.ts";
export type { Sgemm, ThreadedSgemm } from "./linalg.ts";

/** Options of {@link WasmBackend}'s constructor. */
export interface WasmBackendOptions {
  /** Initial memory in MiB (default 64); it grows up to 4 GiB. */
  initialMiB?: number;
}

/** The wasm backend (one per process; see {@link wasmBackend}). */
export class WasmBackend implements Backend {
  readonly name = "wasm";
  readonly memory: WebAssembly.Memory;
  readonly engine: Engine;
  /** Byte offset of the Rust SGEMM's packing scratch. */
  readonly gemmScratch: number;
  private alloc_: Allocator;
  private stepSet = new Set<WasmStorage>();
  private persistentBytes = 0;
  private stepBytes = 0;
  private peak = 0;
  private prm: number;
  private sgemmPool: linalg.ThreadedSgemm | null = null;
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
    const inst = new WebAssembly.Instance(engineModule(), { env: { memory: this.memory } });
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

  /** Byte offset of a live storage (+ element offset); 0 for null. */
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

  // ---------------------------------------------------------------- launching (family files)

  /** Writes i32 parameters into the parameter block; returns its byte offset. */
  params(vals: number[]): number {
    if (vals.length > 1024) throw new Error("wasm backend: parameter block overflow");
    this.i32.set(vals, this.prm >> 2);
    return this.prm;
  }

  /** The parameter block of thread t of a parallel call (256 bytes each, after the main one). */
  paramsAt(t: number, vals: number[]): number {
    if (vals.length > 64) throw new Error("wasm backend: parameter block overflow");
    const at = this.prm + 1024 + t * 256;
    this.i32.set(vals, at >> 2);
    return at;
  }

  /** Threads for `n` elements of memory-bound work. */
  parts(n: number): number {
    if (!this.pool || n < this.parallelMin) return 1;
    return this.pool.threads;
  }

  /** Runs `fn` once per argument list, on the engine pool when there is more than one. */
  run(fn: keyof Engine, lists: number[][]): void {
    if (lists.length === 1 || !this.pool) {
      const f = this.engine[fn] as unknown as (...a: number[]) => void;
      for (const a of lists) f(...a);
    } else {
      this.pool.run(fn, lists);
    }
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
      engineModule(),
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

  // ---------------------------------------------------------------- GEMM pool

  /** Installs (or removes, with null) the multi-threaded GEMM. */
  setGemmPool(pool: linalg.ThreadedSgemm | null): void {
    this.sgemmPool = pool;
  }

  /** The installed GEMM pool, or null (the Rust SGEMM runs). */
  get gemmPool(): linalg.ThreadedSgemm | null {
    return this.sgemmPool;
  }

  /** True when the GEMM pool is installed. */
  get hasGemmPool(): boolean {
    return this.sgemmPool !== null;
  }

  /** Stops the GEMM pool's workers (the Rust SGEMM takes over). */
  closeGemmPool(): void {
    this.sgemmPool?.close();
    this.sgemmPool = null;
  }

  /** Threads the GEMMs use. */
  get threads(): number {
    return this.sgemmPool?.threads ?? 1;
  }

  // ---------------------------------------------------------------- shape (copies)

  fill(out: Storage, value: number, offset = 0, size?: number): void {
    shape.fill(this, out, value, offset, size);
  }

  copy(
    src: Storage,
    srcView: View,
    dst: Storage,
    dstView: View,
    dims: number[],
    accumulate: boolean,
  ): void {
    shape.copy(this, src, srcView, dst, dstView, dims, accumulate);
  }

  cast(src: Storage, dst: Storage, size: number): void {
    shape.cast(this, src, dst, size);
  }

  // ---------------------------------------------------------------- elementwise

  unary(op: UnaryOp, x: Storage, out: Storage, size: number, alpha = 0, beta = 0): void {
    elementwise.unary(this, op, x, out, size, alpha, beta);
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
    elementwise.unaryBackward(this, op, x, y, dy, dx, size, alpha, beta);
  }

  binary(
    op: BinaryOp,
    a: Storage,
    aView: View,
    b: Storage,
    bView: View,
    out: Storage,
    dims: number[],
  ): void {
    elementwise.binary(this, op, a, aView, b, bView, out, dims);
  }

  where(
    cond: Storage,
    condView: View,
    a: Storage,
    aView: View,
    b: Storage,
    bView: View,
    out: Storage,
    dims: number[],
  ): void {
    elementwise.where(this, cond, condView, a, aView, b, bView, out, dims);
  }

  // ---------------------------------------------------------------- reduce

  reduce(op: ReduceOp, x: Storage, dims: number[], axes: number[], out: Storage): void {
    reduce.reduce(this, op, x, dims, axes, out);
  }

  // ---------------------------------------------------------------- linalg

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
    linalg.gemm(this, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }

  matmul(a: Storage, b: Storage, c: Storage, p: MatmulParams): void {
    linalg.matmul(this, a, b, c, p);
  }

  // ---------------------------------------------------------------- conv

  conv2d(x: Storage, w: Storage, bias: Storage | null, y: Storage, p: Conv2dParams): void {
    conv.conv2d(this, x, w, bias, y, p);
  }

  conv2dBackwardData(
    dy: Storage,
    w: Storage,
    dx: Storage,
    p: Conv2dParams,
    accumulate: boolean,
  ): void {
    conv.conv2dBackwardData(this, dy, w, dx, p, accumulate);
  }

  conv2dBackwardWeight(
    x: Storage,
    dy: Storage,
    dw: Storage,
    dbias: Storage | null,
    p: Conv2dParams,
    accumulate: boolean,
  ): void {
    conv.conv2dBackwardWeight(this, x, dy, dw, dbias, p, accumulate);
  }

  // ---------------------------------------------------------------- norm

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
    norm.batchNorm(this, x, gamma, beta, runningMean, runningVar, y, mean, invstd, p);
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
    norm.batchNormBackward(this, x, y, dy, gamma, mean, invstd, dx, dgamma, dbeta, p);
  }

  // ---------------------------------------------------------------- pool

  maxPool2d(x: Storage, y: Storage, indices: Storage, p: Pool2dParams): void {
    pool.maxPool2d(this, x, y, indices, p);
  }

  maxPool2dBackward(dy: Storage, indices: Storage, dx: Storage, p: Pool2dParams): void {
    pool.maxPool2dBackward(this, dy, indices, dx, p);
  }

  avgPool2d(x: Storage, y: Storage, p: Pool2dParams): void {
    pool.avgPool2d(this, x, y, p);
  }

  avgPool2dBackward(dy: Storage, dx: Storage, p: Pool2dParams): void {
    pool.avgPool2dBackward(this, dy, dx, p);
  }

  // ---------------------------------------------------------------- resample

  upsample2d(x: Storage, y: Storage, p: Upsample2dParams): void {
    resample.upsample2d(this, x, y, p);
  }

  upsample2dBackward(dy: Storage, dx: Storage, p: Upsample2dParams): void {
    resample.upsample2dBackward(this, dy, dx, p);
  }

  gridSample(x: Storage, grid: Storage, y: Storage, p: GridSampleParams): void {
    resample.gridSample(this, x, grid, y, p);
  }

  gridSampleBackward(
    x: Storage,
    grid: Storage,
    dy: Storage,
    dx: Storage | null,
    dgrid: Storage | null,
    p: GridSampleParams,
  ): void {
    resample.gridSampleBackward(this, x, grid, dy, dx, dgrid, p);
  }

  // ---------------------------------------------------------------- softmax

  softmax(x: Storage, y: Storage, rows: number, cols: number, log: boolean): void {
    softmax.softmax(this, x, y, rows, cols, log);
  }

  softmaxBackward(
    y: Storage,
    dy: Storage,
    dx: Storage,
    rows: number,
    cols: number,
    log: boolean,
  ): void {
    softmax.softmaxBackward(this, y, dy, dx, rows, cols, log);
  }

  // ---------------------------------------------------------------- random

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
    random.random(this, out, size, kind, seedLo, seedHi, counter, p, scale);
  }

  // ---------------------------------------------------------------- optim

  adamStep(
    param: Storage,
    grad: Storage,
    m: Storage,
    v: Storage,
    size: number,
    p: AdamParams,
  ): void {
    optim.adamStep(this, param, grad, m, v, size, p);
  }

  sgdStep(param: Storage, grad: Storage, buf: Storage | null, size: number, p: SgdParams): void {
    optim.sgdStep(this, param, grad, buf, size, p);
  }
}

let instance: WasmBackend | null = null;

/**
 * The process's wasm backend (created on first use, single-threaded GEMM until threads start).
 *
 * @example
 * const be = wasmBackend();
 * const s = be.alloc(4, "float32", "step");
 */
export function wasmBackend(): WasmBackend {
  if (!instance) instance = new WasmBackend();
  return instance;
}

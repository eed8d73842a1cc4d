/**
 * The `webgpu` tensor backend: the {@link Backend} interface on WGSL kernels (`kernels/*.wgsl`)
 * through {@link GpuRuntime}.
 *
 * Tensors stay resident in GPU buffers; kernels are recorded into one command encoder and
 * submitted in batches; only {@link WebGpuBackend.read} waits for the device. Every kernel
 * sums in an order fixed by the shapes alone (no float atomics), so the same seed and inputs
 * give the same bytes on the same device.
 *
 * This file holds the storage and the launch helpers; the kernels are in one file per op family,
 * named as in lib/tensor/ops/ and kernels/ (shape, elementwise, reduce, linalg, conv, norm, pool,
 * resample, softmax, random, optim), each a set of functions of this backend.
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
import { type Binding, GpuRuntime, type KernelSpec, type Params } from "./runtime.ts";
import type { GpuContext } from "./device.ts";
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

export { mergeAxes } from "./axes.ts";

/** Threads per workgroup of the 1-D kernels. */
const WG = 256;

/**
 * A storage: one pooled GPU buffer (null once freed).
 *
 * @example
 * const s = be.alloc(16, "float32", "step") as GpuStorage;
 * s.buf; // its GPUBuffer
 */
export class GpuStorage implements Storage {
  constructor(
    readonly backend: WebGpuBackend,
    readonly size: number,
    readonly dtype: TensorDType,
    readonly lifetime: Lifetime,
    public buf: GPUBuffer | null,
  ) {}
}

/** The WebGPU backend. Create with {@link WebGpuBackend.create}. */
export class WebGpuBackend implements Backend {
  readonly name = "webgpu";
  readonly rt: GpuRuntime;
  private readonly steps = new Set<GpuStorage>();
  private persistentBytes = 0;
  private stepBytes = 0;
  private peakBytes = 0;
  private readonly dummies: GPUBuffer[] = [];
  /** Column tiles per conv dispatch (the device limit; tests lower it to exercise splitting). */
  tileChunk = Infinity;

  private constructor(rt: GpuRuntime) {
    this.rt = rt;
  }

  /** Acquires the device (or uses `ctx`) and loads the kernels. */
  static async create(ctx?: GpuContext): Promise<WebGpuBackend> {
    return new WebGpuBackend(await GpuRuntime.create(ctx));
  }

  /** True when the adapter is a software fallback (llvmpipe): `auto` then prefers wasm. */
  get isFallbackAdapter(): boolean {
    return this.rt.ctx.fallback;
  }

  /** Same as {@link isFallbackAdapter}. */
  get fallback(): boolean {
    return this.rt.ctx.fallback;
  }

  /** Adapter description. */
  get description(): string {
    return this.rt.ctx.description;
  }

  // ------------------------------------------------------------------------------- storage

  /** The live GPU buffer of a storage of this backend. */
  b(s: Storage): GPUBuffer {
    const g = s as GpuStorage;
    if (g.backend !== this) {
      throw new Error(
        `webgpu: storage belongs to backend "${s.backend.name}", not this webgpu device`,
      );
    }
    if (!g.buf) throw new Error(`webgpu: storage of ${s.size} elements was already freed`);
    return g.buf;
  }

  /** The k-th 256-byte placeholder buffer, bound where a kernel's optional operand is absent. */
  dummy(k: number): GPUBuffer {
    while (this.dummies.length <= k) {
      this.dummies.push(this.rt.device.createBuffer({ size: 256, usage: GPUBufferUsage.STORAGE }));
    }
    return this.dummies[k];
  }

  alloc(size: number, dtype: TensorDType, lifetime: Lifetime): Storage {
    if (!Number.isInteger(size) || size < 0) throw new Error(`webgpu: bad storage size ${size}`);
    const bytes = size * 4;
    if (bytes > this.rt.ctx.maxBinding) {
      throw new Error(
        `webgpu: a tensor of ${size} elements (${bytes} bytes) exceeds this device's storage binding limit of ${this.rt.ctx.maxBinding} bytes`,
      );
    }
    const s = new GpuStorage(this, size, dtype, lifetime, this.rt.alloc(Math.max(bytes, 4)));
    if (lifetime === "step") {
      this.steps.add(s);
      this.stepBytes += bytes;
    } else {
      this.persistentBytes += bytes;
    }
    const total = this.stepBytes + this.persistentBytes;
    if (total > this.peakBytes) this.peakBytes = total;
    return s;
  }

  free(s: Storage): void {
    const g = s as GpuStorage;
    if (!g.buf) return;
    this.rt.release(g.buf);
    g.buf = null;
    if (g.lifetime === "step") {
      this.steps.delete(g);
      this.stepBytes -= g.size * 4;
    } else {
      this.persistentBytes -= g.size * 4;
    }
  }

  write(s: Storage, data: Float32Array | Int32Array, offset = 0): void {
    if (offset + data.length > s.size) {
      throw new Error(
        `webgpu: writing ${data.length} elements at ${offset} into a storage of ${s.size}`,
      );
    }
    this.rt.write(this.b(s), data, offset * 4);
  }

  async read(s: Storage, offset = 0, size?: number): Promise<Float32Array | Int32Array> {
    const n = size ?? s.size - offset;
    if (offset < 0 || n < 0 || offset + n > s.size) {
      throw new Error(`webgpu: reading ${n} elements at ${offset} from a storage of ${s.size}`);
    }
    const buf = await this.rt.read(this.b(s), n * 4, offset * 4);
    return s.dtype === "int32" ? new Int32Array(buf) : new Float32Array(buf);
  }

  resetArena(): void {
    for (const s of [...this.steps]) this.free(s);
  }

  memoryStats(): MemoryStats {
    const i = this.rt.info;
    return {
      persistentBytes: this.persistentBytes,
      stepBytes: this.stepBytes,
      peakBytes: this.peakBytes,
      reservedBytes: i.bytesLive + i.bytesPooled,
    };
  }

  resetPeak(): void {
    this.peakBytes = this.persistentBytes + this.stepBytes;
  }

  sync(): Promise<void> {
    return this.rt.sync();
  }

  // ---------------------------------------------------------------- launching (family files)

  /** Records one dispatch of a kernel. */
  run(
    spec: KernelSpec,
    bindings: (Binding | null)[],
    params: Params,
    groups: [number, number?, number?],
  ): void {
    this.rt.dispatch(spec, bindings, params, groups);
  }

  /** 1-D launch over `n` threads of WG. */
  groups1(n: number): [number, number] {
    return this.rt.grid(Math.ceil(n / WG));
  }

  // ------------------------------------------------------------------------------- shape (copies)

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

  // ------------------------------------------------------------------------------- elementwise

  unary(op: UnaryOp, x: Storage, out: Storage, size: number, alpha = 0, beta = 0): void {
    elementwise.unary(this, op, x, out, size, alpha, beta);
  }

  /** {@link Backend.unaryBackward}; `accumulate` adds into dx. */
  unaryBackward(
    op: UnaryOp,
    x: Storage | null,
    y: Storage | null,
    dy: Storage,
    dx: Storage,
    size: number,
    alpha = 0,
    beta = 0,
    accumulate = false,
  ): void {
    elementwise.unaryBackward(this, op, x, y, dy, dx, size, alpha, beta, accumulate);
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

  // ------------------------------------------------------------------------------- reduce

  /** {@link Backend.reduce}; `accumulate` adds into out. */
  reduce(
    op: ReduceOp,
    x: Storage,
    dims: number[],
    axes: number[],
    out: Storage,
    accumulate = false,
  ): void {
    reduce.reduce(this, op, x, dims, axes, out, accumulate);
  }

  // ------------------------------------------------------------------------------- linalg

  matmul(a: Storage, b: Storage, c: Storage, p: MatmulParams): void {
    linalg.matmul(this, a, b, c, p);
  }

  // ------------------------------------------------------------------------------- conv

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

  // ------------------------------------------------------------------------------- norm

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

  // ------------------------------------------------------------------------------- pool

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

  // ------------------------------------------------------------------------------- resample

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

  /** Exclusive prefix sum of `len` u32 words of `src` into `dst`. */
  scan(src: GPUBuffer, dst: GPUBuffer, len: number): void {
    resample.scan(this, src, dst, len);
  }

  // ------------------------------------------------------------------------------- softmax

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

  // ------------------------------------------------------------------------------- random

  random(
    out: Storage,
    size: number,
    kind: RandomKind,
    seedLo: number,
    seedHi: number,
    counter: number,
    p = 0.5,
    value = 1,
  ): void {
    random.random(this, out, size, kind, seedLo, seedHi, counter, p, value);
  }

  // ------------------------------------------------------------------------------- optim

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

/**
 * Starts the WebGPU backend, or resolves to null where no adapter exists (the registry in
 * lib/tensor/engine.ts calls this for `--backend webgpu` and `auto`).
 *
 * @example
 * const be = await createWebGpuBackend();
 * if (be) console.log(be.description);
 */
export async function createWebGpuBackend(): Promise<WebGpuBackend | null> {
  // deno-lint-ignore no-explicit-any
  const gpu = (globalThis.navigator as any)?.gpu;
  if (!gpu) return null;
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) return null;
  return await WebGpuBackend.create();
}

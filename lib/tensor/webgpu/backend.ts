/**
 * The `webgpu` tensor backend: the {@link Backend} interface on WGSL kernels (`kernels/*.wgsl`)
 * through {@link GpuRuntime}.
 *
 * Tensors stay resident in GPU buffers; kernels are recorded into one command encoder and
 * submitted in batches; only {@link WebGpuBackend.read} waits for the device. Every kernel
 * sums in an order fixed by the shapes alone (no float atomics), so the same seed and inputs
 * give the same bytes on the same device.
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
import { type Binding, GpuRuntime, type KernelSpec, Params } from "./runtime.ts";
import type { GpuContext } from "./device.ts";

const MAXD = 8;
const WG = 256;

/** A storage: one pooled GPU buffer (null once freed). */
export class GpuStorage implements Storage {
  constructor(
    readonly backend: WebGpuBackend,
    readonly size: number,
    readonly dtype: TensorDType,
    readonly lifetime: Lifetime,
    public buf: GPUBuffer | null,
  ) {}
}

const UNARY: Record<UnaryOp, number> = {
  neg: 1,
  exp: 2,
  log: 3,
  sqrt: 4,
  abs: 5,
  relu: 6,
  leakyRelu: 7,
  tanh: 8,
  sigmoid: 9,
  square: 10,
  recip: 11,
  rsqrt: 12,
  sign: 15,
  addScalar: 16,
  mulScalar: 17,
  powScalar: 18,
  clamp: 19,
  affine: 20,
  log1p: 23,
  softplus: 28,
};

const UNARY_GRAD: Record<UnaryOp, number> = {
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
  affine: 18,
};

/** Ops whose gradient reads the forward output y (the rest read x). */
const GRAD_READS_Y = new Set<UnaryOp>(["exp", "sqrt", "rsqrt", "tanh", "sigmoid"]);

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

function cStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

function prod(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Merges axes of `shape` that every stride set walks contiguously, and drops unit axes.
 * Returns the merged shape and one merged stride array per input.
 */
export function mergeAxes(
  shape: readonly number[],
  strides: (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const keep: number[] = [];
  for (let i = 0; i < shape.length; i++) if (shape[i] !== 1) keep.push(i);
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (const i of keep) {
    const last = outShape.length - 1;
    if (
      last >= 0 &&
      strides.every((s, k) => outStrides[k][last] === s[i] * shape[i])
    ) {
      outShape[last] *= shape[i];
      strides.forEach((s, k) => (outStrides[k][last] = s[i]));
    } else {
      outShape.push(shape[i]);
      strides.forEach((s, k) => outStrides[k].push(s[i]));
    }
  }
  if (outShape.length === 0) {
    outShape.push(1);
    strides.forEach((_, k) => outStrides[k].push(1));
  }
  return { shape: outShape, strides: outStrides };
}

function isContig(shape: readonly number[], strides: readonly number[]): boolean {
  const c = cStrides(shape);
  for (let i = 0; i < shape.length; i++) if (shape[i] !== 1 && strides[i] !== c[i]) return false;
  return true;
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

  private b(s: Storage): GPUBuffer {
    const g = s as GpuStorage;
    if (g.backend !== this) {
      throw new Error(
        `webgpu: storage belongs to backend "${s.backend.name}", not this webgpu device`,
      );
    }
    if (!g.buf) throw new Error(`webgpu: storage of ${s.size} elements was already freed`);
    return g.buf;
  }

  private dummy(k: number): GPUBuffer {
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

  // ------------------------------------------------------------------------------- helpers

  private run(
    spec: KernelSpec,
    bindings: (Binding | null)[],
    params: Params,
    groups: [number, number?, number?],
  ): void {
    this.rt.dispatch(spec, bindings, params, groups);
  }

  /** 1-D launch over `n` threads of WG. */
  private groups1(n: number): [number, number] {
    return this.rt.grid(Math.ceil(n / WG));
  }

  // ------------------------------------------------------------------------------- copies

  fill(out: Storage, value: number, offset = 0, size?: number): void {
    const n = size ?? out.size - offset;
    if (n <= 0) return;
    const buf = this.b(out);
    const bits = out.dtype === "int32"
      ? (value | 0) >>> 0
      : new Uint32Array(new Float32Array([value]).buffer)[0];
    if (bits === 0) {
      this.rt.zero(buf, offset * 4, n * 4);
      return;
    }
    this.run(
      { file: "copy", entry: "fill", layout: "uw" },
      [null, buf],
      new Params().u(n, bits, offset),
      this.groups1(n),
    );
  }

  copy(
    src: Storage,
    srcView: View,
    dst: Storage,
    dstView: View,
    shape: number[],
    accumulate: boolean,
  ): void {
    const n = prod(shape);
    if (n === 0) return;
    if (src.dtype !== dst.dtype) {
      throw new Error(`webgpu: copy from ${src.dtype} to ${dst.dtype} (use cast)`);
    }
    if (accumulate && dst.dtype !== "float32") {
      throw new Error("webgpu: accumulate copy needs float32");
    }
    const sb = this.b(src), db = this.b(dst);
    const m = mergeAxes(shape, [srcView.strides, dstView.strides]);
    if (sb === db) {
      // a buffer cannot be both read and written by one copy: go through a temporary
      const tmp = this.rt.alloc(n * 4);
      this.copyRaw(sb, srcView.offset, m.strides[0], tmp, 0, cStrides(m.shape), m.shape, false);
      this.copyRaw(
        tmp,
        0,
        cStrides(m.shape),
        db,
        dstView.offset,
        m.strides[1],
        m.shape,
        accumulate,
      );
      this.rt.release(tmp);
      return;
    }
    this.copyRaw(
      sb,
      srcView.offset,
      m.strides[0],
      db,
      dstView.offset,
      m.strides[1],
      m.shape,
      accumulate,
    );
  }

  private copyRaw(
    sb: GPUBuffer,
    sOff: number,
    sStr: number[],
    db: GPUBuffer,
    dOff: number,
    dStr: number[],
    shape: number[],
    acc: boolean,
  ): void {
    const n = prod(shape);
    if (!acc && shape.length === 1 && sStr[0] === 1 && dStr[0] === 1) {
      this.rt.copy(sb, sOff * 4, db, dOff * 4, n * 4);
      return;
    }
    if (shape.length > MAXD) {
      throw new Error(`webgpu: copy of ${shape.length} non-mergeable axes (max ${MAXD})`);
    }
    const p = new Params().u(n, shape.length).at(4).ua(shape, MAXD).ua(sStr, MAXD).ua(dStr, MAXD)
      .u(sOff, dOff);
    this.run(
      { file: "copy", entry: "copy_strided", layout: "urw", constants: { ACC: acc ? 1 : 0 } },
      [null, sb, db],
      p,
      this.groups1(n),
    );
  }

  cast(src: Storage, dst: Storage, size: number): void {
    if (size === 0) return;
    let entry: string;
    if (src.dtype === "int32" && dst.dtype === "float32") entry = "cast_i2f";
    else if (src.dtype === "float32" && dst.dtype === "int32") entry = "cast_f2i";
    else {
      const v = { offset: 0, strides: [1] };
      this.copy(src, v, dst, v, [size], false);
      return;
    }
    this.run(
      { file: "copy", entry, layout: "urw" },
      [null, this.b(src), this.b(dst)],
      new Params().u(size),
      this.groups1(size),
    );
  }

  // ------------------------------------------------------------------------------- elementwise

  unary(op: UnaryOp, x: Storage, out: Storage, size: number, alpha = 0, beta = 0): void {
    if (size === 0) return;
    const code = UNARY[op];
    if (code === undefined) throw new Error(`webgpu: unknown unary op "${op}"`);
    this.run(
      { file: "elementwise", entry: "unary", layout: "urw", constants: { OP: code } },
      [null, this.b(x), this.b(out)],
      new Params().u(size).f(alpha, beta),
      this.groups1(size),
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
    accumulate = false,
  ): void {
    if (size === 0) return;
    const code = UNARY_GRAD[op];
    if (code === undefined) throw new Error(`webgpu: unknown unary op "${op}"`);
    const s = GRAD_READS_Y.has(op) ? y : x;
    const src = s
      ? this.b(s)
      : (op === "neg" || op === "sign" || op === "addScalar" || op === "mulScalar" ||
          op === "affine")
      ? this.b(dy)
      : null;
    if (!src) throw new Error(`webgpu: ${op} backward needs ${GRAD_READS_Y.has(op) ? "y" : "x"}`);
    this.run(
      {
        file: "elementwise",
        entry: "unary_grad",
        layout: "urrw",
        constants: { GOP: code, ACC: accumulate ? 1 : 0 },
      },
      [null, src, this.b(dy), this.b(dx)],
      new Params().u(size).f(alpha, beta),
      this.groups1(size),
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
    const n = prod(shape);
    if (n === 0) return;
    const code = BINARY[op];
    if (code === undefined) throw new Error(`webgpu: unknown binary op "${op}"`);
    const m = mergeAxes(shape, [aView.strides, bView.strides]);
    if (m.shape.length > MAXD) {
      throw new Error(`webgpu: binary over ${m.shape.length} axes (max ${MAXD})`);
    }
    const bcast = !(isContig(m.shape, m.strides[0]) && isContig(m.shape, m.strides[1]));
    const p = new Params().u(n, m.shape.length).f(0, 0).ua(m.shape, MAXD).ua(m.strides[0], MAXD)
      .ua(m.strides[1], MAXD).u(aView.offset, bView.offset);
    this.run(
      {
        file: "elementwise",
        entry: "binary",
        layout: "urrw",
        constants: { OP: code, BCAST: bcast ? 1 : 0 },
      },
      [null, this.b(a), this.b(b), this.b(out)],
      p,
      this.groups1(n),
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
    const n = prod(shape);
    if (n === 0) return;
    const m = mergeAxes(shape, [condView.strides, aView.strides, bView.strides]);
    if (m.shape.length > MAXD) {
      throw new Error(`webgpu: where over ${m.shape.length} axes (max ${MAXD})`);
    }
    const bcast = !m.strides.every((s) => isContig(m.shape, s));
    const p = new Params().u(n, m.shape.length).at(4).ua(m.shape, MAXD).ua(m.strides[0], MAXD)
      .ua(m.strides[1], MAXD).ua(m.strides[2], MAXD).u(condView.offset, aView.offset, bView.offset);
    this.run(
      {
        file: "elementwise",
        entry: "where_",
        layout: "urrrw",
        constants: { BCAST: bcast ? 1 : 0, CI32: cond.dtype === "int32" ? 1 : 0 },
      },
      [null, this.b(cond), this.b(a), this.b(b), this.b(out)],
      p,
      this.groups1(n),
    );
  }

  reduce(
    op: ReduceOp,
    x: Storage,
    shape: number[],
    axes: number[],
    out: Storage,
    accumulate = false,
  ): void {
    const code = REDUCE[op];
    if (code === undefined) throw new Error(`webgpu: unknown reduction "${op}"`);
    const red = new Set(axes);
    if (op === "argmax" && axes.length !== 1) {
      throw new Error("webgpu: argmax reduces exactly one axis");
    }
    const xs = cStrides(shape);
    // groups of adjacent axes of the same class (kept / reduced), unit axes dropped
    const kShape: number[] = [], kStr: number[] = [], rShape: number[] = [], rStr: number[] = [];
    let lastClass = -1;
    for (let i = 0; i < shape.length; i++) {
      if (shape[i] === 1) continue;
      const cls = red.has(i) ? 1 : 0;
      const S = cls ? rShape : kShape, T = cls ? rStr : kStr;
      if (cls === lastClass) {
        S[S.length - 1] *= shape[i];
        T[T.length - 1] = xs[i];
      } else {
        S.push(shape[i]);
        T.push(xs[i]);
      }
      lastClass = cls;
    }
    const nOut = prod(kShape), nRed = prod(rShape);
    let nOutAll = 1;
    for (let i = 0; i < shape.length; i++) if (!red.has(i)) nOutAll *= shape[i];
    if (nOutAll === 0) return;
    if (kShape.length > MAXD || rShape.length > MAXD) {
      throw new Error("webgpu: reduction over too many axes");
    }
    const inner = rShape.length === 1 && rStr[0] === 1;
    const p = new Params().u(nOut, nRed, kShape.length, rShape.length).ua(kShape, MAXD)
      .ua(kStr, MAXD).ua(rShape, MAXD).ua(rStr, MAXD);
    const perThread = nRed < 128 || nOut >= 16384;
    this.run(
      {
        file: "reduce",
        entry: perThread ? "reduce_thread" : "reduce_wg",
        layout: "urw",
        constants: { OP: code, ACC: accumulate ? 1 : 0, INNER: inner ? 1 : 0 },
      },
      [null, nRed === 0 ? this.dummy(0) : this.b(x), this.b(out)],
      p,
      perThread ? this.groups1(nOut) : this.rt.grid(nOut),
    );
  }

  // ------------------------------------------------------------------------------- dense

  matmul(a: Storage, b: Storage, c: Storage, p: MatmulParams): void {
    const { m, n, k } = p;
    if (m === 0 || n === 0 || p.batch === 0) return;
    const lda = p.transA ? m : k, ldb = p.transB ? k : n;
    const maxZ = this.rt.ctx.maxGroups;
    for (let b0 = 0; b0 < p.batch; b0 += maxZ) {
      const nb = Math.min(maxZ, p.batch - b0);
      const prm = new Params().u(m, n, k, 0, lda, ldb, n, 0, p.strideA, p.strideB, p.strideC, 0)
        .u(
          (p.offsetA ?? 0) + b0 * p.strideA,
          (p.offsetB ?? 0) + b0 * p.strideB,
          (p.offsetC ?? 0) + b0 * p.strideC,
          0,
        ).f(p.alpha, p.beta);
      this.run(
        {
          file: "gemm",
          entry: "gemm",
          layout: "urrw",
          constants: { TA: p.transA ? 1 : 0, TB: p.transB ? 1 : 0 },
        },
        [null, this.b(a), this.b(b), this.b(c)],
        prm,
        [Math.ceil(n / 64), Math.ceil(m / 64), nb],
      );
    }
  }

  private convParams(
    p: Conv2dParams,
    M: number,
    N: number,
    K: number,
    kChunk: number,
    splits: number,
    total: number,
  ): Params {
    return new Params().u(
      p.n,
      p.cIn,
      p.h,
      p.w,
      p.cOut,
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
      p.groups,
    ).u(M, N, K, kChunk, splits, total);
  }

  private checkConv(p: Conv2dParams): void {
    if (p.cIn % p.groups !== 0 || p.cOut % p.groups !== 0) {
      throw new Error(
        `webgpu: conv groups ${p.groups} do not divide channels ${p.cIn} → ${p.cOut}`,
      );
    }
  }

  /** Runs a conv kernel over `tilesN` column tiles, in chunks within the dispatch limit. */
  private convRun(
    spec: KernelSpec,
    bindings: (Binding | null)[],
    prm: Params,
    tilesN: number,
    tilesM: number,
    z: number,
  ): void {
    const mg = Math.min(this.tileChunk, this.rt.ctx.maxGroups);
    for (let t0 = 0; t0 < tilesN; t0 += mg) {
      prm.words[22] = t0 * 64;
      this.run(spec, bindings, prm, [Math.min(mg, tilesN - t0), tilesM, z]);
    }
  }

  conv2d(x: Storage, w: Storage, bias: Storage | null, y: Storage, p: Conv2dParams): void {
    this.checkConv(p);
    const Mg = p.cOut / p.groups, Cg = p.cIn / p.groups;
    const M = Mg, N = p.n * p.oh * p.ow, K = Cg * p.kh * p.kw;
    if (M === 0 || N === 0) return;
    if (K === 0) {
      // no inputs: y = bias (or 0)
      this.fill(y, 0);
      if (bias) {
        this.copy(
          bias,
          { offset: 0, strides: [0, 1, 0] },
          y,
          { offset: 0, strides: [p.cOut * p.oh * p.ow, p.oh * p.ow, 1] },
          [p.n, p.cOut, p.oh * p.ow],
          false,
        );
      }
      return;
    }
    this.convRun(
      { file: "conv", entry: "conv", layout: "urrrw", constants: { MODE: 0, BIAS: bias ? 1 : 0 } },
      [null, this.b(x), this.b(w), bias ? this.b(bias) : this.dummy(0), this.b(y)],
      this.convParams(p, M, N, K, K, 1, 0),
      Math.ceil(N / 64),
      Math.ceil(M / 64),
      p.groups,
    );
  }

  conv2dBackwardData(
    dy: Storage,
    w: Storage,
    dx: Storage,
    p: Conv2dParams,
    accumulate: boolean,
  ): void {
    this.checkConv(p);
    const Mg = p.cOut / p.groups, Cg = p.cIn / p.groups;
    const M = Cg, N = p.n * p.h * p.w, K = Mg * p.kh * p.kw;
    if (M === 0 || N === 0) return;
    if (K === 0) {
      if (!accumulate) this.fill(dx, 0);
      return;
    }
    const phased = (p.strideH > 1 || p.strideW > 1) && p.dilH === 1 && p.dilW === 1;
    if (phased) {
      // one pass per stride phase: only the taps that reach a pixel are multiplied
      const nPh = p.strideH * p.strideW;
      const maxN = p.n * Math.ceil(p.h / p.strideH) * Math.ceil(p.w / p.strideW);
      this.convRun(
        {
          file: "conv",
          entry: "conv",
          layout: "urrrw",
          constants: { MODE: 3, ACC: accumulate ? 1 : 0 },
        },
        [null, this.b(dy), this.b(w), this.dummy(0), this.b(dx)],
        this.convParams(p, M, N, K, K, 1, 0),
        Math.ceil(maxN / 64),
        Math.ceil(M / 64),
        p.groups * nPh,
      );
      return;
    }
    this.convRun(
      {
        file: "conv",
        entry: "conv",
        layout: "urrrw",
        constants: { MODE: 1, ACC: accumulate ? 1 : 0 },
      },
      [null, this.b(dy), this.b(w), this.dummy(0), this.b(dx)],
      this.convParams(p, M, N, K, K, 1, 0),
      Math.ceil(N / 64),
      Math.ceil(M / 64),
      p.groups,
    );
  }

  conv2dBackwardWeight(
    x: Storage,
    dy: Storage,
    dw: Storage,
    dbias: Storage | null,
    p: Conv2dParams,
    accumulate: boolean,
  ): void {
    this.checkConv(p);
    const Mg = p.cOut / p.groups, Cg = p.cIn / p.groups;
    const M = Mg, N = Cg * p.kh * p.kw, K = p.n * p.oh * p.ow;
    const total = p.cOut * N;
    if (dbias) {
      this.reduce("sum", dy, [p.n, p.cOut, p.oh * p.ow], [0, 2], dbias, accumulate);
    }
    if (M === 0 || N === 0) return;
    if (K === 0) {
      if (!accumulate) this.fill(dw, 0);
      return;
    }
    // split K so that there are enough workgroups; the split depends on the shape alone
    const tiles = Math.ceil(M / 64) * Math.ceil(N / 64) * p.groups;
    const splits = Math.max(1, Math.min(Math.ceil(128 / tiles), Math.floor(K / 1024), 64));
    const kChunk = Math.ceil(K / splits / 16) * 16;
    const nSplit = Math.ceil(K / kChunk);
    if (nSplit === 1) {
      this.convRun(
        {
          file: "conv",
          entry: "conv",
          layout: "urrrw",
          constants: { MODE: 2, ACC: accumulate ? 1 : 0 },
        },
        [null, this.b(x), this.b(dy), this.dummy(0), this.b(dw)],
        this.convParams(p, M, N, K, kChunk, 1, total),
        Math.ceil(N / 64),
        Math.ceil(M / 64),
        p.groups,
      );
      return;
    }
    const part = this.rt.alloc(nSplit * total * 4);
    this.convRun(
      { file: "conv", entry: "conv", layout: "urrrw", constants: { MODE: 2, SPLITK: 1 } },
      [null, this.b(x), this.b(dy), this.dummy(0), part],
      this.convParams(p, M, N, K, kChunk, nSplit, total),
      Math.ceil(N / 64),
      Math.ceil(M / 64),
      p.groups * nSplit,
    );
    this.run(
      {
        file: "conv",
        entry: "conv_wgrad_reduce",
        layout: "urrrw",
        constants: { ACC: accumulate ? 1 : 0 },
      },
      [null, part, this.dummy(0), this.dummy(1), this.b(dw)],
      this.convParams(p, M, N, K, kChunk, nSplit, total),
      this.groups1(total),
    );
    this.rt.release(part);
  }

  // ------------------------------------------------------------------------------- norm

  private bnParams(p: BatchNormParams): Params {
    return new Params().u(p.n, p.c, p.hw, 0).f(p.eps, p.momentum, p.slope);
  }

  private act(p: BatchNormParams): number {
    return p.activation === "relu" ? 1 : p.activation === "leakyRelu" ? 2 : 0;
  }

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
    if (p.c === 0) return;
    const running = !!(runningMean && runningVar);
    if (!p.useBatchStats && !running) {
      throw new Error("webgpu: batchNorm without batch statistics needs running mean and variance");
    }
    if (p.n * p.hw === 0) return;
    this.run(
      {
        file: "norm",
        entry: "bn_stats",
        layout: "urwwww",
        constants: { BATCH: p.useBatchStats ? 1 : 0, RUNNING: running ? 1 : 0 },
      },
      [
        null,
        this.b(x),
        this.b(mean),
        this.b(invstd),
        runningMean ? this.b(runningMean) : this.dummy(0),
        runningVar ? this.b(runningVar) : this.dummy(1),
      ],
      this.bnParams(p),
      this.rt.grid(p.c),
    );
    const affine = !!(gamma && beta);
    if ((gamma === null) !== (beta === null)) {
      throw new Error("webgpu: batchNorm needs both gamma and beta, or neither");
    }
    const n = p.n * p.c * p.hw;
    this.run(
      {
        file: "norm",
        entry: "bn_apply",
        layout: "urrrrrw",
        constants: { AFFINE: affine ? 1 : 0, ACT: this.act(p) },
      },
      [
        null,
        this.b(x),
        this.b(mean),
        this.b(invstd),
        gamma ? this.b(gamma) : this.dummy(0),
        beta ? this.b(beta) : this.dummy(1),
        this.b(y),
      ],
      this.bnParams(p),
      this.groups1(n),
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
    if (p.c === 0) return;
    const n = p.n * p.c * p.hw;
    const act = this.act(p);
    const stats = this.rt.alloc(p.c * 2 * 4);
    if (n === 0) this.rt.zero(stats, 0, p.c * 8);
    else {
      this.run(
        { file: "norm", entry: "bn_bwd_reduce", layout: "urrrrw", constants: { ACT: act } },
        [null, this.b(x), this.b(y), this.b(dy), this.b(mean), stats],
        this.bnParams(p),
        this.rt.grid(p.c),
      );
      this.run(
        {
          file: "norm",
          entry: "bn_bwd_dx",
          layout: "urrrrrrrw",
          constants: { ACT: act, AFFINE: gamma ? 1 : 0, BATCH: p.useBatchStats ? 1 : 0 },
        },
        [
          null,
          this.b(x),
          this.b(y),
          this.b(dy),
          this.b(mean),
          this.b(invstd),
          gamma ? this.b(gamma) : this.dummy(0),
          stats,
          this.b(dx),
        ],
        this.bnParams(p),
        this.groups1(n),
      );
    }
    if (dgamma || dbeta) {
      this.run(
        {
          file: "norm",
          entry: "bn_param_grads",
          layout: "urrww",
          constants: { HAS_DG: dgamma ? 1 : 0, HAS_DB: dbeta ? 1 : 0 },
        },
        [
          null,
          stats,
          this.b(invstd),
          dgamma ? this.b(dgamma) : this.dummy(0),
          dbeta ? this.b(dbeta) : this.dummy(1),
        ],
        this.bnParams(p),
        this.groups1(p.c),
      );
    }
    this.rt.release(stats);
  }

  // ------------------------------------------------------------------------------- pooling

  private poolParams(p: Pool2dParams): Params {
    return new Params().u(
      p.n,
      p.c,
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
    );
  }

  maxPool2d(x: Storage, y: Storage, indices: Storage, p: Pool2dParams): void {
    const n = p.n * p.c * p.oh * p.ow;
    if (n === 0) return;
    this.run(
      { file: "pool", entry: "max_fwd", layout: "urww" },
      [null, this.b(x), this.b(y), this.b(indices)],
      this.poolParams(p),
      this.groups1(n),
    );
  }

  maxPool2dBackward(dy: Storage, indices: Storage, dx: Storage, p: Pool2dParams): void {
    const n = p.n * p.c * p.h * p.w;
    if (n === 0) return;
    this.run(
      { file: "pool", entry: "max_bwd", layout: "urrw" },
      [null, this.b(dy), this.b(indices), this.b(dx)],
      this.poolParams(p),
      this.groups1(n),
    );
  }

  avgPool2d(x: Storage, y: Storage, p: Pool2dParams): void {
    const n = p.n * p.c * p.oh * p.ow;
    if (n === 0) return;
    this.run(
      { file: "pool", entry: "avg_fwd", layout: "urw" },
      [null, this.b(x), this.b(y)],
      this.poolParams(p),
      this.groups1(n),
    );
  }

  avgPool2dBackward(dy: Storage, dx: Storage, p: Pool2dParams): void {
    const n = p.n * p.c * p.h * p.w;
    if (n === 0) return;
    this.run(
      { file: "pool", entry: "avg_bwd", layout: "urw" },
      [null, this.b(dy), this.b(dx)],
      this.poolParams(p),
      this.groups1(n),
    );
  }

  // ------------------------------------------------------------------------------- resampling

  private upParams(p: Upsample2dParams): Params {
    let sh = p.scaleH, sw = p.scaleW;
    if (p.mode === "bilinear" && p.alignCorners) {
      sh = p.oh > 1 ? (p.h - 1) / (p.oh - 1) : 0;
      sw = p.ow > 1 ? (p.w - 1) / (p.ow - 1) : 0;
    }
    return new Params().u(p.n, p.c, p.h, p.w, p.oh, p.ow, p.alignCorners ? 1 : 0, 0).f(sh, sw);
  }

  upsample2d(x: Storage, y: Storage, p: Upsample2dParams): void {
    const n = p.n * p.c * p.oh * p.ow;
    if (n === 0) return;
    const entry = p.mode === "nearest" ? "up_nearest_fwd" : "up_bilinear_fwd";
    this.run(
      { file: "resample", entry, layout: "urw" },
      [null, this.b(x), this.b(y)],
      this.upParams(p),
      this.groups1(n),
    );
  }

  upsample2dBackward(dy: Storage, dx: Storage, p: Upsample2dParams): void {
    const n = p.n * p.c * p.h * p.w;
    if (n === 0) return;
    const entry = p.mode === "nearest" ? "up_nearest_bwd" : "up_bilinear_bwd";
    this.run(
      { file: "resample", entry, layout: "urw" },
      [null, this.b(dy), this.b(dx)],
      this.upParams(p),
      this.groups1(n),
    );
  }

  private gsParams(p: GridSampleParams, cells = 0): Params {
    return new Params().u(p.n, p.c, p.h, p.w, p.oh, p.ow, p.alignCorners ? 1 : 0, 0, cells);
  }

  gridSample(x: Storage, grid: Storage, y: Storage, p: GridSampleParams): void {
    const n = p.n * p.oh * p.ow;
    if (n === 0 || p.c === 0) return;
    this.run(
      { file: "resample", entry: "gs_fwd", layout: "urrw" },
      [null, this.b(x), this.b(grid), this.b(y)],
      this.gsParams(p),
      this.groups1(n),
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
    const np = p.n * p.oh * p.ow;
    if (dgrid && np > 0) {
      if (p.c === 0) this.fill(dgrid, 0);
      else {
        this.run(
          { file: "resample", entry: "gs_dgrid", layout: "urrrw" },
          [null, this.b(x), this.b(grid), this.b(dy), this.b(dgrid)],
          this.gsParams(p),
          this.groups1(np),
        );
      }
    }
    if (!dx) return;
    const nx = p.n * p.c * p.h * p.w;
    if (nx === 0) return;
    if (np === 0) {
      this.fill(dx, 0);
      return;
    }
    // counting sort of the sample points by the cell of their top-left corner
    const cells = p.n * (p.h + 1) * (p.w + 1);
    const prm = this.gsParams(p, cells);
    const counts = this.rt.alloc((cells + 1) * 4);
    this.rt.zero(counts, 0, (cells + 1) * 4);
    this.run(
      { file: "resample", entry: "gs_count", layout: "urw" },
      [null, this.b(grid), counts],
      prm,
      this.groups1(np),
    );
    const offsets = this.rt.alloc((cells + 1) * 4);
    this.scan(counts, offsets, cells + 1);
    const cursor = counts; // reused: zeroed again
    this.rt.zero(cursor, 0, (cells + 1) * 4);
    const entries = this.rt.alloc(np * 4);
    this.run(
      { file: "resample", entry: "gs_fill", layout: "urrww" },
      [null, this.b(grid), offsets, cursor, entries],
      prm,
      this.groups1(np),
    );
    this.run(
      { file: "resample", entry: "gs_sort", layout: "urw" },
      [null, offsets, entries],
      prm,
      this.groups1(cells),
    );
    this.run(
      { file: "resample", entry: "gs_dx", layout: "urrrrw" },
      [null, this.b(grid), this.b(dy), offsets, entries, this.b(dx)],
      prm,
      this.groups1(nx),
    );
    this.rt.release(counts);
    this.rt.release(offsets);
    this.rt.release(entries);
  }

  /** Exclusive prefix sum of `len` u32 words of `src` into `dst`. */
  scan(src: GPUBuffer, dst: GPUBuffer, len: number): void {
    const blocks = Math.ceil(len / 1024);
    const sums = this.rt.alloc(blocks * 4);
    const prm = new Params().u(len, blocks);
    const g = this.rt.grid(blocks);
    this.run(
      { file: "resample", entry: "scan_blocks", layout: "urww" },
      [null, src, dst, sums],
      prm,
      g,
    );
    this.run({ file: "resample", entry: "scan_sums", layout: "uw" }, [null, sums], prm, [1]);
    this.run({ file: "resample", entry: "scan_add", layout: "urw" }, [null, sums, dst], prm, g);
    this.rt.release(sums);
  }

  // ------------------------------------------------------------------------------- softmax

  softmax(x: Storage, y: Storage, rows: number, cols: number, log: boolean): void {
    if (rows === 0 || cols === 0) return;
    const thread = cols <= 64;
    this.run(
      {
        file: "reduce",
        entry: thread ? "softmax_thread" : "softmax_wg",
        layout: "urw",
        constants: { LOG: log ? 1 : 0 },
      },
      [null, this.b(x), this.b(y)],
      new Params().u(rows, cols),
      thread ? this.groups1(rows) : this.rt.grid(rows),
    );
  }

  softmaxBackward(
    y: Storage,
    dy: Storage,
    dx: Storage,
    rows: number,
    cols: number,
    log: boolean,
  ): void {
    if (rows === 0 || cols === 0) return;
    const thread = cols <= 64;
    this.run(
      {
        file: "reduce",
        entry: thread ? "softmax_bwd_thread" : "softmax_bwd_wg",
        layout: "urrw",
        constants: { LOG: log ? 1 : 0 },
      },
      [null, this.b(y), this.b(dy), this.b(dx)],
      new Params().u(rows, cols),
      thread ? this.groups1(rows) : this.rt.grid(rows),
    );
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
    if (size === 0) return;
    const KIND = kind === "uniform" ? 0 : kind === "normal" ? 1 : kind === "bernoulli" ? 2 : -1;
    if (KIND < 0) throw new Error(`webgpu: unknown random kind "${kind}"`);
    const prm = new Params().u(
      size,
      seedLo,
      seedHi,
      0,
      counter % 4294967296,
      Math.floor(counter / 4294967296),
    )
      .f(p, value);
    this.run(
      { file: "elementwise", entry: "random", layout: "uw", constants: { KIND } },
      [null, this.b(out)],
      prm,
      this.groups1(Math.ceil(size / 4)),
    );
  }

  // ------------------------------------------------------------------------------- optimisers

  adamStep(
    param: Storage,
    grad: Storage,
    m: Storage,
    v: Storage,
    size: number,
    p: AdamParams,
  ): void {
    if (size === 0) return;
    const bc1 = 1 - Math.pow(p.beta1, p.step);
    const bc2 = 1 - Math.pow(p.beta2, p.step);
    const prm = new Params().u(size, 0, 0, 0).f(
      p.beta1,
      1 - p.beta1,
      p.beta2,
      1 - p.beta2,
      p.lr / bc1,
      Math.sqrt(bc2),
      p.eps,
      p.weightDecay,
      1 - p.lr * p.weightDecay,
    );
    this.run(
      {
        file: "optim",
        entry: "adam",
        layout: "uwrww",
        constants: { WD: p.weightDecay !== 0 ? 1 : 0, DECOUPLED: p.decoupled ? 1 : 0 },
      },
      [null, this.b(param), this.b(grad), this.b(m), this.b(v)],
      prm,
      this.groups1(size),
    );
  }

  sgdStep(param: Storage, grad: Storage, buf: Storage | null, size: number, p: SgdParams): void {
    if (size === 0) return;
    const mom = p.momentum !== 0;
    if (mom && !buf) throw new Error("webgpu: SGD with momentum needs a momentum buffer");
    const prm = new Params().u(size, 0, 0, 0).f(p.lr, p.momentum, 1 - p.dampening, p.weightDecay);
    this.run(
      {
        file: "optim",
        entry: "sgd",
        layout: "uwrw",
        constants: {
          WD: p.weightDecay !== 0 ? 1 : 0,
          MOMENTUM: mom ? 1 : 0,
          FIRST: p.first ? 1 : 0,
          NESTEROV: p.nesterov ? 1 : 0,
        },
      },
      [null, this.b(param), this.b(grad), mom ? this.b(buf!) : this.dummy(0)],
      prm,
      this.groups1(size),
    );
  }
}

/**
 * Starts the WebGPU backend, or resolves to null where no adapter exists (the registry in
 * lib/tensor/engine.ts calls this for `--backend webgpu` and `auto`).
 */
export async function createWebGpuBackend(): Promise<WebGpuBackend | null> {
  // deno-lint-ignore no-explicit-any
  const gpu = (globalThis.navigator as any)?.gpu;
  if (!gpu) return null;
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) return null;
  return await WebGpuBackend.create();
}

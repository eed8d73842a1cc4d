/**
 * The Backend interface: the coarse kernels that the autograd tape
 * (lib/tensor/tensor.ts, lib/tensor/ops/*) calls. A backend owns storage (opaque handles) and
 * runs kernels on it; it knows nothing about autograd, shapes of tensors or broadcasting rules
 * beyond what each kernel's parameters say.
 *
 * Conventions, for every kernel:
 * - Sizes, offsets and strides are in **elements**, never bytes.
 * - Every tensor the tape hands over is contiguous (C order) unless a kernel takes a {@link View}
 *   (offset + strides per axis; stride 0 broadcasts).
 * - Outputs are written, not accumulated, unless the kernel has an `accumulate`/`beta` parameter.
 * - Kernels are synchronous from the caller's view (a GPU backend may queue them); only
 *   {@link Backend.read} is async.
 * - float32 everywhere except: max-pool indices and class labels (`int32`).
 *
 * @module
 */

/** Element types of tensors. */
export type TensorDType = "float32" | "int32";

/** Where a storage lives: `persistent` (parameters, optimiser state) or the per-step arena. */
export type Lifetime = "persistent" | "step";

/** An opaque storage handle; each backend subclasses it with its own fields. */
export interface Storage {
  /** The backend that owns it. */
  readonly backend: Backend;
  /** Number of elements. */
  readonly size: number;
  /** Element type. */
  readonly dtype: TensorDType;
  /** Persistent or arena (freed by {@link Backend.resetArena}). */
  readonly lifetime: Lifetime;
}

/** A strided window of a storage: element offset and one stride per axis (0 = broadcast). */
export interface View {
  offset: number;
  strides: number[];
}

/** Elementwise functions of one input. `alpha`: leakyRelu slope, clamp min, pow exponent… */
export type UnaryOp =
  | "neg"
  | "exp"
  | "log"
  | "log1p"
  | "sqrt"
  | "rsqrt"
  | "abs"
  | "sign"
  | "square"
  | "recip"
  | "relu"
  | "leakyRelu" // alpha = negative slope
  | "tanh"
  | "sigmoid"
  | "softplus"
  | "powScalar" // x^alpha
  | "clamp" // clamp(x, alpha, beta)
  | "addScalar" // x + alpha
  | "mulScalar" // x * alpha
  | "affine"; // x * alpha + beta

/** Elementwise functions of two inputs (with broadcasting through views). Comparisons give 0/1. */
export type BinaryOp =
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "pow"
  | "max"
  | "min"
  | "gt"
  | "ge"
  | "lt"
  | "le"
  | "eq"
  | "ne";

/** Reductions over axes. `argmax` writes int32 indices (one axis only). */
export type ReduceOp = "sum" | "max" | "min" | "argmax";

/** Geometry of a 2-D convolution (conv1d uses h = kh = 1). Weight layout [cOut, cIn/groups, kh, kw]. */
export interface Conv2dParams {
  n: number;
  cIn: number;
  h: number;
  w: number;
  cOut: number;
  kh: number;
  kw: number;
  /** Output size: floor((h + 2·padH − dilH·(kh−1) − 1)/strideH) + 1 (the tape computes it). */
  oh: number;
  ow: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  dilH: number;
  dilW: number;
  /** Backends may throw for values other than 1. */
  groups: number;
}

/**
 * A convolution's geometry as numbers in the field order of {@link Conv2dParams} (n, cIn, h, w,
 * cOut, kh, kw, oh, ow, strides, paddings, dilations, groups): the parameter block of the WGSL
 * kernels and the plan key of the native backend.
 *
 * @example
 * ```ts
 * convParamList(p).join(","); // "1,3,32,32,8,3,3,32,32,1,1,1,1,1,1,1"
 * ```
 */
export function convParamList(p: Conv2dParams): number[] {
  return [
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
  ];
}

/** Batched GEMM: C[b] = alpha·op(A[b])·op(B[b]) + beta·C[b], row-major, contiguous matrices. */
export interface MatmulParams {
  batch: number;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  /** Element stride between consecutive batch matrices (0 = the same matrix for every batch). */
  strideA: number;
  strideB: number;
  strideC: number;
  /** Element offsets of the first matrix (default 0). */
  offsetA?: number;
  offsetB?: number;
  offsetC?: number;
  alpha: number;
  /** 0 overwrites C, 1 accumulates. */
  beta: number;
}

/** Activation fused into batch norm (applied after the affine transform). */
export type FusedActivation = "none" | "relu" | "leakyRelu";

/** Batch norm over [n, c, hw] (channel axis 1; hw = product of the spatial axes). */
export interface BatchNormParams {
  n: number;
  c: number;
  hw: number;
  eps: number;
  /** true: normalise with this batch's statistics (training, or NSN's track_running_stats=False). */
  useBatchStats: boolean;
  /** Running statistics to update (when useBatchStats) or to use (when not); may be null. */
  momentum: number;
  activation: FusedActivation;
  /** leakyRelu negative slope. */
  slope: number;
}

/** Pooling geometry (1-D pooling uses h = kh = 1). count_include_pad = true, ceil_mode = false. */
export interface Pool2dParams {
  n: number;
  c: number;
  h: number;
  w: number;
  oh: number;
  ow: number;
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  dilH: number;
  dilW: number;
}

/** Upsampling of [n, c, h, w] to [n, c, oh, ow]. */
export interface Upsample2dParams {
  n: number;
  c: number;
  h: number;
  w: number;
  oh: number;
  ow: number;
  mode: "nearest" | "bilinear";
  alignCorners: boolean;
  /**
   * Source-index scale per axis as PyTorch computes it (in/out, or 1/scale_factor when a scale
   * factor was given). Used by nearest and by bilinear with alignCorners = false.
   */
  scaleH: number;
  scaleW: number;
}

/** grid_sample geometry: x [n, c, h, w], grid [n, oh, ow, 2] (x, y in [−1, 1]), zero padding. */
export interface GridSampleParams {
  n: number;
  c: number;
  h: number;
  w: number;
  oh: number;
  ow: number;
  alignCorners: boolean;
}

/** Random fills from a counter-based generator (Philox4x32-10): same key+counter → same bytes. */
export type RandomKind = "uniform" | "normal" | "bernoulli";

/** Adam/AdamW hyper-parameters of one update (step counts from 1). */
export interface AdamParams {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** true: AdamW (decoupled decay p −= lr·wd·p); false: Adam (g += wd·p). */
  decoupled: boolean;
  step: number;
}

/** SGD hyper-parameters (PyTorch semantics; `first` = the momentum buffer is being created). */
export interface SgdParams {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  first: boolean;
}

/** Memory use in bytes. */
export interface MemoryStats {
  persistentBytes: number;
  stepBytes: number;
  /** Highest persistent + step bytes since the last {@link Backend.resetPeak}. */
  peakBytes: number;
  /** Bytes reserved from the system (wasm memory size, GPU buffers). */
  reservedBytes: number;
}

/** The kernels and storage of one device. See the module doc for conventions. */
export interface Backend {
  /** "wasm", "webgpu", … */
  readonly name: string;

  // ---- storage ----
  /** A new storage of `size` elements; its contents are undefined (use {@link fill}). */
  alloc(size: number, dtype: TensorDType, lifetime: Lifetime): Storage;
  /** Frees a storage now (optional; step storages are freed by {@link resetArena}). */
  free(s: Storage): void;
  /** Copies host data into a storage at an element offset. */
  write(s: Storage, data: Float32Array | Int32Array, offset?: number): void;
  /** Reads `size` elements from `offset` (default: all). */
  read(s: Storage, offset?: number, size?: number): Promise<Float32Array | Int32Array>;
  /** Synchronous read where the backend can do it (wasm); undefined elsewhere. */
  readSync?(s: Storage, offset?: number, size?: number): Float32Array | Int32Array;
  /** Frees every `step` storage (after the optimiser step). */
  resetArena(): void;
  /** Counts of bytes in use. */
  memoryStats(): MemoryStats;
  /** Restarts the peak counter. */
  resetPeak(): void;
  /** Waits until every queued kernel has finished (no-op on wasm). */
  sync(): Promise<void>;

  // ---- copies ----
  /** out[offset .. offset+size) = value (whole storage by default). */
  fill(out: Storage, value: number, offset?: number, size?: number): void;
  /**
   * Strided copy of `shape` elements: dst[dstView] (+)= src[srcView]. Used for permute, slice,
   * pad, concat, expand and their backwards. src and dst have the same dtype.
   */
  copy(
    src: Storage,
    srcView: View,
    dst: Storage,
    dstView: View,
    shape: number[],
    accumulate: boolean,
  ): void;
  /** int32 → float32 or float32 → int32 (truncation), contiguous, `size` elements. */
  cast(src: Storage, dst: Storage, size: number): void;

  // ---- elementwise ----
  /** out[i] = op(x[i]) for i < size, contiguous. */
  unary(op: UnaryOp, x: Storage, out: Storage, size: number, alpha?: number, beta?: number): void;
  /**
   * dx[i] = dy[i] · op'(…) for i < size, contiguous. `x` is the input, `y` the output of the
   * forward (each op reads what it needs: relu/leakyRelu/abs/sign/log/log1p/square/recip/
   * softplus/powScalar/clamp read x; exp/sqrt/rsqrt/tanh/sigmoid read y; either may be null
   * where unused). accumulate: dx += … instead of dx = ….
   */
  unaryBackward(
    op: UnaryOp,
    x: Storage | null,
    y: Storage | null,
    dy: Storage,
    dx: Storage,
    size: number,
    alpha?: number,
    beta?: number,
  ): void;
  /** out = a op b over `shape` (out contiguous; a/b broadcast through their views). */
  binary(
    op: BinaryOp,
    a: Storage,
    aView: View,
    b: Storage,
    bView: View,
    out: Storage,
    shape: number[],
  ): void;
  /** out = cond ≠ 0 ? a : b over `shape` (out contiguous; inputs broadcast through views). */
  where(
    cond: Storage,
    condView: View,
    a: Storage,
    aView: View,
    b: Storage,
    bView: View,
    out: Storage,
    shape: number[],
  ): void;
  /**
   * Reduces contiguous `x` of `shape` over `axes` (sorted, unique); out is contiguous with the
   * reduced axes removed (argmax: exactly one axis, int32 out, first maximum).
   */
  reduce(op: ReduceOp, x: Storage, shape: number[], axes: number[], out: Storage): void;

  // ---- dense ----
  matmul(a: Storage, b: Storage, c: Storage, p: MatmulParams): void;
  /** y = conv(x, w) + bias, x [n,cIn,h,w], w [cOut,cIn,kh,kw], y [n,cOut,oh,ow]. */
  conv2d(x: Storage, w: Storage, bias: Storage | null, y: Storage, p: Conv2dParams): void;
  /** dx (+)= ∂/∂x of conv (= conv_transpose2d of dy); dx shaped [n,cIn,h,w]. */
  conv2dBackwardData(
    dy: Storage,
    w: Storage,
    dx: Storage,
    p: Conv2dParams,
    accumulate: boolean,
  ): void;
  /** dw (+)= ∂/∂w, dbias (+)= Σ dy over n, oh, ow (when not null). */
  conv2dBackwardWeight(
    x: Storage,
    dy: Storage,
    dw: Storage,
    dbias: Storage | null,
    p: Conv2dParams,
    accumulate: boolean,
  ): void;

  // ---- normalisation ----
  /**
   * y = act((x − mean)·invstd·gamma + beta). Writes the statistics used into mean/invstd [c].
   * With useBatchStats: computes them (biased variance) and, when running stats are given,
   * updates them (unbiased variance, momentum). Without: reads runningMean/runningVar.
   * gamma/beta may be null (affine = false).
   */
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
  ): void;
  /**
   * Backward of {@link batchNorm} (y is its output, for the fused activation). dx written;
   * dgamma/dbeta accumulated (+=) when not null.
   */
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
  ): void;

  // ---- pooling, resampling ----
  /** Max pooling; indices (int32, flat h·w index per plane) for the backward. Pads with −inf. */
  maxPool2d(x: Storage, y: Storage, indices: Storage, p: Pool2dParams): void;
  /** dx (zeroed by the kernel) += dy scattered through indices. */
  maxPool2dBackward(dy: Storage, indices: Storage, dx: Storage, p: Pool2dParams): void;
  /** Average pooling (count_include_pad = true). */
  avgPool2d(x: Storage, y: Storage, p: Pool2dParams): void;
  avgPool2dBackward(dy: Storage, dx: Storage, p: Pool2dParams): void;
  upsample2d(x: Storage, y: Storage, p: Upsample2dParams): void;
  /** dx written (zeroed then accumulated by the kernel). */
  upsample2dBackward(dy: Storage, dx: Storage, p: Upsample2dParams): void;
  gridSample(x: Storage, grid: Storage, y: Storage, p: GridSampleParams): void;
  /** dx and dgrid written (either may be null when not needed). */
  gridSampleBackward(
    x: Storage,
    grid: Storage,
    dy: Storage,
    dx: Storage | null,
    dgrid: Storage | null,
    p: GridSampleParams,
  ): void;

  // ---- softmax ----
  /** Softmax (or log-softmax) of each of `rows` contiguous rows of `cols`. */
  softmax(x: Storage, y: Storage, rows: number, cols: number, log: boolean): void;
  softmaxBackward(
    y: Storage,
    dy: Storage,
    dx: Storage,
    rows: number,
    cols: number,
    log: boolean,
  ): void;

  // ---- random ----
  /**
   * Fills `size` elements from Philox4x32-10 with key (seedLo, seedHi), starting at 128-bit
   * block `counter` (each block gives 4 numbers). uniform: [0,1); normal: mean 0 sd 1
   * (Box–Muller); bernoulli: `scale` (default 1) with probability p, else 0. Same arguments →
   * same bytes.
   */
  random(
    out: Storage,
    size: number,
    kind: RandomKind,
    seedLo: number,
    seedHi: number,
    counter: number,
    p?: number,
    scale?: number,
  ): void;

  // ---- optimisers (in place on persistent storages) ----
  adamStep(
    param: Storage,
    grad: Storage,
    m: Storage,
    v: Storage,
    size: number,
    p: AdamParams,
  ): void;
  sgdStep(param: Storage, grad: Storage, buf: Storage | null, size: number, p: SgdParams): void;
}

// ---------------------------------------------------------------------------------------------
// Registry

type Factory = () => Promise<Backend | null>;
const factories = new Map<string, Factory>();
const instances = new Map<string, Promise<Backend | null>>();
let defaultBackend: Backend | null = null;
let defaultFactorySync: (() => Backend) | null = null;

/** Registers a backend by name; `factory` resolves to null where the device is unavailable. */
export function registerBackend(name: string, factory: Factory): void {
  factories.set(name, factory);
  instances.delete(name);
}

/** Registers the backend used when nothing was chosen (wasm: it can start synchronously). */
export function registerDefaultBackend(make: () => Backend): void {
  defaultFactorySync = make;
}

/** Names of registered backends (not all need be available here). */
export function backendNames(): string[] {
  return [...factories.keys()];
}

/** The backend of this name, started once; null where unavailable (no GPU, missing module). */
export function getBackend(name: string): Promise<Backend | null> {
  let p = instances.get(name);
  if (!p) {
    const f = factories.get(name);
    if (!f) throw new Error(`unknown backend "${name}" (registered: ${backendNames().join(", ")})`);
    p = f().catch((e) => {
      console.warn(`backend ${name} unavailable: ${(e as Error).message}`);
      return null;
    });
    instances.set(name, p);
  }
  return p;
}

/** Every registered backend that starts here (tests loop over these). */
export async function backends(): Promise<Backend[]> {
  const out: Backend[] = [];
  for (const n of backendNames()) {
    const b = await getBackend(n);
    if (b) out.push(b);
  }
  return out;
}

/** Sets the backend new tensors go to. */
export function setDefaultBackend(b: Backend): void {
  defaultBackend = b;
}

/** The backend new tensors go to (the wasm one unless set). */
export function getDefaultBackend(): Backend {
  if (!defaultBackend) {
    if (!defaultFactorySync) throw new Error("no tensor backend registered");
    defaultBackend = defaultFactorySync();
  }
  return defaultBackend;
}

/**
 * Runs the PyTorch fixture cases of tests/fixtures/torch_ops.py on a backend: each case's op
 * forward, then backward of sum(y · gy), returning the output and the input gradients.
 * Used by tests/tensor_ops_test.ts (every registered backend, and backends against each other).
 *
 * @module
 */
import * as T from "../../lib/tensor/mod.ts";
import type { Backend, Tensor } from "../../lib/tensor/mod.ts";

/**
 * The registered backends plus a second wasm backend whose GEMMs run on the multi-threaded
 * pool (2 threads; lib/tensor/wasm/gemm_pool.ts), when that module is there: both GEMM paths
 * are tested. The pool's workers are stopped when the process unloads.
 */
export async function testBackends(): Promise<Backend[]> {
  const bs = await T.backends();
  const pooled = new T.WasmBackend({ initialMiB: 16 });
  if (await T.startWasmThreads(pooled, 2)) {
    await pooled.startThreads(2);
    pooled.parallelMin = 64; // split even the fixtures' small tensors across the threads
    Object.defineProperty(pooled, "name", { value: "wasm-threads2" });
    globalThis.addEventListener("unload", () => {
      pooled.closeGemmPool();
      pooled.stopThreads();
    });
    bs.push(pooled);
  }
  return bs;
}

/** An array in data.bin. */
export interface ArrDesc {
  offset: number;
  shape: number[];
  dtype: "float32" | "int32";
}

/** One fixture case. */
export interface OpCase {
  name: string;
  op: string;
  // deno-lint-ignore no-explicit-any
  args: Record<string, any>;
  inputs: Record<string, ArrDesc>;
  y: ArrDesc;
  gy: ArrDesc;
  grads: Record<string, ArrDesc>;
  extra?: Record<string, ArrDesc>;
  rtol?: number;
  /** Absolute tolerances of gradients that are zero up to rounding. */
  atol?: Record<string, number>;
}

/** The fixture file. */
export interface Fixtures {
  cases: OpCase[];
  data: ArrayBuffer;
}

/** Reads cases.json + data.bin of a fixture folder. */
export async function loadFixtures(dir: string): Promise<Fixtures> {
  const json = JSON.parse(await Deno.readTextFile(`${dir}/cases.json`));
  const bin = await Deno.readFile(`${dir}/data.bin`);
  return {
    cases: json.cases,
    data: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
  };
}

/** The array of a descriptor. */
export function arr(f: Fixtures, d: ArrDesc): Float32Array | Int32Array {
  const n = d.shape.reduce((a, b) => a * b, 1);
  return d.dtype === "int32"
    ? new Int32Array(f.data, d.offset, n)
    : new Float32Array(f.data, d.offset, n);
}

type OpFn = (x: Record<string, Tensor>, a: OpCase["args"]) => Tensor;

const pair = (v: number | number[] | undefined): number | [number, number] | undefined =>
  v === undefined ? undefined : typeof v === "number" ? v : [v[0], v[1]];

/** op name in the fixtures → the engine call. */
export const OPS: Record<string, OpFn> = {
  add: (x) => T.add(x.a, x.b),
  sub: (x) => T.sub(x.a, x.b),
  mul: (x) => T.mul(x.a, x.b),
  div: (x) => T.div(x.a, x.b),
  maximum: (x) => T.maximum(x.a, x.b),
  minimum: (x) => T.minimum(x.a, x.b),
  pow: (x) => T.pow(x.a, x.b),
  add_scalar: (x, a) => T.add(x.a, a.s),
  mul_scalar: (x, a) => T.mul(x.a, a.s),
  rsub_scalar: (x, a) => T.sub(a.s, x.a),
  div_scalar: (x, a) => T.div(x.a, a.s),
  neg: (x) => T.neg(x.x),
  exp: (x) => T.exp(x.x),
  log: (x) => T.log(x.x),
  log1p: (x) => T.log1p(x.x),
  sqrt: (x) => T.sqrt(x.x),
  rsqrt: (x) => T.rsqrt(x.x),
  abs: (x) => T.abs(x.x),
  square: (x) => T.square(x.x),
  reciprocal: (x) => T.reciprocal(x.x),
  relu: (x) => T.relu(x.x),
  leaky_relu: (x, a) => T.leakyRelu(x.x, a.slope),
  tanh: (x) => T.tanh(x.x),
  sigmoid: (x) => T.sigmoid(x.x),
  softplus: (x) => T.softplus(x.x),
  clamp: (x, a) => T.clamp(x.x, a.min, a.max),
  pow_scalar: (x, a) => T.pow(x.x, a.e),
  pow_scalar_int: (x, a) => T.pow(x.x, a.e),
  where: (x) => T.where(x.c, x.a, x.b),
  sum: (x, a) => T.sum(x.x, a.axes ?? undefined, a.keepdim),
  mean: (x, a) => T.mean(x.x, a.axes ?? undefined, a.keepdim),
  max: (x, a) => T.max(x.x, a.axes ?? undefined, a.keepdim),
  min: (x, a) => T.min(x.x, a.axes ?? undefined, a.keepdim),
  softmax: (x, a) => T.softmax(x.x, a.axis),
  log_softmax: (x, a) => T.logSoftmax(x.x, a.axis),
  matmul: (x) => T.matmul(x.a, x.b),
  linear: (x) => T.linear(x.x, x.w, x.b ?? null),
  conv2d: (x, a) =>
    T.conv2d(x.x, x.w, x.b ?? null, {
      stride: pair(a.stride),
      padding: pair(a.padding),
      dilation: pair(a.dilation),
    }),
  conv1d: (x, a) => T.conv1d(x.x, x.w, x.b ?? null, a),
  conv_transpose2d: (x, a) =>
    T.convTranspose2d(x.x, x.w, x.b ?? null, {
      stride: pair(a.stride),
      padding: pair(a.padding),
      dilation: pair(a.dilation),
      outputPadding: pair(a.outputPadding),
    }),
  conv_transpose1d: (x, a) => T.convTranspose1d(x.x, x.w, x.b ?? null, a),
  batch_norm: (x, a) =>
    T.batchNorm(x.x, {
      weight: x.g ?? null,
      bias: x.b ?? null,
      runningMean: x.rm ?? null,
      runningVar: x.rv ?? null,
      training: a.training,
      eps: a.eps,
      momentum: a.momentum,
      activation: a.activation,
      slope: a.slope,
    }),
  max_pool2d: (x, a) =>
    T.maxPool2d(x.x, pair(a.kernel)!, {
      stride: pair(a.stride),
      padding: pair(a.padding),
      dilation: pair(a.dilation),
    }),
  avg_pool2d: (x, a) =>
    T.avgPool2d(x.x, pair(a.kernel)!, { stride: pair(a.stride), padding: pair(a.padding) }),
  max_pool1d: (x, a) => T.maxPool1d(x.x, a.kernel, a),
  avg_pool1d: (x, a) => T.avgPool1d(x.x, a.kernel, a),
  upsample: (x, a) => T.upsample(x.x, a),
  grid_sample: (x, a) => T.gridSample(x.x, x.grid, a),
  reshape: (x, a) => T.reshape(x.x, a.shape),
  permute: (x, a) => T.permute(x.x, a.perm),
  transpose: (x, a) => T.transpose(x.x, a.a, a.b),
  slice: (x, a) => T.slice(x.x, a.ranges),
  cat: (x, a) => T.cat(Object.values(x), a.axis),
  stack: (x, a) => T.stack(Object.values(x), a.axis),
  pad: (x, a) => T.pad(x.x, a.pads, a.value),
  expand: (x, a) => T.expand(x.x, a.shape),
  unsqueeze: (x, a) => T.unsqueeze(x.x, a.axis),
  small_net: (x) => {
    let h = T.conv2d(x.x, x.w1, x.b1, { stride: 2, padding: 1 });
    h = T.batchNorm(h, {
      weight: x.g1,
      bias: x.be1,
      eps: 1e-3,
      activation: "leakyRelu",
      slope: 0.2,
    });
    const u = T.convTranspose2d(h, x.w2, x.b2, { stride: 2, padding: 1, outputPadding: [1, 0] });
    return T.tanh(T.cat([u, x.x], 1));
  },
};

/** The result of a case on one backend. */
export interface CaseResult {
  y: Float32Array;
  yShape: number[];
  grads: Record<string, Float32Array>;
  extra: Record<string, Float32Array>;
}

/** Runs a case on backend b. */
export async function runCase(f: Fixtures, c: OpCase, b: Backend): Promise<CaseResult> {
  const fn = OPS[c.op];
  if (!fn) throw new Error(`no engine op for fixture op ${c.op}`);
  const inputs: Record<string, Tensor> = {};
  for (const [k, d] of Object.entries(c.inputs)) {
    const isState = k === "rm" || k === "rv";
    inputs[k] = T.tensor(arr(f, d).slice(), d.shape, {
      backend: b,
      dtype: d.dtype,
      requiresGrad: k in c.grads,
      persistent: isState,
    });
  }
  const y = fn(inputs, c.args);
  const grads: Record<string, Float32Array> = {};
  if (Object.keys(c.grads).length > 0) {
    const gy = T.tensor(arr(f, c.gy).slice(), c.gy.shape, { backend: b });
    T.sum(T.mul(y, gy)).backward();
    for (const k of Object.keys(c.grads)) {
      const g = inputs[k].grad;
      grads[k] = g ? await g.data() : new Float32Array(inputs[k].size);
    }
  }
  const extra: Record<string, Float32Array> = {};
  if (c.extra) {
    if (c.extra.rm_after) extra.rm_after = await inputs.rm.data();
    if (c.extra.rv_after) extra.rv_after = await inputs.rv.data();
  }
  const out = { y: await y.data(), yShape: [...y.shape], grads, extra };
  for (const t of Object.values(inputs)) if (t.storage.lifetime === "persistent") t.dispose();
  b.resetArena();
  return out;
}

/**
 * Compares `got` with `want`: |got − want| ≤ rtol·|want| + atol, atol = rtol·0.1·max|want|
 * (float32 sums with cancellation leave absolute errors on the scale of the largest terms, not
 * of each small result). Returns a message on failure, null when equal.
 */
export function compare(
  what: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  rtol = 1e-4,
  minAtol = 0,
): string | null {
  if (got.length !== want.length) return `${what}: ${got.length} values, expected ${want.length}`;
  let maxAbs = 0;
  for (let i = 0; i < want.length; i++) maxAbs = Math.max(maxAbs, Math.abs(want[i]));
  const atol = Math.max(minAtol, rtol * 0.1 * maxAbs);
  let worst = -1, worstRatio = 0;
  for (let i = 0; i < want.length; i++) {
    const w = want[i], g = got[i];
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    const err = Math.abs(g - w);
    const tol = rtol * Math.abs(w) + atol;
    const ratio = err / (tol || Number.MIN_VALUE);
    if (!(err <= tol) && (ratio > worstRatio || Number.isNaN(err))) {
      worst = i;
      worstRatio = Number.isNaN(err) ? Infinity : ratio;
    }
  }
  if (worst < 0) return null;
  return `${what}[${worst}] = ${got[worst]}, expected ${want[worst]} (error ${
    (Math.abs(got[worst] - want[worst])).toExponential(2)
  }, ${worstRatio.toFixed(1)}× the tolerance)`;
}

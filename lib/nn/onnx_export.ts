/**
 * ONNX export (opset 17, IR version 8) of models built from lib/nn modules, with a dynamic
 * batch axis. Each module writes its own nodes ({@link Module.toOnnx}) into an
 * {@link OnnxGraph}; parameters become initializers under their state-dict names, so the ONNX
 * file and the safetensors checkpoint name the same tensors alike.
 *
 * Batch norm that normalises with batch statistics (NoStripesNet's track_running_stats=False,
 * which PyTorch's own exporter refuses) is written as primitive ops: per-channel mean and
 * (biased) variance over N, H, W with ReduceMean, then (x − mean)/√(var + eps)·γ + β.
 *
 * The encoder is hand-written (lib/nn/onnx_proto.ts); files pass `onnx.checker` and run in
 * onnxruntime-web (lib/nn/onnx_runtime.ts).
 *
 * @example
 * ```ts
 * import { exportOnnx } from "./onnx_export.ts";
 * const bytes = await exportOnnx(gen, { inputShape: [1, 1801, 256] }); // batch axis "N" added
 * await Deno.writeFile("gen.onnx", bytes);
 * ```
 * @module
 */
import { noGrad, type Tensor, zeros } from "../tensor/tensor.ts";
import type { Module } from "./module.ts";
import {
  concatChunks,
  encodeModel,
  type OnnxAttr,
  OnnxDType,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from "./onnx_proto.ts";
import { LumenError } from "../run/errors.ts";

/** Attribute constructors for {@link OnnxGraph.node}. */
export const attr = {
  int: (value: number): OnnxAttr => ({ kind: "int", value }),
  float: (value: number): OnnxAttr => ({ kind: "float", value }),
  ints: (value: number[]): OnnxAttr => ({ kind: "ints", value }),
  floats: (value: number[]): OnnxAttr => ({ kind: "floats", value }),
  str: (value: string): OnnxAttr => ({ kind: "string", value }),
};

/** A graph under construction: nodes, initializers (tensors read at the end), fresh names. */
export class OnnxGraph {
  readonly nodes: OnnxNode[] = [];
  private readonly inits = new Map<string, { tensor?: Tensor; raw?: OnnxTensor }>();
  private readonly used = new Set<string>();
  private counter = 0;

  /** Dims of the graph input (for modules that need static sizes). */
  constructor(readonly inputDims: (number | string)[] = []) {}

  /** A new unique value name starting with `base`. */
  fresh(base: string): string {
    let n = base.replace(/[^A-Za-z0-9_.:/-]/g, "_") || "v";
    while (this.used.has(n)) n = `${base}_${++this.counter}`;
    this.used.add(n);
    return n;
  }

  /** Registers a parameter/buffer tensor as an initializer named `name`; returns the name. */
  param(name: string, t: Tensor): string {
    if (this.inits.has(name)) return name;
    this.used.add(name);
    this.inits.set(name, { tensor: t });
    return name;
  }

  /** A constant float32 initializer. */
  constFloat(base: string, values: ArrayLike<number>, dims: number[]): string {
    const name = this.fresh(base);
    const f = Float32Array.from(values);
    this.inits.set(name, {
      raw: { name, dims, dataType: OnnxDType.FLOAT, raw: new Uint8Array(f.buffer) },
    });
    return name;
  }

  /** A constant int64 initializer (shapes, axes). */
  constInt64(base: string, values: number[], dims: number[] = [values.length]): string {
    const name = this.fresh(base);
    const b = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.inits.set(name, {
      raw: { name, dims, dataType: OnnxDType.INT64, raw: new Uint8Array(b.buffer) },
    });
    return name;
  }

  /**
   * Appends a node; returns its output names (fresh names from `base`, or the op type).
   * `nOut` outputs (default 1).
   */
  node(
    opType: string,
    inputs: string[],
    attrs: Record<string, OnnxAttr> = {},
    o: { base?: string; nOut?: number; outputs?: string[] } = {},
  ): string[] {
    const base = o.base ?? opType;
    const outputs = o.outputs ?? Array.from({ length: o.nOut ?? 1 }, () => this.fresh(base));
    for (const n of outputs) this.used.add(n);
    this.nodes.push({ opType, inputs, outputs, name: this.fresh(`${base}_node`), attrs });
    return outputs;
  }

  /** One-output shorthand of {@link node}. */
  op(
    opType: string,
    inputs: string[],
    attrs: Record<string, OnnxAttr> = {},
    base?: string,
  ): string {
    return this.node(opType, inputs, attrs, { base })[0];
  }

  /** Reads every registered tensor and returns the initializers in registration order. */
  async initializers(): Promise<OnnxTensor[]> {
    const out: OnnxTensor[] = [];
    for (const [name, e] of this.inits) {
      if (e.raw) {
        out.push(e.raw);
        continue;
      }
      const t = e.tensor!;
      if (t.dtype === "int32") {
        const d = await t.dataInt();
        const b = BigInt64Array.from(Array.from(d, (v) => BigInt(v)));
        out.push({
          name,
          dims: [...t.shape],
          dataType: OnnxDType.INT64,
          raw: new Uint8Array(b.buffer),
        });
      } else {
        const d = await t.data();
        out.push({
          name,
          dims: [...t.shape],
          dataType: OnnxDType.FLOAT,
          raw: new Uint8Array(d.buffer, d.byteOffset, d.byteLength),
        });
      }
    }
    return out;
  }
}

/**
 * Writes batch norm with batch statistics as primitive ops over axes [0, 2, …] of a rank-`rank`
 * input: ReduceMean, Sub, Mul, ReduceMean, Add eps, Sqrt, Div, then ·γ + β (reshaped to
 * [1, C, 1, …]) when given.
 */
export function batchNormBatchStatsOnnx(
  g: OnnxGraph,
  x: string,
  rank: number,
  eps: number,
  gamma: string | null,
  beta: string | null,
  base: string,
): string {
  const axes = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
  const mean = g.op(
    "ReduceMean",
    [x],
    { axes: attr.ints(axes), keepdims: attr.int(1) },
    `${base}.mean`,
  );
  const d = g.op("Sub", [x, mean], {}, `${base}.centered`);
  const sq = g.op("Mul", [d, d], {}, `${base}.sq`);
  const v = g.op(
    "ReduceMean",
    [sq],
    { axes: attr.ints(axes), keepdims: attr.int(1) },
    `${base}.var`,
  );
  const e = g.constFloat(`${base}.eps`, [eps], []);
  const ve = g.op("Add", [v, e], {}, `${base}.var_eps`);
  const sd = g.op("Sqrt", [ve], {}, `${base}.std`);
  let y = g.op("Div", [d, sd], {}, `${base}.normed`);
  const bshape = [-1, ...Array.from({ length: rank - 2 }, () => 1)];
  if (gamma) {
    const gs = g.op(
      "Reshape",
      [gamma, g.constInt64(`${base}.cshape`, bshape)],
      {},
      `${base}.gamma_r`,
    );
    y = g.op("Mul", [y, gs], {}, `${base}.scaled`);
  }
  if (beta) {
    const bs = g.op(
      "Reshape",
      [beta, g.constInt64(`${base}.cshape`, bshape)],
      {},
      `${base}.beta_r`,
    );
    y = g.op("Add", [y, bs], {}, `${base}.shifted`);
  }
  return y;
}

/** Options of {@link exportOnnx}. */
export interface ExportOnnxOptions {
  /** Input shape without the batch axis (e.g. [1, 1801, 256]); the batch axis is named "N". */
  inputShape: number[];
  /** Make the spatial axes symbolic too (default false: fixed). */
  dynamicSpatial?: boolean;
  /** Graph input / output names (default "input" / "output"). */
  inputName?: string;
  outputName?: string;
  /**
   * Output shape without the batch axis. When not given, exportOnnx runs the module once on
   * zeros at batch 1 (no tape) to find it; onnx.checker requires graph outputs to have a shape.
   */
  outputShape?: number[];
  /** Stored as the model's doc string. */
  docString?: string;
  /** Stored as metadata_props. */
  metadata?: Record<string, string>;
  /** ModelProto.producer_version (default: lumen's version string given by the caller). */
  producerVersion?: string;
}

/**
 * Exports a module (in inference mode: dropout off, batch norm as the module's `training`=false
 * path) to ONNX bytes. The module's own `training` flag is restored afterwards.
 *
 * @throws LumenError when a module in it has no ONNX export
 */
export async function exportOnnx(module: Module, o: ExportOnnxOptions): Promise<Uint8Array> {
  const inputName = o.inputName ?? "input";
  const outputName = o.outputName ?? "output";
  const dims: (number | string)[] = [
    "N",
    ...o.inputShape.map((d, i) => (o.dynamicSpatial && i > 0 ? `D${i}` : d)),
  ];
  const g = new OnnxGraph(dims);
  g.fresh(inputName);
  const wasTraining = module.training;
  module.eval();
  let out: string;
  try {
    out = module.toOnnx(g, [inputName], "")[0];
  } finally {
    module.train(wasTraining);
  }
  // rename the last value to the output name
  const last = g.nodes.findLast((n) => n.outputs.includes(out));
  if (last) last.outputs[last.outputs.indexOf(out)] = outputName;
  else g.node("Identity", [out], {}, { outputs: [outputName] });
  for (const n of g.nodes) n.inputs = n.inputs.map((i) => (i === out ? outputName : i));
  const inputs: OnnxValueInfo[] = [{ name: inputName, elemType: OnnxDType.FLOAT, dims }];
  let outShape = o.outputShape;
  if (!outShape) {
    module.eval();
    try {
      const y = noGrad(() => module.forward(zeros([1, ...o.inputShape])));
      outShape = y.shape.slice(1);
    } finally {
      module.train(wasTraining);
    }
  }
  const outputs: OnnxValueInfo[] = [{
    name: outputName,
    elemType: OnnxDType.FLOAT,
    dims: ["N", ...(o.dynamicSpatial ? outShape.map((d, i) => (i > 0 ? `O${i}` : d)) : outShape)],
  }];
  const model: OnnxModel = {
    graphName: module.constructor.name,
    nodes: g.nodes,
    initializers: await g.initializers(),
    inputs,
    outputs,
    opset: 17,
    irVersion: 8,
    producerName: "lumen",
    producerVersion: o.producerVersion ?? "0.1.0",
    docString: o.docString,
    metadata: o.metadata,
  };
  const w = encodeModel(model);
  return concatChunks(w.allChunks(), w.length);
}

/** Writes {@link exportOnnx}'s bytes to a file. */
export async function exportOnnxFile(
  module: Module,
  path: string,
  o: ExportOnnxOptions,
): Promise<void> {
  const bytes = await exportOnnx(module, o);
  await Deno.writeFile(path, bytes);
}

/** Thrown by modules without an ONNX form. */
export function noOnnx(name: string): never {
  throw new LumenError("onnx export", name, "this module has no ONNX export");
}

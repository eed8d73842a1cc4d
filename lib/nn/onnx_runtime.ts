/**
 * Inference on ONNX models with onnxruntime-web: the `wasm` execution provider (CPU, threads)
 * or `webgpu` (from `onnxruntime-web/webgpu`; on a machine without a GPU it runs on a fallback
 * adapter such as llvmpipe). For models exported by {@link exportOnnx} or by PyTorch.
 *
 * @example
 * ```ts
 * import { OnnxInference } from "./onnx_runtime.ts";
 * const s = await OnnxInference.create("gen.onnx", { provider: "wasm", threads: 2 });
 * const out = await s.run({ dtype: "float32", shape: [1, 1, 1801, 256], data: patch });
 * s.release();
 * ```
 * @module
 */
import { loadOnnxRuntime, loadOnnxRuntimeWebGpu } from "../deps.ts";
import { LumenError } from "../run/errors.ts";
import type { NdArray } from "../io/array.ts";

/** Execution providers this helper knows. */
export type OnnxProvider = "wasm" | "webgpu";

/** Options of {@link OnnxInference.create}. */
export interface OnnxInferenceOptions {
  /** Default "wasm". */
  provider?: OnnxProvider;
  /** wasm threads (default: 1; onnxruntime-web's threads need cross-origin isolation in browsers). */
  threads?: number;
  /** Graph optimisation level (default "all"). */
  graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
}

// deno-lint-ignore no-explicit-any
type Ort = any;

/** An inference session. */
/**
 * Runs `fn` and puts back the web `Worker` constructor afterwards: onnxruntime-web's Emscripten
 * glue sees Deno's `process` and replaces `globalThis.Worker` with node's worker_threads one,
 * which would break every module worker started later (the engine's thread pools).
 */
async function keepingWebWorker<T>(fn: () => Promise<T>): Promise<T> {
  const web = globalThis.Worker;
  try {
    return await fn();
  } finally {
    if (globalThis.Worker !== web) globalThis.Worker = web;
  }
}

export class OnnxInference {
  private constructor(
    private readonly ort: Ort,
    // deno-lint-ignore no-explicit-any
    private readonly session: any,
    /** The provider in use. */
    readonly provider: OnnxProvider,
  ) {}

  /**
   * Opens a model (a path or its bytes).
   *
   * @throws LumenError when the file is missing, not ONNX, or the provider cannot start
   */
  static async create(
    model: string | Uint8Array,
    o: OnnxInferenceOptions = {},
  ): Promise<OnnxInference> {
    const provider = o.provider ?? "wasm";
    const name = typeof model === "string" ? model : "<onnx bytes>";
    const bytes = typeof model === "string" ? await Deno.readFile(model) : model;
    const ort: Ort = await keepingWebWorker(() =>
      provider === "webgpu" ? loadOnnxRuntimeWebGpu() : loadOnnxRuntime()
    );
    ort.env.wasm.numThreads = o.threads ?? 1;
    ort.env.logLevel = "error";
    let session;
    try {
      session = await keepingWebWorker(() =>
        ort.InferenceSession.create(bytes, {
          executionProviders: [provider],
          graphOptimizationLevel: o.graphOptimizationLevel ?? "all",
        })
      );
    } catch (e) {
      throw new LumenError(
        name,
        provider,
        `onnxruntime-web could not open the model: ${(e as Error).message}`,
      );
    }
    return new OnnxInference(ort, session, provider);
  }

  /** Input names, in graph order. */
  get inputNames(): string[] {
    return [...this.session.inputNames];
  }

  /** Output names, in graph order. */
  get outputNames(): string[] {
    return [...this.session.outputNames];
  }

  /**
   * Runs the model. `inputs`: one float32 array for a single-input model, or arrays by input
   * name. Returns every output by name (float32; int64 outputs as BigInt64Array).
   */
  async run(inputs: NdArray | Record<string, NdArray>): Promise<Map<string, NdArray>> {
    const feeds: Record<string, unknown> = {};
    const byName: Record<string, NdArray> = "data" in inputs && "shape" in inputs
      ? { [this.inputNames[0]]: inputs as NdArray }
      : inputs as Record<string, NdArray>;
    for (const n of this.inputNames) {
      const a = byName[n];
      if (!a) {
        throw new LumenError(
          "onnx",
          n,
          `input missing (the model takes ${this.inputNames.join(", ")})`,
        );
      }
      feeds[n] = new this.ort.Tensor(a.dtype === "float32" ? "float32" : a.dtype, a.data, a.shape);
    }
    // deno-lint-ignore no-explicit-any
    const r: any = await keepingWebWorker(() => this.session.run(feeds));
    const out = new Map<string, NdArray>();
    for (const n of this.outputNames) {
      const t = r[n];
      const data = t.location && t.location !== "cpu" ? await t.getData() : t.data;
      out.set(n, { dtype: t.type === "float32" ? "float32" : t.type, shape: [...t.dims], data });
    }
    return out;
  }

  /** Runs a single-input single-output model on one array. */
  async run1(x: NdArray): Promise<NdArray> {
    const r = await this.run(x);
    return r.get(this.outputNames[0])!;
  }

  /** Frees the session. */
  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Modules and parameters, in PyTorch's shape: a {@link Module} owns named parameters, buffers
 * and child modules (registered explicitly), has train/eval modes, and reads/writes a named
 * state (state dict) whose names equal PyTorch's for the same architecture
 * (`down2.1.weight`, `model.7.bias`, …), so weights move between the two unchanged.
 *
 * Parameters are persistent tensors (outside the per-step arena) with `requiresGrad`; the
 * optimisers (lib/optim) update their storage in place.
 *
 * @example
 * ```ts
 * class Net extends Module {
 *   fc = this.child("fc", new Linear(4, 2));
 *   forward(x: Tensor) { return this.fc.forward(x); }
 * }
 * const net = new Net();
 * const sd = await net.stateDict();           // Map<"fc.weight" | "fc.bias", NdArray>
 * net.loadStateDict(sd);
 * ```
 * @module
 */
import { type Backend, getDefaultBackend } from "../tensor/backend.ts";
import { fmtShape, Tensor } from "../tensor/tensor.ts";
import type { NdArray } from "../io/array.ts";
import { LumenError } from "../run/errors.ts";
import type { OnnxGraph } from "./onnx_export.ts";

/** A trainable tensor: persistent storage, gradients on. */
export class Parameter extends Tensor {
  /**
   * @param data initial values (C order)
   * @param shape shape
   * @param backend backend (default: the default backend)
   */
  static from(data: Float32Array, shape: readonly number[], backend?: Backend): Parameter {
    const b = backend ?? getDefaultBackend();
    const s = b.alloc(data.length, "float32", "persistent");
    b.write(s, data);
    const p = new Parameter(s, shape, true);
    return p;
  }
}

/** A persistent non-trainable float32 tensor (running statistics). */
export function persistentTensor(
  data: Float32Array,
  shape: readonly number[],
  backend?: Backend,
): Tensor {
  const b = backend ?? getDefaultBackend();
  const s = b.alloc(data.length, "float32", "persistent");
  b.write(s, data);
  return new Tensor(s, shape, false);
}

/** The JSON description of an architecture (type name and constructor options). */
export interface ModuleConfig {
  type: string;
  [option: string]: unknown;
}

/** A named state: name → array (what safetensors stores). */
export type StateDict = Map<string, NdArray>;

/** Options of {@link Module.loadStateDict}. */
export interface LoadStateOptions {
  /** Every name must match both ways (default true). */
  strict?: boolean;
  /** Name of the source, for error messages (a file name). */
  source?: string;
  /** Prefix stripped from the source names (e.g. "gen."). */
  prefix?: string;
}

/** Base class of every layer and model. */
export abstract class Module {
  /** Training mode (dropout on, batch statistics with running-stat updates). */
  training = true;
  /** Own parameters, in registration order. */
  readonly _params = new Map<string, Parameter | null>();
  /** Own buffers (persistent tensors that are state but not trained). */
  readonly _buffers = new Map<string, Tensor | null>();
  /** Child modules, in registration order. */
  readonly _modules = new Map<string, Module>();

  /** Registers a parameter (null: an absent optional one, e.g. bias=false). */
  protected param<P extends Parameter | null>(name: string, p: P): P {
    this._params.set(name, p);
    if (p) p.name = name;
    return p;
  }

  /** Registers a buffer. */
  protected buffer<T extends Tensor | null>(name: string, t: T): T {
    this._buffers.set(name, t);
    return t;
  }

  /** Registers a child module. */
  child<M extends Module>(name: string, m: M): M {
    this._modules.set(name, m);
    return m;
  }

  /** The forward pass. */
  abstract forward(x: Tensor, ...rest: Tensor[]): Tensor;

  /** Architecture description (override in models; layers give their options). */
  config(): ModuleConfig {
    return { type: this.constructor.name };
  }

  /**
   * Writes this module's ONNX nodes for `inputs` (value names) and returns its outputs' names.
   * `prefix` is this module's state-dict prefix ("down2." …), for initializer names.
   */
  toOnnx(_g: OnnxGraph, _inputs: string[], _prefix: string): string[] {
    throw new LumenError("onnx export", this.constructor.name, "this module has no ONNX export");
  }

  /** Every (name, module) pair below and including this one, depth first (torch order). */
  namedModules(prefix = ""): Array<[string, Module]> {
    const out: Array<[string, Module]> = [[prefix, this]];
    for (const [n, m] of this._modules) out.push(...m.namedModules(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  /** Every parameter with its full name, in torch's order. */
  namedParameters(): Array<[string, Parameter]> {
    const out: Array<[string, Parameter]> = [];
    for (const [mp, m] of this.namedModules()) {
      for (const [n, p] of m._params) if (p) out.push([mp ? `${mp}.${n}` : n, p]);
    }
    return out;
  }

  /** Every parameter. */
  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Every buffer with its full name. */
  namedBuffers(): Array<[string, Tensor]> {
    const out: Array<[string, Tensor]> = [];
    for (const [mp, m] of this.namedModules()) {
      for (const [n, b] of m._buffers) if (b) out.push([mp ? `${mp}.${n}` : n, b]);
    }
    return out;
  }

  /** Parameters and buffers by full name, in torch's state_dict order (each module: params, buffers). */
  stateTensors(): Array<[string, Tensor]> {
    const out: Array<[string, Tensor]> = [];
    const walk = (m: Module, prefix: string) => {
      for (const [n, p] of m._params) if (p) out.push([prefix + n, p]);
      for (const [n, b] of m._buffers) if (b) out.push([prefix + n, b]);
      for (const [n, c] of m._modules) walk(c, `${prefix}${n}.`);
    };
    walk(this, "");
    return out;
  }

  /** Total number of parameter elements. */
  numParameters(): number {
    return this.parameters().reduce((a, p) => a + p.size, 0);
  }

  /** Sets training mode on this module and every child. */
  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }

  /** Inference mode (= train(false)). */
  eval(): this {
    return this.train(false);
  }

  /** Turns gradients of every parameter on or off. */
  requiresGrad(on: boolean): this {
    for (const p of this.parameters()) p.requiresGrad = on;
    return this;
  }

  /** Zeroes the gradients in place (or drops them with `setToNone`). */
  zeroGrad(setToNone = false): void {
    for (const p of this.parameters()) {
      if (!p.grad) continue;
      if (setToNone) p.grad = null;
      else p.grad.backend.fill(p.grad.storage, 0);
    }
  }

  /** Reads the named state (parameters and buffers) into host arrays. */
  async stateDict(): Promise<StateDict> {
    const out: StateDict = new Map();
    for (const [n, t] of this.stateTensors()) {
      if (t.dtype === "int32") {
        out.set(n, { dtype: "int32", shape: [...t.shape], data: await t.dataInt() });
      } else {
        out.set(n, { dtype: "float32", shape: [...t.shape], data: await t.data() });
      }
    }
    return out;
  }

  /**
   * Writes a named state into the parameters and buffers (float arrays are converted to
   * float32). Checks every name and shape first and reports all problems at once, naming the
   * tensors and their shapes; nothing is written when a check fails.
   *
   * @throws LumenError naming missing/unexpected tensors and shape mismatches
   */
  loadStateDict(sd: StateDict, o: LoadStateOptions = {}): void {
    const strict = o.strict ?? true;
    const src = o.source ?? "state dict";
    const prefix = o.prefix ?? "";
    const mine = new Map(this.stateTensors());
    const theirs = new Map<string, NdArray>();
    for (const [k, v] of sd) {
      if (prefix && !k.startsWith(prefix)) continue;
      theirs.set(k.slice(prefix.length), v);
    }
    const problems: string[] = [];
    const missing = [...mine.keys()].filter((k) => !theirs.has(k));
    const unexpected = [...theirs.keys()].filter((k) =>
      !mine.has(k) && !k.endsWith("num_batches_tracked")
    );
    const mismatched: string[] = [];
    for (const [k, t] of mine) {
      const a = theirs.get(k);
      if (!a) continue;
      if (a.shape.length !== t.shape.length || a.shape.some((d, i) => d !== t.shape[i])) {
        mismatched.push(
          `'${k}' is ${fmtShape(a.shape)} in ${src} but ${fmtShape(t.shape)} in the model`,
        );
      }
    }
    const list = (xs: string[]) =>
      xs.slice(0, 8).join(", ") + (xs.length > 8 ? ` (and ${xs.length - 8} more)` : "");
    if (mismatched.length) problems.push(`shape mismatch: ${list(mismatched)}`);
    if (strict && missing.length) {
      problems.push(
        `missing from ${src}: ${
          list(missing.map((k) => `'${k}' ${fmtShape(mine.get(k)!.shape)}`))
        }`,
      );
    }
    if (strict && unexpected.length) {
      problems.push(
        `not in the model: ${
          list(unexpected.map((k) => `'${k}' ${fmtShape(theirs.get(k)!.shape)}`))
        }`,
      );
    }
    if (problems.length) {
      const cfg = this.config();
      throw new LumenError(
        src,
        prefix ? `${prefix}*` : "",
        `does not fit ${cfg.type} (${
          Object.entries(cfg).filter(([k]) => k !== "type").map(([k, v]) =>
            `${k}=${JSON.stringify(v)}`
          ).join(", ")
        }): ${problems.join("; ")}`,
      );
    }
    for (const [k, t] of mine) {
      const a = theirs.get(k);
      if (!a) continue;
      if (t.dtype === "int32") {
        t.backend.write(t.storage, Int32Array.from(a.data as ArrayLike<number>, Number));
      } else if (a.data instanceof Float32Array) {
        t.backend.write(t.storage, a.data);
      } else {
        t.backend.write(t.storage, Float32Array.from(a.data as ArrayLike<number>, Number));
      }
    }
  }
}

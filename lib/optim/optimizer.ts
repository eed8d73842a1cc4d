/**
 * The optimiser base: parameter groups (each with its own learning rate and hyper-parameters),
 * per-parameter state tensors (persistent, updated in place by the backend's fused kernels),
 * zero_grad, and a state that round-trips exactly through a checkpoint.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import type { Parameter } from "../nn/module.ts";
import type { NdArray } from "../io/array.ts";
import { LumenError } from "../run/errors.ts";

/** A parameter group: its parameters and hyper-parameters (lr, betas, …). */
export interface ParamGroup {
  params: Parameter[];
  lr: number;
  /** Set by schedulers (CosineAnnealingLR) on first use. */
  initialLr?: number;
  [hyper: string]: unknown;
}

/** A group as given to a constructor: parameters plus overrides of the defaults. */
export type GroupSpec = { params: Parameter[] } & Record<string, unknown>;

/** The saved state of an optimiser: JSON part and tensors. */
export interface OptimizerState {
  /** "Adam", "AdamW", "SGD". */
  kind: string;
  /** Hyper-parameters per group, with parameter indices (torch's layout). */
  groups: Array<Record<string, unknown> & { params: number[] }>;
  /** Per-parameter scalar state (e.g. step), by parameter index. */
  scalars: Record<string, Record<string, number>>;
  /** Shapes of the parameters, by index (to check a state against its model). */
  shapes: number[][];
  /** State tensors named "<index>.<name>" (exp_avg, exp_avg_sq, momentum_buffer). */
  tensors: Map<string, NdArray>;
}

/** Base class of SGD, Adam, AdamW. */
export abstract class Optimizer {
  readonly paramGroups: ParamGroup[];
  /** Per-parameter state tensors, by parameter. */
  protected readonly tensorState = new Map<Parameter, Map<string, Tensor>>();
  /** Per-parameter scalar state (step counts), by parameter. */
  protected readonly scalarState = new Map<Parameter, Record<string, number>>();
  abstract readonly kind: string;

  constructor(
    params: Parameter[] | GroupSpec[],
    defaults: Record<string, unknown> & { lr: number },
  ) {
    const specs: GroupSpec[] = params.length &&
        !("params" in (params[0] as object) && Array.isArray((params[0] as GroupSpec).params))
      ? [{ params: params as Parameter[] }]
      : params as GroupSpec[];
    if (!specs.length || specs.every((g) => !g.params.length)) {
      throw new LumenError("optimizer", "", "optimizer got an empty parameter list");
    }
    const seen = new Set<Parameter>();
    this.paramGroups = specs.map((g) => {
      for (const p of g.params) {
        if (seen.has(p)) {
          throw new LumenError(
            "optimizer",
            "",
            "some parameters appear in more than one parameter group",
          );
        }
        seen.add(p);
      }
      return { ...defaults, ...g, params: [...g.params] } as ParamGroup;
    });
  }

  /** Every parameter, in group order (the index used in saved states). */
  allParams(): Parameter[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /** Zeroes every gradient in place (torch 1.13's default), or drops them. */
  zeroGrad(setToNone = false): void {
    for (const p of this.allParams()) {
      if (!p.grad) continue;
      if (setToNone) p.grad = null;
      else p.grad.backend.fill(p.grad.storage, 0);
    }
  }

  /** One update of every parameter that has a gradient. */
  abstract step(): void;

  /** A state tensor of p (persistent zeros on first use). */
  protected stateTensor(p: Parameter, name: string): Tensor {
    let m = this.tensorState.get(p);
    if (!m) this.tensorState.set(p, m = new Map());
    let t = m.get(name);
    if (!t) {
      const s = p.backend.alloc(p.size, "float32", "persistent");
      p.backend.fill(s, 0);
      t = new Tensor(s, p.shape, false);
      t.name = `${p.name}.${name}`;
      m.set(name, t);
    }
    return t;
  }

  /** True when p has the named state tensor already. */
  protected hasState(p: Parameter, name: string): boolean {
    return !!this.tensorState.get(p)?.has(name);
  }

  protected scalars(p: Parameter): Record<string, number> {
    let s = this.scalarState.get(p);
    if (!s) this.scalarState.set(p, s = {});
    return s;
  }

  /** Reads the state (hyper-parameters, step counts, moment tensors). */
  async stateDict(): Promise<OptimizerState> {
    const params = this.allParams();
    const index = new Map(params.map((p, i) => [p, i]));
    const tensors = new Map<string, NdArray>();
    const scalars: Record<string, Record<string, number>> = {};
    for (const [p, m] of this.tensorState) {
      const i = index.get(p)!;
      for (const [n, t] of m) {
        tensors.set(`${i}.${n}`, { dtype: "float32", shape: [...t.shape], data: await t.data() });
      }
    }
    for (const [p, s] of this.scalarState) scalars[String(index.get(p)!)] = { ...s };
    return {
      kind: this.kind,
      groups: this.paramGroups.map((g) => {
        const { params: ps, ...hyper } = g;
        return { ...hyper, params: ps.map((p) => index.get(p)!) };
      }),
      scalars,
      shapes: params.map((p) => [...p.shape]),
      tensors,
    };
  }

  /**
   * Restores a state saved by {@link stateDict} for the same parameters.
   *
   * @throws LumenError when the kind, the number of parameters or a shape differs
   */
  loadStateDict(s: OptimizerState, source = "optimizer state"): void {
    if (s.kind !== this.kind) {
      throw new LumenError(source, "", `holds ${s.kind} state, this optimiser is ${this.kind}`);
    }
    const params = this.allParams();
    if (s.shapes.length !== params.length) {
      throw new LumenError(
        source,
        "",
        `holds state for ${s.shapes.length} parameters, the optimiser has ${params.length}`,
      );
    }
    const bad = params.flatMap((p, i) =>
      s.shapes[i].length !== p.shape.length || s.shapes[i].some((d, k) => d !== p.shape[k])
        ? [
          `parameter ${i} (${p.name || "?"}) is [${s.shapes[i].join(", ")}] in ${source} but [${
            p.shape.join(", ")
          }] here`,
        ]
        : []
    );
    if (bad.length) throw new LumenError(source, "", `does not fit: ${bad.slice(0, 6).join("; ")}`);
    if (s.groups.length !== this.paramGroups.length) {
      throw new LumenError(
        source,
        "",
        `has ${s.groups.length} parameter groups, the optimiser ${this.paramGroups.length}`,
      );
    }
    s.groups.forEach((g, i) => {
      const { params: _p, ...hyper } = g;
      Object.assign(this.paramGroups[i], hyper);
    });
    this.scalarState.clear();
    for (const [k, v] of Object.entries(s.scalars)) {
      this.scalarState.set(params[Number(k)], { ...v });
    }
    for (const [name, a] of s.tensors) {
      const dot = name.indexOf(".");
      const p = params[Number(name.slice(0, dot))];
      if (!p) {
        throw new LumenError(
          source,
          name,
          "state for a parameter index the optimiser does not have",
        );
      }
      const t = this.stateTensor(p, name.slice(dot + 1));
      if (a.data.length !== t.size) {
        throw new LumenError(
          source,
          name,
          `has ${a.data.length} elements, parameter ${p.name || ""} [${
            p.shape.join(", ")
          }] has ${t.size}`,
        );
      }
      t.backend.write(
        t.storage,
        a.data instanceof Float32Array
          ? a.data
          : Float32Array.from(a.data as ArrayLike<number>, Number),
      );
    }
  }
}

/**
 * Tensor and the autograd tape.
 *
 * A Tensor is a contiguous (C-order) block of one backend's storage plus a shape. Ops
 * (lib/tensor/ops/*.ts, each op's forward and backward side by side) create new tensors and,
 * when gradients are on and an input requires them, record a {@link Node} on the output.
 * `t.backward()` walks the nodes in reverse topological order and accumulates `.grad` on the
 * leaves that require it.
 *
 * Memory: tensors made by ops live in the backend's per-step arena (`lifetime: "step"`), freed
 * all at once by {@link resetArena} (the training loop calls it after the optimiser step);
 * parameters and optimiser state are `persistent`. Using a tensor whose storage was freed throws.
 *
 * @example
 * ```ts
 * import { tensor } from "./tensor.ts";
 * import { mul, sum } from "./ops/mod.ts";
 * const x = tensor([1, 2, 3], [3], { requiresGrad: true });
 * const y = sum(mul(x, x));
 * y.backward();
 * console.log(await x.grad!.data()); // Float32Array [2, 4, 6]
 * ```
 * @module
 */
import {
  type Backend,
  getDefaultBackend,
  type Lifetime,
  type Storage,
  type TensorDType,
} from "./backend.ts";
import { LumenError } from "../run/errors.ts";

/** Shape helpers. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** C-order strides of a shape, in elements. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** "[2, 3, 4]" for error messages. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** An error about tensor arguments: names the op and the shapes/dtypes involved. */
export class TensorError extends LumenError {
  constructor(op: string, problem: string) {
    super("tensor", op, problem);
    this.name = "TensorError";
  }
}

// ---------------------------------------------------------------------------------------------
// Gradient mode

let gradEnabled = true;

/** True while ops record the tape. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs `fn` with the tape off (like torch.no_grad). For an async `fn` the tape stays off until
 * its promise settles (do not interleave other training work meanwhile).
 */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  let async = false;
  try {
    const r = fn();
    if (r instanceof Promise) {
      async = true;
      return r.finally(() => {
        gradEnabled = prev;
      }) as T;
    }
    return r;
  } finally {
    if (!async) gradEnabled = prev;
  }
}

/** Turns the tape on or off (returns the previous setting). */
export function setGradEnabled(on: boolean): boolean {
  const prev = gradEnabled;
  gradEnabled = on;
  return prev;
}

// ---------------------------------------------------------------------------------------------
// Tape

/** One recorded op: its inputs and the function that maps the output gradient to theirs. */
export interface Node {
  /** Op name (for errors and debugging). */
  readonly op: string;
  /** The inputs, in the order `backward` returns their gradients. */
  readonly inputs: Tensor[];
  /** Gradients for each input (null where an input needs none); runs with the tape off. */
  backward(gy: Tensor): (Tensor | null)[];
}

let nextId = 1;

/** Options of tensor creation. */
export interface TensorOptions {
  requiresGrad?: boolean;
  dtype?: TensorDType;
  backend?: Backend;
  /** Parameters and optimiser state: true. Default: the per-step arena. */
  persistent?: boolean;
}

/** An n-dimensional array on a backend, with an optional gradient. */
export class Tensor {
  /** Unique id (creation order). */
  readonly id: number;
  /** Extent per axis; [] for a scalar. */
  readonly shape: readonly number[];
  /** Element type. */
  readonly dtype: TensorDType;
  /** The backend holding it. */
  readonly backend: Backend;
  /** The storage (contiguous, exactly `size` elements used from element 0). */
  storage: Storage;
  /** Whether gradients flow to this tensor. */
  requiresGrad: boolean;
  /** Accumulated gradient (after `backward`), or null. */
  grad: Tensor | null = null;
  /** The op that made it (null for leaves and for tensors made with the tape off). */
  node: Node | null = null;
  /** Optional name (parameters), for messages. */
  name = "";

  constructor(storage: Storage, shape: readonly number[], requiresGrad = false) {
    const n = sizeOf(shape);
    if (n !== storage.size) {
      throw new TensorError(
        "Tensor",
        `shape ${fmtShape(shape)} has ${n} elements, storage ${storage.size}`,
      );
    }
    this.id = nextId++;
    this.shape = Object.freeze([...shape]);
    this.dtype = storage.dtype;
    this.backend = storage.backend;
    this.storage = storage;
    this.requiresGrad = requiresGrad;
  }

  /** Number of elements. */
  get size(): number {
    return this.storage.size;
  }

  /** Number of axes. */
  get ndim(): number {
    return this.shape.length;
  }

  /** A leaf: made by the user, not by a recorded op. */
  get isLeaf(): boolean {
    return this.node === null;
  }

  /** Reads the elements (C order). */
  async data(): Promise<Float32Array> {
    const d = await this.backend.read(this.storage);
    if (d instanceof Float32Array) return d;
    return Float32Array.from(d);
  }

  /** Reads int32 elements (indices, labels). */
  async dataInt(): Promise<Int32Array> {
    const d = await this.backend.read(this.storage);
    if (d instanceof Int32Array) return d;
    return Int32Array.from(d);
  }

  /** Synchronous read (wasm backend only). */
  dataSync(): Float32Array {
    if (!this.backend.readSync) {
      throw new TensorError(
        "dataSync",
        `backend ${this.backend.name} reads asynchronously: use await t.data()`,
      );
    }
    const d = this.backend.readSync(this.storage);
    return d instanceof Float32Array ? d : Float32Array.from(d);
  }

  /** The single element of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) {
      throw new TensorError("item", `tensor of shape ${fmtShape(this.shape)} is not one element`);
    }
    return (await this.backend.read(this.storage))[0];
  }

  /** A tensor sharing this storage with no tape history. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, false);
  }

  /** Frees the storage now (the tensor must not be used afterwards). */
  dispose(): void {
    this.backend.free(this.storage);
  }

  /**
   * Back-propagates from this tensor. Without `gradient`, the tensor must have one element
   * (gradient 1). Gradients accumulate into `.grad` of leaves with `requiresGrad`. With
   * `freeGraph`, the graph's intermediate tensors are freed on the way (see
   * {@link BackwardOptions}).
   */
  backward(gradient?: Tensor, opts: BackwardOptions = {}): void {
    backward(this, gradient, opts);
  }

  toString(): string {
    return `Tensor(${fmtShape(this.shape)}, ${this.dtype}, ${this.backend.name}${
      this.requiresGrad ? ", requiresGrad" : ""
    })`;
  }
}

/**
 * Options of {@link Tensor.backward}.
 *
 * @example
 * ```ts
 * loss.backward(undefined, { freeGraph: true, keep: [partLoss] });
 * ```
 */
export interface BackwardOptions {
  /**
   * Frees the storage of every intermediate tensor of the graph (a step tensor made by a
   * recorded op) as soon as backward has passed it and no pending gradient or unvisited tensor
   * shares it, so that the memory of a forward pass is reused by the rest of the backward pass
   * and by what follows. The root, leaves and `keep` survive; any other tensor of the graph must
   * not be used afterwards (it throws), nor the graph backpropagated again.
   */
  freeGraph?: boolean;
  /** Tensors of the graph to keep with `freeGraph` (and whatever shares their storage). */
  keep?: readonly Tensor[];
}

/** Makes an op's output, recording `backward` when the tape is on and an input needs grad. */
export function record(
  out: Tensor,
  op: string,
  inputs: Tensor[],
  backward: (gy: Tensor) => (Tensor | null)[],
): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { op, inputs, backward };
  }
  return out;
}

/** Tensors allocated while a node's backward runs (so that its temporaries can be freed). */
let tracker: Tensor[] | null = null;

/** An uninitialised tensor (ops' outputs). */
export function empty(
  shape: readonly number[],
  opts: { dtype?: TensorDType; backend?: Backend; persistent?: boolean } = {},
): Tensor {
  const b = opts.backend ?? getDefaultBackend();
  const life: Lifetime = opts.persistent ? "persistent" : "step";
  const t = new Tensor(b.alloc(sizeOf(shape), opts.dtype ?? "float32", life), shape);
  if (tracker && life === "step") tracker.push(t);
  return t;
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
  const t = empty(shape, opts);
  t.backend.fill(t.storage, value);
  t.requiresGrad = !!opts.requiresGrad;
  return t;
}

/** Zeros. */
export function zeros(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return full(shape, 0, opts);
}

/** Ones. */
export function ones(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return full(shape, 1, opts);
}

/** Nested arrays → flat numbers and shape. */
function flatten(data: unknown, shape: number[], out: number[], depth: number): void {
  if (Array.isArray(data)) {
    if (shape.length <= depth) shape.push(data.length);
    else if (shape[depth] !== data.length) throw new TensorError("tensor", "ragged nested array");
    for (const d of data) flatten(d, shape, out, depth + 1);
  } else if (typeof data === "number") {
    out.push(data);
  } else {
    throw new TensorError("tensor", `not a number: ${String(data)}`);
  }
}

/**
 * A tensor from data: a typed array or (nested) number array, a number for a scalar. With a
 * flat array, `shape` defaults to [length].
 */
export function tensor(
  data: ArrayLike<number> | number | number[][] | number[][][] | number[][][][],
  shape?: readonly number[],
  opts: TensorOptions = {},
): Tensor {
  let flat: ArrayLike<number>;
  let shp: number[];
  if (typeof data === "number") {
    flat = [data];
    shp = [];
  } else if (ArrayBuffer.isView(data)) {
    flat = data as ArrayLike<number>;
    shp = [flat.length];
  } else {
    const f: number[] = [];
    shp = [];
    flatten(data, shp, f, 0);
    flat = f;
  }
  if (shape) {
    if (sizeOf(shape) !== flat.length) {
      throw new TensorError("tensor", `${flat.length} values do not fill shape ${fmtShape(shape)}`);
    }
    shp = [...shape];
  }
  const dtype = opts.dtype ?? (data instanceof Int32Array ? "int32" : "float32");
  const t = empty(shp, { dtype, backend: opts.backend, persistent: opts.persistent });
  const arr = dtype === "int32"
    ? (flat instanceof Int32Array ? flat : Int32Array.from(flat))
    : (flat instanceof Float32Array ? flat : Float32Array.from(flat));
  t.backend.write(t.storage, arr);
  t.requiresGrad = !!opts.requiresGrad;
  return t;
}

/** A scalar tensor (shape []). */
export function scalar(v: number, opts: TensorOptions = {}): Tensor {
  return tensor(v, [], opts);
}

/** Frees every step (arena) tensor of the backend (default: the default backend). */
export function resetArena(backend?: Backend): void {
  (backend ?? getDefaultBackend()).resetArena();
}

// ---------------------------------------------------------------------------------------------
// Backward

/** Hook for ops/mod.ts: adds two gradients (set there to avoid an import cycle at load). */
let addGrads: (a: Tensor, b: Tensor) => Tensor = () => {
  throw new Error("ops not loaded");
};
/** Hook for ops/mod.ts: copies a tensor into a new persistent tensor. */
let copyPersistent: (a: Tensor) => Tensor = () => {
  throw new Error("ops not loaded");
};
/** Hook for ops/mod.ts: dst += src in place. */
let addInPlace: (dst: Tensor, src: Tensor) => void = () => {
  throw new Error("ops not loaded");
};

/** Called once by ops/mod.ts. */
export function _setGradHooks(h: {
  add: (a: Tensor, b: Tensor) => Tensor;
  copyPersistent: (a: Tensor) => Tensor;
  addInPlace: (dst: Tensor, src: Tensor) => void;
}): void {
  addGrads = h.add;
  copyPersistent = h.copyPersistent;
  addInPlace = h.addInPlace;
}

function backward(root: Tensor, gradient: Tensor | undefined, opts: BackwardOptions): void {
  if (!root.requiresGrad) {
    throw new TensorError("backward", `tensor ${fmtShape(root.shape)} does not require grad`);
  }
  let g0: Tensor;
  if (gradient) {
    if (sizeOf(gradient.shape) !== root.size) {
      throw new TensorError(
        "backward",
        `gradient ${fmtShape(gradient.shape)} for tensor ${fmtShape(root.shape)}`,
      );
    }
    g0 = gradient;
  } else {
    if (root.size !== 1) {
      throw new TensorError(
        "backward",
        `implicit gradient needs a one-element tensor, got ${fmtShape(root.shape)}`,
      );
    }
    g0 = full(root.shape, 1, { backend: root.backend });
  }
  // Topological order (iterative DFS).
  const order: Tensor[] = [];
  const seen = new Set<number>();
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root.id);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const ins = t.node ? t.node.inputs : [];
    if (i < ins.length) {
      top[1]++;
      const c = ins[i];
      if (c.requiresGrad && !seen.has(c.id)) {
        seen.add(c.id);
        stack.push([c, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  // Gradients pending per tensor id. Storages are reference-counted while in this map, so that
  // an intermediate gradient is freed as soon as it has been propagated (unless something that
  // must outlive backward holds it: the caller's gradient, forward tensors, leaf .grad).
  const grads = new Map<number, Tensor>();
  const refs = new Map<Storage, number>();
  const protect = new Set<Storage>();
  for (const t of order) protect.add(t.storage);
  if (gradient) protect.add(gradient.storage);
  const hold = (x: Tensor) => refs.set(x.storage, (refs.get(x.storage) ?? 0) + 1);
  const release = (x: Tensor) => refs.set(x.storage, (refs.get(x.storage) ?? 1) - 1);
  const maybeFree = (x: Tensor) => {
    const s = x.storage;
    if ((refs.get(s) ?? 0) <= 0 && !protect.has(s) && s.lifetime === "step") {
      refs.delete(s);
      protect.add(s); // never twice
      s.backend.free(s);
    }
  };
  // freeGraph: unvisited tensors of the graph per storage; a forward storage is freed once the
  // last tensor sharing it has been visited (its consumers' backwards ran before it)
  const uses = new Map<Storage, number>();
  const kept = new Set<Storage>([root.storage, ...(opts.keep ?? []).map((t) => t.storage)]);
  if (gradient) kept.add(gradient.storage);
  if (opts.freeGraph) {
    for (const t of order) uses.set(t.storage, (uses.get(t.storage) ?? 0) + 1);
    for (const t of order) if (!t.node) kept.add(t.storage);
  }
  const visited = (t: Tensor) => {
    if (!opts.freeGraph) return;
    const s = t.storage, left = (uses.get(s) ?? 1) - 1;
    uses.set(s, left);
    if (left > 0 || kept.has(s) || s.lifetime !== "step" || (refs.get(s) ?? 0) > 0) return;
    kept.add(s); // never twice
    s.backend.free(s);
  };
  grads.set(root.id, g0);
  hold(g0);
  const prev = setGradEnabled(false);
  try {
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k];
      const g = grads.get(t.id);
      if (!g) {
        visited(t);
        continue;
      }
      grads.delete(t.id);
      if (!t.node) {
        accumulateLeaf(t, g);
        if (t.grad) protect.add(t.grad.storage);
        release(g);
        maybeFree(g);
        continue;
      }
      tracker = [];
      let gs: (Tensor | null)[];
      try {
        gs = t.node.backward(g.shape.length === t.shape.length ? g : reshapeRaw(g, t.shape));
      } finally {
        const made = tracker;
        tracker = null;
        // temporaries of the backward that are not returned gradients
        const keep = new Set<Storage>();
        for (const x of gs! ?? []) if (x) keep.add(x.storage);
        keep.add(g.storage);
        for (const x of made) if (!keep.has(x.storage)) maybeFree(x);
      }
      const ins = t.node.inputs;
      const dropped: Tensor[] = [g];
      for (let j = 0; j < ins.length; j++) {
        const x = ins[j];
        const gx = gs[j];
        if (!gx) continue;
        dropped.push(gx);
        if (!x.requiresGrad) continue;
        if (gx.size !== x.size) {
          throw new TensorError(
            `backward of ${t.node.op}`,
            `gradient ${fmtShape(gx.shape)} for input ${fmtShape(x.shape)}`,
          );
        }
        const have = grads.get(x.id);
        if (have) {
          const sum = addGrads(have, gx);
          grads.set(x.id, sum);
          hold(sum);
          release(have);
          dropped.push(have);
        } else {
          grads.set(x.id, gx);
          hold(gx);
        }
      }
      release(g);
      for (const x of dropped) maybeFree(x);
      visited(t);
    }
  } finally {
    tracker = null;
    setGradEnabled(prev);
  }
}

/** Reshape without the tape (same storage). */
function reshapeRaw(t: Tensor, shape: readonly number[]): Tensor {
  return new Tensor(t.storage, shape, false);
}

function accumulateLeaf(t: Tensor, g: Tensor): void {
  const gg = g.shape.length === t.shape.length ? g : reshapeRaw(g, t.shape);
  if (t.grad === null) {
    // Leaves in persistent storage (parameters) keep a persistent gradient across arena resets.
    t.grad = t.storage.lifetime === "persistent" ? copyPersistent(gg) : gg;
  } else if (t.grad.storage.lifetime === "persistent") {
    addInPlace(t.grad, gg);
  } else {
    t.grad = addGrads(t.grad, gg);
  }
}

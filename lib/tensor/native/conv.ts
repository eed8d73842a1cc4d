/**
 * The conv family over oneDNN primitives: convolution forward, backward data and backward
 * weights (dilated, grouped, with bias). Tensors stay in the backend's plain layouts (NCHW,
 * OIHW); with {@link ConvPlans.chooseLayouts} a primitive chooses its own blocked layouts
 * (`any`), and then the plan reorders into and out of scratch memory taken from the backend for
 * the call only. Every primitive runs in oneDNN's user scratchpad mode: its scratchpad is backend
 * memory taken for the call and freed after it (no library buffer kept beside the tensors).
 * Plans (primitive, reorders, memory objects) are cached per geometry.
 *
 * @example
 * ```ts
 * import { ConvPlans } from "./conv.ts";
 * const plans = new ConvPlans(dnnl(), mem);
 * plans.forward(x, w, bias, y, p); // addresses of x, w, bias, y in native memory
 * ```
 *
 * @module
 */
import { type Conv2dParams, convParamList } from "../backend.ts";
import type { Dnnl, MemoryDesc } from "./dnnl.ts";

/** Native memory for the plans: scratch bytes for one call. */
export interface ScratchSource {
  /** Reserves `bytes` and returns its native address and a release function. */
  scratch(bytes: number): { addr: bigint; release(): void };
}

/** One tensor argument of a primitive: the caller's plain memory and, if the layout differs, the primitive's. */
interface PlanArg {
  /** Index of the caller's address in the call's address list. */
  slot: number;
  /** Memory object over the caller's plain tensor. */
  user: bigint;
  /** Memory object in the primitive's layout (scratch), or null when the plain layout is used. */
  inner: bigint | null;
  innerBytes: number;
  /** Reorder user → inner (inputs) or inner → user (outputs). */
  reorder: bigint | null;
  reorderArgs: BigUint64Array | null;
  output: boolean;
}

/** A cached primitive with its arguments. */
interface Plan {
  prim: bigint;
  args: BigUint64Array;
  tensors: PlanArg[];
  what: string;
  /** Memory object of the primitive's scratchpad (pointed at backend scratch per call), or null. */
  scratch: bigint | null;
  scratchBytes: number;
}

/**
 * The primitives of a convolution geometry.
 *
 * @example
 * ```ts
 * const kind: ConvKind = "bwdWeightsNoBias";
 * plans.scratchBytes(kind, p);
 * ```
 */
export type ConvKind = "fwd" | "fwdNoBias" | "bwdData" | "bwdWeights" | "bwdWeightsNoBias";
type Kind = ConvKind;

/** Per-geometry oneDNN convolution plans. */
export class ConvPlans {
  private plans = new Map<string, Plan>();
  private fwdPds = new Map<string, bigint>();
  /**
   * true: each primitive chooses its layouts (`any`: blocked, with reorders into and out of
   * scratch around every call); false (default): it works on the plain NCHW/OIHW tensors
   * (oneDNN's GEMM-based convolution). The other kernels need plain tensors, so blocked layouts
   * cost reorders on every call (about 30 % of the convolution time of a NoStripesNet GAN step);
   * plain was 10–30 % faster per step in alternating measurements.
   */
  chooseLayouts = false;
  /** Most plans kept; the least recently used one is destroyed beyond it. */
  maxPlans = 256;

  constructor(private d: Dnnl, private mem: ScratchSource) {}

  /** y = conv(x, w) + bias (addresses; bias 0n for none). */
  forward(x: bigint, w: bigint, bias: bigint, y: bigint, p: Conv2dParams): void {
    const kind: Kind = bias ? "fwd" : "fwdNoBias";
    this.run(this.plan(kind, p), bias ? [x, w, bias, y] : [x, w, y]);
  }

  /** dx = ∂/∂x (overwritten). */
  backwardData(dy: bigint, w: bigint, dx: bigint, p: Conv2dParams): void {
    this.run(this.plan("bwdData", p), [dy, w, dx]);
  }

  /** dw = ∂/∂w and dbias = Σ dy (overwritten; dbias 0n for none). */
  backwardWeights(x: bigint, dy: bigint, dw: bigint, dbias: bigint, p: Conv2dParams): void {
    const kind: Kind = dbias ? "bwdWeights" : "bwdWeightsNoBias";
    this.run(this.plan(kind, p), dbias ? [x, dy, dw, dbias] : [x, dy, dw]);
  }

  /**
   * Bytes of scratchpad the primitive of `kind` for `p` takes per call (its plan is made and
   * cached here; oneDNN's GEMM-based backward-weights keeps a copy of the weight gradient per
   * thread, so this can reach several times the weights' size).
   */
  scratchBytes(kind: ConvKind, p: Conv2dParams): number {
    return this.plan(kind, p).scratchBytes;
  }

  /** Number of cached plans. */
  get size(): number {
    return this.plans.size;
  }

  /** Destroys every plan. */
  clear(): void {
    for (const pl of this.plans.values()) this.destroy(pl);
    for (const pd of this.fwdPds.values()) this.d.s.dnnl_primitive_desc_destroy(pd);
    this.plans.clear();
    this.fwdPds.clear();
  }

  private destroy(pl: Plan): void {
    const s = this.d.s;
    s.dnnl_primitive_destroy(pl.prim);
    if (pl.scratch) s.dnnl_memory_destroy(pl.scratch);
    for (const t of pl.tensors) {
      s.dnnl_memory_destroy(t.user);
      if (t.inner) s.dnnl_memory_destroy(t.inner);
      if (t.reorder) s.dnnl_primitive_destroy(t.reorder);
    }
  }

  /** Keeps at most {@link maxPlans} plans and forward descriptors (least recently used go). */
  private evict(): void {
    for (const [k, pl] of this.plans) {
      if (this.plans.size <= this.maxPlans) break;
      this.destroy(pl);
      this.plans.delete(k);
    }
    for (const [k, pd] of this.fwdPds) {
      if (this.fwdPds.size <= this.maxPlans) break;
      this.d.s.dnnl_primitive_desc_destroy(pd);
      this.fwdPds.delete(k);
    }
  }

  private run(pl: Plan, addrs: bigint[]): void {
    const d = this.d;
    const held: { release(): void }[] = [];
    try {
      if (pl.scratch) {
        const sc = this.mem.scratch(pl.scratchBytes);
        held.push(sc);
        d.setHandle(pl.scratch, sc.addr);
      }
      for (const t of pl.tensors) {
        d.setHandle(t.user, addrs[t.slot]);
        if (t.inner) {
          const sc = this.mem.scratch(t.innerBytes);
          held.push(sc);
          d.setHandle(t.inner, sc.addr);
          if (!t.output) d.execute(`${pl.what} reorder in`, t.reorder!, t.reorderArgs!);
        }
      }
      d.execute(pl.what, pl.prim, pl.args);
      for (const t of pl.tensors) {
        if (t.inner && t.output) d.execute(`${pl.what} reorder out`, t.reorder!, t.reorderArgs!);
      }
      d.wait();
    } finally {
      for (const h of held) h.release();
    }
  }

  /** Plain descriptors of the geometry. */
  private shapes(p: Conv2dParams) {
    const d = this.d, g = p.groups;
    const w = g === 1
      ? d.desc([p.cOut, p.cIn, p.kh, p.kw], d.F32, d.TAG.abcd)
      : d.desc([g, p.cOut / g, p.cIn / g, p.kh, p.kw], d.F32, d.TAG.abcde);
    const wAny = g === 1
      ? d.desc([p.cOut, p.cIn, p.kh, p.kw], d.F32, d.TAG.any)
      : d.desc([g, p.cOut / g, p.cIn / g, p.kh, p.kw], d.F32, d.TAG.any);
    const xs = [p.n, p.cIn, p.h, p.w], ys = [p.n, p.cOut, p.oh, p.ow];
    const tag = this.chooseLayouts ? d.TAG.any : d.TAG.abcd;
    return {
      x: d.desc(xs, d.F32, d.TAG.abcd),
      y: d.desc(ys, d.F32, d.TAG.abcd),
      w,
      b: d.desc([p.cOut], d.F32, d.TAG.a),
      xAny: d.desc(xs, d.F32, tag),
      yAny: d.desc(ys, d.F32, tag),
      wAny: this.chooseLayouts ? wAny : w,
      strides: d.dims([p.strideH, p.strideW]),
      dil: d.dims([p.dilH - 1, p.dilW - 1]),
      padL: d.dims([p.padH, p.padW]),
      padR: d.dims([
        (p.oh - 1) * p.strideH + (p.kh - 1) * p.dilH + 1 - p.h - p.padH,
        (p.ow - 1) * p.strideW + (p.kw - 1) * p.dilW + 1 - p.w - p.padW,
      ]),
    };
  }

  /** The forward primitive descriptor (also the hint of the backward ones). */
  private forwardPd(p: Conv2dParams, withBias: boolean): bigint {
    const key = `${withBias}:${geometryKey(p)}:${this.chooseLayouts}`;
    let pd = this.fwdPds.get(key);
    if (pd !== undefined) return pd;
    const d = this.d, sh = this.shapes(p), op = d.opDesc();
    d.check(
      `convolution forward ${geometryKey(p)}`,
      d.s.dnnl_dilated_convolution_forward_desc_init(
        op,
        d.PROP.forwardTraining,
        d.CONV_DIRECT,
        sh.xAny,
        sh.wAny,
        withBias ? sh.b : null,
        sh.yAny,
        sh.strides,
        sh.dil,
        sh.padL,
        sh.padR,
      ),
    );
    pd = d.primitiveDesc(`convolution forward ${geometryKey(p)}`, op);
    this.fwdPds.set(key, pd);
    return pd;
  }

  private plan(kind: Kind, p: Conv2dParams): Plan {
    const key = `${kind}:${geometryKey(p)}:${this.chooseLayouts}`;
    if (this.plans.size > this.maxPlans) this.evict();
    const hit = this.plans.get(key);
    if (hit) {
      // most recently used last
      this.plans.delete(key);
      this.plans.set(key, hit);
      return hit;
    }
    const d = this.d, sh = this.shapes(p), A = d.ARG, Q = d.QUERY;
    const what = `convolution ${kind} ${geometryKey(p)}`;
    let pd: bigint;
    // [exec arg, query, plain desc, output?] per tensor, in the order of the call's addresses
    let spec: [number, number | null, MemoryDesc, boolean][];
    if (kind === "fwd" || kind === "fwdNoBias") {
      pd = this.forwardPd(p, kind === "fwd");
      spec = [[A.src, Q.src, sh.x, false], [A.weights, Q.weights, sh.w, false]];
      if (kind === "fwd") spec.push([A.bias, null, sh.b, false]);
      spec.push([A.dst, Q.dst, sh.y, true]);
    } else if (kind === "bwdData") {
      const hint = this.forwardPd(p, false), op = d.opDesc();
      d.check(
        what,
        d.s.dnnl_dilated_convolution_backward_data_desc_init(
          op,
          d.CONV_DIRECT,
          sh.xAny,
          sh.wAny,
          sh.yAny,
          sh.strides,
          sh.dil,
          sh.padL,
          sh.padR,
        ),
      );
      pd = d.primitiveDesc(what, op, hint);
      spec = [
        [A.diffDst, Q.diffDst, sh.y, false],
        [A.weights, Q.weights, sh.w, false],
        [A.diffSrc, Q.diffSrc, sh.x, true],
      ];
    } else {
      const withBias = kind === "bwdWeights";
      const hint = this.forwardPd(p, withBias), op = d.opDesc();
      d.check(
        what,
        d.s.dnnl_dilated_convolution_backward_weights_desc_init(
          op,
          d.CONV_DIRECT,
          sh.xAny,
          sh.wAny,
          withBias ? sh.b : null,
          sh.yAny,
          sh.strides,
          sh.dil,
          sh.padL,
          sh.padR,
        ),
      );
      pd = d.primitiveDesc(what, op, hint);
      spec = [[A.src, Q.src, sh.x, false], [A.diffDst, Q.diffDst, sh.y, false]];
      spec.push([A.diffWeights, Q.diffWeights, sh.w, true]);
      if (withBias) spec.push([A.diffBias, null, sh.b, true]);
    }
    const tensors: PlanArg[] = [];
    const pairs: [number, bigint][] = [];
    spec.forEach(([arg, query, plain, output], slot) => {
      const user = d.memory(plain, 0n);
      const chosen = query === null ? plain : d.queryDesc(pd, query);
      if (d.equal(chosen, plain)) {
        tensors.push({
          slot,
          user,
          inner: null,
          innerBytes: 0,
          reorder: null,
          reorderArgs: null,
          output,
        });
        pairs.push([arg, user]);
        return;
      }
      const inner = d.memory(chosen, 0n);
      const rpd = output ? d.reorderDesc(chosen, plain) : d.reorderDesc(plain, chosen);
      const reorder = d.primitive(rpd);
      d.s.dnnl_primitive_desc_destroy(rpd);
      const reorderArgs = output
        ? d.args([[A.src, inner], [A.dst, user]])
        : d.args([[A.src, user], [A.dst, inner]]);
      tensors.push({
        slot,
        user,
        inner,
        innerBytes: d.bytes(chosen),
        reorder,
        reorderArgs,
        output,
      });
      pairs.push([arg, inner]);
    });
    // the primitive's scratchpad: backend memory for the call only (user scratchpad mode), so
    // that it reuses what the step has freed instead of a library buffer kept beside it
    const sp = d.scratchpadDesc(pd);
    const scratchBytes = sp ? d.bytes(sp) : 0;
    const scratch = scratchBytes > 0 ? d.memory(sp!, 0n) : null;
    if (scratch) pairs.push([A.scratchpad, scratch]);
    const prim = d.primitive(pd);
    if (kind === "bwdData" || kind === "bwdWeights" || kind === "bwdWeightsNoBias") {
      d.s.dnnl_primitive_desc_destroy(pd);
    }
    const plan: Plan = { prim, args: d.args(pairs), tensors, what, scratch, scratchBytes };
    this.plans.set(key, plan);
    this.evict();
    return plan;
  }
}

/** A string naming a convolution geometry. */
export function geometryKey(p: Conv2dParams): string {
  return convParamList(p).join(",");
}

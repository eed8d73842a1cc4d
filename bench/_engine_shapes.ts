/**
 * The shapes both engine benchmarks time (bench/engine_ops.ts on wasm, bench/engine_webgpu.ts on
 * webgpu) and their FLOP counts: a 1024³ matmul and NoStripesNet's own convolutions.
 *
 * @module
 */
import * as T from "../lib/tensor/mod.ts";
import type { Backend, Tensor } from "../lib/tensor/mod.ts";

/** One benchmarked operation. */
export interface Spec {
  name: string;
  kind: "conv2d" | "conv_transpose2d" | "matmul";
  n?: number;
  cin?: number;
  cout?: number;
  h?: number;
  w?: number;
  k?: number;
  stride?: number;
  pad?: number;
  outpad?: [number, number];
  m?: number;
  backward?: boolean;
}

export const SPECS: Spec[] = [
  { name: "matmul_1024", kind: "matmul", m: 1024, n: 1024, k: 1024 },
  {
    name: "down4",
    kind: "conv2d",
    n: 1,
    cin: 256,
    cout: 512,
    h: 225,
    w: 32,
    k: 4,
    stride: 2,
    pad: 1,
  },
  {
    name: "down2",
    kind: "conv2d",
    n: 1,
    cin: 64,
    cout: 128,
    h: 900,
    w: 128,
    k: 4,
    stride: 2,
    pad: 1,
  },
  {
    name: "up6",
    kind: "conv_transpose2d",
    n: 1,
    cin: 512,
    cout: 128,
    h: 112,
    w: 16,
    k: 4,
    stride: 2,
    pad: 1,
    outpad: [1, 0],
  },
  {
    name: "down4_fwd_bwd",
    kind: "conv2d",
    n: 1,
    cin: 256,
    cout: 512,
    h: 225,
    w: 32,
    k: 4,
    stride: 2,
    pad: 1,
    backward: true,
  },
];

/** FLOPs of one run (forward: 2·MACs; forward+backward: 3× that). */
export function flops(s: Spec): number {
  if (s.kind === "matmul") return 2 * s.m! * s.n! * s.k!;
  let oh: number, ow: number, h: number, w: number;
  if (s.kind === "conv2d") {
    oh = Math.floor((s.h! + 2 * s.pad! - s.k!) / s.stride!) + 1;
    ow = Math.floor((s.w! + 2 * s.pad! - s.k!) / s.stride!) + 1;
    [h, w] = [oh, ow];
  } else {
    [h, w] = [s.h!, s.w!]; // MACs counted on the small (input) side
  }
  const f = 2 * s.n! * s.cin! * s.cout! * s.k! * s.k! * h * w;
  return s.backward ? 3 * f : f;
}

/** The median of a list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Times one spec on a backend: `reps` timed runs after `warmup` untimed ones, each ended by
 * `sync()` and followed by an arena reset; seconds per run.
 */
export async function timeSpec(
  b: Backend,
  s: Spec,
  reps: number,
  warmup = 0,
): Promise<number[]> {
  const rng = new T.Rng(0);
  const o = { backend: b, persistent: true };
  let fn: () => Tensor;
  const keep: Tensor[] = [];
  if (s.kind === "matmul") {
    const a = T.randn([s.m!, s.k!], rng, o), c = T.randn([s.k!, s.n!], rng, o);
    keep.push(a, c);
    fn = () => T.matmul(a, c);
  } else {
    const x = T.randn([s.n!, s.cin!, s.h!, s.w!], rng, { ...o, requiresGrad: !!s.backward });
    const wShape = s.kind === "conv2d"
      ? [s.cout!, s.cin!, s.k!, s.k!]
      : [s.cin!, s.cout!, s.k!, s.k!];
    const w = T.randn(wShape, rng, { ...o, std: 0.02, requiresGrad: !!s.backward });
    const bias = T.zeros([s.cout!], o);
    keep.push(x, w, bias);
    const fwd = s.kind === "conv2d"
      ? () => T.conv2d(x, w, bias, { stride: s.stride, padding: s.pad })
      : () =>
        T.convTranspose2d(x, w, bias, {
          stride: s.stride,
          padding: s.pad,
          outputPadding: s.outpad,
        });
    fn = s.backward
      ? () => {
        x.grad = null;
        w.grad = null;
        const y = fwd();
        y.backward(T.ones(y.shape, { backend: b }));
        return y;
      }
      : () => T.noGrad(fwd);
  }
  const ts: number[] = [];
  for (let i = 0; i < warmup + reps; i++) {
    const t0 = performance.now();
    fn();
    await b.sync();
    const dt = (performance.now() - t0) / 1000;
    if (i >= warmup) ts.push(dt);
    b.resetArena();
  }
  for (const t of keep) {
    if (t.grad && t.grad.storage.lifetime === "persistent") t.grad.dispose();
    t.dispose();
  }
  return ts;
}

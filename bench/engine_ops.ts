// bench-permissions: --allow-read --allow-env --allow-run=/usr/bin/python3 --allow-sys
/**
 * Benchmarks `conv2d_gflops_<backend>` and `matmul_gflops_<backend>`: the engine's convolution
 * and GEMM throughput against PyTorch CPU (float32, OMP_NUM_THREADS=2, bench/peers/engine_ops.py)
 * on the same shapes.
 *
 * - matmul: 1024³ (2·1024³ FLOP).
 * - conv2d: NoStripesNet's down4 layer (Conv 256→512, k4 s2 p1, 225×32 → 112×16, batch 1),
 *   the headline number; the line also carries down2 (64→128 on 900×128), up6 (ConvTranspose
 *   512→128, 112×16 → 225×32, output_padding (1, 0)) and down4 forward+backward.
 *
 * One JSON line per benchmark: {"bench", "unit": "GFLOP/s", "ours", "peer", "ratio"
 * (ours/peer, above 1 = faster than PyTorch), "threads", ...details}. Medians of REPS runs after
 * a warm-up.
 *
 *   deno run <permissions above> bench/engine_ops.ts [NAME-PREFIX] [--backend wasm|webgpu]
 *
 * @module
 */
import * as T from "../lib/tensor/mod.ts";
import type { Backend, Tensor } from "../lib/tensor/mod.ts";

const REPS = 5;
const PY = "/usr/bin/python3";
const PEER = new URL("./peers/engine_ops.py", import.meta.url).pathname;

interface Spec {
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

const SPECS: Spec[] = [
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
function flops(s: Spec): number {
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

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function timeOurs(b: Backend, s: Spec): Promise<number[]> {
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
  for (let i = 0; i <= REPS; i++) {
    const t0 = performance.now();
    fn();
    await b.sync();
    const dt = (performance.now() - t0) / 1000;
    if (i > 0) ts.push(dt);
    b.resetArena();
  }
  for (const t of keep) {
    if (t.grad && t.grad.storage.lifetime === "persistent") t.grad.dispose();
    t.dispose();
  }
  return ts;
}

if (import.meta.main) {
  const args = [...Deno.args];
  const bi = args.indexOf("--backend");
  const backendName = bi >= 0 ? args.splice(bi, 2)[1] : "wasm";
  const prefix = args[0] ?? "";
  const names = [`matmul_gflops_${backendName}`, `conv2d_gflops_${backendName}`];
  if (names.some((n) => n.startsWith(prefix))) {
    const b = await T.initEngine({ backend: backendName, threads: 2 });
    const threads = (b as unknown as { threads?: number }).threads ?? null;
    const peerRun = new Deno.Command(PY, {
      args: [PEER, JSON.stringify(SPECS), String(REPS)],
      env: { OMP_NUM_THREADS: "2" },
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    if (!peerRun.success) throw new Error(`${PEER}: ${new TextDecoder().decode(peerRun.stderr)}`);
    const peer = JSON.parse(new TextDecoder().decode(peerRun.stdout));
    const res: Record<string, { ours: number; peer: number }> = {};
    for (const s of SPECS) {
      const ours = flops(s) / median(await timeOurs(b, s)) / 1e9;
      const theirs = flops(s) / median(peer.times[s.name]) / 1e9;
      res[s.name] = { ours: +ours.toFixed(2), peer: +theirs.toFixed(2) };
    }
    const line = (bench: string, key: string, details: Record<string, unknown>) => {
      const r = res[key];
      console.log(JSON.stringify({
        bench,
        unit: "GFLOP/s",
        ours: r.ours,
        peer: r.peer,
        ratio: +(r.ours / r.peer).toFixed(3),
        threads,
        peer_threads: peer.threads,
        ...details,
      }));
    };
    if (names[0].startsWith(prefix)) line(names[0], "matmul_1024", { shape: "1024x1024x1024" });
    if (names[1].startsWith(prefix)) {
      line(names[1], "down4", {
        shape: "NSN down4: conv 256→512 k4 s2 p1, 225×32 → 112×16",
        down2: res.down2,
        up6_conv_transpose: res.up6,
        down4_fwd_bwd: res.down4_fwd_bwd,
      });
    }
  }
  Deno.exit(0);
}

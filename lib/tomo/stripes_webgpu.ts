/**
 * The WGSL stripe-detection kernels (`kernels/stripes.wgsl`) on WebGPU: on a GPU, or on Mesa's
 * llvmpipe on CPU-only machines (correct, not fast). Same bits as the reference loops for
 * finite input.
 *
 * WGSL leaves NaN and infinity arithmetic undefined, so a detection block holding a non-finite
 * value or one of magnitude above 1e36 (whose smoothed sum could overflow), and radius 0 (where
 * the C code divides 0 by 0), run on the WASM kernel instead; merging is integer-only and always
 * runs here. Blocks larger than the device's storage-binding limit are split into row sub-slabs.
 *
 * @module
 */
import { acquireGpu, type GpuContext, ShaderPipelines } from "../tensor/webgpu/device.ts";
import type { StripesKernels } from "./stripes.ts";
import { detectHalo, mergeHalo, sensitivityCount } from "./stripes_ref.ts";
import type { StripesWasm } from "./stripes_wasm.ts";
import { assetText } from "../wasm/load.ts";

const ENTRY_BINDINGS: Record<string, number[]> = {
  grad: [0, 1, 2],
  ratio: [0, 1, 2, 3],
  median: [0, 2, 3, 4],
  m_depth: [0, 1, 2, 3],
  m_prefix_z: [0, 2, 4],
  m_prefix_x: [0, 2, 5],
  m_vertical: [0, 2, 3, 4],
  m_short: [0, 2, 3, 4],
  m_merge: [0, 2, 3, 4, 5],
};

const SAFE_MAX = 1e36;

/** WebGPU implementation of {@link StripesKernels}. One call at a time. */
export class StripesWebGpu implements StripesKernels {
  private bufs = new Map<string, GPUBuffer>();
  private wasm: Promise<StripesWasm> | null = null;

  private pipes: ShaderPipelines;

  private constructor(private gpu: GpuContext, source: string) {
    this.pipes = new ShaderPipelines(gpu.device, source, "kernels/stripes.wgsl");
  }

  /** Acquires a device (throws one line when WebGPU is unavailable) and loads the shader. */
  static async create(): Promise<StripesWebGpu> {
    const gpu = await acquireGpu();
    const code = await assetText(new URL("../../kernels/stripes.wgsl", import.meta.url));
    return new StripesWebGpu(gpu, code);
  }

  /** Description of the adapter (e.g. "llvmpipe (LLVM 15…)"). */
  get description(): string {
    return this.gpu.description;
  }

  private pipeline(entry: string): Promise<GPUComputePipeline> {
    return this.pipes.get(entry);
  }

  private buffer(role: string, bytes: number, usage: number): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    const b = this.bufs.get(role);
    if (b && b.size >= size) return b;
    b?.destroy();
    const nb = this.gpu.device.createBuffer({ size, usage });
    this.bufs.set(role, nb);
    return nb;
  }

  private params(v: Record<string, number>): GPUBuffer {
    const names = [
      "z",
      "y",
      "x",
      "ya",
      "nin",
      "y0",
      "nout",
      "size",
      "radius",
      "hl",
      "hd",
      "hw",
      "vl",
      "thr_v",
      "thr_d",
      "depth",
    ];
    const a = new Int32Array(20);
    names.forEach((n, i) => (a[i] = v[n] ?? 0));
    const b = this.buffer("params", 80, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.gpu.device.queue.writeBuffer(b, 0, a);
    return b;
  }

  private async dispatch(
    enc: GPUCommandEncoder,
    entry: string,
    bind: Record<number, GPUBuffer>,
    n: number,
  ): Promise<void> {
    const p = await this.pipeline(entry);
    const bg = this.gpu.device.createBindGroup({
      layout: p.getBindGroupLayout(0),
      entries: ENTRY_BINDINGS[entry].map((b) => ({ binding: b, resource: { buffer: bind[b] } })),
    });
    const groups = Math.max(1, Math.ceil(n / 64));
    const gx = Math.min(groups, this.gpu.maxGroups);
    const pass = enc.beginComputePass();
    pass.setPipeline(p);
    pass.setBindGroup(0, bg);
    pass.dispatchWorkgroups(gx, Math.ceil(groups / gx));
    pass.end();
  }

  private async readBack(
    src: GPUBuffer,
    bytes: number,
    enc: GPUCommandEncoder,
  ): Promise<ArrayBuffer> {
    const st = this.buffer("staging", bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    enc.copyBufferToBuffer(src, 0, st, 0, Math.ceil(bytes / 4) * 4);
    this.gpu.device.queue.submit([enc.finish()]);
    await st.mapAsync(GPUMapMode.READ, 0, Math.ceil(bytes / 4) * 4);
    const out = st.getMappedRange(0, Math.ceil(bytes / 4) * 4).slice(0);
    st.unmap();
    return out;
  }

  private wasmKernels(): Promise<StripesWasm> {
    if (!this.wasm) this.wasm = import("./stripes_wasm.ts").then((m) => m.StripesWasm.load());
    return this.wasm;
  }

  /** Largest output-row count per sub-slab so that `bytesPerRow·(rows + 2·halo)` fits a binding. */
  private rowsFit(bytesPerRow: number, halo: number, want: number): number {
    const fit = Math.floor(this.gpu.maxBinding / bytesPerRow) - 2 * halo;
    if (fit < 1) {
      throw new RangeError(
        `stripes (webgpu): one row with its halo needs ${
          bytesPerRow * (1 + 2 * halo)
        } bytes, the device binds ${this.gpu.maxBinding}`,
      );
    }
    return Math.min(want, fit);
  }

  async detectRows(
    input: Float32Array,
    Z: number,
    Y: number,
    X: number,
    ya: number,
    nIn: number,
    y0: number,
    y1: number,
    size: number,
    radius: number,
  ): Promise<Float32Array> {
    const h = detectHalo(radius);
    if (ya > Math.max(0, y0 - h) || ya + nIn < Math.min(Y, y1 + h)) {
      throw new RangeError(`detectRows: input rows [${ya},${ya + nIn}) lack the halo`);
    }
    let finite = radius > 0;
    for (let n = 0; finite && n < Z * nIn * X; n++) {
      const v = input[n];
      if (!(v <= SAFE_MAX && v >= -SAFE_MAX)) finite = false;
    }
    if (!finite) {
      return (await this.wasmKernels()).detectRows(input, Z, Y, X, ya, nIn, y0, y1, size, radius);
    }
    const win = 2 * size + 1;
    const rows = Math.min(
      this.rowsFit(4 * Z * X, h, y1 - y0),
      this.rowsFit(4 * X * win, 0, y1 - y0),
    );
    if (rows < y1 - y0) {
      const out = new Float32Array(Z * (y1 - y0) * X);
      for (let s0 = y0; s0 < y1; s0 += rows) {
        const s1 = Math.min(y1, s0 + rows);
        const sa = Math.max(ya, s0 - h), sb = Math.min(ya + nIn, s1 + h);
        const sub = subRows(input, Z, nIn, X, sa - ya, sb - ya);
        const w = await this.detectRows(sub, Z, Y, X, sa, sb - sa, s0, s1, size, radius);
        putRows(out, Z, y1 - y0, X, s0 - y0, s1 - s0, w);
      }
      return out;
    }
    const dev = this.gpu.device;
    const nOut = y1 - y0;
    const nInV = Z * nIn * X, nOutV = Z * nOut * X;
    const S = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    const pr = this.params({ z: Z, y: Y, x: X, ya, nin: nIn, y0, nout: nOut, size, radius });
    const fin = this.buffer("fin", 4 * nInV, S);
    const fa = this.buffer("fa", 4 * nInV, S);
    const fb = this.buffer("fb", 4 * nOutV, S);
    const scr = this.buffer("scr", 4 * nOut * X * win, S);
    dev.queue.writeBuffer(fin, 0, input as Float32Array<ArrayBuffer>, 0, nInV);
    const bind = { 0: pr, 1: fin, 2: fa, 3: fb, 4: scr };
    const enc = dev.createCommandEncoder();
    await this.dispatch(enc, "grad", bind, nInV);
    await this.dispatch(enc, "ratio", bind, nOutV);
    await this.dispatch(enc, "median", bind, nOut * X);
    return new Float32Array(await this.readBack(fa, 4 * nOutV, enc), 0, nOutV);
  }

  async mergeRows(
    m1: Uint8Array,
    Z: number,
    Y: number,
    X: number,
    ya: number,
    nIn: number,
    y0: number,
    y1: number,
    L: number,
    D: number,
    W: number,
    sens: number,
  ): Promise<Uint8Array> {
    const hd = mergeHalo(D);
    if (ya > Math.max(0, y0 - hd) || ya + nIn < Math.min(Y, y1 + hd)) {
      throw new RangeError(`mergeRows: input rows [${ya},${ya + nIn}) lack the halo`);
    }
    const rows = this.rowsFit(4 * (Z + 1) * (X + 1), hd, y1 - y0);
    if (rows < y1 - y0) {
      const out = new Uint8Array(Z * (y1 - y0) * X);
      for (let s0 = y0; s0 < y1; s0 += rows) {
        const s1 = Math.min(y1, s0 + rows);
        const sa = Math.max(ya, s0 - hd), sb = Math.min(ya + nIn, s1 + hd);
        const sub = subRows(m1, Z, nIn, X, sa - ya, sb - ya);
        const m = await this.mergeRows(sub, Z, Y, X, sa, sb - sa, s0, s1, L, D, W, sens);
        putRows(out, Z, y1 - y0, X, s0 - y0, s1 - s0, m);
      }
      return out;
    }
    const dev = this.gpu.device;
    const nOut = y1 - y0;
    const nInV = Z * nIn * X, nOutV = Z * nOut * X;
    const S = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    const pr = this.params({
      z: Z,
      y: Y,
      x: X,
      ya,
      nin: nIn,
      y0,
      nout: nOut,
      hl: Math.trunc(L / 2),
      hd,
      hw: Math.trunc(W / 2),
      vl: 2 * W,
      thr_v: sensitivityCount(sens, L),
      thr_d: sensitivityCount(sens, D),
      depth: D,
    });
    const bm1 = this.buffer("m1", 4 * nInV, S);
    const ma = this.buffer("ma", 4 * nOutV, S);
    const mb = this.buffer("mb", 4 * nOutV, S);
    const cz = this.buffer("cz", 4 * (Z + 1) * nOut * X, S);
    const cx = this.buffer("cx", 4 * Z * nOut * (X + 1), S);
    dev.queue.writeBuffer(bm1, 0, Uint32Array.from(m1.subarray(0, nInV)));
    const bind = { 0: pr, 1: bm1, 2: ma, 3: mb, 4: cz, 5: cx };
    const enc = dev.createCommandEncoder();
    const swap = () => enc.copyBufferToBuffer(mb, 0, ma, 0, 4 * nOutV);
    await this.dispatch(enc, "m_depth", bind, nOutV);
    swap();
    for (const step of ["m_vertical", "m_short"]) {
      await this.dispatch(enc, "m_prefix_z", bind, nOut * X);
      await this.dispatch(enc, step, bind, nOutV);
      swap();
    }
    for (let pass = 0; pass < W; pass++) {
      await this.dispatch(enc, "m_prefix_z", bind, nOut * X);
      await this.dispatch(enc, "m_prefix_x", bind, Z * nOut);
      await this.dispatch(enc, "m_merge", bind, nOutV);
      swap();
    }
    const u = new Uint32Array(await this.readBack(ma, 4 * nOutV, enc), 0, nOutV);
    return Uint8Array.from(u);
  }
}

/** Rows [a, b) (block-local) of a Z × n × X block. */
function subRows<T extends Float32Array | Uint8Array>(
  src: T,
  Z: number,
  n: number,
  X: number,
  a: number,
  b: number,
): T {
  const m = b - a;
  const out = new (src.constructor as new (n: number) => T)(Z * m * X);
  for (let k = 0; k < Z; k++) out.set(src.subarray((k * n + a) * X, (k * n + b) * X), k * m * X);
  return out;
}

/** Writes a Z × m × X block at local row `a` of a Z × n × X block. */
function putRows<T extends Float32Array | Uint8Array>(
  dst: T,
  Z: number,
  n: number,
  X: number,
  a: number,
  m: number,
  src: T,
): void {
  for (let k = 0; k < Z; k++) dst.set(src.subarray(k * m * X, (k + 1) * m * X), (k * n + a) * X);
}

/**
 * The diffsims pattern kernels in WGSL (`kernels/diffsims.wgsl`) on WebGPU: the Gaussian-spot
 * detector pattern (every pixel gathers the spots' separable, edge-mirrored weights), its
 * maximum, and the radial mean per bin, in f32. On a GPU, or on Mesa's llvmpipe on CPU-only
 * machines (correct, slow: keep shapes small there). Equal to {@link KinematicWasm}'s profile
 * and render to f32 rounding. One call at a time.
 *
 * @example
 * ```ts
 * import { KinematicWebGpu } from "./kinematic_webgpu.ts";
 * const gpu = await KinematicWebGpu.create(); // throws one line without WebGPU
 * const profile = await gpu.profile(spots, 515, 2, radialBins(515, 256));
 * ```
 * @module
 */
import { acquireGpu, type GpuContext, ShaderPipelines } from "../../tensor/webgpu/device.ts";
import { assetText } from "../../wasm/load.ts";
import { gaussianKernel, type RadialBins, type Spots } from "./kinematic.ts";

const ENTRY_BINDINGS: Record<string, number[]> = {
  render: [0, 1, 2, 3],
  pattern_max: [0, 3, 4],
  radial: [0, 3, 4, 5, 6, 7, 8],
  normalize: [0, 3, 4],
};

/** One value per pixel (the last spot of the list wins), zero intensities dropped. */
function uniqueSpots(s: Spots, size: number): Float32Array<ArrayBuffer> {
  const at = new Map<number, number>();
  for (let i = 0; i < s.intensity.length; i++) {
    if (s.px[i] < 0 || s.px[i] >= size || s.py[i] < 0 || s.py[i] >= size) continue;
    at.set(s.py[i] * size + s.px[i], s.intensity[i]);
  }
  const out: number[] = [];
  for (const [pos, v] of at) if (v !== 0) out.push(pos % size, Math.floor(pos / size), v, 0);
  return Float32Array.from(out.length ? out : [0, 0, 0, 0]);
}

/** WebGPU implementation of the pattern and profile kernels. */
export class KinematicWebGpu {
  private csr = new WeakMap<RadialBins, { start: GPUBuffer; pix: GPUBuffer; count: GPUBuffer }>();

  private pipes: ShaderPipelines;

  private constructor(private gpu: GpuContext, source: string) {
    this.pipes = new ShaderPipelines(gpu.device, source, "kernels/diffsims.wgsl");
  }

  /** Acquires a device (throws one line when WebGPU is unavailable) and loads the shader. */
  static async create(): Promise<KinematicWebGpu> {
    const gpu = await acquireGpu();
    const code = await assetText(new URL("../../../kernels/diffsims.wgsl", import.meta.url));
    return new KinematicWebGpu(gpu, code);
  }

  /** Description of the adapter (e.g. "llvmpipe (LLVM 15…)"). */
  get description(): string {
    return this.gpu.description;
  }

  private pipeline(entry: string): Promise<GPUComputePipeline> {
    return this.pipes.get(entry);
  }

  private buffer(
    data: ArrayBufferView<ArrayBuffer> | number,
    usage: number = GPUBufferUsage.STORAGE,
  ) {
    const bytes = typeof data === "number" ? data : data.byteLength;
    const b = this.gpu.device.createBuffer({
      size: Math.max(16, Math.ceil(bytes / 16) * 16),
      usage: usage | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
    });
    if (typeof data !== "number") this.gpu.device.queue.writeBuffer(b, 0, data);
    return b;
  }

  private radialBuffers(rb: RadialBins) {
    let c = this.csr.get(rb);
    if (c) return c;
    const start = new Uint32Array(rb.nbins + 1);
    for (let i = 0; i < rb.bin.length; i++) start[rb.bin[i] + 1]++;
    for (let b = 0; b < rb.nbins; b++) start[b + 1] += start[b];
    const fill = start.slice(0, rb.nbins), pix = new Uint32Array(rb.bin.length);
    for (let i = 0; i < rb.bin.length; i++) pix[fill[rb.bin[i]]++] = i;
    c = {
      start: this.buffer(start),
      pix: this.buffer(pix),
      count: this.buffer(Float32Array.from(rb.count)),
    };
    this.csr.set(rb, c);
    return c;
  }

  private async run(
    spots: Spots,
    size: number,
    sigma: number,
    rb: RadialBins | null,
  ): Promise<Float64Array> {
    const k = gaussianKernel(sigma);
    const r = (k.length - 1) >> 1;
    if (r >= size) throw new RangeError(`sigma ${sigma} is too large for a ${size} px detector`);
    const sp = uniqueSpots(spots, size);
    const n = sp[2] === 0 && sp.length === 4 ? 0 : sp.length / 4;
    const dev = this.gpu.device;
    const nbins = rb?.nbins ?? 0;
    const bufs: Record<number, GPUBuffer> = {
      0: this.buffer(Uint32Array.of(size, n, r, nbins), GPUBufferUsage.UNIFORM),
      1: this.buffer(sp),
      2: this.buffer(Float32Array.from(k)),
      3: this.buffer(4 * size * size),
      4: this.buffer(16),
    };
    if (rb) {
      const c = this.radialBuffers(rb);
      Object.assign(bufs, { 5: c.start, 6: c.pix, 7: c.count, 8: this.buffer(4 * nbins) });
    }
    const steps: [string, number, number][] = [
      ["render", Math.ceil(size / 8), Math.ceil(size / 8)],
      ["pattern_max", 1, 1],
      rb ? ["radial", Math.ceil(nbins / 64), 1] : ["normalize", Math.ceil(size * size / 64), 1],
    ];
    const enc = dev.createCommandEncoder();
    for (const [entry, gx, gy] of steps) {
      const p = await this.pipeline(entry);
      const group = dev.createBindGroup({
        layout: p.getBindGroupLayout(0),
        entries: ENTRY_BINDINGS[entry].map((b) => ({ binding: b, resource: { buffer: bufs[b] } })),
      });
      const pass = enc.beginComputePass();
      pass.setPipeline(p);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(gx, gy);
      pass.end();
    }
    const src = rb ? bufs[8] : bufs[3];
    const len = rb ? nbins : size * size;
    const read = dev.createBuffer({
      size: src.size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    enc.copyBufferToBuffer(src, 0, read, 0, src.size);
    dev.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const out = Float64Array.from(new Float32Array(read.getMappedRange(), 0, len));
    read.unmap();
    read.destroy();
    for (const [b, buf] of Object.entries(bufs)) if (![5, 6, 7].includes(Number(b))) buf.destroy();
    return out;
  }

  /** `integrate(renderPattern(spots, size, sigma), rb)` on the GPU (f32). */
  profile(spots: Spots, size: number, sigma: number, rb: RadialBins): Promise<Float64Array> {
    if (rb.size !== size) throw new RangeError(`radial bins for ${rb.size} px, not ${size}`);
    return this.run(spots, size, sigma, rb);
  }

  /** `renderPattern(spots, size, sigma)` on the GPU (f32): the pattern divided by its maximum. */
  render(spots: Spots, size: number, sigma: number): Promise<Float64Array> {
    return this.run(spots, size, sigma, null);
  }
}

/**
 * The WebGPU runtime under the `webgpu` backend: shader loading, a pipeline cache, a buffer
 * pool, batched command recording and asynchronous readback.
 *
 * - **Shaders** are the files in `kernels/` (one per op family), loaded once at start through
 *   lib/wasm/load.ts (a clone's `file:` URL, an `https:` URL, or the copy a bundle carries).
 * - **Pipelines** are cached by (file, entry point, layout, override constants): the constants
 *   carry the op code and the shape class (tile sizes, transposes), never the sizes themselves.
 *   Creation runs inside `pushErrorScope("validation")`; WebGPU reports such errors
 *   asynchronously, so they are collected and thrown by the next `read`/`sync`.
 * - **Parameters** (sizes, strides, scalars) go to a 256-byte slot of one uniform ring buffer
 *   per batch; the ring is uploaded with one `writeBuffer` just before the batch is submitted.
 * - **Commands**: dispatches are recorded into one compute pass of one command encoder and
 *   submitted together at `flush()` (called by `read`, `write`, `sync`, or when the ring is
 *   full), so a whole training step is a handful of command buffers.
 * - **Buffers** come from a pool keyed by rounded size. A buffer released while pending commands
 *   still use it may be handed out again at once: WebGPU orders all work on the one queue, so a
 *   later dispatch that overwrites it runs after the earlier readers. The one exception, a
 *   `queue.writeBuffer` (which would overtake unsubmitted commands), flushes first.
 *
 * @module
 */
import { acquireGpu, type GpuContext } from "./device.ts";
import { assetText } from "../../wasm/load.ts";

/** Kernel files in `kernels/` that this runtime loads. */
export const KERNEL_FILES = [
  "linalg",
  "conv",
  "elementwise",
  "reduce",
  "norm",
  "pool",
  "resample",
  "shape",
  "optim",
] as const;
export type KernelFile = typeof KERNEL_FILES[number];

/**
 * A compute kernel: a WGSL entry point and its binding layout. `layout` has one letter per
 * binding of group 0, in binding order: `u` uniform parameters (binding 0 by convention),
 * `r` read-only storage, `w` read-write storage.
 */
export interface KernelSpec {
  file: KernelFile;
  entry: string;
  layout: string;
  /** WGSL `override` constants: op codes and shape class (tile sizes, flags). */
  constants?: Record<string, number>;
}

/** A buffer binding: the whole buffer, or [buffer, byteOffset, byteSize]. */
export type Binding = GPUBuffer | [GPUBuffer, number, number];

/** Words (u32) of parameters per dispatch; the WGSL side declares `array<vec4<u32>, 16>`. */
export const PARAM_WORDS = 64;
const SLOT_BYTES = PARAM_WORDS * 4;
const RING_SLOTS = 2048;

/** Builds one dispatch's parameter block: u32/i32/f32 words in order. */
export class Params {
  readonly words = new Uint32Array(PARAM_WORDS);
  private readonly f32 = new Float32Array(this.words.buffer);
  private readonly i32 = new Int32Array(this.words.buffer);
  n = 0;
  /** Appends unsigned integers. */
  u(...xs: number[]): this {
    for (const x of xs) this.words[this.n++] = x >>> 0;
    return this;
  }
  /** Appends signed integers. */
  i(...xs: number[]): this {
    for (const x of xs) this.i32[this.n++] = x | 0;
    return this;
  }
  /** Appends floats (f32). */
  f(...xs: number[]): this {
    for (const x of xs) this.f32[this.n++] = x;
    return this;
  }
  /** Appends `xs` padded with `fill` to `len` unsigned words. */
  ua(xs: ArrayLike<number>, len: number, fill = 0): this {
    if (xs.length > len) {
      throw new Error(`webgpu: ${xs.length} dims exceed the kernel limit ${len}`);
    }
    for (let k = 0; k < len; k++) this.words[this.n++] = (k < xs.length ? xs[k] : fill) >>> 0;
    return this;
  }
  /** Appends `xs` padded to `len` signed words. */
  ia(xs: ArrayLike<number>, len: number, fill = 0): this {
    if (xs.length > len) {
      throw new Error(`webgpu: ${xs.length} dims exceed the kernel limit ${len}`);
    }
    for (let k = 0; k < len; k++) this.i32[this.n++] = (k < xs.length ? xs[k] : fill) | 0;
    return this;
  }
  /** Skips to word `k` (k ≥ current position). */
  at(k: number): this {
    if (k < this.n) throw new Error(`webgpu: parameter word ${k} already written`);
    this.n = k;
    return this;
  }
}

/** Counters for benchmarks and leak checks. */
export interface RuntimeStats {
  dispatches: number;
  submits: number;
  pipelines: number;
  buffersLive: number;
  bytesLive: number;
  buffersPooled: number;
  bytesPooled: number;
}

function roundSize(bytes: number): number {
  const b = Math.max(256, Math.ceil(bytes / 16) * 16);
  if (b <= 1 << 20) {
    // powers of two up to 1 MiB
    let p = 256;
    while (p < b) p *= 2;
    return p;
  }
  // above 1 MiB: steps of 1/8 of the enclosing power of two (≤ 12.5% waste)
  let p = 1 << 20;
  while (p * 2 < b) p *= 2;
  const step = p / 8;
  return Math.ceil(b / step) * step;
}

/** The runtime: one device, its caches and the batch being recorded. */
export class GpuRuntime {
  readonly ctx: GpuContext;
  readonly device: GPUDevice;
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly sources = new Map<string, string>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly layouts = new Map<string, [GPUBindGroupLayout, GPUPipelineLayout]>();
  private readonly pool = new Map<number, GPUBuffer[]>();
  private readonly stagePool = new Map<number, GPUBuffer[]>();
  private readonly live = new Set<GPUBuffer>();
  private readonly ring: GPUBuffer;
  private readonly ringHost = new Uint32Array(RING_SLOTS * PARAM_WORDS);
  private readonly slotWords: number;
  private slots = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private errors: Promise<GPUError | null>[] = [];
  private errorCtx: string[] = [];
  private batchScope = false;
  private lost: string | null = null;
  stats = { dispatches: 0, submits: 0 };

  private constructor(ctx: GpuContext) {
    this.ctx = ctx;
    this.device = ctx.device;
    // A slot is 256 bytes, or the device's uniform offset alignment if larger.
    this.slotWords = Math.max(SLOT_BYTES, ctx.uniformAlign) / 4;
    this.ring = this.device.createBuffer({
      size: RING_SLOTS * this.slotWords * 4,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      label: "lumen-params-ring",
    });
    this.device.lost.then((info) => {
      this.lost = `${info.reason}: ${info.message}`;
    });
  }

  /** Acquires the device and loads (and compiles) every kernel file. */
  static async create(
    ctx?: GpuContext,
    files: readonly KernelFile[] = KERNEL_FILES,
  ): Promise<GpuRuntime> {
    const rt = new GpuRuntime(ctx ?? await acquireGpu());
    await Promise.all(files.map((f) => rt.loadModule(f)));
    return rt;
  }

  private async loadModule(file: string): Promise<void> {
    // through lib/wasm/load.ts: a clone (file:), a URL import (https:) or a bundle's carried copy;
    // every kernel file is compiled after the shared prelude (kernels/prelude.wgsl)
    const text = async (name: string) => {
      const url = new URL(`../../../kernels/${name}.wgsl`, import.meta.url);
      try {
        return await assetText(url);
      } catch (e) {
        throw new Error(`webgpu: cannot load ${url}: ${(e as Error).message}`);
      }
    };
    const prelude = await text("prelude");
    const preludeLines = prelude.split("\n").length - 1;
    const code = prelude + (await text(file));
    this.device.pushErrorScope("validation");
    const module = this.device.createShaderModule({ code, label: file });
    const err = await this.device.popErrorScope();
    const info = await module.getCompilationInfo();
    const msgs = info.messages.filter((m) => m.type === "error");
    if (err || msgs.length) {
      const first = msgs[0];
      throw new Error(
        `webgpu: kernels/${file}.wgsl does not compile` +
          (first
            ? ` (line ${first.lineNum - preludeLines}): ${first.message.trim()}`
            : `: ${err?.message}`),
      );
    }
    this.sources.set(file, code);
    this.modules.set(file, module);
  }

  private layoutFor(sig: string): [GPUBindGroupLayout, GPUPipelineLayout] {
    let hit = this.layouts.get(sig);
    if (hit) return hit;
    const entries: GPUBindGroupLayoutEntry[] = [...sig].map((c, binding) => {
      const buffer: GPUBufferBindingLayout = c === "u"
        ? { type: "uniform" }
        : c === "r"
        ? { type: "read-only-storage" }
        : c === "w"
        ? { type: "storage" }
        : (() => {
          throw new Error(`webgpu: bad layout letter '${c}' in '${sig}'`);
        })();
      return { binding, visibility: GPUShaderStage.COMPUTE, buffer };
    });
    const bgl = this.device.createBindGroupLayout({ entries, label: sig });
    const pl = this.device.createPipelineLayout({ bindGroupLayouts: [bgl] });
    hit = [bgl, pl];
    this.layouts.set(sig, hit);
    return hit;
  }

  /** The cached pipeline of a kernel (compiled on first use). */
  pipeline(spec: KernelSpec): GPUComputePipeline {
    const c = spec.constants;
    const ckey = c ? Object.keys(c).sort().map((k) => `${k}=${c[k]}`).join(",") : "";
    const key = `${spec.file}:${spec.entry}:${spec.layout}:${ckey}`;
    let p = this.pipelines.get(key);
    if (p) return p;
    const module = this.modules.get(spec.file);
    if (!module) throw new Error(`webgpu: kernels/${spec.file}.wgsl is not loaded`);
    const [, layout] = this.layoutFor(spec.layout);
    this.device.pushErrorScope("validation");
    p = this.device.createComputePipeline({
      layout,
      compute: { module, entryPoint: spec.entry, constants: c },
      label: key,
    });
    this.errors.push(this.device.popErrorScope());
    this.errorCtx.push(`pipeline ${key}`);
    this.pipelines.set(key, p);
    return p;
  }

  // ---------------------------------------------------------------- buffers

  /** A storage buffer of at least `bytes` bytes from the pool (contents undefined). */
  alloc(bytes: number): GPUBuffer {
    const size = roundSize(bytes);
    if (size > this.ctx.maxBuffer) {
      throw new Error(
        `webgpu: a ${bytes}-byte tensor exceeds this device's buffer limit of ${this.ctx.maxBuffer} bytes`,
      );
    }
    const free = this.pool.get(size);
    let buf = free?.pop();
    if (!buf) {
      buf = this.device.createBuffer({
        size,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
    }
    this.live.add(buf);
    return buf;
  }

  /** Returns a buffer to the pool (it may still be read by recorded, unsubmitted commands). */
  release(buf: GPUBuffer): void {
    if (!this.live.delete(buf)) return;
    const list = this.pool.get(buf.size);
    if (list) list.push(buf);
    else this.pool.set(buf.size, [buf]);
  }

  /** Destroys every pooled (free) buffer. */
  emptyCache(): void {
    for (const list of this.pool.values()) for (const b of list) b.destroy();
    this.pool.clear();
    for (const list of this.stagePool.values()) for (const b of list) b.destroy();
    this.stagePool.clear();
  }

  /** Counters. */
  get info(): RuntimeStats {
    let bp = 0, np = 0, bl = 0;
    for (const list of this.pool.values()) for (const b of list) (bp += b.size, np++);
    for (const b of this.live) bl += b.size;
    return {
      ...this.stats,
      pipelines: this.pipelines.size,
      buffersLive: this.live.size,
      bytesLive: bl,
      buffersPooled: np,
      bytesPooled: bp,
    };
  }

  /** Writes host data into a buffer at a byte offset (flushes recorded work first). */
  write(buf: GPUBuffer, data: ArrayBufferView, byteOffset = 0): void {
    this.flush();
    const bytes = data.byteLength;
    if (bytes === 0) return;
    if (bytes % 4 === 0 && !(data.buffer instanceof SharedArrayBuffer)) {
      this.device.queue.writeBuffer(
        buf,
        byteOffset,
        data.buffer as ArrayBuffer,
        data.byteOffset,
        bytes,
      );
    } else {
      // odd sizes, and views of shared memory (wasm heap), go through a private copy
      const padded = new Uint8Array(Math.ceil(bytes / 4) * 4);
      padded.set(new Uint8Array(data.buffer, data.byteOffset, bytes));
      this.device.queue.writeBuffer(buf, byteOffset, padded);
    }
  }

  /** A new pooled buffer holding `data`. */
  upload(data: ArrayBufferView): GPUBuffer {
    const buf = this.alloc(Math.max(4, data.byteLength));
    this.write(buf, data);
    return buf;
  }

  /** Reads `bytes` bytes at `byteOffset` of a buffer (submits recorded work first). */
  async read(buf: GPUBuffer, bytes: number, byteOffset = 0): Promise<ArrayBuffer> {
    if (bytes === 0) return new ArrayBuffer(0);
    const size = roundSize(bytes);
    const list = this.stagePool.get(size);
    const stage = list?.pop() ??
      this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.endPass();
    this.enc().copyBufferToBuffer(buf, byteOffset, stage, 0, Math.ceil(bytes / 4) * 4);
    this.flush();
    await this.checkErrors();
    try {
      await stage.mapAsync(GPUMapMode.READ, 0, Math.ceil(bytes / 4) * 4);
    } catch (e) {
      if (this.lost) throw new Error(`webgpu: device lost (${this.lost})`);
      throw e;
    }
    const out = stage.getMappedRange(0, Math.ceil(bytes / 4) * 4).slice(0, bytes);
    stage.unmap();
    const back = this.stagePool.get(size);
    if (back) back.push(stage);
    else this.stagePool.set(size, [stage]);
    return out;
  }

  // ---------------------------------------------------------------- commands

  private enc(): GPUCommandEncoder {
    if (!this.encoder) {
      if (!this.batchScope) {
        this.device.pushErrorScope("validation");
        this.batchScope = true;
      }
      this.encoder = this.device.createCommandEncoder();
    }
    return this.encoder;
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  /** Records `dst[dstOff..] = src[srcOff..]` for `bytes` bytes (multiples of 4). */
  copy(src: GPUBuffer, srcOff: number, dst: GPUBuffer, dstOff: number, bytes: number): void {
    if (bytes === 0) return;
    this.endPass();
    this.enc().copyBufferToBuffer(src, srcOff, dst, dstOff, bytes);
  }

  /** Records a zero fill of `bytes` bytes at `offset` (multiples of 4). */
  zero(buf: GPUBuffer, offset: number, bytes: number): void {
    if (bytes === 0) return;
    this.endPass();
    this.enc().clearBuffer(buf, offset, bytes);
  }

  /**
   * Records one dispatch. `bindings[0]` is ignored (the parameter slot takes binding 0 when the
   * layout starts with `u`); pass `null` there.
   */
  dispatch(
    spec: KernelSpec,
    bindings: (Binding | null)[],
    params: Params | null,
    groups: [number, number?, number?],
  ): void {
    const gx = groups[0], gy = groups[1] ?? 1, gz = groups[2] ?? 1;
    if (gx === 0 || gy === 0 || gz === 0) return;
    const mg = this.ctx.maxGroups;
    if (gx > mg || gy > mg || gz > mg) {
      throw new Error(`webgpu: dispatch ${gx}×${gy}×${gz} exceeds ${mg} groups per dimension`);
    }
    const pipeline = this.pipeline(spec);
    if (this.slots >= RING_SLOTS) this.flush();
    const [bgl] = this.layoutFor(spec.layout);
    const entries: GPUBindGroupEntry[] = [];
    for (let b = 0; b < spec.layout.length; b++) {
      if (spec.layout[b] === "u") {
        const slot = this.slots++;
        if (params) this.ringHost.set(params.words, slot * this.slotWords);
        entries.push({
          binding: b,
          resource: { buffer: this.ring, offset: slot * this.slotWords * 4, size: SLOT_BYTES },
        });
      } else {
        const x = bindings[b];
        if (!x) throw new Error(`webgpu: ${spec.entry}: binding ${b} missing`);
        entries.push({
          binding: b,
          resource: Array.isArray(x) ? { buffer: x[0], offset: x[1], size: x[2] } : { buffer: x },
        });
      }
    }
    const bg = this.device.createBindGroup({ layout: bgl, entries });
    if (!this.pass) this.pass = this.enc().beginComputePass();
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bg);
    this.pass.dispatchWorkgroups(gx, gy, gz);
    this.stats.dispatches++;
  }

  /** Submits everything recorded so far. */
  flush(): void {
    this.endPass();
    if (!this.encoder) return;
    if (this.slots > 0) {
      this.device.queue.writeBuffer(
        this.ring,
        0,
        this.ringHost.buffer,
        0,
        this.slots * this.slotWords * 4,
      );
      this.slots = 0;
    }
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.stats.submits++;
    if (this.batchScope) {
      this.errors.push(this.device.popErrorScope());
      this.errorCtx.push("command batch");
      this.batchScope = false;
    }
  }

  /** Throws the first validation error reported since the last check. */
  async checkErrors(): Promise<void> {
    if (this.errors.length === 0) return;
    const errs = this.errors, ctx = this.errorCtx;
    this.errors = [];
    this.errorCtx = [];
    const got = await Promise.all(errs);
    for (let k = 0; k < got.length; k++) {
      const e = got[k];
      if (e) throw new Error(`webgpu: validation error in ${ctx[k]}: ${e.message.trim()}`);
    }
  }

  /** Submits recorded work and waits until the device has finished it. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    await this.checkErrors();
    if (this.lost) throw new Error(`webgpu: device lost (${this.lost})`);
  }

  /** Workgroup counts covering `n` groups of work: [x, y] with x ≤ the per-dimension limit. */
  grid(nGroups: number): [number, number] {
    const mg = this.ctx.maxGroups;
    if (nGroups <= mg) return [Math.max(nGroups, 0), 1];
    const y = Math.ceil(nGroups / mg);
    return [Math.ceil(nGroups / y), y];
  }

  /** Releases the device. */
  destroy(): void {
    this.flush();
    this.emptyCache();
    for (const b of this.live) b.destroy();
    this.live.clear();
    this.ring.destroy();
    this.device.destroy();
  }
}

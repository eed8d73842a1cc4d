/**
 * WebGPU device acquisition for the `webgpu` tensor backend.
 *
 * What it needs from Deno 2.9.6 (checked):
 * - `navigator.gpu` needs no flag (no `--unstable-webgpu`) and no permission.
 * - The kernels are fetched from `kernels/*.wgsl` beside the library: `--allow-read` (local
 *   checkout) or `--allow-net=<host>` (run by URL). Nothing else.
 * - On a CPU-only Debian machine the adapter is Mesa's llvmpipe reached through wgpu's OpenGL ES
 *   backend over EGL (packages libegl1, libegl-mesa0, libgl1-mesa-dri, which chromium pulls in;
 *   there is no Vulkan loader here). It answers as a *fallback* adapter
 *   (`adapter.info.isFallbackAdapter === true`) and runs WGSL on the CPU threads at about
 *   1 GFLOP/s: good for correctness tests, not for training. `--backend auto` therefore picks
 *   wasm there, and webgpu only on a real GPU; `--backend webgpu` forces it.
 * - Each asynchronous wait (buffer map, onSubmittedWorkDone) costs ~11 ms in Deno whatever the
 *   work (its device polling interval), so the backend reads back as little as it can.
 *
 * The device is requested with the adapter's own maximum buffer limits (the defaults are
 * 128 MiB per storage binding and 256 MiB per buffer) and with `shader-f16` when the adapter
 * offers it (kernels are f32 today; the flag is there for later half-precision paths).
 *
 * @module
 */

/** What was found on this machine. */
export interface GpuProbe {
  /** `navigator.gpu` exists and an adapter was returned. */
  available: boolean;
  /** The adapter is a software fallback (llvmpipe, SwiftShader, WARP). */
  fallback: boolean;
  /** Adapter description (e.g. "llvmpipe (LLVM 15.0.6, 256 bits)"), or why none. */
  description: string;
}

/** An acquired device plus what the engine needs to know about it. */
export interface GpuContext {
  adapter: GPUAdapter;
  device: GPUDevice;
  /** Software fallback adapter (llvmpipe): correct but slow. */
  fallback: boolean;
  description: string;
  /** `shader-f16` was requested and granted. */
  f16: boolean;
  /** Largest storage-buffer binding, bytes. */
  maxBinding: number;
  /** Largest buffer, bytes. */
  maxBuffer: number;
  /** Byte alignment of uniform buffer offsets in bind groups. */
  uniformAlign: number;
  /** Largest workgroup count per dispatch dimension. */
  maxGroups: number;
}

function adapterIsFallback(a: GPUAdapter): boolean {
  // deno-lint-ignore no-explicit-any
  const info = (a as any).info;
  // deno-lint-ignore no-explicit-any
  return Boolean(info?.isFallbackAdapter ?? (a as any).isFallbackAdapter ?? false);
}

function adapterDescription(a: GPUAdapter): string {
  // deno-lint-ignore no-explicit-any
  const info = (a as any).info ?? {};
  return String(info.description || info.device || info.vendor || "unknown adapter");
}

/** Whether a WebGPU adapter exists and whether it is a software fallback. Starts no device. */
export async function probeWebGpu(): Promise<GpuProbe> {
  // deno-lint-ignore no-explicit-any
  const gpu: GPU | undefined = (globalThis.navigator as any)?.gpu;
  if (!gpu) return { available: false, fallback: false, description: "navigator.gpu is absent" };
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (e) {
    return { available: false, fallback: false, description: `requestAdapter failed: ${e}` };
  }
  if (!adapter) return { available: false, fallback: false, description: "no WebGPU adapter" };
  return {
    available: true,
    fallback: adapterIsFallback(adapter),
    description: adapterDescription(adapter),
  };
}

/**
 * Requests an adapter and a device with the adapter's maximum buffer limits.
 * Throws with a one-line reason when WebGPU is unavailable.
 */
export async function acquireGpu(): Promise<GpuContext> {
  // deno-lint-ignore no-explicit-any
  const gpu: GPU | undefined = (globalThis.navigator as any)?.gpu;
  if (!gpu) throw new Error("webgpu: navigator.gpu is absent in this runtime");
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw new Error("webgpu: no adapter (no GPU and no software fallback)");
  const L = adapter.limits;
  const requiredLimits: Record<string, number> = {
    maxStorageBufferBindingSize: L.maxStorageBufferBindingSize,
    maxBufferSize: L.maxBufferSize,
    maxStorageBuffersPerShaderStage: Math.min(L.maxStorageBuffersPerShaderStage, 10),
    maxComputeWorkgroupStorageSize: L.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: L.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: L.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupSizeY: L.maxComputeWorkgroupSizeY,
    maxComputeWorkgroupsPerDimension: L.maxComputeWorkgroupsPerDimension,
  };
  const requiredFeatures: GPUFeatureName[] = [];
  if (adapter.features.has("shader-f16")) requiredFeatures.push("shader-f16");
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  } catch {
    // Some implementations reject shader-f16 or a limit even though the adapter lists it.
    device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: L.maxStorageBufferBindingSize,
        maxBufferSize: L.maxBufferSize,
      },
    });
  }
  return {
    adapter,
    device,
    fallback: adapterIsFallback(adapter),
    description: adapterDescription(adapter),
    f16: device.features.has("shader-f16"),
    maxBinding: device.limits.maxStorageBufferBindingSize,
    maxBuffer: device.limits.maxBufferSize,
    uniformAlign: device.limits.minUniformBufferOffsetAlignment,
    maxGroups: device.limits.maxComputeWorkgroupsPerDimension,
  };
}

/**
 * Compute pipelines of one WGSL source, compiled on first use and cached by entry point; a
 * compile error is one line naming the file, the entry point and the shader line.
 *
 * @example
 * ```ts
 * const gpu = await acquireGpu();
 * const pipes = new ShaderPipelines(gpu.device, source, "kernels/stripes.wgsl");
 * const p = await pipes.get("detect");
 * ```
 */
export class ShaderPipelines {
  private module: GPUShaderModule | null = null;
  private cache = new Map<string, GPUComputePipeline>();

  constructor(private device: GPUDevice, private source: string, private file: string) {}

  /** The pipeline of entry point `entry`. */
  async get(entry: string): Promise<GPUComputePipeline> {
    const hit = this.cache.get(entry);
    if (hit) return hit;
    const dev = this.device;
    dev.pushErrorScope("validation");
    const mod = this.module ??= dev.createShaderModule({ code: this.source });
    const p = dev.createComputePipeline({
      layout: "auto",
      compute: { module: mod, entryPoint: entry },
    });
    const err = await dev.popErrorScope();
    if (err) {
      const info = await mod.getCompilationInfo();
      const m = info.messages.find((x) => x.type === "error");
      const where = m
        ? `line ${m.lineNum}: ${m.message.split("\n")[0]}`
        : err.message.split("\n")[0];
      throw new Error(`${this.file}: ${entry}: ${where}`);
    }
    this.cache.set(entry, p);
    return p;
  }
}

/**
 * Shared helpers of the lib/nn and lib/optim tests: the backends under test, fixture tensors,
 * and closeness checks.
 *
 * Tolerance: |actual − expected| ≤ rtol·|expected| + atol with rtol = 1e-4 and
 * atol = 1e-5·max|expected| (+1e-7), i.e. relative 1e-4 where values are not tiny compared with
 * the array's scale (float32 sums in a different order differ there in absolute, not relative,
 * terms).
 *
 * @module
 */
import assert from "node:assert/strict";
import "../../lib/tensor/engine.ts";
import { type Backend, getBackend, setDefaultBackend } from "../../lib/tensor/backend.ts";
import { type Tensor, tensor } from "../../lib/tensor/tensor.ts";
import type { NdArray } from "../../lib/io/array.ts";
import { readSafetensors } from "../../lib/nn/safetensors.ts";

/** Backends to test: LUMEN_TEST_BACKENDS (comma list) or every one that starts here. */
export async function testBackends(): Promise<Backend[]> {
  const want = (Deno.env.get("LUMEN_TEST_BACKENDS") ?? "wasm,webgpu").split(",").map((s) =>
    s.trim()
  ).filter(Boolean);
  const out: Backend[] = [];
  for (const n of want) {
    const b = await getBackend(n).catch(() => null);
    if (b) out.push(b);
    else console.warn(`skip backend ${n}: not available here`);
  }
  return out;
}

/** Runs `fn` once per backend as a test step, with that backend as the default. */
export async function perBackend(
  t: Deno.TestContext,
  fn: (b: Backend) => Promise<void> | void,
): Promise<void> {
  for (const b of await testBackends()) {
    await t.step(b.name, async () => {
      setDefaultBackend(b);
      try {
        await fn(b);
      } finally {
        b.resetArena();
      }
    });
  }
}

/** Reads a fixture safetensors file. */
export async function fixtureTensors(path: string): Promise<Map<string, NdArray>> {
  return (await readSafetensors(path)).tensors;
}

/** A fixture entry (throws naming the key when absent). */
export function get(m: Map<string, NdArray>, key: string): NdArray {
  const a = m.get(key);
  if (!a) throw new Error(`fixture has no tensor '${key}'`);
  return a;
}

/** A tensor from a fixture array on the default backend. */
export function toTensor(
  a: NdArray,
  opts: { requiresGrad?: boolean; persistent?: boolean } = {},
): Tensor {
  return tensor(a.data as Float32Array, a.shape, opts);
}

/** Largest violation of the tolerance (≤ 1 passes) and where. */
export function closeness(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol = 1e-4,
  atolScale = 1e-5,
  scale = 0,
): { worst: number; at: number; atol: number } {
  let maxAbs = scale;
  for (let i = 0; i < expected.length; i++) maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
  const atol = atolScale * maxAbs + 1e-7;
  let worst = 0, at = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i], a = actual[i];
    const r = Math.abs(a - e) / (rtol * Math.abs(e) + atol);
    if (!(r <= worst)) {
      worst = Number.isNaN(r) ? Infinity : r;
      at = i;
      if (!Number.isFinite(worst)) break;
    }
  }
  return { worst, at, atol };
}

/**
 * Asserts closeness (see the module doc) with a message naming the element. `scale`: a floor
 * of max|expected| for atol, for arrays that are zero in exact arithmetic (the gradient of a
 * conv bias feeding a batch-statistics batch norm is Σ of terms that cancel: float noise of
 * the order of the weight gradient's rounding), given as the scale of the related gradients.
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
  o: { rtol?: number; atolScale?: number; scale?: number } = {},
): void {
  assert.equal(
    actual.length,
    expected.length,
    `${what}: length ${actual.length} vs ${expected.length}`,
  );
  const { worst, at, atol } = closeness(
    actual,
    expected,
    o.rtol ?? 1e-4,
    o.atolScale ?? 1e-5,
    o.scale ?? 0,
  );
  if (!(worst <= 1)) {
    assert.fail(
      `${what}: element ${at} is ${actual[at]}, expected ${expected[at]} ` +
        `(|diff| ${Math.abs(actual[at] - expected[at]).toExponential(3)} > rtol·|e| + atol, atol ${
          atol.toExponential(2)
        })`,
    );
  }
}

/** Asserts that two arrays are equal bit for bit. */
export function assertBytesEqual(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) {
    if (ua[i] !== ub[i]) assert.fail(`${what}: element ${i} differs: ${a[i]} vs ${b[i]}`);
  }
}

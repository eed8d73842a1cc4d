/**
 * Shared helpers of the file-format tests (tests/formats_*_test.ts): comparing arrays with the
 * manifests the Python fixture scripts write, and asserting the one-line error convention.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { NdArray } from "../../lib/io/array.ts";
import { typedToBytes } from "../../lib/io/npy.ts";
import { LumenError } from "../../lib/run/errors.ts";

/** What a fixture manifest says about an array. */
export interface Expected {
  dtype: string;
  shape: number[];
  sha256: string;
  head?: string[];
}

/** SHA-256 (hex) of an array's C-order little-endian bytes. */
export async function arrayHash(a: NdArray): Promise<string> {
  const bytes = typedToBytes(a.data, true).slice();
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(d).map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Asserts dtype, shape and every value (by hash) against a manifest entry. */
export async function assertArray(a: NdArray, exp: Expected, what: string): Promise<void> {
  assert.deepEqual(a.dtype, exp.dtype, `${what}: dtype`);
  assert.deepEqual(a.shape, exp.shape, `${what}: shape`);
  const h = await arrayHash(a);
  if (h !== exp.sha256) {
    const head = Array.from(a.data.slice(0, 6) as ArrayLike<number | bigint>).map(String);
    throw new Error(`${what}: values differ (here ${head.join(", ")}; expected ${exp.head})`);
  }
}

/**
 * Runs `fn`, expecting a LumenError whose one-line message matches `re`; returns the message.
 */
export async function assertLumenError(
  fn: () => unknown | Promise<unknown>,
  re: RegExp,
): Promise<string> {
  let err: unknown = null;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert(err !== null, `expected a LumenError matching ${re}, nothing was thrown`);
  assert(err instanceof LumenError, `expected a LumenError, got ${err}`);
  const msg = (err as LumenError).message;
  assert(!msg.includes("\n"), `error message is not one line: ${JSON.stringify(msg)}`);
  assert(re.test(msg), `message ${JSON.stringify(msg)} does not match ${re}`);
  return msg;
}

/** A fresh temporary directory under /tmp (removed by the caller). */
export function tempDir(prefix = "lumen_formats_"): string {
  return Deno.makeTempDirSync({ prefix });
}

/** Names of the entries of a directory (sorted), [] if it does not exist. */
export function listDir(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  } catch {
    return [];
  }
}

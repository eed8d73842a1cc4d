/**
 * Runs test code with another default backend, restoring the previous one after.
 *
 * @example
 * ```ts
 * for (const b of await T.backends()) await withBackend(b, async () => { … });
 * ```
 * @module
 */
import * as T from "../lib/tensor/mod.ts";

/** Calls `fn` with `b` as the default backend, then puts the previous default back. */
export async function withBackend(b: T.Backend, fn: () => Promise<void>): Promise<void> {
  const prev = T.getDefaultBackend();
  T.setDefaultBackend(b);
  try {
    await fn();
  } finally {
    T.setDefaultBackend(prev);
  }
}

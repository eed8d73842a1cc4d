/**
 * {@link simulatePoint} on several threads: the point's orientation chunks are handed to web
 * workers (sim_worker.ts, WASM kernels) as each one finishes the previous chunk, and joined in
 * chunk order. Every chunk draws from its own seeded stream, so the result is the same for any
 * thread count, and equal to `simulatePoint(..., KinematicWasm)` in one thread.
 *
 * @example
 * ```ts
 * import { simulatePointThreads } from "./sim_threads.ts";
 * const r = await simulatePointThreads(point.params, phases, point.seed, undefined, 2);
 * ```
 * @module
 */
import type { Cif } from "./cif.ts";
import { preparePhase } from "./kinematic.ts";
import { KinematicWasm } from "./kinematic_wasm.ts";
import { assemblePoint, pointChunks, type SimResult, simulateChunk } from "./simulate.ts";

// deno-lint-ignore no-explicit-any
type P = any;

type Part = { rows: Float64Array; labels: Float64Array };

/**
 * Simulates one point with `threads` workers (1: in this thread, no worker).
 * @example
 * ```ts
 * const r = await simulatePointThreads(params, [{ name: "pb", cif }], 3, undefined, 2);
 * ```
 */
export async function simulatePointThreads(
  params: P,
  phases: { name: string; cif: Cif }[],
  seed: number,
  eulers: number[][][] | undefined,
  threads: number,
): Promise<SimResult> {
  const chunks = pointChunks(params, phases.length, eulers);
  const names = phases.map((p) => p.name);
  const n = Math.max(1, Math.min(threads, chunks.length));
  if (n === 1) {
    const k = await KinematicWasm.load();
    const sc = params.structure_parameters.scattering_params;
    const prepared = phases.map((p) => preparePhase(p.cif, p.name, sc));
    const parts = chunks.map((c) =>
      simulateChunk(params, prepared[c.phase], c, seed, eulers?.[c.phase], k)
    );
    return assemblePoint(params, names, parts);
  }
  const parts: Part[] = new Array(chunks.length);
  const workers = Array.from(
    { length: n },
    () => new Worker(new URL("./sim_worker.ts", import.meta.url), { type: "module" }),
  );
  try {
    let next = 0;
    await Promise.all(workers.map((w) =>
      new Promise<void>((resolve, reject) => {
        const send = () => {
          if (next >= chunks.length) return resolve();
          const id = next++;
          w.postMessage({ chunk: chunks[id], id });
        };
        w.onmessage = (e: MessageEvent) => {
          const m = e.data as Part & { id: number; error?: string };
          if (m.error) return reject(new Error(m.error));
          parts[m.id] = { rows: m.rows, labels: m.labels };
          send();
        };
        w.onerror = (e) => {
          e.preventDefault();
          reject(new Error(e.message));
        };
        w.postMessage({ init: { params, seed, phases, eulers } });
        send();
      })
    ));
  } finally {
    for (const w of workers) w.terminate();
  }
  return assemblePoint(params, names, parts);
}

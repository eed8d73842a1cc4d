/**
 * The worker of {@link simulatePointThreads} (sim_threads.ts): receives a point's parameters,
 * seed, phases and orientation lists once, then simulates the chunks it is sent with the WASM
 * kernels and posts each chunk's rows back (transferred).
 *
 * Messages in: `{ init: { params, seed, phases: {name, cif}[], eulers? } }`, then
 * `{ chunk: Chunk, id }`. Out: `{ id, rows, labels }` or `{ id, error }`.
 *
 * @module
 */
import type { Cif } from "./cif.ts";
import { type Phase, preparePhase } from "./kinematic.ts";
import { KinematicWasm } from "./kinematic_wasm.ts";
import { type Chunk, simulateChunk } from "./simulate.ts";

// deno-lint-ignore no-explicit-any
type P = any;

interface Init {
  params: P;
  seed: number;
  phases: { name: string; cif: Cif }[];
  eulers?: number[][][];
}

let state: { init: Init; phases: Phase[]; kernels: KinematicWasm } | null = null;
let ready: Promise<void> | null = null;

// deno-lint-ignore no-explicit-any
const self_ = globalThis as any;
const post = (m: unknown, t: ArrayBuffer[] = []) => self_.postMessage(m, t);

self_.onmessage = async (e: MessageEvent) => {
  const m = e.data as { init?: Init; chunk?: Chunk; id?: number };
  if (m.init) {
    const init = m.init;
    ready = KinematicWasm.load().then((kernels) => {
      const sc = init.params.structure_parameters.scattering_params;
      state = { init, kernels, phases: init.phases.map((p) => preparePhase(p.cif, p.name, sc)) };
    });
    return;
  }
  try {
    await ready;
    const s = state!, c = m.chunk!;
    const r = simulateChunk(
      s.init.params,
      s.phases[c.phase],
      c,
      s.init.seed,
      s.init.eulers?.[c.phase],
      s.kernels,
    );
    post({ id: m.id, rows: r.rows, labels: r.labels }, [
      r.rows.buffer as ArrayBuffer,
      r.labels.buffer as ArrayBuffer,
    ]);
  } catch (err) {
    post({ id: m.id, error: (err as Error).message });
  }
};

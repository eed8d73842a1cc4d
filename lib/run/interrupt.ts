/**
 * Safe points: places in long work where a tool may stop.
 *
 * JavaScript signal listeners run only when the thread returns to the event loop, so a tool busy
 * in a long loop would ignore Ctrl-C until the loop ends. Long loops call {@link safePoint} between
 * units of work (a sinogram, a training step, a block of frames); it yields to the event loop at
 * most every {@link YIELD_MS} ms, which lets the SIGINT/SIGTERM handler of `runTool`
 * (lib/run/main.ts) run there, between two complete units.
 *
 * For tests that interrupt a tool at an exact place, the environment variable `LUMEN_PAUSE_AT=N`
 * (readable with `--allow-env=LUMEN_PAUSE_AT`) makes the N-th safe point print
 * `lumen: paused at safe point N` on stderr and wait there until a signal ends the process: the
 * test waits for that line, sends the signal, and so never depends on timing. `LUMEN_PAUSE_AT=0`
 * pauses nowhere and prints `lumen: N safe points` when the process ends, so a test can pick
 * points inside the run.
 *
 * @example
 * ```ts
 * import { safePoint } from "./interrupt.ts";
 * for (let row = 0; row < 100; row++) {
 *   // … one unit of work …
 *   await safePoint();
 * }
 * ```
 * @module
 */

/** The longest stretch between two yields to the event loop, in ms. */
export const YIELD_MS = 50;

let count = 0;
let lastYield = performance.now();
let pauseAt: number | null | undefined;
let stopping = false;

/** Never settles; a timer keeps the event loop alive until the process exits. */
function forever(): Promise<never> {
  return new Promise<never>(() => setInterval(() => {}, 1 << 30));
}

/**
 * Tells every later safe point to hold (the process is on its way out: `runTool` calls this when
 * a signal arrives, then runs its clean-ups and exits), so no new unit of work starts.
 *
 * @example
 * ```ts
 * requestStop(); // the next safePoint() never returns
 * ```
 */
export function requestStop(): void {
  stopping = true;
}

/** `LUMEN_PAUSE_AT`, read once without prompting for permission (null when unset or unreadable). */
function pauseTarget(): number | null {
  if (pauseAt !== undefined) return pauseAt;
  pauseAt = null;
  try {
    const st = Deno.permissions.querySync({ name: "env", variable: "LUMEN_PAUSE_AT" }).state;
    const v = st === "granted" ? Deno.env.get("LUMEN_PAUSE_AT") : undefined;
    if (v && /^\d+$/.test(v)) pauseAt = Number(v);
    if (pauseAt === 0) {
      globalThis.addEventListener("unload", () => {
        Deno.stderr.writeSync(new TextEncoder().encode(`lumen: ${count} safe points\n`));
      });
    }
  } catch {
    // no permission API (a worker without env access)
  }
  return pauseAt;
}

/** How many safe points this process has passed. */
export function safePointCount(): number {
  return count;
}

/**
 * Marks a place where the tool may stop: yields to the event loop when {@link YIELD_MS} ms have
 * passed since the last yield (so pending signal handlers run), and pauses for good at the
 * safe point that `LUMEN_PAUSE_AT` names.
 *
 * @example
 * ```ts
 * await safePoint(); // between two sinograms
 * ```
 */
export async function safePoint(): Promise<void> {
  count++;
  if (count === pauseTarget()) {
    Deno.stderr.writeSync(new TextEncoder().encode(`lumen: paused at safe point ${count}\n`));
    await forever(); // the signal handler exits the process
  }
  const now = performance.now();
  if (now - lastYield >= YIELD_MS) {
    await new Promise((r) => setTimeout(r, 0));
    lastYield = performance.now();
  }
  if (stopping) await forever();
}

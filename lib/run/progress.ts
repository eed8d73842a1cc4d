/**
 * A progress bar on stderr: `label  [#####.....]  412/1801  23%  152/s  ETA 0:09`.
 *
 * It draws only when stderr is a terminal and the tool is not `--quiet`; otherwise every call is
 * a no-op. `tick()` is cheap enough to call once per item: it redraws at most every 100 ms.
 *
 * @example
 * ```ts
 * import { progress } from "./progress.ts";
 * const bar = progress("sinograms", 1801, { quiet: false });
 * for (let i = 0; i < 1801; i++) bar.tick();
 * bar.done();
 * ```
 * @module
 */

/** Options of {@link progress}. */
export interface ProgressOptions {
  /** `--quiet`: draw nothing. */
  quiet?: boolean;
  /** Override terminal detection (tests); default `Deno.stderr.isTerminal()`. */
  isTerminal?: boolean;
  /** Where to draw (default `Deno.stderr`). */
  stream?: { writeSync(p: Uint8Array): number };
  /** Minimum milliseconds between redraws (default 100). */
  intervalMs?: number;
  /** Unit shown with the rate (default "/s"; e.g. " MB/s" when counting megabytes). */
  unit?: string;
}

/** A running progress bar. */
export interface Progress {
  /** Whether anything is drawn at all. */
  readonly enabled: boolean;
  /** Items done so far. */
  readonly count: number;
  /** Counts `n` more items done (default 1). */
  tick(n?: number): void;
  /** Sets the count of items done. */
  set(count: number): void;
  /** Draws the final state and ends the line. */
  done(): void;
}

const ENC = new TextEncoder();

function fmtTime(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "--:--";
  s = Math.round(s);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

function fmtRate(r: number): string {
  if (r >= 100) return r.toFixed(0);
  if (r >= 10) return r.toFixed(1);
  return r.toPrecision(2);
}

function stderrIsTerminal(): boolean {
  try {
    return Deno.stderr.isTerminal();
  } catch {
    return false;
  }
}

function terminalWidth(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 80;
  }
}

class Bar implements Progress {
  readonly enabled: boolean;
  count = 0;
  #label: string;
  #total: number | undefined;
  #stream: { writeSync(p: Uint8Array): number };
  #interval: number;
  #unit: string;
  #start = performance.now();
  #last = -Infinity;
  #finished = false;

  constructor(label: string, total: number | undefined, opts: ProgressOptions) {
    this.enabled = !opts.quiet && (opts.isTerminal ?? stderrIsTerminal());
    this.#label = label;
    this.#total = total !== undefined && total > 0 ? total : undefined;
    this.#stream = opts.stream ?? Deno.stderr;
    this.#interval = opts.intervalMs ?? 100;
    this.#unit = opts.unit ?? "/s";
  }

  tick(n = 1): void {
    this.count += n;
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.#last >= this.#interval) this.#draw(now, false);
  }

  set(count: number): void {
    this.count = count;
    this.tick(0);
  }

  done(): void {
    if (!this.enabled || this.#finished) return;
    this.#finished = true;
    this.#draw(performance.now(), true);
  }

  /** The text of the bar at time `now` (ms), without control characters. */
  render(now: number, width: number): string {
    const secs = Math.max(1e-9, (now - this.#start) / 1000);
    const rate = this.count / secs;
    const parts: string[] = [this.#label];
    let bar = "";
    if (this.#total !== undefined) {
      const f = Math.min(1, this.count / this.#total);
      parts.push(`${this.count}/${this.#total}`, `${Math.floor(f * 100)}%`);
      parts.push(`${fmtRate(rate)}${this.#unit}`);
      const eta = rate > 0 ? (this.#total - this.count) / rate : Infinity;
      parts.push(this.count >= this.#total ? fmtTime(secs) : `ETA ${fmtTime(eta)}`);
      const room = width - parts.join("  ").length - 6;
      if (room >= 10) {
        const w = Math.min(40, room);
        const k = Math.round(f * w);
        bar = `[${"#".repeat(k)}${".".repeat(w - k)}]`;
      }
    } else {
      parts.push(`${this.count}`, `${fmtRate(rate)}${this.#unit}`, fmtTime(secs));
    }
    if (bar) parts.splice(1, 0, bar);
    return parts.join("  ").slice(0, Math.max(10, width - 1));
  }

  #draw(now: number, final: boolean): void {
    this.#last = now;
    const text = `\r${this.render(now, terminalWidth())}\x1b[K${final ? "\n" : ""}`;
    try {
      const data = ENC.encode(text);
      let off = 0;
      while (off < data.length) off += this.#stream.writeSync(data.subarray(off));
    } catch {
      // a closed stderr must not stop the work
    }
  }
}

/**
 * Starts a progress bar for `total` items (unknown total: omit it, and the bar shows count and
 * rate only).
 */
export function progress(label: string, total?: number, opts: ProgressOptions = {}): Progress {
  return new Bar(label, total, opts);
}

/**
 * Drives tests/io/_describe_child.ts: describe() of one file at a time in a child process with
 * `--allow-read` alone, a time limit per file and a memory limit (the child's resident memory,
 * polled from /proc every 25 ms, and as the child reports it after the file). A file over either
 * limit is a "hang" or "memory" outcome and the child is restarted; a child that dies is a
 * "crash". The child is also restarted after a raw exception and once its memory passes half
 * the limit, so each file's memory is its own.
 *
 * @example
 * ```ts
 * const c = new DescribeChild({ timeoutMs: 10_000, memoryLimit: 2 ** 30 });
 * const r = await c.run("bad.tif"); // { kind: "error", error: "bad.tif: …", … }
 * await c.close();
 * ```
 * @module
 */

/** What one file gave. */
export interface Outcome {
  /** report: described; error: one-line LumenError; raw: another exception; hang, memory, crash. */
  kind: "report" | "error" | "raw" | "hang" | "memory" | "crash";
  /** The error line, the raw exception, or what killed the child. */
  error?: string;
  /** Milliseconds the describe took (or until the limit). */
  ms: number;
  /** Peak resident memory seen while it ran, bytes. */
  rss: number;
  /** For a report: the shapes, dtypes and counts the child found (see _describe_child.ts). */
  summary?: Record<string, unknown>;
}

const CHILD = new URL("./_describe_child.ts", import.meta.url).pathname;

function vmRss(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** One child process running describe() on files sent to it, restarted after a kill. */
export class DescribeChild {
  private proc: Deno.ChildProcess | null = null;
  private lines: ReadableStreamDefaultReader<string> | null = null;
  private pending = "";
  private writer: WritableStreamDefaultWriter<Uint8Array> | null = null;

  /**
   * @param opts per-file time limit, memory limit (resident bytes), the readers' budget
   *   (`--max-memory`, default the library's), extra permissions for the child, and an HDF5
   *   file it describes before it says it is ready (the time limit starts after that)
   */
  constructor(
    readonly opts: {
      timeoutMs: number;
      memoryLimit: number;
      budget?: number;
      permissions?: string[];
      warmUp?: string;
    },
  ) {}

  private start(): void {
    const args = ["run", "--quiet", "--allow-read", ...(this.opts.permissions ?? [])];
    args.push(CHILD, String(this.opts.budget ?? ""), this.opts.warmUp ?? "");
    this.proc = new Deno.Command("deno", {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.lines = this.proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
    this.writer = this.proc.stdin.getWriter();
    this.pending = "";
  }

  private async nextLine(): Promise<string | null> {
    for (;;) {
      const nl = this.pending.indexOf("\n");
      if (nl >= 0) {
        const line = this.pending.slice(0, nl);
        this.pending = this.pending.slice(nl + 1);
        return line;
      }
      const r = await this.lines!.read();
      if (r.done) return null;
      this.pending += r.value;
    }
  }

  private async kill(): Promise<void> {
    const p = this.proc!;
    this.proc = null;
    try {
      p.kill("SIGKILL");
    } catch { /* gone */ }
    await this.writer!.close().catch(() => {});
    await this.lines!.cancel().catch(() => {});
    await p.status;
  }

  /** Describes one file in the child. */
  async run(path: string): Promise<Outcome> {
    if (!this.proc) {
      this.start();
      let startTimer: ReturnType<typeof setTimeout> | undefined;
      const ready = await Promise.race([
        this.nextLine(), // start-up is not the file's time, within a minute
        new Promise<null>((r) => startTimer = setTimeout(() => r(null), 60_000)),
      ]);
      clearTimeout(startTimer);
      if (ready === null) {
        try {
          this.proc!.kill("SIGKILL");
        } catch { /* gone */ }
        const st = await this.proc!.status;
        this.proc = null;
        return { kind: "crash", error: `child did not start (code ${st.code})`, ms: 0, rss: 0 };
      }
    }
    const pid = this.proc!.pid;
    const t0 = performance.now();
    let peak = 0, over = false;
    let tick: ReturnType<typeof setInterval> | undefined;
    const limit = new Promise<"limit">((r) => {
      tick = setInterval(() => {
        peak = Math.max(peak, vmRss(pid));
        if (peak > this.opts.memoryLimit) over = true;
        if (over || performance.now() - t0 > this.opts.timeoutMs) r("limit");
      }, 25);
    });
    await this.writer!.write(new TextEncoder().encode(path + "\n"));
    const line = await Promise.race([this.nextLine(), limit]);
    clearInterval(tick);
    const ms = performance.now() - t0;
    if (line === "limit") {
      await this.kill();
      return over
        ? { kind: "memory", error: `resident memory over ${this.opts.memoryLimit}`, ms, rss: peak }
        : { kind: "hang", error: `no answer in ${this.opts.timeoutMs} ms`, ms, rss: peak };
    }
    if (line === null) {
      const st = await this.proc!.status;
      this.proc = null;
      return {
        kind: "crash",
        error: `child exited (code ${st.code}, ${st.signal})`,
        ms,
        rss: peak,
      };
    }
    const r = JSON.parse(line);
    const rss = Math.max(peak, r.rss);
    // a fresh child after a raw failure (its state may be broken) or a large heap (so that the
    // next file's memory is its own)
    if ((!r.ok && !r.lumen) || rss > this.opts.memoryLimit / 2) await this.close();
    if (rss > this.opts.memoryLimit) {
      return {
        kind: "memory",
        error: `resident memory ${rss} over ${this.opts.memoryLimit}`,
        ms,
        rss,
      };
    }
    if (r.ok) return { kind: "report", ms: r.ms, rss, summary: r.summary };
    return { kind: r.lumen ? "error" : "raw", error: r.error, ms: r.ms, rss };
  }

  /** Ends the child: its stdin closed, then killed if it has not exited within 5 s. */
  async close(): Promise<void> {
    if (!this.proc) return;
    const p = this.proc;
    this.proc = null;
    await this.writer!.close().catch(() => {});
    await this.lines!.cancel().catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((r) => timer = setTimeout(() => r("late"), 5000));
    if (await Promise.race([p.status, late]) === "late") {
      this.lingered++;
      try {
        p.kill("SIGKILL");
      } catch { /* gone */ }
      await p.status;
    }
    clearTimeout(timer);
  }

  /** Children that did not exit within 5 s of their stdin closing (and were killed). */
  lingered = 0;
}

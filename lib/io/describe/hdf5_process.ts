/**
 * The HDF5 describe in a child process, behind the part of the `Worker` interface that
 * {@link describeHdf5} uses (`postMessage`, `onmessage`, `onerror`, `terminate`).
 *
 * A worker cannot be stopped while it is inside a long WebAssembly call: Deno's
 * `Worker.terminate()` leaves a thread that is busy in h5wasm running (measured: a worker
 * looping on a corrupt file kept its core busy for as long as the process lived). A long-lived
 * process that describes many files would keep one such thread per stalled file. A child
 * process is stopped for sure: `terminate()` kills it (SIGKILL) and reaps it. It is used where
 * the process may run Deno itself (`--allow-run` for Deno's executable) and may read every
 * file (the child gets `--allow-read`, and `--allow-write=/tmp` where this process has it, for
 * HDF5's error stack); elsewhere the worker is used, and a stalled
 * worker ends with the process (tools exit after their work).
 *
 * @example
 * ```ts
 * import { Hdf5Process } from "./hdf5_process.ts";
 * const p = Hdf5Process.start(); // null without the permissions
 * p?.terminate();
 * ```
 * @module
 */
import type { Hdf5WorkerReply } from "./hdf5.ts";

const CHILD = new URL("./hdf5_child.ts", import.meta.url);
const CONFIG = new URL("../../../deno.json", import.meta.url);

/** True when `state` of the permission query is "granted" (false where it cannot be asked). */
function granted(desc: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(desc).state === "granted";
  } catch {
    return false;
  }
}

/** A child process answering HDF5 describe jobs (lib/io/describe/hdf5_child.ts). */
export class Hdf5Process {
  /** Called with each reply, as a worker's `onmessage`. */
  onmessage: ((e: MessageEvent<Hdf5WorkerReply>) => void) | null = null;
  /** Called when the child ends without being terminated, as a worker's `onerror`. */
  onerror: ((e: ErrorEvent) => void) | null = null;
  private readonly proc: Deno.ChildProcess;
  private readonly stdin: WritableStreamDefaultWriter<Uint8Array>;
  private stopped = false;

  private constructor(exe: string, args: string[]) {
    this.proc = new Deno.Command(exe, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.stdin = this.proc.stdin.getWriter();
    this.read();
  }

  /**
   * Starts a child where this process may (`--allow-run` for Deno's executable, or for `deno`
   * as found on the PATH; unscoped `--allow-read`; the module on the local disk); null
   * otherwise.
   *
   * @example
   * ```ts
   * const w = Hdf5Process.start() ?? new Worker(url, { type: "module" });
   * ```
   */
  static start(): Hdf5Process | null {
    if (CHILD.protocol !== "file:" || !granted({ name: "read" })) return null;
    let exe: string | null = null;
    try {
      exe = Deno.execPath();
    } catch { /* not readable */ }
    if (!exe || !granted({ name: "run", command: exe })) {
      exe = granted({ name: "run", command: "deno" }) ? "deno" : null;
    }
    if (!exe) return null;
    let config = ["--no-config"];
    try {
      if (Deno.statSync(CONFIG).isFile) config = ["--config", CONFIG.pathname];
    } catch { /* no deno.json beside the library: its npm: specifiers need none */ }
    // HDF5 prints its error stack through /tmp/tmpfile_…: where this process may write there,
    // so may the child (the same error text as in this process), else it gets read access alone
    const tmp = granted({ name: "write", path: "/tmp" }) ? ["--allow-write=/tmp"] : [];
    try {
      Deno.statSync(CHILD);
      return new Hdf5Process(exe, [
        "run",
        "--quiet",
        "--no-prompt",
        ...config,
        "--allow-read",
        ...tmp,
        CHILD.pathname,
      ]);
    } catch {
      return null;
    }
  }

  /** The child's process id. */
  get pid(): number {
    return this.proc.pid;
  }

  private async read(): Promise<void> {
    let buf = "";
    try {
      for await (const chunk of this.proc.stdout.pipeThrough(new TextDecoderStream())) {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const text = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (!this.stopped && text.trim()) {
            this.onmessage?.(new MessageEvent("message", { data: JSON.parse(text) }));
          }
        }
      }
    } catch { /* the child was killed */ }
    const st = await this.proc.status;
    if (!this.stopped) {
      this.stopped = true;
      const message = `the HDF5 child process ended (${st.signal ?? `exit ${st.code}`})`;
      this.onerror?.(new ErrorEvent("error", { message }));
    }
  }

  /** Sends a job, as a worker's `postMessage`. */
  postMessage(job: unknown): void {
    this.stdin.write(new TextEncoder().encode(JSON.stringify(job) + "\n")).catch(() => {});
  }

  /** Kills the child (SIGKILL) and reaps it; `exited` settles once it is gone. */
  terminate(): void {
    if (this.stopped) return;
    this.stopped = true;
    try {
      this.proc.kill("SIGKILL");
    } catch { /* already gone */ }
    this.stdin.close().catch(() => {});
  }

  /** Settles when the child has exited (after {@link terminate}, or by itself). */
  get exited(): Promise<Deno.CommandStatus> {
    return this.proc.status;
  }
}

/**
 * The worker of {@link describeHdf5}: posts `{ready}`, then, for the `{path, opts}` it is sent,
 * `{beat}` after each unit of progress and the description (`{ok}`) or the error (`{lumen}` for
 * a LumenError, `{raw}` otherwise).
 *
 * @example
 * ```ts
 * const w = new Worker(new URL("./hdf5_worker.ts", import.meta.url), { type: "module" });
 * ```
 * @module
 */
import { LumenError } from "../../run/errors.ts";
import { describeHdf5Here, type Hdf5WorkerReply } from "./hdf5.ts";
import type { DescribeOptions } from "./types.ts";

type Job = { path: string; opts: DescribeOptions };
const scope = self as unknown as {
  onmessage: ((e: MessageEvent<Job>) => void) | null;
  postMessage(m: Hdf5WorkerReply): void;
};
const post = (m: Hdf5WorkerReply) => scope.postMessage(m);
scope.onmessage = async (e: MessageEvent<Job>) => {
  const { path, opts } = e.data;
  try {
    post({ ok: await describeHdf5Here(path, opts, () => post({ beat: true })) });
  } catch (err) {
    if (err instanceof LumenError) post({ lumen: [err.file, err.place, err.problem] });
    else post({ raw: String((err as Error)?.stack ?? err) });
  }
};
post({ ready: true });

/**
 * HDF5/NeXus described: the tree (groups, datasets with shape, dtype, chunks, filters and
 * attributes, soft and external links), small values, and every numeric dataset's minimum and
 * maximum read a hyperslab at a time. Datasets behind external links are described with their
 * data; a dataset that cannot be read (a filter h5wasm lacks) carries an `error` and does not
 * hide the rest of the file. The work runs in a child process where this process may start one
 * (hdf5_process.ts: killed for sure when it stalls) or else in a worker, so that a signal, or an
 * HDF5 call that makes no progress for {@link HDF5_STALL_MS} (a corrupt file can make the
 * library loop), stops it; where neither can start (a bundle), it runs in this thread.
 *
 * @example
 * ```ts
 * import { describeHdf5 } from "./hdf5.ts";
 * const d = await describeHdf5("scan.nxs", {}); // { arrays, attrs, tree }
 * ```
 * @module
 */
import { LumenError } from "../../run/errors.ts";
import { type NdArray, sizeOf } from "../array.ts";
import { H5File, type H5Node } from "../hdf5.ts";
import { safePoint } from "../../run/interrupt.ts";
import { BLOCK, blocksOf, jsonNumber, MinMax, NO_STATS, type Stats } from "./stats.ts";
import { clip, fmtArray, fmtAttrs, showName } from "./text.ts";
import { Hdf5Process } from "./hdf5_process.ts";
import type { ArrayInfo, DescribeOptions, Description, Details } from "./types.ts";

/** One node of the described tree. */
export interface Hdf5TreeNode {
  /** Absolute path in the file. */
  path: string;
  /** group, dataset, softlink or externallink. */
  kind: string;
  /** Anything else: shape, dtype, chunks, filters, attrs, value, target, broken… */
  [field: string]: unknown;
}

/** What {@link describeHdf5} finds. */
export interface Hdf5Details extends Details {
  /** The root group's attributes. */
  attrs: Record<string, unknown>;
  /** Every object, in walk order. */
  tree: Hdf5TreeNode[];
}

type Dataset = Extract<H5Node, { kind: "dataset" }>;

/** Attributes as JSON-safe values. */
function attrsJson(attrs: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(attrs)) out[k] = valueJson(v);
  return out;
}

/** A value as JSON-safe data; arrays beyond 16 elements shortened to their head. */
function valueJson(v: unknown): unknown {
  if (typeof v === "bigint" || typeof v === "number") return jsonNumber(v);
  if (v && typeof v === "object" && "data" in v && "shape" in v && "dtype" in v) {
    const a = v as NdArray;
    const shown = Array.from(
      a.data.subarray(0, 16) as ArrayLike<number | bigint>,
      (x) => jsonNumber(x),
    );
    return a.data.length <= 16 && a.shape.length <= 1
      ? shown
      : { shape: a.shape, dtype: a.dtype, head: shown };
  }
  return v;
}

/**
 * A dataset's statistics, a hyperslab of at most BLOCK elements at a time, with a safe point
 * between hyperslabs (a signal stops a long read there).
 */
async function datasetStats(
  f: H5File,
  path: string,
  n: Dataset,
  beat: () => void,
): Promise<Stats> {
  const mm = new MinMax();
  for (const [offset, count] of blocksOf(n.shape, n.chunks, BLOCK)) {
    const sel = offset.map((o, i) => [o, o + count[i]] as [number, number]);
    mm.add(f.read(path, n.shape.length ? sel : undefined).data);
    beat();
    await safePoint();
  }
  return mm.result();
}

/**
 * Describes an HDF5 file.
 *
 * @example
 * ```ts
 * const d = await describeHdf5("tooth.h5", { stats: false });
 * d.tree.map((n) => n.path); // ["/exchange", "/exchange/data", …]
 * ```
 */
export async function describeHdf5(path: string, opts: DescribeOptions): Promise<Hdf5Details> {
  let w: Runner;
  try {
    w = kept ?? Hdf5Process.start() ??
      new Worker(new URL("./hdf5_worker.ts", import.meta.url), { type: "module" });
  } catch {
    return await describeHdf5Here(path, opts); // no workers here (a bundle): in this thread
  }
  let healthy = false;
  try {
    const d = await new Promise<Hdf5Details>((resolve, reject) => {
      let ready = w === kept, last = performance.now();
      const stalled = new LumenError(
        path,
        "",
        `the HDF5 library made no progress for ${HDF5_STALL_MS / 1000} s (stopped); a corrupt ` +
          `file that makes it loop?`,
      );
      // every way out clears the watch: a live interval would keep the process running
      const done = <T>(f: (x: T) => void) => (x: T) => (clearInterval(watch), f(x));
      const watch = setInterval(() => {
        const idle = performance.now() - last;
        if (ready && idle > HDF5_STALL_MS) done(reject)(stalled);
        else if (!ready && idle > 6 * HDF5_STALL_MS) {
          done(reject)(new LumenError(path, "", "the HDF5 worker did not start in 30 s"));
        }
      }, 100);
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        if (ready) done(reject)(new LumenError(path, "", `HDF5 worker failed: ${e.message}`));
        else describeHdf5Here(path, opts).then(done(resolve), done(reject)); // cannot load it
      };
      w.onmessage = (e: MessageEvent<Hdf5WorkerReply>) => {
        const m = e.data;
        last = performance.now();
        if ("ready" in m) {
          ready = true;
          w.postMessage({ path, opts });
        } else if ("ok" in m) (healthy = true), done(resolve)(m.ok);
        else if ("lumen" in m) (healthy = true), done(reject)(new LumenError(...m.lumen));
        else if ("raw" in m) done(reject)(new Error(m.raw));
      };
      if (ready) w.postMessage({ path, opts });
    });
    return d;
  } finally {
    if (healthy && reuse) kept = w;
    else {
      w.terminate();
      if (kept === w) kept = null;
      if (w instanceof Hdf5Process) await w.exited; // killed and reaped: nothing left running
    }
  }
}

/** Where the HDF5 work runs: a child process, or a worker. */
type Runner = Worker | Hdf5Process;
let reuse = false;
let kept: Runner | null = null;

/**
 * Keeps the worker of {@link describeHdf5} between calls (for a process that describes many
 * files: starting one costs a few hundred ms), or, with `false`, ends it. A worker that failed
 * or stalled is never kept.
 *
 * @example
 * ```ts
 * keepHdf5Worker(true);
 * for (const f of files) await describe(f);
 * keepHdf5Worker(false);
 * ```
 */
export function keepHdf5Worker(on: boolean): void {
  reuse = on;
  if (!on && kept) {
    kept.terminate();
    kept = null;
  }
}

/**
 * The longest an HDF5 call of {@link describeHdf5} may go without progress (5 s) before its
 * worker is stopped: a corrupt file can make the HDF5 library loop for good, and a loop inside
 * WebAssembly cannot stop at a safe point.
 */
export const HDF5_STALL_MS = 5000;

/** What the worker of {@link describeHdf5} posts. */
export type Hdf5WorkerReply =
  | { ready: true }
  | { beat: true }
  | { ok: Hdf5Details }
  | { lumen: [string, string, string] }
  | { raw: string };

/**
 * Describes an HDF5 file in this thread ({@link describeHdf5} runs it in a worker, which a
 * signal or a stalled HDF5 call can stop); `beat` is called after each unit of progress. A
 * failure inside the HDF5 library (a WebAssembly trap, an abort) is one LumenError line.
 *
 * @example
 * ```ts
 * const d = await describeHdf5Here("scan.nxs", { stats: false });
 * ```
 */
export async function describeHdf5Here(
  path: string,
  opts: DescribeOptions,
  beat: () => void = () => {},
): Promise<Hdf5Details> {
  try {
    return await describeOpen(path, opts, beat);
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError || /^Aborted\(/.test((e as Error)?.message)) {
      throw new LumenError(
        path,
        "",
        `the HDF5 library failed on this file (${
          (e as Error).message.split("\n")[0]
        }); corrupt file?`,
      );
    }
    throw e;
  }
}

async function describeOpen(
  path: string,
  opts: DescribeOptions,
  beat: () => void,
): Promise<Hdf5Details> {
  const f = await H5File.open(path, "r");
  beat();
  try {
    const nodes = f.walk("/", beat);
    beat();
    const rootAttrs = attrsJson(f.attrs("/"));
    const arrays: ArrayInfo[] = [];
    const tree: Hdf5TreeNode[] = [];
    const dataset = async (n: Dataset, shownPath: string) => {
      const exactShape = n.exactShape?.map(String);
      const entry: Hdf5TreeNode = {
        path: shownPath,
        kind: "dataset",
        shape: n.exactShape ? n.exactShape.map(jsonNumber) : n.shape,
        dtype: n.dtype,
        chunks: n.chunks,
        maxshape: n.maxshape,
        filters: n.filters.map((x) => x.name + (x.values.length ? `(${x.values.join(",")})` : "")),
        attrs: attrsJson(n.attrs),
      };
      if (n.file !== f.absPath && n.file !== f.path) entry.file = n.file;
      // small values are worth showing: scalars and short strings
      if (sizeOf(n.shape) === 1 || (n.dtype === "string" && sizeOf(n.shape) <= 4)) {
        try {
          entry.value = valueJson(f.readValue(shownPath));
        } catch { /* an unreadable value is not an error of the file as a whole */ }
      }
      tree.push(entry);
      beat();
      if (["string", "compound", "enum", "other"].includes(n.dtype)) return;
      let st = NO_STATS, error: string | undefined;
      // 2^53 elements or more cannot be read for a minimum and maximum (nor held by a double)
      if ((opts.stats ?? true) && !exactShape) {
        try {
          st = await datasetStats(f, shownPath, n, beat);
        } catch (e) {
          if (!(e instanceof LumenError)) throw e;
          error = e.problem;
        }
      }
      arrays.push({
        name: shownPath,
        shape: n.shape,
        ...(exactShape ? { exactShape } : {}),
        dtype: n.dtype,
        ...st,
        chunks: n.chunks,
        compression: n.compression,
        ...(error ? { error } : {}),
      });
    };
    for (const n of nodes) {
      if (n.kind === "group") {
        tree.push({ path: n.path, kind: "group", attrs: attrsJson(n.attrs) });
      } else if (n.kind === "dataset") {
        await dataset(n, n.path);
      } else {
        const e: Hdf5TreeNode = { path: n.path, kind: n.kind, target: n.target };
        if (n.kind === "externallink") e.targetFile = n.targetFile;
        if (!n.resolved) e.broken = true;
        else e.resolvesTo = n.resolved.kind;
        tree.push(e);
        // External links to datasets are listed with their data (a DIAD scan's projections live
        // behind one); soft links point inside the file, already listed.
        if (n.kind === "externallink" && n.resolved?.kind === "dataset") {
          await dataset(n.resolved, n.path);
          tree.pop();
        }
      }
    }
    return { arrays, attrs: rootAttrs, tree };
  } finally {
    f.close();
  }
}

/**
 * The text lines of an HDF5 description after its title: root attributes, then the tree
 * indented by depth with each dataset's array line and attributes.
 *
 * @example
 * ```ts
 * hdf5Lines(await describe("scan.nxs")); // ["  entry/", "    data  float32 (…)", …]
 * ```
 */
export function hdf5Lines(d: Description): string[] {
  const h = d as Description & Hdf5Details;
  const lines = fmtAttrs(h.attrs, "  ");
  const byName = new Map(h.arrays.map((a) => [a.name, a]));
  for (const n of h.tree) {
    const depth = n.path.split("/").length - 2;
    const ind = "  ".repeat(depth + 1);
    const name = showName(n.path.split("/").pop() || "/");
    const a = byName.get(n.path);
    if (n.kind === "group") {
      lines.push(`${ind}${name}/`, ...fmtAttrs(n.attrs, ind + "    "));
    } else if (n.kind === "dataset") {
      const shape = `${n.dtype} (${(n.shape as number[]).join(", ")})`;
      const extra: string[] = [];
      if (n.chunks) extra.push(`chunks (${(n.chunks as number[]).join(", ")})`);
      if ((n.filters as string[]).length) extra.push((n.filters as string[]).join(" "));
      if (n.file) extra.push(`in ${n.file}`);
      const desc = n.value !== undefined
        ? `${shape} = ${clip(JSON.stringify(n.value), 60)}`
        : a
        ? fmtArray(a)
        : shape;
      lines.push(`${ind}${name}  ${desc}${extra.length ? "  " + extra.join("  ") : ""}`);
      lines.push(...fmtAttrs(n.attrs, ind + "    "));
    } else {
      const where = n.kind === "externallink" ? `${n.targetFile}:${n.target}` : `${n.target}`;
      lines.push(
        `${ind}${name} -> ${where}${n.broken ? "  (broken)" : ""}${a ? "  " + fmtArray(a) : ""}`,
      );
    }
  }
  return lines;
}

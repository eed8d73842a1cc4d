/**
 * The dashboard's local HTTP server (Deno.serve, 127.0.0.1 by default), read-only on its roots:
 *
 * | path | answer |
 * |---|---|
 * | `/` | the runs table |
 * | `/lineage` | the lineage graph |
 * | `/run/<root>/<id>` | a run's page |
 * | `/file/<root>/<path>` | a file inside root number `<root>` (confinePath: no `..`, no absolute path, no symlink out of the root) |
 * | `/api/runs` | the runs as JSON |
 * | `/api/run/<root>/<id>/log` | a run's log payload (see LogPayload), read fresh on every request |
 *
 * Anything else, and every path that confinePath refuses, is a 404. The roots are rescanned when
 * the last scan is older than `rescanMs` (the log API always reads the log itself).
 *
 * @example
 * ```ts
 * import { serveDashboard } from "./server.ts";
 * const ac = new AbortController();
 * const d = serveDashboard({ roots: ["runs"], port: 0, signal: ac.signal });
 * console.log(d.url); // http://127.0.0.1:PORT/
 * ac.abort();
 * await d.finished;
 * ```
 * @module
 */
import { confinePath } from "./paths.ts";
import { type RunInfo, scanRoots } from "./scan.ts";
import { findRun, groupRuns, runKey } from "./runs.ts";
import { readRunDetail } from "./detail.ts";
import { buildLineage, type Lineage } from "./lineage.ts";
import { lineagePage, logPayload, runPage, runsTablePage, serverLinks } from "./pages.ts";

/** Options of {@link serveDashboard}. */
export interface DashboardOptions {
  roots: readonly string[];
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Port (default 8470; 0 picks a free one). */
  port?: number;
  /** Stops the server when aborted. */
  signal?: AbortSignal;
  /** Rescan the roots when the last scan is older than this (default 2000 ms). */
  rescanMs?: number;
  /** Called once the server listens. */
  onListen?: (addr: { hostname: string; port: number }) => void;
}

/** A running dashboard. */
export interface Dashboard {
  /** Its base URL, `http://host:port/`. */
  url: string;
  port: number;
  /** Resolves when the server has stopped. */
  finished: Promise<void>;
}

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  htm: "text/html; charset=utf-8",
  json: "application/json",
  jsonl: "text/plain; charset=utf-8",
  txt: "text/plain; charset=utf-8",
  log: "text/plain; charset=utf-8",
  out: "text/plain; charset=utf-8",
  err: "text/plain; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  svg: "image/svg+xml",
};

/**
 * The content type served for a file name.
 * @example `contentType("a/b.png")` // "image/png"
 */
export function contentType(name: string): string {
  const ext = /\.([^./]+)$/.exec(name)?.[1]?.toLowerCase() ?? "";
  return TYPES[ext] ?? "application/octet-stream";
}

/**
 * The runs and lineage of some roots, rescanned when older than a given age.
 * @example `const runs = await new RunIndex(["runs"], 2000).get()`
 */
export class RunIndex {
  private runs: RunInfo[] = [];
  private graph: Lineage | null = null;
  private at = -Infinity;
  private pending: Promise<void> | null = null;

  /** @param roots the folders to scan; @param maxAgeMs rescan when older */
  constructor(readonly roots: readonly string[], readonly maxAgeMs = 2000) {}

  /** The runs (rescanned when the last scan is too old). */
  async get(): Promise<RunInfo[]> {
    if (performance.now() - this.at > this.maxAgeMs) {
      this.pending ??= (async () => {
        try {
          this.runs = groupRuns(await scanRoots(this.roots));
          this.graph = null;
          this.at = performance.now();
        } finally {
          this.pending = null;
        }
      })();
      await this.pending;
    }
    return this.runs;
  }

  /**
   * The run of a key from the last scan when it is there (no rescan: run pages and the log API
   * read the run's files fresh anyway), else after a rescan.
   */
  async find(key: string): Promise<RunInfo | undefined> {
    const hit = this.at > -Infinity ? findRun(this.runs, this.roots, key) : undefined;
    return hit ?? findRun(await this.get(), this.roots, key);
  }

  /** The lineage of the current runs (`fresh` false: of the last scan, when there was one). */
  async lineage(fresh = true): Promise<Lineage> {
    const runs = fresh || this.at === -Infinity ? await this.get() : this.runs;
    return this.graph ??= buildLineage(runs, this.roots);
  }
}

const html = (body: string) =>
  new Response(body, { headers: { "content-type": TYPES.html, "cache-control": "no-store" } });
const json = (v: unknown) =>
  new Response(JSON.stringify(v), {
    headers: { "content-type": TYPES.json, "cache-control": "no-store" },
  });
const notFound = () =>
  new Response("404 not found\n", { status: 404, headers: { "content-type": TYPES.txt } });

/** The path after a prefix, each segment percent-decoded, or null when it does not decode. */
function rest(pathname: string, prefix: string): string | null {
  try {
    return pathname.slice(prefix.length).split("/").map(decodeURIComponent).join("/");
  } catch {
    return null;
  }
}

/**
 * The request handler of the dashboard (what {@link serveDashboard} serves), for tests and for
 * embedding.
 * @example `const handle = dashboardHandler(new RunIndex(["runs"])); await handle(new Request("http://x/"))`
 */
export function dashboardHandler(index: RunIndex): (req: Request) => Promise<Response> {
  const roots = index.roots;
  const links = serverLinks();
  return async (req: Request): Promise<Response> => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405 });
    }
    // the raw path: a request line with `..` is refused before any URL normalisation
    const raw = /^[a-z]+:\/\/[^/]*(\/[^?#]*)/i.exec(req.url)?.[1] ?? "/";
    const path = raw;
    if (path === "/" || path === "/index.html") {
      return html(runsTablePage(await index.get(), roots, links));
    }
    if (path === "/lineage") return html(lineagePage(await index.lineage(), links));
    if (path === "/api/runs") {
      const runs = await index.get();
      return json(runs.map((r) => ({ key: runKey(roots, r), ...r })));
    }
    if (path.startsWith("/api/run/") && path.endsWith("/log")) {
      const key = rest(path.slice(0, -4), "/api/run/");
      const run = key === null ? undefined : await index.find(key);
      if (!run || !run.log) return notFound();
      return json(logPayload(await readRunDetail(run, { logOnly: true }), key!));
    }
    if (path.startsWith("/run/")) {
      const key = rest(path, "/run/");
      const run = key === null ? undefined : await index.find(key);
      if (!run) return notFound();
      return html(
        runPage(await readRunDetail(run), roots, links, { lineage: await index.lineage(false) }),
      );
    }
    if (path.startsWith("/file/")) {
      const r = rest(path, "/file/");
      const m = r === null ? null : /^(\d+)\/(.+)$/s.exec(r);
      if (!m) return notFound();
      const real = confinePath(roots, Number(m[1]), m[2]);
      if (!real) return notFound();
      try {
        if (!(await Deno.stat(real)).isFile) return notFound();
        const f = await Deno.open(real, { read: true });
        return new Response(f.readable, {
          headers: { "content-type": contentType(real), "cache-control": "no-store" },
        });
      } catch {
        return notFound();
      }
    }
    return notFound();
  };
}

/**
 * Serves the dashboard of `roots` until `signal` aborts.
 * @example `serveDashboard({ roots: ["runs"], signal })`
 */
export function serveDashboard(o: DashboardOptions): Dashboard {
  const index = new RunIndex(o.roots, o.rescanMs ?? 2000);
  // scan while the browser is still being opened (on the next turn: return at once)
  const prefetch = new Promise<void>((done) =>
    setTimeout(() => index.get().catch(() => {}).finally(done), 0)
  );
  const host = o.host ?? "127.0.0.1";
  const server = Deno.serve({
    hostname: host,
    port: o.port ?? 8470,
    signal: o.signal,
    onListen: (addr) => o.onListen?.(addr),
  }, dashboardHandler(index));
  const port = (server.addr as Deno.NetAddr).port;
  const shown = host.includes(":") ? `[${host}]` : host;
  const finished = Promise.all([server.finished, prefetch]).then(() => {});
  return { url: `http://${shown}:${port}/`, port, finished };
}

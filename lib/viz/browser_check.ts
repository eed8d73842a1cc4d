/**
 * Checks that an HTML file renders in headless Chromium: every `<img>` loads (complete, natural
 * width > 0), no console errors, no uncaught exceptions, no failed resource loads; reports the
 * page title, element counts and optionally a screenshot.
 *
 * Chromium is started with a fresh temporary profile and the DevTools protocol on a loopback
 * port chosen by Chromium itself (`--remote-debugging-port=0`, read back from the profile's
 * `DevToolsActivePort`), and driven over a WebSocket on 127.0.0.1. Needs `--allow-run` for the
 * browser, `--allow-net=127.0.0.1`, `--allow-read` and `--allow-write` for the temporary profile.
 *
 * @example
 * ```ts
 * import { checkHtmlInChromium, findChromium } from "./browser_check.ts";
 * if (findChromium()) {
 *   const r = await checkHtmlInChromium("out/report.html");
 *   if (!r.ok) console.error(r.problems.join("\n"));
 * }
 * ```
 * @module
 */
import { LumenError } from "../run/errors.ts";

/** Where Chromium is looked for, in order. */
export const CHROMIUM_PATHS: readonly string[] = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
];

/**
 * The first Chromium found (CHROMIUM_PATHS), or null.
 * @example `findChromium()` // "/usr/bin/chromium"
 */
export function findChromium(): string | null {
  for (const p of CHROMIUM_PATHS) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* absent, or not readable */ }
  }
  return null;
}

/** The flags Chromium runs with (plus the profile folder and the debugging port). */
export const CHROMIUM_FLAGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-extensions",
  "--mute-audio",
];

/** One image of the page as the browser loaded it. */
export interface ImageState {
  /** Its URL (data: URIs shortened). */
  src: string;
  complete: boolean;
  naturalWidth: number;
  naturalHeight: number;
}

/** What {@link checkHtmlInChromium} found. */
export interface BrowserCheckResult {
  /** No problems. */
  ok: boolean;
  /** Each problem on one line (broken images, console errors, exceptions, failed loads). */
  problems: string[];
  title: string;
  images: ImageState[];
  /** Console errors, uncaught exceptions and error log entries, as text. */
  consoleErrors: string[];
  svgCount: number;
  tableCount: number;
  /** Characters of visible text. */
  textLength: number;
  /** Layout size of the document in CSS pixels. */
  scrollWidth: number;
  scrollHeight: number;
  /** PNG of the viewport, when asked for. */
  screenshot?: Uint8Array;
  /** The browser's version string. */
  browser: string;
  /** The value of `evaluate`, when given. */
  evaluated?: unknown;
}

/** Options of {@link checkHtmlInChromium}. */
export interface BrowserCheckOptions {
  /** Browser binary (default: {@link findChromium}). */
  chromium?: string;
  /** Give up after this long (default 45 s). */
  timeoutMs?: number;
  /** Also capture a screenshot of the first screen. */
  screenshot?: boolean;
  /** Viewport width × height (default 1280 × 900). */
  viewport?: readonly [number, number];
  /**
   * Runs once the page has loaded, before the check (e.g. to change what a live page shows).
   */
  afterLoad?: () => void | Promise<void>;
  /** A page expression polled every 100 ms after `afterLoad` until it is truthy (or timeout). */
  waitFor?: string;
  /** A page expression evaluated last; its JSON-serialisable value is returned as `evaluated`. */
  evaluate?: string;
}

interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  sessionId?: string;
  result?: Record<string, unknown>;
  error?: { message: string };
}

/** A minimal DevTools-protocol client over one WebSocket. */
class Cdp {
  private next = 1;
  private pending = new Map<
    number,
    { ok: (r: Record<string, unknown>) => void; fail: (e: Error) => void }
  >();
  private listeners: ((m: CdpMessage) => void)[] = [];
  private closed: Promise<void>;

  constructor(private ws: WebSocket) {
    ws.onmessage = (e) => {
      const m = JSON.parse(String(e.data)) as CdpMessage;
      if (m.id !== undefined) {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.error) p?.fail(new Error(m.error.message));
        else p?.ok(m.result ?? {});
      } else {
        for (const l of this.listeners) l(m);
      }
    };
    this.closed = new Promise((r) => {
      ws.onclose = () => {
        for (const p of this.pending.values()) p.fail(new Error("DevTools connection closed"));
        this.pending.clear();
        r();
      };
    });
  }

  static open(url: string, timeoutMs: number): Promise<Cdp> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const t = setTimeout(() => {
        ws.close();
        reject(new Error("DevTools WebSocket did not open"));
      }, timeoutMs);
      ws.onopen = () => (clearTimeout(t), resolve(new Cdp(ws)));
      ws.onerror = () => (clearTimeout(t), reject(new Error("DevTools WebSocket failed")));
    });
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string) {
    const id = this.next++;
    return new Promise<Record<string, unknown>>((ok, fail) => {
      this.pending.set(id, { ok, fail });
      this.ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  on(fn: (m: CdpMessage) => void): void {
    this.listeners.push(fn);
  }

  waitFor(pred: (m: CdpMessage) => boolean): Promise<CdpMessage> {
    return new Promise((r) => {
      const fn = (m: CdpMessage) => {
        if (pred(m)) {
          this.listeners = this.listeners.filter((l) => l !== fn);
          r(m);
        }
      };
      this.listeners.push(fn);
    });
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.close();
    }
    await this.closed;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The page-side check: waits for every image, then reports what it sees. */
const PAGE_CHECK = `(async () => {
  const imgs = [...document.images];
  await Promise.all(imgs.map((i) => i.complete ? 0 : new Promise((r) => { i.addEventListener("load", r); i.addEventListener("error", r); })));
  await Promise.all(imgs.map((i) => i.decode ? i.decode().catch(() => 0) : 0));
  const short = (s) => s.startsWith("data:") ? s.slice(0, 32) + "…(" + s.length + " chars)" : s;
  return JSON.stringify({
    title: document.title,
    images: imgs.map((i) => ({ src: short(i.currentSrc || i.src), complete: i.complete, naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight })),
    svgCount: document.querySelectorAll("svg").length,
    tableCount: document.querySelectorAll("table").length,
    textLength: document.body ? document.body.innerText.length : 0,
    scrollWidth: document.documentElement.scrollWidth,
    scrollHeight: document.documentElement.scrollHeight,
  });
})()`;

function consoleText(p: Record<string, unknown>): string {
  const args = (p.args as { value?: unknown; description?: string }[] | undefined) ?? [];
  return args.map((a) => a.value !== undefined ? String(a.value) : a.description ?? "").join(" ");
}

/**
 * Opens an HTML file in headless Chromium and checks it (see the module doc). Throws a
 * LumenError when the browser cannot be started or the file does not exist.
 * @example `const r = await checkHtmlInChromium("report.html"); r.ok`
 */
export async function checkHtmlInChromium(
  path: string,
  o: BrowserCheckOptions = {},
): Promise<BrowserCheckResult> {
  if (!(o.chromium ?? findChromium())) {
    throw new LumenError("chromium", "", `not found (looked in ${CHROMIUM_PATHS.join(", ")})`);
  }
  let abs: string;
  try {
    abs = Deno.realPathSync(path);
  } catch {
    throw new LumenError(path, "", "no such file");
  }
  return await checkUrlInChromium(new URL(`file://${abs}`).href, o, path);
}

/**
 * Opens a URL (`http://127.0.0.1:…/`, `file:///…`) in headless Chromium and checks it like
 * {@link checkHtmlInChromium}; `label` names the page in errors (default: the URL).
 * @example `const r = await checkUrlInChromium("http://127.0.0.1:8470/", { evaluate: "document.title" })`
 */
export async function checkUrlInChromium(
  url: string,
  o: BrowserCheckOptions = {},
  label: string = url,
): Promise<BrowserCheckResult> {
  const bin = o.chromium ?? findChromium();
  if (!bin) {
    throw new LumenError("chromium", "", `not found (looked in ${CHROMIUM_PATHS.join(", ")})`);
  }
  const path = label;
  const timeout = o.timeoutMs ?? 45_000;
  const deadline = Date.now() + timeout;
  const left = () => Math.max(1, deadline - Date.now());
  const profile = await Deno.makeTempDir({ prefix: "lumen-chromium-" });
  const [vw, vh] = o.viewport ?? [1280, 900];
  const child = new Deno.Command(bin, {
    args: [
      ...CHROMIUM_FLAGS,
      `--user-data-dir=${profile}`,
      "--remote-debugging-port=0",
      `--window-size=${vw},${vh}`,
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // drain stderr (keeping its tail for error messages) so the browser never blocks on it
  let stderrTail = "";
  const drain = (async () => {
    const dec = new TextDecoder();
    for await (const chunk of child.stderr) {
      stderrTail = (stderrTail + dec.decode(chunk, { stream: true })).slice(-4000);
    }
  })();
  let cdp: Cdp | null = null;
  let exited = false;
  const status = child.status.then((s) => (exited = true, s));
  try {
    // the port Chromium chose
    let port = "", wsPath = "";
    while (!port) {
      try {
        const [p, w] = (await Deno.readTextFile(`${profile}/DevToolsActivePort`)).split("\n");
        if (p && w) (port = p.trim(), wsPath = w.trim());
      } catch { /* not yet */ }
      if (!port) {
        if (exited) throw new Error(`chromium exited early: ${stderrTail.trim().slice(-500)}`);
        if (Date.now() > deadline) throw new Error("chromium did not open its DevTools port");
        await sleep(50);
      }
    }
    cdp = await Cdp.open(`ws://127.0.0.1:${port}${wsPath}`, left());
    const version = await withTimeout(cdp.send("Browser.getVersion"), left(), "Browser.getVersion");
    const { targetId } = await withTimeout(
      cdp.send("Target.createTarget", { url: "about:blank" }),
      left(),
      "Target.createTarget",
    ) as { targetId: string };
    const { sessionId } = await withTimeout(
      cdp.send("Target.attachToTarget", { targetId, flatten: true }),
      left(),
      "Target.attachToTarget",
    ) as { sessionId: string };
    const errors: string[] = [];
    cdp.on((m) => {
      if (m.sessionId !== sessionId || !m.params) return;
      const p = m.params;
      if (m.method === "Runtime.consoleAPICalled" && (p.type === "error" || p.type === "assert")) {
        errors.push(`console.${p.type}: ${consoleText(p)}`);
      } else if (m.method === "Runtime.exceptionThrown") {
        const d = p.exceptionDetails as {
          text?: string;
          exception?: { description?: string };
        };
        errors.push(`exception: ${d.exception?.description ?? d.text ?? "?"}`);
      } else if (m.method === "Log.entryAdded") {
        const e = p.entry as { level?: string; text?: string; url?: string };
        if (e.level === "error") {
          errors.push(`log: ${e.text}${e.url ? ` (${e.url.slice(0, 120)})` : ""}`);
        }
      }
    });
    const s = (method: string, params: Record<string, unknown> = {}) =>
      withTimeout(cdp!.send(method, params, sessionId), left(), method);
    await s("Runtime.enable");
    await s("Log.enable");
    await s("Page.enable");
    await s("Emulation.setDeviceMetricsOverride", {
      width: vw,
      height: vh,
      deviceScaleFactor: 1,
      mobile: false,
    });
    const loaded = cdp.waitFor((m) =>
      m.sessionId === sessionId && m.method === "Page.loadEventFired"
    );
    const nav = await s("Page.navigate", { url });
    if (nav.errorText) throw new LumenError(path, "", `navigation failed: ${nav.errorText}`);
    await withTimeout(loaded, left(), "page load");
    const evaluate = async (expression: string): Promise<unknown> => {
      const r = await s("Runtime.evaluate", {
        expression,
        awaitPromise: true,
        returnByValue: true,
      }) as { result?: { value?: unknown }; exceptionDetails?: { text?: string } };
      if (r.exceptionDetails) {
        throw new Error(`page expression failed: ${r.exceptionDetails.text ?? "?"}`);
      }
      return r.result?.value;
    };
    await o.afterLoad?.();
    if (o.waitFor) {
      while (!(await evaluate(o.waitFor))) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for: ${o.waitFor}`);
        await sleep(100);
      }
    }
    const ev = await s("Runtime.evaluate", {
      expression: PAGE_CHECK,
      awaitPromise: true,
      returnByValue: true,
    }) as { result?: { value?: string }; exceptionDetails?: { text?: string } };
    if (ev.exceptionDetails || typeof ev.result?.value !== "string") {
      throw new Error(`page check failed: ${ev.exceptionDetails?.text ?? "no result"}`);
    }
    const page = JSON.parse(ev.result.value);
    const evaluated = o.evaluate ? await evaluate(o.evaluate) : undefined;
    let screenshot: Uint8Array | undefined;
    if (o.screenshot) {
      const shot = await s("Page.captureScreenshot", { format: "png" }) as { data: string };
      screenshot = Uint8Array.from(atob(shot.data), (c) => c.charCodeAt(0));
    }
    await sleep(150); // late console messages
    const problems: string[] = [];
    for (const im of page.images as ImageState[]) {
      if (!im.complete || !(im.naturalWidth > 0)) {
        problems.push(`image did not load: ${im.src}`);
      }
    }
    problems.push(...errors);
    await cdp.send("Browser.close").catch(() => {});
    return {
      ok: problems.length === 0,
      problems,
      title: page.title,
      images: page.images,
      consoleErrors: errors,
      svgCount: page.svgCount,
      tableCount: page.tableCount,
      textLength: page.textLength,
      scrollWidth: page.scrollWidth,
      scrollHeight: page.scrollHeight,
      screenshot,
      browser: String(version.product ?? ""),
      ...(o.evaluate ? { evaluated } : {}),
    };
  } catch (e) {
    if (e instanceof LumenError) throw e;
    throw new LumenError("chromium", bin, (e as Error).message);
  } finally {
    await cdp?.close().catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gone = await Promise.race([
      status.then(() => true),
      new Promise<boolean>((r) => timer = setTimeout(() => r(false), 5000)),
    ]);
    clearTimeout(timer);
    if (!gone) {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await status;
    }
    await drain.catch(() => {});
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

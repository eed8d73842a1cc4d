import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { exportDashboard, serveDashboard } from "../../lib/dashboard/mod.ts";
import {
  checkHtmlInChromium,
  checkUrlInChromium,
  findChromium,
} from "../../lib/viz/browser_check.ts";
import { decodePng } from "../../lib/io/png.ts";
import { appendEpoch, type DashFixture, makeFixture } from "./_fixtures.ts";

/** Pixels of a screenshot close to the first chart colour (#0072B2). */
function curvePixels(png: Uint8Array): number {
  const img = decodePng(png);
  const [, , c] = img.shape.length === 3 ? img.shape : [0, 0, 1];
  const d = img.data as Uint8Array;
  let n = 0;
  for (let i = 0; i + 2 < d.length; i += c) {
    if (
      Math.abs(d[i] - 0x00) < 40 && Math.abs(d[i + 1] - 0x72) < 40 && Math.abs(d[i + 2] - 0xb2) < 40
    ) n++;
  }
  return n;
}

async function withServer(
  fn: (url: string, fx: DashFixture) => Promise<void>,
): Promise<void> {
  const fx = await makeFixture();
  const ac = new AbortController();
  const d = serveDashboard({
    roots: [fx.rootA, fx.rootB],
    port: 0,
    signal: ac.signal,
    rescanMs: 0,
  });
  try {
    await fn(d.url, fx);
  } finally {
    ac.abort();
    await d.finished;
    await Deno.remove(fx.dir, { recursive: true });
  }
}

async function get(url: string): Promise<{ status: number; text: string; type: string }> {
  const r = await fetch(url);
  return { status: r.status, text: await r.text(), type: r.headers.get("content-type") ?? "" };
}

/** A request whose path is sent exactly as written (no URL normalisation of `..`). */
async function rawStatus(url: string, path: string): Promise<number> {
  const u = new URL(url);
  const c = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  try {
    await c.write(
      new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
    );
    const buf = new Uint8Array(256);
    const n = await c.read(buf);
    return Number(/^HTTP\/1\.1 (\d+)/.exec(new TextDecoder().decode(buf.subarray(0, n ?? 0)))?.[1]);
  } finally {
    c.close();
  }
}

Deno.test("dashboard server: runs table, run page, log API, lineage, runs API", async () => {
  await withServer(async (url) => {
    const table = await get(url);
    assertEquals(table.status, 200);
    assert(table.type.startsWith("text/html"));
    for (const name of ["a", "live", "bad", "set.h5", "out.h5", "big.h5", "other"]) {
      assert(table.text.includes(`>${name}</a>`), `table lists ${name}`);
    }
    assert(
      !/<script[^>]+src=|<link[^>]+stylesheet/i.test(table.text),
      "no external scripts/styles",
    );
    const runs = JSON.parse((await get(`${url}api/runs`)).text) as Record<string, unknown>[];
    const byName = Object.fromEntries(runs.map((r) => [r.name, r]));
    assertEquals(byName.a.status, "finished");
    assertEquals(byName.a.artifacts, ["runs/a_3"]); // the checkpoint's sidecar merged by uuid
    const metric = byName.a.metric as { name: string; value: number };
    assertEquals(metric.name, "val_loss_g");
    assert(Math.abs(metric.value - 0.4) < 1e-12);
    assertEquals(byName.live.status, "running");
    assertEquals(byName.bad.status, "failed");
    assertEquals(byName["big.h5"].status, "failed");
    assert(String(byName["big.h5"].failure).includes("shard 2/3"));
    const page = await get(`${url}run/0/runs/a.log.jsonl`);
    assertEquals(page.status, 200);
    assert(page.text.includes("<svg"), "a metric curve");
    assert(page.text.includes("figures/a_loss.png") && page.text.includes("a.report.html"));
    assert(page.text.includes("runs/a_3.json"), "checkpoint listed");
    assert(/made from:.*dataset: set\.h5/.test(page.text), "lineage: the dataset it trained on");
    const shards = await get(`${url}run/0/data/big.h5.shards`);
    assert(
      shards.text.includes('class="cell complete"') && shards.text.includes('class="cell failed"'),
    );
    assert(shards.text.includes("rows 4-5: cannot read"), "the failed shard's line");
    const api = JSON.parse((await get(`${url}api/run/0/runs/a.log.jsonl/log`)).text);
    assertEquals(api.epochs, 3);
    assert(api.charts.length >= 1 && api.charts[0].startsWith("<svg"));
    const lineage = await get(`${url}lineage`);
    assert(lineage.text.includes('data-from="dataset" data-to="run"'));
    assert(lineage.text.includes('data-from="model" data-to="run"'), "model → prediction run");
    const png = await get(`${url}file/0/figures/a_loss.png`);
    assertEquals([png.status, png.type], [200, "image/png"]);
    assertEquals((await get(`${url}file/1/other.log.jsonl`)).status, 200);
    assertEquals((await get(`${url}run/0/no/such`)).status, 404);
    assertEquals((await get(`${url}api/run/0/runs/none.log.jsonl/log`)).status, 404);
  });
});

Deno.test("dashboard server: `..`, absolute paths, symlinks out, other roots get 404", async () => {
  await withServer(async (url, fx) => {
    assertEquals((await get(`${url}file/0/runs/a.log.jsonl`)).status, 200);
    const bad = [
      "file/0/..%2Fsecret.txt",
      "file/0/runs%2F..%2F..%2Fsecret.txt",
      "file/0/%2E%2E/secret.txt",
      `file/0/${encodeURIComponent(fx.secret)}`,
      `file/0//${fx.secret.slice(1)}`,
      "file/0/escape/secret.txt",
      "file/1/runs/a.log.jsonl", // root A's file through root B
      "file/2/x",
      "file/-1/x",
      "file/0/runs",
      "file/0/",
      "file/0/%ZZ",
    ];
    for (const p of bad) {
      const r = await get(url + p);
      assertEquals(r.status, 404, p);
      assert(!r.text.includes("not for the dashboard") && !r.text.includes("outside"), p);
    }
    for (
      const p of [
        "/file/0/../secret.txt",
        "/file/0/runs/../../secret.txt",
        "/file/1/../a/runs/a.log.jsonl",
      ]
    ) {
      assertEquals(await rawStatus(url, p), 404, p);
    }
    const post = await fetch(`${url}file/0/runs/a.log.jsonl`, { method: "POST", body: "x" });
    await post.body?.cancel();
    assertEquals(post.status, 405);
  });
});

Deno.test("dashboard server: a new epoch in the log shows without a restart", async () => {
  await withServer(async (url, fx) => {
    const api = `${url}api/run/0/${fx.liveLog}/log`;
    assertEquals(JSON.parse((await get(api)).text).epochs, 1);
    const page = await get(`${url}run/0/${fx.liveLog}`);
    assert(page.text.includes("setInterval(poll"), "a running run's page polls");
    await appendEpoch(`${fx.rootA}/${fx.liveLog}`, 2);
    const after = JSON.parse((await get(api)).text);
    assertEquals(after.epochs, 2);
    assertEquals(after.last.epoch, 2);
    await Deno.writeTextFile(`${fx.rootA}/${fx.liveLog}`, '{"event":"end","t":3}\n', {
      append: true,
    });
    const runs = JSON.parse((await get(`${url}api/runs`)).text) as {
      name: string;
      status: string;
    }[];
    assertEquals(runs.find((r) => r.name === "live")!.status, "finished");
  });
});

Deno.test("dashboard export: static pages with relative links", async () => {
  const fx = await makeFixture();
  try {
    const out = `${fx.rootA}/dashboard`;
    const r = await exportDashboard([fx.rootA, fx.rootB], out);
    assertEquals(r.runs, 7);
    const index = await Deno.readTextFile(`${out}/index.html`);
    assert(index.includes(">a</a>") && index.includes(">other</a>"));
    const page = [...Deno.readDirSync(out)].find((e) => /^run-a\.log\.jsonl-/.test(e.name))!;
    const html = await Deno.readTextFile(`${out}/${page.name}`);
    assert(!html.includes("setInterval(poll"), "no polling in a static page");
    const src = /<img src="([^"]+)"/.exec(html)![1];
    assert(!src.startsWith("/"), "relative link");
    assert(existsSync(resolve(out, decodeURIComponent(src))), `${src} resolves`);
    for (const m of html.matchAll(/href="(run-[^"]+)"/g)) {
      assert(existsSync(`${out}/${m[1]}`), m[1]);
    }
    await rejects(() => exportDashboard([fx.rootA], out), /exists/);
    await exportDashboard([fx.rootA], out, { overwrite: true });
  } finally {
    await Deno.remove(fx.dir, { recursive: true });
  }
});

Deno.test("dashboard in headless Chromium: table, curve, lineage, live epoch, file:// export", async () => {
  if (!findChromium()) {
    console.warn("skip: no Chromium (/usr/bin/chromium): apt-get install chromium");
    return;
  }
  await withServer(async (url, fx) => {
    const table = await checkUrlInChromium(url, {
      screenshot: true,
      evaluate:
        `[...document.querySelectorAll("#runs tbody tr")].map((r) => r.cells[2].querySelector("a").textContent)`,
    });
    assert(table.ok, table.problems.join("\n"));
    const names = table.evaluated as string[];
    assertEquals(names.length, 7);
    for (const n of ["a", "live", "other", "big.h5"]) assert(names.includes(n), n);
    assert(table.screenshot!.length > 1000);
    // selecting two runs shows their differing arguments
    const diff = await checkUrlInChromium(url, {
      afterLoad: () => {},
      evaluate: `(() => {
        for (const c of document.querySelectorAll("#runs tbody input.sel")) {
          const n = c.closest("tr").cells[2].querySelector("a").textContent;
          if (n === "a" || n === "live") { c.checked = true; c.dispatchEvent(new Event("change", { bubbles: true })); }
        }
        document.getElementById("compare").click();
        return [...document.querySelectorAll("#diff tbody tr td:first-child")].map((t) => t.textContent);
      })()`,
    });
    assertEquals(diff.evaluated, ["batch", "lr"]);
    const run = await checkUrlInChromium(`${url}run/0/runs/a.log.jsonl`, {
      screenshot: true,
      evaluate: `({ paths: document.querySelectorAll("#charts svg path").length,
        imgs: document.querySelectorAll("figure img").length })`,
    });
    assert(run.ok, run.problems.join("\n"));
    const ev = run.evaluated as { paths: number; imgs: number };
    assert(ev.paths > 0, "an SVG curve");
    assertEquals(ev.imgs, 1);
    assert(run.images.every((i) => i.naturalWidth > 0));
    assert(curvePixels(run.screenshot!) > 200, "the curve is drawn on screen");
    const lineage = await checkUrlInChromium(`${url}lineage`, {
      evaluate:
        `[...document.querySelectorAll("#edges tr")].map((r) => r.dataset.from + ">" + r.dataset.to)`,
    });
    assert(lineage.ok, lineage.problems.join("\n"));
    const edges = lineage.evaluated as string[];
    assert(edges.includes("dataset>run") && edges.includes("run>model"), edges.join(" "));
    const live = await checkUrlInChromium(`${url}run/0/${fx.liveLog}`, {
      afterLoad: () => appendEpoch(`${fx.rootA}/${fx.liveLog}`, 2),
      waitFor: `document.getElementById("epochs").textContent === "2"`,
      evaluate: `document.getElementById("live").textContent`,
      timeoutMs: 30_000,
    });
    assert(live.ok, live.problems.join("\n"));
    assert(String(live.evaluated).startsWith("live: "), String(live.evaluated));
    const out = `${fx.dir}/export`;
    await exportDashboard([fx.rootA, fx.rootB], out);
    const stat = await checkHtmlInChromium(`${out}/index.html`, {
      evaluate: `document.querySelectorAll("#runs tbody tr").length`,
    });
    assert(stat.ok, stat.problems.join("\n"));
    assertEquals(stat.evaluated, 7);
    const page = [...Deno.readDirSync(out)].find((e) => /^run-a\.log\.jsonl-/.test(e.name))!;
    const sp = await checkHtmlInChromium(`${out}/${page.name}`, {
      evaluate: `document.querySelectorAll("#charts svg path").length`,
    });
    assert(sp.ok, sp.problems.join("\n"));
    assert((sp.evaluated as number) > 0);
    assertEquals(sp.images.length, 1);
  });
});

/**
 * Tools by URL: the repository served over HTTP on 127.0.0.1 (a small Deno.serve here), and
 * `inspect` and `data_generator` (WebAssembly through import.meta.url, h5wasm from npm) run as
 * `deno run <scoped permissions> http://127.0.0.1:PORT/tools/X.ts` from an empty working
 * directory with an empty DENO_DIR: Deno downloads the modules and the npm packages itself
 * (no permission needed for that); the tools get only what their `--help` lists.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { extname, normalize } from "node:path";
import { hasPython, pyFixture, ROOT, runTool } from "../_helpers.ts";
import { provenanceCore, treeHashes } from "./_run_anywhere.ts";
import { generatorArgs } from "../_helpers.ts";

const TYPES: Record<string, string> = {
  ".ts": "application/typescript; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".wgsl": "text/plain; charset=utf-8",
};

/** Serves the repository's files (GET only, nothing outside it) on 127.0.0.1, a free port. */
function serveRepo(): { server: Deno.HttpServer<Deno.NetAddr>; base: string; hits: string[] } {
  const hits: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = normalize(decodeURIComponent(new URL(req.url).pathname));
    if (req.method !== "GET" || path.includes("..") || path.startsWith("/.git")) {
      return new Response("forbidden", { status: 403 });
    }
    try {
      const body = await Deno.readFile(`${ROOT}${path}`);
      hits.push(path);
      return new Response(body, {
        headers: { "content-type": TYPES[extname(path)] ?? "application/octet-stream" },
      });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  return { server, base: `http://127.0.0.1:${server.addr.port}`, hits };
}

/** `deno run` of a URL from `cwd` with the given DENO_DIR. */
async function runUrl(
  url: string,
  perms: string[],
  args: string[],
  cwd: string,
  denoDir: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await new Deno.Command("deno", {
    args: ["run", "--quiet", "--no-prompt", ...perms, url, ...args],
    cwd,
    env: { DENO_DIR: denoDir, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const d = new TextDecoder();
  return { code: r.code, stdout: d.decode(r.stdout), stderr: d.decode(r.stderr) };
}

Deno.test({
  name: "by URL: inspect and data_generator from 127.0.0.1, empty cwd and DENO_DIR, scoped perms",
  ignore: !hasPython("numpy", "h5py"),
  sanitizeResources: false,
  fn: async () => {
    const fx = await pyFixture("nsn_scan");
    const tmp = await Deno.makeTempDir({ prefix: "lumen_url_" });
    const { server, base, hits } = serveRepo();
    const host = new URL(base).host;
    try {
      const work = `${tmp}/work`, denoDir = `${tmp}/deno_dir`;
      await Deno.mkdir(work);
      await Deno.mkdir(denoDir);

      // --help by URL names the exact permissions; data_generator's include the server, for
      // its .wasm (loaded through import.meta.url)
      const ih = await runUrl(`${base}/tools/inspect.ts`, [], ["--help"], work, denoDir);
      assert.equal(ih.code, 0, ih.stderr);
      assert.match(
        ih.stdout,
        new RegExp(
          `^Usage: deno run --allow-read ${base}/tools/inspect.ts FILE`,
          "m",
        ),
      );
      const dh = await runUrl(
        `${base}/tools/nostripesnet/data_generator.ts`,
        [],
        ["--help"],
        work,
        denoDir,
      );
      assert.equal(dh.code, 0, dh.stderr);
      assert.match(
        dh.stdout,
        new RegExp(`^Permissions: --allow-read --allow-write=ROOT --allow-net=${host}$`, "m"),
      );

      // inspect (HDF5 through h5wasm) with read access to the input folder only
      const local = await runTool("inspect", ["--allow-read"], [`${fx}/scan.nxs`]);
      assert.equal(local.code, 0, local.stderr);
      const byUrl = await runUrl(
        `${base}/tools/inspect.ts`,
        [`--allow-read=${fx}`],
        [`${fx}/scan.nxs`],
        work,
        denoDir,
      );
      assert.equal(byUrl.code, 0, byUrl.stderr);
      assert.equal(byUrl.stderr, "");
      assert.equal(byUrl.stdout, local.stdout);
      assert.match(byUrl.stdout, /data {2}uint16 \(50, 6, 70\)/);

      // data_generator: tomo.wasm comes over HTTP (net access to the server, nothing else)
      const args = [...generatorArgs(fx), "--quiet"];
      const perms = [`--allow-read=${fx},${work}`, `--allow-write=${work}/out`];
      const denied = await runUrl(
        `${base}/tools/nostripesnet/data_generator.ts`,
        perms,
        args,
        work,
        denoDir,
      );
      assert.equal(denied.code, 1);
      assert.match(denied.stderr, new RegExp(`^data_generator: error: .*net access to "${host}"`));
      assert.equal(denied.stderr.trim().split("\n").length, 1);
      await Deno.remove(`${work}/out`, { recursive: true }).catch(() => {});
      const gen = await runUrl(
        `${base}/tools/nostripesnet/data_generator.ts`,
        [...perms, `--allow-net=${host}`],
        args,
        work,
        denoDir,
      );
      assert.equal(gen.code, 0, gen.stderr);
      assert.ok(hits.includes("/wasm/tomo.wasm"), "tomo.wasm was fetched from the server");
      assert.ok(
        existsSync(`${denoDir}/npm/registry.npmjs.org/h5wasm`),
        "h5wasm came from npm into DENO_DIR",
      );

      // the same bytes as a run from the checkout
      const ref = `${tmp}/ref`;
      await Deno.mkdir(ref);
      const r = await runTool(
        "nostripesnet/data_generator",
        ["--allow-read", `--allow-write=${ref}`],
        args,
        {
          cwd: ref,
        },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await treeHashes(`${work}/out`), await treeHashes(`${ref}/out`));
      assert.deepEqual(
        await provenanceCore(`${work}/out/0000.prov.json`, true),
        await provenanceCore(`${ref}/out/0000.prov.json`, true),
      );
      assert.deepEqual([...Deno.readDirSync(work)].map((e) => e.name), ["out"]);
    } finally {
      await server.shutdown();
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

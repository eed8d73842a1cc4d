/**
 * Bundles and binaries: `tasks/bundle.ts` writes one self-contained file per tool; a bundled tool
 * runs from a folder that holds only the bundle (inputs given by absolute path), with no network
 * permission, no remote or npm modules allowed and an empty DENO_DIR, and gives the same bytes as
 * the checkout. `tasks/compile.ts` fails with one clear line where the denort runtime is missing.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { hasPython, pyFixture, ROOT, runTool } from "../_helpers.ts";
import { provenanceCore, treeHashes } from "./_run_anywhere.ts";
import { generatorArgs } from "../_helpers.ts";
import { assetKey, assetText, registerAssets } from "../../lib/wasm/load.ts";

const dec = new TextDecoder();

async function deno(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await new Deno.Command("deno", {
    args,
    cwd: opts.cwd,
    env: { NO_COLOR: "1", ...opts.env },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

/** `deno run` of a bundle with nothing else: no remote or npm modules, no config, no prompt. */
function runBundle(file: string, perms: string[], args: string[], cwd: string, denoDir: string) {
  return deno(
    [
      "run",
      "--quiet",
      "--no-remote",
      "--no-npm",
      "--no-config",
      "--no-prompt",
      ...perms,
      file,
      ...args,
    ],
    { cwd, env: { DENO_DIR: denoDir } },
  );
}

Deno.test("load.ts: carried assets answer by folder/name wherever the bundle lies", async () => {
  assert.equal(assetKey("file:///opt/x/wasm/tomo.wasm"), "wasm/tomo.wasm");
  assert.equal(assetKey(new URL("https://h:1/a/b/kernels/conv.wgsl")), "kernels/conv.wgsl");
  registerAssets({ "kernels/_bundle_test.wgsl": btoa("// carried") });
  assert.equal(await assetText("file:///nowhere/kernels/_bundle_test.wgsl"), "// carried");
  await assert.rejects(assetText(new URL("../../kernels/_absent_.wgsl", import.meta.url)));
});

Deno.test({
  name: "bundle: inspect and data_generator run from a folder holding only the bundle, offline",
  ignore: !hasPython("numpy", "h5py"),
  fn: async () => {
    const fx = await pyFixture("nsn_scan");
    const tmp = await Deno.makeTempDir({ prefix: "lumen_bundle_" });
    try {
      const dist = `${tmp}/dist`;
      const b = await deno([
        "run",
        "--quiet",
        "--allow-read",
        `--allow-write=${dist}`,
        "--allow-run=deno",
        `${ROOT}/tasks/bundle.ts`,
        "inspect",
        "data-generator",
        "--out",
        dist,
      ]);
      assert.equal(b.code, 0, b.stderr);
      assert.deepEqual([...Deno.readDirSync(dist)].map((e) => e.name).sort(), [
        "inspect.js",
        "nostripesnet",
      ]);
      const text = await Deno.readTextFile(`${dist}/nostripesnet/data_generator.js`);
      assert.ok(!/from\s+["'](npm:|https?:|\.{1,2}\/)/.test(text), "imports only node: built-ins");
      assert.match(text, /"wasm\/tomo\.wasm": "AGFzbQ/); // carries its WebAssembly

      const bad = await deno(
        [
          "run",
          "--quiet",
          "--allow-read",
          `--allow-write=${dist}`,
          "--allow-run=deno",
          `${ROOT}/tasks/bundle.ts`,
          "nope",
          "--out",
          dist,
        ],
      );
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /^bundle: error: TOOL: nope: no such tool \(tools\/ has: .*inspect/);

      // each bundle alone in its own folder, an empty DENO_DIR, no network permission
      const denoDir = `${tmp}/deno_dir`;
      await Deno.mkdir(denoDir);
      const run = async (tool: string) => {
        const dir = `${tmp}/run_${tool.replaceAll("/", "_")}`;
        await Deno.mkdir(dir);
        await Deno.copyFile(`${dist}/${tool}.js`, `${dir}/${tool.split("/").pop()}.js`);
        return dir;
      };
      const ins = await run("inspect");
      const help = await runBundle(`${ins}/inspect.js`, [], ["--help"], ins, denoDir);
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, /^Permissions: --allow-read$/m);
      const i1 = await runBundle(
        `${ins}/inspect.js`,
        [`--allow-read=${fx}`],
        [
          `${fx}/scan.nxs`,
        ],
        ins,
        denoDir,
      );
      assert.equal(i1.code, 0, i1.stderr);
      const i0 = await runTool("inspect", ["--allow-read"], [`${fx}/scan.nxs`]);
      assert.equal(i1.stdout, i0.stdout);

      const gen = await run("nostripesnet/data_generator");
      const dh = await runBundle(`${gen}/data_generator.js`, [], ["--help"], gen, denoDir);
      assert.match(dh.stdout, /^Permissions: --allow-read --allow-write=ROOT$/m); // no --allow-net
      const args = [...generatorArgs(fx), "--quiet"];
      const g1 = await runBundle(
        `${gen}/data_generator.js`,
        [`--allow-read=${fx},${gen}`, `--allow-write=${gen}/out`],
        args,
        gen,
        denoDir,
      );
      assert.equal(g1.code, 0, g1.stderr);
      assert.deepEqual([...Deno.readDirSync(gen)].map((e) => e.name).sort(), [
        "data_generator.js",
        "out",
      ]);
      const ref = `${tmp}/ref`;
      await Deno.mkdir(ref);
      const g0 = await runTool(
        "nostripesnet/data_generator",
        ["--allow-read", `--allow-write=${ref}`],
        args,
        {
          cwd: ref,
        },
      );
      assert.equal(g0.code, 0, g0.stderr);
      assert.deepEqual(await treeHashes(`${gen}/out`), await treeHashes(`${ref}/out`));
      assert.deepEqual(
        await provenanceCore(`${gen}/out/0000.prov.json`, true),
        await provenanceCore(`${ref}/out/0000.prov.json`, true),
      );
      // nothing was fetched: no npm package, no remote module in DENO_DIR
      assert.ok(!existsSync(`${denoDir}/npm/registry.npmjs.org`), "no npm download");
      assert.ok(!existsSync(`${denoDir}/remote`), "no remote module");
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test("compile: a missing or wrong denort runtime is one clear line, and nothing is built", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "lumen_compile_" });
  try {
    const compile = (env: Record<string, string>) =>
      deno([
        "run",
        "--quiet",
        "--allow-read",
        `--allow-write=${tmp}`,
        "--allow-run=deno",
        "--allow-env=DENORT_BIN",
        `${ROOT}/tasks/compile.ts`,
        "inspect",
        "--out",
        tmp,
      ], { env });
    const missing = await compile({ DENORT_BIN: `${tmp}/nowhere/denort` });
    assert.equal(missing.code, 1);
    assert.equal(
      missing.stderr,
      `compile: error: DENORT_BIN: ${tmp}/nowhere/denort does not exist (it must name the denort of Deno ${Deno.version.deno})\n`,
    );
    const cli = await compile({ DENORT_BIN: Deno.execPath() });
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /^compile: error: DENORT_BIN: .* is the Deno CLI, not denort/);
    assert.equal(cli.stderr.trim().split("\n").length, 1);
    assert.ok(!existsSync(`${tmp}/bin/inspect`));
    // Without DENORT_BIN deno compile downloads denort: where it cannot, one line says so;
    // where it can, the binary answers as the tool.
    const net = await compile({});
    if (net.code === 0) {
      const r = await new Deno.Command("bash", { args: ["-c", `'${tmp}/bin/inspect' --help`] })
        .output();
      assert.match(dec.decode(r.stdout), /^inspect: /);
    } else {
      assert.equal(net.code, 1);
      assert.match(
        net.stderr,
        /^compile: error: tools\/inspect\.ts: the denort runtime of Deno .* is not available: .*set DENORT_BIN/,
      );
      assert.equal(net.stderr.trim().split("\n").length, 1);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

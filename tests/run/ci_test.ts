/**
 * Project checks: pins, permissions, version, every tool's --help, formatting and lint, and the
 * CI script's closing line.
 */
import assert from "node:assert/strict";
import { ROOT } from "../_helpers.ts";
import { VERSION } from "../../lib/version.ts";

const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));

/** Every `npm:name@version` in the project's TypeScript sources (not node_modules). */
function npmSpecifiers(): { file: string; name: string; version: string }[] {
  const out: { file: string; name: string; version: string }[] = [];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(`${ROOT}/${dir}`)) {
      const rel = dir ? `${dir}/${e.name}` : e.name;
      if (e.isDirectory) {
        if (["node_modules", ".git", "target", "out"].includes(e.name) || e.name.startsWith(".")) {
          continue;
        }
        walk(rel);
      } else if (/\.(ts|js|mjs)$/.test(e.name)) {
        const text = Deno.readTextFileSync(`${ROOT}/${rel}`);
        for (const m of text.matchAll(/["'`]npm:((?:@[\w.-]+\/)?[\w.-]+)@(\d[^/"'`\s]*)/g)) {
          out.push({ file: rel, name: m[1], version: m[2] });
        }
      }
    }
  };
  walk("");
  return out;
}

function pins(): Map<string, string> {
  const m = new Map<string, string>();
  for (const spec of Object.values(config.imports ?? {}) as string[]) {
    const x = /^npm:((?:@[\w.-]+\/)?[\w.-]+)@([^/]+)/.exec(spec);
    if (x) m.set(x[1], x[2]);
  }
  return m;
}

Deno.test("ci: npm packages are pinned exactly, the same in deno.json, the sources and deno.lock", async () => {
  const p = pins();
  assert.ok(p.size > 0, "deno.json imports pins no npm package");
  for (const [name, version] of p) {
    assert.match(
      version,
      /^\d+\.\d+\.\d+(-[\w.]+)?$/,
      `deno.json: ${name}@${version} is not an exact version`,
    );
  }
  const used = npmSpecifiers();
  assert.ok(used.some((u) => u.file === "lib/deps.ts"), "lib/deps.ts imports no npm package");
  for (const u of used) {
    assert.equal(
      p.get(u.name),
      u.version,
      `${u.file}: npm:${u.name}@${u.version} differs from deno.json's pin`,
    );
  }
  const lock = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.lock`));
  const locked = Object.keys(lock.specifiers ?? {});
  for (const u of used) {
    assert.ok(
      locked.some((s) => s.startsWith(`npm:${u.name}@${u.version}`)),
      `deno.lock lacks npm:${u.name}@${u.version} (run the tests once and commit deno.lock)`,
    );
  }
});

Deno.test("ci: deno.json tasks use scoped permissions (no -A, no bare --allow-run/--allow-write)", () => {
  for (const [name, cmd] of Object.entries(config.tasks as Record<string, string>)) {
    const words = cmd.split(/\s+/);
    assert.ok(!words.includes("-A") && !words.includes("--allow-all"), `task ${name}: ${cmd}`);
    for (const w of words) {
      if (w === "--allow-run" || w === "--allow-write" || w === "--allow-ffi") {
        assert.fail(`task ${name}: ${w} without a scope`);
      }
    }
  }
  for (const t of ["test", "demo", "bench", "inspect"]) {
    assert.ok(config.tasks[t], `task ${t} is missing`);
  }
});

Deno.test("ci: lib/version.ts equals deno.json's version", () => {
  assert.equal(VERSION, config.version);
});

function toolFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(`${ROOT}/${dir}`)) {
    if (e.name.startsWith("_")) continue;
    if (e.isDirectory) out.push(...toolFiles(`${dir}/${e.name}`));
    else if (e.isFile && e.name.endsWith(".ts")) out.push(`${dir}/${e.name}`);
  }
  return out.sort();
}

Deno.test("ci: every tool answers --help (with no permission at all) and names its permissions", async () => {
  const tools = [...toolFiles("tools"), "bench/main.ts"];
  assert.ok(tools.includes("tools/inspect.ts"));
  for (const t of tools) {
    const r = await new Deno.Command("deno", {
      args: ["run", "--quiet", "--no-prompt", `${ROOT}/${t}`, "--help"],
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).output();
    const out = new TextDecoder().decode(r.stdout);
    const err = new TextDecoder().decode(r.stderr);
    assert.equal(r.code, 0, `${t} --help: exit ${r.code}: ${err}`);
    assert.equal(err, "", `${t} --help wrote to stderr`);
    assert.match(out, /^Usage: deno run /m, `${t} --help has no usage line`);
    assert.match(out, /^Permissions: .+$/m, `${t} --help does not name its permissions`);
    const perms = /^Permissions: (.+)$/m.exec(out)![1];
    assert.ok(!/(^| )(-A|--allow-all)( |$)/.test(perms), `${t} asks for all permissions`);
  }
});

Deno.test("ci: the code is formatted and lint-clean", async () => {
  for (const args of [["fmt", "--check", "--quiet"], ["lint", "--quiet"]]) {
    const r = await new Deno.Command("deno", {
      args,
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const text = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
    assert.equal(r.code, 0, `deno ${args.join(" ")}:\n${text.slice(0, 4000)}`);
  }
});

Deno.test("ci: .ci/run is executable and ends with 'N passed, N failed'", async () => {
  const st = await Deno.stat(`${ROOT}/.ci/run`);
  assert.ok(st.mode !== null && (st.mode & 0o111) !== 0, ".ci/run is not executable");
  const pkgs = (await Deno.readTextFile(`${ROOT}/.ci/apt-packages`)).split("\n")
    .map((l) => l.replace(/#.*/, "").trim()).filter((l) => l);
  for (
    const p of ["python3-h5py", "python3-numpy", "python3-tifffile", "python3-nibabel", "rustc"]
  ) {
    assert.ok(pkgs.includes(p), `.ci/apt-packages lacks ${p}`);
  }
  const dir = await Deno.makeTempDir();
  try {
    const cases: [string, number, string, number][] = [
      [
        "running 3 tests\n\x1b[0m\x1b[32mok\x1b[0m | 12 passed (3 steps) | 0 failed | 1 ignored (4s)\n",
        0,
        "12 passed, 0 failed",
        0,
      ],
      ["FAILED | 10 passed | 2 failed (9s)\n\nerror: Test failed\n", 1, "10 passed, 2 failed", 1],
      ["error: Module not found\n", 1, "0 passed, 1 failed", 1],
      ["ok | 5 passed | 0 failed (1s)\n", 124, "5 passed, 1 failed", 1],
    ];
    for (const [log, rc, line, code] of cases) {
      await Deno.writeTextFile(`${dir}/log`, log);
      const r = await new Deno.Command("bash", {
        args: [`${ROOT}/.ci/run`, "--summarize", `${dir}/log`, String(rc)],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(r.stdout).trimEnd().split("\n");
      assert.equal(out[out.length - 1], line, log);
      assert.equal(r.code, code, log);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ci: README gives the two set-up commands", async () => {
  const readme = await Deno.readTextFile(`${ROOT}/README.md`);
  assert.ok(readme.includes("npx -y deno@2.9.6 task demo"));
  assert.ok(readme.includes("npx -y deno@2.9.6 task test"));
});

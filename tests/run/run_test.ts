/**
 * lib/run: flags, the tool wrapper (error lines, exit codes, signals), progress, provenance, logs.
 */
import assert from "node:assert/strict";
import { ROOT, runPython } from "../_helpers.ts";
import {
  defineTool,
  kebab,
  OVERWRITE,
  parseFlags,
  provenanceArgs,
  SEED,
  usage,
  UsageError,
} from "../../lib/run/flags.ts";
import { errorLine } from "../../lib/run/main.ts";
import { progress } from "../../lib/run/progress.ts";
import {
  canonicalJson,
  embedProvenance,
  gitCommit,
  hashInput,
  makeProvenance,
  parseProvenance,
  readProvenance,
  uuidFrom,
  writeProvenance,
} from "../../lib/run/provenance.ts";
import { jsonLine, openLog, readLog } from "../../lib/run/log.ts";
import { LumenError } from "../../lib/run/errors.ts";
import { VERSION } from "../../lib/version.ts";
import { createHash } from "node:crypto";

const meta = defineTool({
  name: "t",
  summary: "test tool",
  permissions: ["--allow-read"],
  args: [{ name: "IN", help: "input" }, {
    name: "MORE",
    help: "more",
    optional: true,
    variadic: true,
  }],
  flags: {
    out: { type: "string", short: "o", required: true, help: "output" },
    count: { type: "int", default: 2, min: 0, max: 10, help: "count" },
    scale: { type: "number", help: "scale" },
    mode: { type: "choice", choices: ["a", "b"], default: "a", help: "mode" },
    rows: { type: "list", of: "int", help: "rows" },
    names: { type: "list", help: "names" },
    json: { type: "boolean", help: "json" },
    color: { type: "boolean", default: true, help: "colour" },
    outDir: { type: "string", help: "dir", provenance: false },
    seed: SEED,
    overwrite: OVERWRITE,
  },
});

Deno.test("flags: typed values, defaults, aliases, lists, negation", () => {
  const f = parseFlags(meta, [
    "in.h5",
    "x",
    "y",
    "-o",
    "out.h5",
    "--rows",
    "1,2",
    "--rows=3",
    "--names",
    "a,b",
    "--scale",
    "-2.5e-1",
    "--no-color",
    "--json",
    "--mode=b",
    "--out-dir",
    "d",
  ]);
  assertEquals(f._, ["in.h5", "x", "y"]);
  assertEquals(f.out, "out.h5");
  assertEquals(f.count, 2);
  assertEquals(f.scale, -0.25);
  assertEquals(f.mode, "b");
  assertEquals(f.rows, [1, 2, 3]);
  assertEquals(f.names, ["a", "b"]);
  assertEquals(f.json, true);
  assertEquals(f.color, false);
  assertEquals(f.outDir, "d");
  assertEquals(f.seed, 0);
  assertEquals(f.overwrite, false);
  assertEquals(f.quiet, false);
  assertEquals(f.help, false);
  // compile-time types: these assignments must type-check
  const _o: string = f.out;
  const _m: "a" | "b" = f.mode;
  const _r: number[] = f.rows;
  const _s: number | undefined = f.scale;
  assertEquals(kebab("outDir"), "out-dir");
});

Deno.test("flags: --help wins even when required flags are missing", () => {
  assertEquals(parseFlags(meta, ["--help"]).help, true);
  assertEquals(parseFlags(meta, ["-h", "--bogus"]).help, true);
  const text = usage(meta);
  assertMatch(text, /^t: test tool\n/);
  assertMatch(text, /Usage: deno run --allow-read \S+ IN \[MORE\.\.\.\] \[options\]/);
  assertMatch(text, /Permissions: --allow-read\n/);
  for (
    const f of ["--out", "--count N", "--out-dir", "--seed N", "--overwrite", "--quiet", "--help"]
  ) {
    assert(text.includes(f), `help lacks ${f}`);
  }
});

Deno.test("flags: bad input gives a UsageError naming the flag", () => {
  const cases: [string[], RegExp][] = [
    [["in", "--bogus"], /^--bogus: unknown flag; see --help$/],
    [["in", "-o", "x", "--conut", "1"], /^--conut: unknown flag \(did you mean --count\?\)/],
    [["in"], /^--out: is required/],
    [["in", "-o"], /^-o: needs a value/],
    [["in", "-o", "--json"], /^-o: needs a value/],
    [["in", "-o", "x", "--count", "1.5"], /^--count: expected an integer, got "1.5"$/],
    [["in", "-o", "x", "--count", "11"], /^--count: must be at most 10, got 11$/],
    [["in", "-o", "x", "--scale", "abc"], /^--scale: expected a number, got "abc"$/],
    [["in", "-o", "x", "--scale", "0x10"], /^--scale: expected a number/],
    [["in", "-o", "x", "--mode", "c"], /^--mode: expected one of a, b; got "c"$/],
    [["in", "-o", "x", "--rows", "1,z"], /^--rows: expected an integer, got "z"$/],
    [["in", "-o", "x", "--json=yes"], /^--json: takes no value$/],
    [["in", "-o", "x", "--no-out"], /^--no-out: unknown flag/],
    [["-o", "x"], /^IN: missing argument/],
  ];
  for (const [argv, re] of cases) {
    const e = assertThrows(() => parseFlags(meta, argv), UsageError);
    assertMatch(e.message, re, argv.join(" "));
    assert(e instanceof LumenError);
    assertEquals((e as UsageError).exitCode, 2);
  }
  const one = defineTool({
    name: "one",
    summary: "",
    permissions: [],
    args: [{ name: "F", help: "" }],
    flags: {},
  });
  assertMatch(
    assertThrows(() => parseFlags(one, ["a", "b"]), UsageError).message,
    /^b: unexpected argument/,
  );
  // after `--`, flag-like words are positionals
  assertEquals(parseFlags(one, ["--", "--x"])._, ["--x"]);
});

Deno.test("flags: defineTool rejects inconsistent descriptions", () => {
  assertThrows(() =>
    defineTool({
      name: "x",
      summary: "",
      permissions: [],
      flags: { help: { type: "boolean", help: "" } },
    })
  );
  assertThrows(() =>
    defineTool({
      name: "x",
      summary: "",
      permissions: [],
      flags: { a: { type: "boolean", short: "q", help: "" } },
    })
  );
  assertThrows(() =>
    defineTool({
      name: "x",
      summary: "",
      permissions: [],
      flags: { a: { type: "choice", choices: ["u"], default: "v", help: "" } },
    })
  );
});

Deno.test("flags: provenanceArgs is canonical and leaves out non-output flags", () => {
  const a = parseFlags(meta, [
    "in",
    "-o",
    "x",
    "--seed",
    "3",
    "--overwrite",
    "-q",
    "--out-dir",
    "d",
  ]);
  const b = parseFlags(meta, ["--seed=3", "in", "--out=x"]);
  assertEquals(provenanceArgs(meta, a), provenanceArgs(meta, b));
  const p = provenanceArgs(meta, a);
  assertEquals(p.seed, 3);
  assertEquals(p._, ["in"]);
  assert(!("overwrite" in p) && !("quiet" in p) && !("out-dir" in p) && !("help" in p));
});

/** Runs the toy tool of tests/fixtures with `args`. */
async function toy(args: string[], perms: string[] = []) {
  const r = await new Deno.Command("deno", {
    args: ["run", "--quiet", ...perms, `${ROOT}/tests/fixtures/toy_tool.ts`, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

Deno.test("runTool: exit codes and one-line errors", async () => {
  const help = await toy(["--help"]);
  assertEquals(help.code, 0);
  assertMatch(help.stdout, /Permissions: --allow-write=MARKER/);
  assertEquals(help.stderr, "");

  const ok = await toy(["a", "-n", "2"]);
  assertEquals(ok.code, 0, ok.stderr);
  assertEquals(JSON.parse(ok.stdout).count, 2);

  const cases: [string[], number, string][] = [
    [["--bogus"], 2, "toy: error: --bogus: unknown flag; see --help\n"],
    [["-n", "x"], 2, 'toy: error: -n: expected an integer, got "x"\n'],
    [["--fail", "lumen"], 1, "toy: error: scan.nxs: /entry/data: dataset not found\n"],
    [["--fail", "plain"], 1, "toy: error: TypeError: something broke\n"],
    [["--fail", "multiline"], 1, "toy: error: first line second line\n"],
    [["--fail", "usage"], 3, ""],
  ];
  for (const [args, code, stderr] of cases) {
    const r = await toy(args);
    assertEquals(r.code, code, args.join(" "));
    assertEquals(r.stderr, stderr, args.join(" "));
    assertEquals(r.stdout, "");
  }
});

Deno.test("runTool: LUMEN_DEBUG adds the stack", async () => {
  const r = await new Deno.Command("deno", {
    args: [
      "run",
      "--quiet",
      "--allow-env=LUMEN_DEBUG",
      `${ROOT}/tests/fixtures/toy_tool.ts`,
      "--fail",
      "plain",
    ],
    stderr: "piped",
    env: { LUMEN_DEBUG: "1", NO_COLOR: "1" },
  }).output();
  const err = new TextDecoder().decode(r.stderr);
  assertEquals(r.code, 1);
  assertMatch(err, /^toy: error: TypeError: something broke\nTypeError: something broke\n\s+at /);
});

Deno.test("runTool: SIGINT runs clean-ups and exits 130", async () => {
  const dir = await Deno.makeTempDir();
  const marker = `${dir}/partial.txt`;
  const child = new Deno.Command("deno", {
    args: [
      "run",
      "--quiet",
      `--allow-write=${dir}`,
      `${ROOT}/tests/fixtures/toy_tool.ts`,
      "--sleep-ms",
      "20000",
      "--marker",
      marker,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // wait until the tool says it is sleeping (the marker exists then)
  const reader = child.stdout.getReader();
  let seen = "";
  while (!seen.includes("sleeping")) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  assert((await Deno.stat(marker)).isFile);
  child.kill("SIGINT");
  const st = await child.output();
  assertEquals(st.code, 130);
  assertMatch(new TextDecoder().decode(st.stderr), /toy: interrupted\n$/);
  await assertRejects(() => Deno.stat(marker), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("errorLine: one line for any error", () => {
  assertEquals(errorLine(new LumenError("f", "p", "a\n  b")), "f: p: a b");
  assertEquals(errorLine(new RangeError("x")), "RangeError: x");
  assertEquals(errorLine("plain"), "plain");
});

Deno.test("progress: off when stderr is not a terminal or --quiet; draws otherwise", async () => {
  // in-process, forced
  const chunks: string[] = [];
  const stream = {
    writeSync(p: Uint8Array) {
      chunks.push(new TextDecoder().decode(p));
      return p.length;
    },
  };
  const off = progress("x", 10, { isTerminal: false, stream });
  const quiet = progress("x", 10, { isTerminal: true, quiet: true, stream });
  for (let i = 0; i < 10; i++) off.tick(), quiet.tick();
  off.done(), quiet.done();
  assertEquals(chunks, []);
  assertEquals(off.count, 10);
  assertEquals(off.enabled, false);

  const on = progress("rows", 4, { isTerminal: true, stream, intervalMs: 0 });
  on.tick();
  on.tick(3);
  on.done();
  assert(on.enabled);
  const last = chunks[chunks.length - 1];
  assertMatch(last, /^\rrows .*4\/4 +100%.*\n$/);
  assertMatch(chunks[0], /1\/4 +25% .*ETA/);

  // a real process whose stderr is a pipe: nothing is written
  const code = `import { progress } from "${ROOT}/lib/run/progress.ts";
    const p = progress("x", 1000); for (let i = 0; i < 1000; i++) p.tick(); p.done();
    console.log(p.enabled);`;
  const r = await new Deno.Command("deno", {
    args: ["eval", "--quiet", code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(new TextDecoder().decode(r.stdout), "false\n");
  assertEquals(new TextDecoder().decode(r.stderr), "");
});

Deno.test("progress: tick draws the first bar, then only counts until the interval; done draws", () => {
  let writes = 0;
  const stream = { writeSync: (b: Uint8Array) => (writes++, b.length) };
  const p = progress("x", 1e6, { isTerminal: true, stream, intervalMs: 1e12 });
  for (let i = 0; i < 1e6; i++) p.tick();
  assertEquals([p.count, writes], [1e6, 1]);
  p.done();
  assertEquals(writes, 2);
});

Deno.test("provenance: deterministic uuid and embedded bytes; sidecar adds created", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/a.txt`, "hello\n");
    await Deno.mkdir(`${dir}/tree/sub`, { recursive: true });
    await Deno.writeTextFile(`${dir}/tree/x`, "x");
    await Deno.writeTextFile(`${dir}/tree/sub/y`, "y");
    const init = { tool: "t", args: { _: ["a.txt"], seed: 1 }, seed: 1, inputs: [`${dir}/a.txt`] };
    const p1 = await makeProvenance(init);
    const p2 = await makeProvenance(init);
    assertEquals(embedProvenance(p1), embedProvenance(p2));
    assertEquals(p1.uuid, p2.uuid);
    assertMatch(p1.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assertEquals(p1.version, VERSION);
    assertEquals(p1.inputs[0].sha256, createHash("sha256").update("hello\n").digest("hex"));
    assertEquals(p1.inputs[0].bytes, 6);
    assert(!("created" in p1));
    // anything that changes the computation changes the uuid
    for (
      const other of [
        { ...init, seed: 2 },
        { ...init, args: { _: ["a.txt"], seed: 2 } },
        { ...init, tool: "u" },
        { ...init, commit: "0".repeat(40) },
      ]
    ) assertNotEquals((await makeProvenance(other)).uuid, p1.uuid);
    await Deno.writeTextFile(`${dir}/a.txt`, "hello!\n");
    assertNotEquals((await makeProvenance(init)).uuid, p1.uuid);

    // sidecar
    const side = await writeProvenance(`${dir}/art.h5`, p1);
    assertEquals(side, `${dir}/art.h5.prov.json`);
    const back = await readProvenance(`${dir}/art.h5`);
    assertMatch(back.created!, /^\d{4}-\d\d-\d\dT/);
    assertEquals(embedProvenance(back), embedProvenance(p1));
    assertEquals(parseProvenance(embedProvenance(p1)).uuid, p1.uuid);
    const forged = JSON.parse(embedProvenance(p1));
    forged.seed = 99;
    assertThrows(() => parseProvenance(JSON.stringify(forged)), LumenError, "uuid");

    // folders hash as sha256sum lines; sampled mode for big files
    const tree = await hashInput(`${dir}/tree`);
    const h = (s: string) => createHash("sha256").update(s).digest("hex");
    assertEquals(tree.hash, "sha256-tree");
    assertEquals(tree.sha256, h(`${h("y")}  sub/y\n${h("x")}  x\n`));
    const big = new Uint8Array(13 << 20).map((_, i) => i * 7);
    await Deno.writeFile(`${dir}/big.bin`, big);
    const fast = await hashInput(`${dir}/big.bin`, 1 << 20);
    assertEquals(fast.hash, "sha256-sampled");
    assertEquals((await hashInput(`${dir}/big.bin`)).sha256, h2(big));
    await assertRejects(() => hashInput(`${dir}/missing`), LumenError, "cannot read input");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// Small wrappers over node:assert in the shape these tests read best.
function assertEquals(a: unknown, b: unknown, msg?: string) {
  assert.deepStrictEqual(a, b, msg);
}
function assertNotEquals(a: unknown, b: unknown) {
  assert.notDeepStrictEqual(a, b);
}
function assertMatch(s: string, re: RegExp, msg?: string) {
  assert.match(s, re, msg);
}
// deno-lint-ignore no-explicit-any
type Ctor = new (...a: any[]) => Error;
function assertThrows(fn: () => unknown, cls: Ctor = Error, includes?: string): Error {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e}`);
    if (includes) assert.ok((e as Error).message.includes(includes), (e as Error).message);
    return e as Error;
  }
  throw new assert.AssertionError({ message: "expected a throw" });
}
async function assertRejects(fn: () => Promise<unknown>, cls: Ctor = Error, includes?: string) {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e}`);
    if (includes) assert.ok((e as Error).message.includes(includes), (e as Error).message);
    return;
  }
  throw new assert.AssertionError({ message: "expected a rejection" });
}

function h2(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

Deno.test("provenance: canonical JSON and uuid", () => {
  assertEquals(
    canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: 3n } }),
    '{"a":{"c":"3","d":[2,{"y":2,"z":1}]},"b":1}',
  );
  assertEquals(uuidFrom("x"), uuidFrom("x"));
  assertNotEquals(uuidFrom("x"), uuidFrom("y"));
});

Deno.test("provenance: the git commit is read from .git without running git", async () => {
  const c = gitCommit();
  // what git itself says (through the reference Python: tests may run python, not git)
  let fromGit: string | null = null;
  try {
    fromGit = runPython(
      "-c import subprocess,sys; print(subprocess.check_output(['git','-C',sys.argv[1],'rev-parse','HEAD'],text=True).strip())",
      [ROOT],
    ).trim();
  } catch {
    fromGit = null; // no git, or not a checkout
  }
  if (fromGit) assertEquals(c, fromGit);
  else assertMatch(c, /^([0-9a-f]{40}|unknown)$/);
  // a fake checkout with a packed ref and a worktree-style .git file
  const dir = await Deno.makeTempDir();
  try {
    const sha = "ab".repeat(20);
    await Deno.mkdir(`${dir}/repo/.git/refs/heads`, { recursive: true });
    await Deno.writeTextFile(`${dir}/repo/.git/HEAD`, "ref: refs/heads/dev\n");
    await Deno.writeTextFile(
      `${dir}/repo/.git/packed-refs`,
      `# pack-refs\n${sha} refs/heads/dev\n`,
    );
    await Deno.mkdir(`${dir}/repo/a/b`, { recursive: true });
    assertEquals(gitCommit(`${dir}/repo/a/b`), sha);
    await Deno.writeTextFile(`${dir}/repo/.git/refs/heads/dev`, "cd".repeat(20) + "\n");
    assertEquals(gitCommit(`${dir}/repo`), "cd".repeat(20));
    await Deno.mkdir(`${dir}/wt`);
    await Deno.mkdir(`${dir}/repo/.git/worktrees/wt`, { recursive: true });
    await Deno.writeTextFile(`${dir}/wt/.git`, `gitdir: ${dir}/repo/.git/worktrees/wt\n`);
    await Deno.writeTextFile(`${dir}/repo/.git/worktrees/wt/HEAD`, "ref: refs/heads/dev\n");
    await Deno.writeTextFile(`${dir}/repo/.git/worktrees/wt/commondir`, "../..\n");
    assertEquals(gitCommit(`${dir}/wt`), "cd".repeat(20));
    await Deno.mkdir(`${dir}/none`);
    assertEquals(
      gitCommit(`${dir}/none`),
      gitCommit("/") === "unknown" ? "unknown" : gitCommit("/"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("provenance: commit is 'unknown' without read permission (no prompt)", async () => {
  const code =
    `import { gitCommit } from "${ROOT}/lib/run/provenance.ts"; console.log(gitCommit());`;
  // a module run with no permission at all
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/m.ts`, code);
    const r2 = await new Deno.Command("deno", {
      args: ["run", "--quiet", `${dir}/m.ts`],
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).output();
    assertEquals(
      new TextDecoder().decode(r2.stdout),
      "unknown\n",
      new TextDecoder().decode(r2.stderr),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("log: JSON lines, appended, readable after a torn last line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/runs/a/train.jsonl`;
    const log = openLog(path, { elapsed: true });
    log.write({ step: 1, loss: 0.5 });
    // each line is on disk as soon as it is written
    assertEquals((await Deno.readTextFile(path)).split("\n").length, 2);
    log.write({ step: 2, loss: NaN, w: new Float32Array([1, 2]), big: 2n ** 70n });
    log.close();
    assertThrows(() => log.write({}), LumenError);
    const again = openLog(path);
    again.write({ step: 3 });
    again.close();
    await Deno.writeTextFile(path, '{"step": 4, "lo', { append: true });
    const rows = await readLog(path);
    assertEquals(rows.map((r) => r.step), [1, 2, 3]);
    assertEquals(rows[1].loss, "NaN");
    assertEquals(rows[1].w, [1, 2]);
    assertEquals(rows[1].big, (2n ** 70n).toString());
    assertEquals(typeof rows[0].t, "number");
    assertEquals(jsonLine({ a: Infinity }), '{"a":"Infinity"}');
    await Deno.writeTextFile(`${dir}/bad.jsonl`, '{"a":1}\nnot json\n{"a":2}\n');
    await assertRejects(() => readLog(`${dir}/bad.jsonl`), LumenError, "line 2");
    // truncate
    const t = openLog(path, { append: false });
    t.write({ fresh: true });
    t.close();
    assertEquals(await readLog(path), [{ fresh: true }]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Tools under `deno task`: user paths resolve against the caller's folder (INIT_CWD), and a
 * write outside the task's --allow-write scope is one line naming the flag and a `deno run`
 * command that has it (and that command works).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { ROOT } from "../_helpers.ts";
import { writeNpy } from "../../lib/io/npy.ts";
import { ndarray } from "../../lib/io/array.ts";

function withoutInitCwd(): Record<string, string> {
  const env = Deno.env.toObject();
  delete env.INIT_CWD;
  return env;
}

async function denoTask(cwd: string, args: string[]) {
  const r = await new Deno.Command("deno", {
    args: ["task", "--quiet", ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
    // a deno task inside `deno task test` would inherit the outer INIT_CWD: start clean
    clearEnv: true,
    env: { ...withoutInitCwd(), NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

Deno.test("deno task from a subfolder: a relative path is the caller's, not the repository's", async () => {
  const sub = `${ROOT}/tests/fixtures/out/caller_dir`;
  await Deno.mkdir(sub, { recursive: true });
  await writeNpy(`${sub}/here.npy`, ndarray(new Float32Array([1, 2, 3]), [3]), { overwrite: true });
  const r = await denoTask(sub, ["inspect", "here.npy"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /here\.npy/);
  assert.match(r.stdout, /float32/);
  await Deno.remove(sub, { recursive: true });
});

Deno.test("a write outside the task's scope: one line with the flag and a deno run command that works", async () => {
  const out = await Deno.makeTempDir();
  const root = `${out}/data`;
  const args = ["data-generator", "--mode", "synthetic", "--root", root, "--scan-preset", "tiny"];
  const r = await denoTask(ROOT, [...args, "--patch-size", "16,24", "--quiet"]);
  assert.equal(r.code, 1);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  const m = new RegExp(
    `^data_generator: error: write access to "${root}" is not granted; add --allow-write=${out}, e\\.g\\. (deno run .*)$`,
  ).exec(lines[0]);
  assert.ok(m, lines[0]);
  assert.ok(!existsSync(root));
  const again = await new Deno.Command("bash", { args: ["-c", m[1]], cwd: ROOT }).output();
  assert.equal(again.code, 0, new TextDecoder().decode(again.stderr));
  assert.ok(existsSync(`${root}/0000.prov.json`));
  await Deno.remove(out, { recursive: true });
});

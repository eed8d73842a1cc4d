/**
 * SEAMLeSS training: the level schedule, the original's flag spellings, the run layout
 * (args, log, pt with its parent), refusal of a reused name, resume after a kill to identical
 * bytes, and one-line errors for bad input.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { interruptAt, runTool } from "../../_helpers.ts";
import { levelPlan } from "../../../lib/pipelines/seamless/schedule.ts";
import { originalFlags } from "../../../lib/pipelines/seamless/flags.ts";
import { writeSynthStacks } from "../../../lib/pipelines/seamless/synth.ts";
import { readCheckpointRecord } from "../../../lib/nn/checkpoint.ts";

const PERMS = ["--allow-read", "--allow-write=/tmp", "--allow-env=INIT_CWD"];
const SMALL = [
  "--k",
  "3",
  "--trunc",
  "1",
  "--fall_time",
  "1",
  "--epochs",
  "2",
  "--padding",
  "0",
  "--lambda6",
  "1",
  "--mask_smooth_radius",
  "2",
  "--mask_neighborhood_radius",
  "3",
  "--train_size",
  "32",
  "--checkpoint_time",
  "1",
  "--quiet",
];

/** `--size 2` unless the arguments give one. */
const sized = (args: string[]) => args.includes("--size") ? args : ["--size", "2", ...args];

async function stackFile(dir: string): Promise<string> {
  const p = `${dir}/s_train_mip0.h5`;
  await writeSynthStacks(p, 2, { depth: 4, dim: 32, cracks: [2], seed: 3, maxShift: 2 });
  return p;
}

Deno.test("seamless schedule: one finer level every fall_time epochs, last epoch fine-tunes", () => {
  const a = {
    trunc: 2,
    fall_time: 2,
    size: 3,
    fine_tuning: false,
    skip: 0,
    lr: 1e-3,
    fine_tuning_lr_factor: 0.2,
  };
  const plans = Array.from({ length: 7 }, (_, e) => levelPlan(e, a));
  assert.deepEqual(plans.map((p) => p.trunc), [2, 2, 1, 1, 0, 0, 0]);
  assert.deepEqual(plans.map((p) => p.fineTuning), [false, true, false, true, false, true, true]);
  assert.deepEqual(plans.map((p) => p.rebuild), [true, true, true, true, true, true, false]);
  assert.deepEqual(originalFlags(["--state_archive", "pt/a_b", "x_y", "--lr=1"]), [
    "--state-archive",
    "pt/a_b",
    "x_y",
    "--lr=1",
  ]);
});

Deno.test("seamless train tool: layout, refused reuse, child lineage, bad input", async () => {
  const dir = await Deno.makeTempDir();
  const stack = await stackFile(dir);
  const run = (args: string[]) =>
    runTool("seamless/train", PERMS, ["--stack", stack, "--root", dir, ...SMALL, ...sized(args)]);
  const a = await run(["parent_run"]);
  assert.equal(a.code, 0, a.stderr);
  for (const f of ["args.json", "args.txt", "parent_run.log", "report.html"]) {
    assert.ok(existsSync(`${dir}/out/parent_run/${f}`), f);
  }
  const log = (await Deno.readTextFile(`${dir}/out/parent_run/parent_run.log`)).trim().split("\n")
    .map((l) => JSON.parse(l));
  const steps = log.filter((r) => r.event === "step");
  assert.equal(steps.length, 4);
  for (const k of ["total", "error", "penalty", "consensus", "field_norm"]) {
    assert.ok(steps.every((r) => Number.isFinite(r[k])), k);
  }
  const again = await run(["parent_run"]);
  assert.notEqual(again.code, 0);
  assert.match(
    again.stderr,
    /experiment parent_run exists; choose another name or pass --overwrite/,
  );
  assert.equal(again.stderr.trim().split("\n").length, 1);

  const child = await run(["--state_archive", `${dir}/pt/parent_run`, "--fine_tuning", "child"]);
  assert.equal(child.code, 0, child.stderr);
  const p = await readCheckpointRecord(`${dir}/pt/parent_run`);
  const c = await readCheckpointRecord(`${dir}/pt/child`);
  assert.equal(c.extra.parent, `${dir}/pt/parent_run`);
  assert.equal(c.extra.parent_id, p.extra.id);

  const other = await runTool("seamless/train", PERMS, [
    "--stack",
    stack,
    "--root",
    dir,
    ...SMALL,
    "--size",
    "3",
    "--state_archive",
    `${dir}/pt/parent_run`,
    "bad_arch",
  ]);
  assert.notEqual(other.code, 0);
  assert.equal(other.stderr.trim().split("\n").length, 1, other.stderr);
  const pen = await run(["--smoothness_penalty_type", "rig9", "bad_pen"]);
  assert.match(pen.stderr, /unknown penalty rig9/);
  assert.equal(pen.stderr.trim().split("\n").length, 1);
  const big = await run(["--size", "7", "too_deep"]);
  assert.notEqual(big.code, 0);
  assert.equal(big.stderr.trim().split("\n").length, 1, big.stderr);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("seamless train tool: a killed run resumes to identical bytes", async () => {
  const dir = await Deno.makeTempDir();
  const stack = await stackFile(dir);
  const args = (name: string) => ["--stack", stack, "--root", dir, ...SMALL, "--size", "2", name];
  const whole = await runTool("seamless/train", PERMS, args("whole"));
  assert.equal(whole.code, 0, whole.stderr);
  const cut = await interruptAt("seamless/train", PERMS, args("cut"), 3);
  assert.ok(cut.paused, cut.stderr);
  assert.notEqual(cut.code, 0);
  assert.ok(!existsSync(`${dir}/pt/cut.json`));
  const rest = await runTool("seamless/train", PERMS, args("cut"));
  assert.equal(rest.code, 0, rest.stderr);
  const a = await Deno.readFile(`${dir}/pt/whole.safetensors`);
  const b = await Deno.readFile(`${dir}/pt/cut.safetensors`);
  assert.deepEqual(a, b);
  const la = (await Deno.readTextFile(`${dir}/out/whole/whole.log`)).split("\n").length;
  const lb = (await Deno.readTextFile(`${dir}/out/cut/cut.log`)).split("\n").length;
  assert.ok(lb >= la, `log lines ${lb} vs ${la}`);
  await Deno.remove(dir, { recursive: true });
});

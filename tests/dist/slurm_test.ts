/**
 * SLURM: a real one-node cluster on loopback (tasks/slurm_local.sh: Debian's slurmctld, slurmd
 * and munge, started here and stopped at the end, always). A sharded data_generator goes through
 * the recipe (tasks/slurm.ts --wait): its merged result equals the unsharded run byte for byte
 * (the provenance sidecar too, apart from its timestamp). Then one shard is killed with scancel
 * after doing part of its work: the merge does not run and nothing is merged; the rerun of the
 * same command skips the finished shards and completes only what is missing. Bad input (a
 * partition that does not exist, --shard 3/2, a missing or half-written shard at merge) gives one
 * clear line and merges nothing. Skips with a message where SLURM is not installed (CI installs
 * it from .ci/apt-packages) or the tests do not run as root.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { hasPython, pyFixture, ROOT, runTool } from "../_helpers.ts";
import { provenanceCore, treeHashes } from "./_run_anywhere.ts";
import { generatorArgs } from "../_helpers.ts";

const dec = new TextDecoder();
const SLURM_PERMS = ["--allow-read", "--allow-run=sbatch,sinfo,scontrol"];

/** Whether a real cluster can be started here; prints why not. */
function slurmReady(): boolean {
  const have = (b: string) =>
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].some((d) => existsSync(`${d}/${b}`));
  const missing = ["slurmctld", "slurmd", "munged", "sbatch"].filter((b) => !have(b));
  if (missing.length) {
    console.warn(
      `skip: SLURM is not installed (${missing.join(", ")} missing): ` +
        "apt-get install slurmctld slurmd slurm-client munge (CI installs them from .ci/apt-packages)",
    );
    return false;
  }
  if (Deno.uid() !== 0) {
    console.warn("skip: the local SLURM cluster needs root (slurmd runs the jobs)");
    return false;
  }
  return true;
}

async function sh(
  script: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await new Deno.Command("bash", {
    args: ["-c", script],
    env,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

/** Runs the recipe from `cwd`. */
function recipe(
  cwd: string,
  args: string[],
  env: Record<string, string>,
): Deno.ChildProcess {
  return new Deno.Command("deno", {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      ...SLURM_PERMS,
      `--allow-write=${cwd}/slurm_jobs`,
      `${ROOT}/tasks/slurm.ts`,
      ...args,
    ],
    cwd,
    env,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
}

async function done(
  p: Deno.ChildProcess,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await p.output();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

const SHARD_FLAGS = ["data_generator", "--shards", "3", "--cpus", "1", "--mem", "300M"];
const TIME = ["--time", "00:05:00"];

Deno.test({
  name:
    "slurm: sharded data_generator through the recipe = unsharded; a killed shard is redone alone",
  ignore: !hasPython("numpy", "h5py") || !slurmReady(),
  fn: async () => {
    const fx = await pyFixture("nsn_scan");
    const tmp = await Deno.makeTempDir({ prefix: "lumen_slurm_" });
    const cluster = `${tmp}/cluster`;
    const env = { SLURM_CONF: `${cluster}/slurm.conf`, NO_COLOR: "1" };
    try {
      const up = await sh(`bash '${ROOT}/tasks/slurm_local.sh' start '${cluster}'`);
      assert.equal(up.code, 0, `the local SLURM cluster did not start: ${up.stderr}`);
      const gen = [...generatorArgs(fx), "--verbose"];

      // the reference: one unsharded run (same relative --root, so the same provenance record)
      const whole = `${tmp}/whole`;
      await Deno.mkdir(whole);
      const w = await runTool(
        "nostripesnet/data_generator",
        ["--allow-read", `--allow-write=${whole}`],
        gen,
        {
          cwd: whole,
        },
      );
      assert.equal(w.code, 0, w.stderr);

      // 1. three shards and the merge through the recipe
      const a = `${tmp}/a`;
      await Deno.mkdir(a);
      const r1 = await done(recipe(a, [...SHARD_FLAGS, ...TIME, "--wait", "--", ...gen], env));
      assert.equal(r1.code, 0, r1.stderr);
      const ids1 = JSON.parse(r1.stdout);
      assert.equal(ids1.shards, 3);
      const script = await Deno.readTextFile(
        `${a}/slurm_jobs/nostripesnet_data_generator_array.sbatch`,
      );
      assert.match(script, /^#SBATCH --array=0-2$/m);
      assert.ok(script.includes(` --allow-read --allow-write=${a}/out `), "the step's own perms");
      assert.ok(!existsSync(`${a}/out/0000.shards`), "the staging folder is gone");
      assert.deepEqual(await treeHashes(`${a}/out`), await treeHashes(`${whole}/out`));
      assert.deepEqual(
        await provenanceCore(`${a}/out/0000.prov.json`),
        await provenanceCore(`${whole}/out/0000.prov.json`),
      );

      // 2. shard 1 does part of its work (row 3 of its rows 2–3 not written, no manifest), then is
      //    killed by scancel while it runs: the merge must not run
      const k = `${tmp}/k`, mark = `${tmp}/killed`;
      await Deno.mkdir(k);
      const shard1 = `${k}/out/0000.shards/0001-of-0003`;
      const wrapper = `${tmp}/deno_shard1_killed.sh`;
      await Deno.writeTextFile(
        wrapper,
        `#!/bin/bash
if [ "\${SLURM_ARRAY_TASK_ID:-}" = 1 ]; then
  '${Deno.execPath()}' "$@" > /dev/null
  rm -f '${shard1}/MANIFEST.json'
  find '${shard1}' -name '*_0003_*' -delete
  echo "\${SLURM_ARRAY_JOB_ID}_\${SLURM_ARRAY_TASK_ID}" > '${mark}.tmp' && mv '${mark}.tmp' '${mark}'
  exec sleep 120
fi
exec '${Deno.execPath()}' "$@"
`,
        { mode: 0o755 },
      );
      const killed = recipe(
        k,
        [...SHARD_FLAGS, ...TIME, "--wait", "--deno", wrapper, "--", ...gen],
        env,
      );
      const t0 = Date.now();
      while (!existsSync(mark) && Date.now() - t0 < 40_000) {
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(existsSync(mark), "shard 1 did not start within 40 s");
      const task = (await Deno.readTextFile(mark)).trim();
      // scancel right after a task starts can answer "Invalid job id": try again a few times
      const cancel = await sh(
        `for i in 1 2 3 4 5 6 7 8 9 10; do scancel '${task}' && exit 0; sleep 0.5; done; exit 1`,
        env,
      );
      assert.equal(cancel.code, 0, cancel.stderr);
      const r2 = await done(killed);
      assert.equal(r2.code, 1, r2.stdout + r2.stderr);
      assert.match(
        r2.stderr,
        /^slurm: error: .*nostripesnet_data_generator_merge\.sbatch: job \d+: the merge did not run: array job \d+ shard 1 CANCELLED: nothing merged; .*rerun the same command to finish\n$/,
      );
      assert.ok(!existsSync(`${k}/out/0000.prov.json`) && !existsSync(`${k}/out/0000`));
      for (const i of [0, 2]) {
        assert.ok(existsSync(`${k}/out/0000.shards/000${i}-of-0003/MANIFEST.json`), `shard ${i}`);
      }
      assert.ok(!existsSync(`${shard1}/MANIFEST.json`));

      // the merge by hand refuses too (tool level), and leaves everything in place
      const m = await runTool(
        "nostripesnet/data_generator",
        ["--allow-read", `--allow-write=${k}`],
        [
          ...gen,
          "--merge",
          "3",
        ],
        { cwd: k },
      );
      assert.equal(m.code, 1);
      assert.equal(
        m.stderr,
        "data_generator: error: out/0000.shards/0001-of-0003: shard 1/3 is incomplete (no MANIFEST.json): nothing merged\n",
      );
      assert.ok(!existsSync(`${k}/out/0000.prov.json`) && !existsSync(`${k}/out/0000`));

      // 3. the same command again: shards 0 and 2 skip themselves, shard 1 makes only row 3
      const r3 = await done(recipe(k, [...SHARD_FLAGS, ...TIME, "--wait", "--", ...gen], env));
      assert.equal(r3.code, 0, r3.stderr);
      const ids3 = JSON.parse(r3.stdout);
      const log = (name: string) => Deno.readTextFileSync(`${k}/slurm_jobs/logs/${name}.out`);
      assert.match(
        log(`nostripesnet_data_generator_${ids3.array}_0`),
        /^shard 0\/3 already complete$/m,
      );
      assert.match(
        log(`nostripesnet_data_generator_${ids3.array}_2`),
        /^shard 2\/3 already complete$/m,
      );
      assert.match(
        log(`nostripesnet_data_generator_${ids3.array}_1`),
        /^1 sinograms written, 1 already there/m,
      );
      assert.match(
        log(`nostripesnet_data_generator_merge_${ids3.merge}`),
        /^merged 3 shards into out\/0000$/m,
      );
      assert.deepEqual(await treeHashes(`${k}/out`), await treeHashes(`${whole}/out`));
      assert.deepEqual(
        await provenanceCore(`${k}/out/0000.prov.json`),
        await provenanceCore(`${whole}/out/0000.prov.json`),
      );

      // 4. bad input: a partition that does not exist; shards the recipe must set itself
      const b = `${tmp}/b`;
      await Deno.mkdir(b);
      const np = await done(
        recipe(b, [...SHARD_FLAGS, "--partition", "nosuch", "--wait", "--", ...gen], env),
      );
      assert.equal(np.code, 1);
      assert.equal(
        np.stderr,
        "slurm: error: --partition: nosuch: no such partition on this cluster (it has: debug); nothing submitted\n",
      );
      const sh2 = await done(recipe(b, [...SHARD_FLAGS, "--", ...gen, "--shard", "3/2"], env));
      assert.equal(sh2.code, 2);
      assert.match(sh2.stderr, /^slurm: error: ARGS: --shard: the recipe adds --shard and --merge/);
      assert.ok(!existsSync(`${b}/slurm_jobs`) && !existsSync(`${b}/out`), "nothing written");
      const queue = await sh("squeue -h -o %i", env);
      assert.equal(queue.stdout.trim(), "", "nothing left in the queue");
    } finally {
      const down = await sh(`bash '${ROOT}/tasks/slurm_local.sh' stop '${cluster}'`);
      await Deno.remove(tmp, { recursive: true });
      assert.equal(down.code, 0, down.stderr);
    }
  },
});

Deno.test({
  name: "shards at tool level: --shard 3/2; merge refuses a missing or half-written shard",
  ignore: !hasPython("numpy", "h5py"),
  fn: async () => {
    const fx = await pyFixture("nsn_scan");
    const dir = await Deno.makeTempDir({ prefix: "lumen_shards_" });
    try {
      const gen = (extra: string[]) =>
        runTool("nostripesnet/data_generator", ["--allow-read", `--allow-write=${dir}`], [
          ...generatorArgs(fx),
          "--quiet",
          ...extra,
        ], { cwd: dir });
      const bad = await gen(["--shard", "3/2"]);
      assert.equal(bad.code, 2);
      assert.equal(
        bad.stderr,
        "data_generator: error: --shard: 3/2: shard index 3 is out of range 0…1\n",
      );
      for (const i of [0, 2]) assert.equal((await gen(["--shard", `${i}/3`])).code, 0);
      const missing = await gen(["--merge", "3"]);
      assert.equal(missing.code, 1);
      assert.equal(
        missing.stderr,
        "data_generator: error: out/0000.shards/0001-of-0003: shard 1/3 is missing: nothing merged\n",
      );
      assert.equal((await gen(["--shard", "1/3"])).code, 0);
      // a file cut short after its shard finished (a copy that stopped half-way)
      const d2 = `${dir}/out/0000.shards/0002-of-0003`;
      const manifest = JSON.parse(await Deno.readTextFile(`${d2}/MANIFEST.json`));
      const f = manifest.files[0];
      const bytes = await Deno.readFile(`${d2}/${f.path}`);
      await Deno.writeFile(`${d2}/${f.path}`, bytes.subarray(0, bytes.length >> 1));
      const half = await gen(["--merge", "3"]);
      assert.equal(half.code, 1);
      assert.equal(
        half.stderr,
        `data_generator: error: out/0000.shards/0002-of-0003/${f.path}: has ${
          bytes.length >> 1
        } bytes, the manifest says ${f.bytes} (half-written?): nothing merged; delete out/0000.shards/0002-of-0003 and run shard 2/3 again\n`,
      );
      assert.ok(!existsSync(`${dir}/out/0000`) && !existsSync(`${dir}/out/0000.prov.json`));
      for (const i of [0, 1, 2]) {
        assert.ok(existsSync(`${dir}/out/0000.shards/000${i}-of-0003/MANIFEST.json`));
      }
      // a rerun of the damaged shard does not notice (it is marked complete); redoing it means
      // deleting its folder, after which only it is made again and the merge succeeds
      await Deno.remove(d2, { recursive: true });
      assert.equal((await gen(["--shard", "2/3"])).code, 0);
      assert.equal((await gen(["--merge", "3"])).code, 0);
      assert.ok(existsSync(`${dir}/out/0000.prov.json`));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

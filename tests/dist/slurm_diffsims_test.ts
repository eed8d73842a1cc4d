/**
 * SLURM: the sharded diffsims simulation on a real one-node cluster on loopback
 * (tasks/slurm_local.sh starts slurmctld, slurmd and munge here and stops them at the end). The
 * recipe (tasks/slurm.ts diffsims-simulate --shards 2 --wait) runs the two shards as an array
 * job and the merge after them: the merged `sims/` equals the unsharded run file for file, byte
 * for byte (HDF5 and NPZ; provenance sidecars apart from their time). Skips with a message where
 * SLURM is not installed or the tests do not run as root.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { ROOT, runTool } from "../_helpers.ts";
import { provenanceCore, treeHashes } from "./_run_anywhere.ts";
import { DEMO_CIFS } from "../../lib/pipelines/diffsims/demo_cifs.ts";

const dec = new TextDecoder();

function slurmReady(): boolean {
  const have = (b: string) =>
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].some((d) => existsSync(`${d}/${b}`));
  const missing = ["slurmctld", "slurmd", "munged", "sbatch"].filter((b) => !have(b));
  if (missing.length) {
    console.warn(`skip: SLURM is not installed (${missing.join(", ")} missing)`);
    return false;
  }
  if (Deno.uid() !== 0) {
    console.warn("skip: the local SLURM cluster needs root (slurmd runs the jobs)");
    return false;
  }
  return true;
}

async function sh(script: string, env: Record<string, string> = {}) {
  const r = await new Deno.Command("bash", {
    args: ["-c", script],
    env,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

const SPACE = `sim_params: !pspace
  random_seed: !pdim
    default: 0
    values: [1, 2, 3]
  structure_parameters:
    phase_files_location_from_root: '.'
    phase_files: ['pb.cif', 'cspbbr3.cif', 'pbi2.cif']
  orientations_parameters:
    n_points: 4
`;

Deno.test({
  name: "slurm: sharded diffsims-simulate through the recipe = the unsharded run byte for byte",
  ignore: !slurmReady(),
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "lumen_slurm_diffsims_" });
    const cluster = `${tmp}/cluster`;
    const env = { SLURM_CONF: `${cluster}/slurm.conf`, NO_COLOR: "1" };
    try {
      const up = await sh(`bash '${ROOT}/tasks/slurm_local.sh' start '${cluster}'`);
      assert.equal(up.code, 0, `the local SLURM cluster did not start: ${up.stderr}`);
      // one config file for both runs: its mtime is the files' timestamp attribute
      const cfgDir = `${tmp}/space`;
      await Deno.mkdir(cfgDir);
      for (const [k, v] of Object.entries(DEMO_CIFS)) {
        await Deno.writeTextFile(`${cfgDir}/${k}.cif`, v);
      }
      await Deno.writeTextFile(`${cfgDir}/space.yaml`, SPACE);
      const args = ["--config", `${cfgDir}/space.yaml`, "--out", "sims", "--npz"];

      const whole = `${tmp}/whole`;
      await Deno.mkdir(whole);
      const w = await runTool(
        "diffsims/simulate",
        ["--allow-read", `--allow-write=${whole}`],
        [...args, "--quiet"],
        { cwd: whole },
      );
      assert.equal(w.code, 0, w.stderr);

      const a = `${tmp}/a`;
      await Deno.mkdir(a);
      const r = await new Deno.Command("deno", {
        args: [
          "run",
          "--quiet",
          "--no-prompt",
          "--allow-read",
          "--allow-run=sbatch,sinfo,scontrol",
          `--allow-write=${a}/slurm_jobs`,
          `${ROOT}/tasks/slurm.ts`,
          "diffsims-simulate",
          "--shards",
          "2",
          "--cpus",
          "1",
          "--mem",
          "500M",
          "--time",
          "00:05:00",
          "--wait",
          "--",
          ...args,
        ],
        cwd: a,
        env,
        stdout: "piped",
        stderr: "piped",
        stdin: "null",
      }).output();
      assert.equal(r.code, 0, dec.decode(r.stdout) + dec.decode(r.stderr));
      assert.equal(JSON.parse(dec.decode(r.stdout)).shards, 2);
      assert.ok(!existsSync(`${a}/sims/.staging.shards`), "the staging folder is gone");
      const want = await treeHashes(`${whole}/sims`);
      assert.equal(want.filter(([n]) => n.endsWith(".hdf5")).length, 3);
      assert.deepEqual(await treeHashes(`${a}/sims`), want);
      for (const [n] of want.filter(([n]) => n.endsWith(".hdf5"))) {
        assert.deepEqual(
          await provenanceCore(`${a}/sims/${n}.prov.json`),
          await provenanceCore(`${whole}/sims/${n}.prov.json`),
        );
      }
      const queue = await sh("squeue -h -o %i", env);
      assert.equal(queue.stdout.trim(), "", "nothing left in the queue");
    } finally {
      const down = await sh(`bash '${ROOT}/tasks/slurm_local.sh' stop '${cluster}'`);
      await Deno.remove(tmp, { recursive: true });
      assert.equal(down.code, 0, down.stderr);
    }
  },
});

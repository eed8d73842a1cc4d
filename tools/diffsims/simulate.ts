/**
 * `diffsims-simulate`: every point of a parameter-space YAML (the original's `!pspace`/`!pdim`,
 * or `sweep:`) → `sim-<uuid>.hdf5` in the original's layout (and `.npz` with `--npz`), with a
 * provenance sidecar. `--list` prints the points; `--shard i/N` simulates a contiguous share of
 * them in `<out>/.staging.shards/` (a finished shard is skipped on rerun); `--merge N` checks
 * and moves the N shards into `--out`.
 *
 * @module
 */
import { mkdirSync, renameSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { defineTool, OVERWRITE, type Parsed, THREADS } from "../../lib/run/flags.ts";
import { callTool, runTool } from "../../lib/run/main.ts";
import { readInput, refuseExisting } from "../../lib/run/atomic.ts";
import { makeProvenance, writeProvenance } from "../../lib/run/provenance.ts";
import { safePoint } from "../../lib/run/interrupt.ts";
import {
  checkShards,
  finishShard,
  parseShard,
  removeShards,
  type Shard,
  shardComplete,
  shardDir,
  shardRange,
} from "../../lib/run/shard.ts";
import {
  parseParamSpace,
  type SpacePoint,
  spacePoints,
} from "../../lib/pipelines/diffsims/param_space.ts";
import { simulatePointThreads } from "../../lib/pipelines/diffsims/sim_threads.ts";
import { writeSimHdf5, writeSimNpz } from "../../lib/pipelines/diffsims/sim_io.ts";
import { fileStamp, pointInputs } from "../../lib/pipelines/diffsims/sim_point.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "diffsims/simulate",
  task: "diffsims-simulate",
  summary: "kinematical electron-diffraction profiles for every point of a parameter space",
  permissions: ["--allow-read", "--allow-write=DIR"],
  flags: {
    config: { type: "string", arg: "YAML", required: true, help: "parameter-space YAML" },
    out: { type: "string", arg: "DIR", required: true, help: "output folder" },
    list: { type: "boolean", help: "print the points (index uuid seed values) and stop" },
    shard: { type: "string", arg: "i/N", help: "simulate shard i of N of the points" },
    merge: { type: "int", min: 1, arg: "N", help: "merge N finished shards into --out" },
    npz: { type: "boolean", help: "also write sim-<uuid>.npz with the same keys" },
    threads: THREADS,
    overwrite: OVERWRITE,
  },
  examples: ["--config param_space.yaml --out sims/", "--config p.yaml --out sims/ --shard 0/6"],
});

type Flags = Parsed<typeof meta.flags>;

async function writePoint(f: Flags, dir: string, pt: SpacePoint, ts: string): Promise<string[]> {
  const inp = await pointInputs(pt.params, f.config, pt.seed);
  const threads = f.threads ?? navigator.hardwareConcurrency ?? 1;
  const r = await simulatePointThreads(pt.params, inp.phases, pt.seed, inp.eulers, threads);
  const id = `sim-${pt.uuid}`;
  const m = { id, timestamp: ts, params: pt.params };
  const h5 = join(dir, `${id}.hdf5`);
  refuseExisting([h5], f.overwrite);
  await writeSimHdf5(h5, r, m);
  const out = [`${id}.hdf5`];
  if (f.npz) {
    await writeSimNpz(join(dir, `${id}.npz`), r, m);
    out.push(`${id}.npz`);
  }
  const prov = await makeProvenance({
    tool: meta.name,
    args: { config: basename(f.config), point: pt.index, params: pt.params },
    seed: pt.seed,
    inputs: [f.config, ...inp.files],
  });
  const side = await writeProvenance(h5, prov);
  out.push(basename(side));
  return out;
}

/**
 * Runs the tool; returns the written simulation files (relative to `--out`).
 * @example
 * ```ts
 * await simulate(parseFlags(meta, ["--config", "param_space.yaml", "--out", "sims"]));
 * ```
 */
export async function simulate(f: Flags): Promise<string[]> {
  const text = new TextDecoder().decode(await readInput(f.config));
  const points = spacePoints(parseParamSpace(text, f.config));
  if (f.list) {
    for (const p of points) {
      console.log(`${p.index} ${p.uuid} ${p.seed} ${JSON.stringify(p.coords)}`);
    }
    return [];
  }
  const ts = fileStamp(statSync(f.config).mtime ?? new Date(0));
  // shards stage inside --out (<out>/.staging.shards/i-of-N), within the tool's write scope
  const stage = join(f.out, ".staging");
  if (f.merge !== undefined) {
    const manifests = checkShards(stage, f.merge, points.length);
    mkdirSync(f.out, { recursive: true });
    for (const m of manifests) {
      for (const x of m.files) {
        renameSync(join(shardDir(stage, m.shard), x.path), join(f.out, x.path));
      }
    }
    removeShards(stage);
    return manifests.flatMap((m) => m.files.map((x) => x.path));
  }
  let shard: Shard = { index: 0, count: 1 };
  let dir = f.out;
  if (f.shard !== undefined) {
    shard = parseShard(f.shard);
    dir = shardDir(stage, shard);
    if (shardComplete(stage, shard)) return [];
  }
  mkdirSync(dir, { recursive: true });
  const range = shardRange(points.length, shard);
  const written: string[] = [];
  for (let i = range[0]; i < range[1]; i++) {
    await safePoint();
    written.push(...await writePoint(f, dir, points[i], ts));
  }
  if (f.shard !== undefined) finishShard(stage, shard, meta.name, range, written);
  return written;
}

/** Runs the tool in this process (errors are thrown). */
export const main = (argv: readonly string[]): Promise<void> =>
  callTool(meta, async (f) => {
    await simulate(f);
  }, argv);

if (import.meta.main) {
  await runTool(meta, async (f) => {
    const w = await simulate(f);
    if (!f.list && !f.quiet) console.log(w.filter((p) => p.endsWith(".hdf5")).join("\n"));
  });
}

// bench-permissions: --allow-read --allow-write=/tmp --allow-net=127.0.0.1
/**
 * Benchmark `dashboard_index`: seconds from starting the dashboard on 10,000 runs (generated
 * once under /tmp/lumen_bench: 100 folders of 100 trainings, each a JSON-lines log of 20 epochs,
 * a checkpoint and its provenance sidecar) to the runs table fully received over HTTP
 * (scan, grouping by uuid, rendering, transfer), best of 5 starts (`first_s`: the first, with
 * the compiler still warming up; `cpu_s`: the process's CPU seconds of the best start, a check
 * on a busy machine). The target is 1 s: `peer` is that target and `ratio` = peer / ours (above
 * 1: faster than the target).
 *
 *   deno run <permissions above> bench/dashboard_index.ts [NAME-PREFIX]
 *
 * @module
 */
import { existsSync } from "node:fs";
import { cpuUsage } from "node:process";
import { serveDashboard } from "../lib/dashboard/server.ts";

const RUNS = 10_000, PER_DIR = 100, EPOCHS = 20;
const DIR = `/tmp/lumen_bench/dashboard_v2_${RUNS}`;
const prefix = Deno.args[0] ?? "";

async function generate(): Promise<void> {
  const tmp = `${DIR}.part`;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  for (let d = 0; d < RUNS / PER_DIR; d++) {
    const dir = `${tmp}/sweep_${String(d).padStart(3, "0")}`;
    await Deno.mkdir(dir, { recursive: true });
    for (let i = 0; i < PER_DIR; i++) {
      const n = d * PER_DIR + i;
      const uuid = `00000000-0000-8000-8000-${String(n).padStart(12, "0")}`;
      const lines = [JSON.stringify({ event: "start", tool: "train", uuid, seed: n, t: 0 })];
      for (let e = 1; e <= EPOCHS; e++) {
        lines.push(JSON.stringify({
          event: "epoch",
          epoch: e,
          train_lossG: 1 / e + (n % 7) / 100,
          val_lossG: 1.1 / e,
          t: e * 3.2,
        }));
      }
      lines.push(JSON.stringify({ event: "end", t: EPOCHS * 3.2 }));
      await Deno.writeTextFile(`${dir}/run${i}.log.jsonl`, lines.join("\n") + "\n");
      await Deno.writeTextFile(`${dir}/run${i}_${EPOCHS}.json`, "{}");
      await Deno.writeTextFile(
        `${dir}/run${i}_${EPOCHS}.prov.json`,
        JSON.stringify({
          schema: "lumen.provenance/1",
          tool: "train",
          version: "0.1.0",
          commit: "0".repeat(40),
          args: { lr: 10 ** -(1 + (n % 4)), batch: 8 << (n % 3), epochs: EPOCHS, name: `run${i}` },
          seed: n,
          inputs: [{ path: `data/set${n % 10}`, bytes: 1, hash: "sha256", sha256: String(n % 10) }],
          uuid,
          created: new Date(1.7e12 + n * 1000).toISOString(),
        }),
      );
    }
  }
  await Deno.rename(tmp, DIR);
}

if ("dashboard_index".startsWith(prefix) || prefix.startsWith("dashboard_index")) {
  if (!existsSync(DIR)) {
    console.error(`dashboard_index: writing ${RUNS} runs under ${DIR} (once)…`);
    await generate();
  }
  const times: number[] = [], cpu: number[] = [];
  let rows = 0;
  for (let rep = 0; rep < 5; rep++) {
    const ac = new AbortController();
    const c0 = cpuUsage();
    const t0 = performance.now();
    const d = serveDashboard({ roots: [DIR], port: 0, signal: ac.signal });
    const html = await (await fetch(d.url)).text();
    times.push((performance.now() - t0) / 1000);
    const c = cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
    rows = html.match(/<tr data-status=/g)?.length ?? 0;
    ac.abort();
    await d.finished;
  }
  if (rows !== RUNS) throw new Error(`dashboard_index: the table has ${rows} rows, not ${RUNS}`);
  const ours = Math.min(...times);
  console.log(JSON.stringify({
    bench: "dashboard_index",
    unit: "s",
    ours: Number(ours.toFixed(3)),
    peer: 1.0,
    ratio: Number((1.0 / ours).toFixed(3)),
    runs: RUNS,
    runs_listed: rows,
    first_s: Number(times[0].toFixed(3)),
    cpu_s: Number(Math.min(...cpu).toFixed(3)),
  }));
}

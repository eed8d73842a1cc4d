/**
 * A SEAMLeSS training run as the original lays it out, made safe: `out/<name>/args.json` and
 * `args.txt`, the JSON-lines log `out/<name>/<name>.log` (one record per stack with the penalty
 * terms, one per epoch), resumable checkpoints in `out/<name>/ckpt/`, the trained network
 * `pt/<name>.json` + `.safetensors` with its parent's id (`--state_archive`), and an HTML report.
 * A name that was used is refused (the original silently overwrote it) unless `overwrite`; a
 * killed run resumes from its last checkpoint to the same bytes.
 *
 * @module
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import { manualInitSeed } from "../../nn/init.ts";
import { loadCheckpoint, readCheckpointRecord, saveCheckpoint } from "../../nn/checkpoint.ts";
import { trainLoop } from "../../nn/trainer.ts";
import { finishResumableDir, openResumableDir } from "../../run/resume.ts";
import { openLog, readLog } from "../../run/log.ts";
import { writeTextAtomic } from "../../run/atomic.ts";
import { LumenError } from "../../run/errors.ts";
import type { Provenance } from "../../run/provenance.ts";
import { htmlReport } from "../../viz/html_report.ts";
import { figurePng } from "../../viz/figure.ts";
import { seededRandom } from "./gen_stack.ts";
import { Pyramid } from "./pyramid.ts";
import { alignPair, readTrainStacks, SeamlessTrainer, type TrainArgs } from "./trainer.ts";

/** Options of {@link trainRun}. */
export interface TrainRunOptions {
  /** EXPERIMENT_NAME. */
  name: string;
  /** Where `out/` and `pt/` go (default "."). */
  root?: string;
  /** The training stacks (gen_stack output). */
  stack: string;
  args: TrainArgs;
  epochs: number;
  seed: number;
  /** `--k`. */
  k: number;
  /** The residual scale's TRAIN_SIZE (default 1280). */
  trainSize?: number;
  /** `--pe`. */
  pe: boolean;
  /** `--upsample_align_corners` (default false, the original's upsampling). */
  upsampleAlignCorners?: boolean;
  /** A parent network (`pt/NAME` or its .json). */
  stateArchive?: string | null;
  overwrite?: boolean;
  /** Checkpoint every this many stacks (and at each epoch end). */
  checkpointSteps: number;
  /** Provenance record of the run. */
  provenance: Provenance;
  /** The command line, for args.txt and the report. */
  commandLine: string;
  /** Warnings (field collapse); default console.warn. */
  warn?: (line: string) => void;
  /** Per-record hook (progress). */
  onRecord?: (r: Record<string, unknown>) => void;
}

/** What {@link trainRun} wrote. */
export interface TrainRunResult {
  pt: string;
  log: string;
  report: string;
  resumed: boolean;
  last: Record<string, number>;
  net: Pyramid;
}

/**
 * `pt/NAME`, `pt/NAME.json`, `pt/NAME.pt` → the checkpoint base.
 *
 * @example
 * ```ts
 * netBase("pt/child.json"); // "pt/child"
 * ```
 */
export function netBase(p: string): string {
  return p.replace(/\.(json|pt|safetensors)$/, "");
}

function latestCheckpoint(dir: string): { base: string; epoch: number; batch: number } | null {
  if (!existsSync(dir)) return null;
  let best: { base: string; epoch: number; batch: number } | null = null;
  for (const f of readdirSync(dir)) {
    const m = /^ckpt_(\d+)(?:_b(\d+))?\.json$/.exec(f);
    if (!m) continue;
    const c = {
      base: `${dir}/ckpt_${m[1]}${m[2] ? `_b${m[2]}` : ""}`,
      epoch: +m[1],
      batch: +(m[2] ?? 0),
    };
    if (!best || c.epoch > best.epoch || (c.epoch === best.epoch && c.batch > best.batch)) best = c;
  }
  return best;
}

/** Keeps the log's lines up to the record of checkpoint `base` (what a resume repeats goes). */
async function truncateLog(path: string, base: string): Promise<void> {
  if (!existsSync(path)) return;
  const lines = (await Deno.readTextFile(path)).split("\n").filter((l) => l);
  const i = lines.findIndex((l) => {
    const r = JSON.parse(l);
    return r.event === "checkpoint" && r.path === base;
  });
  await Deno.writeTextFile(path, lines.slice(0, i + 1).join("\n") + (i >= 0 ? "\n" : ""));
}

/**
 * Runs (or resumes) a training run; see the module doc.
 *
 * @example
 * ```ts
 * await trainRun({ name: "demo", stack: "d_train_mip0.h5", args, epochs: 2, seed: 0, k: 7,
 *   pe: false, checkpointSteps: 4, provenance, commandLine: "…" });
 * ```
 */
export async function trainRun(o: TrainRunOptions): Promise<TrainRunResult> {
  const root = o.root ?? ".";
  const out = `${root}/out/${o.name}`, pt = `${root}/pt/${o.name}`, ck = `${out}/ckpt`;
  const logPath = `${out}/${o.name}.log`;
  if (existsSync(`${pt}.json`)) {
    if (!o.overwrite) {
      throw new LumenError(
        `${pt}.json`,
        "",
        `experiment ${o.name} exists; choose another name or pass --overwrite`,
      );
    }
    for (const s of [".json", ".safetensors", ".optim.safetensors"]) {
      rmSync(pt + s, { force: true });
    }
  }
  const a = o.args;
  const stacks = await readTrainStacks(o.stack, a.mask_neighborhood_radius);
  const dim = (stacks[0]?.sections[0]?.w ?? 0) + a.padding, side = 2 ** (a.size - 1);
  if (!stacks.length || dim % side) {
    throw new LumenError(
      o.stack,
      "main",
      `stack side ${dim} (with --padding) is not divisible by 2^${a.size - 1} (--size ${a.size})`,
    );
  }
  manualInitSeed(o.seed);
  const net = new Pyramid({
    size: a.size,
    skip: a.skip,
    k: o.k,
    pe: o.pe,
    trainSize: o.trainSize,
    upsampleAlignCorners: o.upsampleAlignCorners,
  });
  let parent: { path: string; id: unknown } | null = null;
  if (o.stateArchive) {
    const base = netBase(o.stateArchive);
    const rec = await loadCheckpoint(base, { modules: { pyramid: net } });
    parent = { path: base, id: (rec.extra as { id?: unknown }).id ?? null };
  }
  const trainer = new SeamlessTrainer(net, a);
  const record = {
    args: o.args,
    epochs: o.epochs,
    seed: o.seed,
    k: o.k,
    train_size: o.trainSize ?? 1280,
    pe: o.pe,
    upsample_align_corners: o.upsampleAlignCorners ?? false,
    stack: o.stack,
    state_archive: o.stateArchive ?? null,
  };
  const state = openResumableDir(out, record, { overwrite: o.overwrite });
  if (state === "new") {
    await writeTextAtomic(
      `${out}/args.json`,
      JSON.stringify({ name: o.name, ...record }, null, 2) + "\n",
    );
    await writeTextAtomic(`${out}/args.txt`, o.commandLine + "\n");
  }
  const last = latestCheckpoint(ck);
  if (last) {
    trainer.prepare(last.epoch, last.batch);
    await truncateLog(logPath, last.base);
  } else rmSync(logPath, { force: true });
  const log = openLog(logPath);
  const warn = o.warn ?? ((l: string) => console.warn(l));
  let prevCkpt: string | null = last?.base ?? null;
  const order = (epoch: number) => {
    const idx = stacks.map((_, i) => i);
    const r = seededRandom(o.seed * 1000003 + epoch);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    return idx;
  };
  const res = await trainLoop<number>({
    epochs: o.epochs,
    batches: (e) => order(e),
    step: (i, info) => trainer.step(stacks[i], info.epoch, info.batch),
    endEpoch: (epoch, train) => {
      const norms = train.field_norm ?? [];
      if (norms.length && norms.every((v) => v < a.eps)) {
        const line =
          `${o.name}: epoch ${epoch}: the field collapsed to zero (|field| < ${a.eps} all epoch)`;
        log.write({ event: "warning", epoch, warning: "field collapsed to zero" });
        warn(line);
      }
    },
    checkpoint: {
      dir: ck,
      every: 1,
      everySteps: o.checkpointSteps,
      parts: () => ({ modules: { pyramid: net }, optimizers: { adam: trainer.optimizer } }),
      provenance: o.provenance,
    },
    resume: last?.base,
    log: (r) => {
      log.write(r);
      o.onRecord?.(r);
      if (r.event === "checkpoint") {
        const p = String(r.path);
        if (prevCkpt && prevCkpt !== p) {
          for (const s of [".json", ".safetensors", ".optim.safetensors"]) {
            rmSync(prevCkpt + s, { force: true });
          }
        }
        prevCkpt = p;
      }
    },
  });
  log.close();
  await Deno.mkdir(`${root}/pt`, { recursive: true });
  await saveCheckpoint(pt, {
    modules: { pyramid: net },
    extra: {
      id: o.provenance.uuid,
      name: o.name,
      parent: parent?.path ?? null,
      parent_id: parent?.id ?? null,
      args: a,
      epochs: o.epochs,
      stack: o.stack,
      final: res.last,
    },
    provenance: o.provenance,
  }, { overwrite: false });
  const report = await writeReport(o, net, stacks[0], logPath, `${out}/report.html`, res.last);
  finishResumableDir(out);
  return { pt, log: logPath, report, resumed: !!last, last: res.last, net };
}

async function writeReport(
  o: TrainRunOptions,
  net: Pyramid,
  stack: Awaited<ReturnType<typeof readTrainStacks>>[number],
  logPath: string,
  path: string,
  last: Record<string, number>,
): Promise<string> {
  const images = [];
  for (let i = 1; i < Math.min(stack.sections.length - 1, 3); i++) {
    const src = stack.sections[i], tgt = stack.sections[i + 1];
    const { warped } = await alignPair(net, src, tgt);
    const diff = (x: Float32Array) => x.map((v, j) => v - tgt.data[j]);
    images.push({
      title: `pair ${i}→${i + 1}`,
      png: figurePng([
        { data: src.data, shape: [src.h, src.w], title: "source" },
        { data: tgt.data, shape: [tgt.h, tgt.w], title: "target" },
        { data: warped.data, shape: [src.h, src.w], title: "aligned" },
        {
          data: diff(src.data),
          shape: [src.h, src.w],
          title: "before",
          colormap: "RdBu_r",
          range: "symmetric",
        },
        {
          data: diff(warped.data),
          shape: [src.h, src.w],
          title: "after",
          colormap: "RdBu_r",
          range: "symmetric",
        },
      ], { columns: 5 }),
    });
  }
  const records = await readLog(logPath);
  const losses = records.map((r) => ({
    ...r,
    loss_total: r.total ?? r.train_total,
    loss_error: r.error ?? r.train_error,
    loss_penalty: r.penalty ?? r.train_penalty,
  }));
  const html = htmlReport({
    title: `SEAMLeSS — ${o.name}`,
    meta: {
      stack: o.stack,
      epochs: o.epochs,
      size: o.args.size,
      lr: o.args.lr,
      lambda1: o.args.lambda1,
    },
    losses,
    sections: [
      {
        heading: "Final metrics",
        tables: [{ columns: ["metric", "value"], rows: Object.entries(last) }],
      },
      { heading: "Before / after", images },
    ],
    footer: o.commandLine,
  });
  await writeTextAtomic(path, html, { overwrite: true });
  return path;
}

/**
 * Reads a network saved by {@link trainRun}.
 *
 * @example
 * ```ts
 * const { net, extra } = await loadNet("pt/fine_tune_example");
 * ```
 */
export async function loadNet(
  path: string,
): Promise<{ net: Pyramid; extra: Record<string, unknown> }> {
  const base = netBase(path);
  const rec = await readCheckpointRecord(base);
  const cfg = rec.modules.pyramid?.config as unknown as {
    size: number;
    skip: number;
    k: number;
    pe: boolean;
    trainSize: number;
    upsampleAlignCorners?: boolean;
  } | undefined;
  if (!cfg) throw new LumenError(`${base}.json`, "modules", "holds no SEAMLeSS pyramid");
  const net = new Pyramid({
    size: cfg.size,
    skip: cfg.skip,
    k: cfg.k,
    pe: cfg.pe,
    trainSize: cfg.trainSize,
    upsampleAlignCorners: cfg.upsampleAlignCorners ?? false,
  });
  await loadCheckpoint(base, { modules: { pyramid: net } });
  return { net, extra: rec.extra };
}

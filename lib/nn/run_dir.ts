/**
 * A training run's folder: checkpoints `<dir>/<name>_<epoch>[_b<batch>].json` (lib/nn/
 * checkpoint.ts) and a log `<dir>/<name>.log.jsonl`. One policy for every training tool: a
 * finished run is never retrained without `--overwrite`; a run already past the epochs asked for
 * says so; an unfinished run resumes from its newest checkpoint only when the arguments that
 * decide its result equal the recorded ones (lib/run/resume.ts); `--overwrite` removes the
 * run's files (never a `--model-file` it starts from) and starts again.
 *
 * @example
 * ```ts
 * import { openTrainingRun } from "./run_dir.ts";
 * const { resume } = openTrainingRun({ dir: "runs", name: "patch", epochs: 10, args, ignore: ["epochs"] });
 * // resume: "runs/patch_3.json" or undefined
 * ```
 * @module
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { LumenError } from "../run/errors.ts";
import { checkResumeArgs } from "../run/resume.ts";

/** A checkpoint of a run: its epoch, the batch within it (0 at an epoch's end), its path. */
export interface RunCheckpoint {
  epoch: number;
  batch: number;
  path: string;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The newest checkpoint `<dir>/<name>_<epoch>[_b<batch>].json` of a run, if any.
 *
 * @example
 * ```ts
 * latestCheckpoint("runs", "patch"); // { epoch: 3, batch: 0, path: "runs/patch_3.json" }
 * ```
 */
export function latestCheckpoint(dir: string, name: string): RunCheckpoint | null {
  if (!existsSync(dir)) return null;
  const re = new RegExp(`^${escape(name)}_(\\d+)(?:_b(\\d+))?\\.json$`);
  let best: RunCheckpoint | null = null;
  for (const f of readdirSync(dir)) {
    const m = re.exec(f);
    if (!m) continue;
    const e = Number(m[1]), b = Number(m[2] ?? 0);
    if (!best || e > best.epoch || (e === best.epoch && b > best.batch)) {
      best = { epoch: e, batch: b, path: `${dir}/${f}` };
    }
  }
  return best;
}

/**
 * The arguments recorded in a checkpoint (its embedded provenance, else its sidecar).
 *
 * @example
 * ```ts
 * recordedArgs("runs/patch_3.json")["learning-rate"]; // 0.0002
 * ```
 */
export function recordedArgs(path: string): Record<string, unknown> {
  let prov: { args?: unknown } | null = null;
  try {
    prov = (JSON.parse(readFileSync(path, "utf8")) as { provenance?: { args?: unknown } })
      .provenance ?? null;
    if (!prov && existsSync(`${path}.prov.json`)) {
      prov = JSON.parse(readFileSync(`${path}.prov.json`, "utf8"));
    }
  } catch {
    prov = null;
  }
  return (prov?.args && typeof prov.args === "object" ? prov.args : {}) as Record<string, unknown>;
}

/** Options of {@link openTrainingRun}. */
export interface TrainingRunOptions {
  dir: string;
  name: string;
  /** Epochs in all (the final checkpoint is `<name>_<epochs>.json`). */
  epochs: number;
  /** The arguments that decide the result (provenanceArgs). */
  args: Record<string, unknown>;
  /** Recorded argument names that may change on resume (e.g. epochs, how often to save). */
  ignore?: readonly string[];
  overwrite?: boolean;
  /** A checkpoint the run starts from: never removed by `overwrite`. */
  modelFile?: string;
}

/**
 * Applies the policy of the module doc; returns the checkpoint to resume from, if any.
 *
 * @example
 * ```ts
 * const { resume } = openTrainingRun({ dir: f.saveDir, name: f.name, epochs: f.epochs, args });
 * ```
 * @throws LumenError naming the checkpoint: finished, past the epochs, or other arguments
 */
export function openTrainingRun(o: TrainingRunOptions): { resume?: string } {
  const final = `${o.dir}/${o.name}_${o.epochs}.json`;
  if (o.overwrite) {
    const keep = o.modelFile ? resolve(o.modelFile).replace(/\.json$/, "") : null;
    for (const file of existsSync(o.dir) ? readdirSync(o.dir) : []) {
      if (!file.startsWith(`${o.name}_`) && !file.startsWith(`${o.name}.log`)) continue;
      const path = `${o.dir}/${file}`;
      if (keep && resolve(path).startsWith(keep + ".")) {
        throw new LumenError(
          o.modelFile!,
          "",
          `is a checkpoint of run ${o.name}, which --overwrite would delete; choose another --name`,
        );
      }
    }
    for (const file of existsSync(o.dir) ? readdirSync(o.dir) : []) {
      if (file.startsWith(`${o.name}_`) || file.startsWith(`${o.name}.log`)) {
        rmSync(`${o.dir}/${file}`);
      }
    }
    return {};
  }
  if (existsSync(final)) {
    throw new LumenError(
      final,
      "",
      "this run is finished; pass --overwrite to train it again, or choose another --name",
    );
  }
  const latest = latestCheckpoint(o.dir, o.name);
  if (!latest) return {};
  if (latest.epoch > o.epochs) {
    throw new LumenError(
      latest.path,
      "",
      `this run is already past --epochs ${o.epochs} (it reached epoch ${latest.epoch}); give --epochs above ${latest.epoch} to continue it, or --overwrite to start again`,
    );
  }
  checkResumeArgs(latest.path, recordedArgs(latest.path), o.args, { ignore: o.ignore });
  return { resume: latest.path };
}

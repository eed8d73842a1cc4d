/**
 * Checkpoints: safetensors weights plus a JSON record, for exact resume.
 *
 * A checkpoint `<base>` is three files:
 * - `<base>.safetensors`: the weights of every module, named `<module>.<state-dict name>`
 *   (`gen.down1.0.weight`, `disc.model.7.bias`), float32;
 * - `<base>.optim.safetensors`: optimiser state tensors, `<optimiser>.<param index>.<name>`
 *   (`gen.3.exp_avg`), present when optimisers are saved;
 * - `<base>.json`: the record: format, architecture config of each module (type, width,
 *   depth, …), the tensor index (name → shape), optimiser hyper-parameters and step counts,
 *   scheduler states, epoch and step, RNG states, provenance, extra JSON, and the SHA-256 of
 *   the two tensor files.
 *
 * Loading checks everything before writing anything: a checkpoint of another architecture is a
 * {@link LumenError} naming the differing config and the tensors with their shapes; a truncated
 * or altered tensor file is an error naming the file, the tensor and the bytes involved.
 * Resume is exact: weights, moments, step counts, learning rates, and the RNG counters are
 * restored bit for bit, so N steps straight and N/2 + save + load + N/2 give the same bytes.
 *
 * @example
 * ```ts
 * await saveCheckpoint("run/ckpt_0010", { modules: { gen, disc }, optimizers: { gen: optG, disc: optD },
 *   rngs: { dropout: rng }, epoch: 10 });
 * const rec = await loadCheckpoint("run/ckpt_0010", { modules: { gen, disc }, optimizers: { gen: optG, disc: optD },
 *   rngs: { dropout: rng } });
 * console.log(rec.epoch);
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { LumenError } from "../run/errors.ts";
import { writeFileAtomic, writeTextAtomic } from "../run/atomic.ts";
import type { NdArray } from "../io/array.ts";
import type { Module, ModuleConfig } from "./module.ts";
import type { Optimizer, OptimizerState } from "../optim/optimizer.ts";
import type { SchedulerState } from "../optim/schedulers.ts";
import type { Rng, RngState } from "../tensor/ops/random.ts";
import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";

/** Format tag of the JSON record. */
export const CHECKPOINT_FORMAT = "lumen.checkpoint/1";

/** Anything with a JSON state (schedulers). */
export interface Stateful<S = unknown> {
  stateDict(): S;
  loadStateDict(s: S): void;
}

/** What a checkpoint holds (all but `modules` optional). */
export interface CheckpointParts {
  modules: Record<string, Module>;
  optimizers?: Record<string, Optimizer>;
  schedulers?: Record<string, Stateful<SchedulerState>>;
  rngs?: Record<string, Rng>;
  epoch?: number;
  step?: number;
  /** Any JSON (losses so far, data order…). */
  extra?: Record<string, unknown>;
  /** Provenance record (lib/run/provenance.ts). */
  provenance?: unknown;
}

/** The JSON record. */
export interface CheckpointRecord {
  format: string;
  modules: Record<string, { config: ModuleConfig; tensors: Record<string, number[]> }>;
  optimizers: Record<string, Omit<OptimizerState, "tensors">>;
  schedulers: Record<string, SchedulerState>;
  rngs: Record<string, RngState>;
  epoch: number;
  step: number;
  extra: Record<string, unknown>;
  provenance: unknown;
  files: {
    weights: { name: string; sha256: string; bytes: number };
    optim?: { name: string; sha256: string; bytes: number };
  };
}

function sha256(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

function dirOf(p: string): string {
  const i = p.lastIndexOf("/");
  return i < 0 ? "." : p.slice(0, i) || "/";
}

/** Strips a `.json`/`.safetensors` ending so either file names the checkpoint. */
export function checkpointBase(path: string): string {
  return path.replace(/\.(json|optim\.safetensors|safetensors)$/, "");
}

/**
 * Saves a checkpoint (three files beside `base`, each written atomically; the record last, so a
 * record never points at missing tensors).
 *
 * @returns the paths written
 */
export async function saveCheckpoint(
  base: string,
  parts: CheckpointParts,
  opts: { overwrite?: boolean } = { overwrite: true },
): Promise<{ record: string; weights: string; optim?: string }> {
  base = checkpointBase(base);
  const weights = new Map<string, NdArray>();
  const modules: CheckpointRecord["modules"] = {};
  for (const [key, m] of Object.entries(parts.modules)) {
    const sd = await m.stateDict();
    const index: Record<string, number[]> = {};
    for (const [n, a] of sd) {
      weights.set(`${key}.${n}`, a);
      index[n] = a.shape;
    }
    modules[key] = { config: m.config(), tensors: index };
  }
  const optimTensors = new Map<string, NdArray>();
  const optimizers: CheckpointRecord["optimizers"] = {};
  for (const [key, o] of Object.entries(parts.optimizers ?? {})) {
    const { tensors, ...rest } = await o.stateDict();
    for (const [n, a] of tensors) optimTensors.set(`${key}.${n}`, a);
    optimizers[key] = rest;
  }
  const wBytes = encodeSafetensors(weights, { format: "pt", producer: "lumen" });
  const paths: { record: string; weights: string; optim?: string } = {
    record: `${base}.json`,
    weights: `${base}.safetensors`,
  };
  const ow = { overwrite: opts.overwrite ?? true };
  await writeFileAtomic(paths.weights, wBytes, ow);
  const rec: CheckpointRecord = {
    format: CHECKPOINT_FORMAT,
    modules,
    optimizers,
    schedulers: Object.fromEntries(
      Object.entries(parts.schedulers ?? {}).map(([k, s]) => [k, s.stateDict()]),
    ),
    rngs: Object.fromEntries(Object.entries(parts.rngs ?? {}).map(([k, r]) => [k, r.state()])),
    epoch: parts.epoch ?? 0,
    step: parts.step ?? 0,
    extra: parts.extra ?? {},
    provenance: parts.provenance ?? null,
    files: {
      weights: { name: baseName(paths.weights), sha256: sha256(wBytes), bytes: wBytes.length },
    },
  };
  if (parts.optimizers && Object.keys(parts.optimizers).length) {
    const oBytes = encodeSafetensors(optimTensors);
    paths.optim = `${base}.optim.safetensors`;
    await writeFileAtomic(paths.optim, oBytes, ow);
    rec.files.optim = { name: baseName(paths.optim), sha256: sha256(oBytes), bytes: oBytes.length };
  }
  await writeTextAtomic(paths.record, JSON.stringify(rec, null, 1) + "\n", ow);
  return paths;
}

/** Reads and checks the JSON record of a checkpoint. */
export async function readCheckpointRecord(path: string): Promise<CheckpointRecord> {
  const file = `${checkpointBase(path)}.json`;
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new LumenError(
      file,
      "",
      e instanceof Deno.errors.NotFound ? "checkpoint record not found" : (e as Error).message,
    );
  }
  let rec: CheckpointRecord;
  try {
    rec = JSON.parse(text);
  } catch (e) {
    throw new LumenError(file, "", `not a checkpoint record: ${(e as Error).message}`);
  }
  if (rec?.format !== CHECKPOINT_FORMAT) {
    throw new LumenError(
      file,
      "format",
      `not a Lumen checkpoint record (format ${
        JSON.stringify(rec?.format)
      }, expected ${CHECKPOINT_FORMAT})`,
    );
  }
  return rec;
}

async function readChecked(
  dir: string,
  f: { name: string; sha256: string; bytes: number },
): Promise<{ path: string; bytes: Uint8Array }> {
  const path = `${dir}/${f.name}`;
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new LumenError(
      path,
      "",
      e instanceof Deno.errors.NotFound ? "checkpoint file missing" : (e as Error).message,
    );
  }
  return { path, bytes };
}

function configDiff(a: ModuleConfig, b: ModuleConfig): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  const out: string[] = [];
  for (const k of keys) {
    const x = JSON.stringify(a[k]), y = JSON.stringify(b[k]);
    if (x !== y) {
      out.push(`${k} ${x ?? "absent"} in the checkpoint vs ${y ?? "absent"} in the model`);
    }
  }
  return out;
}

/** Options of {@link loadCheckpoint}. */
export interface LoadCheckpointOptions {
  /** Load weights even where the architecture config differs, if every tensor fits (default false). */
  ignoreConfig?: boolean;
}

/**
 * Loads a checkpoint into the given parts (each optional part is restored when given and
 * present). Returns the record (epoch, step, extra…).
 *
 * @throws LumenError for a checkpoint of another architecture (naming config and tensors with
 *   shapes), missing parts, truncated or altered files
 */
export async function loadCheckpoint(
  path: string,
  parts: Omit<CheckpointParts, "epoch" | "step" | "extra" | "provenance">,
  opts: LoadCheckpointOptions = {},
): Promise<CheckpointRecord> {
  const base = checkpointBase(path);
  const rec = await readCheckpointRecord(base);
  const dir = dirOf(base);
  const w = await readChecked(dir, rec.files.weights);
  // decode first: a truncated file reports the tensor and bytes involved
  const weights = decodeSafetensors(w.bytes, w.path).tensors;
  if (w.bytes.length !== rec.files.weights.bytes || sha256(w.bytes) !== rec.files.weights.sha256) {
    throw new LumenError(
      w.path,
      "",
      `does not match its record ${base}.json (${w.bytes.length} bytes, sha256 differs from the ${rec.files.weights.bytes}-byte file recorded)`,
    );
  }
  // check every module before loading any
  for (const [key, m] of Object.entries(parts.modules)) {
    const saved = rec.modules[key];
    if (!saved) {
      throw new LumenError(
        `${base}.json`,
        "modules",
        `no module '${key}' (it holds ${Object.keys(rec.modules).join(", ") || "none"})`,
      );
    }
    const diff = configDiff(saved.config, m.config());
    const sub = new Map([...weights].filter(([n]) => n.startsWith(`${key}.`)));
    try {
      checkFits(m, sub, `${key}.`, w.path);
    } catch (e) {
      if (e instanceof LumenError && diff.length) {
        throw new LumenError(
          w.path,
          key,
          `is a checkpoint of another architecture: ${diff.join(", ")}; ${e.problem}`,
        );
      }
      throw e;
    }
    if (diff.length && !opts.ignoreConfig) {
      throw new LumenError(
        w.path,
        key,
        `is a checkpoint of another architecture: ${diff.join(", ")}`,
      );
    }
  }
  for (const [key, m] of Object.entries(parts.modules)) {
    m.loadStateDict(weights, { prefix: `${key}.`, source: w.path });
  }
  if (parts.optimizers && Object.keys(parts.optimizers).length) {
    if (!rec.files.optim) {
      throw new LumenError(`${base}.json`, "optimizers", "the checkpoint holds no optimiser state");
    }
    const o = await readChecked(dir, rec.files.optim);
    const tensors = decodeSafetensors(o.bytes, o.path).tensors;
    if (o.bytes.length !== rec.files.optim.bytes || sha256(o.bytes) !== rec.files.optim.sha256) {
      throw new LumenError(o.path, "", `does not match its record ${base}.json`);
    }
    for (const [key, opt] of Object.entries(parts.optimizers)) {
      const s = rec.optimizers[key];
      if (!s) throw new LumenError(`${base}.json`, "optimizers", `no optimiser '${key}'`);
      const mine = new Map<string, NdArray>();
      for (const [n, a] of tensors) {
        if (n.startsWith(`${key}.`)) mine.set(n.slice(key.length + 1), a);
      }
      opt.loadStateDict({ ...s, tensors: mine }, `${o.path} (${key})`);
    }
  }
  for (const [key, s] of Object.entries(parts.schedulers ?? {})) {
    const st = rec.schedulers[key];
    if (!st) throw new LumenError(`${base}.json`, "schedulers", `no scheduler '${key}'`);
    s.loadStateDict(st);
  }
  for (const [key, r] of Object.entries(parts.rngs ?? {})) {
    const st = rec.rngs[key];
    if (!st) throw new LumenError(`${base}.json`, "rngs", `no RNG state '${key}'`);
    r.setState(st);
  }
  return rec;
}

/** Throws loadStateDict's error without writing (checks names and shapes only). */
function checkFits(m: Module, sd: Map<string, NdArray>, prefix: string, source: string): void {
  const mine = new Map(m.stateTensors());
  const theirs = new Map<string, NdArray>();
  for (const [k, v] of sd) if (k.startsWith(prefix)) theirs.set(k.slice(prefix.length), v);
  const missing: string[] = [], unexpected: string[] = [], mismatched: string[] = [];
  for (const [k, t] of mine) {
    const a = theirs.get(k);
    if (!a) missing.push(`'${k}' [${t.shape.join(", ")}]`);
    else if (a.shape.length !== t.shape.length || a.shape.some((d, i) => d !== t.shape[i])) {
      mismatched.push(
        `'${k}' is [${a.shape.join(", ")}] in the checkpoint but [${
          t.shape.join(", ")
        }] in the model`,
      );
    }
  }
  for (const [k, a] of theirs) {
    if (!mine.has(k) && !k.endsWith("num_batches_tracked")) {
      unexpected.push(`'${k}' [${a.shape.join(", ")}]`);
    }
  }
  const list = (xs: string[]) =>
    xs.slice(0, 6).join(", ") + (xs.length > 6 ? ` (and ${xs.length - 6} more)` : "");
  const problems: string[] = [];
  if (mismatched.length) problems.push(`shape mismatch: ${list(mismatched)}`);
  if (missing.length) problems.push(`missing from the checkpoint: ${list(missing)}`);
  if (unexpected.length) problems.push(`not in the model: ${list(unexpected)}`);
  if (problems.length) throw new LumenError(source, prefix.slice(0, -1), problems.join("; "));
}

/**
 * Loads weights into a module from a safetensors file (names as the module's state dict, or
 * under `prefix`), or from a `torch.save` file (`.tar`/`.pt`/`.pth`) with `key` naming the
 * state dict inside it (NoStripesNet: "gen_state_dict" / "disc_state_dict").
 */
export async function loadWeights(
  m: Module,
  path: string,
  o: { prefix?: string; key?: string; strict?: boolean } = {},
): Promise<void> {
  const bytes = await Deno.readFile(path).catch((e) => {
    throw new LumenError(
      path,
      "",
      e instanceof Deno.errors.NotFound ? "file not found" : (e as Error).message,
    );
  });
  let sd: Map<string, NdArray>;
  const isSafetensors = path.endsWith(".safetensors") ||
    (bytes.length >= 9 && bytes[8] === 0x7b && bytes[0] !== 0x50 && bytes[0] !== 0x80);
  if (isSafetensors) {
    sd = decodeSafetensors(bytes, path).tensors;
  } else {
    const { readTorchFile, stateDict } = await import("./torch_checkpoint.ts");
    const f = readTorchFile(bytes, path);
    sd = stateDict(f, o.key, path);
  }
  m.loadStateDict(sd, { prefix: o.prefix, source: path, strict: o.strict });
}

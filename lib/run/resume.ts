/**
 * Resume only what is the same: a resumable tool compares the arguments recorded in the
 * provenance of what an earlier run left (see `provenanceArgs` in flags.ts; flags marked
 * `provenance: false` are not recorded and so never compared) with the current ones, and refuses
 * to continue when they differ, naming the flags and pointing at `--overwrite`.
 *
 * @example
 * ```ts
 * import { checkResumeArgs } from "./resume.ts";
 * checkResumeArgs("out/ds", { "patch-size": [800, 80] }, { "patch-size": [800, 80] }); // ok
 * // checkResumeArgs("out/ds", { seed: 0 }, { seed: 1 }) throws
 * // "out/ds: cannot resume: --seed differs from the earlier run (0 → 1); pass --overwrite to start again"
 * ```
 * @module
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { LumenError } from "./errors.ts";
import { removeStaleTemps, writeTextAtomicSync } from "./atomic.ts";
import { canonicalJson, readProvenance, sidecarPath } from "./provenance.ts";

/** Options of {@link resumeDiff} and {@link checkResumeArgs}. */
export interface ResumeOptions {
  /** Recorded argument names (kebab-case, as in the record) that may change on resume. */
  ignore?: readonly string[];
}

function show(v: unknown): string {
  if (v === undefined || v === null || (Array.isArray(v) && !v.length)) return "unset";
  return Array.isArray(v) ? v.join(",") : String(v);
}

/**
 * The argument names whose recorded and current values differ (canonical JSON compare), sorted;
 * `_` stands for the positionals.
 *
 * @example
 * ```ts
 * resumeDiff({ seed: 0, a: 1 }, { seed: 1, a: 1 }); // ["seed"]
 * ```
 */
export function resumeDiff(
  recorded: Record<string, unknown>,
  current: Record<string, unknown>,
  opts: ResumeOptions = {},
): string[] {
  const skip = new Set(opts.ignore ?? []);
  const keys = new Set([...Object.keys(recorded), ...Object.keys(current)]);
  const out: string[] = [];
  for (const k of keys) {
    if (skip.has(k)) continue;
    if (canonicalJson(recorded[k] ?? null) !== canonicalJson(current[k] ?? null)) out.push(k);
  }
  return out.sort();
}

/**
 * Throws a one-line LumenError on `what` when the recorded arguments differ from the current
 * ones (see {@link resumeDiff}).
 *
 * @example
 * ```ts
 * checkResumeArgs("runs/gan_3.json", { "learning-rate": 2e-4 }, { "learning-rate": 2e-4 });
 * ```
 */
export function checkResumeArgs(
  what: string,
  recorded: Record<string, unknown>,
  current: Record<string, unknown>,
  opts: ResumeOptions = {},
): void {
  const diff = resumeDiff(recorded, current, opts);
  if (!diff.length) return;
  const parts = diff.map((k) =>
    `${k === "_" ? "the positional arguments" : `--${k}`} (${show(recorded[k])} → ${
      show(current[k])
    })`
  );
  throw new LumenError(
    what,
    "",
    `cannot resume: ${parts.join(", ")} ${
      diff.length > 1 ? "differ" : "differs"
    } from the earlier run; pass --overwrite to start again`,
  );
}

/**
 * Reads `<artifact>.prov.json` when it exists and checks its arguments against `current`
 * ({@link checkResumeArgs}). Returns false when there is no sidecar (nothing to compare).
 *
 * @example
 * ```ts
 * await checkResumeSidecar("out/ds", { seed: 0 }); // throws when out/ds.prov.json says seed 1
 * ```
 */
export async function checkResumeSidecar(
  artifact: string,
  current: Record<string, unknown>,
  opts: ResumeOptions = {},
): Promise<boolean> {
  if (!existsSync(sidecarPath(artifact))) return false;
  const prov = await readProvenance(artifact);
  const recorded = (prov.args && typeof prov.args === "object" ? prov.args : {}) as Record<
    string,
    unknown
  >;
  checkResumeArgs(artifact, recorded, current, opts);
  return true;
}

/** The name of the record that a resumable folder holds while it is being built. */
export const RESUME_RECORD = ".lumen-resume.json";

/** What {@link openResumableDir} found. */
export type ResumeState = "new" | "resume";

/**
 * Opens a folder that a resumable tool fills piece by piece: creates it with a record of the
 * arguments that decide its content ({@link RESUME_RECORD}), or, when it already holds one,
 * checks those arguments against the current ones ({@link checkResumeArgs}: one line naming the
 * differing flags). A folder with files but no record is refused (its content is unknown).
 * `overwrite` empties the folder and starts again. Call {@link finishResumableDir} once the
 * folder is complete.
 *
 * @example
 * ```ts
 * const state = openResumableDir("data/0000", { seed: 0, "patch-size": [800, 80] });
 * // … write what is missing …
 * finishResumableDir("data/0000");
 * ```
 */
export function openResumableDir(
  dir: string,
  args: Record<string, unknown>,
  opts: ResumeOptions & { overwrite?: boolean } = {},
): ResumeState {
  const record = `${dir}/${RESUME_RECORD}`;
  if (opts.overwrite) rmSync(dir, { recursive: true, force: true });
  if (existsSync(record)) {
    let recorded: Record<string, unknown>;
    try {
      recorded = (JSON.parse(readFileSync(record, "utf8")) as { args: Record<string, unknown> })
        .args ?? {};
    } catch {
      throw new LumenError(record, "", "unreadable resume record; pass --overwrite to start again");
    }
    checkResumeArgs(dir, recorded, args, opts);
    removeStaleTemps(dir); // what a killed run was writing
    return "resume";
  }
  if (existsSync(dir) && listDeep(dir).length) {
    throw new LumenError(
      dir,
      "",
      "holds files of a run that left no record of its arguments; pass --overwrite to start again",
    );
  }
  mkdirSync(dir, { recursive: true });
  writeTextAtomicSync(record, canonicalJson({ args }) + "\n", { overwrite: true });
  return "new";
}

/**
 * Removes the resume record of a folder that is now complete.
 *
 * @example
 * ```ts
 * finishResumableDir("data/0000");
 * ```
 */
export function finishResumableDir(dir: string): void {
  rmSync(`${dir}/${RESUME_RECORD}`, { force: true });
}

/** Files (not folders) under `dir`, recursively. */
function listDeep(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...listDeep(`${dir}/${e.name}`));
    else out.push(`${dir}/${e.name}`);
  }
  return out;
}

/**
 * Sharding of long steps: `--shard i/N` splits a step's work items (detector rows, sinograms,
 * parameter points, folds) into N contiguous, balanced ranges; each shard writes its output under
 * a staging folder and marks itself complete with a manifest written last (atomically). A merge
 * step checks that every shard is present and complete (each listed file there, with its size and
 * hash) before it writes the final result. Reruns skip finished shards.
 *
 * @example
 * ```ts
 * import { parseShard, shardRange } from "./shard.ts";
 * const s = parseShard("1/4");            // { index: 1, count: 4 }
 * const [start, end] = shardRange(2160, s); // [540, 1080)
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname } from "node:path";
import { LumenError } from "./errors.ts";

/** One shard of N: index in [0, count). */
export interface Shard {
  /** 0-based shard index (SLURM_ARRAY_TASK_ID). */
  index: number;
  /** Number of shards. */
  count: number;
}

/**
 * Parses `i/N` (0 ≤ i < N). Throws a one-line LumenError naming the flag otherwise.
 *
 * @example
 * ```ts
 * parseShard("0/2"); // { index: 0, count: 2 }
 * ```
 */
export function parseShard(text: string, flag = "--shard"): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new LumenError(flag, text, "expected i/N with 0 ≤ i < N, e.g. 0/4");
  const index = Number(m[1]), count = Number(m[2]);
  if (count < 1) throw new LumenError(flag, text, "the number of shards N must be at least 1");
  if (index >= count) {
    throw new LumenError(flag, text, `shard index ${index} is out of range 0…${count - 1}`);
  }
  return { index, count };
}

/**
 * The contiguous range [start, end) of `total` items that a shard owns; the first
 * `total % count` shards get one item more. Shards cover every item exactly once.
 *
 * @example
 * ```ts
 * shardRange(10, { index: 2, count: 3 }); // [7, 10]
 * ```
 */
export function shardRange(total: number, shard: Shard): [number, number] {
  const base = Math.floor(total / shard.count), extra = total % shard.count;
  const start = shard.index * base + Math.min(shard.index, extra);
  return [start, start + base + (shard.index < extra ? 1 : 0)];
}

/** A file a shard produced, as recorded in its manifest. */
export interface ShardFile {
  /** Path relative to the shard folder. */
  path: string;
  /** Size in bytes. */
  bytes: number;
  /** SHA-256 of the content, hex. */
  sha256: string;
}

/** The completion record of one shard (written last; its presence means "complete"). */
export interface ShardManifest {
  /** Which step wrote it (tool name). */
  tool: string;
  /** This shard. */
  shard: Shard;
  /** Item range the shard covered. */
  range: [number, number];
  /** Every output file, relative to the shard folder. */
  files: ShardFile[];
}

/** The staging folder of shard i of N under an output location. */
export function shardDir(output: string, shard: Shard): string {
  return `${output}.shards/${String(shard.index).padStart(4, "0")}-of-${
    String(shard.count).padStart(4, "0")
  }`;
}

/** SHA-256 of a file, hex. */
export function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** True when the shard's manifest exists (the shard finished). */
export function shardComplete(output: string, shard: Shard): boolean {
  return existsSync(`${shardDir(output, shard)}/MANIFEST.json`);
}

/**
 * Marks a shard complete: hashes the files it produced and writes `MANIFEST.json` atomically.
 *
 * @example
 * ```ts
 * finishShard("data/root", { index: 0, count: 2 }, "data_generator", [0, 540], ["a.tif"]);
 * ```
 */
export function finishShard(
  output: string,
  shard: Shard,
  tool: string,
  range: [number, number],
  relFiles: string[],
): ShardManifest {
  const dir = shardDir(output, shard);
  const files = relFiles.slice().sort().map((path) => {
    const full = `${dir}/${path}`;
    return { path, bytes: statSync(full).size, sha256: sha256File(full) };
  });
  const manifest: ShardManifest = { tool, shard, range, files };
  const tmp = `${dir}/MANIFEST.json.tmp`;
  writeFileSync(tmp, JSON.stringify(manifest, null, 1));
  renameSync(tmp, `${dir}/MANIFEST.json`);
  return manifest;
}

/**
 * Checks that all N shards of an output are present and complete (manifest there, every listed
 * file present with the recorded size and hash) and that their ranges tile [0, total). Returns the
 * manifests in shard order; throws a LumenError naming the first missing or broken shard.
 */
export function checkShards(output: string, count: number, total?: number): ShardManifest[] {
  const out: ShardManifest[] = [];
  let next = 0;
  for (let i = 0; i < count; i++) {
    const shard = { index: i, count };
    const dir = shardDir(output, shard);
    const mpath = `${dir}/MANIFEST.json`;
    if (!existsSync(dir)) {
      throw new LumenError(dir, "", `shard ${i}/${count} is missing: nothing merged`);
    }
    if (!existsSync(mpath)) {
      throw new LumenError(
        dir,
        "",
        `shard ${i}/${count} is incomplete (no MANIFEST.json): nothing merged`,
      );
    }
    let m: ShardManifest;
    try {
      m = JSON.parse(readFileSync(mpath, "utf8"));
    } catch (e) {
      throw new LumenError(mpath, "", `unreadable manifest (${(e as Error).message})`);
    }
    if (m.shard.index !== i || m.shard.count !== count) {
      throw new LumenError(
        mpath,
        "shard",
        `records ${m.shard.index}/${m.shard.count}, expected ${i}/${count}`,
      );
    }
    if (m.range[0] !== next) {
      throw new LumenError(mpath, "range", `starts at ${m.range[0]}, expected ${next}`);
    }
    next = m.range[1];
    for (const f of m.files) {
      const full = `${dir}/${f.path}`;
      if (!existsSync(full)) {
        throw new LumenError(
          full,
          "",
          `listed in shard ${i}/${count} but missing: nothing merged; delete ${dir} and run shard ${i}/${count} again`,
        );
      }
      const size = statSync(full).size;
      const redo = `nothing merged; delete ${dir} and run shard ${i}/${count} again`;
      if (size !== f.bytes) {
        throw new LumenError(
          full,
          "",
          `has ${size} bytes, the manifest says ${f.bytes} (half-written?): ${redo}`,
        );
      }
      if (sha256File(full) !== f.sha256) {
        throw new LumenError(
          full,
          "",
          `content differs from shard ${i}/${count}'s manifest: ${redo}`,
        );
      }
    }
    out.push(m);
  }
  if (total !== undefined && next !== total) {
    throw new LumenError(output, "", `shards cover items 0…${next}, expected 0…${total}`);
  }
  return out;
}

/**
 * Moves the files of checked shards ({@link checkShards}) into `output`, replacing an earlier
 * merge with `overwrite`. The shard folders stay until {@link removeShards}, so a merge that is
 * interrupted can run again.
 *
 * @example
 * ```ts
 * mergeShards("data/0000", checkShards("data/0000", 4, 2160));
 * // … write the merged output's provenance …
 * removeShards("data/0000");
 * ```
 */
export function mergeShards(
  output: string,
  manifests: readonly ShardManifest[],
  opts: { overwrite?: boolean } = {},
): void {
  if (opts.overwrite) rmSync(output, { recursive: true, force: true });
  for (const m of manifests) {
    const dir = shardDir(output, m.shard);
    for (const file of m.files) {
      const dest = `${output}/${file.path}`;
      mkdirSync(dirname(dest), { recursive: true });
      renameSync(`${dir}/${file.path}`, dest);
    }
  }
}

/**
 * Removes the shard folders of an output once it is merged.
 *
 * @example
 * ```ts
 * removeShards("data/0000"); // deletes data/0000.shards/
 * ```
 */
export function removeShards(output: string): void {
  rmSync(`${output}.shards`, { recursive: true, force: true });
}

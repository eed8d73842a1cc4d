/**
 * The NSW video split: the original's greedy rule that takes the phase seen in the fewest videos,
 * splits those videos at random by the weights (CPython's `random.Random(seed)`), removes them
 * from every phase and repeats. Written as `{"train", "val", "test"}` (or `{"train", "test"}`
 * for two weights) in `json.dumps`'s spelling; read back with `eval` taken as `val`.
 *
 * @example
 * ```ts
 * import { makeSplit, splitJsonText } from "./split.ts";
 * const split = makeSplit("/data/extracted", [0.6, 0.2, 0.2], 1234567890);
 * Deno.writeTextFileSync("split.json", splitJsonText(split));
 * ```
 * @module
 */
import { LumenError } from "../../run/errors.ts";
import { ioError } from "../../run/atomic.ts";
import { listVideos, PHASES, readPhaseRanges } from "./dataset.ts";
import { PyRandom, pyRound } from "./py_random.ts";

/** A split: set name → video names, in the written order. */
export type Split = Record<string, string[]>;

/**
 * Frames per phase of each video (`last - first + 1` from its CSV; phases absent count 0). The
 * inner maps keep the CSV's phase order, then the absent phases in {@link PHASES} order.
 *
 * @example
 * ```ts
 * countPhasesInVideos("/data/extracted", ["BM016-5"]).get("BM016-5")!.get("t2");
 * ```
 */
export function countPhasesInVideos(
  dataset: string,
  videos: readonly string[],
): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const v of videos) {
    const counts = new Map<string, number>();
    for (const [p, r] of readPhaseRanges(dataset, v)) counts.set(p, r.last - r.first + 1);
    for (const p of PHASES) if (!counts.has(p)) counts.set(p, 0);
    out.set(v, counts);
  }
  return out;
}

/**
 * Phase → the videos with a non-zero count of it, phases in order of first appearance.
 *
 * @example
 * ```ts
 * videosPerPhase(countPhasesInVideos(ds, videos)).get("tHB");
 * ```
 */
export function videosPerPhase(
  counts: Map<string, Map<string, number>>,
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [v, c] of counts) {
    for (const [p, n] of c) {
      if (n === 0) continue;
      if (!out.has(p)) out.set(p, []);
      out.get(p)!.push(v);
    }
  }
  return out;
}

/**
 * Shuffles `videos` (a copy) with `prg` and cuts it at `round(cumulative weight × n)`.
 *
 * @example
 * ```ts
 * randomSplit(["a", "b", "c", "d", "e"], [0.6, 0.2, 0.2], new PyRandom(0)); // 3, 1, 1 videos
 * ```
 */
export function randomSplit(
  videos: readonly string[],
  weights: readonly number[],
  prg: PyRandom,
): string[][] {
  let sum = 0;
  for (const w of weights) sum += w;
  if (Math.abs(sum) < 1e-2) throw new LumenError("--weights", "", "weights should sum to 1.0");
  const offsets: number[] = [];
  let cum = 0;
  for (const w of weights) {
    cum += w / sum;
    offsets.push(pyRound(cum * videos.length));
  }
  const copy = [...videos];
  prg.shuffle(copy);
  const parts: string[][] = [];
  let start = 0;
  for (const end of offsets) {
    parts.push(copy.slice(start, end));
    start = end;
  }
  return parts;
}

/**
 * The rarest-first greedy split of {@link videosPerPhase}'s map into `weights.length` sets.
 *
 * @example
 * ```ts
 * fairRandomSplit(videosPerPhase(counts), [0.6, 0.2, 0.2], 1234567890);
 * ```
 */
export function fairRandomSplit(
  perPhase: Map<string, string[]>,
  weights: readonly number[],
  seed: number,
): string[][] {
  let todo = new Map([...perPhase].map(([p, v]) => [p, [...v]]));
  const sets: string[][] = weights.map(() => []);
  const prg = new PyRandom(seed);
  while (todo.size > 0) {
    // the first phase with the fewest videos (a stable sort keeps the map's order on ties)
    let best: [string, string[]] | null = null;
    for (const e of todo) if (best === null || e[1].length < best[1].length) best = e;
    const [, vids] = best!;
    randomSplit(vids, weights, prg).forEach((part, i) => sets[i].push(...part));
    const gone = new Set(vids);
    const next = new Map<string, string[]>();
    for (const [p, l] of todo) {
      const kept = l.filter((v) => !gone.has(v));
      if (kept.length) next.set(p, kept);
    }
    todo = next;
  }
  return sets;
}

/**
 * The set names for 2 or 3 weights: `train, test` or `train, val, test`.
 *
 * @example
 * ```ts
 * splitKeys([0.6, 0.2, 0.2]); // ["train", "val", "test"]
 * ```
 */
export function splitKeys(weights: readonly number[]): string[] {
  if (weights.length === 2) return ["train", "test"];
  if (weights.length === 3) return ["train", "val", "test"];
  throw new LumenError("--weights", "", `expected 2 or 3 weights, got ${weights.length}`);
}

/**
 * Indexes the extracted tree and splits its videos.
 *
 * @example
 * ```ts
 * makeSplit("/data/extracted", [0.6, 0.2, 0.2], 1234567890).val.length;
 * ```
 */
export function makeSplit(dataset: string, weights: readonly number[], seed: number): Split {
  const keys = splitKeys(weights);
  const videos = listVideos(dataset);
  if (videos.length === 0) throw new LumenError(dataset, "", "no videos in embryo_dataset/");
  const sets = fairRandomSplit(videosPerPhase(countPhasesInVideos(dataset, videos)), weights, seed);
  const out: Split = {};
  keys.forEach((k, i) => out[k] = sets[i]);
  return out;
}

function pyJsonString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => {
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

/**
 * The split as Python's `json.dumps` writes it (`{"train": ["a", "b"], …}`).
 *
 * @example
 * ```ts
 * splitJsonText({ train: ["a"], test: ["b"] }); // '{"train": ["a"], "test": ["b"]}'
 * ```
 */
export function splitJsonText(split: Split): string {
  const parts = Object.entries(split).map(([k, vs]) =>
    `${pyJsonString(k)}: [${vs.map(pyJsonString).join(", ")}]`
  );
  return `{${parts.join(", ")}}`;
}

/**
 * Reads a split file; an `eval` key is read as `val`.
 *
 * @example
 * ```ts
 * readSplit("split.json").val;
 * ```
 */
export function readSplit(path: string): Split {
  let data: unknown;
  try {
    data = JSON.parse(Deno.readTextFileSync(path));
  } catch (e) {
    if (e instanceof SyntaxError) throw new LumenError(path, "", `not JSON: ${e.message}`);
    throw ioError(path, e, "cannot read split file");
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new LumenError(path, "", "expected an object of set name → list of videos");
  }
  const out: Split = {};
  for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
      throw new LumenError(path, k, "expected a list of video names");
    }
    const key = k === "eval" ? "val" : k;
    if (key in out) throw new LumenError(path, k, "both eval and val given");
    out[key] = v as string[];
  }
  return out;
}

/**
 * The videos of one set (`eval` and `val` name the same set).
 *
 * @example
 * ```ts
 * splitSet(readSplit("split.json"), "eval", "split.json");
 * ```
 */
export function splitSet(split: Split, set: string, file: string): string[] {
  const key = set === "eval" ? "val" : set;
  const v = split[key];
  if (!v) {
    throw new LumenError(file, "", `set ${set} not found (sets: ${Object.keys(split).join(", ")})`);
  }
  return v;
}

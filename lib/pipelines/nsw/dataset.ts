/**
 * The public embryo time-lapse dataset's layout: the 16 phases in order, the 7 focal planes, the
 * videos of an extracted tree, each video's `<video>_phases.csv` (rows `phase,first,last`,
 * inclusive frame numbers, no header) and its frames `…RUN<n>.jpeg`.
 *
 * @example
 * ```ts
 * import { listVideos, readPhaseRanges, videoFrames } from "./dataset.ts";
 * const videos = listVideos("/data/extracted");
 * const ranges = readPhaseRanges("/data/extracted", videos[0]);
 * const frames = videoFrames("/data/extracted", "F+00", videos[0]);
 * ```
 * @module
 */
import { LumenError } from "../../run/errors.ts";
import { ioError } from "../../run/atomic.ts";

/** The 16 developmental phases, in order. */
export const PHASES: readonly string[] = [
  "tPB2",
  "tPNa",
  "tPNf",
  "t2",
  "t3",
  "t4",
  "t5",
  "t6",
  "t7",
  "t8",
  "t9+",
  "tM",
  "tSB",
  "tB",
  "tEB",
  "tHB",
];

/** The 7 focal planes (pretty name → folder suffix), from F-45 to F+45. */
export const PLANES: ReadonlyArray<{ name: string; suffix: string }> = [
  { name: "F-45", suffix: "_F-45" },
  { name: "F-30", suffix: "_F-30" },
  { name: "F-15", suffix: "_F-15" },
  { name: "F+00", suffix: "" },
  { name: "F+15", suffix: "_F15" },
  { name: "F+30", suffix: "_F30" },
  { name: "F+45", suffix: "_F45" },
];

/** An inclusive frame range of one phase. */
export interface PhaseRange {
  first: number;
  last: number;
}

/**
 * The folder of a focal plane's frames (`embryo_dataset`, `embryo_dataset_F-15`, …).
 *
 * @example
 * ```ts
 * planeDir("/data/extracted", "F-15"); // "/data/extracted/embryo_dataset_F-15"
 * ```
 */
export function planeDir(dataset: string, plane: string): string {
  const p = PLANES.find((x) => x.name === plane);
  if (!p) throw new LumenError(plane, "", `unknown focal plane (one of ${planeNames()})`);
  return `${dataset}/embryo_dataset${p.suffix}`;
}

function planeNames(): string {
  return PLANES.map((p) => p.name).join(", ");
}

/**
 * Throws unless `phase` is one of {@link PHASES}.
 *
 * @example
 * ```ts
 * checkPhase("t2", "--phases");
 * ```
 */
export function checkPhase(phase: string, where: string, place = ""): void {
  if (!PHASES.includes(phase)) {
    throw new LumenError(where, place, `unknown phase ${JSON.stringify(phase)}`);
  }
}

/**
 * The videos of an extracted tree: the folders of the F+00 plane, sorted by name.
 *
 * @example
 * ```ts
 * listVideos("/data/extracted"); // ["AA83-7", "AAL839-6", …]
 * ```
 */
export function listVideos(dataset: string): string[] {
  const dir = planeDir(dataset, "F+00");
  try {
    return [...Deno.readDirSync(dir)].filter((e) => e.isDirectory).map((e) => e.name)
      .sort(byCodeUnit);
  } catch (e) {
    throw ioError(dir, e, "cannot read the F+00 plane folder");
  }
}

/**
 * Sorts strings by UTF-16 code units (Python's order for ASCII names).
 *
 * @example
 * ```ts
 * ["b", "a"].sort(byCodeUnit); // ["a", "b"]
 * ```
 */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Path of a video's `_phases.csv`.
 *
 * @example
 * ```ts
 * phasesCsv("/data/extracted", "BM016-5");
 * ```
 */
export function phasesCsv(dataset: string, video: string): string {
  return `${dataset}/embryo_dataset_annotations/${video}_phases.csv`;
}

/**
 * Parses a `_phases.csv` text (rows `phase,first,last`, no header). A phase listed twice keeps
 * its first position and its last range, as a Python dict does.
 *
 * @example
 * ```ts
 * parsePhaseRanges("tPB2,1,10\ntPNa,11,20\n", "x.csv").get("tPNa"); // { first: 11, last: 20 }
 * ```
 */
export function parsePhaseRanges(text: string, file: string): Map<string, PhaseRange> {
  const out = new Map<string, PhaseRange>();
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    const cells = line.split(",").map((c) => c.trim());
    const place = `line ${i + 1}`;
    if (cells.length !== 3) throw new LumenError(file, place, "expected phase,first,last");
    checkPhase(cells[0], file, place);
    const first = Number(cells[1]), last = Number(cells[2]);
    if (!Number.isInteger(first) || !Number.isInteger(last)) {
      throw new LumenError(file, place, "first and last must be integers");
    }
    out.set(cells[0], { first, last });
  });
  if (out.size === 0) throw new LumenError(file, "", "no phase rows");
  return out;
}

/**
 * Reads a video's phase ranges from `embryo_dataset_annotations/<video>_phases.csv`.
 *
 * @example
 * ```ts
 * readPhaseRanges("/data/extracted", "BM016-5").get("t2");
 * ```
 */
export function readPhaseRanges(dataset: string, video: string): Map<string, PhaseRange> {
  const file = phasesCsv(dataset, video);
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch (e) {
    throw ioError(file, e, "cannot read the video's phase annotations");
  }
  return parsePhaseRanges(text, file);
}

/** One frame file of a video. */
export interface Frame {
  /** The number after `RUN`. */
  frame: number;
  /** The file's path. */
  path: string;
}

/**
 * Parses the frame number of `…RUN<n>.jpeg` (the `RUN` within the stem's last 8 characters).
 *
 * @example
 * ```ts
 * frameNumber("D2013.02.19_S0675_I141_1_RUN146.jpeg"); // 146
 * ```
 */
export function frameNumber(name: string): number | null {
  const dot = name.lastIndexOf(".");
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const at = stem.indexOf("RUN", Math.max(0, stem.length - 8));
  if (at < 0) return null;
  const digits = stem.slice(at + 3);
  return /^\d+$/.test(digits) ? Number(digits) : null;
}

/**
 * The frames of one video in one focal plane, sorted by frame number (a `F0` entry is skipped).
 *
 * @example
 * ```ts
 * videoFrames("/data/extracted", "F+00", "BM016-5")[0]; // { frame: 1, path: "…RUN1.jpeg" }
 * ```
 */
export function videoFrames(dataset: string, plane: string, video: string): Frame[] {
  const dir = `${planeDir(dataset, plane)}/${video}`;
  const out: Frame[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch (e) {
    throw ioError(dir, e, "cannot read the video's frame folder");
  }
  for (const e of entries) {
    if (e.name === "F0") continue;
    const n = frameNumber(e.name);
    if (n === null || !e.isFile) {
      throw new LumenError(dir, e.name, "not a frame file named …RUN<n>.jpeg");
    }
    out.push({ frame: n, path: `${dir}/${e.name}` });
  }
  return out.sort((a, b) => a.frame - b.frame);
}

/**
 * The phase of `frame` (the first range in file order holding it), or null.
 *
 * @example
 * ```ts
 * annotate(new Map([["t2", { first: 1, last: 5 }]]), 3); // "t2"
 * ```
 */
export function annotate(ranges: Map<string, PhaseRange>, frame: number): string | null {
  for (const [phase, r] of ranges) if (r.first <= frame && frame <= r.last) return phase;
  return null;
}

/**
 * The error convention of every Lumen tool: one line naming the file, the place in it and what is
 * wrong, and a non-zero exit.
 *
 * @example
 * ```ts
 * import { LumenError } from "./errors.ts";
 * throw new LumenError("scan.nxs", "/entry1/tomo_entry/data/data", "dataset not found");
 * // message: "scan.nxs: /entry1/tomo_entry/data/data: dataset not found"
 * ```
 * @module
 */

/** An error about user input: a file (or flag), a place in it, and the problem, on one line. */
export class LumenError extends Error {
  /** The file, flag or object the problem is in. */
  readonly file: string;
  /** The place inside it (dataset path, byte offset, line, member name…); may be empty. */
  readonly place: string;
  /** What is wrong. */
  readonly problem: string;

  /**
   * @param file the file, flag or object the problem is in
   * @param place the place inside it (may be "")
   * @param problem what is wrong, one line
   */
  constructor(file: string, place: string, problem: string) {
    const where = place ? `${file}: ${place}` : file;
    super(`${where}: ${problem}`.replace(/\s*\n\s*/g, " "));
    this.name = "LumenError";
    this.file = file;
    this.place = place;
    this.problem = problem;
  }
}

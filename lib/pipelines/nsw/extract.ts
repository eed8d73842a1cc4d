/**
 * NSW dataset extraction: the ten archives of the public embryo time-lapse dataset, checked
 * before anything is written, extracted safely (lib/io/tar) and atomically into DEST.
 *
 * @example
 * ```ts
 * import { extractDataset } from "./extract.ts";
 * const r = await extractDataset("/data/archives", "/data/extracted");
 * console.log(r.entries.length, r.files);
 * ```
 * @module
 */
import { LumenError } from "../../run/errors.ts";
import { buildDirAtomic, ioError, pathExists } from "../../run/atomic.ts";
import { extractTar, listTar, type TarExtractResult } from "../../io/tar.ts";

/** The exact entries an ARCHIVES folder must hold. */
export const EXPECTED_ENTRIES: readonly string[] = [
  "embryo_dataset.tar.gz",
  "embryo_dataset_F-15.tar.gz",
  "embryo_dataset_F15.tar.gz",
  "embryo_dataset_F-30.tar.gz",
  "embryo_dataset_F30.tar.gz",
  "embryo_dataset_F-45.tar.gz",
  "embryo_dataset_F45.tar.gz",
  "embryo_dataset_annotations.tar.gz",
  "embryo_dataset_time_elapsed.tar.gz",
  "embryo_dataset_grades.csv",
];

/** What {@link extractDataset} did. */
export interface ExtractDatasetResult {
  /** The entries handled, in {@link EXPECTED_ENTRIES} order. */
  entries: string[];
  /** Regular files written. */
  files: number;
  /** Bytes written. */
  bytes: number;
}

/**
 * Checks that `archives` holds exactly {@link EXPECTED_ENTRIES} (throws naming the missing or
 * extra ones before anything is extracted).
 *
 * @example
 * ```ts
 * checkArchiveEntries("/data/archives");
 * ```
 */
export function checkArchiveEntries(archives: string): void {
  let names: string[];
  try {
    names = [...Deno.readDirSync(archives)].map((e) => e.name);
  } catch (e) {
    throw ioError(archives, e, "cannot read directory");
  }
  const missing = EXPECTED_ENTRIES.filter((n) => !names.includes(n));
  const extra = names.filter((n) => !EXPECTED_ENTRIES.includes(n)).sort();
  const parts: string[] = [];
  if (missing.length) parts.push(`missing ${missing.join(", ")}`);
  if (extra.length) parts.push(`unexpected ${extra.join(", ")}`);
  if (parts.length) {
    throw new LumenError(
      archives,
      "",
      `expected exactly the ten dataset entries: ${parts.join("; ")}`,
    );
  }
}

function isEmptyDir(path: string): boolean {
  const st = Deno.statSync(path);
  if (!st.isDirectory) return false;
  for (const _ of Deno.readDirSync(path)) return false;
  return true;
}

/**
 * Extracts the dataset archives into `dest` (absent or an empty folder). Every archive is listed
 * and checked first; the tree is built beside `dest` and renamed into place, so a failure leaves
 * `dest` as it was. Archives are extracted concurrently.
 *
 * @example
 * ```ts
 * await extractDataset("/data/archives", "/data/extracted");
 * ```
 */
export async function extractDataset(
  archives: string,
  dest: string,
): Promise<ExtractDatasetResult> {
  checkArchiveEntries(archives);
  const tars = EXPECTED_ENTRIES.filter((n) => n.endsWith(".tar.gz"));
  // Check every archive (gzip CRC, headers) before writing.
  await Promise.all(tars.map((n) => listTar(`${archives}/${n}`)));
  const hadEmpty = pathExists(dest);
  if (hadEmpty && !isEmptyDir(dest)) {
    throw new LumenError(dest, "", "destination exists and is not an empty directory");
  }
  let files = 0, bytes = 0;
  if (hadEmpty) Deno.removeSync(dest);
  try {
    await buildDirAtomic(dest, async (tmp) => {
      // wait for every extraction before failing, so that none writes after the cleanup
      const settled = await Promise.allSettled(
        tars.map((n, i) => extractTar(`${archives}/${n}`, `${tmp}/.part${i}`)),
      );
      const failed = settled.find((s) => s.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
      const results = settled.map((s) => (s as PromiseFulfilledResult<TarExtractResult>).value);
      for (let i = 0; i < tars.length; i++) {
        files += results[i].files;
        bytes += results[i].bytes;
        const part = `${tmp}/.part${i}`;
        for (const e of Deno.readDirSync(part)) {
          const to = `${tmp}/${e.name}`;
          if (pathExists(to)) {
            throw new LumenError(`${archives}/${tars[i]}`, e.name, "collides with another archive");
          }
          Deno.renameSync(`${part}/${e.name}`, to);
        }
        Deno.removeSync(part);
      }
      Deno.copyFileSync(
        `${archives}/embryo_dataset_grades.csv`,
        `${tmp}/embryo_dataset_grades.csv`,
      );
      files++;
      bytes += Deno.statSync(`${tmp}/embryo_dataset_grades.csv`).size;
    });
  } catch (e) {
    if (hadEmpty && !pathExists(dest)) Deno.mkdirSync(dest);
    throw e;
  }
  return { entries: [...EXPECTED_ENTRIES], files, bytes };
}

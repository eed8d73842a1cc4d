/**
 * Helpers shared by the run-anywhere tests (url_test, bundle_test, slurm_test): a folder's files
 * by content hash, and the arguments of the small data_generator run they all compare.
 *
 * @module
 */
import { createHash } from "node:crypto";

/**
 * Every file under `dir` (relative path → SHA-256), sorted, provenance sidecars
 * (`*.prov.json`, which hold a timestamp) left out; folders as `path/` → "".
 *
 * @example
 * ```ts
 * const a = await treeHashes("/tmp/a"); // [["0000/", ""], ["0000/fake_artifacts/", ""], …]
 * ```
 */
export async function treeHashes(dir: string, rel = ""): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const e of Deno.readDir(rel ? `${dir}/${rel}` : dir)) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory) {
      out.push([`${r}/`, ""], ...await treeHashes(dir, r));
    } else if (!r.endsWith(".prov.json")) {
      const h = createHash("sha256").update(await Deno.readFile(`${dir}/${r}`)).digest("hex");
      out.push([r, h]);
    }
  }
  return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * A provenance sidecar without the fields that differ between equal runs of code in different
 * places: `created` (time), and with `dropCommit` the `commit` and the `uuid` derived from it.
 *
 * @example
 * ```ts
 * const rec = await provenanceCore("out/0000.prov.json"); // no "created"
 * ```
 */
export async function provenanceCore(
  path: string,
  dropCommit = false,
): Promise<Record<string, unknown>> {
  const rec = JSON.parse(await Deno.readTextFile(path));
  delete rec.created;
  if (dropCommit) {
    delete rec.commit;
    delete rec.uuid;
  }
  return rec;
}

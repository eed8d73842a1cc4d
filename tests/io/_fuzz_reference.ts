/**
 * The fuzz suite's reference check: files that Lumen reported on are opened by the Python
 * library of their format (tests/fixtures/fuzz_reference.py: h5py, tifffile, numpy, nibabel,
 * tarfile, PIL, csv, json, PyYAML, pymatgen), one Python process per batch, and the two
 * findings are compared. A file Lumen reports as fine that the reference rejects for corruption
 * is a "finding"; where both open it, differing shapes, dtypes or counts are a "mismatch".
 *
 * @example
 * ```ts
 * import { referenceCheck } from "./_fuzz_reference.ts";
 * const [v] = await referenceCheck([{ path: "a.npy", summary: { format: "npy", arrays: [["a.npy", [3], "float32"]], damaged: [] } }]);
 * v.verdict; // "match"
 * ```
 * @module
 */

const SCRIPT = new URL("../fixtures/fuzz_reference.py", import.meta.url).pathname;
const PYTHON = "/usr/bin/python3";

/** A file Lumen reported on, with what it found (the child's summary). */
export interface RefRequest {
  /** The file. */
  path: string;
  /** The child's summary of Lumen's report (tests/io/_describe_child.ts). */
  summary: Record<string, unknown>;
}

/** The comparison of one file. */
export interface RefVerdict {
  /**
   * match: both open it and agree; mismatch: both open it and disagree; finding: Lumen reports
   * it as fine, the reference rejects it for corruption; agree-damaged: Lumen flagged part of it
   * as unreadable and the reference rejects it; lumen-stricter: Lumen flagged a part the
   * reference reads; unsupported / limit: the reference lacks a codec or hit its own limit;
   * (an HDF5 file whose h5py `visititems` fails counts as rejected, though walking its links
   * reads everything: the damage is in metadata only the visit reads); yaml-1.2: PyYAML's YAML 1.1
   * scanner refuses flow syntax that YAML 1.2 allows, and the same document spelled so that both
   * grammars agree (tests/fixtures/fuzz_yaml12.py names the rule) reads as Lumen reads it;
   * cif-1.1: pymatgen refuses a CIF whose reserved words or data names (`daTa_`, `_cell_aNgle_a`) are not in lower case, which
   * CIF 1.1 allows, and reads the same file with them in lower case as Lumen reads it.
   */
  verdict:
    | "match"
    | "yaml-1.2"
    | "cif-1.1"
    | "mismatch"
    | "finding"
    | "agree-damaged"
    | "lumen-stricter"
    | "unsupported"
    | "limit";
  /** What differs, or the reference's error. */
  detail?: string;
}

type Ref = Record<string, unknown> & { ok: boolean; kind?: string; error?: string };

/** True where the reference can be run: the interpreter exists and may be started. */
export async function referenceAvailable(): Promise<boolean> {
  const p = await Deno.permissions.query({ name: "run", command: PYTHON });
  if (p.state !== "granted") return false;
  try {
    return Deno.statSync(PYTHON).isFile && Deno.statSync(SCRIPT).isFile;
  } catch {
    return false;
  }
}

/** Runs the reference script over the requests; a crash of the interpreter costs one file. */
async function runReference(reqs: { path: string; format: string }[]): Promise<Ref[]> {
  const out: Ref[] = [];
  while (out.length < reqs.length) {
    const rest = reqs.slice(out.length);
    const proc = new Deno.Command(PYTHON, {
      args: [SCRIPT],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
      env: { OMP_NUM_THREADS: "1" },
    }).spawn();
    const w = proc.stdin.getWriter();
    const body = rest.map((r) => JSON.stringify(r)).join("\n") + "\n";
    const writing = w.write(new TextEncoder().encode(body)).then(() => w.close()).catch(() => {});
    const text = new TextDecoder().decode((await proc.output()).stdout);
    await writing;
    const got = text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as Ref);
    out.push(...got);
    if (out.length < reqs.length) {
      const st = await proc.status;
      out.push({
        ok: false,
        kind: "limit",
        error: `reference process died (${st.signal ?? st.code})`,
      });
    }
  }
  return out;
}

const eq = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const sortKey = (x: unknown[]) => x.map((v) => JSON.stringify(v)).sort();

/** JSON/YAML content as Lumen describes it, in the reference's terms. */
function contentShape(c: unknown): unknown {
  if (c && typeof c === "object") {
    const o = c as { type: string; keys?: Record<string, unknown>; length?: number };
    if (o.type === "object") return { type: "object", keys: Object.keys(o.keys ?? {}).length };
    if (o.type === "array") return { type: "array", length: o.length };
  }
  return { type: c };
}

const PY_TYPES: Record<string, string> = {
  int: "number",
  float: "number",
  str: "string",
  bool: "boolean",
  NoneType: "null",
};

/** What differs between Lumen's summary and the reference's answer (both opened the file). */
function differences(s: Record<string, unknown>, ref: Ref): string | undefined {
  const format = s.format as string;
  const arrays = s.arrays as unknown[][];
  switch (format) {
    case "hdf5":
    case "npy":
    case "npz":
    case "nifti": {
      const a = sortKey(arrays), b = sortKey(ref.arrays as unknown[]);
      return eq(a, b) ? undefined : `arrays ${a.join(" ")} vs ${b.join(" ")}`;
    }
    case "tiff":
      return eq(s.pages, ref.pages)
        ? undefined
        : `pages ${JSON.stringify(s.pages)} vs ${JSON.stringify(ref.pages)}`;
    case "tar":
      return eq(s.members, ref.members)
        ? undefined
        : `members ${JSON.stringify(s.members)} vs ${JSON.stringify(ref.members)}`;
    case "png":
    case "jpeg": {
      const [h, w, mode] = ref.image as [number, number, string];
      const shape = arrays[0]?.[1] as number[] | undefined;
      const ch = ({ L: 1, LA: 2, RGB: 3, RGBA: 4 } as Record<string, number>)[mode];
      const ours = shape ? [shape[0], shape[1], shape[2] ?? 1] : [];
      const theirs = [h, w, ch ?? ours[2]];
      return eq(ours, theirs) ? undefined : `image ${ours} vs ${theirs} (${mode})`;
    }
    case "csv": {
      const rows = (s.rows as number) + (s.header ? 1 : 0);
      const widths = ref.widths as number[];
      const ours = (s.ragged as { widths: number[] } | undefined)?.widths ?? [s.columns];
      const ok = rows === ref.records && (widths.length === 0 || eq(widths, ours));
      return ok
        ? undefined
        : `rows ${rows} columns ${s.columns} vs records ${ref.records} widths ${widths}`;
    }
    case "jsonl":
      return s.records === ref.records ? undefined : `records ${s.records} vs ${ref.records}`;
    case "json":
    case "yaml": {
      const ours = contentShape(s.content);
      const r = ref.content as { type: string };
      const theirs = { ...r, type: PY_TYPES[r.type] ?? (r.type === "dict" ? "object" : r.type) };
      return eq(ours, theirs)
        ? undefined
        : `content ${JSON.stringify(ours)} vs ${JSON.stringify(theirs)}`;
    }
    case "cif": {
      const a = s.cell as number[], b = ref.cell as number[];
      const close = a.every((x, i) => Math.abs(x - b[i]) <= 1e-6 * Math.max(1, Math.abs(x)));
      return close && s.sites === ref.sites
        ? undefined
        : `cell ${a} sites ${s.sites} vs cell ${b} sites ${ref.sites}`;
    }
  }
  return undefined;
}

/**
 * Checks Lumen's reports against the Python reference readers, one Python process for the
 * batch; returns one verdict per request, in order.
 *
 * @example
 * ```ts
 * const verdicts = await referenceCheck(reports);
 * verdicts.filter((v) => v.verdict === "finding"); // corrupt files Lumen called fine
 * ```
 */
export async function referenceCheck(reqs: readonly RefRequest[]): Promise<RefVerdict[]> {
  if (!reqs.length) return [];
  const refs = await runReference(
    reqs.map((r) => ({ path: r.path, format: r.summary.format as string })),
  );
  return reqs.map((r, i): RefVerdict => {
    const ref = refs[i];
    const damaged = (r.summary.damaged as string[] | undefined) ?? [];
    const visit = ref.ok && ref.visitError ? `h5py visititems: ${ref.visitError}` : null;
    if (!ref.ok || visit) {
      if (!visit && ref.kind === "unsupported") {
        return { verdict: "unsupported", detail: ref.error };
      }
      if (!visit && ref.kind !== "corrupt") return { verdict: "limit", detail: ref.error };
      const detail = visit ?? ref.error;
      return damaged.length ? { verdict: "agree-damaged", detail } : { verdict: "finding", detail };
    }
    if (damaged.length) return { verdict: "lumen-stricter", detail: damaged.join("; ") };
    const diff = differences(r.summary, ref);
    if (diff) return { verdict: "mismatch", detail: diff };
    if (Array.isArray(ref.yaml12)) {
      return { verdict: "yaml-1.2", detail: (ref.yaml12 as string[]).join(", ") };
    }
    if (Array.isArray(ref.cif11)) {
      return { verdict: "cif-1.1", detail: (ref.cif11 as string[]).join(", ") };
    }
    return { verdict: "match" };
  });
}

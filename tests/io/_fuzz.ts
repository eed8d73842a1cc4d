/**
 * A seeded mutation fuzzer over every reader: seed files of each format (made here with the
 * repo's writers, plus the reference fixtures of tests/fixtures/out/ where present) are mutated
 * (truncation, zero length, header and body byte flips, planted huge integers, garbage after the
 * magic, spliced and inserted bytes) and crafted hostile files are added (decompression bombs,
 * huge declared sizes); each goes through describe() in a child process with `--allow-read`
 * alone, a time limit and a memory limit (tests/io/_describe_pool.ts). The outcome of each file
 * is a report, a one-line error, or a failure: a raw exception, a crash, a hang, or memory over
 * the limit. The same seed gives the same files.
 *
 *   deno run --allow-read --allow-write=/tmp,tests/fixtures/out --allow-run=deno,/usr/bin/python3 \
 *     tests/io/_fuzz.ts [FORMAT…] [--count N] [--seed S] [--jobs J] [--timeout S] [--no-reference]
 *
 * prints one JSON line per format (tried, reports, errors, raw, crashes, hangs, memory, peak RSS,
 * slowest, and the reference check's counts) and saves each failing input under
 * tests/fixtures/out/fuzz_failures/. Each report is checked against the Python reference reader
 * of its format (tests/io/_fuzz_reference.ts, one Python process per batch of 500): a file
 * reported as fine that the reference rejects for corruption, or whose shapes, dtypes or counts
 * differ, is a failure. CIF files go through the diffsims CIF parser and pymatgen.
 *
 * @example
 * ```ts
 * import { runFuzz } from "./_fuzz.ts";
 * const r = await runFuzz({ formats: ["npy"], count: 50 }); // r.npy.raw === 0
 * ```
 * @module
 */
import { jpegJs } from "../../lib/deps.ts";
import { H5File } from "../../lib/io/hdf5.ts";
import { encodeNifti } from "../../lib/io/nifti.ts";
import { encodeNpy } from "../../lib/io/npy.ts";
import { encodeNpz } from "../../lib/io/npz.ts";
import { encodePng } from "../../lib/io/png.ts";
import { encodeTiff } from "../../lib/io/tiff.ts";
import { concat, crc32, gunzipChecked, gzip } from "../../lib/io/zip.ts";
import {
  hugeJpeg,
  niftiGzOfZeros,
  npyOf,
  npzBomb,
  sparseTarGz,
  tarHeader,
} from "../fixtures/hostile/make_hostile.ts";
import { DEMO_CIFS } from "../../lib/pipelines/diffsims/demo_cifs.ts";
import { DescribeChild, type Outcome } from "./_describe_pool.ts";
import { referenceAvailable, referenceCheck, type RefVerdict } from "./_fuzz_reference.ts";

/** The formats fuzzed, by the name `--format` takes. */
export const FUZZ_FORMATS = [
  "hdf5",
  "nexus",
  "tiff",
  "npy",
  "npz",
  "nifti",
  "niftigz",
  "tar",
  "targz",
  "png",
  "jpeg",
  "csv",
  "json",
  "yaml",
  "cif",
] as const;

/** One of {@link FUZZ_FORMATS}. */
export type FuzzFormat = typeof FUZZ_FORMATS[number];

/** The figures of one format. */
export interface FuzzFigures {
  /** Files tried. */
  tried: number;
  /** Described without error. */
  reports: number;
  /** One-line LumenErrors. */
  errors: number;
  /** Other exceptions. */
  raw: number;
  /** Child processes that died. */
  crashes: number;
  /** Files over the time limit. */
  hangs: number;
  /** Files over the memory limit. */
  memory: number;
  /** Peak resident memory of the child, MiB. */
  peakMiB: number;
  /** The slowest file, ms. */
  slowestMs: number;
  /** Reports checked against the Python reference reader (tests/io/_fuzz_reference.ts). */
  refChecked: number;
  /** Both read it and agree on shapes, dtypes and counts. */
  refMatch: number;
  /** Both read it and disagree. */
  refMismatch: number;
  /** Reported as fine by Lumen, rejected for corruption by the reference. */
  refFindings: number;
  /** Lumen flagged a part unreadable and the reference rejects the file. */
  refAgreeDamaged: number;
  /** Lumen flagged a part unreadable that the reference reads. */
  refLumenStricter: number;
  /** The reference lacks a codec, or hit its own time or size limit. */
  refUnsupported: number;
  /** YAML: PyYAML's YAML 1.1 scanner refuses flow syntax of YAML 1.2 (tests/fixtures/fuzz_yaml12.py). */
  refYaml12: number;
  /** CIF: pymatgen matches reserved words and data names case-sensitively; CIF 1.1 does not. */
  refCif11: number;
  /** The failures: mutation name and what happened (reference findings and mismatches too). */
  failures: string[];
  /** Reports counted as grammar-version differences (yaml-1.2), with the rule each needed. */
  classified: string[];
}

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  /** Formats to fuzz (default all). */
  formats?: readonly FuzzFormat[];
  /** Mutated files per format (default 100). */
  count?: number;
  /** Seed of the mutations (default 1). */
  seed?: number;
  /** Child processes run side by side (default 4). */
  jobs?: number;
  /** Time limit per file, ms (default 10 000). */
  timeoutMs?: number;
  /** Memory limit per file: the child's resident bytes (default 1 GiB). */
  memoryLimit?: number;
  /** The readers' budget in the child (`--max-memory`; default 512 MiB). */
  budget?: number;
  /** Where failing inputs are saved (default tests/fixtures/out/fuzz_failures; "" = nowhere). */
  keepFailures?: string;
  /**
   * Check reports against the Python reference readers: every report (true, the default where
   * /usr/bin/python3 may be run), none (false), or every k-th report (a number k).
   */
  reference?: boolean | number;
  /** Reports per reference batch, one Python process each (default 500). */
  referenceBatch?: number;
  /** Called after each file with the number done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** mulberry32: a small seeded generator, uniform in [0, 1). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const enc = new TextEncoder();
const MiB = 2 ** 20;

function tarOf(files: [string, string][]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [name, text] of files) {
    const b = enc.encode(text);
    parts.push(tarHeader(name, b.length), b, new Uint8Array((512 - (b.length % 512)) % 512));
  }
  parts.push(new Uint8Array(1024));
  return concat(parts);
}

/** A CIF in the style of the COD and ICSD: uncertainties, comments, a text field, Biso. */
const QUARTZ_CIF = `# alpha quartz
data_quartz
_chemical_name_mineral 'Quartz'
_publ_section_title
;
 A text field; it spans lines
;
_cell_length_a 4.9134(2)
_cell_length_b 4.9134(2)
_cell_length_c 5.4052(3)
_cell_angle_alpha 90.
_cell_angle_beta 90.
_cell_angle_gamma 120.
_space_group_name_H-M_alt 'P 32 2 1'
loop_
_space_group_symop_id
_space_group_symop_operation_xyz
1 'x, y, z'
2 '-y, x-y, z+2/3'
3 '-x+y, -x, z+1/3'
4 'y, x, -z'
5 '-x, -x+y, -z+2/3'
6 'x-y, -y, -z+1/3'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_B_iso_or_equiv
Si1 Si4+ 0.4697(1) 0 0 0.52
O1 O2- 0.4135(3) 0.2669(3) 0.1191(2) 1.02
`;

/** Seed files of each format: [file name, bytes]. */
export async function seedFiles(dir: string): Promise<Record<FuzzFormat, [string, Uint8Array][]>> {
  const ramp = (n: number) => new Float32Array(n).map((_, i) => Math.sin(i / 7) * 100);
  const u16 = new Uint16Array(32 * 24).map((_, i) => (i * 37) & 0xffff);
  const h5 = async (name: string, nexus: boolean) => {
    const f = await H5File.open(`${dir}/${name}`, "w");
    if (nexus) {
      f.createGroup("/entry1/tomo_entry/data");
      f.setAttr("/entry1", "NX_class", "NXentry");
      f.write("/entry1/tomo_entry/data/data", {
        dtype: "uint16",
        shape: [4, 8, 16],
        data: new Uint16Array(512).map((_, i) => i),
      }, { compression: 4 });
      f.write("/entry1/tomo_entry/data/rotation_angle", {
        dtype: "float64",
        shape: [4],
        data: new Float64Array([0, 45, 90, 135]),
      });
      f.softLink("/entry1/link", "/entry1/tomo_entry/data/data");
    } else {
      f.createGroup("/g/h");
      f.write("/g/x", { dtype: "float32", shape: [16, 16], data: ramp(256) }, {
        chunks: [8, 8],
        compression: 4,
        attrs: { units: "mm", scale: 0.5 },
      });
      f.write("/y", { dtype: "int32", shape: [10], data: new Int32Array(10).map((_, i) => -i) });
      f.write("/g/h/s", { dtype: "float64", shape: [], data: new Float64Array([3.5]) });
    }
    f.close();
    return Deno.readFileSync(`${dir}/${name}`);
  };
  const rgba = new Uint8Array(20 * 12 * 4).map((_, i) => (i * 29) & 255);
  const jpg = (w: number, h: number) =>
    new Uint8Array(
      jpegJs.encode({ data: rgba.subarray(0, w * h * 4), width: w, height: h }, 85).data,
    );
  const img = { dtype: "float32" as const, shape: [6, 7, 8], data: ramp(336) };
  const seeds: Record<FuzzFormat, [string, Uint8Array][]> = {
    hdf5: [["plain.h5", await h5("plain.h5", false)]],
    nexus: [["scan.nxs", await h5("scan.nxs", true)]],
    tiff: [
      [
        "stack.tif",
        encodeTiff([0, 1, 2].map(() => ({ dtype: "uint16", shape: [24, 32], data: u16 }))),
      ],
      [
        "deflate.tif",
        encodeTiff({ dtype: "float32", shape: [16, 16], data: ramp(256) }, {
          compression: "deflate",
        }),
      ],
    ],
    npy: [
      ["a.npy", encodeNpy({ dtype: "float32", shape: [16, 16], data: ramp(256) })],
      [
        "f.npy",
        encodeNpy({ dtype: "int16", shape: [4, 5, 6], data: new Int16Array(120) }, {
          fortranOrder: true,
        }),
      ],
    ],
    npz: [
      [
        "stored.npz",
        encodeNpz({
          x: { dtype: "float32", shape: [64], data: ramp(64) },
          y: { dtype: "uint8", shape: [3, 4], data: new Uint8Array(12) },
        }),
      ],
      [
        "deflated.npz",
        encodeNpz({ x: { dtype: "float64", shape: [8, 8], data: new Float64Array(64).fill(2) } }, {
          compress: true,
        }),
      ],
    ],
    nifti: [["vol.nii", encodeNifti(img)]],
    niftigz: [["vol.nii.gz", gzip(encodeNifti(img))]],
    tar: [["a.tar", tarOf([["a.txt", "hello\n"], ["d/b.csv", "x,y\n1,2\n"]])]],
    targz: [[
      "a.tar.gz",
      gzip(tarOf([["a.txt", "hello\n".repeat(100)], ["b.bin", "\0".repeat(3000)]])),
    ]],
    png: [
      ["rgb.png", encodePng({ dtype: "uint8", shape: [12, 20, 3], data: rgba.subarray(0, 720) })],
      ["g16.png", encodePng({ dtype: "uint16", shape: [24, 32], data: u16 })],
    ],
    jpeg: [["rgb.jpg", jpg(20, 12)], ["sq.jpg", jpg(16, 8)]],
    csv: [["t.csv", enc.encode('id,name,value\n1,a,0.5\n2,b,1e3\n3,"c, d",-2\n')]],
    json: [
      ["m.json", enc.encode('{"a": [1, 2, {"b": null}], "c": "x", "d": 1.5e300}\n')],
      ["l.jsonl", enc.encode('{"epoch": 1, "loss": 0.5}\n{"epoch": 2, "loss": 0.25}\n')],
    ],
    yaml: [[
      "c.yaml",
      enc.encode("epochs: 10\nlr: 1.0e-3\nlayers: [64, 128]\nopt: &o {name: adam}\nalso: *o\n"),
    ]],
    cif: [
      ...Object.entries(DEMO_CIFS).map((
        [k, t],
      ): [string, Uint8Array] => [`${k}.cif`, enc.encode(t)]),
      ["quartz.cif", enc.encode(QUARTZ_CIF)],
    ],
  };
  // the reference files written by the Python fixture scripts, where present
  const out = new URL("../fixtures/out/inspect_files/", import.meta.url).pathname;
  const ext: Record<string, FuzzFormat> = {
    ".h5": "hdf5",
    ".nxs": "nexus",
    ".tif": "tiff",
    ".npy": "npy",
    ".npz": "npz",
    ".nii": "nifti",
    ".nii.gz": "niftigz",
    ".tar": "tar",
    ".tar.gz": "targz",
    ".png": "png",
    ".jpg": "jpeg",
    ".csv": "csv",
    ".json": "json",
    ".yaml": "yaml",
  };
  try {
    for (const e of Deno.readDirSync(out)) {
      if (!e.isFile) continue;
      const k = Object.keys(ext).sort((a, b) => b.length - a.length).find((x) =>
        e.name.endsWith(x)
      );
      const st = Deno.statSync(out + e.name);
      if (k && st.size < 4 * MiB) seeds[ext[k]].push([e.name, Deno.readFileSync(out + e.name)]);
    }
  } catch { /* no reference fixtures: the seeds above */ }
  return seeds;
}

/** Crafted hostile files of each format (bombs, huge declared sizes), beyond random mutation. */
function craftedFiles(): Partial<Record<FuzzFormat, [string, Uint8Array][]>> {
  const npyHuge = npyOf([100000, 100000], 64);
  return {
    npy: [["huge.npy", npyHuge], [
      "hdr.npy",
      (() => {
        const b = npyOf([4], 32);
        b[6] = 2; // version 2: a 32-bit header length
        new DataView(b.buffer).setUint32(8, 0xfffffff0, true);
        return b;
      })(),
    ]],
    npz: [["bomb.npz", npzBomb(64 * 2 ** 17)]],
    niftigz: [["huge.nii.gz", niftiGzOfZeros([1024, 1024, 64])], [
      "bomb.nii.gz",
      niftiGzOfZeros([4, 4, 4], 600 * MiB),
    ]],
    targz: [["big.tar.gz", sparseTarGz(512 * MiB)]],
    jpeg: [["huge.jpg", hugeJpeg(65000, 65000)]],
  };
}

type Mutation = (b: Uint8Array, r: () => number) => Uint8Array;

const int = (r: () => number, n: number) => Math.floor(r() * n);

const MUTATIONS: [string, Mutation][] = [
  ["truncate", (b, r) => b.slice(0, int(r, b.length))],
  ["zero-length", () => new Uint8Array(0)],
  ["header-flip", (b, r) => {
    const o = b.slice();
    for (let k = 1 + int(r, 4); k > 0; k--) o[int(r, Math.min(o.length, 512))] ^= 1 << int(r, 8);
    return o;
  }],
  ["body-flip", (b, r) => {
    const o = b.slice();
    for (let k = 1 + int(r, 8); k > 0; k--) o[int(r, o.length)] = int(r, 256);
    return o;
  }],
  ["huge-int", (b, r) => {
    const o = b.slice();
    if (o.length < 8) return o;
    const dv = new DataView(o.buffer);
    const vals = [0xffffffff, 0x7fffffff, 0x80000000, 0x10000, int(r, 2 ** 32)];
    const at = int(r, Math.min(o.length, 1024) - 7) & ~1;
    const v = vals[int(r, vals.length)];
    if (r() < 0.3) dv.setBigUint64(at, BigInt(v) << BigInt(int(r, 32)), r() < 0.5);
    else dv.setUint32(at, v, r() < 0.5);
    return o;
  }],
  ["garbage-after-magic", (b, r) => {
    const keep = Math.min(b.length, 4 + int(r, 16));
    const o = new Uint8Array(keep + int(r, 4096));
    o.set(b.subarray(0, keep));
    for (let i = keep; i < o.length; i++) o[i] = int(r, 256);
    return o;
  }],
  ["splice", (b, r) => {
    if (b.length < 2) return b.slice();
    const from = int(r, b.length), len = 1 + int(r, Math.min(256, b.length - from));
    const to = int(r, b.length);
    const o = b.slice();
    o.set(b.subarray(from, from + len).subarray(0, o.length - to), to);
    return o;
  }],
  ["insert", (b, r) => {
    const at = int(r, b.length + 1);
    const ins = new Uint8Array(1 + int(r, 64)).map(() => int(r, 256));
    return concat([b.subarray(0, at), ins, b.subarray(at)]);
  }],
];

/** Recomputes every PNG chunk's CRC-32, so a mutation reaches the decoder past the CRC check. */
function fixPngCrcs(b: Uint8Array): Uint8Array {
  const o = b.slice();
  const dv = new DataView(o.buffer);
  for (let p = 8; p + 12 <= o.length;) {
    const len = dv.getUint32(p);
    if (p + 12 + len > o.length) break;
    dv.setUint32(p + 8 + len, crc32(o.subarray(p + 4, p + 8 + len)));
    p += 12 + len;
  }
  return o;
}

/**
 * Format-aware mutations: inside the gzip layer (gunzip, mutate, gzip again) and under PNG's
 * CRCs, so that the mutated bytes reach the format's own parser.
 */
function innerMutation(format: FuzzFormat, b: Uint8Array, r: () => number): [string, Uint8Array] {
  const [name, m] = MUTATIONS[2 + int(r, MUTATIONS.length - 2)]; // not truncate/zero-length
  if (format === "png") return [`${name} (CRCs fixed)`, fixPngCrcs(m(b, r))];
  const inner = gunzipChecked(b, "seed");
  return [`${name} (inside gzip)`, gzip(m(inner, r))];
}

const INNER: ReadonlySet<FuzzFormat> = new Set(["png", "niftigz", "targz"]);

/**
 * Runs the fuzzer: per format, `count` mutated files (and the crafted ones), each described in
 * a child process under the time and memory limits; returns the figures per format.
 *
 * @example
 * ```ts
 * const figures = await runFuzz({ count: 20, formats: ["tiff", "png"] });
 * ```
 */
export async function runFuzz(opts: FuzzOptions = {}): Promise<Record<string, FuzzFigures>> {
  const formats = opts.formats ?? FUZZ_FORMATS;
  const count = opts.count ?? 100;
  const dir = Deno.makeTempDirSync({ prefix: "lumen_fuzz_" });
  const keep = opts.keepFailures ??
    new URL("../fixtures/out/fuzz_failures/", import.meta.url).pathname;
  const seeds = await seedFiles(dir);
  const crafted = craftedFiles();
  type Job = { format: FuzzFormat; name: string; path: string; bytes: Uint8Array };
  const jobs: Job[] = [];
  for (const format of formats) {
    const r = rng((opts.seed ?? 1) * 1000003 + FUZZ_FORMATS.indexOf(format));
    const list = seeds[format];
    if (!list.length) continue;
    for (const [name, bytes] of crafted[format] ?? []) {
      jobs.push({ format, name: `crafted ${name}`, path: `${dir}/${format}_${name}`, bytes });
    }
    for (let i = 0; i < count; i++) {
      const [seedName, seed] = list[i % list.length];
      let mname: string, bytes: Uint8Array;
      const wrapped = format === "png" ? seed[0] === 0x89 : seed[0] === 0x1f;
      if (INNER.has(format) && wrapped && r() < 0.6) {
        [mname, bytes] = innerMutation(format, seed, r);
      } else {
        const [n, m] = MUTATIONS[int(r, MUTATIONS.length)];
        [mname, bytes] = [n, m(seed, r)];
      }
      const path = `${dir}/${format}_${i}_${seedName}`;
      jobs.push({ format, name: `${seedName} #${i} ${mname}`, path, bytes });
    }
  }
  const figures: Record<string, FuzzFigures> = {};
  for (const f of formats) {
    figures[f] = {
      tried: 0,
      reports: 0,
      errors: 0,
      raw: 0,
      crashes: 0,
      hangs: 0,
      memory: 0,
      peakMiB: 0,
      slowestMs: 0,
      refChecked: 0,
      refMatch: 0,
      refMismatch: 0,
      refFindings: 0,
      refAgreeDamaged: 0,
      refLumenStricter: 0,
      refUnsupported: 0,
      refYaml12: 0,
      refCif11: 0,
      failures: [],
      classified: [],
    };
  }
  const save = (j: Job) => {
    if (!keep) return;
    Deno.mkdirSync(keep, { recursive: true });
    Deno.writeFileSync(`${keep}/${j.path.replace(/^.*\//, "")}`, j.bytes);
  };
  const tally = (j: Job, o: Outcome) => {
    const f = figures[j.format];
    f.tried++;
    f.peakMiB = Math.max(f.peakMiB, Math.round(o.rss / MiB));
    f.slowestMs = Math.max(f.slowestMs, Math.round(o.ms));
    const key = {
      report: "reports",
      error: "errors",
      raw: "raw",
      crash: "crashes",
      hang: "hangs",
      memory: "memory",
    }[o.kind] as
      | "reports"
      | "errors"
      | "raw"
      | "crashes"
      | "hangs"
      | "memory";
    f[key]++;
    if (o.kind === "error" && o.error!.includes("\n")) f.raw++;
    if (o.kind !== "report" && o.kind !== "error") {
      f.failures.push(`${j.name}: ${o.kind}: ${o.error?.split("\n").slice(0, 3).join(" | ")}`);
      save(j);
    }
  };
  const refOpt = opts.reference ?? true;
  const every = refOpt === false ? 0 : refOpt === true ? 1 : Math.max(1, Math.round(refOpt));
  const useRef = every > 0 && await referenceAvailable();
  const batchSize = opts.referenceBatch ?? 500;
  let pending: { job: Job; summary: Record<string, unknown> }[] = [];
  let reportsSeen = 0;
  const tallyRef = (j: Job, v: RefVerdict) => {
    const f = figures[j.format];
    f.refChecked++;
    const key = ({
      match: "refMatch",
      "yaml-1.2": "refYaml12",
      "cif-1.1": "refCif11",
      mismatch: "refMismatch",
      finding: "refFindings",
      "agree-damaged": "refAgreeDamaged",
      "lumen-stricter": "refLumenStricter",
      unsupported: "refUnsupported",
      limit: "refUnsupported",
    } as const)[v.verdict];
    f[key]++;
    if (v.verdict === "finding" || v.verdict === "mismatch") {
      f.failures.push(`${j.name}: reference ${v.verdict}: ${v.detail}`);
      save(j);
    } else if (v.verdict === "yaml-1.2" || v.verdict === "cif-1.1") {
      f.classified.push(`${j.name}: ${v.verdict}: ${v.detail}`);
    }
  };
  const flush = async () => {
    const batch = pending;
    pending = [];
    if (!batch.length) return;
    const verdicts = await referenceCheck(
      batch.map((b) => ({ path: b.job.path, summary: b.summary })),
    );
    batch.forEach((b, i) => {
      tallyRef(b.job, verdicts[i]);
      Deno.removeSync(b.job.path);
    });
  };
  let next = 0, done = 0;
  const worker = async () => {
    const child = new DescribeChild({
      timeoutMs: opts.timeoutMs ?? 10_000,
      memoryLimit: opts.memoryLimit ?? 2 ** 30,
      budget: opts.budget ?? 512 * MiB,
      warmUp: `${dir}/plain.h5`,
    });
    try {
      while (next < jobs.length) {
        const j = jobs[next++];
        Deno.writeFileSync(j.path, j.bytes);
        const o = await child.run(j.path);
        tally(j, o);
        opts.onProgress?.(++done, jobs.length);
        if (useRef && o.kind === "report" && o.summary && reportsSeen++ % every === 0) {
          pending.push({ job: j, summary: o.summary });
          if (pending.length >= batchSize) await flush();
        } else Deno.removeSync(j.path);
      }
    } finally {
      await child.close();
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.jobs ?? 4 }, worker));
    await flush();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
  return figures;
}

if (import.meta.main) {
  const args = [...Deno.args];
  const take = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? Number(args.splice(i, 2)[1]) : undefined;
  };
  const count = take("--count"), seed = take("--seed"), jobs = take("--jobs");
  const timeout = take("--timeout");
  const noRef = args.indexOf("--no-reference");
  if (noRef >= 0) args.splice(noRef, 1);
  const formats = args.length ? args as FuzzFormat[] : undefined;
  const bad = formats?.find((f) => !FUZZ_FORMATS.includes(f));
  if (bad) {
    console.error(`fuzz: unknown format '${bad}' (one of ${FUZZ_FORMATS.join(", ")})`);
    Deno.exit(2);
  }
  if (noRef < 0 && !(await referenceAvailable())) {
    console.error("fuzz: no reference check (it needs --allow-run=/usr/bin/python3)");
  }
  const t0 = performance.now();
  const onProgress = (done: number, total: number) => {
    if (done % 1000 === 0) {
      const s = (performance.now() - t0) / 1000;
      console.error(`fuzz: ${done}/${total} files in ${s.toFixed(0)} s`);
    }
  };
  const figures = await runFuzz({
    formats,
    count,
    seed,
    jobs,
    timeoutMs: timeout === undefined ? undefined : timeout * 1000,
    reference: noRef < 0,
    onProgress,
  });
  let failed = 0;
  for (const [format, f] of Object.entries(figures)) {
    const { failures, classified, ...rest } = f;
    console.log(JSON.stringify({ format, ...rest }));
    for (const x of failures) console.log(`  ${x}`);
    for (const x of classified) console.log(`  (classified) ${x}`);
    failed += failures.length;
  }
  Deno.exit(failed ? 1 : 0);
}

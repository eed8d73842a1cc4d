/**
 * Aligning a whole stack with a trained pyramid: section z is aligned to the already aligned
 * section z − 1 (section 0 stays), at full resolution (level 0). Sections whose side is not a
 * multiple of 2^(size−1) are zero-padded at the bottom/right for the network and cropped back.
 * Each section's result is kept in a parts folder so a killed run resumes; the quality of each
 * section is the chunked Pearson correlation with its neighbour before and after (cpc.ts).
 *
 * @module
 */
import { existsSync } from "node:fs";
import { decodeNpy, encodeNpy } from "../../io/npy.ts";
import { writeFileAtomic } from "../../run/atomic.ts";
import { safePoint } from "../../run/interrupt.ts";
import { chunkedPearson } from "./cpc.ts";
import { type Plane, plane } from "./masks.ts";
import type { Pyramid } from "./pyramid.ts";
import { alignPair } from "./trainer.ts";

/** One aligned section. */
export interface AlignedSection {
  aligned: Plane;
  /** Displacement in pixels, [dx, dy] interleaved (h·w·2); zeros for section 0. */
  field: Float32Array;
  cpcBefore: number;
  cpcAfter: number;
}

function padTo(p: Plane, side: number): Plane {
  const h = Math.ceil(p.h / side) * side, w = Math.ceil(p.w / side) * side;
  if (h === p.h && w === p.w) return p;
  const out = plane(h, w);
  for (let y = 0; y < p.h; y++) out.data.set(p.data.subarray(y * p.w, (y + 1) * p.w), y * w);
  return out;
}

/** Zero frame: `padding >> 1` pixels before, the rest after (the trainer's `--padding`). */
function frame(p: Plane, padding: number): Plane {
  if (padding <= 0) return p;
  const a = padding >> 1, w = p.w + padding;
  const out = plane(p.h + padding, w);
  for (let y = 0; y < p.h; y++) {
    out.data.set(p.data.subarray(y * p.w, (y + 1) * p.w), (y + a) * w + a);
  }
  return out;
}

/**
 * Aligns `src` to `tgt` (same size) with the network; the field is returned in pixels of the
 * section (grid units × (side − 1)/2 of the network input). `padding` puts the zero frame the
 * network was trained with (`--padding`) around both sections; results are cropped back.
 *
 * @example
 * ```ts
 * const { aligned, field } = await alignSection(net, raw[z], aligned[z - 1]);
 * ```
 */
export async function alignSection(
  net: Pyramid,
  src: Plane,
  tgt: Plane,
  padding = 0,
): Promise<{ aligned: Plane; field: Float32Array }> {
  const side = 2 ** (net.size - 1 - net.topskips);
  const ps = padTo(frame(src, padding), side), pt = padTo(frame(tgt, padding), side);
  const { warped, field } = await alignPair(net, ps, pt);
  const a = padding > 0 ? padding >> 1 : 0;
  const f = new Float32Array(src.h * src.w * 2);
  const aligned = plane(src.h, src.w);
  const sx = (ps.w - 1) / 2, sy = (ps.h - 1) / 2;
  for (let y = 0; y < src.h; y++) {
    for (let x = 0; x < src.w; x++) {
      const q = (y + a) * ps.w + x + a, o = y * src.w + x;
      const ix = ps.w > 1 ? -1 + (2 * (x + a)) / (ps.w - 1) : -1;
      const iy = ps.h > 1 ? -1 + (2 * (y + a)) / (ps.h - 1) : -1;
      f[o * 2] = (field[q * 2] - ix) * sx;
      f[o * 2 + 1] = (field[q * 2 + 1] - iy) * sy;
      aligned.data[o] = warped.data[q];
    }
  }
  return { aligned, field: f };
}

/** Options of {@link alignStack}. */
export interface AlignStackOptions {
  /** Tile side of the Pearson measure (default 32). */
  chunk?: number;
  /** Folder of per-section results (resume); none: keep in memory only. */
  parts?: string;
  /** Zero frame around each section, as in training (`--padding`, default 0). */
  padding?: number;
  /** Called after each section. */
  onSection?: (z: number, s: AlignedSection) => void;
}

async function savePart(dir: string, z: number, s: AlignedSection): Promise<void> {
  const h = s.aligned.h, w = s.aligned.w;
  await writeFileAtomic(
    `${dir}/field_${z}.npy`,
    encodeNpy({ data: s.field, shape: [h, w, 2], dtype: "float32" }),
    { overwrite: true },
  );
  const meta = new Float32Array([s.cpcBefore, s.cpcAfter]);
  await writeFileAtomic(
    `${dir}/cpc_${z}.npy`,
    encodeNpy({ data: meta, shape: [2], dtype: "float32" }),
    { overwrite: true },
  );
  await writeFileAtomic(
    `${dir}/aligned_${z}.npy`,
    encodeNpy({ data: s.aligned.data, shape: [h, w], dtype: "float32" }),
    { overwrite: true },
  );
}

async function loadPart(dir: string, z: number): Promise<AlignedSection | null> {
  if (!existsSync(`${dir}/aligned_${z}.npy`)) return null;
  const a = decodeNpy(await Deno.readFile(`${dir}/aligned_${z}.npy`));
  const f = decodeNpy(await Deno.readFile(`${dir}/field_${z}.npy`));
  const c = decodeNpy(await Deno.readFile(`${dir}/cpc_${z}.npy`)).data as Float32Array;
  return {
    aligned: plane(a.shape[0], a.shape[1], a.data as Float32Array),
    field: f.data as Float32Array,
    cpcBefore: c[0],
    cpcAfter: c[1],
  };
}

/**
 * Aligns every section to the previous aligned one; resumes from `parts` when given.
 *
 * @example
 * ```ts
 * const out = await alignStack(net, sections, { parts: "aligned.h5.parts" });
 * ```
 */
export async function alignStack(
  net: Pyramid,
  sections: Plane[],
  o: AlignStackOptions = {},
): Promise<AlignedSection[]> {
  const chunk = o.chunk ?? 32;
  const out: AlignedSection[] = [];
  for (let z = 0; z < sections.length; z++) {
    let s = o.parts ? await loadPart(o.parts, z) : null;
    if (!s) {
      const raw = sections[z];
      if (z === 0) {
        s = {
          aligned: raw,
          field: new Float32Array(raw.h * raw.w * 2),
          cpcBefore: NaN,
          cpcAfter: NaN,
        };
      } else {
        const r = await alignSection(net, raw, out[z - 1].aligned, o.padding ?? 0);
        s = {
          ...r,
          cpcBefore: chunkedPearson(sections[z - 1], raw, chunk).mean,
          cpcAfter: chunkedPearson(out[z - 1].aligned, r.aligned, chunk).mean,
        };
      }
      if (o.parts) await savePart(o.parts, z, s);
    }
    out.push(s);
    o.onSection?.(z, s);
    await safePoint();
  }
  return out;
}

/**
 * Synthetic EM-like section stacks: cells with dark membranes (a Voronoi tessellation whose
 * seeds drift slowly through z) and grainy cytoplasm, each section warped by a known smooth
 * deformation (translation plus a low-frequency sinusoid), with optional cracks (thin bright
 * gaps) whose ternary masks are given. Used by the demo and the tests: the true displacement
 * between neighbouring sections is known, so an alignment can be scored against it.
 *
 * @module
 */
import { H5File } from "../../io/hdf5.ts";
import { seededRandom } from "./gen_stack.ts";
import { type Plane, plane, ternaryMask } from "./masks.ts";

/** Options of {@link synthStack}. */
export interface SynthOptions {
  /** Sections. */
  depth: number;
  /** Side in pixels. */
  dim: number;
  /** Largest displacement of a section, pixels (default 3). */
  maxShift?: number;
  /** Mean cell diameter, pixels (default 14). */
  cell?: number;
  /** Sections that get a crack (default none). */
  cracks?: number[];
  /** Radius of the "near a defect" band of the ternary masks (default 4). */
  neighborhood?: number;
  seed?: number;
  /** Samples per pixel side: each pixel averages ss × ss tissue samples (default 3). */
  supersample?: number;
}

/** A synthetic stack with its ground truth. */
export interface SynthStack {
  /** Sections, each dim×dim in [0, 1] (zero-free). */
  sections: Plane[];
  /** Ternary defect masks per section (0 normal, 1 near, 2 within). */
  masks: Plane[];
  /** Per section the displacement d (pixels, [dx, dy] interleaved): section(p) = tissue(p + d(p)). */
  displacements: Float32Array[];
}

/** Membrane width: exp(−edge²/MEMBRANE), edge the distance difference to the two nearest seeds. */
const MEMBRANE = 8;
/** Spacing (px) of the cytoplasm grain's lattice. */
const GRAIN = 2;

/** The deformation of one section: translation + one sinusoidal mode in each axis. */
function deformation(dim: number, amp: number, rnd: () => number): Float32Array {
  const tx = (rnd() * 2 - 1) * amp * 0.6, ty = (rnd() * 2 - 1) * amp * 0.6;
  const ax = (rnd() * 2 - 1) * amp * 0.4, ay = (rnd() * 2 - 1) * amp * 0.4;
  const px = rnd() * Math.PI * 2, py = rnd() * Math.PI * 2;
  const d = new Float32Array(dim * dim * 2);
  for (let y = 0; y < dim; y++) {
    for (let x = 0; x < dim; x++) {
      const i = (y * dim + x) * 2;
      d[i] = tx + ax * Math.sin((2 * Math.PI * y) / dim + px);
      d[i + 1] = ty + ay * Math.sin((2 * Math.PI * x) / dim + py);
    }
  }
  return d;
}

/**
 * A stack of `depth` sections with known deformations and optional cracks.
 *
 * @example
 * ```ts
 * const s = synthStack({ depth: 6, dim: 64, cracks: [3], seed: 1 });
 * s.sections[3]; s.masks[3]; // the cracked section and its ternary mask
 * ```
 */
export function synthStack(o: SynthOptions): SynthStack {
  const rnd = seededRandom(o.seed ?? 0);
  const dim = o.dim, amp = o.maxShift ?? 3, cell = o.cell ?? 14;
  const margin = amp * 3 + cell;
  const span = dim + 2 * margin;
  const nSeeds = Math.max(4, Math.round((span * span) / (cell * cell)));
  const seeds = Array.from({ length: nSeeds }, () => ({
    x: rnd() * span - margin,
    y: rnd() * span - margin,
    vx: (rnd() * 2 - 1) * 0.3,
    vy: (rnd() * 2 - 1) * 0.3,
    g: 0.55 + 0.3 * rnd(),
  }));
  const grain = Float32Array.from({ length: 64 * 64 }, () => rnd());
  // Smooth value noise: bilinear between lattice points GRAIN px apart (tissue coordinates).
  const grainAt = (qx: number, qy: number) => {
    const gx = qx / GRAIN + 64, gy = qy / GRAIN + 64;
    const x0 = Math.floor(gx), y0 = Math.floor(gy), fx = gx - x0, fy = gy - y0;
    const g = (i: number, j: number) => grain[((j & 63) << 6) + (i & 63)];
    return (1 - fy) * ((1 - fx) * g(x0, y0) + fx * g(x0 + 1, y0)) +
      fy * ((1 - fx) * g(x0, y0 + 1) + fx * g(x0 + 1, y0 + 1));
  };
  const ss = o.supersample ?? 3;
  const sections: Plane[] = [], masks: Plane[] = [], displacements: Float32Array[] = [];
  for (let z = 0; z < o.depth; z++) {
    const d = deformation(dim, amp, rnd);
    const img = plane(dim, dim);
    const tissue = (qx: number, qy: number) => {
      let b1 = Infinity, b2 = Infinity, g = 0.6;
      for (const s of seeds) {
        const dx = qx - (s.x + s.vx * z), dy = qy - (s.y + s.vy * z);
        const r = dx * dx + dy * dy;
        if (r < b1) {
          b2 = b1;
          b1 = r;
          g = s.g;
        } else if (r < b2) b2 = r;
      }
      const edge = Math.sqrt(b2) - Math.sqrt(b1); // 0 on a membrane
      const membrane = Math.exp(-(edge * edge) / MEMBRANE);
      return g * (1 - 0.75 * membrane) + 0.16 * (grainAt(qx, qy) - 0.5);
    };
    for (let y = 0; y < dim; y++) {
      for (let x = 0; x < dim; x++) {
        const i = y * dim + x;
        // The pixel integrates the tissue over its area (ss × ss samples), each sample
        // displaced by the deformation at the pixel.
        let acc = 0;
        for (let sy = 0; sy < ss; sy++) {
          for (let sx = 0; sx < ss; sx++) {
            const ox = (sx + 0.5) / ss - 0.5, oy = (sy + 0.5) / ss - 0.5;
            acc += tissue(x + ox + d[i * 2], y + oy + d[i * 2 + 1]);
          }
        }
        img.data[i] = Math.min(1, Math.max(0.02, acc / (ss * ss)));
      }
    }
    const defect = plane(dim, dim);
    if (o.cracks?.includes(z)) {
      const a = rnd() * Math.PI, c = dim * (0.35 + 0.3 * rnd());
      const nx = Math.cos(a), ny = Math.sin(a);
      for (let y = 0; y < dim; y++) {
        for (let x = 0; x < dim; x++) {
          if (Math.abs((x - dim / 2) * nx + (y - dim / 2) * ny + dim / 2 - c) < 1.2) {
            defect.data[y * dim + x] = 1;
            img.data[y * dim + x] = 0.97;
          }
        }
      }
    }
    sections.push(img);
    masks.push(ternaryMask(defect, o.neighborhood ?? 4));
    displacements.push(d);
  }
  return { sections, masks, displacements };
}

/**
 * The true field (pixels, [dx, dy] interleaved) that maps section `z` onto section `z − 1`:
 * f with section_z(p + f(p)) = section_{z−1}(p), solved by fixed-point iteration of
 * f = d_{z−1}(p) − d_z(p + f).
 *
 * @example
 * ```ts
 * const f = trueField(s.displacements[2], s.displacements[3], 64);
 * ```
 */
export function trueField(dPrev: Float32Array, dCur: Float32Array, dim: number): Float32Array {
  const f = new Float32Array(dim * dim * 2);
  const sample = (d: Float32Array, x: number, y: number, c: number) => {
    const xi = Math.min(dim - 1, Math.max(0, Math.round(x)));
    const yi = Math.min(dim - 1, Math.max(0, Math.round(y)));
    return d[(yi * dim + xi) * 2 + c];
  };
  for (let y = 0; y < dim; y++) {
    for (let x = 0; x < dim; x++) {
      const i = (y * dim + x) * 2;
      let fx = dPrev[i] - dCur[i], fy = dPrev[i + 1] - dCur[i + 1];
      for (let it = 0; it < 4; it++) {
        fx = dPrev[i] - sample(dCur, x + fx, y + fy, 0);
        fy = dPrev[i + 1] - sample(dCur, x + fx, y + fy, 1);
      }
      f[i] = fx;
      f[i + 1] = fy;
    }
  }
  return f;
}

/**
 * Writes `count` synthetic stacks of `height` sections as a gen_stack file: `main`
 * (count, height, dim, dim) float32 and `mask` (ternary, same shape). Returns the stacks.
 *
 * @example
 * ```ts
 * await writeSynthStacks("synth_train_mip0.h5", 2, { depth: 5, dim: 64, cracks: [2] });
 * ```
 */
export async function writeSynthStacks(
  path: string,
  count: number,
  o: SynthOptions,
): Promise<SynthStack[]> {
  const stacks = Array.from(
    { length: count },
    (_, i) => synthStack({ ...o, seed: (o.seed ?? 0) * 7919 + i }),
  );
  const n = o.dim * o.dim;
  const main = new Float32Array(count * o.depth * n), mask = new Float32Array(main.length);
  stacks.forEach((s, i) =>
    s.sections.forEach((p, z) => {
      main.set(p.data, (i * o.depth + z) * n);
      mask.set(s.masks[z].data, (i * o.depth + z) * n);
    })
  );
  const shape = [count, o.depth, o.dim, o.dim];
  const f = await H5File.open(path, "w");
  try {
    f.write("main", { data: main, shape, dtype: "float32" });
    f.write("mask", { data: mask, shape, dtype: "float32" });
  } finally {
    f.close();
  }
  return stacks;
}

/** What {@link residualDisplacement} measures. */
export interface Residual {
  /** Mean |predicted − true| displacement (pixels) over the interior, all pairs. */
  residual: number;
  /** Mean |true| displacement (pixels): the residual of leaving the sections unaligned. */
  unaligned: number;
}

/**
 * Scores predicted fields (pixels, [dx, dy]) of pairs (z ← z−1 target) against the true ones,
 * leaving out a `margin` at the edges.
 *
 * @example
 * ```ts
 * const r = residualDisplacement(s, fields, 64, 6); r.residual / r.unaligned;
 * ```
 */
export function residualDisplacement(
  s: SynthStack,
  fields: Map<number, Float32Array>,
  dim: number,
  margin: number,
): Residual {
  let res = 0, un = 0, n = 0;
  for (const [z, f] of fields) {
    const t = trueField(s.displacements[z - 1], s.displacements[z], dim);
    for (let y = margin; y < dim - margin; y++) {
      for (let x = margin; x < dim - margin; x++) {
        const i = (y * dim + x) * 2;
        res += Math.hypot(f[i] - t[i], f[i + 1] - t[i + 1]);
        un += Math.hypot(t[i], t[i + 1]);
        n++;
      }
    }
  }
  return { residual: res / n, unaligned: un / n };
}

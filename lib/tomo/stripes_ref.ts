/**
 * Reference loops for stripe detection: a literal TypeScript port of Larix `STRIPES_DETECT` /
 * `STRIPES_MERGE` (TomoPy's `stripesdetect3d_main_float` / `stripesmask3d_main_float` in
 * `source/libtomo/prep/stripes_detect3d.c`), voxel by voxel, in float32 arithmetic.
 *
 * These are slow and kept as the oracle the WASM and WGSL kernels are tested against. Every
 * function works on a block of detector rows with its global position, so that a whole scan can
 * be processed in slabs: the input holds rows `[ya, ya + nIn)` of a volume of global shape
 * `[Z, Y, X]`, and the output covers rows `[y0, y1)`. The boundary rule (an index c+m outside
 * [0,n) becomes c−m) is applied in global coordinates, so a slab gives the same bits as the whole
 * volume as long as the input block holds the halo (see {@link detectHalo}, {@link mergeHalo}).
 *
 * One documented departure: the C code sorts the median window with `quicksort_float` (older
 * releases) or `qsort` (newer), which disagree with each other where a window holds NaN or both
 * −0 and +0. Here the window is sorted in IEEE-754 total order with every NaN last (−0 before
 * +0); for any window without NaN and −0 this is exactly the C result.
 *
 * @module
 */

const fr = Math.fround;

/** Rows of input needed on each side of an output row by detection: the plate (±radius) and the
 * ±1 row stencils of the smoothing and the orthogonal means. */
export function detectHalo(radius: number): number {
  return Math.max(radius, 1);
}

/** Rows of step-1 mask needed on each side of an output row by merging (the depth step). */
export function mergeHalo(minStripeDepth: number): number {
  return Math.trunc(minStripeDepth / 2);
}

/** The mirror rule of the C code: c+m outside [0,n) becomes c−m. */
function mir(c: number, m: number, n: number): number {
  const a = c + m;
  return a < 0 || a >= n ? c - m : a;
}

/**
 * Detection weights for rows [y0, y1) of a volume of global shape [Z, Y, X], from input rows
 * [ya, ya + nIn) (Z × nIn × X, C order). Returns Z × (y1−y0) × X float32.
 */
export function detectRowsRef(
  input: Float32Array,
  Z: number,
  Y: number,
  X: number,
  ya: number,
  nIn: number,
  y0: number,
  y1: number,
  size: number,
  radius: number,
): Float32Array {
  const h = detectHalo(radius);
  if (ya > Math.max(0, y0 - h) || ya + nIn < Math.min(Y, y1 + h)) {
    throw new RangeError(
      `detectRowsRef: input rows [${ya},${ya + nIn}) lack the halo of rows [${y0},${y1})`,
    );
  }
  const nOut = y1 - y0;
  const I = (k: number, g: number, i: number) => input[(k * nIn + (g - ya)) * X + i];
  // Step 2: gradient along X with step 2 over every input row (gradient3D_local, axis 0).
  const G = new Float32Array(Z * nIn * X);
  for (let k = 0; k < Z; k++) {
    for (let l = 0; l < nIn; l++) {
      const g = ya + l;
      for (let i = 0; i < X; i++) {
        let i1 = i + 2;
        if (i1 >= X) i1 = i - 2;
        G[(k * nIn + l) * X + i] = fr(I(k, g, i1) - I(k, g, i));
      }
    }
  }
  const Ga = (k: number, g: number, i: number) => Math.abs(G[(k * nIn + (g - ya)) * X + i]);
  // Steps 1 and 3: temp (mean_stride3d) then ratio_mean_stride3d, per output voxel.
  const ratio = new Float32Array(Z * nOut * X);
  const diam = 2 * radius + 1;
  const allPix = fr(diam * diam);
  const r3 = fr(radius * 3);
  const c1428 = fr(0.1428);
  for (let k = 0; k < Z; k++) {
    for (let j = y0; j < y1; j++) {
      for (let i = 0; i < X; i++) {
        // mean_stride3d (note: its own edge rule, i−1 ↔ i+1)
        let i1 = i - 1, i2 = i + 1, j1 = j - 1, j2 = j + 1, k1 = k - 1, k2 = k + 1;
        if (i1 < 0) i1 = i2;
        if (i2 >= X) i2 = i1;
        if (j1 < 0) j1 = j2;
        if (j2 >= Y) j2 = j1;
        if (k1 < 0) k1 = k2;
        if (k2 >= Z) k2 = k1;
        let s = I(k, j, i);
        s = fr(s + I(k, j, i1));
        s = fr(s + I(k, j, i2));
        s = fr(s + I(k, j1, i));
        s = fr(s + I(k, j2, i));
        s = fr(s + I(k1, j, i));
        s = fr(s + I(k2, j, i));
        let out = fr(c1428 * s);
        // mean of |G| in the (Y,Z) plate at this i
        let mp = 0;
        for (let jm = -radius; jm <= radius; jm++) {
          const jj = mir(j, jm, Y);
          for (let km = -radius; km <= radius; km++) {
            const kk = mir(k, km, Z);
            mp = fr(mp + Ga(kk, jj, i));
          }
        }
        mp = fr(mp / allPix);
        let mh = 0;
        for (let jm = -1; jm <= 1; jm++) {
          const jj = mir(j, jm, Y);
          for (let im = 1; im <= radius; im++) {
            let ii = i + im;
            if (ii >= X) ii = i - im;
            mh = fr(mh + Ga(k, jj, ii));
          }
        }
        mh = fr(mh / r3);
        let mh2 = 0;
        for (let jm = -1; jm <= 1; jm++) {
          const jj = mir(j, jm, Y);
          for (let im = -radius; im <= -1; im++) {
            let ii = i + im;
            if (ii < 0) ii = i - im;
            mh2 = fr(mh2 + Ga(k, jj, ii));
          }
        }
        mh2 = fr(mh2 / r3);
        let minVal = 0;
        if (mh >= mp && mh !== 0) out = fr(mp / mh);
        if (mh < mp && mp !== 0) out = fr(mh / mp);
        if (mh2 >= mp && mh2 !== 0) minVal = fr(mp / mh2);
        if (mh2 < mp && mp !== 0) minVal = fr(mh2 / mp);
        if (out > minVal) out = minVal;
        ratio[(k * nOut + (j - y0)) * X + i] = out;
      }
    }
  }
  // Step 4: vertical "median" (element size−1 of the sorted 2·size+1 window).
  const full = 2 * size + 1;
  const mid = Math.trunc(fr(0.5) * full) - 1;
  const win = new Float32Array(full);
  const res = new Float32Array(Z * nOut * X);
  for (let k = 0; k < Z; k++) {
    for (let l = 0; l < nOut; l++) {
      for (let i = 0; i < X; i++) {
        let c = 0;
        for (let km = -size; km <= size; km++) {
          win[c++] = ratio[(mir(k, km, Z) * nOut + l) * X + i];
        }
        win.sort(); // numeric, −0 before +0, NaN last
        res[(k * nOut + l) * X + i] = win[mid];
      }
    }
  }
  return res;
}

/** Step 1 of merging: mask = weights ≤ threshold, compared in float32 as the C code does. */
export function thresholdRef(weights: Float32Array, threshold: number): Uint8Array {
  const t = fr(threshold);
  const m = new Uint8Array(weights.length);
  for (let n = 0; n < weights.length; n++) m[n] = weights[n] <= t ? 1 : 0;
  return m;
}

/** The integer thresholds of the C code: `(int)((0.01f*sensitivity)*n)`. */
export function sensitivityCount(sensitivityPerc: number, n: number): number {
  return Math.trunc(fr(fr(fr(0.01) * fr(sensitivityPerc)) * fr(n)));
}

/**
 * Merging steps 2–5 for rows [y0, y1) from the step-1 mask of rows [ya, ya + nIn)
 * (Z × nIn × X). Returns Z × (y1−y0) × X uint8 (0/1).
 */
export function mergeRowsRef(
  m1: Uint8Array,
  Z: number,
  Y: number,
  X: number,
  ya: number,
  nIn: number,
  y0: number,
  y1: number,
  L: number,
  D: number,
  W: number,
  sens: number,
): Uint8Array {
  const hd = mergeHalo(D);
  if (ya > Math.max(0, y0 - hd) || ya + nIn < Math.min(Y, y1 + hd)) {
    throw new RangeError(
      `mergeRowsRef: input rows [${ya},${ya + nIn}) lack the halo of rows [${y0},${y1})`,
    );
  }
  const nOut = y1 - y0;
  const halfL = Math.trunc(L / 2);
  const thrV = sensitivityCount(sens, L);
  const thrD = sensitivityCount(sens, D);
  const idx = (k: number, l: number, i: number) => (k * nOut + l) * X + i;
  // Output = copy of the step-1 mask, for the output rows.
  let mask = new Uint8Array(Z * nOut * X);
  for (let k = 0; k < Z; k++) {
    for (let l = 0; l < nOut; l++) {
      const src = (k * nIn + (y0 + l - ya)) * X;
      mask.set(m1.subarray(src, src + X), idx(k, l, 0));
    }
  }
  const out = mask.slice();
  // Step 2: depth (switch_dim = 1), reading the step-1 mask of the neighbouring rows.
  if (D !== 0) {
    for (let k = 0; k < Z; k++) {
      for (let j = y0; j < y1; j++) {
        for (let i = 0; i < X; i++) {
          if (m1[(k * nIn + (j - ya)) * X + i] !== 1) continue;
          let cnt = 0;
          for (let ym = -hd; ym <= hd; ym++) {
            const yy = mir(j, ym, Y);
            if (m1[(k * nIn + (yy - ya)) * X + i] === 1) cnt++;
          }
          if (cnt > thrD) out[idx(k, j - y0, i)] = 0;
        }
      }
    }
  }
  mask = out.slice();
  // Step 3: vertical consistency (switch_dim = 0).
  for (let k = 0; k < Z; k++) {
    for (let l = 0; l < nOut; l++) {
      for (let i = 0; i < X; i++) {
        if (mask[idx(k, l, i)] !== 1) continue;
        let cnt = 0;
        for (let km = -halfL; km <= halfL; km++) {
          if (mask[idx(mir(k, km, Z), l, i)] === 1) cnt++;
        }
        if (cnt < thrV) out[idx(k, l, i)] = 0;
      }
    }
  }
  mask = out.slice();
  // Step 4: short stripes.
  for (let k = 0; k < Z; k++) {
    for (let l = 0; l < nOut; l++) {
      for (let i = 0; i < X; i++) {
        if (mask[idx(k, l, i)] !== 1) continue;
        let cnt = 0;
        for (let km = -halfL; km <= halfL; km++) {
          if (mask[idx(mir(k, km, Z), l, i)] === 1) cnt++;
        }
        if (cnt < halfL) out[idx(k, l, i)] = 0;
      }
    }
  }
  mask = out.slice();
  // Step 5: merging, W passes, each reading the previous pass.
  const hw = Math.trunc(W / 2);
  const vl = 2 * W;
  for (let pass = 0; pass < W; pass++) {
    for (let k = 0; k < Z; k++) {
      for (let l = 0; l < nOut; l++) {
        for (let i = 0; i < X; i++) {
          const n = idx(k, l, i);
          if (mask[n] !== 0) continue;
          let left = 0;
          for (let x = -hw; x <= 0; x++) {
            let xl = i + x;
            if (xl < 0) xl = i - x;
            if (mask[idx(k, l, xl)] === 1) {
              left = 1;
              break;
            }
          }
          let right = 0;
          for (let x = 0; x <= hw; x++) {
            let xr = i + x;
            if (xr >= X) xr = i - x;
            if (mask[idx(k, l, xr)] === 1) {
              right = 1;
              break;
            }
          }
          if (left === 1 && right === 1) out[n] = 1;
          if (out[n] !== 1) {
            let up = 0;
            for (let x = -vl; x <= 0; x++) {
              let ku = k + x;
              if (ku < 0) ku = k - x;
              if (mask[idx(ku, l, i)] === 1) {
                up = 1;
                break;
              }
            }
            let down = 0;
            for (let x = 0; x <= vl; x++) {
              let kd = k + x;
              if (kd >= Z) kd = k - x;
              if (mask[idx(kd, l, i)] === 1) {
                down = 1;
                break;
              }
            }
            if (up === 1 && down === 1) out[n] = 1;
          }
        }
      }
    }
    mask = out.slice();
  }
  return mask;
}

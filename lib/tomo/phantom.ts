/**
 * 3D phantoms made of ellipsoids, and their exact parallel-beam projections.
 *
 * Geometry (the same as lib/tomo/fbp.ts): the rotation axis is the detector-row axis z. A slice
 * of `cols × cols` pixels has x = column − ⌊cols/2⌋ (pixel centres at integers) and y = row −
 * ⌊cols/2⌋ (rows downwards); slice z of detector row v is z = v + ½ − rows/2. The projection at
 * angle θ, detector column u, is the line integral along the ray x·cos θ − y·sin θ = u − centre,
 * i.e. through (s·cos θ, −s·sin θ) in direction (sin θ, cos θ). Lengths are in pixels, densities
 * in 1/pixel, so a projection value is an attenuation (−log transmission).
 *
 * Line integrals of ellipsoids are exact (chord length × density); {@link rasterize} samples
 * the same phantom on the slice grid for ground truth.
 *
 * @example
 * ```ts
 * import { projectEllipsoids, sheppLogan3d } from "./phantom.ts";
 * const ph = sheppLogan3d(256, 8);
 * const angles = Float64Array.from({ length: 181 }, (_, a) => (Math.PI * a) / 181);
 * const p = projectEllipsoids(ph, angles, 8, 256); // angles × rows × cols
 * ```
 * @module
 */
import { SimRng } from "../data/rng.ts";

/** An ellipsoid of constant density added to the volume. */
export interface Ellipsoid {
  /** Centre (x, y, z) in pixels from the volume centre. */
  center: [number, number, number];
  /** Semi-axes along its own x, y, z, in pixels. */
  axes: [number, number, number];
  /** Rotation about z (radians), applied to its own axes. */
  phi: number;
  /** Tilt about the rotated x axis (radians); 0 keeps the z axis vertical. */
  tilt?: number;
  /** Density added inside (1/pixel; may be negative). */
  density: number;
}

/**
 * A 3D Shepp–Logan-like phantom (the ten ellipsoids of Kak & Slaney's 3D version, with the
 * "modified" contrast), scaled so the head fills 90% of a `cols`-wide slice and spans the rows;
 * the densities give attenuations up to about 1.4 (25% transmission).
 */
export function sheppLogan3d(cols: number, rows: number): Ellipsoid[] {
  // [x0, y0, z0, a, b, c, phi(deg), density] in the unit cube [-1,1]^3 (Kak & Slaney, modified)
  const E: number[][] = [
    [0, 0, 0, 0.69, 0.92, 0.9, 0, 1.0],
    [0, -0.0184, 0, 0.6624, 0.874, 0.88, 0, -0.8],
    [-0.22, 0, -0.25, 0.41, 0.16, 0.21, 108, -0.2],
    [0.22, 0, -0.25, 0.31, 0.11, 0.22, 72, -0.2],
    [0, 0.35, -0.25, 0.21, 0.25, 0.5, 0, 0.1],
    [0, 0.1, -0.25, 0.046, 0.046, 0.046, 0, 0.1],
    [-0.08, -0.65, -0.25, 0.046, 0.023, 0.02, 0, 0.1],
    [0.06, -0.65, -0.25, 0.046, 0.023, 0.02, 90, 0.1],
    [0.06, -0.105, 0.625, 0.056, 0.04, 0.1, 90, 0.2],
    [0, 0.1, 0.625, 0.056, 0.056, 0.1, 0, -0.2],
  ];
  const sxy = 0.45 * cols; // unit → pixels in the slice
  const sz = Math.max(rows, 1) / 1.6; // the head spans the rows
  const mu = 4.5 / (2 * 0.92 * sxy); // the skull and brain give up to ≈ 1.4 attenuation
  return E.map(([x0, y0, z0, a, b, c, ph, d]) => ({
    center: [x0 * sxy, -y0 * sxy, z0 * sz],
    axes: [a * sxy, b * sxy, c * sz * 2.2],
    phi: (ph * Math.PI) / 180,
    density: d * mu,
  }));
}

/**
 * A seeded random phantom: a large body (a vertical ellipsoidal cylinder) holding `count`
 * inclusions of random size, position, orientation and density (voids, dense grains, soft
 * regions), so that every detector row sees structure.
 */
export function randomPhantom(
  cols: number,
  rows: number,
  seed: number,
  count = 24,
): Ellipsoid[] {
  const r = new SimRng(seed);
  const R = 0.42 * cols;
  const height = Math.max(rows, 1) * 4;
  const mu = 1.2 / (2 * R);
  const out: Ellipsoid[] = [{
    center: [r.range(-0.02, 0.02) * cols, r.range(-0.02, 0.02) * cols, 0],
    axes: [R * r.range(0.9, 1), R * r.range(0.75, 0.95), height],
    phi: r.range(0, Math.PI),
    density: mu,
  }];
  for (let n = 0; n < count; n++) {
    const size = R * (n < 4 ? r.range(0.15, 0.35) : r.range(0.02, 0.12));
    const ang = r.range(0, 2 * Math.PI), rad = r.range(0, 0.7) * R;
    const kind = r.uniform();
    out.push({
      center: [rad * Math.cos(ang), rad * Math.sin(ang), r.range(-0.5, 0.5) * rows],
      axes: [size * r.range(0.5, 1.5), size * r.range(0.5, 1.5), size * r.range(0.6, 3) + 1],
      phi: r.range(0, Math.PI),
      tilt: r.range(-0.4, 0.4),
      density: mu * (kind < 0.3 ? -0.9 : kind < 0.7 ? r.range(0.5, 2.5) : r.range(-0.4, 0.4)),
    });
  }
  return out;
}

/** World → unit-sphere matrix of an ellipsoid (row-major 3×3): M = S⁻¹ · Rtilt⁻¹ · Rz⁻¹. */
function toUnit(e: Ellipsoid): number[] {
  const c = Math.cos(e.phi), s = Math.sin(e.phi);
  const t = e.tilt ?? 0, ct = Math.cos(t), st = Math.sin(t);
  // Rz⁻¹ = [[c, s, 0], [−s, c, 0], [0, 0, 1]]; Rx(t)⁻¹ = [[1,0,0],[0,ct,st],[0,−st,ct]]
  const m = [
    c,
    s,
    0,
    -s * ct,
    c * ct,
    st,
    s * st,
    -c * st,
    ct,
  ];
  const [a, b, cc] = e.axes;
  return [
    m[0] / a,
    m[1] / a,
    m[2] / a,
    m[3] / b,
    m[4] / b,
    m[5] / b,
    m[6] / cc,
    m[7] / cc,
    m[8] / cc,
  ];
}

/**
 * Exact line integrals: `angles × rows × cols` float32 (C order), angles in radians, rotation
 * axis at detector column `center` (default ⌊cols/2⌋).
 */
export function projectEllipsoids(
  ells: readonly Ellipsoid[],
  angles: ArrayLike<number>,
  rows: number,
  cols: number,
  center = Math.floor(cols / 2),
): Float32Array {
  const A = angles.length;
  const out = new Float32Array(A * rows * cols);
  const mats = ells.map(toUnit);
  const acc = new Float64Array(cols);
  for (let a = 0; a < A; a++) {
    const th = angles[a], ct = Math.cos(th), st = Math.sin(th);
    for (let v = 0; v < rows; v++) {
      const z = v + 0.5 - rows / 2;
      acc.fill(0);
      for (let e = 0; e < ells.length; e++) {
        const M = mats[e], E = ells[e];
        // ray: p(s) = (s·ct − cx, −s·st − cy, z − cz) + t·(st, ct, 0)
        const dx = st, dy = ct;
        const d0 = M[0] * dx + M[1] * dy, d1 = M[3] * dx + M[4] * dy, d2 = M[6] * dx + M[7] * dy;
        const dd = d0 * d0 + d1 * d1 + d2 * d2;
        const qx = -E.center[0], qy = -E.center[1], qz = z - E.center[2];
        // p' = M·(q + s·(ct, −st, 0)) = base + s·step
        const b0 = M[0] * qx + M[1] * qy + M[2] * qz;
        const b1 = M[3] * qx + M[4] * qy + M[5] * qz;
        const b2 = M[6] * qx + M[7] * qy + M[8] * qz;
        const g0 = M[0] * ct - M[1] * st, g1 = M[3] * ct - M[4] * st, g2 = M[6] * ct - M[7] * st;
        const k = (2 * E.density) / dd;
        for (let u = 0; u < cols; u++) {
          const sv = u - center;
          const p0 = b0 + sv * g0, p1 = b1 + sv * g1, p2 = b2 + sv * g2;
          const pd = p0 * d0 + p1 * d1 + p2 * d2;
          const disc = pd * pd - dd * (p0 * p0 + p1 * p1 + p2 * p2 - 1);
          if (disc > 0) acc[u] += k * Math.sqrt(disc);
        }
      }
      const o = (a * rows + v) * cols;
      for (let u = 0; u < cols; u++) out[o + u] = acc[u];
    }
  }
  return out;
}

/** The phantom's density on slice `v` (detector row) of a `cols × cols` grid (pixel centres). */
export function rasterize(
  ells: readonly Ellipsoid[],
  rows: number,
  cols: number,
  v: number,
): Float32Array {
  const out = new Float32Array(cols * cols);
  const z = v + 0.5 - rows / 2;
  const mats = ells.map(toUnit);
  for (let i = 0; i < cols; i++) {
    const y = i - Math.floor(cols / 2);
    for (let j = 0; j < cols; j++) {
      const x = j - Math.floor(cols / 2);
      let s = 0;
      for (let e = 0; e < ells.length; e++) {
        const M = mats[e], c = ells[e].center;
        const qx = x - c[0], qy = y - c[1], qz = z - c[2];
        const p0 = M[0] * qx + M[1] * qy + M[2] * qz;
        const p1 = M[3] * qx + M[4] * qy + M[5] * qz;
        const p2 = M[6] * qx + M[7] * qy + M[8] * qz;
        if (p0 * p0 + p1 * p1 + p2 * p2 <= 1) s += ells[e].density;
      }
      out[i * cols + j] = s;
    }
  }
  return out;
}

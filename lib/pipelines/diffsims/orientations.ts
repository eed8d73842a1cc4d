/**
 * Orientations for the simulations: uniformly random rotations (Shoemake's quaternion method,
 * which is uniform over SO(3), so the patterns of a phase follow the same distribution as
 * sampling its fundamental zone uniformly), and Bunge Euler angles (φ1, Φ, φ2 in degrees,
 * Z-X-Z) as rotation matrices.
 *
 * @example
 * ```ts
 * import { SimRng } from "../../data/rng.ts";
 * import { eulerToMatrix, randomRotation } from "./orientations.ts";
 * randomRotation(new SimRng(0)).length; // 9
 * eulerToMatrix(0, 0, 0); // identity
 * ```
 * @module
 */
import type { SimRng } from "../../data/rng.ts";

/**
 * The rotation matrix (row-major 3×3) of a unit quaternion (w, x, y, z).
 * @example
 * ```ts
 * quaternionToMatrix(1, 0, 0, 0); // identity
 * ```
 */
export function quaternionToMatrix(w: number, x: number, y: number, z: number): number[] {
  return [
    1 - 2 * (y * y + z * z),
    2 * (x * y - z * w),
    2 * (x * z + y * w),
    2 * (x * y + z * w),
    1 - 2 * (x * x + z * z),
    2 * (y * z - x * w),
    2 * (x * z - y * w),
    2 * (y * z + x * w),
    1 - 2 * (x * x + y * y),
  ]; // deno-fmt-ignore
}

/**
 * A uniformly random rotation (three uniform draws).
 * @example
 * ```ts
 * const r = randomRotation(new SimRng(1)); // row-major 3×3
 * ```
 */
export function randomRotation(rng: SimRng): number[] {
  const u1 = rng.uniform(), u2 = rng.uniform(), u3 = rng.uniform();
  const a = Math.sqrt(1 - u1), b = Math.sqrt(u1);
  return quaternionToMatrix(
    b * Math.cos(2 * Math.PI * u3),
    a * Math.sin(2 * Math.PI * u2),
    a * Math.cos(2 * Math.PI * u2),
    b * Math.sin(2 * Math.PI * u3),
  );
}

/**
 * Bunge Z-X-Z Euler angles (degrees) → rotation matrix R = Rz(φ1)·Rx(Φ)·Rz(φ2).
 * @example
 * ```ts
 * eulerToMatrix(90, 0, 0); // rotation by 90° about z
 * ```
 */
export function eulerToMatrix(phi1: number, Phi: number, phi2: number): number[] {
  const r = Math.PI / 180;
  const [c1, s1, c, s, c2, s2] = [
    Math.cos(phi1 * r),
    Math.sin(phi1 * r),
    Math.cos(Phi * r),
    Math.sin(Phi * r),
    Math.cos(phi2 * r),
    Math.sin(phi2 * r),
  ];
  return [
    c1 * c2 - s1 * c * s2,
    -c1 * s2 - s1 * c * c2,
    s1 * s,
    s1 * c2 + c1 * c * s2,
    -s1 * s2 + c1 * c * c2,
    -c1 * s,
    s * s2,
    s * c2,
    c,
  ]; // deno-fmt-ignore
}

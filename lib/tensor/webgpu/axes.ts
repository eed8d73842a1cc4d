/**
 * Shape helpers of the webgpu backend's family files: C-order strides, element counts, merging
 * of axes that every operand walks contiguously, and the kernels' axis limit.
 *
 * @module
 */

/** Most axes a strided kernel takes (the WGSL side declares arrays of this length). */
export const MAXD = 8;

/**
 * C-order strides of a shape, in elements.
 *
 * @example
 * cStrides([2, 3, 4]); // [12, 4, 1]
 */
export function cStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/**
 * Number of elements of a shape.
 *
 * @example
 * prod([2, 3, 4]); // 24
 */
export function prod(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Merges axes of `shape` that every stride set walks contiguously, and drops unit axes.
 * Returns the merged shape and one merged stride array per input.
 *
 * @example
 * mergeAxes([2, 3], [[3, 1], [3, 1]]); // { shape: [6], strides: [[1], [1]] }
 */
export function mergeAxes(
  shape: readonly number[],
  strides: (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const keep: number[] = [];
  for (let i = 0; i < shape.length; i++) if (shape[i] !== 1) keep.push(i);
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (const i of keep) {
    const last = outShape.length - 1;
    if (
      last >= 0 &&
      strides.every((s, k) => outStrides[k][last] === s[i] * shape[i])
    ) {
      outShape[last] *= shape[i];
      strides.forEach((s, k) => (outStrides[k][last] = s[i]));
    } else {
      outShape.push(shape[i]);
      strides.forEach((s, k) => outStrides[k].push(s[i]));
    }
  }
  if (outShape.length === 0) {
    outShape.push(1);
    strides.forEach((_, k) => outStrides[k].push(1));
  }
  return { shape: outShape, strides: outStrides };
}

/**
 * True when `strides` walk `shape` in C order (unit axes ignored).
 *
 * @example
 * isContig([2, 3], [3, 1]); // true
 */
export function isContig(shape: readonly number[], strides: readonly number[]): boolean {
  const c = cStrides(shape);
  for (let i = 0; i < shape.length; i++) if (shape[i] !== 1 && strides[i] !== c[i]) return false;
  return true;
}

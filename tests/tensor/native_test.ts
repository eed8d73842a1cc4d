// Native (oneDNN) kernels against a plain TS reference; skipped where libdnnl or FFI is absent.
import assert from "node:assert";
import { dnnlAvailable, loadDnnl, sgemm } from "../../lib/tensor/native/mod.ts";

function ffiGranted(): boolean {
  try {
    return dnnlAvailable();
  } catch {
    return false;
  }
}
const ok = ffiGranted();
if (!ok) console.log("native_test: libdnnl.so.2 or --allow-ffi missing, skipped");

function ref(
  ta: boolean,
  tb: boolean,
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  b: Float32Array,
): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
      }
      c[i * n + j] = s;
    }
  }
  return c;
}

Deno.test({
  name: "native: oneDNN loads with its version",
  ignore: !ok,
  fn() {
    const lib = loadDnnl();
    assert(/^\d+\.\d+\.\d+$/.test(lib.version), lib.version);
  },
});

Deno.test({
  name: "native: sgemm matches the reference (odd sizes, transposes)",
  ignore: !ok,
  fn() {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    for (const [m, n, k] of [[1, 1, 1], [7, 13, 5], [33, 17, 65]]) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          const a = Float32Array.from({ length: m * k }, rnd);
          const b = Float32Array.from({ length: k * n }, rnd);
          const c = new Float32Array(m * n);
          sgemm(ta, tb, m, n, k, a, b, c);
          const r = ref(ta, tb, m, n, k, a, b);
          for (let i = 0; i < c.length; i++) {
            assert(
              Math.abs(c[i] - r[i]) < 1e-4 * (1 + Math.abs(r[i])),
              `${m}x${n}x${k} ${ta}${tb} @${i}`,
            );
          }
        }
      }
    }
  },
});

Deno.test({
  name: "native: sgemm beta accumulates",
  ignore: !ok,
  fn() {
    const c = new Float32Array([1, 1, 1, 1]);
    sgemm(false, false, 2, 2, 1, new Float32Array([1, 2]), new Float32Array([3, 4]), c, 1, 1);
    assert.deepStrictEqual([...c], [4, 5, 7, 9]);
  },
});

import assert from "node:assert/strict";
import { hasPython, pyFixture } from "../_helpers.ts";
import { fbp, fft, fourierFilter } from "../../lib/tomo/fbp.ts";

function stats(a: ArrayLike<number>, b: ArrayLike<number>, mask?: (i: number) => boolean) {
  let n = 0, sa = 0, sb = 0;
  for (let i = 0; i < a.length; i++) if (!mask || mask(i)) (n++, sa += a[i], sb += b[i]);
  const ma = sa / n, mb = sb / n;
  let cab = 0, caa = 0, cbb = 0, se = 0;
  for (let i = 0; i < a.length; i++) {
    if (mask && !mask(i)) continue;
    cab += (a[i] - ma) * (b[i] - mb);
    caa += (a[i] - ma) ** 2;
    cbb += (b[i] - mb) ** 2;
    se += (a[i] - b[i]) ** 2;
  }
  return { corr: cab / Math.sqrt(caa * cbb), rmse: Math.sqrt(se / n), stdB: Math.sqrt(cbb / n) };
}

Deno.test("fbp: close to skimage iradon on the Shepp-Logan phantom (corr > 0.999, RMSE < 2% of its std), both filters", async () => {
  if (!hasPython("numpy", "skimage")) return;
  const dir = await pyFixture("tomo_fbp");
  const man = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
  const f32 = (n: string) => new Float32Array(Deno.readFileSync(`${dir}/${n}`).buffer);
  const N = man.n, A = man.angles;
  const sino = f32("sino.f32");
  const r = N >> 1;
  const inside = (i: number) => ((i / N | 0) - r) ** 2 + ((i % N) - r) ** 2 <= r * r;
  for (const filter of ["ramp", "shepp-logan"] as const) {
    const rec = fbp(sino, A, N, { angles: man.theta_deg, degrees: true, filter });
    const ref = f32(`iradon_${filter}.f32`);
    const s = stats(rec, ref, inside);
    assert.ok(
      s.corr > 0.999 && s.rmse < 0.02 * s.stdB,
      `${filter}: vs iradon ${JSON.stringify(s)}`,
    );
    const p = stats(rec, f32("phantom.f32"), inside);
    const q = stats(ref, f32("phantom.f32"), inside);
    assert.ok(
      p.corr > 0.95 && p.rmse < 1.1 * q.rmse,
      `${filter}: vs phantom ${JSON.stringify(p)} (iradon ${JSON.stringify(q)})`,
    );
  }
  // default angles = evenly over [0, π) in radians
  const d = fbp(sino, A, N);
  const e = fbp(sino, A, N, { angles: man.theta_deg.map((t: number) => (t * Math.PI) / 180) });
  assert.deepEqual(d, e);
});

Deno.test("fbp: a uniform disk reconstructs to its value; an off-centre axis is honoured", () => {
  const N = 128, A = 200, R = 40, v = 1.5;
  for (const center of [64, 60.5]) {
    const sino = new Float32Array(A * N);
    for (let a = 0; a < A; a++) {
      for (let c = 0; c < N; c++) {
        const s = c - center;
        sino[a * N + c] = Math.abs(s) < R ? 2 * v * Math.sqrt(R * R - s * s) : 0;
      }
    }
    const rec = fbp(sino, A, N, { center });
    let inSum = 0, inN = 0, outMax = 0;
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        const rho = Math.hypot(i - 64, j - 64);
        if (rho < R - 6) (inSum += rec[i * N + j], inN++);
        else if (rho > R + 6 && rho < 60) outMax = Math.max(outMax, Math.abs(rec[i * N + j]));
      }
    }
    const mean = inSum / inN;
    assert.ok(Math.abs(mean - v) < 0.02 * v, `centre ${center}: disk mean ${mean}`);
    assert.ok(outMax < 0.05 * v, `centre ${center}: outside ${outMax}`);
  }
});

Deno.test("fbp: FFT round trip and filter shapes", () => {
  const n = 64;
  const re = Float64Array.from({ length: n }, (_, i) => Math.sin(i) + i / n),
    im = new Float64Array(n);
  const orig = re.slice();
  fft(re, im);
  fft(re, im, true);
  for (let i = 0; i < n; i++) assert.ok(Math.abs(re[i] / n - orig[i]) < 1e-12);
  const ramp = fourierFilter(n, "ramp"), sl = fourierFilter(n, "shepp-logan");
  assert.ok(ramp[0] > 0 && ramp[0] < 0.01); // small DC term, not zero (band-limited ramp)
  assert.ok(Math.abs(ramp[n / 2] - 1) < 0.02 && sl[n / 2] < ramp[n / 2]);
  assert.throws(() => fbp(new Float32Array(10), 3, 4), /values/);
});

/**
 * The WGSL pattern kernels (kernels/diffsims.wgsl) against the WASM ones, on small shapes
 * (llvmpipe on CPU-only machines). Skips where no WebGPU adapter exists.
 */
import { ok as assert } from "node:assert";
import { probeWebGpu } from "../../../lib/tensor/webgpu/device.ts";
import { DEMO_CIFS } from "../../../lib/pipelines/diffsims/demo_cifs.ts";
import { parseCif } from "../../../lib/pipelines/diffsims/cif.ts";
import {
  electronWavelength,
  preparePhase,
  radialBins,
  type Spots,
} from "../../../lib/pipelines/diffsims/kinematic.ts";
import { KinematicWasm } from "../../../lib/pipelines/diffsims/kinematic_wasm.ts";
import { KinematicWebGpu } from "../../../lib/pipelines/diffsims/kinematic_webgpu.ts";
import { eulerToMatrix } from "../../../lib/pipelines/diffsims/orientations.ts";
import { SimRng } from "../../../lib/data/rng.ts";

const probe = await probeWebGpu();
if (!probe.available) console.warn(`skip: diffsims webgpu tests (${probe.description})`);

function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return m > 0 ? d / m : d;
}

Deno.test({
  name: "wgsl pattern and profile equal the WASM kernels (small detectors, 1e-4)",
  ignore: !probe.available,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const gpu = await KinematicWebGpu.create();
    const wasm = await KinematicWasm.load();
    const rng = new SimRng(9);
    const cases: { s: Spots; size: number; sigma: number }[] = [];
    for (const [size, sigma] of [[33, 1], [64, 3], [64, 0.7]] as const) {
      const n = 40;
      const px = Int32Array.from(
        { length: n },
        (_, i) => i < 4 ? [0, size - 1][i % 2] : rng.int(0, size - 1),
      );
      const py = Int32Array.from(
        { length: n },
        (_, i) => i < 4 ? [0, size - 1][i >> 1] : rng.int(0, size - 1),
      );
      px[10] = px[11];
      py[10] = py[11];
      const intensity = Float64Array.from(
        { length: n },
        (_, i) => i % 9 === 2 ? 0 : rng.range(1, 50),
      );
      cases.push({ s: { px, py, intensity, hkl: new Int32Array(3 * n) }, size, sigma });
    }
    // a real pattern on a 129 px detector
    const ph = preparePhase(parseCif(DEMO_CIFS.pbi2, "pbi2.cif"), "pbi2");
    const s = wasm.spots(ph, eulerToMatrix(20, 30, 40), {
      wavelength: electronWavelength(200),
      calibration: 0.02,
      relrod: 0.1,
      size: 129,
    });
    assert(s.px.length > 10, `${s.px.length} spots`);
    cases.push({ s, size: 129, sigma: 2 });
    for (const c of cases) {
      const rb = radialBins(c.size, Math.ceil((Math.floor(c.size / 2) - 1) / 2) * 2);
      const what = `size ${c.size} sigma ${c.sigma}`;
      const d = relDiff(
        await gpu.profile(c.s, c.size, c.sigma, rb),
        wasm.profile(c.s, c.size, c.sigma, rb),
      );
      assert(d < 1e-4, `${what} profile ${d}`);
      const e = relDiff(await gpu.render(c.s, c.size, c.sigma), wasm.render(c.s, c.size, c.sigma));
      assert(e < 1e-4, `${what} render ${e}`);
    }
  },
});

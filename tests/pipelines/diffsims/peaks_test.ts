import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { mkdirSync } from "node:fs";
import { findPeaksOhaver, gradient, medfilt } from "../../../lib/pipelines/diffsims/peaks.ts";
import { SimRng } from "../../../lib/data/rng.ts";
import { hasPython } from "../../_helpers.ts";

const OUT = "tests/fixtures/out/diffsims_peaks";

Deno.test("median filter and gradient", () => {
  assertEquals([...medfilt([1, 5, 2, 8, 3], 1)], [1, 2, 5, 3, 3]);
  assertEquals([...gradient([1, 2, 4, 7])], [1, 1.5, 2.5, 3]);
});

Deno.test({
  name: "O'Haver peaks equal the numpy implementation",
  ignore: !hasPython("numpy"),
  fn: async () => {
    mkdirSync(OUT, { recursive: true });
    const rng = new SimRng(5);
    const x = Array.from({ length: 147 }, (_, i) => 0.10777668889613681 + i * 0.0082905);
    const centres = [0.25, 0.35, 0.45, 0.57, 0.67, 0.81, 0.93, 1.05, 1.2];
    const y = x.map((q) =>
      centres.reduce((s, c, k) => s + (1 - 0.07 * k) * Math.exp(-0.5 * ((q - c) / 0.02) ** 2), 0) +
      0.3 * Math.exp(-2 * q) + 0.01 * rng.uniform()
    );
    Deno.writeTextFileSync(`${OUT}/in.json`, JSON.stringify({ x, y }));
    const r = await new Deno.Command("/usr/bin/python3", {
      args: ["tests/fixtures/diffsims/ohaver_ref.py", `${OUT}/in.json`, `${OUT}/out.json`],
    }).output();
    assert(r.success, new TextDecoder().decode(r.stderr));
    const ref = JSON.parse(Deno.readTextFileSync(`${OUT}/out.json`));
    const got = findPeaksOhaver(y, x);
    assertEquals(got.length, ref.position.length);
    got.forEach((p, i) => {
      assert(Math.abs(p.position - ref.position[i]) < 1e-9, `peak ${i}`);
      assert(Math.abs(p.height - ref.height[i]) < 1e-6 * Math.abs(ref.height[i]), `height ${i}`);
    });
    for (const c of centres) assert(got.some((p) => Math.abs(p.position - c) < 0.015), `${c}`);
  },
});

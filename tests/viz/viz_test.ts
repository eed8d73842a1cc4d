import assert from "node:assert/strict";
import { hasPython, pyFixture, runPython } from "../_helpers.ts";
import { readNpy } from "../../lib/io/npy.ts";
import { decodePng } from "../../lib/io/png.ts";
import {
  colorize,
  colormapLut,
  COLORMAPS,
  lutIndex,
  percentileSorted,
  resolveRange,
} from "../../lib/viz/colormap.ts";
import { ADVANCE, drawText, fontText, GLYPH_H, textHeight, textWidth } from "../../lib/viz/font.ts";
import { figurePng, formatNumber, imagePng, renderFigure, resample } from "../../lib/viz/figure.ts";
import {
  binSinogram,
  reconstructBinned,
  sinogramFigure,
} from "../../lib/pipelines/nostripesnet/figures.ts";
import { escapeXml, lineChartSvg, niceTicks } from "../../lib/viz/line_chart.ts";
import { fbp } from "../../lib/tomo/fbp.ts";
import { LumenError } from "../../lib/run/errors.ts";

Deno.test({
  name: "viz: colormaps map values exactly as matplotlib's imshow (gray, viridis, magma, RdBu_r)",
  ignore: !hasPython("numpy", "matplotlib"),
  fn: async () => {
    const dir = await pyFixture("metrics_colormap");
    const man = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
    const v = (await readNpy(`${dir}/values.npy`)).data as Float64Array;
    for (const name of man.names) {
      const want = (await readNpy(`${dir}/rgb_${name}.npy`)).data as Uint8Array;
      const got = colorize(v, [1, v.length], { colormap: name, range: [man.lo, man.hi] });
      let bad = 0;
      for (let i = 0; i < want.length; i++) if (got.data[i] !== want[i]) bad++;
      assert.equal(bad, 0, `${name}: ${bad} bytes differ from matplotlib`);
    }
    const sorted = Float64Array.from(v).sort();
    for (const [q, want] of Object.entries(man.percentiles)) {
      assert.ok(Math.abs(percentileSorted(sorted, Number(q)) - (want as number)) < 1e-12, `p${q}`);
    }
  },
});

Deno.test("viz: ranges, NaN colour, lookup rule", () => {
  assert.deepEqual(resolveRange(Float32Array.from([1, NaN, -2, Infinity, 3])), [-2, 3]);
  assert.deepEqual(resolveRange(Float32Array.from([1, -2, 3]), "symmetric"), [-3, 3]);
  assert.deepEqual(resolveRange(Float32Array.from([0, 1, 2, 3, 4]), { percentile: [25, 75] }), [
    1,
    3,
  ]);
  assert.deepEqual(resolveRange(Float32Array.from([NaN])), [0, 1]);
  assert.equal(lutIndex(0, 0, 1), 0);
  assert.equal(lutIndex(1, 0, 1), 255);
  assert.equal(lutIndex(0.5, 0, 1), 128);
  assert.equal(lutIndex(-5, 0, 1), 0);
  assert.equal(lutIndex(5, 0, 1), 255);
  assert.equal(lutIndex(NaN, 0, 1), -1);
  assert.equal(lutIndex(3, 3, 3), 0); // flat range: the low end (matplotlib)
  const rgb = colorize(Float32Array.from([0, NaN]), [1, 2], { nanColor: [1, 2, 3] });
  assert.deepEqual([...rgb.data], [0, 0, 0, 1, 2, 3]);
  for (const c of COLORMAPS) assert.equal(colormapLut(c).length, 768);
  assert.deepEqual([...colormapLut("viridis").subarray(0, 3)], [68, 1, 84]);
  assert.throws(() => colorize(new Float32Array(3), [2, 2]), LumenError);
});

Deno.test("viz: bitmap font covers printable ASCII with distinct glyphs; metrics of text", () => {
  const seen = new Map<string, string>();
  for (let c = 33; c < 127; c++) {
    const ch = String.fromCharCode(c);
    assert.equal(fontText(ch), ch, `glyph for ${ch}`);
    const w = 8, h = GLYPH_H;
    const img = new Uint8Array(w * h * 3).fill(255);
    drawText(img, w, h, ch, 0, 0);
    const key = Array.from({ length: w * h }, (_, i) => (img[3 * i] === 0 ? "#" : ".")).join("");
    assert.ok(key.includes("#"), `${ch} draws nothing`);
    assert.ok(!seen.has(key), `${ch} looks like ${seen.get(key)}`);
    seen.set(key, ch);
  }
  assert.equal(fontText("5×5 µm − ∂"), "5x5 um - ?");
  assert.equal(textWidth("abc", 2), (3 * ADVANCE - 1) * 2);
  assert.equal(textWidth(""), 0);
  assert.equal(textHeight(3), 27);
  // drawing clips at the edges without throwing
  const img = new Uint8Array(4 * 4 * 3);
  drawText(img, 4, 4, "WWW", -3, -3, { scale: 2, color: [9, 9, 9] });
  assert.ok(img.includes(9));
});

Deno.test("viz: resample averages areas when shrinking and copies when enlarging", () => {
  const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]); // 2×4
  assert.deepEqual([...resample(x, 2, 4, 1, 2)], [(1 + 2 + 5 + 6) / 4, (3 + 4 + 7 + 8) / 4]);
  assert.deepEqual([...resample(x, 2, 4, 2, 4)], [...x]);
  assert.deepEqual([...resample(Float32Array.from([1, 2]), 1, 2, 2, 4)], [1, 1, 2, 2, 1, 1, 2, 2]);
  // non-integer factor: the mean is kept
  const y = Float64Array.from({ length: 7 * 5 }, (_, i) => (i * 37) % 11);
  const r = resample(y, 7, 5, 3, 2);
  const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
  assert.ok(Math.abs(mean(r) - mean(y)) < 1e-12);
});

Deno.test("viz: figures place each panel's pixels where the layout says; PNG decodes here and in PIL", () => {
  const data = Float32Array.from([0, 1, 2, 3, 4, 5]); // 2×3, gray over [0, 5]
  const fig = renderFigure([{ data, shape: [2, 3] }], { gap: 12 });
  assert.deepEqual(fig.shape, [12 + 4 + 12, 12 + 5 + 12, 3]);
  const px = (x: number, y: number) => fig.data[(y * fig.shape[1] + x) * 3];
  for (let r = 0; r < 2; r++) {
    for (let c = 0; c < 3; c++) {
      assert.equal(px(13 + c, 13 + r), colormapLut("gray")[3 * lutIndex(r * 3 + c, 0, 5)]);
    }
  }
  assert.equal(px(12, 12), 128); // frame
  assert.equal(px(0, 0), 255); // background

  const panels = [
    { data, shape: [2, 3] as const, title: "clean", size: [40, 60] as const },
    { data, shape: [2, 3] as const, title: "stripe", colormap: "viridis" as const, colorbar: true },
    { data, shape: [2, 3] as const, title: "model output", range: [0, 10] as const },
  ];
  const png = figurePng(panels, { columns: 2, title: "Sinogram 0012" });
  const back = decodePng(png);
  const ref = renderFigure(panels, { columns: 2, title: "Sinogram 0012" });
  assert.deepEqual(back.shape, ref.shape);
  assert.deepEqual(back.data, ref.data);
  // a 2×2 grid: the figure is wider than two 60-pixel panels and taller than the title + 2 rows
  assert.ok(ref.shape[1] > 2 * 60 && ref.shape[0] > textHeight(3) + 40 + 2);
  assert.throws(() => renderFigure([]), LumenError);
  assert.throws(() => renderFigure([{ data, shape: [3, 3] }]), /6 values/);
  assert.equal(formatNumber(0.000123), "1.23e-4");
  assert.equal(formatNumber(65535), "65500");
  assert.equal(formatNumber(-0.5), "-0.5");

  if (hasPython("PIL")) {
    const dir = Deno.makeTempDirSync({ prefix: "lumen-viz-" });
    try {
      Deno.writeFileSync(`${dir}/f.png`, png);
      Deno.writeFileSync(`${dir}/i.png`, imagePng(data, [2, 3], { size: [4, 6] }));
      const out = runPython(
        `-c from PIL import Image; import sys\nfor p in sys.argv[1:]:\n  im = Image.open(p); im.load(); print(im.mode, im.size[0], im.size[1])`,
        [`${dir}/f.png`, `${dir}/i.png`],
      ).trim().split("\n");
      assert.deepEqual(out, [`RGB ${ref.shape[1]} ${ref.shape[0]}`, "RGB 6 4"]);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  }
});

function diskSinogram(A: number, C: number): Float32Array {
  const s = new Float32Array(A * C);
  for (let a = 0; a < A; a++) {
    const th = (Math.PI * a) / A;
    for (let c = 0; c < C; c++) {
      for (const [x, y, r] of [[0, 0, C * 0.3], [C * 0.12, C * 0.08, C * 0.08]]) {
        const d = c - C / 2 - (x * Math.cos(th) - y * Math.sin(th));
        if (Math.abs(d) < r) s[a * C + c] += (2 * Math.sqrt(r * r - d * d)) / C;
      }
    }
  }
  return s;
}

Deno.test("viz: sinograms over their FBP reconstructions (clean / stripe / model output)", () => {
  const A = 120, C = 96;
  const clean = diskSinogram(A, C);
  const stripe = clean.map((v, i) => (i % C === 40 ? v + 0.3 : v));
  const { png, panels, recons, reconSide } = sinogramFigure([
    { title: "clean", data: clean },
    { title: "stripe", data: stripe },
    { title: "model output", data: clean },
  ], { shape: [A, C], title: "sinogram 7" });
  assert.equal(panels.length, 6);
  assert.equal(reconSide, C);
  // binning 1 = plain fbp
  assert.deepEqual(recons[0], fbp(clean, A, C));
  // the stripe makes a ring: its reconstruction differs, the model output's does not
  const diff = (a: Float32Array, b: Float32Array) =>
    a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0);
  assert.ok(diff(recons[1], recons[0]) > 1);
  assert.equal(diff(recons[2], recons[0]), 0);
  // shared ranges: the same range object for the three sinograms, and for the three recons
  assert.deepEqual(panels[0].range, panels[1].range);
  assert.deepEqual(panels[3].range, panels[5].range);
  assert.ok(decodePng(png).shape[1] > 3 * C);
  // given reconstructions are used as they are
  const given = sinogramFigure([{ title: "a", data: clean, recon: recons[1] }], {
    shape: [A, C],
  });
  assert.equal(given.recons[0], recons[1]);
  assert.throws(
    () => sinogramFigure([{ title: "x", data: new Float32Array(5) }], { shape: [A, C] }),
    LumenError,
  );
});

Deno.test("viz: binned reconstruction of a wide sinogram stays close to the full one", () => {
  const A = 180, C = 256;
  const s = diskSinogram(A, C);
  const b = binSinogram(s, A, C, 2);
  assert.equal(b.cols, 128);
  assert.equal(b.angles, 90);
  const full = fbp(s, A, C);
  const half = reconstructBinned(s, A, C, { bin: 2 });
  assert.equal(half.size, 128);
  // compare at matching positions (2×2 means of the full image)
  const down = resample(full, C, C, 128, 128);
  let num = 0, den = 0;
  for (let i = 0; i < down.length; i++) {
    num += (down[i] - half.image[i]) ** 2;
    den += down[i] ** 2;
  }
  assert.ok(Math.sqrt(num / den) < 0.15, `relative error ${Math.sqrt(num / den)}`);
});

Deno.test("viz: line charts: ticks, gaps, escaping, log scale", () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(3, 47, 5), [10, 20, 30, 40]);
  assert.deepEqual(niceTicks(3, 47, 4), [20, 40]);
  assert.equal(escapeXml(`a<b & "c"`), "a&lt;b &amp; &quot;c&quot;");
  const svg = lineChartSvg([
    { name: "loss_g <train>", x: [1, 2, 3, 4], y: [4, NaN, 2, 1] },
    { name: "val", x: [1, 2], y: [3, 3], dashed: true },
  ], { title: "G & D", xLabel: "epoch", logY: true });
  assert.ok(svg.startsWith("<svg") && svg.endsWith("</svg>"));
  assert.ok(svg.includes("loss_g &lt;train&gt;") && svg.includes("G &amp; D"));
  // the NaN splits the first line into two paths; the dashed one is one path
  assert.equal((svg.match(/<path /g) ?? []).length, 3);
  assert.equal((svg.match(/stroke-dasharray/g) ?? []).length, 2); // line + legend
  const empty = lineChartSvg([]);
  assert.ok(empty.includes("no data"));
});

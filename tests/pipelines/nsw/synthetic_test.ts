import assert from "node:assert/strict";
import { hasPython, runPython } from "../../_helpers.ts";
import { decodeJpeg } from "../../../lib/io/jpeg.ts";
import {
  encodeGrayJpegFast,
  EXPECTED_ENTRIES,
  extractDataset,
  listVideos,
  makeImageFolder,
  makeSplit,
  PHASES,
  planEmbryoVideos,
  PLANES,
  readPhaseRanges,
  splitJsonText,
  videoFrames,
  writeEmbryoArchives,
  writeEmbryoTree,
} from "../../../lib/pipelines/nsw/mod.ts";

Deno.test("nsw synthetic embryos: archives extract into the public tree; phases in order", async () => {
  const tmp = Deno.makeTempDirSync();
  try {
    const o = { videos: 5, size: 48, seed: 3 };
    const t = await writeEmbryoArchives(`${tmp}/archives`, o);
    assert.deepEqual(
      [...Deno.readDirSync(`${tmp}/archives`)].map((e) => e.name).sort(),
      [...EXPECTED_ENTRIES].sort(),
    );
    const r = await extractDataset(`${tmp}/archives`, `${tmp}/ex`);
    assert.equal(r.files, t.frames + 2 * 5 + 1);
    assert.equal(t.frames, 7 * t.videos.reduce((s, v) => s + v.frames, 0));
    const videos = listVideos(`${tmp}/ex`);
    assert.deepEqual(videos, t.videos.map((v) => v.name));
    for (const v of videos) {
      const ranges = [...readPhaseRanges(`${tmp}/ex`, v)];
      const idx = ranges.map(([p]) => PHASES.indexOf(p));
      assert.deepEqual(idx, [...idx].sort((a, b) => a - b));
      for (let i = 1; i < ranges.length; i++) {
        assert.equal(ranges[i][1].first, ranges[i - 1][1].last + 1);
      }
      for (const p of PLANES) {
        const frames = videoFrames(`${tmp}/ex`, p.name, v);
        assert.equal(frames.length, t.videos.find((x) => x.name === v)!.frames);
      }
    }
    const one = videoFrames(`${tmp}/ex`, "F-45", videos[0])[0].path;
    const img = decodeJpeg(Deno.readFileSync(one), one);
    assert.deepEqual(img.shape.slice(0, 2), [48, 48]);
    // same seed, same bytes
    await writeEmbryoTree(`${tmp}/again`, o);
    assert.deepEqual(Deno.readFileSync(one), Deno.readFileSync(one.replace("/ex/", "/again/")));
    // split and image folder run on it
    const split = makeSplit(`${tmp}/ex`, [0.6, 0.2, 0.2], 1234567890);
    assert.equal(
      splitJsonText(split),
      splitJsonText(makeSplit(`${tmp}/again`, [0.6, 0.2, 0.2], 1234567890)),
    );
    const f = await makeImageFolder({
      dataset: `${tmp}/ex`,
      videos: split.train,
      phases: PHASES,
      parent: tmp,
      name: "all",
      shuffle: true,
      seed: 0,
    });
    assert.ok(f.images.length >= split.train.length * 13);
    if (hasPython("PIL")) {
      const out = runPython(
        `-c from PIL import Image; im = Image.open("${f.folder}/images/0.jpeg"); print(im.size)`,
      );
      assert.equal(out.trim(), "(48, 48)");
    }
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("nsw synthetic embryos: varied plans, every phase drawn", () => {
  const vs = planEmbryoVideos({ videos: 40, seed: 0 });
  const seen = new Set(vs.flatMap((v) => v.phases.map((r) => r[0])));
  assert.equal(seen.size, 16);
  assert.equal(new Set(vs.map((v) => v.name)).size, 40);
});

Deno.test("nsw gray JPEG encoder: decodes (jpeg-js, and PIL where present) close to its input", () => {
  for (const [w, h] of [[48, 48], [61, 37], [8, 8]]) {
    const px = new Float32Array(w * h);
    for (let i = 0; i < px.length; i++) {
      px[i] = 128 + 60 * Math.sin(i % w / 5) * Math.cos(Math.floor(i / w) / 7);
    }
    const bytes = encodeGrayJpegFast(px, w, h, 92);
    const d = decodeJpeg(bytes, "mem");
    assert.deepEqual(d.shape, [h, w]);
    let se = 0;
    for (let i = 0; i < px.length; i++) se += ((d.data as Uint8Array)[i] - Math.round(px[i])) ** 2;
    const psnr = 10 * Math.log10(255 ** 2 / (se / px.length));
    assert.ok(psnr > 35, `psnr ${psnr}`);
    if (hasPython("PIL", "numpy")) {
      const tmp = Deno.makeTempFileSync({ suffix: ".jpg" });
      Deno.writeFileSync(tmp, bytes);
      const out = runPython(
        `-c import numpy as np; from PIL import Image; a = np.asarray(Image.open("${tmp}")); ` +
          `print(a.shape, a.astype(float).sum())`,
      );
      Deno.removeSync(tmp);
      const sum = (d.data as Uint8Array).reduce((s, v) => s + v, 0);
      const m = /\((\d+), (\d+)\) ([\d.]+)/.exec(out)!;
      assert.deepEqual([Number(m[1]), Number(m[2])], [h, w]);
      assert.ok(Math.abs(Number(m[3]) - sum) / px.length < 2);
    }
  }
});

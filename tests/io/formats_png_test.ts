/**
 * lib/io/png and lib/io/jpeg: PNGs PIL writes (gray 1/8/16-bit, gray+alpha, RGB, RGBA, palette
 * with and without transparency, Adam7) read here identically; PNGs written here read in PIL
 * identically; JPEGs read within the usual IDCT differences of libjpeg; corrupt files give one line.
 */
import assert from "node:assert/strict";
import { hasPython, pyFixture, runPython } from "../_helpers.ts";
import {
  arrayHash,
  assertArray,
  assertLumenError,
  type Expected,
  listDir,
  tempDir,
} from "./formats_helpers.ts";
import { type NdArray } from "../../lib/io/array.ts";
import { decodePng, encodePng, readPng, writePng } from "../../lib/io/png.ts";
import { decodeJpeg, readJpeg } from "../../lib/io/jpeg.ts";
import { readNpy } from "../../lib/io/npy.ts";

const PY = hasPython("numpy", "PIL");

function image(dtype: "uint8" | "uint16", shape: number[]): NdArray {
  const n = shape.reduce((a, b) => a * b, 1);
  const top = dtype === "uint8" ? 255 : 65535;
  const data = dtype === "uint8" ? new Uint8Array(n) : new Uint16Array(n);
  const w = shape[1], c = shape[2] ?? 1;
  for (let i = 0; i < n; i++) {
    const x = Math.floor(i / c) % w, y = Math.floor(i / c / w), k = i % c;
    const smooth = (Math.sin(x / 4) + Math.cos(y / 6) + 2) / 4 * top;
    data[i] = Math.min(
      top,
      Math.max(0, Math.round(smooth * (1 - k * 0.2) + ((i * 7919) % 13) - 6)),
    );
  }
  return { dtype, shape, data };
}

Deno.test({
  name: "png: files written by PIL read identically (every color type, 1/8/16-bit, Adam7)",
  ignore: !PY,
  fn: async () => {
    const dir = await pyFixture("formats_png");
    const m: Record<string, Expected> = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
    let n = 0;
    for (const [name, exp] of Object.entries(m)) {
      if (!name.endsWith(".png")) continue;
      await assertArray(await readPng(`${dir}/${name}`), exp, name);
      n++;
    }
    assert.ok(n >= 11);
    assert.equal((await readPng(`${dir}/adam7_rgb8.png`)).info.interlaced, true);
  },
});

Deno.test({
  name: "png: files written here read identically in PIL",
  ignore: !PY,
  fn: async () => {
    const dir = tempDir();
    try {
      const cases: Record<string, NdArray> = {
        "gray8.png": image("uint8", [37, 50]),
        "gray16.png": image("uint16", [37, 50]),
        "gray8_1.png": image("uint8", [5, 7, 1]),
        "gray_alpha.png": image("uint8", [20, 30, 2]),
        "rgb8.png": image("uint8", [29, 41, 3]),
        "rgba8.png": image("uint8", [29, 41, 4]),
        "rgb16.png": image("uint16", [9, 11, 3]),
        "one_pixel.png": image("uint8", [1, 1]),
      };
      for (const [name, a] of Object.entries(cases)) await writePng(`${dir}/${name}`, a);
      const got = JSON.parse(runPython("tests/fixtures/formats_describe.py", ["png", dir]));
      const modes: Record<string, string> = {
        "gray8.png": "L",
        "gray_alpha.png": "LA",
        "rgb8.png": "RGB",
        "rgba8.png": "RGBA",
      };
      for (const [name, a] of Object.entries(cases)) {
        const g = got[name];
        if (name === "rgb16.png") {
          assert.deepEqual(g.size, [11, 9]); // PIL reduces 16-bit RGB to 8 bits: size only
          continue;
        }
        const shape = name === "gray8_1.png" ? [5, 7] : a.shape;
        assert.deepEqual(g.shape, shape, name);
        assert.equal(g.sha256, await arrayHash(a), `${name}: values in PIL`);
        if (modes[name]) assert.equal(g.mode, modes[name], name);
        if (name === "gray16.png") assert.ok(["I", "I;16"].includes(g.mode), g.mode);
      }
      // And back here, bit for bit.
      for (const [name, a] of Object.entries(cases)) {
        const b = await readPng(`${dir}/${name}`);
        assert.equal(await arrayHash(b), await arrayHash(a), name);
      }
      await assertLumenError(
        () => writePng(`${dir}/gray8.png`, cases["gray8.png"]),
        /gray8\.png: exists; pass --overwrite$/,
      );
      assert.equal(listDir(dir).length, Object.keys(cases).length);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test("png: corrupt files are one-line errors naming the chunk", async () => {
  const good = encodePng(image("uint8", [10, 12]));
  await assertLumenError(
    () => decodePng(new TextEncoder().encode("GIF89a......"), "x.png"),
    /^x\.png: byte 0: not a PNG file \(bad signature\)$/,
  );
  const crc = good.slice();
  crc[45] ^= 1; // inside IDAT's data
  await assertLumenError(
    () => decodePng(crc, "x.png"),
    /^x\.png: chunk IDAT at byte 33: CRC mismatch; corrupt file$/,
  );
  await assertLumenError(
    () => decodePng(good.subarray(0, 50), "x.png"),
    /^x\.png: chunk IDAT at byte 33: length \d+ runs past the end of the file; truncated\?$/,
  );
  await assertLumenError(
    () => decodePng(good.subarray(0, good.length - 12), "x.png"),
    /^x\.png: byte \d+: no IEND chunk; truncated file\?$/,
  );
  assert.throws(
    () => encodePng({ dtype: "float32", shape: [2, 2], data: new Float32Array(4) }),
    /PNG holds uint8 or uint16/,
  );
});

Deno.test({
  name: "jpeg: grayscale, color and progressive JPEGs read within libjpeg's rounding",
  ignore: !PY,
  fn: async () => {
    const dir = await pyFixture("formats_png");
    const m: Record<string, Expected> = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
    for (const name of ["gray.jpg", "color.jpg", "color_progressive.jpg"]) {
      const a = await readJpeg(`${dir}/${name}`);
      const ref = await readNpy(`${dir}/${name}.npy`); // PIL's decode
      assert.equal(a.dtype, "uint8");
      assert.deepEqual(a.shape, m[name].shape, name);
      let max = 0, sum = 0;
      for (let i = 0; i < ref.data.length; i++) {
        const d = Math.abs((a.data as Uint8Array)[i] - (ref.data as Uint8Array)[i]);
        max = Math.max(max, d);
        sum += d;
      }
      const mean = sum / ref.data.length;
      // jpeg-js and libjpeg differ in IDCT rounding and chroma upsampling.
      assert.ok(
        max <= (name === "gray.jpg" ? 2 : 10) && mean < 1.5,
        `${name}: max ${max}, mean ${mean}`,
      );
    }
    const bytes = await Deno.readFile(`${dir}/color.jpg`);
    await assertLumenError(
      () => decodeJpeg(bytes.subarray(2), "x.jpg"),
      /^x\.jpg: byte 0: not a JPEG file \(no SOI marker\)$/,
    );
    const bad = bytes.slice(0, 600);
    await assertLumenError(
      () => decodeJpeg(bad, "cut.jpg"),
      /^cut\.jpg: corrupt JPEG data \(truncated: no end-of-image marker\)$/,
    );
  },
});

/**
 * Checkpoints: safetensors encoding (round trip, Python can read it, truncated files are clear
 * errors naming the tensor), exact resume of a NoStripesNet GAN (N steps straight vs N/2, save,
 * load into fresh objects, N/2 more → identical weight and optimiser bytes), and clear errors for
 * a checkpoint of another architecture or an altered file.
 */
import assert from "node:assert/strict";
import { hasPython, runPython } from "../_helpers.ts";
import { assertBytesEqual, perBackend } from "./nn_helpers.ts";
import { tensor } from "../../lib/tensor/tensor.ts";
import { Rng } from "../../lib/tensor/ops/random.ts";
import { InitRng, normal } from "../../lib/nn/init.ts";
import { PatchUNet } from "../../lib/pipelines/nostripesnet/patch_unet.ts";
import { PatchDiscriminator } from "../../lib/pipelines/nostripesnet/patch_discriminator.ts";
import { MaskedGAN } from "../../lib/pipelines/nostripesnet/gan.ts";
import { loadCheckpoint, readCheckpointRecord, saveCheckpoint } from "../../lib/nn/checkpoint.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  parseSafetensorsHeader,
} from "../../lib/nn/safetensors.ts";
import { LumenError } from "../../lib/run/errors.ts";
import type { NdArray } from "../../lib/io/array.ts";

Deno.test("safetensors: round trip of every dtype, and Python reads what we write", async () => {
  const tensors = new Map<string, NdArray>([
    ["a.weight", {
      dtype: "float32",
      shape: [2, 3],
      data: new Float32Array([1, -2, 3.5, 0, 1e-30, -0]),
    }],
    ["b", { dtype: "float64", shape: [2], data: new Float64Array([Math.PI, -1]) }],
    ["c", { dtype: "int32", shape: [3], data: new Int32Array([1, -5, 7]) }],
    ["d", { dtype: "int64", shape: [1], data: new BigInt64Array([-(2n ** 40n)]) }],
    ["e", { dtype: "uint8", shape: [2, 2], data: new Uint8Array([0, 1, 254, 255]) }],
    ["scalar", { dtype: "float32", shape: [], data: new Float32Array([7]) }],
    ["empty", { dtype: "float32", shape: [0, 3], data: new Float32Array(0) }],
  ]);
  const bytes = encodeSafetensors(tensors, { note: "x" });
  assert.equal(
    (8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))) % 8,
    0,
    "header padded to 8",
  );
  const back = decodeSafetensors(bytes);
  assert.deepEqual(back.metadata, { note: "x" });
  assert.deepEqual([...back.tensors.keys()], [...tensors.keys()]);
  for (const [k, v] of tensors) {
    assert.deepEqual(back.tensors.get(k)!.shape, v.shape, k);
    assert.deepEqual(back.tensors.get(k)!.data, v.data, k);
    assert.equal(back.tensors.get(k)!.dtype, v.dtype, k);
  }
  if (!hasPython("numpy")) return;
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  await Deno.writeFile(path, bytes);
  const out = runPython(
    "-c import json,struct,sys,numpy as np\n" +
      "b=open(sys.argv[1],'rb').read(); n=struct.unpack('<Q',b[:8])[0]; h=json.loads(b[8:8+n]); d=b[8+n:]\n" +
      "e=h['a.weight']; a=np.frombuffer(d[e['data_offsets'][0]:e['data_offsets'][1]],'<f4').reshape(e['shape'])\n" +
      "e=h['d']; i=np.frombuffer(d[e['data_offsets'][0]:e['data_offsets'][1]],'<i8')\n" +
      "print(h['__metadata__']['note'], a[0,2], a.shape, i[0], h['c']['dtype'])",
    [path],
  );
  assert.equal(out.trim(), "x 3.5 (2, 3) -1099511627776 I32");
  await Deno.remove(path);
});

Deno.test("safetensors: a truncated file is an error naming the tensor, its shape and the bytes", () => {
  const w = new Float32Array(64 * 16).fill(1);
  const bytes = encodeSafetensors(
    new Map<string, NdArray>([
      ["down1.0.weight", { dtype: "float32", shape: [64, 1, 4, 4], data: w }],
      ["down1.0.bias", { dtype: "float32", shape: [64], data: new Float32Array(64) }],
    ]),
  );
  const cut = bytes.slice(0, bytes.length - 100);
  assert.throws(() => decodeSafetensors(cut, "gen.safetensors"), (e: Error) => {
    assert.ok(e instanceof LumenError);
    assert.match(
      e.message,
      /^gen\.safetensors: tensor 'down1\.0\.bias': truncated safetensors file: tensor 'down1\.0\.bias' \(F32 \[64\]\) needs bytes 4096\.\.4352 of the data section, but the file holds only 4252 data bytes/,
    );
    return true;
  });
  assert.throws(
    () => decodeSafetensors(bytes.slice(0, 50), "gen.safetensors"),
    /gen\.safetensors: header: truncated safetensors file \(or not safetensors\): the header length is \d+ bytes but the file has only 42 bytes/,
  );
  assert.throws(
    () => decodeSafetensors(bytes.slice(0, 5), "x.safetensors"),
    /fewer than the 8-byte header length/,
  );
  assert.throws(
    () => decodeSafetensors(new TextEncoder().encode("\x05\0\0\0\0\0\0\0hello"), "y"),
    /header is not JSON/,
  );
  // a header whose offsets disagree with the shape
  const h = parseSafetensorsHeader(bytes);
  assert.equal(h.entries.get("down1.0.weight")!.data_offsets[1], 4096);
});

function batch(step: number, n = 2, h = 45, w = 32) {
  const r = new InitRng(100 + step);
  const clean = normal([n, 1, h, w], r).map((v) => Math.tanh(v * 0.7));
  const stripe = clean.slice();
  const mask = new Float32Array(clean.length);
  for (let b = 0; b < n; b++) {
    const c = 3 + ((step * 7 + b * 5) % (w - 6));
    for (let y = 0; y < h; y++) {
      for (let x = c - 1; x <= c + 1; x++) {
        const i = (b * h + y) * w + x;
        stripe[i] = Math.min(1, stripe[i] + 0.3);
        mask[i] = 1;
      }
    }
  }
  const shape = [n, 1, h, w];
  return { stripe: tensor(stripe, shape), mask: tensor(mask, shape), clean: tensor(clean, shape) };
}

function makeGan(seed: number, dropSeed: number) {
  const rng = new InitRng(seed);
  const dropoutRng = new Rng(dropSeed);
  const gen = new PatchUNet({ width: 4, depth: 4, rng, dropoutRng });
  const disc = new PatchDiscriminator({ width: 4, depth: 3, rng });
  return { gen, disc, gan: new MaskedGAN(gen, disc), dropoutRng };
}

Deno.test("resume is exact: N steps straight = N/2, save, load into fresh objects, N/2", async (t) => {
  await perBackend(t, async () => {
    const N = 4;
    const dir = await Deno.makeTempDir({ prefix: "lumen_ckpt_" });
    const a = makeGan(1, 42);
    for (let s = 0; s < N; s++) await a.gan.trainStep(batch(s));
    const b = makeGan(1, 42);
    for (let s = 0; s < N / 2; s++) await b.gan.trainStep(batch(s));
    b.gan.endEpoch(3.0, 0.7); // scheduler state travels too
    a.gan.endEpoch(3.0, 0.7);
    await saveCheckpoint(`${dir}/ckpt`, {
      modules: { gen: b.gen, disc: b.disc },
      optimizers: { gen: b.gan.optG, disc: b.gan.optD },
      schedulers: { gen: b.gan.schedG, disc: b.gan.schedD },
      rngs: { dropout: b.dropoutRng },
      epoch: 1,
      step: N / 2,
      extra: { note: "half way" },
    });
    // fresh objects with other initial weights and another dropout seed: all must be restored
    const c = makeGan(999, 7);
    const rec = await loadCheckpoint(`${dir}/ckpt`, {
      modules: { gen: c.gen, disc: c.disc },
      optimizers: { gen: c.gan.optG, disc: c.gan.optD },
      schedulers: { gen: c.gan.schedG, disc: c.gan.schedD },
      rngs: { dropout: c.dropoutRng },
    });
    assert.equal(rec.step, N / 2);
    assert.deepEqual(rec.extra, { note: "half way" });
    assert.equal(rec.modules.gen.config.type, "PatchUNet");
    for (let s = N / 2; s < N; s++) await c.gan.trainStep(batch(s));
    for (const [x, y, what] of [[a.gen, c.gen, "gen"], [a.disc, c.disc, "disc"]] as const) {
      const sx = await x.stateDict(), sy = await y.stateDict();
      for (const [k, v] of sx) {
        assertBytesEqual(v.data as Float32Array, sy.get(k)!.data as Float32Array, `${what}.${k}`);
      }
    }
    for (const [x, y] of [[a.gan.optG, c.gan.optG], [a.gan.optD, c.gan.optD]] as const) {
      const sx = await x.stateDict(), sy = await y.stateDict();
      assert.deepEqual(sx.scalars, sy.scalars);
      for (const [k, v] of sx.tensors) {
        assertBytesEqual(
          v.data as Float32Array,
          sy.tensors.get(k)!.data as Float32Array,
          `optimiser ${k}`,
        );
      }
    }
    assert.deepEqual(c.dropoutRng.state(), a.dropoutRng.state());
    await Deno.remove(dir, { recursive: true });
  });
});

Deno.test("checkpoint errors: another architecture, truncated or altered files", async (t) => {
  await perBackend(t, async () => {
    const dir = await Deno.makeTempDir({ prefix: "lumen_ckpt_bad_" });
    const a = makeGan(1, 1);
    await saveCheckpoint(`${dir}/w8`, {
      modules: { gen: a.gen, disc: a.disc },
      optimizers: { gen: a.gan.optG },
    });
    const rec = await readCheckpointRecord(`${dir}/w8.json`);
    assert.equal(rec.modules.gen.tensors["down1.0.weight"].join(","), "4,1,4,4");
    // another width
    const wide = new PatchUNet({ width: 8, depth: 4 });
    await assert.rejects(loadCheckpoint(`${dir}/w8`, { modules: { gen: wide } }), (e: Error) => {
      assert.ok(e instanceof LumenError);
      assert.match(
        e.message,
        /w8\.safetensors: gen: is a checkpoint of another architecture: width 4 in the checkpoint vs 8 in the model; shape mismatch: 'down1\.0\.weight' is \[4, 1, 4, 4\] in the checkpoint but \[8, 1, 4, 4\] in the model/,
      );
      return true;
    });
    // another depth: missing and unexpected tensors are named with their shapes
    await assert.rejects(
      loadCheckpoint(`${dir}/w8`, { modules: { gen: new PatchUNet({ width: 4, depth: 5 }) } }),
      /depth 4 in the checkpoint vs 5 in the model; .*missing from the checkpoint: .*'down5\.0\.weight' \[32, 32, 4, 4\]/,
    );
    // a discriminator checkpoint loaded as a generator
    await assert.rejects(
      loadCheckpoint(`${dir}/w8`, { modules: { disc: new PatchUNet({ width: 4, depth: 4 }) } }),
      /type "PatchDiscriminator" in the checkpoint vs "PatchUNet" in the model.*missing from the checkpoint: 'down1\.0\.weight' \[4, 1, 4, 4\].*not in the model: 'model\.0\.0\.weight' \[4, 2, 4, 4\]/,
    );
    // no such module
    await assert.rejects(
      loadCheckpoint(`${dir}/w8`, { modules: { generator: a.gen } }),
      /no module 'generator' \(it holds gen, disc\)/,
    );
    // optimiser state for other parameters
    await assert.rejects(
      loadCheckpoint(`${dir}/w8`, { modules: {}, optimizers: { gen: a.gan.optD } }),
      /holds state for \d+ parameters, the optimiser has \d+|does not fit/,
    );
    // truncated weights file
    const wpath = `${dir}/w8.safetensors`;
    const bytes = await Deno.readFile(wpath);
    await Deno.writeFile(wpath, bytes.slice(0, bytes.length - 1000));
    await assert.rejects(
      loadCheckpoint(`${dir}/w8`, { modules: { gen: a.gen } }),
      /w8\.safetensors: tensor '([^']+)': truncated safetensors file: tensor '\1' \(F32 \[[\d, ]+\]\) needs bytes \d+\.\.\d+ of the data section/,
    );
    // same length, altered bytes
    const altered = bytes.slice();
    altered[altered.length - 3] ^= 0xff;
    await Deno.writeFile(wpath, altered);
    await assert.rejects(
      loadCheckpoint(`${dir}/w8`, { modules: { gen: a.gen } }),
      /does not match its record .*w8\.json/,
    );
    // missing record
    await assert.rejects(
      loadCheckpoint(`${dir}/nothing`, { modules: { gen: a.gen } }),
      /nothing\.json: checkpoint record not found/,
    );
    await Deno.remove(dir, { recursive: true });
  });
});

Deno.test("torch checkpoints: truncated or foreign files are clear errors", async () => {
  const { readTorchFile } = await import("../../lib/nn/torch_checkpoint.ts");
  if (!hasPython("torch")) return;
  const { pyFixture } = await import("../_helpers.ts");
  const dir = await pyFixture("torch_nn_gan");
  for (const f of ["nsn_style.tar", "nsn_style_legacy.tar"]) {
    const bytes = await Deno.readFile(`${dir}/${f}`);
    assert.throws(() => readTorchFile(bytes.slice(0, bytes.length - 5000), f), (e: Error) => {
      assert.ok(e instanceof LumenError, String(e));
      assert.match(
        e.message,
        new RegExp(`^${f.replace(".", "\\.")}: .*truncated torch checkpoint`),
      );
      return true;
    });
  }
  assert.throws(
    () => readTorchFile(new TextEncoder().encode("hello world"), "notes.txt"),
    /notes\.txt: not a torch checkpoint/,
  );
});

/**
 * lib/io/nifti: files nibabel writes (every dtype, .nii.gz, 2-D/4-D, scaling, sform/qform/base
 * affines, big-endian) read here with identical header fields, affine, stored and scaled values;
 * files written here read in nibabel with the same header, affine and values; the qform written
 * for an affine matches nibabel's; a bad header size is a one-line error.
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
import { type DType, type NdArray } from "../../lib/io/array.ts";
import { allocTyped } from "../../lib/io/npy.ts";
import {
  decodeNifti,
  encodeNifti,
  encodeNiftiHeader,
  niftiAffine,
  type NiftiHeader,
  niftiHeaderFor,
  parseNiftiHeader,
  readNifti,
  writeNifti,
} from "../../lib/io/nifti.ts";

const PY = hasPython("numpy", "nibabel");

interface Fixture {
  header: Record<string, unknown>;
  affine: number[][];
  data: Expected;
  fdata: Expected;
}

/** Header values as the Python side prints them: NaN as "nan", float32-rounded floats. */
function norm(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(norm);
  if (typeof v === "number" && Number.isNaN(v)) return "nan";
  return v;
}

function assertHeader(mine: NiftiHeader, theirs: Record<string, unknown>, what: string) {
  for (const [k, v] of Object.entries(theirs)) {
    const m = norm((mine as unknown as Record<string, unknown>)[k]);
    const f = typeof v === "number" || (Array.isArray(v) && typeof v[0] === "number")
      ? norm(roundF32(m))
      : m;
    assert.deepEqual(f, v, `${what}: header field ${k}`);
  }
}

function roundF32(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(roundF32);
  return typeof v === "number" ? Math.fround(v) : v;
}

function assertAffine(a: number[][], b: number[][], tol: number, what: string) {
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      assert.ok(
        Math.abs(a[i][j] - b[i][j]) <= tol * Math.max(1, Math.abs(b[i][j])),
        `${what}: affine[${i}][${j}] ${a[i][j]} vs ${b[i][j]}`,
      );
    }
  }
}

Deno.test({
  name:
    "nifti: files written by nibabel read with identical header, affine, stored and scaled values",
  ignore: !PY,
  fn: async () => {
    const dir = await pyFixture("formats_nifti");
    const m: Record<string, Fixture> = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
    for (const [name, exp] of Object.entries(m)) {
      const img = await readNifti(`${dir}/${name}`, { scale: true });
      assertHeader(img.header, exp.header, name);
      assertAffine(img.affine, exp.affine, 0, name);
      await assertArray(img.data, exp.data, `${name} data`);
      await assertArray(img.scaled!, exp.fdata, `${name} scaled`);
    }
    assert.ok(Object.keys(m).length >= 16);
    const be = await readNifti(`${dir}/bigendian.nii`);
    assert.equal(be.bigEndian, true);
    // Indexing: element [i, j, k] here is nibabel's arr[i, j, k] (x fastest on disk).
    const s = await readNifti(`${dir}/scaled_int16.nii`, { scale: true });
    const raw = s.data.data as Int16Array, sc = s.scaled!.data as Float64Array;
    assert.equal(sc[7], raw[7] * 2.5 - 10);
  },
});

function volume(dtype: DType, shape: number[]): NdArray {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = allocTyped(dtype, n) as unknown as { [i: number]: number | bigint };
  for (let i = 0; i < n; i++) {
    const v = (i * 2654435761) % 1000 - (dtype.startsWith("u") ? 0 : 500);
    d[i] = dtype === "int64" ? BigInt(v) * 10n ** 12n : dtype.startsWith("float") ? v / 8 : v;
  }
  return { dtype, shape, data: d as unknown as NdArray["data"] };
}

const SHEAR = [[-2.0, 0.1, 0, 10], [0, 3, 0.05, -20], [0.2, 0, 1.5, 5], [0, 0, 0, 1]];

Deno.test({
  name: "nifti: files written here read in nibabel with the same header, affine and values",
  ignore: !PY,
  fn: async () => {
    const fx: Record<string, Fixture> = JSON.parse(
      await Deno.readTextFile(`${await pyFixture("formats_nifti")}/manifest.json`),
    );
    const dir = tempDir();
    try {
      const cases: Record<string, { data: NdArray; opts: Parameters<typeof writeNifti>[2] }> = {};
      for (
        const dt of [
          "uint8",
          "int16",
          "int32",
          "float32",
          "float64",
          "int8",
          "uint16",
          "uint32",
          "int64",
        ] as DType[]
      ) {
        cases[`${dt}.nii`] = { data: volume(dt, [5, 6, 7]), opts: { affine: SHEAR } };
      }
      cases["vol4d.nii.gz"] = { data: volume("float32", [4, 5, 6, 3]), opts: { affine: SHEAR } };
      cases["img2d.nii.gz"] = { data: volume("int16", [9, 8]), opts: {} };
      cases["scaled.nii"] = {
        data: volume("int16", [6, 5, 4]),
        opts: {
          affine: SHEAR,
          header: { scl_slope: 2.5, scl_inter: -10, descrip: "Lumen test", xyzt_units: 10 },
        },
      };
      cases["qform.nii"] = {
        data: volume("float32", [4, 4, 4]),
        opts: {
          affine: [[-1.5, 0, 0, 3], [0, 1.6, -1.8, 2], [0, 1.2, 2.4, 1], [0, 0, 0, 1]],
          sformCode: 0,
          qformCode: 1,
        },
      };
      for (const [name, c] of Object.entries(cases)) {
        await writeNifti(`${dir}/${name}`, c.data, c.opts);
      }
      const got: Record<string, Fixture & { gz: boolean }> = JSON.parse(
        runPython("tests/fixtures/formats_describe.py", ["nifti", dir]),
      );
      for (const [name, c] of Object.entries(cases)) {
        const g = got[name];
        const h = niftiHeaderFor(c.data, c.opts);
        assertHeader(h, g.header, name);
        assert.equal(g.gz, name.endsWith(".gz"), `${name}: gzip`);
        assert.equal(g.data.sha256, await arrayHash(c.data), `${name}: values in nibabel`);
        assert.deepEqual(g.data.shape, c.data.shape, `${name}: shape in nibabel`);
        // nibabel's affine is what we compute from the header as stored (float32 fields)…
        assertAffine(
          niftiAffine(parseNiftiHeader(encodeNiftiHeader(h)).header),
          g.affine,
          1e-12,
          name,
        );
        // …and, for the sform, the affine we passed (to float32 precision).
        if (c.opts?.affine) assertAffine(g.affine, c.opts.affine, 1e-6, `${name} vs input`);
      }
      // The qform written for SHEAR matches the one nibabel wrote for the same affine.
      const nb = fx["int16.nii"].header;
      const mine = got["int16.nii"].header;
      for (
        const k of ["quatern_b", "quatern_c", "quatern_d", "qoffset_x", "qoffset_y", "qoffset_z"]
      ) {
        assert.ok(
          Math.abs((mine[k] as number) - (nb[k] as number)) < 1e-6,
          `${k}: ${mine[k]} vs ${nb[k]}`,
        );
      }
      (mine.pixdim as number[]).forEach((v, i) =>
        assert.ok(Math.abs(v - (nb.pixdim as number[])[i]) < 1e-6, `pixdim[${i}]`)
      );
      assert.equal(mine.sform_code, 2);
      assert.equal(mine.qform_code, 0);
      assert.equal(got["scaled.nii"].fdata.dtype, "float64");
      assert.deepEqual(listDir(dir).length, Object.keys(cases).length); // no temporary files
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test("nifti: in-memory round trip keeps values, affine and scaling", async () => {
  const v = volume("int16", [3, 4, 5]);
  for (const gzip of [false, true]) {
    const bytes = encodeNifti(v, { affine: SHEAR, gzip, header: { scl_slope: 0.5, scl_inter: 1 } });
    const img = decodeNifti(bytes, gzip ? "a.nii.gz" : "a.nii", { scale: true });
    assert.deepEqual(img.data.shape, [3, 4, 5]);
    assert.equal(await arrayHash(img.data), await arrayHash(v));
    assertAffine(img.affine, SHEAR, 1e-6, "round trip");
    assert.equal((img.scaled!.data as Float64Array)[5], (v.data as Int16Array)[5] * 0.5 + 1);
    assert.equal(img.header.vox_offset, 352);
  }
  // C-order index (i*ny + j)*nz + k holds [i, j, k]; on disk x is fastest.
  const bytes = encodeNifti(v);
  const disk = new Int16Array(bytes.buffer.slice(352));
  assert.equal(disk[1], (v.data as Int16Array)[1 * 4 * 5]); // [1,0,0]
  assert.equal(disk[3], (v.data as Int16Array)[1 * 5]); // [0,1,0]
});

Deno.test("nifti: bad header size, truncated data and bad gzip are one-line errors, no output", async () => {
  const good = encodeNifti(volume("float32", [4, 4, 4]));
  const bad = good.slice();
  new DataView(bad.buffer).setInt32(0, 350, true);
  await assertLumenError(
    () => decodeNifti(bad, "bad.nii"),
    /^bad\.nii: sizeof_hdr \(byte 0\): expected 348, found 350 \(not a NIfTI-1 file\)$/,
  );
  await assertLumenError(
    () => decodeNifti(good.subarray(0, 100), "s.nii"),
    /^s\.nii: sizeof_hdr \(byte 0\): file is 100 bytes, shorter than the 348-byte NIfTI-1 header$/,
  );
  await assertLumenError(
    () => decodeNifti(good.subarray(0, 400), "t.nii"),
    /^t\.nii: vox_offset 352: data truncated: 4×4×4 float32 needs 256 bytes, found 48$/,
  );
  const dt = good.slice();
  new DataView(dt.buffer).setInt16(70, 32, true);
  await assertLumenError(
    () => decodeNifti(dt, "c.nii"),
    /^c\.nii: datatype \(byte 70\): complex64 data is not supported$/,
  );
  await assertLumenError(
    () => decodeNifti(new TextEncoder().encode("not gzip at all"), "x.nii.gz"),
    /^x\.nii\.gz: byte 0: invalid gzip data \(no gzip magic 1f 8b\)$/,
  );
  const gz = encodeNifti(volume("float32", [4, 4, 4]), { gzip: true });
  await assertLumenError(
    () => decodeNifti(gz.subarray(0, gz.length - 30), "cut.nii.gz"),
    /^cut\.nii\.gz: gzip: invalid gzip data \(.+\)$/,
  );
  // The file path versions leave nothing behind.
  const dir = tempDir();
  try {
    await Deno.writeFile(`${dir}/bad.nii`, bad);
    await assertLumenError(
      () => readNifti(`${dir}/bad.nii`),
      /bad\.nii: sizeof_hdr \(byte 0\): expected 348, found 350/,
    );
    await writeNifti(`${dir}/ok.nii`, volume("uint8", [2, 2, 2]));
    await assertLumenError(
      () => writeNifti(`${dir}/ok.nii`, volume("uint8", [2, 2, 2])),
      /ok\.nii: exists; pass --overwrite$/,
    );
    assert.deepEqual(listDir(dir), ["bad.nii", "ok.nii"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

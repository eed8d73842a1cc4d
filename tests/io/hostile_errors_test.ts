/**
 * The true error, with `--allow-read` alone (in a child process, h5wasm started first): a
 * truncated HDF5 file says so, not "Requires write access to /tmp/tmpfile_…"; YAML needs no env
 * access even once h5wasm is up; a `*undefined` alias and a billion-laughs document are one
 * line, not raw ReferenceErrors; a truncated or damaged JPEG says what is wrong, not a TypeError.
 */
import assert from "node:assert/strict";
import { H5File } from "../../lib/io/hdf5.ts";
import { decodeJpeg } from "../../lib/io/jpeg.ts";
import { LumenError } from "../../lib/run/errors.ts";
import { hugeJpeg, truncatedJpeg } from "../fixtures/hostile/make_hostile.ts";
import { DescribeChild } from "./_describe_pool.ts";

const LAUGHS = ["a: &a [1, 2]"].concat(
  "bcdefgh".split("").map((k, i) =>
    `${k}: &${k} [${new Array(9).fill(`*${"abcdefgh"[i]}`).join(", ")}]`
  ),
).join("\n") + "\n";

Deno.test("hostile errors: the true cause with --allow-read alone", async () => {
  const dir = Deno.makeTempDirSync();
  const child = new DescribeChild({ timeoutMs: 20_000, memoryLimit: 2 ** 30 });
  try {
    const h5 = await H5File.open(`${dir}/a.h5`, "w");
    h5.write("/x", { dtype: "float64", shape: [10000], data: new Float64Array(10000) });
    h5.close();
    const full = Deno.readFileSync(`${dir}/a.h5`);
    Deno.writeFileSync(`${dir}/cut.h5`, full.subarray(0, 20000));
    Deno.writeTextFileSync(`${dir}/ok.yaml`, "epochs: 10\nlayers: [1, 2]\n");
    Deno.writeTextFileSync(`${dir}/undef.yaml`, "a: *undefined\n");
    Deno.writeTextFileSync(`${dir}/laughs.yaml`, LAUGHS);
    const r = {
      cut: await child.run(`${dir}/cut.h5`),
      ok: await child.run(`${dir}/ok.yaml`),
      undef: await child.run(`${dir}/undef.yaml`),
      laughs: await child.run(`${dir}/laughs.yaml`),
    };
    assert.equal(r.cut.kind, "error", r.cut.error);
    assert.match(
      r.cut.error!,
      new RegExp(
        `cut\\.h5: truncated HDF5 file: it has 20000 bytes, its superblock says ${full.length}$`,
      ),
    );
    assert.equal(r.ok.kind, "report", r.ok.error);
    assert.equal(r.undef.kind, "error", r.undef.error);
    assert.match(
      r.undef.error!,
      /undef\.yaml: alias to an anchor that is not defined before it \(\*undefined\)$/,
    );
    assert.equal(r.laughs.kind, "error", r.laughs.error);
    assert.match(
      r.laughs.error!,
      /laughs\.yaml: aliases expand too far \(a 'billion laughs' document\?\)/,
    );
  } finally {
    await child.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("hostile errors: JPEG problems are named, not an internal TypeError", () => {
  const oneLine = (b: Uint8Array, re: RegExp) =>
    assert.throws(() => decodeJpeg(b, "p.jpg"), (e: unknown) => {
      assert.ok(e instanceof LumenError, String(e));
      assert.match(e.message, re);
      assert.doesNotMatch(e.message, /Cannot read|undefined|TypeError/);
      return true;
    });
  oneLine(truncatedJpeg(400), /^p\.jpg: corrupt JPEG data \(truncated: no end-of-image marker\)$/);
  const damaged = hugeJpeg(16, 16);
  damaged[(36 * 97) % damaged.length] ^= 0x5a; // a Huffman table's header: named, as libjpeg does
  oneLine(damaged, /^p\.jpg: byte 173 \(DHT\): Huffman table index 0x4b$/);
});

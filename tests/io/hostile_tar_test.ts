/**
 * Hostile tar.gz: an archive of about 1 MB holding a 1 GiB member lists and extracts as a
 * stream, with the memory of a small process (measured in a child process), where gunzipping
 * the whole archive took over 2 GB. The stream parser gives the same entries for any split of
 * the bytes. Reproducer: sparseTarGz in tests/fixtures/hostile/make_hostile.ts.
 */
import assert from "node:assert/strict";
import { extractTar, parseTar } from "../../lib/io/tar.ts";
import { TAR_MAX_META, TarScanner } from "../../lib/io/tar_scan.ts";
import { concat } from "../../lib/io/zip.ts";
import { LumenError } from "../../lib/run/errors.ts";
import { sparseTarGz, tarHeader } from "../fixtures/hostile/make_hostile.ts";

const MiB = 2 ** 20;
const CHILD = new URL("./_tar_rss_child.ts", import.meta.url).pathname;

async function child(args: string[]): Promise<{ entries: [string, number][]; rss: number }> {
  const out = await new Deno.Command("deno", {
    args: ["run", "--quiet", "--allow-read", "--allow-write=/tmp", CHILD, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, err);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("hostile tar: a 1 MB tar.gz with a 1 GiB member lists with low memory", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const gz = sparseTarGz(2 ** 30);
    assert.ok(gz.length < 2 * MiB, `${gz.length} bytes`);
    Deno.writeFileSync(`${dir}/big.tar.gz`, gz);
    const r = await child([`${dir}/big.tar.gz`]);
    assert.deepEqual(r.entries, [["small.txt", 5], ["big.bin", 2 ** 30], ["after.txt", 5]]);
    assert.ok(r.rss < 300 * MiB, `peak RSS ${(r.rss / MiB).toFixed(0)} MiB`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("hostile tar: extracting a 256 MiB member streams it to disk", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeFileSync(`${dir}/a.tar.gz`, sparseTarGz(256 * MiB));
    const r = await child([`${dir}/a.tar.gz`, `${dir}/out`]);
    assert.ok(r.rss < 250 * MiB, `peak RSS ${(r.rss / MiB).toFixed(0)} MiB`);
    assert.equal(Deno.statSync(`${dir}/out/big.bin`).size, 256 * MiB);
    assert.equal(Deno.readTextFileSync(`${dir}/out/small.txt`), "hello");
    assert.equal(Deno.readTextFileSync(`${dir}/out/after.txt`), "hello");
    const f = Deno.openSync(`${dir}/out/big.bin`);
    const buf = new Uint8Array(MiB);
    f.seekSync(100 * MiB, Deno.SeekMode.Start);
    f.readSync(buf);
    f.close();
    assert.ok(buf.every((b) => b === 0));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("hostile tar: the stream parser gives the same entries for any split", () => {
  const pad = (n: number) => new Uint8Array((512 - (n % 512)) % 512);
  const body = new Uint8Array(1000).map((_, i) => i & 255);
  const tar = concat([
    tarHeader("a.bin", 1000),
    body,
    pad(1000),
    tarHeader("empty", 0),
    tarHeader("b.txt", 3),
    new TextEncoder().encode("abc"),
    pad(3),
    new Uint8Array(1024),
  ]);
  const whole = parseTar(tar, "t.tar");
  assert.deepEqual(whole.map((e) => [e.name, e.size, e.dataOffset]), [
    ["a.bin", 1000, 512],
    ["empty", 0, 2048],
    ["b.txt", 3, 2560],
  ]);
  for (const step of [1, 7, 511, 512, 513, 4096]) {
    const got: string[] = [];
    const data = new Map<string, number[]>();
    const s = new TarScanner("t.tar", {
      entry: (e) => got.push(e.name),
      data: (e, b) => data.set(e.name, [...(data.get(e.name) ?? []), ...b]),
      end: (e) => got.push(`end ${e.name}`),
    });
    for (let o = 0; o < tar.length; o += step) s.push(tar.subarray(o, o + step));
    s.finish();
    assert.deepEqual(got, ["a.bin", "end a.bin", "empty", "end empty", "b.txt", "end b.txt"]);
    assert.deepEqual(data.get("a.bin"), [...body]);
    assert.deepEqual(data.get("b.txt"), [97, 98, 99]);
  }
});

Deno.test("hostile tar: a cut member and a huge pax record are one-line errors", () => {
  const cut = concat([tarHeader("a.bin", 5000), new Uint8Array(1000)]);
  assert.throws(() => parseTar(cut, "cut.tar"), (e: unknown) => {
    assert.ok(e instanceof LumenError);
    assert.equal(
      e.message,
      "cut.tar: member 'a.bin' (header at byte 0): data (5000 bytes) runs past the end of the " +
        "archive; truncated?",
    );
    return true;
  });
  const h = tarHeader("pax", TAR_MAX_META + 1);
  h[156] = 0x78; // 'x'
  h.set(new TextEncoder().encode("        "), 148);
  const sum = h.reduce((a, b) => a + b, 0);
  h.set(new TextEncoder().encode(sum.toString(8).padStart(6, "0") + "\u0000 "), 148);
  assert.throws(
    () => parseTar(concat([h, new Uint8Array(2048)]), "pax.tar"),
    /pax\.tar: header at byte 0: pax record of 1048577 bytes is over the 1048576-byte limit/,
  );
});

Deno.test("hostile tar: modes are filtered as tarfile's data filter does", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const text = new TextEncoder().encode("hi");
    Deno.writeFileSync(
      `${dir}/m.tar`,
      concat([
        tarHeader("pub", 0, 0o1777, "5"),
        tarHeader("pub/open.txt", 2, 0o4666),
        text,
        new Uint8Array(510 + 1024),
      ]),
    );
    await extractTar(`${dir}/m.tar`, `${dir}/out`);
    assert.equal(Deno.statSync(`${dir}/out/pub`).mode! & 0o7777, 0o755);
    assert.equal(Deno.statSync(`${dir}/out/pub/open.txt`).mode! & 0o7777, 0o644);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

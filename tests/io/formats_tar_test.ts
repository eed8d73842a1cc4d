/**
 * lib/io/tar: archives Python's tarfile writes (ustar with prefixes, GNU long names, pax, gzip)
 * list exactly as tarfile lists them and extract with the right files, links and modes; unsafe
 * archives (../, absolute paths, escaping symlinks and hardlinks, writing through a symlink),
 * corrupt headers and invalid gzip are refused with one line and nothing written anywhere.
 */
import assert from "node:assert/strict";
import { hasPython, pyFixture } from "../_helpers.ts";
import { assertLumenError, listDir, tempDir } from "./formats_helpers.ts";
import { extractTar, listTar, parseTar } from "../../lib/io/tar.ts";

const PY = hasPython();

Deno.test({
  name: "tar: listings of ustar, GNU and pax(.gz) archives equal tarfile's",
  ignore: !PY,
  fn: async () => {
    const dir = await pyFixture("formats_tar");
    const m = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
    for (const [name, exp] of Object.entries(m)) {
      const got = (await listTar(`${dir}/${name}`)).map((e) => ({
        name: e.name,
        type: e.type,
        size: e.size,
        linkname: e.linkname,
        mode: e.mode,
        mtime: e.mtime,
      }));
      assert.deepEqual(got, exp, name);
    }
  },
});

/**
 * Extracts in a child Deno with unscoped --allow-read/--allow-write (Deno creates symlinks only
 * then); returns the result, or the error line.
 */
async function extractInChild(
  archive: string,
  dest: string,
  opts: { overwrite?: boolean } = {},
): Promise<{ result?: Record<string, unknown>; error?: string }> {
  const mod = new URL("../../lib/io/tar.ts", import.meta.url).href;
  const code = `import { extractTar } from ${JSON.stringify(mod)};
try { console.log(JSON.stringify({ result: await extractTar(${JSON.stringify(archive)}, ${
    JSON.stringify(dest)
  }, ${JSON.stringify(opts)}) })); }
catch (e) { console.log(JSON.stringify({ error: e.message })); }`;
  const r = await new Deno.Command("deno", {
    args: ["eval", "--quiet", code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(r.stdout).trim();
  if (!out) throw new Error(new TextDecoder().decode(r.stderr));
  return JSON.parse(out);
}

Deno.test({
  name: "tar: extraction writes files, dirs, symlinks and hardlinks inside the destination",
  ignore: !PY,
  fn: async () => {
    const dir = await pyFixture("formats_tar");
    const root = tempDir();
    try {
      for (const name of ["good_ustar.tar", "good_gnu.tar", "good_pax.tar.gz"]) {
        const dest = `${root}/${name}/out`; // parent created as needed
        const { result: r, error } = await extractInChild(`${dir}/${name}`, dest);
        assert.equal(error, undefined);
        assert.equal(r!.hardlinks, 1);
        assert.deepEqual(r!.skipped, []);
        assert.equal(await Deno.readTextFile(`${dest}/data/a.txt`), "alpha\n");
        assert.equal((await Deno.readFile(`${dest}/data/empty.bin`)).length, 0);
        const big = await Deno.readFile(`${dest}/data/big.bin`);
        assert.equal(big.length, 256 * 41);
        assert.equal(big[257], 1);
        assert.equal(await Deno.readTextFile(`${dest}/data/sub/b.txt`), "beta\n".repeat(100));
        assert.equal(Deno.readLinkSync(`${dest}/data/link_to_a`), "a.txt");
        assert.equal(await Deno.readTextFile(`${dest}/data/sub/up_link`), "alpha\n");
        assert.equal(Deno.readLinkSync(`${dest}/data/dir_link`), "sub");
        assert.equal(
          Deno.statSync(`${dest}/data/hard_a`).ino,
          Deno.statSync(`${dest}/data/a.txt`).ino,
        );
        const long = `${dest}/deep/${"d".repeat(60)}/${"e".repeat(60)}/long_file_name.txt`;
        assert.equal(await Deno.readTextFile(long), "long\n");
        assert.equal(Deno.statSync(`${dest}/data/big.bin`).mode! & 0o7777, 0o600);
        assert.equal(Deno.statSync(`${dest}/exec.sh`).mode! & 0o7777, 0o755); // setuid dropped
        assert.equal(Deno.statSync(`${dest}/data/a.txt`).mtime!.getTime(), 1_600_000_000_000);
        if (name !== "good_ustar.tar") {
          assert.equal(
            await Deno.readTextFile(`${dest}/${"x".repeat(150)}.txt`),
            "very long single name\n",
          );
          assert.equal(await Deno.readTextFile(`${dest}/data/long_target_link`), "long\n");
        }
        if (name === "good_pax.tar.gz") {
          assert.equal(await Deno.readTextFile(`${dest}/unicode_é_名前.txt`), "ünïcödé\n");
        }
        assert.deepEqual(listDir(`${root}/${name}`), ["out"]); // no temporary directory left
      }
      // An existing destination is refused, and replaced with overwrite.
      const dest = `${root}/good_gnu.tar/out`;
      const refused = await extractInChild(`${dir}/good_ustar.tar`, dest);
      assert.match(refused.error!, /\/out: exists; pass --overwrite$/);
      await extractInChild(`${dir}/good_ustar.tar`, dest, { overwrite: true });
      assert.ok(!listDir(dest).some((n) => n.startsWith("xxx"))); // the GNU-only member is gone
      assert.deepEqual(listDir(`${root}/good_gnu.tar`), ["out"]);
      // In this process (write access scoped to paths) symlinks cannot be made: refused up front.
      const box = `${root}/scoped`;
      await assertLumenError(
        () => extractTar(`${dir}/good_ustar.tar`, `${box}/out`),
        /good_ustar\.tar: member 'data\/link_to_a': creating a symlink needs Deno's unscoped --allow-read and --allow-write$/,
      );
      assert.deepEqual(listDir(box), []);
    } finally {
      Deno.removeSync(root, { recursive: true });
    }
  },
});

const UNSAFE: [string, RegExp][] = [
  [
    "evil_dotdot.tar",
    /: member 'ok\/\.\.\/\.\.\/escaped\.txt': path contains '\.\.'; refusing to extract$/,
  ],
  ["evil_dotdot2.tar", /: member '\.\.\/escaped\.txt': path contains '\.\.'; refusing to extract$/],
  [
    "evil_absolute.tar",
    /: member '\/tmp\/lumen_abs_escape\.txt': path is an absolute path; refusing to extract$/,
  ],
  [
    "evil_symlink.tar",
    /: member 'ok\/link': symlink to '\.\.\/\.\.\/outside' points outside the destination$/,
  ],
  [
    "evil_symlink_abs.tar",
    /: member 'ok\/link': symlink to absolute path '\/etc' points outside the destination$/,
  ],
  [
    "evil_symlink_chain.tar",
    /: member 'b': symlink to 'a\/a\/a\/\.\.' points outside the destination$/,
  ],
  [
    "evil_through_symlink.tar",
    /: member 'd\/written_through_link\.txt': lies under symlink 'd'; refusing to write through a link$/,
  ],
  [
    "evil_hardlink.tar",
    /: member 'ok\/hard': hardlink target '\.\.\/\.\.\/etc\/passwd' contains '\.\.'; refusing to extract$/,
  ],
  [
    "evil_hardlink_abs.tar",
    /: member 'ok\/hard': hardlink target '\/etc\/passwd' is an absolute path; refusing to extract$/,
  ],
  [
    "corrupt_checksum.tar",
    /: header at byte 1024: checksum mismatch \(stored \d+, computed \d+\); not a tar archive or corrupt$/,
  ],
  ["invalid.tar.gz", /invalid\.tar\.gz: gzip: invalid gzip data \(.+\)$/],
  ["truncated.tar.gz", /truncated\.tar\.gz: gzip: invalid gzip data \(unexpected end of file\)$/],
  ["not_gzip.tar.gz", /not_gzip\.tar\.gz: byte 0: invalid gzip data \(no gzip magic 1f 8b\)$/],
  [
    "truncated_data.tar",
    /: member 'data\/big\.bin' \(header at byte 2560\): data \(10496 bytes\) runs past the end of the archive; truncated\?$/,
  ],
];

Deno.test({
  name: "tar: unsafe or corrupt archives are refused before anything is written",
  ignore: !PY,
  fn: async () => {
    const dir = await pyFixture("formats_tar");
    const root = tempDir();
    try {
      for (const [name, re] of UNSAFE) {
        const box = `${root}/${name}`;
        Deno.mkdirSync(box);
        await assertLumenError(() => extractTar(`${dir}/${name}`, `${box}/dest/inner`), re);
        // Nothing in the box: no destination, no temporary directory, no escaped file.
        assert.deepEqual(listDir(box), [], `${name} left output behind`);
      }
      assert.deepEqual(listDir(root).length, UNSAFE.length);
      assert.throws(() => Deno.statSync("/tmp/lumen_abs_escape.txt"));
    } finally {
      Deno.removeSync(root, { recursive: true });
    }
  },
});

Deno.test("tar: headers are checksummed; base-256 sizes and pax records parse", () => {
  // A hand-made ustar member with a GNU base-256 size field.
  const h = new Uint8Array(1024 + 512);
  const put = (off: number, s: string) => h.set(new TextEncoder().encode(s), off);
  put(0, "f.bin");
  put(100, "0000644\0");
  put(108, "0000000\0");
  put(116, "0000000\0");
  h[124] = 0x80;
  h[135] = 5; // size 5, base-256
  put(136, "00000000000\0");
  h[156] = 0x30;
  put(257, "ustar\x0000");
  h.fill(0x20, 148, 156);
  const sum = h.subarray(0, 512).reduce((a, b) => a + b, 0);
  put(148, sum.toString(8).padStart(6, "0") + "\0 ");
  put(512, "hello");
  const [e] = parseTar(h, "mem.tar");
  assert.equal(e.size, 5);
  assert.equal(e.name, "f.bin");
  h[0] = 0x67; // change a byte: checksum no longer matches
  assert.throws(() => parseTar(h, "mem.tar"), /mem\.tar: header at byte 0: checksum mismatch/);
});

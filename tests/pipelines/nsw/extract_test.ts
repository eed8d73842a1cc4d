import assert from "node:assert/strict";
import { EXPECTED_ENTRIES, extractDataset } from "../../../lib/pipelines/nsw/mod.ts";

const PY = "/usr/bin/python3";
const OUT = "tests/fixtures/out/nsw";

function havePython(): boolean {
  try {
    Deno.statSync(PY);
    return true;
  } catch {
    return false;
  }
}

async function fixtures(): Promise<string | null> {
  if (!havePython()) {
    console.log("skip: /usr/bin/python3 missing");
    return null;
  }
  Deno.mkdirSync(OUT, { recursive: true });
  const r = await new Deno.Command(PY, { args: ["tests/fixtures/nsw/make_archives.py", OUT] })
    .output();
  assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
  return OUT;
}

function copyDir(from: string, to: string): void {
  Deno.mkdirSync(to, { recursive: true });
  for (const e of Deno.readDirSync(from)) Deno.copyFileSync(`${from}/${e.name}`, `${to}/${e.name}`);
}

function listing(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  } catch {
    return [];
  }
}

Deno.test("nsw extract: ten entries extract into DEST, empty DEST accepted", async () => {
  const out = await fixtures();
  if (!out) return;
  const tmp = Deno.makeTempDirSync();
  try {
    const dest = `${tmp}/dest`;
    Deno.mkdirSync(dest);
    const r = await extractDataset(`${out}/good`, dest);
    assert.equal(r.entries.length, 10);
    assert.equal(r.files, 7 * 2 + 2 + 1);
    assert.deepEqual(
      listing(dest),
      EXPECTED_ENTRIES.map((n) => n.replace(".tar.gz", "")).sort(),
    );
    assert.equal(
      Deno.readTextFileSync(`${dest}/embryo_dataset_annotations/BM016-5_phases.csv`),
      "tPB2,1,1\ntPNa,2,2\n",
    );
    assert.equal(
      Deno.readTextFileSync(
        `${dest}/embryo_dataset_F-15/BM016-5/D2013_embryo_dataset_F-15_RUN2.jpeg`,
      ),
      "jpeg2",
    );
    // non-empty DEST refused now
    await assert.rejects(() => extractDataset(`${out}/good`, dest), /not an empty directory/);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("nsw extract: missing, extra, corrupt and unsafe archives write nothing", async () => {
  const out = await fixtures();
  if (!out) return;
  const tmp = Deno.makeTempDirSync();
  try {
    const cases: [string, (d: string) => void, RegExp][] = [
      [
        "missing",
        (d) => Deno.removeSync(`${d}/embryo_dataset_F45.tar.gz`),
        /missing embryo_dataset_F45/,
      ],
      ["extra", (d) => Deno.writeTextFileSync(`${d}/notes.txt`, "x"), /unexpected notes\.txt/],
      ["corrupt", (d) => {
        const p = `${d}/embryo_dataset_F30.tar.gz`;
        const b = Deno.readFileSync(p);
        Deno.writeFileSync(p, b.subarray(0, b.length - 9));
      }, /embryo_dataset_F30/],
      [
        "traversal",
        (d) => Deno.copyFileSync(`${out}/traversal.tar.gz`, `${d}/embryo_dataset_F15.tar.gz`),
        /\.\./,
      ],
      [
        "symlink",
        (d) => Deno.copyFileSync(`${out}/symlink.tar.gz`, `${d}/embryo_dataset_F15.tar.gz`),
        /symlink|link/,
      ],
    ];
    for (const [name, spoil, re] of cases) {
      const arch = `${tmp}/${name}`;
      copyDir(`${out}/good`, arch);
      spoil(arch);
      const dest = `${tmp}/${name}-dest`;
      Deno.mkdirSync(dest);
      await assert.rejects(() => extractDataset(arch, dest), re, name);
      assert.deepEqual(listing(dest), [], `${name}: DEST left empty`);
      assert.deepEqual(listing(tmp).filter((n) => n.includes("partial")), [], name);
      assert.deepEqual(listing(`${tmp}/..`).filter((n) => n === "evil.txt"), [], name);
    }
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

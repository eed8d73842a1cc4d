import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { checkShards, finishShard, parseShard, shardDir, shardRange } from "../../lib/run/shard.ts";
import { LumenError } from "../../lib/run/errors.ts";

Deno.test("parseShard accepts i/N and refuses 3/2, 2/2, 0/0 and junk with one-line errors", () => {
  assert.deepEqual(parseShard("1/4"), { index: 1, count: 4 });
  assert.deepEqual(parseShard(" 0 / 1 "), { index: 0, count: 1 });
  for (const bad of ["3/2", "2/2", "0/0", "a/b", "1", "-1/2"]) {
    assert.throws(() => parseShard(bad), (e: unknown) => {
      assert.ok(e instanceof LumenError);
      assert.match(e.message, /^--shard: /);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  }
  assert.throws(() => parseShard("3/2"), /out of range 0…1/);
});

Deno.test("shardRange tiles every item exactly once, balanced", () => {
  for (const total of [0, 1, 7, 10, 2160]) {
    for (const count of [1, 2, 3, 4, 7]) {
      let next = 0;
      const sizes: number[] = [];
      for (let i = 0; i < count; i++) {
        const [a, b] = shardRange(total, { index: i, count });
        assert.equal(a, next);
        next = b;
        sizes.push(b - a);
      }
      assert.equal(next, total);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
    }
  }
  assert.deepEqual(shardRange(10, { index: 2, count: 3 }), [7, 10]);
});

Deno.test("checkShards: complete shards pass; missing, unfinished or half-written shards are refused", async () => {
  const dir = await Deno.makeTempDir();
  const out = `${dir}/result`;
  const write = (i: number, n: number, _range: [number, number], body: string) => {
    const d = shardDir(out, { index: i, count: n });
    mkdirSync(d, { recursive: true });
    writeFileSync(`${d}/part.bin`, body);
    return d;
  };
  write(0, 2, [0, 5], "abc");
  finishShard(out, { index: 0, count: 2 }, "t", [0, 5], ["part.bin"]);
  assert.throws(() => checkShards(out, 2, 10), /shard 1\/2 is missing: nothing merged/);
  const d1 = write(1, 2, [5, 10], "defg");
  assert.throws(() => checkShards(out, 2, 10), /shard 1\/2 is incomplete/);
  finishShard(out, { index: 1, count: 2 }, "t", [5, 10], ["part.bin"]);
  assert.equal(checkShards(out, 2, 10).length, 2);
  writeFileSync(`${d1}/part.bin`, "de"); // truncated after the manifest was written
  assert.throws(() => checkShards(out, 2, 10), /has 2 bytes, the manifest says 4/);
  await Deno.remove(dir, { recursive: true });
});

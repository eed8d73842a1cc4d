/**
 * Hostile PNG (issue 16, defect 3): an IHDR declaring 20000x20000 RGBA is refused with one
 * LumenError line before anything of that size is allocated.
 */
import assert from "node:assert/strict";
import { decodePng } from "../../lib/io/png.ts";
import { crc32, deflate } from "../../lib/io/zip.ts";
import { LumenError } from "../../lib/run/errors.ts";

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

Deno.test("hostile png: huge IHDR is refused with one line before allocating", () => {
  const ihdr = new Uint8Array(13);
  const d = new DataView(ihdr.buffer);
  d.setUint32(0, 20000);
  d.setUint32(4, 20000);
  ihdr[8] = 8;
  ihdr[9] = 6;
  const idat = deflate(new Uint8Array(1024));
  const parts = [
    new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", ihdr),
    chunk("IDAT", idat),
    chunk("IEND", new Uint8Array(0)),
  ];
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) bytes.set(p, (o += p.length) - p.length);
  assert.throws(() => decodePng(bytes, "huge.png"), (e: unknown) => {
    assert.ok(e instanceof LumenError, String(e));
    assert.match(e.message, /huge\.png.*IHDR.*over the \d+-byte limit/);
    assert.ok(!e.message.includes("\n"));
    return true;
  });
});

Deno.test("hostile png: an IDAT that inflates past the image's rows (a bomb) is refused", () => {
  const ihdr = new Uint8Array(13);
  const d = new DataView(ihdr.buffer);
  d.setUint32(0, 4);
  d.setUint32(4, 4);
  ihdr[8] = 8; // 4×4 gray: 20 bytes of filtered rows
  const bomb = deflate(new Uint8Array(256 * 2 ** 20), 9); // 256 MiB of zeros, ~250 KB
  const bytes = new Uint8Array([
    ...[137, 80, 78, 71, 13, 10, 26, 10],
    ...chunk("IHDR", ihdr),
    ...chunk("IDAT", bomb),
    ...chunk("IEND", new Uint8Array(0)),
  ]);
  const rss0 = Deno.memoryUsage().rss;
  assert.throws(() => decodePng(bytes, "bomb.png"), (e: unknown) => {
    assert.ok(e instanceof LumenError, String(e));
    assert.match(e.message, /^bomb\.png: IDAT: inflates to more than the \d+ bytes it can hold/);
    return true;
  });
  assert.ok(Deno.memoryUsage().rss - rss0 < 128 * 2 ** 20, "inflated the bomb");
  // extra compressed data after the rows, within a MiB, is ignored as libpng does
  const rows = new Uint8Array(20 + 1000);
  const ok = new Uint8Array([
    ...[137, 80, 78, 71, 13, 10, 26, 10],
    ...chunk("IHDR", ihdr),
    ...chunk("IDAT", deflate(rows)),
    ...chunk("IEND", new Uint8Array(0)),
  ]);
  assert.deepEqual(decodePng(ok, "ok.png").shape, [4, 4]);
});

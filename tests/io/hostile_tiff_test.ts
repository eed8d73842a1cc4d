/**
 * Hostile TIFF (issue 16, defects 3 and 6): ImageWidth as RATIONAL 17/4, SamplesPerPixel 0 and a
 * page that would decode past the memory cap are one-line LumenErrors, not shapes or RangeErrors.
 */
import assert from "node:assert/strict";
import { decodeTiff, parseTiff } from "../../lib/io/tiff.ts";
import { LumenError } from "../../lib/run/errors.ts";

type Entry = [tag: number, type: number, value: number];

/** A little-endian one-strip TIFF; RATIONAL (type 5) entries hold `value`/4. */
function tiff(entries: Entry[]): Uint8Array {
  const n = entries.length;
  const ifd = 8, extra = ifd + 2 + n * 12 + 4, data = extra + 8 * n;
  const out = new Uint8Array(data + 16);
  const dv = new DataView(out.buffer);
  out.set([0x49, 0x49, 42, 0]);
  dv.setUint32(4, ifd, true);
  dv.setUint16(ifd, n, true);
  entries.sort((a, b) => a[0] - b[0]).forEach(([tag, type, value], i) => {
    const e = ifd + 2 + i * 12;
    dv.setUint16(e, tag, true);
    dv.setUint16(e + 2, type, true);
    dv.setUint32(e + 4, 1, true);
    if (type === 5) {
      dv.setUint32(e + 8, extra + 8 * i, true);
      dv.setUint32(extra + 8 * i, value, true);
      dv.setUint32(extra + 8 * i + 4, 4, true);
    } else if (type === 3) dv.setUint16(e + 8, value, true);
    else dv.setUint32(e + 8, value, true);
  });
  return out;
}

function base(w: Entry, spp: number, h = 4): Entry[] {
  return [w, [257, 4, h], [258, 3, 8], [273, 4, 200], [277, 3, spp], [279, 4, 16]];
}

function oneLine(f: () => unknown, re: RegExp) {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof LumenError, String(e));
    assert.match(e.message, re);
    assert.ok(!e.message.includes("\n"));
    return true;
  });
}

Deno.test("hostile tiff: RATIONAL 17/4 width is refused, not shape (4, 4.25)", () => {
  oneLine(
    () => parseTiff(tiff(base([256, 5, 17], 1)), "r.tif"),
    /r\.tif: IFD 0 at byte 8, tag 256: stored as type 5, not an integer type/,
  );
});

Deno.test("hostile tiff: SamplesPerPixel 0 is refused, not shape [.., 0]", () => {
  oneLine(() => parseTiff(tiff(base([256, 4, 4], 0)), "s.tif"), /s\.tif.*SamplesPerPixel 0/);
});

Deno.test("hostile tiff: a 60000x60000 float page is refused before allocating", () => {
  const e = base([256, 4, 60000], 1, 60000);
  e[2] = [258, 3, 32];
  e.push([339, 3, 3]);
  oneLine(() => decodeTiff(tiff(e), "big.tif"), /big\.tif.*over the \d+-byte limit/);
});

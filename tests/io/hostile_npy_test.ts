/**
 * Hostile NPY (issue 16, defect 6): garbage in the header's padding is a one-line error (numpy's
 * literal_eval rejects it too), while numpy's own space/newline padding still reads.
 */
import assert from "node:assert/strict";
import { decodeNpy, parseNpyHeader } from "../../lib/io/npy.ts";
import { LumenError } from "../../lib/run/errors.ts";

function npy(header: string): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(10 + h.length + 4);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, h.length, true);
  out.set(h, 10);
  return out;
}

Deno.test("hostile npy: garbage in the header padding is refused with one line", () => {
  const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }";
  const good = npy(dict.padEnd(117, " ") + "\n");
  assert.deepEqual(parseNpyHeader(good, "ok.npy").shape, [1]);
  const bad = npy((dict + " xx").padEnd(117, " ") + "\n");
  assert.throws(() => decodeNpy(bad, "bad.npy"), (e: unknown) => {
    assert.ok(e instanceof LumenError, String(e));
    assert.match(e.message, /bad\.npy.*garbage after the header dict/);
    assert.ok(!e.message.includes("\n"));
    return true;
  });
});

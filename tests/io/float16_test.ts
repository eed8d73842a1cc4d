/** lib/io/float16.ts against numpy's float16 rounding (every half pattern, and rounding cases). */
import assert from "node:assert/strict";
import { decodeFloat16, encodeFloat16, f16ToF32, f32ToF16 } from "../../lib/io/float16.ts";

Deno.test("float16: every finite half decodes and encodes back to itself", () => {
  for (let h = 0; h < 0x10000; h++) {
    const v = f16ToF32(h);
    if (Number.isNaN(v)) {
      assert.ok(Number.isNaN(f16ToF32(f32ToF16(v))));
      continue;
    }
    if (h === 0x8000) continue; // −0 encodes as 0x8000 too, checked below
    assert.equal(f32ToF16(v), h, `0x${h.toString(16)}`);
  }
  assert.equal(f32ToF16(-0), 0x8000);
});

Deno.test("float16: rounding as numpy (0.1, overflow, subnormals, ties to even)", () => {
  // numpy: np.array([...], np.float32).astype(np.float16).view(np.uint16)
  assert.equal(f32ToF16(0.1), 0x2e66);
  assert.equal(f32ToF16(65519), 0x7bff);
  assert.equal(f32ToF16(65520), 0x7c00);
  assert.equal(f32ToF16(3e-8), 0x1);
  assert.equal(f32ToF16(1 + 2 ** -11), 0x3c00); // tie → even
  assert.equal(f32ToF16(1 + 3 * 2 ** -11), 0x3c02);
  assert.deepEqual([...decodeFloat16(encodeFloat16([1, -2, 0.5]))], [1, -2, 0.5]);
});

/**
 * Storage of the wasm backend: the storage handle and the allocator of byte ranges of the one
 * shared `WebAssembly.Memory`.
 *
 * @module
 */
import type { Lifetime, Storage, TensorDType } from "../backend.ts";
import type { WasmBackend } from "./backend.ts";

/** Bytes of a WebAssembly page. */
export const PAGE = 65536;
/** Most pages of a memory (4 GiB). */
export const MAX_PAGES = 65536;
/** Alignment of every allocation in bytes. */
export const ALIGN = 64;

/**
 * A storage of the wasm backend: `bytes` at byte offset `ptr` of the shared memory.
 *
 * @example
 * const s = wasmBackend().alloc(16, "float32", "step") as WasmStorage;
 * s.ptr; // byte offset in wasmBackend().memory
 */
export class WasmStorage implements Storage {
  alive = true;
  constructor(
    readonly backend: WasmBackend,
    readonly size: number,
    readonly dtype: TensorDType,
    readonly lifetime: Lifetime,
    readonly ptr: number,
    readonly bytes: number,
  ) {}
}

/**
 * Free blocks sorted by offset, coalesced; best fit. Grows the memory when no block fits.
 *
 * @example
 * const a = new Allocator(memory, 1024);
 * const p = a.alloc(256);
 * a.free(p, 256);
 */
export class Allocator {
  private starts: number[] = [];
  private sizes: number[] = [];
  top: number;

  constructor(private memory: WebAssembly.Memory, readonly base: number) {
    this.top = base;
  }

  /** Reserves `bytes` (rounded up to {@link ALIGN}); returns the byte offset. */
  alloc(bytes: number): number {
    const need = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    let best = -1;
    for (let i = 0; i < this.sizes.length; i++) {
      const s = this.sizes[i];
      if (s >= need && (best < 0 || s < this.sizes[best])) {
        best = i;
        if (s === need) break;
      }
    }
    if (best >= 0) {
      const p = this.starts[best];
      if (this.sizes[best] === need) {
        this.starts.splice(best, 1);
        this.sizes.splice(best, 1);
      } else {
        this.starts[best] += need;
        this.sizes[best] -= need;
      }
      return p;
    }
    // Extend: a free block ending at top is reused as the start.
    let p = this.top;
    const last = this.starts.length - 1;
    if (last >= 0 && this.starts[last] + this.sizes[last] === this.top) {
      p = this.starts[last];
      this.starts.pop();
      this.sizes.pop();
    }
    const end = p + need;
    this.ensure(end);
    this.top = end;
    return p;
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / PAGE);
    // grow in steps of at least 1/8 of the current size to limit the number of grows
    const want = Math.max(pages, Math.ceil(have / PAGE / 8));
    const cur = have / PAGE;
    const grow = Math.min(want, MAX_PAGES - cur);
    if (grow < pages) {
      throw new RangeError(
        `wasm backend: out of memory: ${end} bytes needed, the limit is 4 GiB (${have} in use)`,
      );
    }
    this.memory.grow(grow);
  }

  /** Gives back the range of an earlier {@link alloc} of `bytes`. */
  free(ptr: number, bytes: number): void {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    // binary search insert position
    let lo = 0, hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid] < ptr) lo = mid + 1;
      else hi = mid;
    }
    let start = ptr, len = size;
    // merge with previous
    if (lo > 0 && this.starts[lo - 1] + this.sizes[lo - 1] === start) {
      lo--;
      start = this.starts[lo];
      len += this.sizes[lo];
      this.starts.splice(lo, 1);
      this.sizes.splice(lo, 1);
    }
    // merge with next
    if (lo < this.starts.length && start + len === this.starts[lo]) {
      len += this.sizes[lo];
      this.starts.splice(lo, 1);
      this.sizes.splice(lo, 1);
    }
    if (start + len === this.top) {
      this.top = start; // give back to the top
    } else {
      this.starts.splice(lo, 0, start);
      this.sizes.splice(lo, 0, len);
    }
  }
}

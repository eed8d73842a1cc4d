/**
 * Thin helpers over oneDNN's 2.x C API for the native backend: one CPU engine and stream,
 * memory descriptors (696-byte structures the library fills), memory objects on native
 * addresses, primitives and their execution. Handles are `bigint` addresses (see library.ts:
 * a scoped FFI grant allows calls only). Every failed call throws one line naming the call and
 * the oneDNN status.
 *
 * @example
 * ```ts
 * import { dnnl } from "./dnnl.ts";
 * const d = dnnl();
 * const m = d.desc([2, 3], d.F32, d.TAG.ab);
 * console.log(d.bytes(m)); // 24
 * ```
 *
 * @module
 */
import { type DnnlSymbols, loadDnnl } from "./library.ts";

/** sizeof(dnnl_memory_desc_t) in oneDNN 2.x is 696; kept generous. */
const MD_BYTES = 1024;
/** sizeof(dnnl_convolution_desc_t) in oneDNN 2.x is 5976; kept generous. */
const OP_DESC_BYTES = 8192;

/** Format tags (dnnl_format_tag_t) used here. */
const TAG = { any: 1, a: 2, ab: 3, abc: 4, abcd: 5, abcde: 7 } as const;

/** Execution argument ids (DNNL_ARG_*). */
const ARG = {
  src: 1,
  dst: 17,
  weights: 33,
  bias: 41,
  diffSrc: 129,
  diffDst: 145,
  diffWeights: 161,
  diffBias: 169,
  scratchpad: 80,
} as const;

/** Primitive descriptor queries (dnnl_query_*_md). */
const QUERY = {
  src: 129,
  diffSrc: 130,
  weights: 131,
  diffWeights: 132,
  dst: 133,
  diffDst: 134,
  scratchpad: 136,
} as const;

/** Propagation kinds (dnnl_prop_kind_t). */
const PROP = { forwardTraining: 64, forwardInference: 96, backwardData: 160, backwardWeights: 192 };

/** A memory descriptor: the structure oneDNN filled. */
export type MemoryDesc = Uint8Array;

/** One oneDNN CPU engine and in-order stream with the helpers the kernels use. */
export class Dnnl {
  readonly s: DnnlSymbols;
  readonly engine: bigint;
  readonly stream: bigint;
  /** dnnl_f32. */
  readonly F32 = 3;
  readonly TAG = TAG;
  readonly ARG = ARG;
  readonly QUERY = QUERY;
  readonly PROP = PROP;
  /** dnnl_convolution_direct. */
  readonly CONV_DIRECT = 1;
  /** DNNL_MEMORY_ALLOCATE: the library allocates the memory object's buffer. */
  readonly ALLOCATE = 0xffffffffffffffffn;
  /**
   * Primitive attributes with `dnnl_scratchpad_mode_user`: a primitive made with them takes its
   * scratch memory as an execution argument (described by {@link scratchpadDesc}) instead of
   * keeping a buffer of its own.
   */
  readonly userScratchpad: bigint;
  private h = new BigUint64Array(1);

  constructor() {
    this.s = loadDnnl().symbols;
    this.engine = this.out("dnnl_engine_create", this.s.dnnl_engine_create(this.h, 1, 0n));
    this.stream = this.out("dnnl_stream_create", this.s.dnnl_stream_create(this.h, this.engine, 1));
    this.userScratchpad = this.out(
      "dnnl_primitive_attr_create",
      this.s.dnnl_primitive_attr_create(this.h),
    );
    this.check(
      "dnnl_primitive_attr_set_scratchpad_mode",
      this.s.dnnl_primitive_attr_set_scratchpad_mode(this.userScratchpad, 1),
    );
  }

  /** Throws on a non-zero status. */
  check(what: string, status: number): void {
    if (status !== 0) throw new Error(`native backend: ${what} failed (oneDNN status ${status})`);
  }

  /** Checks a status and returns the handle the call wrote. */
  out(what: string, status: number): bigint {
    this.check(what, status);
    return this.h[0];
  }

  /** The scratch out-parameter every creating call writes its handle to. */
  get slot(): BigUint64Array {
    return this.h;
  }

  /** A dnnl_dims_t (int64[12]). */
  dims(v: readonly number[]): BigInt64Array {
    const d = new BigInt64Array(12);
    v.forEach((x, i) => (d[i] = BigInt(x)));
    return d;
  }

  /** A memory descriptor of float32 `shape` in layout `tag` (TAG.any lets a primitive choose). */
  desc(shape: readonly number[], dtype: number, tag: number): MemoryDesc {
    const m = new Uint8Array(MD_BYTES);
    this.check(
      `memory descriptor [${shape}]`,
      this.s.dnnl_memory_desc_init_by_tag(m, shape.length, this.dims(shape), dtype, tag),
    );
    return m;
  }

  /** Bytes a descriptor's memory takes. */
  bytes(m: MemoryDesc): number {
    return Number(this.s.dnnl_memory_desc_get_size(m));
  }

  /** True when two descriptors are the same layout. */
  equal(a: MemoryDesc, b: MemoryDesc): boolean {
    return this.s.dnnl_memory_desc_equal(a, b) !== 0;
  }

  /** A memory object over a native address (or {@link ALLOCATE}d by the library). */
  memory(m: MemoryDesc, addr: bigint): bigint {
    return this.out("dnnl_memory_create", this.s.dnnl_memory_create(this.h, m, this.engine, addr));
  }

  /** Points a memory object at another native address. */
  setHandle(mem: bigint, addr: bigint): void {
    this.check("dnnl_memory_set_data_handle", this.s.dnnl_memory_set_data_handle(mem, addr));
  }

  /** The native address of the first byte of `buf` (e.g. a shared WebAssembly memory). */
  addressOf(buf: Uint8Array): bigint {
    const m = this.desc([1], this.F32, TAG.a);
    const mem = this.out(
      "dnnl_memory_create",
      this.s.dnnl_memory_create_on(this.h, m, this.engine, buf),
    );
    const a = this.out(
      "dnnl_memory_get_data_handle",
      this.s.dnnl_memory_get_data_handle(mem, this.h),
    );
    this.s.dnnl_memory_destroy(mem);
    return a;
  }

  /** A new op-descriptor buffer (filled by a *_desc_init call). */
  opDesc(): Uint8Array {
    return new Uint8Array(OP_DESC_BYTES);
  }

  /**
   * A primitive descriptor of an op descriptor (hint: the forward one, for backward ops), with
   * the user scratchpad attributes ({@link userScratchpad}).
   */
  primitiveDesc(what: string, op: Uint8Array, hint = 0n): bigint {
    return this.out(
      what,
      this.s.dnnl_primitive_desc_create(this.h, op, this.userScratchpad, this.engine, hint),
    );
  }

  /** The scratchpad descriptor of a primitive descriptor made by {@link primitiveDesc}. */
  scratchpadDesc(pd: bigint): MemoryDesc | null {
    const addr = this.s.dnnl_primitive_desc_query_md(pd, QUERY.scratchpad, 0);
    return addr ? this.peek(BigInt(addr), 696) : null;
  }

  /** A reorder primitive descriptor between two layouts. */
  reorderDesc(from: MemoryDesc, to: MemoryDesc): bigint {
    return this.out(
      "dnnl_reorder_primitive_desc_create",
      this.s.dnnl_reorder_primitive_desc_create(this.h, from, this.engine, to, this.engine, 0n),
    );
  }

  /** The memory descriptor a primitive descriptor chose for `query` (copied out of the library). */
  queryDesc(pd: bigint, query: number): MemoryDesc {
    const addr = this.s.dnnl_primitive_desc_query_md(pd, query, 0);
    if (!addr) throw new Error(`native backend: primitive has no memory for query ${query}`);
    return this.peek(BigInt(addr), 696);
  }

  /** A primitive of a primitive descriptor. */
  primitive(pd: bigint): bigint {
    return this.out("dnnl_primitive_create", this.s.dnnl_primitive_create(this.h, pd));
  }

  /** An execution-argument list ({arg, memory} pairs), reusable across calls. */
  args(pairs: readonly (readonly [number, bigint])[]): BigUint64Array {
    const a = new BigUint64Array(pairs.length * 2);
    pairs.forEach(([k, m], i) => {
      a[2 * i] = BigInt(k);
      a[2 * i + 1] = m;
    });
    return a;
  }

  /** Runs a primitive on the stream (in order; {@link wait} before reading results). */
  execute(what: string, prim: bigint, args: BigUint64Array): void {
    this.check(what, this.s.dnnl_primitive_execute(prim, this.stream, args.length / 2, args));
  }

  /** Waits for the stream. */
  wait(): void {
    this.check("dnnl_stream_wait", this.s.dnnl_stream_wait(this.stream));
  }

  /** Copies `n` bytes at a native address into a new array (a u8 reorder). */
  peek(addr: bigint, n: number): Uint8Array {
    const m = this.desc([n], 6, TAG.a);
    const got = new Uint8Array(n);
    const src = this.memory(m, addr);
    const dst = this.out(
      "dnnl_memory_create",
      this.s.dnnl_memory_create_on(this.h, m, this.engine, got),
    );
    const pd = this.reorderDesc(m, m);
    const prim = this.primitive(pd);
    try {
      this.execute("reorder", prim, this.args([[ARG.src, src], [ARG.dst, dst]]));
      this.wait();
    } finally {
      this.s.dnnl_primitive_destroy(prim);
      this.s.dnnl_primitive_desc_destroy(pd);
      this.s.dnnl_memory_destroy(src);
      this.s.dnnl_memory_destroy(dst);
    }
    return got;
  }
}

let instance: Dnnl | null = null;

/** The process's oneDNN engine and stream (loads the library on first use). */
export function dnnl(): Dnnl {
  instance ??= new Dnnl();
  return instance;
}

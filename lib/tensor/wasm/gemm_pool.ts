/**
 * Multi-threaded SGEMM on ONE shared `WebAssembly.Memory`.
 *
 * The kernels are hand-written WebAssembly (wasm/gemm/*.wat → wasm/gemm_relaxed.wasm with
 * `f32x4.relaxed_madd`, wasm/gemm_simd.wasm with `f32x4.mul` + `f32x4.add`): panels of op(A)
 * and op(B) are packed into per-thread scratch, and a register-blocked micro-kernel (5×8
 * relaxed, 3×12 plain) computes C tile by tile. {@link GemmPool.sgemmConv} packs op(B) straight
 * from a convolution's image (its im2col matrix is never written); {@link GemmPool.peak} runs the
 * module's register-only multiply-add loop on every thread (the yardstick of the benchmarks).
 *
 * Threads: `threads - 1` workers (lib/tensor/wasm/gemm_worker.ts), each with its own instance
 * of the same module on the same memory, plus the calling thread. A call writes its arguments
 * into a control block at the start of the scratch region, wakes the workers with
 * `Atomics.notify`, and every thread claims jobs (blocks of C) from an atomic counter until none
 * are left; the caller then waits (`Atomics.wait`) until the workers are done. No message is
 * posted per call.
 *
 * Determinism: every element of C is computed by one thread with a summation order that depends
 * only on k (the k blocking) and on the kernel, never on which thread took which job or on the
 * tile the element sits in; so the result is bit-identical for any thread count and any timing
 * (for the same kernel: the relaxed and the plain kernels round differently).
 *
 * The pool's workers keep the process alive: call {@link GemmPool.close} when done.
 *
 * @example
 * ```ts
 * const memory = new WebAssembly.Memory({ initial: 256, maximum: 65536, shared: true });
 * const scratchBytes = gemmScratchBytes(2);
 * const pool = await createGemmPool(memory, { threads: 2, scratchPtr: 0, scratchBytes });
 * // ... A, B, C at byte offsets a, b, c (row-major float32) ...
 * pool.sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n);
 * pool.close();
 * ```
 * @module
 */

/** The multi-threaded SGEMM. */
export interface GemmPool {
  /** Threads that compute: workers + the calling thread. */
  readonly threads: number;
  /** The relaxed-SIMD micro-kernel is in use (else plain SIMD128). */
  readonly relaxed: boolean;
  /**
   * C = alpha·op(A)·op(B) + beta·C, row-major; pointers are byte offsets into the shared memory,
   * leading dimensions are in elements (op(A) is m×k, op(B) is k×n; A is m×k with lda ≥ k, or
   * k×m with lda ≥ m when transA). beta = 0: C is not read (NaNs in C do not propagate).
   * Synchronous: returns when C is complete.
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    aPtr: number,
    lda: number,
    bPtr: number,
    ldb: number,
    beta: number,
    cPtr: number,
    ldc: number,
  ): void;
  /**
   * C = alpha·A·op(B) + beta·C where B is the im2col matrix of a convolution, packed straight
   * from the image at byte offset `xPtr` (never materialised): `geom` = [cin, h, w, kh, kw, oh,
   * ow, sh, sw, ph, pw, dh, dw]. transB = false: op(B) = col (k = cin·kh·kw rows, n = oh·ow
   * columns; a forward convolution); transB = true: op(B) = colᵀ (k = oh·ow, n = cin·kh·kw; a
   * weight gradient). A is m×k (lda ≥ k). Bit-identical to im2col + {@link GemmPool.sgemm}.
   * `biasPtr` (optional, byte offset of m floats): C is not read; row i starts from bias[i]
   * instead (C = alpha·A·op(B) + beta·bias[i]), bit-identical to copying the bias into C first.
   */
  sgemmConv(
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    aPtr: number,
    lda: number,
    xPtr: number,
    geom: readonly number[],
    beta: number,
    cPtr: number,
    ldc: number,
    biasPtr?: number,
  ): void;
  /**
   * The multiply-add ceiling of the pool's kernel (relaxed or plain), measured now: every thread
   * (the workers and the caller) runs the module's register-only `peak` loop `iters` times at
   * once; returns the wall seconds from the start until the last thread is done and the flops
   * all threads did together. See lib/tensor/wasm/peak.ts for the best-of-bursts measurement.
   */
  peak(iters: number): { seconds: number; flops: number };
  /** Stops the workers (idempotent). The pool cannot be used afterwards. */
  close(): void;
}

/** Options of {@link createGemmPool}. */
export interface GemmPoolOptions {
  /** Computing threads incl. the caller (default: navigator.hardwareConcurrency, at most 16). */
  threads?: number;
  /** Byte offset of the scratch region in the memory (16-aligned; the pool owns it). */
  scratchPtr: number;
  /** Its size: at least {@link gemmScratchBytes}(threads). */
  scratchBytes: number;
  /** Use the relaxed-SIMD kernel when the engine validates it (default true). */
  relaxed?: boolean;
  /**
   * Calls with fewer flops (2·m·n·k) than this run on the caller alone (waking the workers
   * costs more than they save). Default {@link GEMM_SERIAL_FLOPS}.
   */
  serialFlops?: number;
}

/**
 * Cache blocking: kc = k per packed panel (a kc×8 B micro-panel is 8 KiB, in L1), mc = rows of
 * op(A) per packed block (240×256 floats = 240 KiB, in the 1 MiB L2), nc = most columns of op(B)
 * per packed block (2 MiB, in L3). kc also fixes the summation order (see kBlock).
 */
export const GEMM_BLOCKING = { kc: 256, mc: 240, nc: 2016 } as const;
/** Below this many flops a call runs on the calling thread only. */
export const GEMM_SERIAL_FLOPS = 400_000;

const MAX_MR = 6;
const MAX_NR = 12;
const CTRL_BYTES = 256;
const ALIGN = 64;

const alignUp = (x: number, a: number) => Math.ceil(x / a) * a;

/**
 * Bytes a thread keeps of packed op(B) for one job column, all its k blocks (the jobs of one
 * column that a thread computes in a row then pack B once): 32 MiB shared by the threads, at
 * most 16 MiB and at least one packed B block each.
 */
export function bCacheBytes(threads: number): number {
  const { kc, nc } = GEMM_BLOCKING;
  const block = alignUp(alignUp(nc, MAX_NR) * kc * 4, ALIGN);
  const share = alignUp(Math.floor((32 << 20) / Math.max(1, threads)), ALIGN);
  return Math.max(block, Math.min(16 << 20, share));
}

/** Bytes of one thread's buffers: packed A block, packed B (see {@link bCacheBytes}), edge tile. */
function threadBytes(threads: number): { a: number; b: number; tmp: number; total: number } {
  const { kc, mc } = GEMM_BLOCKING;
  const a = alignUp(alignUp(mc, MAX_MR) * kc * 4, ALIGN);
  const b = bCacheBytes(threads);
  const tmp = alignUp(MAX_MR * MAX_NR * 4, ALIGN);
  return { a, b, tmp, total: a + b + tmp };
}

/** Bytes of scratch (control block + packing buffers) the pool needs for `threads`. */
export function gemmScratchBytes(threads: number): number {
  // + ALIGN: the buffers start at the next 64-byte boundary after the control block
  return ALIGN + CTRL_BYTES + Math.max(1, threads) * threadBytes(threads).total;
}

/** A thread's buffers (byte offsets; `bBytes`: the size of the packed-B buffer). */
export interface ThreadBuffers {
  a: number;
  b: number;
  bBytes: number;
  tmp: number;
}

/**
 * Buffers of thread `tid` (0 = the caller) of a pool of `threads` in the scratch region at
 * `scratchPtr`.
 */
export function threadBuffers(scratchPtr: number, tid: number, threads: number): ThreadBuffers {
  const t = threadBytes(threads);
  const base = alignUp(scratchPtr + CTRL_BYTES, ALIGN) + tid * t.total;
  return { a: base, b: base + t.a, bBytes: t.b, tmp: base + t.a + t.b };
}

/** The exports of wasm/gemm_*.wasm. */
export interface GemmExports {
  pack_a(src: number, lda: number, trans: number, mc: number, kc: number, dst: number): void;
  pack_b(src: number, ldb: number, trans: number, kc: number, nc: number, dst: number): void;
  macro(
    ap: number,
    bp: number,
    mc: number,
    nc: number,
    kc: number,
    c: number,
    ldc: number,
    alpha: number,
    beta: number,
    tmp: number,
    bias: number,
  ): void;
  pack_b_conv(
    x: number,
    g: number,
    trans: number,
    k0: number,
    kc: number,
    n0: number,
    nc: number,
    dst: number,
  ): void;
  scale(c: number, ldc: number, m: number, n: number, beta: number): void;
  mr(): number;
  nr(): number;
  relaxed(): number;
  peak(iters: number): number;
  peak_flops(): number;
}

// Control block at the start of the scratch region. Bytes 0-7: the claim word (BigInt64:
// call sequence number << 32 | next job). Then int32 slots:
/** Call sequence number (workers wait on it). */
export const C_SEQ = 2;
/** Command: 1 = gemm, 2 = exit, 3 = peak (iterations in the first argument slot). */
export const C_CMD = 3;
/** Jobs finished in the current call (the caller waits on it). */
export const C_FIN = 4;
/** A job failed (1). */
export const C_ERR = 5;
const C_ARGS = 8;
export const CMD_GEMM = 1;
export const CMD_EXIT = 2;
export const CMD_PEAK = 3;

/**
 * A worker's part of peak call `seq`: runs the module's `peak` loop, then counts itself done.
 * A worker that saw an earlier call's number (it was descheduled) does nothing: it comes back
 * with this call's number.
 */
export function runPeak(ex: GemmExports, ctl: Control, seq: number): void {
  if (Atomics.load(ctl.i32, C_ARGS + 1) !== seq) return;
  ex.peak(Atomics.load(ctl.i32, C_ARGS));
  Atomics.add(ctl.i32, C_FIN, 1);
  Atomics.notify(ctl.i32, C_FIN);
}

/** One call's plan: arguments plus the job grid. */
export interface GemmCall {
  ta: number;
  tb: number;
  m: number;
  n: number;
  k: number;
  alpha: number;
  a: number;
  lda: number;
  b: number;
  ldb: number;
  beta: number;
  c: number;
  ldc: number;
  /** Job grid: gm × gn blocks of mb × nb (the last ones smaller). */
  gm: number;
  gn: number;
  mb: number;
  nb: number;
  /** k per packed panel (depends on k only: it fixes the summation order). */
  kcb: number;
  /**
   * Byte offset of a convolution's geometry (B is then the im2col matrix of the image at b, packed
   * by `pack_b_conv`); 0: B is a matrix.
   */
  g: number;
  /** Byte offset of a row vector read in place of C on the first k block (0: none). */
  bias: number;
}

/** i32 slot of the control block where a convolution's 13 geometry values are written. */
const C_GEOM = 32;

const bitsF = new Float32Array(1);
const bitsI = new Int32Array(bitsF.buffer);
const f2i = (x: number) => (bitsF[0] = x, bitsI[0]);
const i2f = (x: number) => (bitsI[0] = x, bitsF[0]);

/** Writes a call into the control block (atomically, slot by slot). */
export function writeCall(ctl: Int32Array, p: GemmCall): void {
  const v = [
    p.ta,
    p.tb,
    p.m,
    p.n,
    p.k,
    f2i(p.alpha),
    p.a,
    p.lda,
    p.b,
    p.ldb,
    f2i(p.beta),
    p.c,
    p.ldc,
    p.gm,
    p.gn,
    p.mb,
    p.nb,
    p.kcb,
    p.g,
    p.bias,
  ];
  for (let i = 0; i < v.length; i++) Atomics.store(ctl, C_ARGS + i, v[i] | 0);
}

/** Reads a call from the control block. */
export function readCall(ctl: Int32Array): GemmCall {
  const u = (i: number) => Atomics.load(ctl, C_ARGS + i) >>> 0;
  return {
    ta: u(0),
    tb: u(1),
    m: u(2),
    n: u(3),
    k: u(4),
    alpha: i2f(Atomics.load(ctl, C_ARGS + 5)),
    a: u(6),
    lda: u(7),
    b: u(8),
    ldb: u(9),
    beta: i2f(Atomics.load(ctl, C_ARGS + 10)),
    c: u(11),
    ldc: u(12),
    gm: u(13),
    gn: u(14),
    mb: u(15),
    nb: u(16),
    kcb: u(17),
    g: u(18),
    bias: u(19),
  };
}

/** Shared views of the control block. */
export interface Control {
  i32: Int32Array;
  i64: BigUint64Array;
}

/** Views of the control block at byte offset `ptr` (8-aligned). */
export function controlViews(memory: WebAssembly.Memory, ptr: number): Control {
  return {
    i32: new Int32Array(memory.buffer, ptr, CTRL_BYTES / 4),
    i64: new BigUint64Array(memory.buffer, ptr, CTRL_BYTES / 8),
  };
}

/**
 * Claims the next job of call `seq`: -1 when the call has none left or is no longer current
 * (a late worker can never take a job of a later call with the arguments of an earlier one).
 */
function claim(ctl: Control, seq: number, njobs: number): number {
  const tag = BigInt(seq >>> 0) << 32n;
  for (;;) {
    const w = Atomics.load(ctl.i64, 0);
    if ((w & ~0xffffffffn) !== tag) return -1;
    const j = Number(w & 0xffffffffn);
    if (j >= njobs) return -1;
    if (Atomics.compareExchange(ctl.i64, 0, w, w + 1n) === w) return j;
  }
}

/** k per packed panel: k split into equal blocks of at most GEMM_BLOCKING.kc. */
export function kBlock(k: number): number {
  const nkb = Math.max(1, Math.ceil(k / GEMM_BLOCKING.kc));
  return Math.ceil(k / nkb);
}

/** Cost model of {@link planJobs}: seconds per flop, per packed element, per job. */
const COST = { flop: 1 / 45e9, pack: 0.3e-9, gather: 1e-9, job: 2e-6 };
/** Most job rows of a grid. */
const GM_MAX = 32;
const plans = new Map<string, { gm: number; gn: number; mb: number; nb: number }>();

/**
 * True when one thread keeps all k blocks of op(B) packed for a job column of `nb` columns
 * (`bBytes`: its packed-B buffer), so that its next job in that column packs no B.
 *
 * @example
 * keepsB(1024, 256, 8, bCacheBytes(2)); // true: 1 MiB of packed B
 */
export function keepsB(k: number, nb: number, nr: number, bBytes: number): boolean {
  return Math.ceil(k / kBlock(k)) * kBlock(k) * alignUp(nb, nr) * 4 <= bBytes;
}

/**
 * The job grid of a call for `threads` threads: gm × gn blocks of C (mb × nb, the last ones
 * smaller) that one thread computes alone, packing op(A) for each job and op(B) once per job
 * column it works on when {@link keepsB} (else for each job). Jobs are claimed column by column,
 * rows fastest. More blocks balance the threads better, fewer repack less: the grid minimises a
 * simulated makespan (jobs claimed in order by the first free thread, from a cost model of
 * compute + packing) plus a quarter of the largest job (what one descheduled thread costs on a
 * shared machine); `gatherB`: op(B) is gathered from an image (a convolution), which costs more
 * per element than a matrix copy. Plans are cached per shape. The grid never changes the
 * results (see the module notes), only the speed.
 *
 * @example
 * planJobs(1024, 1024, 1024, 2, 5, 8); // { gm, gn, mb, nb }
 */
export function planJobs(
  m: number,
  n: number,
  k: number,
  threads: number,
  mr: number,
  nr: number,
  gatherB = false,
  bBytes = bCacheBytes(threads),
): { gm: number; gn: number; mb: number; nb: number } {
  const gnMin = Math.ceil(n / alignUp(Math.min(n, GEMM_BLOCKING.nc), nr));
  const grid = (gm: number, gn: number) => {
    const mb = alignUp(Math.ceil(m / gm), mr);
    const nb = alignUp(Math.ceil(n / gn), nr);
    return { gm: Math.ceil(m / mb), gn: Math.ceil(n / nb), mb, nb };
  };
  if (threads <= 1) return grid(1, gnMin);
  const key = `${m},${n},${k},${threads},${mr},${nr},${gatherB},${bBytes}`;
  const packB = gatherB ? COST.gather : COST.pack;
  const hit = plans.get(key);
  if (hit) return hit;
  let best = grid(1, gnMin);
  let bestScore = Infinity;
  const seen = new Set<string>();
  const free = new Float64Array(threads);
  const last = new Int32Array(threads);
  for (let gm = 1; gm <= Math.min(GM_MAX, Math.ceil(m / mr)); gm++) {
    for (let gn = 1; gn <= Math.min(gnMin + 16, Math.ceil(n / nr)); gn++) {
      const g = grid(gm, gn);
      const id = `${g.mb},${g.nb}`;
      if (g.nb > alignUp(GEMM_BLOCKING.nc, nr) && !keepsB(k, g.nb, nr, bBytes)) continue;
      if (seen.has(id) || g.gm * g.gn > 4096) continue;
      seen.add(id);
      free.fill(0);
      last.fill(-1);
      let maxJob = 0;
      for (let jn = 0; jn < g.gn; jn++) {
        const cols = Math.min(g.nb, n - jn * g.nb);
        const keep = keepsB(k, cols, nr, bBytes);
        for (let jm = 0; jm < g.gm; jm++) {
          const rows = Math.min(g.mb, m - jm * g.mb);
          let w = 0;
          for (let i = 1; i < threads; i++) if (free[i] < free[w]) w = i;
          const b = keep && last[w] === jn ? 0 : k * cols * packB;
          const t = 2 * rows * cols * k * COST.flop + k * rows * COST.pack + b + COST.job;
          maxJob = Math.max(maxJob, t);
          free[w] += t;
          last[w] = keep ? jn : -1;
        }
      }
      let span = 0;
      for (let i = 0; i < threads; i++) span = Math.max(span, free[i]);
      const score = span + 0.25 * maxJob;
      if (score < bestScore * (1 - 1e-9)) {
        bestScore = score;
        best = g;
      }
    }
  }
  if (plans.size > 4096) plans.clear();
  plans.set(key, best);
  return best;
}

/**
 * Computes one job: C[m0:m1, n0:n1] with the thread's buffers. When {@link keepsB}, the k
 * blocks of op(B) are packed side by side in `buf.b`, and `packedB` says they already hold
 * this job column's (this thread's previous job of the call was in the same column).
 */
function runBlock(
  ex: GemmExports,
  p: GemmCall,
  m0: number,
  m1: number,
  n0: number,
  n1: number,
  buf: ThreadBuffers,
  packedB: boolean,
): void {
  const { mc } = GEMM_BLOCKING;
  const nb = n1 - n0;
  const nr = ex.nr();
  const keep = keepsB(p.k, nb, nr, buf.bBytes);
  const panel = keep ? p.kcb * alignUp(nb, nr) * 4 : 0;
  for (let pc = 0, bp = buf.b; pc < p.k; pc += p.kcb, bp += panel) {
    const kc = Math.min(p.kcb, p.k - pc);
    // op(B)[pc, n0]: B[pc, n0] or B^T stored n×k: B[n0, pc]
    if (!(keep && packedB)) {
      if (p.g) {
        ex.pack_b_conv(p.b, p.g, p.tb, pc, kc, n0, nb, bp);
      } else {
        const bsrc = p.b + 4 * (p.tb ? n0 * p.ldb + pc : pc * p.ldb + n0);
        ex.pack_b(bsrc, p.ldb, p.tb, kc, nb, bp);
      }
    }
    const beta = pc === 0 ? p.beta : 1;
    const bias = pc === 0 ? p.bias : 0;
    for (let ic = m0; ic < m1; ic += mc) {
      const mcc = Math.min(mc, m1 - ic);
      const asrc = p.a + 4 * (p.ta ? pc * p.lda + ic : ic * p.lda + pc);
      ex.pack_a(asrc, p.lda, p.ta, mcc, kc, buf.a);
      ex.macro(
        buf.a,
        bp,
        mcc,
        nb,
        kc,
        p.c + 4 * (ic * p.ldc + n0),
        p.ldc,
        p.alpha,
        beta,
        buf.tmp,
        bias && bias + 4 * ic,
      );
    }
  }
}

/**
 * Runs jobs `j` given by `next()` (−1: none left) on one thread, reusing its packed op(B) from one
 * job to the next of the same column; returns the first error (the other jobs still run).
 */
function runClaimed(
  ex: GemmExports,
  p: GemmCall,
  buf: ThreadBuffers,
  next: () => number,
  done: (failed: boolean) => void,
): unknown {
  let err: unknown = null;
  let column = -1;
  for (let j = next(); j >= 0; j = next()) {
    const jm = j % p.gm;
    const jn = (j - jm) / p.gm;
    const m0 = jm * p.mb;
    const n0 = jn * p.nb;
    try {
      runBlock(
        ex,
        p,
        m0,
        Math.min(p.m, m0 + p.mb),
        n0,
        Math.min(p.n, n0 + p.nb),
        buf,
        column === jn,
      );
      column = jn;
    } catch (e) {
      err ??= e;
      column = -1;
      done(true);
      continue;
    }
    done(false);
  }
  return err;
}

/**
 * Claims and computes jobs of call `seq` until none are left (the caller and every worker run
 * this); counts each finished (or failed) job in C_FIN and wakes the caller.
 */
export function runJobs(
  ex: GemmExports,
  ctl: Control,
  seq: number,
  p: GemmCall,
  buf: ThreadBuffers,
): unknown {
  const njobs = p.gm * p.gn;
  return runClaimed(ex, p, buf, () => claim(ctl, seq, njobs), (failed) => {
    if (failed) Atomics.store(ctl.i32, C_ERR, 1);
    Atomics.add(ctl.i32, C_FIN, 1);
    Atomics.notify(ctl.i32, C_FIN);
  });
}

/** Spins (about `spins` Atomics.loads) then sleeps until `ctl[i] !== v`; returns the new value. */
export function waitChange(ctl: Int32Array, i: number, v: number, spins: number): number {
  for (let s = 0; s < spins; s++) {
    const x = Atomics.load(ctl, i);
    if (x !== v) return x;
  }
  for (;;) {
    Atomics.wait(ctl, i, v);
    const x = Atomics.load(ctl, i);
    if (x !== v) return x;
  }
}

/** The two kernels' files (committed; built by wasm/build.sh from wasm/gemm/*.wat). */
export const GEMM_WASM_URLS = {
  relaxed: new URL("../../../wasm/gemm_relaxed.wasm", import.meta.url),
  simd: new URL("../../../wasm/gemm_simd.wasm", import.meta.url),
} as const;

const fetched = new Map<string, Promise<Uint8Array<ArrayBuffer>>>();
const compiled = new Map<string, Promise<WebAssembly.Module>>();

function bytesOf(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  const key = String(url);
  let p = fetched.get(key);
  if (!p) {
    p = (async () => {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`);
      return new Uint8Array(await res.arrayBuffer());
    })();
    p.catch(() => fetched.delete(key));
    fetched.set(key, p);
  }
  return p;
}

function moduleOf(url: URL): Promise<WebAssembly.Module> {
  const key = String(url);
  let p = compiled.get(key);
  if (!p) {
    p = bytesOf(url).then((b) => WebAssembly.compile(b));
    p.catch(() => compiled.delete(key));
    compiled.set(key, p);
  }
  return p;
}

/**
 * The kernel module to use: the relaxed-SIMD one when wanted and `validate` accepts it (the
 * feature test: an engine without relaxed SIMD rejects the module), else the plain SIMD128 one.
 * Compiled once per process.
 */
export async function loadGemmKernel(
  wantRelaxed = true,
  validate: (bytes: BufferSource) => boolean = WebAssembly.validate,
): Promise<{ module: WebAssembly.Module; relaxed: boolean }> {
  if (wantRelaxed && validate(await bytesOf(GEMM_WASM_URLS.relaxed))) {
    return { module: await moduleOf(GEMM_WASM_URLS.relaxed), relaxed: true };
  }
  return { module: await moduleOf(GEMM_WASM_URLS.simd), relaxed: false };
}

/**
 * Starts a pool: `threads - 1` workers, each instantiating the kernel module on `memory`.
 * The scratch region `[scratchPtr, scratchPtr + scratchBytes)` must stay reserved for the pool.
 */
export async function createGemmPool(
  memory: WebAssembly.Memory,
  opts: GemmPoolOptions,
): Promise<GemmPool> {
  const threads = Math.max(
    1,
    Math.min(64, Math.floor(opts.threads ?? Math.min(navigator.hardwareConcurrency || 1, 16))),
  );
  if (!(memory.buffer instanceof SharedArrayBuffer)) {
    throw new TypeError("createGemmPool: the memory must be shared ({ shared: true })");
  }
  const need = gemmScratchBytes(threads);
  if (opts.scratchBytes < need) {
    throw new RangeError(
      `createGemmPool: scratchBytes ${opts.scratchBytes} < gemmScratchBytes(${threads}) = ${need}`,
    );
  }
  if (opts.scratchPtr % 16 !== 0 || opts.scratchPtr < 0) {
    throw new RangeError(`createGemmPool: scratchPtr ${opts.scratchPtr} must be 16-aligned`);
  }
  const end = opts.scratchPtr + need;
  if (end > memory.buffer.byteLength) {
    memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
  }
  const { module } = await loadGemmKernel(opts.relaxed ?? true);
  const inst = new WebAssembly.Instance(module, { env: { memory } });
  const ex = inst.exports as unknown as GemmExports;
  const relaxed = ex.relaxed() === 1;
  const mr = ex.mr();
  const nr = ex.nr();
  const ctlPtr = opts.scratchPtr;
  const ctl = controlViews(memory, ctlPtr);
  ctl.i32.fill(0);
  const mainBuf = threadBuffers(opts.scratchPtr, 0, threads);
  const serialFlops = opts.serialFlops ?? GEMM_SERIAL_FLOPS;

  const workers: Worker[] = [];
  try {
    const ready: Promise<void>[] = [];
    for (let tid = 1; tid < threads; tid++) {
      const w = new Worker(new URL("./gemm_worker.ts", import.meta.url), { type: "module" });
      workers.push(w);
      ready.push(
        new Promise<void>((resolve, reject) => {
          w.onmessage = (e) => {
            if (e.data === "ready") resolve();
            else reject(new Error(`gemm worker ${tid}: ${e.data}`));
          };
          w.onerror = (e) => {
            e.preventDefault();
            reject(new Error(`gemm worker ${tid}: ${e.message}`));
          };
        }),
      );
      w.postMessage({
        memory,
        module,
        ctlPtr,
        tid,
        buf: threadBuffers(opts.scratchPtr, tid, threads),
      });
    }
    await Promise.all(ready);
  } catch (e) {
    for (const w of workers) w.terminate();
    throw e;
  }
  for (const w of workers) {
    w.onmessage = null;
    w.onerror = (e) => {
      e.preventDefault();
      console.error(`gemm worker: ${e.message}`);
    };
  }

  let closed = false;
  const memBytes = () => memory.buffer.byteLength;

  function check(
    what: string,
    ptr: number,
    rows: number,
    cols: number,
    ld: number,
  ): void {
    if (rows === 0 || cols === 0) return;
    if (!Number.isInteger(ptr) || ptr < 0) throw new RangeError(`sgemm: ${what} pointer ${ptr}`);
    if (!Number.isInteger(ld) || ld < cols) {
      throw new RangeError(`sgemm: ld${what} ${ld} < ${cols}`);
    }
    const last = ptr + 4 * ((rows - 1) * ld + cols);
    if (last > memBytes()) {
      throw new RangeError(`sgemm: ${what} runs past the memory (${last} > ${memBytes()})`);
    }
  }

  /** False when C is empty; throws on a bad dimension. */
  function dims(m: number, n: number, k: number): boolean {
    for (const [nm, v] of [["m", m], ["n", n], ["k", k]] as const) {
      if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
        throw new RangeError(`sgemm: ${nm} = ${v}`);
      }
    }
    return m !== 0 && n !== 0;
  }

  /** Plans and runs one checked call (g: geometry pointer of a convolution's B, else 0). */
  function call(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    aPtr: number,
    lda: number,
    bPtr: number,
    ldb: number,
    beta: number,
    cPtr: number,
    ldc: number,
    g: number,
    bias = 0,
  ): void {
    const flops = 2 * m * n * k;
    const use = flops < serialFlops ? 1 : threads;
    const grid = planJobs(m, n, k, use, mr, nr, g !== 0);
    const p: GemmCall = {
      ta: transA ? 1 : 0,
      tb: transB ? 1 : 0,
      m,
      n,
      k,
      alpha: Math.fround(alpha),
      a: aPtr,
      lda,
      b: bPtr,
      ldb,
      beta: Math.fround(beta),
      c: cPtr,
      ldc,
      ...grid,
      kcb: kBlock(k),
      g,
      bias,
    };
    const njobs = p.gm * p.gn;
    if (use === 1 || njobs === 1) {
      let j = 0;
      const err = runClaimed(ex, p, mainBuf, () => j < njobs ? j++ : -1, () => {});
      if (err) throw err;
      return;
    }
    const seq = (Atomics.load(ctl.i32, C_SEQ) + 1) | 0;
    // Close the previous call's claims for good, publish the arguments, then open this call.
    Atomics.store(ctl.i64, 0, (BigInt((seq - 1) >>> 0) << 32n) | 0xffffffffn);
    writeCall(ctl.i32, p);
    Atomics.store(ctl.i32, C_FIN, 0);
    Atomics.store(ctl.i32, C_ERR, 0);
    Atomics.store(ctl.i32, C_CMD, CMD_GEMM);
    Atomics.store(ctl.i64, 0, BigInt(seq >>> 0) << 32n);
    Atomics.store(ctl.i32, C_SEQ, seq);
    Atomics.notify(ctl.i32, C_SEQ);
    const err = runJobs(ex, ctl, seq, p, mainBuf);
    let fin = Atomics.load(ctl.i32, C_FIN);
    while (fin < njobs) fin = waitChange(ctl.i32, C_FIN, fin, 20000);
    if (err) throw err;
    if (Atomics.load(ctl.i32, C_ERR) !== 0) {
      throw new Error("sgemm: a job failed on a gemm worker (its error is on stderr)");
    }
  }

  const pool: GemmPool = {
    threads,
    relaxed,
    sgemm(transA, transB, m, n, k, alpha, aPtr, lda, bPtr, ldb, beta, cPtr, ldc) {
      if (closed) throw new Error("sgemm: the pool is closed");
      if (!dims(m, n, k)) return;
      check("c", cPtr, m, n, ldc);
      if (k === 0 || alpha === 0) {
        ex.scale(cPtr, ldc, m, n, beta);
        return;
      }
      check("a", aPtr, transA ? k : m, transA ? m : k, lda);
      check("b", bPtr, transB ? n : k, transB ? k : n, ldb);
      call(transA, transB, m, n, k, alpha, aPtr, lda, bPtr, ldb, beta, cPtr, ldc, 0);
    },
    sgemmConv(transB, m, n, k, alpha, aPtr, lda, xPtr, geom, beta, cPtr, ldc, biasPtr = 0) {
      if (closed) throw new Error("sgemm: the pool is closed");
      if (geom.length !== 13 || geom.some((v) => !Number.isInteger(v) || v < 0)) {
        throw new RangeError(`sgemmConv: geometry ${geom}`);
      }
      const [cin, h, w, kh, kw, oh, ow] = geom;
      const kk = cin * kh * kw, px = oh * ow;
      if ((transB ? px : kk) !== k || (transB ? kk : px) !== n) {
        throw new RangeError(`sgemmConv: k ${k}, n ${n} do not match the geometry ${geom}`);
      }
      if (!dims(m, n, k)) return;
      check("c", cPtr, m, n, ldc);
      if (biasPtr) check("bias", biasPtr, 1, m, m);
      if (k === 0 || alpha === 0) {
        if (!biasPtr) {
          ex.scale(cPtr, ldc, m, n, beta);
          return;
        }
        const f = new Float32Array(memory.buffer);
        for (let i = 0; i < m; i++) {
          const v = Math.fround(beta * f[biasPtr / 4 + i]);
          f.fill(beta === 0 ? 0 : v, cPtr / 4 + i * ldc, cPtr / 4 + i * ldc + n);
        }
        return;
      }
      check("a", aPtr, m, k, lda);
      check("x", xPtr, 1, cin * h * w, cin * h * w);
      for (let i = 0; i < 13; i++) Atomics.store(ctl.i32, C_GEOM + i, geom[i]);
      const g = ctlPtr + C_GEOM * 4;
      call(false, transB, m, n, k, alpha, aPtr, lda, xPtr, 0, beta, cPtr, ldc, g, biasPtr);
    },
    peak(iters) {
      if (closed) throw new Error("peak: the pool is closed");
      const n = Math.max(1, Math.floor(iters));
      const flops = threads * n * ex.peak_flops();
      const t0 = performance.now();
      if (threads === 1) {
        ex.peak(n);
        return { seconds: (performance.now() - t0) / 1000, flops };
      }
      const seq = (Atomics.load(ctl.i32, C_SEQ) + 1) | 0;
      Atomics.store(ctl.i64, 0, (BigInt((seq - 1) >>> 0) << 32n) | 0xffffffffn);
      Atomics.store(ctl.i32, C_ARGS, n);
      Atomics.store(ctl.i32, C_ARGS + 1, seq);
      Atomics.store(ctl.i32, C_FIN, 0);
      Atomics.store(ctl.i32, C_CMD, CMD_PEAK);
      Atomics.store(ctl.i32, C_SEQ, seq);
      Atomics.notify(ctl.i32, C_SEQ);
      ex.peak(n);
      let fin = Atomics.load(ctl.i32, C_FIN);
      while (fin < threads - 1) fin = waitChange(ctl.i32, C_FIN, fin, 20000);
      return { seconds: (performance.now() - t0) / 1000, flops };
    },
    close() {
      if (closed) return;
      closed = true;
      Atomics.store(ctl.i32, C_CMD, CMD_EXIT);
      Atomics.add(ctl.i32, C_SEQ, 1);
      Atomics.notify(ctl.i32, C_SEQ);
      for (const w of workers) w.terminate();
    },
  };
  return pool;
}

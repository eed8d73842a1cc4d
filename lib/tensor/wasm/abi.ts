/**
 * The engine module, wasm/engine.wasm (built from wasm/engine/src, one Rust file per op family):
 * its exports as the backend calls them and the ABI version it must report. The module is
 * compiled once when the library loads (top-level await); without read access to it (a tool
 * run for `--help` with no permissions) the error is kept and thrown on first use.
 *
 * @module
 */
import { compileWasm } from "../../wasm/load.ts";

const ENGINE_URL = new URL("../../../wasm/engine.wasm", import.meta.url);

/** The kernel ABI this library expects: bump with wasm/engine/src/lib.rs `abi_version`. */
export const ENGINE_ABI = 2;

let compiled: WebAssembly.Module | null = null;
let compileError: unknown = null;
try {
  compiled = await compileWasm(ENGINE_URL);
} catch (e) {
  compileError = e;
}

/**
 * The compiled engine module; throws the error of loading it when that failed.
 *
 * @example
 * const inst = new WebAssembly.Instance(engineModule(), { env: { memory } });
 */
export function engineModule(): WebAssembly.Module {
  if (!compiled) throw compileError;
  return compiled;
}

/**
 * The engine's exports (pointer arguments are byte offsets).
 *
 * @example
 * const engine = inst.exports as unknown as Engine;
 * engine.fill_f32(ptr, n, 0);
 */
export interface Engine {
  abi_version(): number;
  __heap_base: WebAssembly.Global;
  fill_f32(out: number, n: number, v: number): void;
  cast_i32_f32(x: number, y: number, n: number): void;
  cast_f32_i32(x: number, y: number, n: number): void;
  copy_strided(src: number, dst: number, prm: number, acc: number): void;
  unary(op: number, x: number, y: number, n: number, a: number, b: number): void;
  unary_backward(
    op: number,
    x: number,
    y: number,
    dy: number,
    dx: number,
    n: number,
    a: number,
    b: number,
    acc: number,
  ): void;
  binary(op: number, a: number, b: number, out: number, prm: number): void;
  where_(c: number, a: number, b: number, out: number, prm: number): void;
  reduce(op: number, x: number, out: number, prm: number): void;
  softmax(x: number, y: number, rows: number, cols: number, log: number): void;
  softmax_backward(
    y: number,
    dy: number,
    dx: number,
    rows: number,
    cols: number,
    log: number,
  ): void;
  adam_step(
    p: number,
    g: number,
    m: number,
    v: number,
    n: number,
    b1: number,
    omb1: number,
    b2: number,
    omb2: number,
    stepSize: number,
    bc2: number,
    eps: number,
    wd: number,
    decay: number,
    decoupled: number,
  ): void;
  sgd_step(
    p: number,
    g: number,
    buf: number,
    n: number,
    lr: number,
    mom: number,
    omd: number,
    wd: number,
    nesterov: number,
    first: number,
  ): void;
  sgemm_scratch_floats(): number;
  sgemm(
    ta: number,
    tb: number,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    beta: number,
    c: number,
    ldc: number,
    scratch: number,
  ): void;
  im2col_tile(x: number, col: number, prm: number, p0: number, ncols: number, ldcol: number): void;
  col2im_tile(col: number, dx: number, prm: number, p0: number, ncols: number): void;
  batch_norm(
    x: number,
    g: number,
    b: number,
    rm: number,
    rv: number,
    y: number,
    mean: number,
    invstd: number,
    n: number,
    c: number,
    hw: number,
    eps: number,
    useBatch: number,
    momentum: number,
    act: number,
    slope: number,
    c0: number,
    c1: number,
  ): void;
  batch_norm_backward(
    x: number,
    y: number,
    dy: number,
    g: number,
    mean: number,
    invstd: number,
    dx: number,
    dg: number,
    db: number,
    n: number,
    c: number,
    hw: number,
    useBatch: number,
    act: number,
    slope: number,
    c0: number,
    c1: number,
  ): void;
  max_pool2d(x: number, y: number, idx: number, prm: number): void;
  max_pool2d_backward(dy: number, idx: number, dx: number, prm: number): void;
  avg_pool2d(x: number, y: number, prm: number): void;
  avg_pool2d_backward(dy: number, dx: number, prm: number): void;
  upsample2d(
    x: number,
    y: number,
    planes: number,
    h: number,
    w: number,
    oh: number,
    ow: number,
    mode: number,
    align: number,
    sh: number,
    sw: number,
  ): void;
  upsample2d_backward(
    dy: number,
    dx: number,
    planes: number,
    h: number,
    w: number,
    oh: number,
    ow: number,
    mode: number,
    align: number,
    sh: number,
    sw: number,
  ): void;
  grid_sample(
    x: number,
    g: number,
    y: number,
    n: number,
    c: number,
    h: number,
    w: number,
    oh: number,
    ow: number,
    align: number,
  ): void;
  grid_sample_backward(
    x: number,
    g: number,
    dy: number,
    dx: number,
    dg: number,
    n: number,
    c: number,
    h: number,
    w: number,
    oh: number,
    ow: number,
    align: number,
  ): void;
  random_fill(
    out: number,
    n: number,
    kind: number,
    k0: number,
    k1: number,
    c0: number,
    c1: number,
    p: number,
    scale: number,
  ): void;
}

/**
 * Writes the WAT sources of the SGEMM modules (`gemm_relaxed.wat`, `gemm_simd.wat`).
 *
 * The two modules are the same code with a different multiply-add: `f32x4.relaxed_madd` (one
 * fused multiply-add on x86 with FMA) or `f32x4.mul` + `f32x4.add` (plain SIMD128), and a
 * register blocking chosen for each (see the table below; measured on the 2-core AMD EPYC of
 * platform.md, V8 15 / Deno 2.9.6, where V8 has 15 usable xmm registers).
 *
 * The WAT is written out by this script (a micro-kernel per tile size, 12 accumulators
 * unrolled 8 k steps deep is too long to keep right by hand); the generated files are committed
 * and are what `wasm/build.sh` assembles. `bash wasm/build.sh` regenerates them first (with
 * deno), and `bash wasm/build.sh --check` fails when the committed WAT differs from this
 * generator's output. By hand: `deno run --allow-write=wasm/gemm wasm/gemm/gen_wat.ts`.
 *
 * Module interface (all pointers are byte offsets into the imported shared memory; leading
 * dimensions are in elements; the module has no data segments, no globals and no stack):
 * - `pack_a(src, lda, trans, mc, kc, dst)`: packs op(A)[0:mc, 0:kc] into MR-row panels
 *   (panel p at dst + p*kc*MR*4, element (r, k) at + (k*MR + r)*4), zero-padding rows ≥ mc.
 * - `pack_b(src, ldb, trans, kc, nc, dst)`: packs op(B)[0:kc, 0:nc] into NR-column panels
 *   (panel q at dst + q*kc*NR*4, element (k, c) at + (k*NR + c)*4), zero-padding cols ≥ nc.
 * - `macro(ap, bp, mc, nc, kc, c, ldc, alpha, beta, tmp, bias)`: C[0:mc, 0:nc] = alpha·Ap·Bp +
 *   beta·C (beta = 0: C is not read), tile by tile; bias ≠ 0: a vector of mc floats stands for C
 *   (C[i, j] read as bias[i]: a convolution's bias on its first k block, bit for bit what copying
 *   it into C first gives); edge tiles go through `tmp` (MR*NR floats)
 *   with the same arithmetic, so every element's result is independent of tile position.
 * - `pack_b_conv(x, g, trans, k0, kc, n0, nc, dst)`: as `pack_b`, with op(B) the im2col matrix
 *   of a convolution of the image at x (geometry at g), read straight from the image.
 * - `scale(c, ldc, m, n, beta)`: C = beta·C (beta = 0: C = 0).
 * - `mr()`, `nr()`: the register blocking.
 * - `peak(iters)`, `peak_flops()`: the module's multiply-add ceiling in registers (no memory),
 *   flops per iteration; the yardstick the benchmarks divide by.
 *
 * @module
 */

export interface KernelConfig {
  /** Output file stem. */
  name: string;
  /** Use `f32x4.relaxed_madd` (else `f32x4.mul` + `f32x4.add`). */
  relaxed: boolean;
  /** Micro-tile rows (A broadcasts). */
  mr: number;
  /** Micro-tile columns (multiple of 4: B vectors). */
  nr: number;
  /** Keep the B vectors of one k step in locals (else reload them for each row). */
  bReg: boolean;
  /**
   * Rows 0–3 of a k step from one v128 load of the A panel and a lane splat each (else one
   * `load32_splat` per row): fewer loads, each of which V8 bounds-checks when the embedder
   * has no trap handler (Deno).
   */
  aVec?: boolean;
}

/**
 * Register blockings (single core, L1-resident panels, kc = 256; GFLOP/s). Deno's V8 runs wasm
 * without a trap handler, so every load carries an explicit bounds check (lea + cmp + jae): a
 * 6×8 k step is 8 checked loads for 12 FMAs, which the front end cannot issue in the 6 cycles
 * the FMAs take. 5×8 with `aVec` (rows 0–3 from one v128 load and lane splats, row 4 a
 * `load32_splat`): 4 checked loads for 10 FMAs in 10 + 2 + 2 = 14 xmm registers.
 * Measured interleaved in one process (load 13–15, best of 15; the relaxed peak ≈ 48–49):
 * relaxed 5×8 aVec 41.4–43.1, 6×8 36.6–39.7, 4×8 aVec 38.8–40.4, 5×8 35.0, 6×8 aVec and
 * 4×12 aVec spill (9–12); full sgemm per CPU-second +11–20 % for 5×8 aVec over 6×8 (1 and 2
 * threads, 1024³, 2048³, 512×2048×4096, 128×8192×1024). Without bounds checks
 * (`--v8-flags=--no-wasm-bounds-checks`, a test-only flag) 6×8 reaches 47.7–48.5 of 48.3–49.4.
 * Earlier (quiet): relaxed 6×8 ≈ 47–49, 3×12 ≈ 49, 5×8 ≈ 45–47, 4×8 ≈ 43–45;
 * plain 3×12 ≈ 38, 5×8 ≈ 36–37, 4×8 ≈ 35, 6×8 ≈ 27 (spills: mul needs a temporary).
 */
export const KERNELS: KernelConfig[] = [
  { name: "gemm_relaxed", relaxed: true, mr: 5, nr: 8, bReg: true, aVec: true },
  { name: "gemm_simd", relaxed: false, mr: 3, nr: 12, bReg: true },
];

/** k steps per iteration of the micro-kernel's main loop. */
const UNROLL = 8;

class W {
  lines: string[] = [];
  ind = 0;
  o(s: string): void {
    this.lines.push("  ".repeat(this.ind) + s);
  }
  open(s: string): void {
    this.o(s);
    this.ind++;
  }
  close(s = ")"): void {
    this.ind--;
    this.o(s);
  }
}

const g = (n: string) => `(local.get $${n})`;
const i32 = (v: number) => `(i32.const ${v})`;
const add = (a: string, b: string) => `(i32.add ${a} ${b})`;
const mul = (a: string, b: string) => `(i32.mul ${a} ${b})`;

/** i8x16.shuffle byte indices for 32-bit lanes (0-3 first operand, 4-7 second). */
function shuf(lanes: number[]): string {
  return lanes.map((l) => [0, 1, 2, 3].map((b) => l * 4 + b).join(" ")).join(" ");
}

/** Name of the micro-kernel for `rows` rows and `vecs` f32x4 columns. */
const microName = (rows: number, vecs: number) => `$micro_${rows}x${vecs * 4}`;

/**
 * The micro-kernel for a `rows` × 4·`vecs` tile (rows ≤ MR, vecs ≤ NR/4) of packed panels
 * (A panel: MR floats per k step, B panel: NR floats per k step). Every size runs the same
 * multiply-add sequence per element, so an element's value does not depend on its tile.
 */
function micro(w: W, cfg: KernelConfig, rows: number, vecs: number): void {
  const { mr, nr } = cfg;
  const madd = (a: string, b: string, c: string) =>
    cfg.relaxed ? `(f32x4.relaxed_madd ${a} ${b} ${c})` : `(f32x4.add (f32x4.mul ${a} ${b}) ${c})`;
  w.open(
    `(func ${microName(rows, vecs)} (param $ap i32) (param $bp i32) (param $kc i32) ` +
      `(param $cp i32) (param $ldcb i32) (param $alpha f32) (param $beta f32) (param $bias i32)`,
  );
  w.o(`(local $n i32) (local $a v128) (local $va v128) (local $vb v128)`);
  if (cfg.aVec) w.o(`(local $av v128)`);
  for (let j = 0; j < vecs; j++) w.o(`(local $b${j} v128)`);
  for (let i = 0; i < rows; i++) {
    w.o(Array.from({ length: vecs }, (_, j) => `(local $c${i}_${j} v128)`).join(" "));
  }
  const step = (s: number) => {
    if (cfg.bReg) {
      for (let j = 0; j < vecs; j++) {
        w.o(`(local.set $b${j} (v128.load offset=${(s * nr + 4 * j) * 4} ${g("bp")}))`);
      }
    }
    const vec = cfg.aVec && mr >= 4 ? Math.min(rows, 4) : 0;
    if (vec) w.o(`(local.set $av (v128.load offset=${s * mr * 4} ${g("ap")}))`);
    for (let i = 0; i < rows; i++) {
      w.o(
        i < vec
          ? `(local.set $a (i8x16.shuffle ${shuf([i, i, i, i])} ${g("av")} ${g("av")}))`
          : `(local.set $a (v128.load32_splat offset=${(s * mr + i) * 4} ${g("ap")}))`,
      );
      for (let j = 0; j < vecs; j++) {
        const b = cfg.bReg ? g(`b${j}`) : `(v128.load offset=${(s * nr + 4 * j) * 4} ${g("bp")})`;
        w.o(`(local.set $c${i}_${j} ${madd(g("a"), b, g(`c${i}_${j}`))})`);
      }
    }
  };
  const loop = (u: number, label: string) => {
    w.open(`(if ${g("n")} (then (loop $${label}`);
    for (let s = 0; s < u; s++) step(s);
    w.o(`(local.set $ap ${add(g("ap"), i32(u * mr * 4))})`);
    w.o(`(local.set $bp ${add(g("bp"), i32(u * nr * 4))})`);
    w.o(`(br_if $${label} (local.tee $n (i32.sub ${g("n")} ${i32(1)})))`);
    w.close(`)))`);
  };
  w.o(`;; k loop: ${UNROLL} steps per iteration, then one at a time; same order for every k`);
  w.o(`(local.set $n (i32.shr_u ${g("kc")} ${i32(Math.log2(UNROLL))}))`);
  loop(UNROLL, "main");
  w.o(`(local.set $n (i32.and ${g("kc")} ${i32(UNROLL - 1)}))`);
  loop(1, "rest");
  w.o(`;; C = alpha*acc + beta*C (beta = 0: C is not read; $bias: a row vector stands for C)`);
  w.o(`(local.set $va (f32x4.splat ${g("alpha")}))`);
  w.open(`(if (f32.eq ${g("beta")} (f32.const 0))`);
  w.open(`(then`);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < vecs; j++) {
      w.o(`(v128.store offset=${j * 16} ${g("cp")} (f32x4.mul ${g("va")} ${g(`c${i}_${j}`)}))`);
    }
    if (i < rows - 1) w.o(`(local.set $cp ${add(g("cp"), g("ldcb"))})`);
  }
  w.close();
  w.open(`(else`);
  w.o(`(local.set $vb (f32x4.splat ${g("beta")}))`);
  w.open(`(if ${g("bias")}`);
  w.open(`(then`);
  for (let i = 0; i < rows; i++) {
    w.o(`(local.set $a (v128.load32_splat offset=${i * 4} ${g("bias")}))`);
    for (let j = 0; j < vecs; j++) {
      w.o(
        `(v128.store offset=${j * 16} ${g("cp")} (f32x4.add (f32x4.mul ${g("va")} ${
          g(`c${i}_${j}`)
        }) (f32x4.mul ${g("vb")} ${g("a")})))`,
      );
    }
    if (i < rows - 1) w.o(`(local.set $cp ${add(g("cp"), g("ldcb"))})`);
  }
  w.close();
  w.open(`(else`);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < vecs; j++) {
      w.o(
        `(v128.store offset=${j * 16} ${g("cp")} (f32x4.add (f32x4.mul ${g("va")} ${
          g(`c${i}_${j}`)
        }) (f32x4.mul ${g("vb")} (v128.load offset=${j * 16} ${g("cp")}))))`,
      );
    }
    if (i < rows - 1) w.o(`(local.set $cp ${add(g("cp"), g("ldcb"))})`);
  }
  w.close();
  w.close();
  w.close();
  w.close();
  w.close();
}

/**
 * Calls the micro-kernel for `rows` × 4·`vecs` (locals $mr, $v: 1-based) with the given C
 * pointer, leading dimension in bytes and beta (a br_table over all MR × NR/4 sizes).
 */
function dispatch(
  w: W,
  cfg: KernelConfig,
  cp: string,
  ldcb: string,
  beta: string,
  bias: string,
): void {
  const nv = cfg.nr / 4;
  const names: string[] = [];
  for (let r = 1; r <= cfg.mr; r++) for (let v = 1; v <= nv; v++) names.push(`${r}_${v}`);
  w.open(`(block $dd`);
  for (let i = names.length - 1; i >= 0; i--) w.open(`(block $d${names[i]}`);
  w.o(
    `(br_table ${names.map((n) => `$d${n}`).join(" ")} ` +
      `(i32.add (i32.mul (i32.sub ${g("mr")} ${i32(1)}) ${i32(nv)}) (i32.sub ${g("v")} ${
        i32(1)
      })))`,
  );
  for (const nm of names) {
    w.close(); // closes block $d<nm>: its code follows
    const [r, v] = nm.split("_").map(Number);
    w.o(
      `(call ${microName(r, v)} ${g("app")} ${g("bpp")} ${g("kc")} ${cp} ${ldcb} ${
        g("alpha")
      } ${beta} ${bias})`,
    );
    w.o(`(br $dd)`);
  }
  w.close();
}

function macro(w: W, cfg: KernelConfig): void {
  const { mr, nr } = cfg;
  w.open(
    `(func (export "macro") (param $ap i32) (param $bp i32) (param $mc i32) (param $nc i32) ` +
      `(param $kc i32) (param $cp i32) (param $ldc i32) (param $alpha f32) (param $beta f32) ` +
      `(param $tmp i32) (param $bias i32)`,
  );
  w.o(`(local $jr i32) (local $ir i32) (local $bpp i32) (local $app i32) (local $ldcb i32)`);
  w.o(
    `(local $ct i32) (local $mr i32) (local $nr i32) (local $v i32) (local $r i32) (local $c i32)`,
  );
  w.o(`(local $src i32) (local $dst i32) (local $x f32) (local $brow i32)`);
  w.o(`(local.set $ldcb (i32.shl ${g("ldc")} ${i32(2)}))`);
  w.o(`(local.set $bpp ${g("bp")})`);
  w.open(`(block $jdone (loop $J`);
  w.o(`(br_if $jdone (i32.ge_s ${g("jr")} ${g("nc")}))`);
  w.o(`(local.set $nr (i32.sub ${g("nc")} ${g("jr")}))`);
  w.o(`(if (i32.gt_s ${g("nr")} ${i32(nr)}) (then (local.set $nr ${i32(nr)})))`);
  w.o(`(local.set $v (i32.shr_u (i32.add ${g("nr")} ${i32(3)}) ${i32(2)}))`);
  w.o(`(local.set $ir ${i32(0)})`);
  w.o(`(local.set $app ${g("ap")})`);
  w.open(`(block $idone (loop $I`);
  w.o(`(br_if $idone (i32.ge_s ${g("ir")} ${g("mc")}))`);
  w.o(`(local.set $mr (i32.sub ${g("mc")} ${g("ir")}))`);
  w.o(`(if (i32.gt_s ${g("mr")} ${i32(mr)}) (then (local.set $mr ${i32(mr)})))`);
  w.o(
    `(local.set $ct ${
      add(g("cp"), `(i32.shl ${add(mul(g("ir"), g("ldc")), g("jr"))} ${i32(2)})`)
    })`,
  );
  w.open(`(if (i32.eqz (i32.and ${g("nr")} ${i32(3)}))`);
  w.o(`;; whole f32x4 columns: straight into C`);
  w.open(`(then`);
  w.o(
    `(local.set $brow (select ${add(g("bias"), `(i32.shl ${g("ir")} ${i32(2)})`)} ${i32(0)} ${
      g("bias")
    }))`,
  );
  dispatch(w, cfg, g("ct"), g("ldcb"), g("beta"), g("brow"));
  w.close();
  w.open(`(else`);
  w.o(`;; ragged last columns: alpha*acc into tmp, then C = tmp + beta*C element by element`);
  dispatch(w, cfg, g("tmp"), i32(nr * 4), `(f32.const 0)`, i32(0));
  w.o(`(local.set $r ${i32(0)})`);
  w.open(`(loop $R`);
  w.o(`(local.set $src ${add(g("tmp"), mul(g("r"), i32(nr * 4)))})`);
  w.o(`(local.set $dst ${add(g("ct"), mul(g("r"), g("ldcb")))})`);
  w.o(`(local.set $c ${i32(0)})`);
  w.open(`(loop $C`);
  w.o(`(local.set $x (f32.load ${g("src")}))`);
  w.o(
    `(if (f32.ne ${g("beta")} (f32.const 0)) (then (local.set $x (f32.add ${g("x")} ` +
      `(f32.mul ${g("beta")} (f32.load (select ${
        add(g("bias"), `(i32.shl ${add(g("ir"), g("r"))} ${i32(2)})`)
      } ${g("dst")} ${g("bias")})))))))`,
  );
  w.o(`(f32.store ${g("dst")} ${g("x")})`);
  w.o(`(local.set $src ${add(g("src"), i32(4))})`);
  w.o(`(local.set $dst ${add(g("dst"), i32(4))})`);
  w.o(`(br_if $C (i32.lt_s (local.tee $c ${add(g("c"), i32(1))}) ${g("nr")}))`);
  w.close();
  w.o(`(br_if $R (i32.lt_s (local.tee $r ${add(g("r"), i32(1))}) ${g("mr")}))`);
  w.close();
  w.close();
  w.close(); // if
  w.o(`(local.set $ir ${add(g("ir"), i32(mr))})`);
  w.o(`(local.set $app ${add(g("app"), mul(g("kc"), i32(mr * 4)))})`);
  w.o(`(br $I)`);
  w.close(`))`);
  w.o(`(local.set $jr ${add(g("jr"), i32(nr))})`);
  w.o(`(local.set $bpp ${add(g("bpp"), mul(g("kc"), i32(nr * 4)))})`);
  w.o(`(br $J)`);
  w.close(`))`);
  w.close();
}

/**
 * Emits stores of the transpose of `rows` row vectors (each 4 consecutive k values of one
 * row/column of the source) into 4 consecutive k groups of `width` floats at `dstVar`,
 * starting at float position `pos` in each group.
 */
function transposeStore(
  w: W,
  vecs: string[],
  width: number,
  pos: number,
  dstVar: string,
): void {
  const n = vecs.length;
  if (n === 4) {
    const [x0, x1, x2, x3] = vecs;
    w.o(`(local.set $t0 (i8x16.shuffle ${shuf([0, 4, 1, 5])} ${x0} ${x1}))`);
    w.o(`(local.set $t1 (i8x16.shuffle ${shuf([2, 6, 3, 7])} ${x0} ${x1}))`);
    w.o(`(local.set $t2 (i8x16.shuffle ${shuf([0, 4, 1, 5])} ${x2} ${x3}))`);
    w.o(`(local.set $t3 (i8x16.shuffle ${shuf([2, 6, 3, 7])} ${x2} ${x3}))`);
    const outs: [number, string][] = [
      [0, `(i8x16.shuffle ${shuf([0, 1, 4, 5])} ${g("t0")} ${g("t2")})`],
      [1, `(i8x16.shuffle ${shuf([2, 3, 6, 7])} ${g("t0")} ${g("t2")})`],
      [2, `(i8x16.shuffle ${shuf([0, 1, 4, 5])} ${g("t1")} ${g("t3")})`],
      [3, `(i8x16.shuffle ${shuf([2, 3, 6, 7])} ${g("t1")} ${g("t3")})`],
    ];
    for (const [q, v] of outs) {
      w.o(`(v128.store offset=${(q * width + pos) * 4} ${g(dstVar)} ${v})`);
    }
  } else if (n === 2) {
    const [x0, x1] = vecs;
    w.o(`(local.set $t0 (i8x16.shuffle ${shuf([0, 4, 1, 5])} ${x0} ${x1}))`);
    w.o(`(local.set $t1 (i8x16.shuffle ${shuf([2, 6, 3, 7])} ${x0} ${x1}))`);
    w.o(`(v128.store64_lane offset=${(0 * width + pos) * 4} 0 ${g(dstVar)} ${g("t0")})`);
    w.o(`(v128.store64_lane offset=${(1 * width + pos) * 4} 1 ${g(dstVar)} ${g("t0")})`);
    w.o(`(v128.store64_lane offset=${(2 * width + pos) * 4} 0 ${g(dstVar)} ${g("t1")})`);
    w.o(`(v128.store64_lane offset=${(3 * width + pos) * 4} 1 ${g(dstVar)} ${g("t1")})`);
  } else if (n === 1) {
    w.o(`(local.set $t0 ${vecs[0]})`);
    for (let q = 0; q < 4; q++) {
      w.o(`(v128.store32_lane offset=${(q * width + pos) * 4} ${q} ${g(dstVar)} ${g("t0")})`);
    }
  } else throw new Error(`transposeStore ${n}`);
}

/** Splits `n` rows into transpose groups of 4, 2 and 1. */
function groups(n: number): [number, number][] {
  const out: [number, number][] = [];
  let r = 0;
  for (const s of [4, 2, 1]) {
    while (n - r >= s) {
      out.push([r, s]);
      r += s;
    }
  }
  return out;
}

/** Copies `width` floats from src to dst (offsets in floats) with the widest moves. */
function copyRun(w: W, width: number, srcVar: string, dstVar: string): void {
  let c = 0;
  while (c < width) {
    const left = width - c;
    if (left >= 4) {
      w.o(`(v128.store offset=${c * 4} ${g(dstVar)} (v128.load offset=${c * 4} ${g(srcVar)}))`);
      c += 4;
    } else if (left >= 2) {
      w.o(`(i64.store offset=${c * 4} ${g(dstVar)} (i64.load offset=${c * 4} ${g(srcVar)}))`);
      c += 2;
    } else {
      w.o(`(i32.store offset=${c * 4} ${g(dstVar)} (i32.load offset=${c * 4} ${g(srcVar)}))`);
      c += 1;
    }
  }
}

/**
 * A packing routine. `pack_a` packs op(A) (mc×kc) into MR-row panels; `pack_b` packs
 * op(B) (kc×nc) into NR-column panels. Both are "panel of `width` lines × kc": a line is a row
 * of op(A) or a column of op(B). In the source a line runs either along contiguous memory
 * ("strided lines": A not transposed, B transposed) or across it ("contiguous groups": A
 * transposed, B not transposed), where one k step's `width` values are adjacent.
 */
function pack(w: W, name: "pack_a" | "pack_b", width: number): void {
  // For pack_a: lines = rows of op(A); "lines strided" when trans == 0.
  // For pack_b: lines = cols of op(B); "lines strided" when trans == 1.
  const count = name === "pack_a" ? "mc" : "nc";
  const ld = name === "pack_a" ? "lda" : "ldb";
  const params = name === "pack_a"
    ? `(param $src i32) (param $lda i32) (param $trans i32) (param $mc i32) (param $kc i32) (param $dst i32)`
    : `(param $src i32) (param $ldb i32) (param $trans i32) (param $kc i32) (param $nc i32) (param $dst i32)`;
  w.open(`(func (export "${name}") ${params}`);
  w.o(`(local $l0 i32) (local $lines i32) (local $strided i32) (local $ldb4 i32)`);
  w.o(`(local $k i32) (local $r i32) (local $s i32) (local $d i32) (local $base i32)`);
  w.o(`(local $ls i32) (local $ks i32) (local $x f32) (local $nf i32)`);
  w.o(`(local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)`);
  for (let r = 0; r < width; r++) w.o(`(local $p${r} i32)`);
  w.o(
    `(local.set $strided ${
      name === "pack_a" ? `(i32.eqz ${g("trans")})` : `(i32.ne ${g("trans")} ${i32(0)})`
    })`,
  );
  w.o(`(local.set $ldb4 (i32.shl ${g(ld)} ${i32(2)}))`);
  w.o(`;; byte steps between lines (ls) and between k steps (ks) in the source`);
  w.o(
    `(if ${g("strided")} (then (local.set $ls ${g("ldb4")}) (local.set $ks ${i32(4)})) ` +
      `(else (local.set $ls ${i32(4)}) (local.set $ks ${g("ldb4")})))`,
  );
  // pack_a only: its panels are kc·MR·4 bytes apart (5 KiB for kc 256); pack_b keeps the panel
  // order (its panels are kc·NR·4 = 8 KiB apart: k-outer writes would share cache sets; not measured)
  if (name === "pack_a") {
    w.o(
      `;; every full panel of adjacent groups at once, k outer: the source is read row by row in`,
    );
    w.o(`;; order (panel by panel it would jump ld floats per k step, and an ld of a power of two`);
    w.o(`;; maps every k step to one cache set)`);
    w.open(
      `(if (i32.and (i32.eqz ${g("strided")}) (i32.ge_s ${g(count)} ${i32(width)})) (then`,
    );
    w.o(`(local.set $nf (i32.div_u ${g(count)} ${i32(width)}))`);
    w.o(`(local.set $k ${i32(0)})`);
    w.open(`(block $gdone (loop $G`);
    w.o(`(br_if $gdone (i32.ge_s ${g("k")} ${g("kc")}))`);
    w.o(`(local.set $s ${add(g("src"), mul(g("k"), g("ks")))})`);
    w.o(`(local.set $d ${add(g("dst"), mul(g("k"), i32(4 * width)))})`);
    w.o(`(local.set $r ${g("nf")})`);
    w.open(`(loop $GP`);
    copyRun(w, width, "s", "d");
    w.o(`(local.set $s ${add(g("s"), i32(4 * width))})`);
    w.o(`(local.set $d ${add(g("d"), mul(g("kc"), i32(4 * width)))})`);
    w.o(`(br_if $GP (local.tee $r (i32.sub ${g("r")} ${i32(1)})))`);
    w.close();
    w.o(`(local.set $k ${add(g("k"), i32(1))})`);
    w.o(`(br $G)`);
    w.close(`))`);
    w.o(`(local.set $l0 ${mul(g("nf"), i32(width))})`);
    w.close(`))`);
  }
  w.o(`(local.set $d ${add(g("dst"), `(i32.shl ${mul(g("l0"), g("kc"))} ${i32(2)})`)})`);
  w.open(`(block $pdone (loop $P`);
  w.o(`(br_if $pdone (i32.ge_s ${g("l0")} ${g(count)}))`);
  w.o(`(local.set $lines (i32.sub ${g(count)} ${g("l0")}))`);
  w.o(`(local.set $base ${add(g("src"), mul(g("l0"), g("ls")))})`);
  w.open(`(if (i32.ge_s ${g("lines")} ${i32(width)})`);
  w.open(`(then`);
  w.open(`(if ${g("strided")}`);
  w.open(`(then`);
  w.o(`;; full panel, lines strided: 4 k at a time from each line, transposed`);
  for (let r = 0; r < width; r++) {
    w.o(`(local.set $p${r} ${add(g("base"), mul(i32(r), g("ls")))})`);
  }
  w.o(`(local.set $k ${i32(0)})`);
  w.open(`(block $k4done (loop $K4`);
  w.o(`(br_if $k4done (i32.gt_s ${add(g("k"), i32(4))} ${g("kc")}))`);
  for (const [r0, n] of groups(width)) {
    const vecs = Array.from({ length: n }, (_, i) => `(v128.load ${g(`p${r0 + i}`)})`);
    transposeStore(w, vecs, width, r0, "d");
  }
  for (let r = 0; r < width; r++) w.o(`(local.set $p${r} ${add(g(`p${r}`), i32(16))})`);
  w.o(`(local.set $d ${add(g("d"), i32(16 * width))})`);
  w.o(`(local.set $k ${add(g("k"), i32(4))})`);
  w.o(`(br $K4)`);
  w.close(`))`);
  w.open(`(block $k1done (loop $K1`);
  w.o(`(br_if $k1done (i32.ge_s ${g("k")} ${g("kc")}))`);
  for (let r = 0; r < width; r++) {
    w.o(`(i32.store offset=${r * 4} ${g("d")} (i32.load ${g(`p${r}`)}))`);
    w.o(`(local.set $p${r} ${add(g(`p${r}`), i32(4))})`);
  }
  w.o(`(local.set $d ${add(g("d"), i32(4 * width))})`);
  w.o(`(local.set $k ${add(g("k"), i32(1))})`);
  w.o(`(br $K1)`);
  w.close(`))`);
  w.close();
  w.open(`(else`);
  w.o(`;; full panel, one k step's ${width} values adjacent in the source`);
  w.o(`(local.set $s ${g("base")})`);
  w.o(`(local.set $k ${g("kc")})`);
  w.open(`(block $kdone (loop $KC`);
  w.o(`(br_if $kdone (i32.eqz ${g("k")}))`);
  copyRun(w, width, "s", "d");
  w.o(`(local.set $s ${add(g("s"), g("ks"))})`);
  w.o(`(local.set $d ${add(g("d"), i32(4 * width))})`);
  w.o(`(local.set $k (i32.sub ${g("k")} ${i32(1)}))`);
  w.o(`(br $KC)`);
  w.close(`))`);
  w.close();
  w.close(`)`); // if strided
  w.close(); // then
  w.open(`(else`);
  w.o(`;; partial panel: element by element, zeros past the last line`);
  w.o(`(local.set $k ${i32(0)})`);
  w.open(`(block $edone (loop $E`);
  w.o(`(br_if $edone (i32.ge_s ${g("k")} ${g("kc")}))`);
  w.o(`(local.set $s ${add(g("base"), mul(g("k"), g("ks")))})`);
  w.o(`(local.set $r ${i32(0)})`);
  w.open(`(loop $ER`);
  w.o(`(local.set $x (f32.const 0))`);
  w.o(
    `(if (i32.lt_s ${g("r")} ${g("lines")}) (then (local.set $x (f32.load ${
      add(g("s"), mul(g("r"), g("ls")))
    }))))`,
  );
  w.o(`(f32.store ${g("d")} ${g("x")})`);
  w.o(`(local.set $d ${add(g("d"), i32(4))})`);
  w.o(`(br_if $ER (i32.lt_s (local.tee $r ${add(g("r"), i32(1))}) ${i32(width)}))`);
  w.close();
  w.o(`(local.set $k ${add(g("k"), i32(1))})`);
  w.o(`(br $E)`);
  w.close(`))`);
  w.close();
  w.close(`)`); // if full
  w.o(`(local.set $l0 ${add(g("l0"), i32(width))})`);
  w.o(`(br $P)`);
  w.close(`))`);
  w.close();
}

/**
 * `pack_b_conv(x, g, trans, k0, kc, n0, nc, dst)`: packs kc × nc of op(B) straight from an image,
 * op(B) being the im2col matrix of a convolution (never materialised): col[kk, p] with
 * kk = (ci·kh + ky)·kw + kx and p = oy·ow + ox is x[ci, oy·sh − ph + ky·dh, ox·sw − pw + kx·dw]
 * (0 outside the image). `g` points at 13 i32: cin, h, w, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw.
 * trans = 0: op(B) = col (K × P; a forward convolution), rows k0.. are kk, columns n0.. pixels;
 * trans = 1: op(B) = colᵀ (P × K; a weight gradient), rows k0.. are pixels, columns n0.. kk.
 * Same layout and zero padding as `pack_b`, so the GEMM's values and rounding are those of
 * im2col + `pack_b`. Out-of-image elements load from `x` itself and are replaced by 0.
 */
function packConv(w: W, cfg: KernelConfig): void {
  const NR = cfg.nr;
  const BAD = i32(-0x40000000); // an offset no tap can bring back into the image
  w.open(
    `(func (export "pack_b_conv") (param $x i32) (param $g i32) (param $trans i32) ` +
      `(param $k0 i32) (param $kc i32) (param $n0 i32) (param $nc i32) (param $dst i32)`,
  );
  const geo = ["cin", "h", "w", "kh", "kw", "oh", "ow", "sh", "sw", "ph", "pw", "dh", "dw"];
  w.o(geo.map((n) => `(local $${n} i32)`).join(" "));
  w.o(`(local $l0 i32) (local $t i32) (local $p i32) (local $oy i32) (local $ox i32)`);
  w.o(`(local $ci i32) (local $ky i32) (local $kx i32) (local $khw i32) (local $hw i32)`);
  w.o(`(local $chan i32) (local $ro i32) (local $co i32) (local $kk i32) (local $rem i32)`);
  w.o(`(local $iy i32) (local $ix i32) (local $ok i32) (local $d i32)`);
  w.o(`(local $run i32) (local $s i32)`);
  for (let c = 0; c < NR; c++) w.o(`(local $a${c} i32) (local $b${c} i32) (local $e${c} i32)`);
  for (let q = 0; q < NR / 4; q++) w.o(`(local $v${q} i32)`);
  geo.forEach((n, i) => w.o(`(local.set $${n} (i32.load offset=${i * 4} ${g("g")}))`));
  w.o(`(local.set $khw ${mul(g("kh"), g("kw"))})`);
  w.o(`(local.set $hw ${mul(g("h"), g("w"))})`);
  w.o(`(local.set $d ${g("dst")})`);
  /** One element: image row iy, column ix, element offset `plane` of its channel. */
  const elem = (c: number, plane: string) => {
    w.o(
      `(local.set $ok (i32.and (i32.lt_u ${g("iy")} ${g("h")}) (i32.lt_u ${g("ix")} ${g("w")})))`,
    );
    w.o(
      `(f32.store offset=${c * 4} ${g("d")} (select (f32.load (select ${
        add(g("x"), `(i32.shl ${add(plane, add(mul(g("iy"), g("w")), g("ix")))} ${i32(2)})`)
      } ${g("x")} ${g("ok")})) (f32.const 0) ${g("ok")}))`,
    );
  };
  /**
   * A panel's k steps element by element (loop `label`): per column c, image row $a_c + `ro` and
   * column $b_c + `co` of the plane `plane(c)`, then `step()` moves to the next k step.
   */
  const elementLoop = (
    label: string,
    ro: string,
    co: string,
    plane: (c: number) => string,
    step: () => void,
  ) => {
    const done = `$${label.toLowerCase()}done`;
    w.open(`(else (block ${done} (loop $${label}`);
    w.o(`(br_if ${done} (i32.ge_s ${g("t")} ${g("kc")}))`);
    w.o(`(local.set $ro ${ro})`);
    w.o(`(local.set $co ${co})`);
    for (let c = 0; c < NR; c++) {
      w.o(`(local.set $iy ${add(g(`a${c}`), g("ro"))})`);
      w.o(`(local.set $ix ${add(g(`b${c}`), g("co"))})`);
      elem(c, plane(c));
    }
    step();
    w.o(`(br $${label})`);
    w.close(`))))`);
  };
  w.open(`(if (i32.eqz ${g("trans")})`);
  w.open(`(then`);
  w.o(`;; columns are pixels: per panel column c, its (oy·sh − ph, ox·sw − pw) in $a_c, $b_c`);
  w.open(`(block $pdone (loop $P`);
  w.o(`(br_if $pdone (i32.ge_s ${g("l0")} ${g("nc")}))`);
  w.o(`(local.set $p ${add(g("n0"), g("l0"))})`);
  w.o(`(local.set $oy (i32.div_u ${g("p")} ${g("ow")}))`);
  w.o(`(local.set $ox (i32.sub ${g("p")} ${mul(g("oy"), g("ow"))}))`);
  for (let c = 0; c < NR; c++) {
    w.o(
      `(if (i32.lt_s ${add(g("l0"), i32(c))} ${g("nc")}) (then (local.set $a${c} (i32.sub ${
        mul(g("oy"), g("sh"))
      } ${g("ph")})) (local.set $b${c} (i32.sub ${mul(g("ox"), g("sw"))} ${g("pw")}))) ` +
        `(else (local.set $a${c} ${BAD}) (local.set $b${c} ${i32(0)})))`,
    );
    w.o(`(local.set $ox ${add(g("ox"), i32(1))})`);
    w.o(
      `(if (i32.eq ${g("ox")} ${g("ow")}) (then (local.set $ox ${i32(0)}) (local.set $oy ${
        add(g("oy"), i32(1))
      })))`,
    );
  }
  w.o(`(local.set $ci (i32.div_u ${g("k0")} ${g("khw")}))`);
  w.o(`(local.set $rem (i32.sub ${g("k0")} ${mul(g("ci"), g("khw"))}))`);
  w.o(`(local.set $ky (i32.div_u ${g("rem")} ${g("kw")}))`);
  w.o(`(local.set $kx (i32.sub ${g("rem")} ${mul(g("ky"), g("kw"))}))`);
  w.o(`(local.set $chan ${mul(g("ci"), g("hw"))})`);
  w.o(`;; $run: all ${NR} columns are real pixels of one output row (the vector paths may apply)`);
  w.o(
    `(local.set $run (i32.and (i32.le_s ${add(g("l0"), i32(NR))} ${g("nc")}) (i32.eq ${
      g(`a${NR - 1}`)
    } ${g("a0")})))`,
  );
  /** The next k row: kx, then ky, then the channel. */
  const advance = () => {
    w.o(`(local.set $d ${add(g("d"), i32(NR * 4))})`);
    w.o(`(local.set $kx ${add(g("kx"), i32(1))})`);
    w.open(`(if (i32.eq ${g("kx")} ${g("kw")}) (then`);
    w.o(`(local.set $kx ${i32(0)})`);
    w.o(`(local.set $ky ${add(g("ky"), i32(1))})`);
    w.o(
      `(if (i32.eq ${g("ky")} ${g("kh")}) (then (local.set $ky ${i32(0)}) (local.set $chan ${
        add(g("chan"), g("hw"))
      })))`,
    );
    w.close(`))`);
    w.o(`(local.set $t ${add(g("t"), i32(1))})`);
  };
  w.o(`(local.set $t ${i32(0)})`);
  w.open(`(if ${g("run")}`);
  w.o(`;; one output row: column c reads (iy, ix + c·sw), iy = a_0 + ky·dh, ix = b_0 + kx·dw`);
  w.open(`(then (block $rdone (loop $R`);
  w.o(`(br_if $rdone (i32.ge_s ${g("t")} ${g("kc")}))`);
  w.o(`(local.set $iy ${add(g("a0"), mul(g("ky"), g("dh")))})`);
  w.o(`;; the whole row of taps above or below the image: zeros`);
  w.open(`(if (i32.ge_u ${g("iy")} ${g("h")}) (then`);
  for (let v = 0; v < NR / 4; v++) {
    w.o(`(v128.store offset=${v * 16} ${g("d")} (v128.const i32x4 0 0 0 0))`);
  }
  w.close(`)`);
  w.open(`(else`);
  w.o(`(local.set $ix ${add(g("b0"), mul(g("kx"), g("dw")))})`);
  w.o(
    `(local.set $s ${
      add(g("x"), `(i32.shl ${add(g("chan"), add(mul(g("iy"), g("w")), g("ix")))} ${i32(2)})`)
    })`,
  );
  const inside = (span: number) =>
    `(i32.and (i32.ge_s ${g("ix")} ${i32(0)}) (i32.le_s ${add(g("ix"), i32(span))} ${g("w")}))`;
  w.o(`;; stride 1 inside the image: ${NR} adjacent floats`);
  w.open(`(if (i32.and (i32.eq ${g("sw")} ${i32(1)}) ${inside(NR)}) (then`);
  for (let v = 0; v < NR / 4; v++) {
    w.o(`(v128.store offset=${v * 16} ${g("d")} (v128.load offset=${v * 16} ${g("s")}))`);
  }
  w.close(`)`);
  w.o(`;; stride 2 inside the image: the even lanes of ${2 * NR} adjacent floats`);
  w.open(`(else (if (i32.and (i32.eq ${g("sw")} ${i32(2)}) ${inside(2 * NR)}) (then`);
  for (let v = 0; v < NR / 4; v++) {
    w.o(
      `(v128.store offset=${v * 16} ${g("d")} (i8x16.shuffle ${
        shuf([0, 2, 4, 6])
      } (v128.load offset=${v * 32} ${g("s")}) (v128.load offset=${v * 32 + 16} ${g("s")})))`,
    );
  }
  w.close(`)`);
  w.o(`;; an edge of the image: element by element (row iy is inside)`);
  w.open(`(else`);
  for (let c = 0; c < NR; c++) {
    const off = c === 0 ? i32(0) : mul(g("sw"), i32(c));
    w.o(`(local.set $ok (i32.lt_u ${add(g("ix"), off)} ${g("w")}))`);
    w.o(
      `(f32.store offset=${c * 4} ${g("d")} (select (f32.load (select ${
        add(g("s"), `(i32.shl ${off} ${i32(2)})`)
      } ${g("x")} ${g("ok")})) (f32.const 0) ${g("ok")}))`,
    );
  }
  w.close(`)))))`);
  w.close(`)`);
  advance();
  w.o(`(br $R)`);
  w.close(`)))`);
  w.o(`;; columns in two output rows or past nc: element by element`);
  elementLoop("K", mul(g("ky"), g("dh")), mul(g("kx"), g("dw")), () => g("chan"), advance);
  w.o(`(local.set $l0 ${add(g("l0"), i32(NR))})`);
  w.o(`(br $P)`);
  w.close(`))`);
  w.close();
  w.open(`(else`);
  w.o(
    `;; columns are kk: per panel column c, its (ky·dh − ph, kx·dw − pw, ci·h·w) in $a_c, $b_c, $e_c`,
  );
  w.open(`(block $qdone (loop $Q`);
  w.o(`(br_if $qdone (i32.ge_s ${g("l0")} ${g("nc")}))`);
  for (let c = 0; c < NR; c++) {
    w.o(`(local.set $kk ${add(g("n0"), add(g("l0"), i32(c)))})`);
    w.o(`(local.set $ci (i32.div_u ${g("kk")} ${g("khw")}))`);
    w.o(`(local.set $rem (i32.sub ${g("kk")} ${mul(g("ci"), g("khw"))}))`);
    w.o(`(local.set $ky (i32.div_u ${g("rem")} ${g("kw")}))`);
    w.o(`(local.set $kx (i32.sub ${g("rem")} ${mul(g("ky"), g("kw"))}))`);
    w.o(
      `(if (i32.lt_s ${add(g("l0"), i32(c))} ${g("nc")}) (then (local.set $a${c} (i32.sub ${
        mul(g("ky"), g("dh"))
      } ${g("ph")})) (local.set $b${c} (i32.sub ${mul(g("kx"), g("dw"))} ${g("pw")})) ` +
        `(local.set $e${c} ${mul(g("ci"), g("hw"))})) ` +
        `(else (local.set $a${c} ${BAD}) (local.set $b${c} ${i32(0)}) (local.set $e${c} ${
          i32(0)
        })))`,
    );
  }
  w.o(`;; $v_q: columns 4q..4q+3 are 4 adjacent taps of one kernel row (dw = 1): one v128 each`);
  for (let q = 0; q < NR / 4; q++) {
    const [c0, c3] = [4 * q, 4 * q + 3];
    w.o(
      `(local.set $v${q} (i32.and (i32.and (i32.eq ${g(`a${c0}`)} ${g(`a${c3}`)}) (i32.eq ${
        g(`e${c0}`)
      } ${g(`e${c3}`)})) (i32.eq ${g(`b${c3}`)} ${add(g(`b${c0}`), i32(3))})))`,
    );
  }
  w.o(`(local.set $oy (i32.div_u ${g("k0")} ${g("ow")}))`);
  w.o(`(local.set $ox (i32.sub ${g("k0")} ${mul(g("oy"), g("ow"))}))`);
  /** The next k row: the next output pixel. */
  const nextPixel = () => {
    w.o(`(local.set $d ${add(g("d"), i32(NR * 4))})`);
    w.o(`(local.set $ox ${add(g("ox"), i32(1))})`);
    w.o(
      `(if (i32.eq ${g("ox")} ${g("ow")}) (then (local.set $ox ${i32(0)}) (local.set $oy ${
        add(g("oy"), i32(1))
      })))`,
    );
    w.o(`(local.set $t ${add(g("t"), i32(1))})`);
  };
  w.o(`(local.set $t ${i32(0)})`);
  const allVec = Array.from({ length: NR / 4 }, (_, q) => g(`v${q}`)).reduce((a, b) =>
    `(i32.and ${a} ${b})`
  );
  w.open(`(if ${allVec}`);
  w.o(`;; every group is 4 adjacent taps: per group one load (or zeros, or 4 edge elements)`);
  w.open(`(then (block $vdone (loop $V`);
  w.o(`(br_if $vdone (i32.ge_s ${g("t")} ${g("kc")}))`);
  w.o(`(local.set $ro ${mul(g("oy"), g("sh"))})`);
  w.o(`(local.set $co ${mul(g("ox"), g("sw"))})`);
  for (let q = 0; q < NR / 4; q++) {
    w.o(`(local.set $iy ${add(g(`a${4 * q}`), g("ro"))})`);
    w.open(`(if (i32.ge_u ${g("iy")} ${g("h")}) (then`);
    w.o(`(v128.store offset=${q * 16} ${g("d")} (v128.const i32x4 0 0 0 0))`);
    w.close(`)`);
    w.open(`(else`);
    w.o(`(local.set $ix ${add(g(`b${4 * q}`), g("co"))})`);
    w.o(
      `(local.set $s ${
        add(
          g("x"),
          `(i32.shl ${add(g(`e${4 * q}`), add(mul(g("iy"), g("w")), g("ix")))} ${i32(2)})`,
        )
      })`,
    );
    w.open(
      `(if (i32.and (i32.ge_s ${g("ix")} ${i32(0)}) (i32.le_s ${add(g("ix"), i32(4))} ${
        g("w")
      })) (then`,
    );
    w.o(`(v128.store offset=${q * 16} ${g("d")} (v128.load ${g("s")}))`);
    w.close(`)`);
    w.o(`;; the left or right edge of the image (row iy is inside)`);
    w.open(`(else`);
    for (let j = 0; j < 4; j++) {
      w.o(`(local.set $ok (i32.lt_u ${add(g("ix"), i32(j))} ${g("w")}))`);
      w.o(
        `(f32.store offset=${(4 * q + j) * 4} ${g("d")} (select (f32.load (select ${
          add(g("s"), i32(4 * j))
        } ${g("x")} ${g("ok")})) (f32.const 0) ${g("ok")}))`,
      );
    }
    w.close(`))))`);
  }
  nextPixel();
  w.o(`(br $V)`);
  w.close(`)))`);
  w.o(`;; element by element`);
  elementLoop("J", mul(g("oy"), g("sh")), mul(g("ox"), g("sw")), (c) => g(`e${c}`), nextPixel);
  w.o(`(local.set $l0 ${add(g("l0"), i32(NR))})`);
  w.o(`(br $Q)`);
  w.close(`))`);
  w.close();
  w.close(`)`);
  w.close();
}

/** Independent multiply-add chains of {@link peak} (hides the FMA latency: 4 cycles × 2 ports). */
export const PEAK_CHAINS = 12;
/** Steps of every chain per iteration of {@link peak}'s loop. */
export const PEAK_UNROLL = 8;

/**
 * `peak(iters)`: the multiply-add ceiling of this module's arithmetic, registers only (no loads):
 * PEAK_CHAINS accumulators, each c = c·a + b (a = 0.999, b = 0.001: c stays near 1, no
 * denormals), PEAK_UNROLL steps per iteration; returns the sum of the lanes (so nothing is dead).
 * `peak_flops()`: flops per iteration (2 per lane per multiply-add).
 */
function peak(w: W, cfg: KernelConfig): void {
  const madd = (c: string) =>
    cfg.relaxed
      ? `(f32x4.relaxed_madd ${c} ${g("a")} ${g("b")})`
      : `(f32x4.add (f32x4.mul ${c} ${g("a")}) ${g("b")})`;
  w.o(`(func (export "peak_flops") (result i32) ${i32(PEAK_CHAINS * PEAK_UNROLL * 8)})`);
  w.open(`(func (export "peak") (param $n i32) (result f32)`);
  w.o(`(local $a v128) (local $b v128)`);
  w.o(Array.from({ length: PEAK_CHAINS }, (_, i) => `(local $c${i} v128)`).join(" "));
  w.o(`(local.set $a (f32x4.splat (f32.const 0.999)))`);
  w.o(`(local.set $b (f32x4.splat (f32.const 0.001)))`);
  for (let i = 0; i < PEAK_CHAINS; i++) {
    w.o(`(local.set $c${i} (f32x4.splat (f32.const ${(i + 1) / PEAK_CHAINS})))`);
  }
  w.open(`(if (i32.gt_s ${g("n")} ${i32(0)}) (then (loop $L`);
  for (let s = 0; s < PEAK_UNROLL; s++) {
    for (let i = 0; i < PEAK_CHAINS; i++) w.o(`(local.set $c${i} ${madd(g(`c${i}`))})`);
  }
  w.o(`(br_if $L (local.tee $n (i32.sub ${g("n")} ${i32(1)})))`);
  w.close(`)))`);
  for (let i = 1; i < PEAK_CHAINS; i++) w.o(`(local.set $c0 (f32x4.add ${g("c0")} ${g(`c${i}`)}))`);
  w.o(
    `(f32.add (f32.add (f32x4.extract_lane 0 ${g("c0")}) (f32x4.extract_lane 1 ${g("c0")})) ` +
      `(f32.add (f32x4.extract_lane 2 ${g("c0")}) (f32x4.extract_lane 3 ${g("c0")})))`,
  );
  w.close();
}

function scale(w: W): void {
  w.open(
    `(func (export "scale") (param $cp i32) (param $ldc i32) (param $m i32) (param $n i32) ` +
      `(param $beta f32)`,
  );
  w.o(`(local $i i32) (local $j i32) (local $p i32)`);
  w.open(`(block $idone (loop $I`);
  w.o(`(br_if $idone (i32.ge_s ${g("i")} ${g("m")}))`);
  w.o(`(local.set $p ${add(g("cp"), `(i32.shl ${mul(g("i"), g("ldc"))} ${i32(2)})`)})`);
  w.o(`(local.set $j ${i32(0)})`);
  w.open(`(block $jdone (loop $J`);
  w.o(`(br_if $jdone (i32.ge_s ${g("j")} ${g("n")}))`);
  w.o(
    `(if (f32.eq ${g("beta")} (f32.const 0)) (then (f32.store ${g("p")} (f32.const 0))) ` +
      `(else (f32.store ${g("p")} (f32.mul ${g("beta")} (f32.load ${g("p")})))))`,
  );
  w.o(`(local.set $p ${add(g("p"), i32(4))})`);
  w.o(`(local.set $j ${add(g("j"), i32(1))})`);
  w.o(`(br $J)`);
  w.close(`))`);
  w.o(`(local.set $i ${add(g("i"), i32(1))})`);
  w.o(`(br $I)`);
  w.close(`))`);
  w.close();
}

/** The WAT text of one module. */
export function generate(cfg: KernelConfig): string {
  if (cfg.nr % 4 !== 0) throw new Error("nr must be a multiple of 4");
  const w = new W();
  w.o(`;; GENERATED by wasm/gemm/gen_wat.ts; edit that file, not this one.`);
  w.o(
    `;; SGEMM ${
      cfg.relaxed ? "relaxed-SIMD (f32x4.relaxed_madd)" : "plain SIMD128 (f32x4.mul + f32x4.add)"
    }, ` +
      `micro-tile ${cfg.mr}x${cfg.nr}.`,
  );
  w.open(`(module`);
  w.o(`(import "env" "memory" (memory 1 65536 shared))`);
  w.o(`(func (export "mr") (result i32) ${i32(cfg.mr)})`);
  w.o(`(func (export "nr") (result i32) ${i32(cfg.nr)})`);
  w.o(`(func (export "relaxed") (result i32) ${i32(cfg.relaxed ? 1 : 0)})`);
  for (let r = 1; r <= cfg.mr; r++) for (let v = 1; v <= cfg.nr / 4; v++) micro(w, cfg, r, v);
  macro(w, cfg);
  pack(w, "pack_a", cfg.mr);
  pack(w, "pack_b", cfg.nr);
  packConv(w, cfg);
  scale(w);
  peak(w, cfg);
  w.close();
  return w.lines.join("\n") + "\n";
}

if (import.meta.main) {
  // deno run --allow-write=DIR wasm/gemm/gen_wat.ts [DIR]   (default: beside this file)
  const dir = Deno.args[0] ?? new URL(".", import.meta.url).pathname;
  for (const cfg of KERNELS) Deno.writeTextFileSync(`${dir}/${cfg.name}.wat`, generate(cfg));
}

/**
 * Colormaps for rendering float images: matplotlib's `gray`, `viridis`, `magma` and `RdBu_r`
 * (diverging, for residuals), as 256-entry lookup tables, mapped as matplotlib's `imshow` maps
 * values: x = (v − lo)/(hi − lo), entry ⌊256·x⌋ clipped to 0…255, values outside [lo, hi] take
 * the end colours, NaN takes `nanColor`. The range is given, or found from the data: min/max,
 * percentiles, or symmetric about 0.
 *
 * @example
 * ```ts
 * import { colorize } from "./colormap.ts";
 * const rgb = colorize(new Float32Array([0, 0.5, 1, NaN]), [2, 2], { colormap: "viridis" });
 * rgb.shape; // [2, 2, 3], uint8
 * ```
 * @module
 */
import { type NdArray, ndarray } from "../io/array.ts";
import { LumenError } from "../run/errors.ts";

/** The colormaps available. */
export type ColormapName = "gray" | "viridis" | "magma" | "RdBu_r";

/** The colormap names, for flags and validation. */
export const COLORMAPS: readonly ColormapName[] = ["gray", "viridis", "magma", "RdBu_r"];

/** An RGB colour, 0–255 each. */
export type Rgb = readonly [number, number, number];

/**
 * matplotlib's tables (`cmap(np.arange(256), bytes=True)[:, :3]`), hex RGB triples. (Even
 * `gray` comes from matplotlib: its bytes are truncated, so some entries are i − 1, not i.)
 */
const HEX: Record<ColormapName, string> = {
  gray:
    "0000000101010202020303030404040505050606060707070808080909090a0a0a0b0b0b0c0c0c0d0d0d0e0e0e0f0f0f" +
    "1010101111111212121313131414141515151616161717171818181919191a1a1a1b1b1b1c1c1c1d1d1d1e1e1e1f1f1f" +
    "2020202020202222222323232424242424242626262727272828282828282a2a2a2b2b2b2c2c2c2c2c2c2e2e2e2f2f2f" +
    "3030303030303232323333333434343434343636363737373838383838383a3a3a3b3b3b3c3c3c3c3c3c3e3e3e3f3f3f" +
    "4040404141414141414343434444444545454646464747474848484949494949494b4b4b4c4c4c4d4d4d4e4e4e4f4f4f" +
    "5050505151515151515353535454545555555656565757575858585959595959595b5b5b5c5c5c5d5d5d5e5e5e5f5f5f" +
    "6060606161616161616363636464646565656666666767676868686969696969696b6b6b6c6c6c6d6d6d6e6e6e6f6f6f" +
    "7070707171717171717373737474747575757676767777777878787979797979797b7b7b7c7c7c7d7d7d7e7e7e7f7f7f" +
    "8080808181818282828383838383838585858686868787878888888989898a8a8a8b8b8b8c8c8c8d8d8d8e8e8e8f8f8f" +
    "9090909191919292929393939393939595959696969797979898989999999a9a9a9b9b9b9c9c9c9d9d9d9e9e9e9f9f9f" +
    "a0a0a0a1a1a1a2a2a2a3a3a3a3a3a3a5a5a5a6a6a6a7a7a7a8a8a8a9a9a9aaaaaaabababacacacadadadaeaeaeafafaf" +
    "b0b0b0b1b1b1b2b2b2b3b3b3b3b3b3b5b5b5b6b6b6b7b7b7b8b8b8b9b9b9babababbbbbbbcbcbcbdbdbdbebebebfbfbf" +
    "c0c0c0c1c1c1c2c2c2c3c3c3c3c3c3c5c5c5c6c6c6c7c7c7c8c8c8c9c9c9cacacacbcbcbcccccccdcdcdcecececfcfcf" +
    "d0d0d0d1d1d1d2d2d2d3d3d3d3d3d3d5d5d5d6d6d6d7d7d7d8d8d8d9d9d9dadadadbdbdbdcdcdcdddddddedededfdfdf" +
    "e0e0e0e1e1e1e2e2e2e3e3e3e3e3e3e5e5e5e6e6e6e7e7e7e8e8e8e9e9e9eaeaeaebebebecececedededeeeeeeefefef" +
    "f0f0f0f1f1f1f2f2f2f3f3f3f3f3f3f5f5f5f6f6f6f7f7f7f8f8f8f9f9f9fafafafbfbfbfcfcfcfdfdfdfefefeffffff",
  viridis:
    "44015444025544035745055845065a45085b46095c460b5e460c5f460e61470f62471163471265471466471567471669" +
    "47186a48196b481a6c481c6e481d6f481e70482071482172482273482374472575472676472777472878472a79472b7a" +
    "472c7b462d7c462f7c46307d46317e45327f45347f453580453681443781443982433a83433b83433c84423d84423e85" +
    "4240854141864142864043874044873f45873f47883e48883e49893d4a893d4b893d4c893c4d8a3c4e8a3b508a3b518a" +
    "3a528b3a538b39548b39558b38568b38578c37588c37598c365a8c365b8c355c8c355d8c345e8d345f8d33608d33618d" +
    "32628d32638d31648d31658d31668d30678d30688d2f698d2f6a8d2e6b8e2e6c8e2e6d8e2d6e8e2d6f8e2c708e2c718e" +
    "2c728e2b738e2b748e2a758e2a768e2a778e29788e29798e287a8e287a8e287b8e277c8e277d8e277e8e267f8e26808e" +
    "26818e25828e25838d24848d24858d24868d23878d23888d23898d22898d228a8d228b8d218c8d218d8c218e8c208f8c" +
    "20908c20918c1f928c1f938b1f948b1f958b1f968b1e978a1e988a1e998a1e998a1e9a891e9b891e9c891e9d881e9e88" +
    "1e9f881ea0871fa1871fa2861fa38620a48520a58521a68521a78422a78423a88323a98224aa8225ab8126ac8127ad80" +
    "28ae7f29af7f2ab07e2bb17d2cb17d2eb27c2fb37b30b47a32b57a33b67935b77836b87738b97639b9763bba753dbb74" +
    "3ebc7340bd7242be7144be7045bf6f47c06e49c16d4bc26c4dc26b4fc36951c46853c56755c66657c66559c7645bc862" +
    "5ec96160c96062ca5f64cb5d67cc5c69cc5b6bcd596dce5870ce5672cf5574d05477d05279d1517cd24f7ed24e81d34c" +
    "83d34b86d44988d5478bd5468dd64490d64392d74195d73f97d83e9ad83c9dd93a9fd938a2da37a5da35a7db33aadb32" +
    "addc30afdc2eb2dd2cb5dd2bb7dd29bade27bdde26bfdf24c2df22c5df21c7e01fcae01ecde01dcfe11cd2e11bd4e11a" +
    "d7e219dae218dce218dfe318e1e318e4e318e7e419e9e419ece41aeee51bf1e51cf3e51ef6e61ff8e621fae622fde724",
  magma:
    "00000300000400000601000701010901010b02020d02020f03031104031304041505041706051907051b08061d09071f" +
    "0a07220b08240c09260d0a280e0a2a0f0b2c100c2f110c31120d33140d35150e38160e3a170f3c180f3f1a10411b1044" +
    "1c10461e10491f114b20114d2211502311522511552611572811592a115c2b115e2d10602f1062301065321067341068" +
    "350f6a370f6c390f6e3b0f6f3c0f713e0f72400f73420f74430f75450f76470f774810784a10794b10794d117a4f117b" +
    "50127b52127c53137c55137d57147d58157e5a157e5b167e5d177e5e177f60187f61187f63197f651a80661a80681b80" +
    "691c806b1c806c1d806e1e816f1e81711f81731f817420817621817721817922817a22817c23817e24817f2481812581" +
    "8225818426818526818727818928818a28818c29808d29808f2a80912a80922b80942b80952c80972c7f992d7f9a2d7f" +
    "9c2e7f9e2e7e9f2f7ea12f7ea3307ea4307da6317da7317da9327cab337cac337bae347bb0347bb1357ab3357ab53679" +
    "b63679b83778b93778bb3877bd3977be3976c03a75c23a75c33b74c53c74c63c73c83d72ca3e72cb3e71cd3f70ce4070" +
    "d0416fd1426ed3426dd4436dd6446cd7456bd9466ada4769dc4869dd4968de4a67e04b66e14c66e24d65e44e64e55063" +
    "e65162e75262e85461ea5560eb5660ec585fed595fee5b5eee5d5def5e5df0605df1615cf2635cf3655cf3675bf4685b" +
    "f56a5bf56c5bf66e5bf6705bf7715bf7735cf8755cf8775cf9795cf97b5df97d5dfa7f5efa805efa825ffb8460fb8660" +
    "fb8861fb8a62fc8c63fc8e63fc9064fc9265fc9366fd9567fd9768fd9969fd9b6afd9d6bfd9f6cfda16efda26ffda470" +
    "fea671fea873feaa74feac75feae76feaf78feb179feb37bfeb57cfeb77dfeb97ffebb80febc82febe83fec085fec286" +
    "fec488fec689fec78bfec98dfecb8efdcd90fdcf92fdd193fdd295fdd497fdd698fdd89afdda9cfddc9dfddd9ffddfa1" +
    "fde1a3fce3a5fce5a6fce6a8fce8aafceaacfcecaefceeb0fcf0b1fcf1b3fcf3b5fcf5b7fbf7b9fbf9bbfbfabdfbfcbf",
  "RdBu_r":
    "05306106326307346608366909386c0a3a6f0b3c720c3e750d40780e437b0f457e114781124984134b87144d8a154f8d" +
    "1651901754931856951958981a5a9b1c5c9e1d5ea11e60a41f62a72064aa2166ac2368ad246aae256caf276db0286fb0" +
    "2971b12b73b22c75b32d76b42f78b5307ab6317cb7337db8347fb93581b93783ba3884bb3986bc3b88bd3c8abe3d8bbf" +
    "3f8dc0408fc14191c24393c34694c44996c54c98c64f9ac7529cc8559ec958a0ca5ba2cb5ea4cc61a6cd65a8ce68aacf" +
    "6bacd06eaed171b0d274b2d377b4d57ab6d67db8d780bad884bcd987beda8ac0db8dc2dc90c4dd93c5de95c6df98c8df" +
    "9ac9e09dcae19fcbe1a2cde2a4cee3a7cfe4a9d0e4abd2e5aed3e6b0d4e6b3d5e7b5d7e8b8d8e8bad9e9bddaeabfdceb" +
    "c2ddebc4deecc7dfedc9e1edcce2eecee3efd1e5f0d2e5f0d3e6f0d5e7f0d6e7f1d8e8f1d9e9f1dbe9f1dceaf2deebf2" +
    "dfecf2e1ecf3e2edf3e4eef3e5eef3e7eff4e8f0f4eaf1f4ebf1f4edf2f5eef3f5f0f3f5f1f4f6f3f5f6f4f5f6f6f6f6" +
    "f7f6f6f7f5f4f7f4f2f7f3f0f8f2eef8f0ecf8efeaf8eee8f9ede7f9ece5f9ebe3f9eae1f9e9dffae8ddfae7dbfae5d9" +
    "fae4d7fbe3d6fbe2d4fbe1d2fbe0d0fcdfcefcdeccfcddcafcdcc8fddbc7fcd8c4fcd6c1fbd4befbd2bcfbd0b9faceb6" +
    "faccb4facab1f9c7aef9c5abf9c3a9f8c1a6f8bfa3f8bda1f7bb9ef7b99bf7b799f6b496f6b293f5b090f5ae8ef5ac8b" +
    "f4aa88f4a886f4a683f3a380f2a07ef19e7cef9b7aee9878ed9676ec9374eb9072ea8e70e88b6ee7886ce6856ae58368" +
    "e48065e27d63e17b61e0785fdf755dde725bdd7059db6d57da6a55d96853d86551d7624fd6604dd45d4bd35a4ad15749" +
    "d05447ce5146cd4f45cc4c43ca4942c94641c7433fc6403ec53e3cc33b3bc2383ac03538bf3237be3036bc2d34bb2a33" +
    "b92732b82431b6212fb51f2eb41c2db2192bb0172aad162aaa1529a71429a41328a112289e11279b1027991027960f26" +
    "930e26900d258d0c258a0b24870a248409238108237e07227b06227805217504217203206f02206c011f69001f67001f",
};

const lutCache = new Map<ColormapName, Uint8Array>();

/**
 * The 256×3 lookup table of a colormap.
 * @example `colormapLut("viridis")[0]` // 68
 */
export function colormapLut(name: ColormapName): Uint8Array {
  let lut = lutCache.get(name);
  if (lut) return lut;
  lut = new Uint8Array(768);
  const hex = HEX[name];
  if (!hex) throw new LumenError("colormap", String(name), `unknown: use ${COLORMAPS.join(", ")}`);
  for (let i = 0; i < 768; i++) lut[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  lutCache.set(name, lut);
  return lut;
}

/**
 * How a display range is chosen: `"minmax"` of the finite values, `"symmetric"` (±max |v|),
 * `{ percentile: [lo, hi] }` (numpy's linear percentiles of the finite values), or fixed.
 */
export type ValueRange =
  | "minmax"
  | "symmetric"
  | { percentile: readonly [number, number] }
  | readonly [number, number];

/**
 * numpy's `percentile(x, q)` (linear interpolation) of sorted values.
 * @example `percentileSorted(Float64Array.from([1, 2, 3, 4]), 50)` // 2.5
 */
export function percentileSorted(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (!n) return NaN;
  const pos = (Math.min(100, Math.max(0, q)) / 100) * (n - 1);
  const i = Math.floor(pos), f = pos - i;
  return i + 1 < n ? sorted[i] + (sorted[i + 1] - sorted[i]) * f : sorted[i];
}

/**
 * The [lo, hi] a range spec gives for some data (NaN and ±∞ ignored; [0, 1] when nothing is
 * finite).
 * @example `resolveRange(data, { percentile: [1, 99] })`
 */
export function resolveRange(
  data: ArrayLike<number>,
  range: ValueRange = "minmax",
): [number, number] {
  if (Array.isArray(range)) return [range[0], range[1]];
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < lo && v > -Infinity) lo = v;
    if (v > hi && v < Infinity) hi = v;
  }
  if (!(lo <= hi)) return [0, 1];
  if (range === "minmax") return [lo, hi];
  if (range === "symmetric") {
    const m = Math.max(Math.abs(lo), Math.abs(hi));
    return [-m, m];
  }
  const p = (range as { percentile: readonly [number, number] }).percentile;
  const finite: number[] = [];
  for (let i = 0; i < data.length; i++) if (Number.isFinite(data[i])) finite.push(data[i]);
  const s = Float64Array.from(finite).sort();
  return [percentileSorted(s, p[0]), percentileSorted(s, p[1])];
}

/** Options of {@link colorize}. */
export interface ColorizeOptions {
  /** Default "gray". */
  colormap?: ColormapName;
  /** Default "minmax". */
  range?: ValueRange;
  /** Colour of NaN pixels (default magenta). */
  nanColor?: Rgb;
}

/**
 * The colormap entry of a value (matplotlib's rule), or -1 for NaN.
 * @example `lutIndex(0.5, 0, 1)` // 128
 */
export function lutIndex(v: number, lo: number, hi: number): number {
  if (v !== v) return -1;
  const x = hi > lo ? (v - lo) / (hi - lo) : 0;
  if (!(x > 0)) return 0;
  const k = Math.floor(x * 256);
  return k > 255 ? 255 : k;
}

/**
 * A float image (h × w, row-major) as RGB bytes through a colormap.
 * @example `colorize(img, [h, w], { colormap: "magma", range: { percentile: [1, 99] } })`
 */
export function colorize(
  data: ArrayLike<number>,
  shape: readonly [number, number],
  o: ColorizeOptions = {},
): NdArray<Uint8Array> {
  const [h, w] = shape;
  if (data.length !== h * w) {
    throw new LumenError("image", `${h}×${w}`, `${data.length} values do not fill the shape`);
  }
  const lut = colormapLut(o.colormap ?? "gray");
  const [lo, hi] = resolveRange(data, o.range ?? "minmax");
  const nan = o.nanColor ?? [255, 0, 255];
  const out = new Uint8Array(h * w * 3);
  for (let i = 0; i < h * w; i++) {
    const k = lutIndex(data[i], lo, hi);
    if (k < 0) (out[3 * i] = nan[0], out[3 * i + 1] = nan[1], out[3 * i + 2] = nan[2]);
    else {(out[3 * i] = lut[3 * k],
        out[3 * i + 1] = lut[3 * k + 1],
        out[3 * i + 2] = lut[3 * k + 2]);}
  }
  return ndarray(out, [h, w, 3]);
}

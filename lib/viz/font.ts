/**
 * A small built-in bitmap font (printable ASCII, 5×7 glyphs with 2-pixel descenders in a 6×10
 * cell) for titles and labels on raster figures, drawn at integer scales.
 *
 * Characters outside ASCII are mapped to near equivalents where obvious (× → x, − – — → -,
 * ’ → ', “ ” → ", µ → u, ° → o, ± → +-, … → ...); anything else is drawn as `?`.
 *
 * @example
 * ```ts
 * import { drawText, textWidth } from "./font.ts";
 * const img = new Uint8Array(200 * 40 * 3).fill(255);
 * drawText(img, 200, 40, "model output", 4, 4, { scale: 2, color: [0, 0, 0] });
 * textWidth("model output", 2); // 142
 * ```
 * @module
 */

/** Glyph width and height (with descenders) in font pixels. */
export const GLYPH_W = 5;
/** Rows of a glyph: 7 above the baseline, 2 descender rows. */
export const GLYPH_H = 9;
/** Horizontal advance per character (glyph + 1 pixel gap). */
export const ADVANCE = 6;
/** Line height (glyph + 1 pixel gap). */
export const LINE_H = 10;

// Each glyph: its rows top to bottom, `#` on, `.` off, separated by spaces; rows left out are
// blank. Rows 0–6 stand on the baseline, rows 7–8 are descenders.
const GLYPHS: Record<string, string> = {
  " ": "",
  "!": "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..",
  '"': ".#.#. .#.#. .#.#.",
  "#": ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.",
  "$": "..#.. .#### #.#.. .###. ..#.# ####. ..#..",
  "%": "##... ##..# ...#. ..#.. .#... #..## ...##",
  "&": ".##.. #..#. #.#.. .#... #.#.# #..#. .##.#",
  "'": "..#.. ..#.. ..#..",
  "(": "...#. ..#.. .#... .#... .#... ..#.. ...#.",
  ")": ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",
  "*": "..... ..#.. #.#.# .###. #.#.# ..#..",
  "+": "..... ..#.. ..#.. ##### ..#.. ..#..",
  ",": "..... ..... ..... ..... ..... .##.. ..#.. .#...",
  "-": "..... ..... ..... #####",
  ".": "..... ..... ..... ..... ..... .##.. .##..",
  "/": "..... ....# ...#. ..#.. .#... #....",
  "0": ".###. #...# #..## #.#.# ##..# #...# .###.",
  "1": "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
  "2": ".###. #...# ....# ...#. ..#.. .#... #####",
  "3": "##### ...#. ..#.. ...#. ....# #...# .###.",
  "4": "...#. ..##. .#.#. #..#. ##### ...#. ...#.",
  "5": "##### #.... ####. ....# ....# #...# .###.",
  "6": "..##. .#... #.... ####. #...# #...# .###.",
  "7": "##### ....# ...#. ..#.. .#... .#... .#...",
  "8": ".###. #...# #...# .###. #...# #...# .###.",
  "9": ".###. #...# #...# .#### ....# ...#. .##..",
  ":": "..... .##.. .##.. ..... .##.. .##..",
  ";": "..... .##.. .##.. ..... .##.. ..#.. .#...",
  "<": "...#. ..#.. .#... #.... .#... ..#.. ...#.",
  "=": "..... ..... ##### ..... #####",
  ">": ".#... ..#.. ...#. ....# ...#. ..#.. .#...",
  "?": ".###. #...# ....# ...#. ..#.. ..... ..#..",
  "@": ".###. #...# ....# .##.# #.#.# #.#.# .###.",
  "A": ".###. #...# #...# ##### #...# #...# #...#",
  "B": "####. #...# #...# ####. #...# #...# ####.",
  "C": ".###. #...# #.... #.... #.... #...# .###.",
  "D": "###.. #..#. #...# #...# #...# #..#. ###..",
  "E": "##### #.... #.... ####. #.... #.... #####",
  "F": "##### #.... #.... ####. #.... #.... #....",
  "G": ".###. #...# #.... #.### #...# #...# .####",
  "H": "#...# #...# #...# ##### #...# #...# #...#",
  "I": ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
  "J": "..### ...#. ...#. ...#. ...#. #..#. .##..",
  "K": "#...# #..#. #.#.. ##... #.#.. #..#. #...#",
  "L": "#.... #.... #.... #.... #.... #.... #####",
  "M": "#...# ##.## #.#.# #.#.# #...# #...# #...#",
  "N": "#...# #...# ##..# #.#.# #..## #...# #...#",
  "O": ".###. #...# #...# #...# #...# #...# .###.",
  "P": "####. #...# #...# ####. #.... #.... #....",
  "Q": ".###. #...# #...# #...# #.#.# #..#. .##.#",
  "R": "####. #...# #...# ####. #.#.. #..#. #...#",
  "S": ".#### #.... #.... .###. ....# ....# ####.",
  "T": "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
  "U": "#...# #...# #...# #...# #...# #...# .###.",
  "V": "#...# #...# #...# #...# #...# .#.#. ..#..",
  "W": "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.",
  "X": "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
  "Y": "#...# #...# #...# .#.#. ..#.. ..#.. ..#..",
  "Z": "##### ....# ...#. ..#.. .#... #.... #####",
  "[": ".###. .#... .#... .#... .#... .#... .###.",
  "\\": "..... #.... .#... ..#.. ...#. ....#",
  "]": ".###. ...#. ...#. ...#. ...#. ...#. .###.",
  "^": "..#.. .#.#. #...#",
  "_": "..... ..... ..... ..... ..... ..... ..... #####",
  "`": ".#... ..#.. ...#.",
  "a": "..... ..... .###. ....# .#### #...# .####",
  "b": "#.... #.... #.##. ##..# #...# #...# ####.",
  "c": "..... ..... .###. #.... #.... #...# .###.",
  "d": "....# ....# .##.# #..## #...# #...# .####",
  "e": "..... ..... .###. #...# ##### #.... .###.",
  "f": "..##. .#..# .#... ###.. .#... .#... .#...",
  "g": "..... ..... .#### #...# #...# #...# .#### ....# .###.",
  "h": "#.... #.... #.##. ##..# #...# #...# #...#",
  "i": "..#.. ..... .##.. ..#.. ..#.. ..#.. .###.",
  "j": "...#. ..... ..##. ...#. ...#. ...#. ...#. #..#. .##..",
  "k": "#.... #.... #..#. #.#.. ##... #.#.. #..#.",
  "l": ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
  "m": "..... ..... ##.#. #.#.# #.#.# #.#.# #.#.#",
  "n": "..... ..... #.##. ##..# #...# #...# #...#",
  "o": "..... ..... .###. #...# #...# #...# .###.",
  "p": "..... ..... ####. #...# #...# #...# ####. #.... #....",
  "q": "..... ..... .#### #...# #...# #...# .#### ....# ....#",
  "r": "..... ..... #.##. ##..# #.... #.... #....",
  "s": "..... ..... .#### #.... .###. ....# ####.",
  "t": ".#... .#... ###.. .#... .#... .#..# ..##.",
  "u": "..... ..... #...# #...# #...# #..## .##.#",
  "v": "..... ..... #...# #...# #...# .#.#. ..#..",
  "w": "..... ..... #...# #...# #.#.# #.#.# .#.#.",
  "x": "..... ..... #...# .#.#. ..#.. .#.#. #...#",
  "y": "..... ..... #...# #...# #...# #...# .#### ....# .###.",
  "z": "..... ..... ##### ...#. ..#.. .#... #####",
  "{": "...#. ..#.. ..#.. .#... ..#.. ..#.. ...#.",
  "|": "..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
  "}": ".#... ..#.. ..#.. ...#. ..#.. ..#.. .#...",
  "~": "..... ..... .#... #.#.# ...#.",
};

const SUBST: Record<string, string> = {
  "×": "x",
  "−": "-",
  "–": "-",
  "—": "-",
  "’": "'",
  "‘": "'",
  "“": '"',
  "”": '"',
  "µ": "u",
  "μ": "u",
  "°": "o",
  "±": "+-",
  "…": "...",
  "\t": " ",
};

/** Bit rows of each glyph: bit 4 is the leftmost pixel. */
const BITS = new Map<string, Uint8Array>();
for (const [ch, rows] of Object.entries(GLYPHS)) {
  const b = new Uint8Array(GLYPH_H);
  rows.split(" ").filter((r) => r).forEach((r, i) => {
    let v = 0;
    for (let k = 0; k < GLYPH_W; k++) v = (v << 1) | (r[k] === "#" ? 1 : 0);
    b[i] = v;
  });
  BITS.set(ch, b);
}

/**
 * The text as the font draws it (substitutions applied, unknown characters as `?`).
 * @example `fontText("5×5 µm")` // "5x5 um"
 */
export function fontText(text: string): string {
  let out = "";
  for (const ch of text) {
    const s = SUBST[ch] ?? ch;
    for (const c of s) out += BITS.has(c) ? c : "?";
  }
  return out;
}

/**
 * Width in pixels of one line of text at a scale (no trailing gap).
 * @example `textWidth("abc", 2)` // 34
 */
export function textWidth(text: string, scale = 1): number {
  const n = [...fontText(text)].length;
  return n ? (n * ADVANCE - 1) * scale : 0;
}

/**
 * Height in pixels of one line of text at a scale (with descenders).
 * @example `textHeight(2)` // 18
 */
export function textHeight(scale = 1): number {
  return GLYPH_H * scale;
}

/** Options of {@link drawText}. */
export interface DrawTextOptions {
  /** Integer pixel scale (default 1). */
  scale?: number;
  /** RGB (default black). */
  color?: readonly [number, number, number];
}

/**
 * Draws one line of text into an RGB byte image (`w × h × 3`, row-major) with its top-left
 * corner at (x, y); pixels outside the image are skipped. Returns the width drawn.
 * @example `drawText(rgb, width, height, "SSIM 0.93", 10, 10, { scale: 2 })`
 */
export function drawText(
  rgb: Uint8Array,
  width: number,
  height: number,
  text: string,
  x: number,
  y: number,
  o: DrawTextOptions = {},
): number {
  const s = Math.max(1, Math.round(o.scale ?? 1));
  const [r, g, b] = o.color ?? [0, 0, 0];
  let cx = Math.round(x);
  const y0 = Math.round(y);
  for (const ch of fontText(text)) {
    const bits = BITS.get(ch)!;
    for (let row = 0; row < GLYPH_H; row++) {
      const v = bits[row];
      if (!v) continue;
      for (let col = 0; col < GLYPH_W; col++) {
        if (!((v >> (GLYPH_W - 1 - col)) & 1)) continue;
        for (let dy = 0; dy < s; dy++) {
          const py = y0 + row * s + dy;
          if (py < 0 || py >= height) continue;
          for (let dx = 0; dx < s; dx++) {
            const px = cx + col * s + dx;
            if (px < 0 || px >= width) continue;
            const o3 = (py * width + px) * 3;
            rgb[o3] = r;
            rgb[o3 + 1] = g;
            rgb[o3 + 2] = b;
          }
        }
      }
    }
    cx += ADVANCE * s;
  }
  return cx - Math.round(x) - (cx > Math.round(x) ? s : 0);
}

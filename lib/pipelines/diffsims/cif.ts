/**
 * A small CIF reader for crystal structures: cell, space-group name, symmetry operations (xyz
 * strings such as `x-1/2,-y-1/2,z` or `'+x,1/2-y,+z'`), atom sites (type symbols with oxidation
 * states, occupancies, Uiso/Biso), and the expansion to the full cell. Errors name file and line.
 *
 * @example
 * ```ts
 * import { expandCell, parseCif } from "./cif.ts";
 * const cif = parseCif("data_x\n_cell_length_a 4.95\n_cell_length_b 4.95\n_cell_length_c 4.95\n" +
 *   "_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n" +
 *   "loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nPb 0 0 0\n", "pb.cif");
 * expandCell(cif).length; // 1
 * ```
 * @module
 */
import { LumenError } from "../../run/errors.ts";

/**
 * Atomic numbers by element symbol (H … Cf).
 * @example
 * ```ts
 * ELEMENTS[81]; // "Pb"
 * ```
 */
export const ELEMENTS: readonly string[] = (
  "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se " +
  "Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb " +
  "Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf"
).split(" ");

/**
 * The atomic number of an element symbol (0 when unknown).
 * @example
 * ```ts
 * atomicNumber("Pb"); // 82
 * ```
 */
export function atomicNumber(symbol: string): number {
  return ELEMENTS.indexOf(symbol) + 1;
}

/** The unit cell: lengths in Å, angles in degrees. */
export interface Cell {
  a: number;
  b: number;
  c: number;
  alpha: number;
  beta: number;
  gamma: number;
}

/** One symmetry operation: x' = R·x + t on fractional coordinates. */
export interface SymOp {
  /** The operation as written in the file. */
  text: string;
  /** Rotation part, row-major 3×3. */
  rot: number[];
  /** Translation part. */
  trans: number[];
}

/** An atom site of the asymmetric unit. */
export interface Site {
  label: string;
  /** Element symbol without charge (`Pb` for `Pb+2`). */
  element: string;
  /** The oxidation state written with the type symbol (0 when none). */
  oxidation: number;
  xyz: [number, number, number];
  occupancy: number;
  /** Isotropic displacement U (Å²), 0 when absent (Biso is converted: U = B/8π²). */
  uiso: number;
  /** The line of the site's row. */
  line: number;
}

/** A parsed CIF data block. */
export interface Cif {
  file: string;
  cell: Cell;
  spaceGroup: string;
  symops: SymOp[];
  sites: Site[];
}

/** A site of the expanded cell. */
export interface CellAtom {
  element: string;
  xyz: [number, number, number];
  occupancy: number;
  uiso: number;
  label: string;
}

/**
 * The text of a CIF file's bytes: UTF-8 (CIF 2.0; plain ASCII is CIF 1.1), a leading byte-order
 * mark dropped. Bytes that are not UTF-8 are refused with the line they are on.
 *
 * @example
 * ```ts
 * const cif = parseCif(decodeCif(await Deno.readFile("pb.cif"), "pb.cif"), "pb.cif");
 * ```
 */
export function decodeCif(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    let lo = 0, hi = bytes.length; // the longest prefix that decodes
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      try {
        new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, mid), { stream: true });
        lo = mid;
      } catch {
        hi = mid - 1;
      }
    }
    let line = 1;
    for (let i = 0; i < lo; i++) if (bytes[i] === 10) line++;
    throw new LumenError(file, `line ${line}`, `byte ${lo} is not UTF-8 text (CIF is UTF-8)`);
  }
}

/**
 * A CIF's text refused where it holds a character that neither CIF 1.1 nor CIF 2.0 allows: a
 * control character other than tab, line feed and carriage return, or a noncharacter.
 */
function checkCifChars(text: string, file: string): void {
  // deno-lint-ignore no-control-regex
  const bad = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffe\uffff]/.exec(text);
  if (!bad) return;
  const line = text.slice(0, bad.index).split(/\r\n|\n|\r/).length;
  const code = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
  throw new LumenError(file, `line ${line}`, `character U+${code} is not allowed in a CIF`);
}

interface Token {
  text: string;
  line: number;
  quoted: boolean;
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  const lines = text.split(/\r\n|\n|\r/);
  for (let i = 0; i < lines.length; i++) {
    const ln = lines[i];
    if (ln.startsWith(";")) {
      const start = i + 1;
      const parts = [ln.slice(1)];
      i++;
      while (i < lines.length && !lines[i].startsWith(";")) parts.push(lines[i++]);
      out.push({ text: parts.join("\n").trim(), line: start, quoted: true });
      continue;
    }
    let j = 0;
    while (j < ln.length) {
      const ch = ln[j];
      if (/\s/.test(ch)) {
        j++;
      } else if (ch === "#") break;
      else if (ch === "'" || ch === '"') {
        let k = j + 1;
        while (k < ln.length && !(ln[k] === ch && (k + 1 === ln.length || /\s/.test(ln[k + 1])))) {
          k++;
        }
        out.push({ text: ln.slice(j + 1, k), line: i + 1, quoted: true });
        j = k + 1;
      } else {
        let k = j;
        while (k < ln.length && !/\s/.test(ln[k])) k++;
        out.push({ text: ln.slice(j, k), line: i + 1, quoted: false });
        j = k;
      }
    }
  }
  return out;
}

/**
 * A CIF number such as `4.557(3)` → 4.557; NaN for `?` or `.`.
 * @example
 * ```ts
 * cifNumber("4.950(2)"); // 4.95
 * ```
 */
export function cifNumber(s: string): number {
  const t = s.replace(/\(\d+\)$/, "");
  if (t === "?" || t === ".") return NaN;
  return Number(t);
}

/**
 * Parses one symmetry operation written as xyz (`-x+1/2,y,'z'`, `x-y,x,1/2+z`).
 *
 * @example
 * ```ts
 * import { parseSymOp } from "./cif.ts";
 * parseSymOp("1/2-x,y,-z").trans; // [0.5, 0, 0]
 * ```
 */
export function parseSymOp(text: string, file = "", line = 0): SymOp {
  const parts = text.replace(/\s+/g, "").toLowerCase().split(",");
  const bad = (why: string) =>
    new LumenError(file, `line ${line}`, `symmetry operation '${text}': ${why}`);
  if (parts.length !== 3) throw bad("expected three comma-separated parts");
  const rot = new Array(9).fill(0);
  const trans = [0, 0, 0];
  parts.forEach((p, r) => {
    const re = /([+-]?)(\d*\.?\d*(?:\/\d+)?)(\*?)([xyz]?)/g;
    let m: RegExpExecArray | null;
    let pos = 0;
    while (pos < p.length) {
      re.lastIndex = pos;
      m = re.exec(p);
      if (!m || m.index !== pos || m[0].length === 0) throw bad(`cannot read '${p.slice(pos)}'`);
      pos += m[0].length;
      const sign = m[1] === "-" ? -1 : 1;
      let num = 1;
      if (m[2]) {
        const [n, d] = m[2].split("/");
        num = Number(n) / (d ? Number(d) : 1);
        if (!Number.isFinite(num)) throw bad(`bad number '${m[2]}'`);
      }
      if (m[4]) rot[r * 3 + "xyz".indexOf(m[4])] += sign * num;
      else trans[r] += sign * num;
    }
  });
  return { text, rot, trans };
}

const SYMOP_TAGS = [
  "_symmetry_equiv_pos_as_xyz",
  "_space_group_symop_operation_xyz",
  "_symmetry_equiv_pos_as_xyz_",
];

/**
 * Parses the first data block of a CIF.
 *
 * @example
 * ```ts
 * import { parseCif } from "./cif.ts";
 * const text = Deno.readTextFileSync("pb.cif");
 * parseCif(text, "pb.cif").spaceGroup; // "F m -3 m"
 * ```
 */
export function parseCif(text: string, file: string): Cif {
  checkCifChars(text, file);
  const toks = tokenize(text);
  const items = new Map<string, Token>();
  const loops: { tags: string[]; rows: Token[][]; line: number }[] = [];
  let i = 0;
  const isTag = (t: Token) => !t.quoted && t.text.startsWith("_");
  const isKw = (t: Token) =>
    !t.quoted && (/^loop_$/i.test(t.text) || /^data_/i.test(t.text) || /^save_/i.test(t.text));
  let blocks = 0;
  while (i < toks.length) {
    const t = toks[i];
    if (!t.quoted && /^data_/i.test(t.text)) {
      if (++blocks > 1) break;
      i++;
    } else if (blocks === 0) {
      throw new LumenError(file, `line ${t.line}`, `'${t.text}' before any data_ block header`);
    } else if (!t.quoted && /^loop_$/i.test(t.text)) {
      const tags: string[] = [];
      i++;
      while (i < toks.length && isTag(toks[i])) tags.push(toks[i++].text.toLowerCase());
      const vals: Token[] = [];
      while (i < toks.length && !isTag(toks[i]) && !isKw(toks[i])) vals.push(toks[i++]);
      if (tags.length === 0) throw new LumenError(file, `line ${t.line}`, "loop_ without tags");
      if (vals.length % tags.length !== 0) {
        throw new LumenError(
          file,
          `line ${t.line}`,
          `loop of ${tags.length} tags has ${vals.length} values (not a multiple)`,
        );
      }
      const rows: Token[][] = [];
      for (let r = 0; r < vals.length; r += tags.length) rows.push(vals.slice(r, r + tags.length));
      loops.push({ tags, rows, line: t.line });
    } else if (isTag(t)) {
      const v = toks[i + 1];
      if (!v || isTag(v) || isKw(v)) {
        throw new LumenError(file, `line ${t.line}`, `${t.text} has no value`);
      }
      items.set(t.text.toLowerCase(), v);
      i += 2;
    } else {
      throw new LumenError(file, `line ${t.line}`, `unexpected '${t.text}'`);
    }
  }
  const num = (tag: string): number => {
    const v = items.get(tag);
    if (!v) throw new LumenError(file, "", `no ${tag}: the cell is incomplete`);
    const x = cifNumber(v.text);
    if (!Number.isFinite(x) || x <= 0) {
      throw new LumenError(file, `line ${v.line}`, `${tag} '${v.text}' is not a positive number`);
    }
    return x;
  };
  const cell: Cell = {
    a: num("_cell_length_a"),
    b: num("_cell_length_b"),
    c: num("_cell_length_c"),
    alpha: num("_cell_angle_alpha"),
    beta: num("_cell_angle_beta"),
    gamma: num("_cell_angle_gamma"),
  };
  const sgTok = items.get("_symmetry_space_group_name_h-m") ??
    items.get("_space_group_name_h-m_alt");
  const spaceGroup = sgTok ? sgTok.text : "";
  let symops: SymOp[] = [];
  for (const lp of loops) {
    const col = lp.tags.findIndex((t) => SYMOP_TAGS.includes(t));
    if (col >= 0) {
      symops = lp.rows.map((r) => parseSymOp(r[col].text, file, r[col].line));
    }
  }
  if (symops.length === 0) {
    for (const tag of SYMOP_TAGS) {
      const v = items.get(tag);
      if (v) symops = [parseSymOp(v.text, file, v.line)];
    }
  }
  if (symops.length === 0) {
    if (spaceGroup && spaceGroup.replace(/\s+/g, "").toUpperCase() !== "P1") {
      throw new LumenError(
        file,
        sgTok ? `line ${sgTok.line}` : "",
        `space group '${spaceGroup}' but no symmetry operations (${SYMOP_TAGS[0]} or ` +
          `${SYMOP_TAGS[1]}): the cell cannot be expanded`,
      );
    }
    symops = [parseSymOp("x,y,z")];
  }
  const siteLoop = loops.find((l) => l.tags.includes("_atom_site_fract_x"));
  if (!siteLoop) throw new LumenError(file, "", "no _atom_site_fract_x loop: no atom sites");
  const col = (tag: string) => siteLoop.tags.indexOf(tag);
  const [cl, ct, cx, cy, cz, co, cu, cb] = [
    "_atom_site_label",
    "_atom_site_type_symbol",
    "_atom_site_fract_x",
    "_atom_site_fract_y",
    "_atom_site_fract_z",
    "_atom_site_occupancy",
    "_atom_site_u_iso_or_equiv",
    "_atom_site_b_iso_or_equiv",
  ].map(col);
  if (cl < 0) {
    throw new LumenError(file, `line ${siteLoop.line}`, "atom sites lack _atom_site_label");
  }
  if (cy < 0 || cz < 0) {
    throw new LumenError(file, `line ${siteLoop.line}`, "atom sites lack y or z");
  }
  if (!siteLoop.rows.length) {
    throw new LumenError(file, `line ${siteLoop.line}`, "the atom site loop has no rows");
  }
  const sites: Site[] = siteLoop.rows.map((r) => {
    const line = r[cx].line;
    const label = r[cl].text;
    const sym = ct >= 0 ? r[ct].text : label;
    const m = /^([A-Za-z]{1,2})(\d*)([+-]?)(\d*)/.exec(sym);
    let element = "";
    let oxidation = 0;
    if (m) {
      const cand2 = m[1].length === 2 ? m[1][0].toUpperCase() + m[1][1].toLowerCase() : "";
      const cand1 = m[1][0].toUpperCase();
      element = cand2 && atomicNumber(cand2) ? cand2 : atomicNumber(cand1) ? cand1 : "";
      if (element.length === m[1].length && (m[3] || m[2])) {
        const mag = Number(m[2] || m[4] || "1");
        oxidation = (m[3] === "-" ? -1 : 1) * (m[3] ? mag : 0);
      }
    }
    if (!element) {
      throw new LumenError(file, `line ${line}`, `unknown element '${sym}'`);
    }
    const coord = (c: number) => {
      const v = cifNumber(r[c].text);
      if (!Number.isFinite(v)) {
        throw new LumenError(
          file,
          `line ${r[c].line}`,
          `coordinate '${r[c].text}' is not a number`,
        );
      }
      return v;
    };
    const occ = co >= 0 ? cifNumber(r[co].text) : 1;
    let uiso = cu >= 0 ? cifNumber(r[cu].text) : NaN;
    if (!Number.isFinite(uiso) && cb >= 0) uiso = cifNumber(r[cb].text) / (8 * Math.PI * Math.PI);
    return {
      label,
      element,
      oxidation,
      xyz: [coord(cx), coord(cy), coord(cz)],
      occupancy: Number.isFinite(occ) ? occ : 1,
      uiso: Number.isFinite(uiso) ? uiso : 0,
      line,
    };
  });
  return { file, cell, spaceGroup, symops, sites };
}

function wrap(x: number): number {
  const v = x - Math.floor(x);
  return v >= 1 - 1e-12 ? 0 : v;
}

/**
 * Applies every symmetry operation to every site, wraps into [0,1) and merges positions closer
 * than `tol` (fractional, periodic). Coincident sites of different elements are both kept (as
 * diffpy.structure does) and reported through `warn`.
 *
 * @example
 * ```ts
 * import { expandCell, parseCif } from "./cif.ts";
 * const atoms = expandCell(parseCif(Deno.readTextFileSync("pb.cif"), "pb.cif"));
 * atoms.length; // 4 (face-centred cubic)
 * ```
 */
export function expandCell(
  cif: Cif,
  tol = 1e-4,
  warn: (msg: string) => void = () => {},
): CellAtom[] {
  const out: CellAtom[] = [];
  for (const s of cif.sites) {
    for (const op of cif.symops) {
      const p = [0, 1, 2].map((r) =>
        wrap(
          op.rot[r * 3] * s.xyz[0] + op.rot[r * 3 + 1] * s.xyz[1] + op.rot[r * 3 + 2] * s.xyz[2] +
            op.trans[r],
        )
      ) as [number, number, number];
      let dup = false;
      for (const a of out) {
        let close = true;
        for (let k = 0; k < 3; k++) {
          let d = Math.abs(a.xyz[k] - p[k]);
          d = Math.min(d, 1 - d);
          if (d > tol) close = false;
        }
        if (!close) continue;
        if (a.element === s.element && a.label === s.label) {
          dup = true;
          break;
        }
        if (a.element !== s.element) {
          warn(
            `${cif.file}: line ${s.line}: site ${s.label} (${s.element}) coincides with ${a.label} (${a.element}); both kept`,
          );
        }
      }
      if (!dup) {
        out.push({
          element: s.element,
          xyz: p,
          occupancy: s.occupancy,
          uiso: s.uiso,
          label: s.label,
        });
      }
    }
  }
  return out;
}

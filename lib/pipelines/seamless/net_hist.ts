/**
 * net_hist: the lineage of a trained network, following each checkpoint's `parent`
 * (its `--state_archive`) back to the root, with each ancestor's λs, lr, size, epochs and final
 * metrics from its record.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { readCheckpointRecord } from "../../nn/checkpoint.ts";
import { LumenError } from "../../run/errors.ts";

/** One network of a lineage. */
export interface NetHistEntry {
  path: string;
  name: string;
  id: string | null;
  /** The parent's path, or null for a root; "missing" when the file is gone. */
  parent: string | null;
  lambdas: number[];
  lr: number | null;
  size: number | null;
  epochs: number | null;
  final: Record<string, number>;
}

/**
 * The chain from `path` (a network) back to its root, newest first.
 *
 * @example
 * ```ts
 * for (const e of await netHistory("pt/child")) console.log(e.name, e.lambdas);
 * ```
 */
export async function netHistory(path: string): Promise<NetHistEntry[]> {
  const out: NetHistEntry[] = [];
  const seen = new Set<string>();
  let cur: string | null = path.replace(/\.(json|pt|safetensors)$/, "");
  while (cur) {
    if (seen.has(cur)) throw new LumenError(cur, "parent", "the lineage loops back to itself");
    seen.add(cur);
    if (!existsSync(`${cur}.json`)) {
      if (!out.length) throw new LumenError(`${cur}.json`, "", "no such network");
      out[out.length - 1].parent = `${cur} (missing)`;
      break;
    }
    const rec = await readCheckpointRecord(cur);
    const ex = rec.extra as {
      id?: string;
      name?: string;
      parent?: string | null;
      args?: Record<string, number>;
      epochs?: number;
      final?: Record<string, number>;
    };
    const a = ex.args ?? {};
    out.push({
      path: cur,
      name: ex.name ?? cur.slice(cur.lastIndexOf("/") + 1),
      id: ex.id ?? null,
      parent: ex.parent ?? null,
      lambdas: [1, 2, 3, 4, 5, 6].map((i) => a[`lambda${i}`]),
      lr: a.lr ?? null,
      size: a.size ?? null,
      epochs: ex.epochs ?? null,
      final: ex.final ?? {},
    });
    cur = ex.parent ?? null;
  }
  return out;
}

/**
 * The lineage as text lines (one per network, newest first).
 *
 * @example
 * ```ts
 * console.log(formatNetHistory(await netHistory("pt/child")).join("\n"));
 * ```
 */
export function formatNetHistory(h: NetHistEntry[]): string[] {
  return h.map((e, i) => {
    const f = (v: number | null | undefined) => v === null || v === undefined ? "-" : String(v);
    const fin = Object.entries(e.final).filter(([k]) =>
      ["total", "error", "penalty", "consensus"].includes(k)
    )
      .map(([k, v]) => `${k} ${v.toPrecision(4)}`).join(", ");
    return `${"  ".repeat(i)}${e.name} [${e.id ?? "no id"}] λ1–6 ${
      e.lambdas.map(f).join(" ")
    }, lr ${f(e.lr)}, ` +
      `size ${f(e.size)}, epochs ${f(e.epochs)}${fin ? `, final ${fin}` : ""}${
        e.parent ? ` ← ${e.parent}` : " (root)"
      }`;
  });
}

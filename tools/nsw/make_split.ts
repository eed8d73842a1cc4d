/**
 * `make_split`: the original's rarest-first greedy split of the videos of an extracted NSW tree
 * into `{"train", "val", "test"}` (or `{"train", "test"}` for two weights), seeded, written as
 * Python's `json.dumps` writes it. Refuses to overwrite.
 *
 * @module
 */
import { defineTool, provenanceArgs } from "../../lib/run/flags.ts";
import { runTool } from "../../lib/run/main.ts";
import { LumenError } from "../../lib/run/errors.ts";
import { pathExists, writeTextAtomic } from "../../lib/run/atomic.ts";
import { makeProvenance, writeProvenance } from "../../lib/run/provenance.ts";
import { makeSplit, splitJsonText } from "../../lib/pipelines/nsw/mod.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "nsw/make_split",
  summary: "split the videos of an extracted NSW dataset into train/val/test (rarest phase first)",
  description:
    "The phase seen in the fewest videos is split at random by the weights, its videos " +
    "are removed from every phase, and so on. Same seed, same bytes. A directory --out gets " +
    "split.json inside it; an existing file is never replaced.",
  permissions: ["--allow-read", "--allow-write=OUT"],
  task: "nsw-split",
  flags: {
    dataset: { type: "string", arg: "DIR", required: true, help: "extracted dataset" },
    out: {
      type: "string",
      arg: "FILE",
      aliases: ["split-file"],
      required: true,
      help: "path for split.json (also --split_file, the original's spelling)",
    },
    weights: {
      type: "list",
      of: "number",
      default: [0.6, 0.2, 0.2],
      help: "weights of the 2 or 3 sets (train, [val,] test)",
    },
    seed: { type: "int", default: 1234567890, min: 0, help: "random seed" },
  },
  examples: ["--dataset /data/extracted --out split.json --seed 1234567890"],
});

/** The original's `--split_file` spelling, taken as `--split-file`. */
export function originalArgs(argv: readonly string[]): string[] {
  return argv.map((a) => a.replace(/^--split_file(?==|$)/, "--split-file"));
}

if (import.meta.main) {
  await runTool(meta, async (f) => {
    let out = f.out!;
    try {
      if (Deno.statSync(out).isDirectory) out = `${out}/split.json`;
    } catch { /* a new file */ }
    if (pathExists(out)) throw new LumenError(out, "", "exists; make_split never overwrites");
    const split = makeSplit(f.dataset!, f.weights, f.seed);
    await writeTextAtomic(out, splitJsonText(split));
    const prov = await makeProvenance({
      tool: meta.name,
      args: provenanceArgs(meta, f),
      seed: f.seed,
      inputs: [],
    });
    await writeProvenance(out, prov);
    if (!f.quiet) {
      const sizes = Object.entries(split).map(([k, v]) => `${k} ${v.length}`).join(", ");
      console.log(`${out}: ${sizes}`);
    }
  }, originalArgs(Deno.args));
}

/**
 * `net_hist`: the chain of `--state_archive` parents of a trained SEAMLeSS network back to its
 * root, with each ancestor's λ1–λ6, lr, size, epochs and final metrics.
 *
 * @module
 */
import { defineTool } from "../../lib/run/flags.ts";
import { callTool, runTool } from "../../lib/run/main.ts";
import { formatNetHistory, netHistory } from "../../lib/pipelines/seamless/net_hist.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "seamless/net_hist",
  summary: "print the lineage of a trained network (parents via --state_archive)",
  permissions: ["--allow-read"],
  args: [{ name: "NET", help: "trained network (pt/NAME)" }],
  flags: {
    json: { type: "boolean", help: "print the lineage as JSON" },
  },
  examples: ["pt/child"],
});

/** Runs the tool in this process; returns the printed lines. */
export const main = (argv: readonly string[]): Promise<void> =>
  callTool(meta, async (f) => {
    await netHistory(String((f as unknown as { _: string[] })._[0]));
  }, argv);

if (import.meta.main) {
  await runTool(meta, async (f) => {
    const h = await netHistory(String((f as unknown as { _: string[] })._[0]));
    console.log(f.json ? JSON.stringify(h, null, 2) : formatNetHistory(h).join("\n"));
  });
}

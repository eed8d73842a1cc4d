/**
 * `extract_dataset`: checks that ARCHIVES holds exactly the ten entries of the public embryo
 * time-lapse dataset, then extracts them safely and atomically into DEST (absent or empty).
 *
 * @module
 */
import { defineTool, provenanceArgs, UsageError } from "../../lib/run/flags.ts";
import { runTool } from "../../lib/run/main.ts";
import { makeProvenance, writeProvenance } from "../../lib/run/provenance.ts";
import { extractDataset } from "../../lib/pipelines/nsw/mod.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "extract_dataset",
  summary: "check and extract the ten NSW embryo dataset archives into DEST",
  description: "ARCHIVES must hold exactly the ten expected entries; DEST must be absent or " +
    "empty. Every archive is checked before anything is written; a failure leaves DEST as it was.",
  permissions: ["--allow-read", "--allow-write=DEST"],
  task: "nsw-extract",
  args: [
    { name: "ARCHIVES", help: "folder with the ten dataset entries" },
    { name: "DEST", help: "destination folder (absent or empty)" },
  ],
  flags: {},
  examples: ["/data/archives /data/extracted"],
});

if (import.meta.main) {
  await runTool(meta, async (f) => {
    if (f._.length !== 2) throw new UsageError("ARCHIVES DEST", "expected exactly two arguments");
    const [archives, dest] = f._;
    const r = await extractDataset(archives, dest);
    const prov = await makeProvenance({
      tool: meta.name,
      args: provenanceArgs(meta, f),
      inputs: [archives],
      fast: true,
    });
    await writeProvenance(dest, prov);
    if (!f.quiet) {
      console.log(`${dest}: ${r.files} files, ${r.bytes} bytes from ${r.entries.length} entries`);
    }
  });
}

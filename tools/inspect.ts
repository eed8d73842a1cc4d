/**
 * `inspect FILE [--json] [--no-stats]`: what a scientific file holds.
 *
 * The format is found from the file's first bytes (HDF5/NeXus, TIFF, NPY, NPZ/ZIP, NIfTI-1
 * `.nii`/`.nii.gz`, tar/tar.gz, gzip, PNG, JPEG), and from the name for text formats (CSV/TSV,
 * JSON, JSON lines, YAML). It prints the HDF5 tree with shapes, dtypes, chunks, filters, links
 * and attributes; TIFF pages; NPY/NPZ arrays; the NIfTI header; archive listings. For every
 * numeric array it reports the minimum and maximum, read piece by piece (HDF5 hyperslabs, NPY
 * and NPZ in chunks, TIFF page by page), so a volume need not fit in memory.
 *
 * `--json` prints one JSON document: `{"file", "format", "bytes", "arrays": [{"name", "shape",
 * "dtype", "min", "max", …}], …}` plus per-format details (`tree`, `pages`, `header`,
 * `members`…). Minimum and maximum ignore NaN (counted in `nan`); they are JSON numbers, or the
 * strings "Infinity"/"-Infinity", or decimal strings for 64-bit integers beyond 2^53; null for
 * empty arrays or with `--no-stats`. The work is `describe()` of lib/io/describe.
 *
 * @module
 */
import { defineTool } from "../lib/run/flags.ts";
import { parseMemorySize, setMaxMemory } from "../lib/io/budget.ts";
import { runTool } from "../lib/run/main.ts";
import { describe, formatDescription } from "../lib/io/describe/mod.ts";

export {
  type ArrayInfo,
  describe as inspectFile,
  type DescribeOptions as InspectOptions,
  type Description as Report,
  detectFormat,
  forEachBlock,
  formatDescription,
  type JsonNumber,
  MinMax,
  prettyJson,
} from "../lib/io/describe/mod.ts";

/** The tool's description. */
export const meta = defineTool({
  name: "inspect",
  summary: "prints what a scientific file holds",
  permissions: ["--allow-read"],
  task: "inspect",
  args: [{
    name: "FILE",
    help: "HDF5/NeXus, TIFF, NPY, NPZ, NIfTI, tar(.gz), PNG, JPEG, CSV, JSON, YAML",
  }],
  flags: {
    json: { type: "boolean", help: "print one JSON document instead of text" },
    stats: { type: "boolean", default: true, help: "compute min/max of every array" },
    maxMemory: {
      type: "string",
      arg: "SIZE",
      default: "2G",
      help: "refuse files whose headers declare more decoded data than this (512M, 2G…)",
    },
  },
  examples: ["scan.nxs", "volume.tif --json", "big.h5 --no-stats"],
});

if (import.meta.main) {
  await runTool(meta, async (f) => {
    setMaxMemory(parseMemorySize(f.maxMemory, "--max-memory"));
    const d = await describe(f._[0], { stats: f.stats });
    const bytes = new TextEncoder().encode(formatDescription(d, { json: f.json }));
    for (let off = 0; off < bytes.length;) off += await Deno.stdout.write(bytes.subarray(off));
  });
}

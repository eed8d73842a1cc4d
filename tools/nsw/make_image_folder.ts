/**
 * `make_image_folder`: an image folder of one set of a split: the median frame of each chosen
 * phase of each video (F+00), `images/`, `descriptions/` (the prompt) and `metadata.csv`, with
 * the original's flags (`--shuffle`/`--no-shuffle`, `--seed`). A random name when none is given.
 *
 * @module
 */
import { defineTool, provenanceArgs } from "../../lib/run/flags.ts";
import { runTool } from "../../lib/run/main.ts";
import { makeProvenance, writeProvenance } from "../../lib/run/provenance.ts";
import { makeImageFolder, parsePhases, readSplit, splitSet } from "../../lib/pipelines/nsw/mod.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "nsw/make_image_folder",
  summary: "one image per phase per video (the phase's median frame) from a split set",
  description: "--set eval reads the split's val set (eval and val are the same set). " +
    "--phases takes space-separated phases or all alone. The folder must not exist.",
  permissions: ["--allow-read", "--allow-write=PARENT"],
  task: "nsw-image-folder",
  flags: {
    dataset: { type: "string", arg: "DIR", required: true, help: "extracted dataset" },
    splitFile: { type: "string", arg: "FILE", required: true, help: "path to split.json" },
    set: {
      type: "choice",
      choices: ["train", "test", "eval", "val"],
      required: true,
      help: "which set to use",
    },
    phases: { type: "list", required: true, help: "phases to include, or all" },
    imageFolderParent: {
      type: "string",
      arg: "PARENT",
      required: true,
      help: "where the image folder will be created",
    },
    imageFolderName: { type: "string", arg: "NAME", help: "folder name (default: a random UUID)" },
    shuffle: {
      type: "boolean",
      default: true,
      help: "shuffle the images (--no-shuffle: keep order)",
    },
    seed: { type: "int", default: 0, min: 0, help: "random seed of the shuffle" },
  },
  examples: [
    "--dataset /data/extracted --split-file split.json --set eval --phases t6 t7 t8 " +
    "--image-folder-parent /data/image-folders --image-folder-name v6-8 --shuffle --seed 0",
  ],
});

if (import.meta.main) {
  await runTool(meta, async (f) => {
    const phases = parsePhases(f.phases);
    const videos = splitSet(readSplit(f.splitFile!), f.set!, f.splitFile!);
    const r = await makeImageFolder({
      dataset: f.dataset!,
      videos,
      phases,
      parent: f.imageFolderParent!,
      name: f.imageFolderName,
      shuffle: f.shuffle,
      seed: f.seed,
    });
    const prov = await makeProvenance({
      tool: meta.name,
      args: provenanceArgs(meta, f),
      seed: f.seed,
      inputs: [f.splitFile!],
    });
    await writeProvenance(`${r.folder}/metadata.csv`, prov);
    console.log(r.folder);
    if (!f.quiet) console.error(`${r.images.length} images from ${videos.length} videos`);
  });
}

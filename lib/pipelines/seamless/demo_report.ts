/**
 * The SEAMLeSS demo's page: the residual displacement against the known field, the chunked
 * Pearson correlation of each section with its neighbour before and after, and neighbour
 * differences before/after as a figure.
 *
 * @module
 */
import { writeHtmlReport } from "../../viz/html_report.ts";
import { figurePng, type Panel } from "../../viz/figure.ts";
import type { AlignedSection } from "./align.ts";
import type { Residual, SynthStack } from "./synth.ts";

/**
 * Writes the page to `index`; returns the mean correlation before and after.
 *
 * @example
 * ```ts
 * const { before, after } = await writeDemoPage("out/seamless_demo.html", test, aligned, r,
 *   { epochs: 1, shift: 2 });
 * ```
 */
export async function writeDemoPage(
  index: string,
  test: SynthStack,
  aligned: AlignedSection[],
  r: Residual,
  o: { epochs: number; shift: number },
): Promise<{ before: number; after: number }> {
  const dim = test.sections[0].w;
  const diff = (a: Float32Array, b: Float32Array) => a.map((v, i) => v - b[i]);
  const panels: Panel[] = [];
  for (const z of [1, 3]) {
    for (
      const [what, a, b] of [
        ["raw", test.sections[z].data, test.sections[z - 1].data],
        ["aligned", aligned[z].aligned.data, aligned[z - 1].aligned.data],
      ] as const
    ) {
      panels.push({
        data: diff(a, b),
        shape: [dim, dim],
        title: `${z}−${z - 1} ${what}`,
        colormap: "RdBu_r",
        range: "symmetric",
      });
    }
  }
  const rows = aligned.slice(1).map((s, i) => [i + 1, s.cpcBefore, s.cpcAfter]);
  const pct = (100 * r.residual / r.unaligned).toFixed(0);
  await writeHtmlReport(index, {
    title: "SEAMLeSS demo: synthetic EM alignment",
    meta: { sections: test.sections.length, dim, epochs: o.epochs, "max shift (px)": o.shift },
    sections: [
      {
        heading: "Residual displacement against the known field",
        text: `Mean |predicted − true| ${r.residual.toFixed(3)} px against ${
          r.unaligned.toFixed(3)
        } px unaligned (${pct} %). Training report: out/demo/report.html.`,
      },
      {
        heading: "Chunked Pearson correlation with the previous section",
        tables: [{ columns: ["section", "before", "after"], rows }],
      },
      {
        heading: "Neighbour differences before / after",
        images: [{ png: figurePng(panels, { columns: 4 }) }],
      },
    ],
  });
  const mean = (k: 1 | 2) => rows.reduce((s, x) => s + (x[k] as number), 0) / rows.length;
  return { before: mean(1), after: mean(2) };
}

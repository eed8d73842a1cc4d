/**
 * Lumen: scientific-imaging ML pipelines in Deno, from instrument files to trained models,
 * measured results and deployed inference.
 *
 * This module re-exports the library (`lib/`), one section per concern.
 *
 * @module
 */
export * from "./lib/run/errors.ts";

// What every tool shares (lib/run): flags and --help, the entry wrapper, atomic writes, progress,
// provenance, JSON-lines logs; and the version.
export * from "./lib/run/flags.ts";
export * from "./lib/run/main.ts";
export * from "./lib/run/atomic.ts";
export * from "./lib/run/progress.ts";
export * from "./lib/run/provenance.ts";
export * from "./lib/run/log.ts";
export * from "./lib/version.ts";

// Tensor engine (lib/tensor): Tensor, autograd, ops, Backend interface, wasm backend.
export * from "./lib/tensor/mod.ts";

// File formats (lib/io): HDF5/NeXus via h5wasm, tomography scans.
export * from "./lib/io/hdf5.ts";
export * from "./lib/io/nexus.ts";
// File formats (lib/io): NdArray, TIFF, NPY/NPZ (and ZIP/gzip), NIfTI-1, tar, CSV, JSON, YAML,
// PNG, JPEG.
export {
  type DType,
  DTYPE_SIZE,
  dtypeOf,
  type NdArray,
  ndarray,
  type TypedArray,
} from "./lib/io/array.ts"; // (its sizeOf is the tensor engine's sizeOf, exported above)
export * from "./lib/io/tiff.ts";
export * from "./lib/io/npy.ts";
export * from "./lib/io/npz.ts";
export * from "./lib/io/zip.ts";
export * from "./lib/io/nifti.ts";
export * from "./lib/io/tar.ts";
export * from "./lib/io/csv.ts";
export * from "./lib/io/json.ts";
export * from "./lib/io/yaml.ts";
export * from "./lib/io/png.ts";
export * from "./lib/io/jpeg.ts";

// Tomography (lib/tomo): flat/dark normalisation, sinograms.
export * from "./lib/tomo/normalise.ts";
// Stripe detection (Larix STRIPES_DETECT / STRIPES_MERGE): wasm, webgpu and reference backends.
export * from "./lib/tomo/stripes.ts";
// Vo's sorting-based stripe removal (the classical baseline) and filtered back-projection.
export * from "./lib/tomo/vo_sorting.ts";
export * from "./lib/tomo/fbp.ts";

// Simulation (lib/sim): seeded RNG, ellipsoid phantoms, synthetic NeXus scans, simulated stripes.
export * from "./lib/sim/rng.ts";
export * from "./lib/sim/phantom.ts";
export * from "./lib/sim/scan.ts";
export * from "./lib/sim/stripes.ts";

// WebAssembly loading (lib/wasm).
export * from "./lib/wasm/load.ts";

// Metrics (lib/metrics): NoStripesNet's nine test metrics, the paper's RMSE table, test results.
export * from "./lib/metrics/nsn_metrics.ts";
export * from "./lib/metrics/test_result.ts";
// Figures and reports (lib/viz): colormaps, titled panel grids as PNG (built-in bitmap font),
// sinograms over FBP reconstructions, SVG line charts, HTML reports, the headless-Chromium check.
export * from "./lib/viz/colormap.ts";
export * from "./lib/viz/font.ts";
export * from "./lib/viz/figure.ts";
export * from "./lib/viz/nsn_figures.ts";
export * from "./lib/viz/line_chart.ts";
export * from "./lib/viz/html_report.ts";
export * from "./lib/viz/browser_check.ts";

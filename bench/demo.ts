// bench-permissions: --allow-read --allow-write=/tmp --allow-run=deno --allow-env --allow-sys
/**
 * The embedded demo (tools/demo.ts: simulated scan → mask → patch dataset → training of the small
 * model → test → figures), end to end in a fresh process:
 *
 * - `demo_seconds`: wall time of the whole demo (the target is under 5 minutes on 2 cores);
 * - `demo_stripe_rmse`: RMSE in uint16 units over the stripe region of the held-out patches,
 *   ours = the trained model, peer = Vo's sorting (TomoPy's default window), ratio = Vo / model
 *   (> 1: the model removes the stripes better).
 *
 * @module
 */
const prefix = Deno.args[0] ?? "";
if ("demo_seconds".startsWith(prefix) || "demo_stripe_rmse".startsWith(prefix) || prefix === "") {
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "lumen_demo_bench_" });
  const out = `${dir}/demo`;
  const t0 = performance.now();
  const r = await new Deno.Command("deno", {
    args: [
      "run",
      "--quiet",
      "--allow-read",
      `--allow-write=${dir}`,
      new URL("../tools/demo.ts", import.meta.url).pathname,
      "--out",
      out,
      "nostripesnet",
      "--quiet",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const secs = (performance.now() - t0) / 1000;
  if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
  const m = JSON.parse(
    await Deno.readTextFile(`${out}/nostripesnet/test_results/demo.metrics.json`),
  );
  const rows = m.rmse.rows as { method: string; stripe: number }[];
  const model = rows.find((x) => x.method === "model")!.stripe;
  const vo = rows.find((x) => x.method.startsWith("Vo"))!.stripe;
  const input = rows.find((x) => x.method.startsWith("stripe"))!.stripe;
  if ("demo_seconds".startsWith(prefix)) {
    console.log(
      JSON.stringify({ bench: "demo_seconds", unit: "s", ours: secs, peer: null, ratio: null }),
    );
  }
  if ("demo_stripe_rmse".startsWith(prefix)) {
    console.log(JSON.stringify({
      bench: "demo_stripe_rmse",
      unit: "uint16 RMSE",
      ours: model,
      peer: vo,
      ratio: vo / model,
      stripe_input: input,
    }));
  }
  await Deno.remove(dir, { recursive: true });
}

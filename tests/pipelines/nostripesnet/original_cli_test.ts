/**
 * NoStripesNet's own command lines, verbatim: the run scripts (run_scripts/*.sh and submit.sh,
 * with their variables set to fixture files and small sizes) and the tutorial's lines, run in a
 * working folder as a user runs them, with paths relative to it.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { hasPython, pyFixture, ROOT } from "../../_helpers.ts";
import { readNpz } from "../../../lib/io/npz.ts";

const noPy = !hasPython("numpy", "h5py");

/** `deno run` of a NoStripesNet tool in `cwd`, allowed to write there only. */
async function tool(cwd: string, name: string, line: string) {
  const r = await new Deno.Command("deno", {
    args: [
      "run",
      "--quiet",
      "--allow-read",
      `--allow-write=${cwd}`,
      `${ROOT}/tools/nostripesnet/${name}.ts`,
      ...line.trim().split(/\s+/),
    ],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

/** The variables of a run script substituted into its command line, as bash does. */
function sub(line: string, vars: Record<string, string | number>): string {
  return line.replace(/\$\{?(\w+)\}?/g, (_, k) => String(vars[k] ?? `$${k}`));
}

const files = (dir: string) => existsSync(dir) ? readdirSync(dir).sort() : [];

Deno.test({
  name:
    "the original's run scripts run verbatim: generate_mask.sh, data_generator.sh, submit.sh, train_test.sh, apply_model.sh",
  ignore: noPy,
  fn: async () => {
    const fx = await pyFixture("nsn_cli");
    const cwd = await Deno.makeTempDir();
    await Deno.mkdir(`${cwd}/raw`);
    for (const f of ["119617.nxs", "flats.nxs", "stripe_masks.npz"]) {
      await Deno.copyFile(`${fx}/scripts/raw/${f}`, `${cwd}/raw/${f}`);
    }
    const vars = {
      // generate_mask.sh
      h5: "raw/119617.nxs",
      archive: "archive.npz",
      file: "m119617",
      // data_generator.sh
      mode: "patch",
      root: "./data",
      samples: 1,
      start: 0,
      shifts: 1,
      shift_step: 5,
      size: 256,
      objects: 300,
      flatsnum: 20,
      I0: 40000,
      hdf: "raw/119617.nxs",
      chunk: 243,
      flat: "raw/flats.nxs",
      mask: "raw/stripe_masks.npz",
      angles: 900,
      patch_h: 640,
      patch_w: 40,
      // submit.sh / train_test.sh
      model: "patch",
      batchsize: 16,
      epochs: 1,
      lr: 0.0002,
      beta1: 0.5,
      beta2: 0.999,
      lambda: 100,
      savedir: "./pretrained_models",
      name: "model_name",
      out: "clean.h5",
    };
    // run_scripts/generate_mask.sh
    const gm = await tool(cwd, "generate_mask", sub("--h5 $h5 -a $archive -f $file", vars));
    assert.equal(gm.code, 0, gm.stderr);
    assert.deepEqual([...(await readNpz(`${cwd}/archive.npz`)).keys()], ["m119617"]);
    // run_scripts/data_generator.sh
    const dg = await tool(
      cwd,
      "data_generator",
      sub(
        "-m $mode -r $root -S $samples --start $start -s $shifts -p $shift_step -N $size -o $objects -f $flatsnum -I $I0 --hdf-file $hdf -C $chunk --flats $flat --mask $mask --frame-angles $angles --patch-size $patch_h $patch_w -v",
        vars,
      ),
    );
    assert.equal(dg.code, 0, dg.stderr);
    assert.match(
      dg.stdout,
      /32 sinograms written, 0 already there, 1 patches each → \.\/data\/0000/,
    );
    assert.equal(files(`${cwd}/data/0000/fake_artifacts/clean`).length, 3);
    assert.equal(files(`${cwd}/data/0000/real_artifacts/stripe`).length, 29);
    // submit.sh (training with --ddp: one line saying what Lumen does instead)
    const tr = await tool(
      cwd,
      "train",
      sub(
        "-r $root -m $model -B $batchsize -e $epochs -l $lr -b $beta1 $beta2 --lambda $lambda -d $savedir --force -v -n $name --ddp --save-every 25",
        vars,
      ),
    );
    assert.equal(tr.code, 0, tr.stderr);
    assert.match(tr.stderr, /^train: note: --ddp: Lumen does not spread one run over nodes/);
    assert.match(tr.stdout, /640×40 patches: generator depth 8 → 5, discriminator depth 7 → 4/);
    assert.ok(existsSync(`${cwd}/pretrained_models/model_name_1.json`));
    // train_test.sh: the same training line without --ddp is finished already; its test line
    const again = await tool(
      cwd,
      "train",
      sub(
        "-r $root -m $model -B $batchsize -e $epochs -l $lr -b $beta1 $beta2 --lambda $lambda -d $savedir --force -v -n $name",
        vars,
      ),
    );
    assert.equal(again.code, 1);
    assert.match(again.stderr, /model_name_1\.json: this run is finished; pass --overwrite/);
    const te = await tool(
      cwd,
      "test",
      sub("-r $root -m $model -B $batchsize -f $savedir/${name}_${epochs}.tar -v -n $name", vars),
    );
    assert.equal(te.code, 0, te.stderr);
    assert.match(te.stdout, /Test of \.\/pretrained_models\/model_name_1\.json \(epoch 1\)/);
    assert.ok(existsSync(`${cwd}/test_results/model_name.metrics.json`));
    // run_scripts/apply_model.sh (positional model and h5, -m mask, -o out, --ddp)
    const ap = await tool(
      cwd,
      "apply_model",
      sub("$savedir/${name}_${epochs}.tar $h5 -m $mask -o $out --ddp", vars),
    );
    assert.equal(ap.code, 0, ap.stderr);
    assert.ok(existsSync(`${cwd}/clean.h5`) && existsSync(`${cwd}/clean.h5.prov.json`));
    await Deno.remove(cwd, { recursive: true });
  },
});

Deno.test({
  name:
    "the tutorial's command lines run verbatim (its 1801×256 dataset; training on small patches)",
  ignore: noPy,
  fn: async () => {
    const fx = await pyFixture("nsn_cli");
    const a = await Deno.makeTempDir();
    for (const f of ["119617.nxs", "stripe_masks.npz"]) {
      await Deno.copyFile(`${fx}/tutorial/${f}`, `${a}/${f}`);
    }
    const dg = await tool(
      a,
      "data_generator",
      "--mode patch --root ./data --hdf-root 119617.nxs --chunk-size 2160 --mask stripe_masks.npz --verbose",
    );
    assert.equal(dg.code, 0, dg.stderr);
    assert.match(dg.stdout, /2 sinograms written, 0 already there, 1 patches each/);
    assert.deepEqual(files(`${a}/data/0000/fake_artifacts/clean`), ["0000_shift00_0000_w00.tif"]);
    assert.deepEqual(files(`${a}/data/0000/real_artifacts/stripe`), ["0000_shift00_0001_w00.tif"]);
    // the training lines on a dataset of small patches (the paper's network fits itself to them)
    const b = await Deno.makeTempDir();
    const k11 = await pyFixture("nsn_integrity");
    const small = await tool(
      b,
      "data_generator",
      `-m patch -r ./data --hdf-file ${k11}/k11.nxs --mask ${k11}/masks.npz --patch-size 12 20`,
    );
    assert.equal(small.code, 0, small.stderr);
    const tr = await tool(
      b,
      "train",
      "--mode patch --root ./data --save-dir ./pretrained_models --name patch_example --epochs 10 --verbose",
    );
    assert.equal(tr.code, 0, tr.stderr);
    assert.match(tr.stdout, /epoch 10\/10: loss_D/);
    assert.ok(existsSync(`${b}/pretrained_models/patch_example_10.json`));
    // the tutorial's fine-tuning line names the same run, which is past its one epoch already
    const ft = await tool(
      b,
      "train",
      "--mode patch --root ./data --model-file ./pretrained_models/patch_example_1.tar --name patch_example --verbose",
    );
    assert.equal(ft.code, 1);
    assert.match(
      ft.stderr,
      /^train: error: \.\/pretrained_models\/patch_example_10\.json: this run is already past --epochs 1 \(it reached epoch 10\)/,
    );
    assert.equal(ft.stderr.trim().split("\n").length, 1);
    for (const d of [a, b]) await Deno.remove(d, { recursive: true });
  },
});

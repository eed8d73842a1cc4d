/**
 * lib/io/csv, lib/io/json, lib/io/yaml: RFC 4180 quoting both ways (checked against Python's csv
 * module), parse errors as one line with line:column, atomic writes.
 */
import assert from "node:assert/strict";
import { hasPython, runPython } from "../_helpers.ts";
import { assertLumenError, listDir, tempDir } from "./formats_helpers.ts";
import { formatCsv, parseCsv, parseCsvRecords, readCsv, writeCsv } from "../../lib/io/csv.ts";
import { formatJson, parseJson, readJson, writeJson } from "../../lib/io/json.ts";
import { parseYaml, readYaml, stringifyYaml, writeYaml } from "../../lib/io/yaml.ts";

const TRICKY = [
  ["id", "name", "note"],
  ["1", "plain", ""],
  ["2", "comma, inside", 'quote " inside'],
  ["3", "line\nbreak", "crlf\r\nbreak"],
  ["4", " spaces ", "ünïcödé"],
];

Deno.test("csv: RFC 4180 parsing and formatting round trip", () => {
  const text = formatCsv(TRICKY);
  assert.equal(
    text,
    'id,name,note\r\n1,plain,\r\n2,"comma, inside","quote "" inside"\r\n3,"line\nbreak","crlf\r\nbreak"\r\n4, spaces ,ünïcödé\r\n',
  );
  assert.deepEqual(parseCsv(text), TRICKY);
  assert.deepEqual(parseCsv("a,b\nc,d"), [["a", "b"], ["c", "d"]]); // LF, no final newline
  assert.deepEqual(parseCsv("a,b\r\n"), [["a", "b"]]);
  assert.deepEqual(parseCsv("a,\n,b\n"), [["a", ""], ["", "b"]]);
  assert.deepEqual(parseCsv("\ufeffx;y\n1;2\n", "f", { delimiter: ";" }), [["x", "y"], ["1", "2"]]);
  assert.deepEqual(parseCsv(""), []);
  assert.deepEqual(parseCsv('""'), [[""]]);
  const { header, records } = parseCsvRecords("a,b\n1,2\n\n3,4\n");
  assert.deepEqual(header, ["a", "b"]);
  assert.deepEqual(records, [{ a: "1", b: "2" }, { a: "3", b: "4" }]);
  assert.equal(formatCsv([[1, true, null, undefined, 2.5]]), "1,true,,,2.5\r\n");
});

Deno.test("csv: malformed input is a one-line error with line:column", async () => {
  await assertLumenError(
    () => parseCsv('a,b\n1,"open\n2,3\n', "m.csv"),
    /^m\.csv: line 2:3: unterminated quoted field$/,
  );
  await assertLumenError(
    () => parseCsv('a,"b"x,c\n', "m.csv"),
    /^m\.csv: line 1:6: text after closing quote$/,
  );
  await assertLumenError(
    () => parseCsv('a,b\nx,y"z\n', "m.csv"),
    /^m\.csv: line 2:4: quote inside an unquoted field$/,
  );
  await assertLumenError(
    () => parseCsv('"a\nb",c"\n', "m.csv"),
    /^m\.csv: line 2:5: quote inside an unquoted field$/,
  );
  await assertLumenError(
    () => parseCsvRecords("a,b\n1,2,3\n", "r.csv"),
    /^r\.csv: record 2: 3 fields, the header has 2$/,
  );
  await assertLumenError(
    () => parseCsvRecords("a,a\n1,2\n", "r.csv"),
    /^r\.csv: line 1: duplicate column 'a'$/,
  );
});

Deno.test({
  name: "csv: files written here read identically by Python's csv module, and back",
  ignore: !hasPython(),
  fn: async () => {
    const dir = tempDir();
    try {
      const p = `${dir}/t.csv`;
      await writeCsv(p, TRICKY);
      const py = runPython(
        "-c import csv, json, sys; print(json.dumps(list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))))",
        [p],
      );
      assert.deepEqual(JSON.parse(py), TRICKY);
      // Python's writer output reads here.
      const q = `${dir}/py.csv`;
      runPython(
        "-c import csv, json, sys; csv.writer(open(sys.argv[1], 'w', newline='', encoding='utf-8')).writerows(json.loads(sys.argv[2]))",
        [q, JSON.stringify(TRICKY)],
      );
      assert.deepEqual(await readCsv(q), TRICKY);
      await assertLumenError(() => writeCsv(p, [["x"]]), /t\.csv: exists; pass --overwrite$/);
      await Deno.writeFile(`${dir}/bad.csv`, new Uint8Array([0x61, 0x2c, 0xff, 0x0a]));
      await assertLumenError(
        () => readCsv(`${dir}/bad.csv`),
        /bad\.csv: byte 2: not valid UTF-8 text$/,
      );
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test("json: parse errors name the line and column", async () => {
  assert.deepEqual(parseJson('{"a": [1, 2.5e3, "x\\n"]}'), { a: [1, 2500, "x\n"] });
  await assertLumenError(
    () => parseJson('{\n  "a": 1,\n  "b": x\n}', "c.json"),
    /^c\.json: line 3:8: expected a value, found 'x'$/,
  );
  await assertLumenError(
    () => parseJson('{"a": 1', "c.json"),
    /^c\.json: line 1:8: expected ',' or '}' after a value, found end of input$/,
  );
  await assertLumenError(
    () => parseJson("[1, 2]]", "c.json"),
    /^c\.json: line 1:7: unexpected '\]' after the JSON value$/,
  );
  await assertLumenError(
    () => parseJson("", "c.json"),
    /^c\.json: line 1:1: expected a value, found end of input$/,
  );
  await assertLumenError(
    () => parseJson('{"a\tb": 1}', "c.json"),
    /^c\.json: line 1:4: control character inside a string \(escape it\)$/,
  );
  await assertLumenError(
    () => parseJson("{'a': 1}", "c.json"),
    /^c\.json: line 1:2: expected a property name in quotes, found '''$/,
  );
  await assertLumenError(
    () => parseJson('{"a": 1,}', "c.json"),
    /^c\.json: line 1:9: expected a property name in quotes, found '}'$/,
  );
  const dir = tempDir();
  try {
    await writeJson(`${dir}/m.json`, { x: [1, 2], y: "z" });
    assert.equal(await Deno.readTextFile(`${dir}/m.json`), formatJson({ x: [1, 2], y: "z" }));
    assert.deepEqual(await readJson(`${dir}/m.json`), { x: [1, 2], y: "z" });
    await assertLumenError(
      () => writeJson(`${dir}/m.json`, 1),
      /m\.json: exists; pass --overwrite$/,
    );
    await writeJson(`${dir}/m.json`, 1, { overwrite: true });
    assert.equal(await readJson(`${dir}/m.json`), 1);
    await assertLumenError(() => readJson(`${dir}/missing.json`), /missing\.json: no such file$/);
    assert.deepEqual(listDir(dir), ["m.json"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("yaml: parses with the yaml package; errors name line:column", async () => {
  assert.deepEqual(parseYaml("a: 1\nb: [x, 2.5]\nc:\n  d: true\n"), {
    a: 1,
    b: ["x", 2.5],
    c: { d: true },
  });
  await assertLumenError(
    () => parseYaml("a: 1\na: 2\n", "c.yaml"),
    /^c\.yaml: line 2:1: Map keys must be unique$/,
  );
  await assertLumenError(
    () => parseYaml("a: 1\n  b: 2\n", "c.yaml"),
    /^c\.yaml: line 1:4: Nested mappings are not allowed in compact mappings$/,
  );
  await assertLumenError(
    () => parseYaml('k: "open\n', "c.yaml"),
    /^c\.yaml: line 2:1: Missing closing "quote$/,
  );
  await assertLumenError(
    () => parseYaml("a: 1\n---\nb: 2\n", "c.yaml"),
    /^c\.yaml: line 2:1: Source contains multiple documents/,
  );
  const dir = tempDir();
  try {
    const v = { run: { seed: 7, lr: 0.001, layers: [64, 128] }, name: "x: y" };
    await writeYaml(`${dir}/r.yaml`, v);
    assert.deepEqual(await readYaml(`${dir}/r.yaml`), v);
    assert.deepEqual(parseYaml(stringifyYaml(v)), v);
    await assertLumenError(
      () => writeYaml(`${dir}/r.yaml`, v),
      /r\.yaml: exists; pass --overwrite$/,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

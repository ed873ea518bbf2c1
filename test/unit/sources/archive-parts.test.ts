import assert from "node:assert/strict";
import { test } from "node:test";
import { deflateRawSync } from "node:zlib";
import { renderImageConfig } from "../../../src/sources/archive/docker.ts";
import { lineLocator, parsePositioned } from "../../../src/sources/archive/json-positions.ts";
import { looksLikeTar, sniffContainer, unsupportedArchive } from "../../../src/sources/archive/sniff.ts";
import { salvageZip } from "../../../src/sources/archive/zip-salvage.ts";
import { zipOf } from "../../helpers/zip-writer.ts";

test("parsePositioned keeps string offsets and decodes escapes like JSON.parse", () => {
  const text = '{\n "a": [\n  "x\\"y\\n",\n  1, true, null\n ],\n "b": {"c": "\\u00e9"}\n}';
  const doc = parsePositioned(text);
  assert.equal(doc.type, "object");
  const a = doc.entries.get("a");
  assert.equal(a?.type, "array");
  const s = a.items[0]!;
  assert.equal(s.type === "string" ? s.value : undefined, 'x"y\n');
  assert.deepEqual(lineLocator(text)(s.start), { line: 3, column: 3 });
  const b = doc.entries.get("b");
  const c = b?.type === "object" ? b.entries.get("c") : undefined;
  assert.equal(c?.type === "string" ? c.value : undefined, "é");
  for (const bad of ['{"a": 1,}', '{"a" 1}', "[1 2]", '"open', "{} x", '{"a": "line\nbreak"}']) {
    assert.throws(() => parsePositioned(bad), SyntaxError, bad);
  }
});

test("sniffing goes by content: zip, gzip, tar by checksum, notebooks by name", () => {
  const zip = zipOf([{ name: "a", data: "b" }]);
  assert.equal(sniffContainer(zip, "data.bin"), "zip");
  assert.equal(sniffContainer(Buffer.from([0x1f, 0x8b, 0x08, 0]), "x"), "gzip");
  const header = Buffer.alloc(512);
  header.write("file.txt", 0);
  header.write("0000644\0", 100);
  header.write("00000000000\0", 124);
  header.write("ustar\0", 257);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
  header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  assert.ok(looksLikeTar(header));
  header[0] = 0x67; // any change breaks the checksum
  assert.equal(looksLikeTar(header), false);
  assert.equal(sniffContainer(Buffer.from('{\n "cells": []}'), "a.ipynb"), "notebook");
  assert.equal(sniffContainer(Buffer.from('{\n "cells": []}'), "a.json"), undefined);
  assert.equal(unsupportedArchive(Buffer.from("BZh91AY&SY")), "bzip2");
});

test("salvageZip recovers entries from local headers, streamed ones (data descriptor) too", () => {
  const zip = zipOf([
    { name: "one.txt", data: "first" },
    { name: "two.txt", data: "second", method: 0 },
  ]);
  const cut = zip.subarray(0, zip.indexOf("two.txt") + 9);
  const walk = salvageZip(cut, 1 << 20);
  const first = walk.next();
  assert.equal(first.done, false);
  assert.deepEqual(first.value, {
    name: "one.txt",
    compressedSize: deflateRawSync("first").length,
    data: Buffer.from("first"),
  });
  const end = walk.next();
  assert.equal(end.done, true);
  assert.match(end.value, /two\.txt is cut short/);

  // A streamed entry: bit 3 set, sizes zero in the local header, a descriptor after the data.
  const packed = deflateRawSync("streamed body");
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(0x08, 6);
  local.writeUInt16LE(8, 8);
  local.writeUInt16LE(1, 26);
  const descriptor = Buffer.alloc(16);
  descriptor.writeUInt32LE(0x08074b50, 0);
  const streamed = Buffer.concat([local, Buffer.from("s"), packed, descriptor, zip.subarray(0, 40)]);
  const names = [...salvageZip(streamed, 1 << 20)].map((e) => [
    e.name,
    Buffer.isBuffer(e.data) ? e.data.toString() : e.data,
  ]);
  assert.deepEqual(names, [["s", "streamed body"]]);
});

test("renderImageConfig lists env, labels, commands and history one per line", () => {
  const text = renderImageConfig({
    config: { Env: ["A=1", "B=2"], Labels: { team: "ops" }, Entrypoint: ["/init"], Cmd: null },
    history: [{ created_by: "RUN make" }, { created_by: "ENV C=3", comment: "buildkit" }],
  });
  assert.equal(
    text,
    'ENV A=1\nENV B=2\nLABEL team=ops\nENTRYPOINT ["/init"]\nHISTORY RUN make\nHISTORY ENV C=3\nCOMMENT buildkit\n',
  );
});

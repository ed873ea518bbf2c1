import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import tarStream from "tar-stream";
import { loadConfig } from "../../src/config/load.ts";
import { systemClock } from "../../src/core/clock.ts";
import { githubChecksum } from "../../src/detect/checksum.ts";
import { createExampleGen } from "../../src/detect/example-gen.ts";
import { fileSource } from "../../src/sources/file-source.ts";
import { DEFAULT_ARCHIVE_OPTIONS, type ArchiveOptions } from "../../src/sources/archive/limits.ts";
import { createScanService } from "../../src/services/scan/scan-service.ts";
import { tempDir } from "../helpers/tmp.ts";
import { zipOf } from "../helpers/zip-writer.ts";

const gen = createExampleGen("archives-test");
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/** A fresh AWS access key id, built at run time. */
const awsId = (): string => "AKIA" + gen.chars(BASE32, 16);
/** A fresh GitHub token with a valid checksum. */
const github = (): string => {
  const body = "ghp_" + gen.alnum(30);
  return body + githubChecksum(body);
};

/** A text file whose line `line` (1-based) holds `secret`. */
function fileWith(secret: string, line: number, prefix = "AWS_ACCESS_KEY_ID="): string {
  const lines = Array.from({ length: line + 2 }, (_, k) => `# filler line ${k + 1}`);
  lines[line - 1] = `${prefix}${secret}`;
  return lines.join("\n") + "\n";
}

async function tarOf(
  entries: readonly { name: string; data: Buffer | string; type?: "file" | "directory" }[],
): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const e of entries) {
    const data = typeof e.data === "string" ? Buffer.from(e.data) : e.data;
    const dir = e.type === "directory";
    pack.entry(
      { name: e.name, type: e.type ?? "file", size: dir ? 0 : data.length },
      dir ? Buffer.alloc(0) : data,
    );
  }
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const b of pack as AsyncIterable<Buffer>) parts.push(b);
  return Buffer.concat(parts);
}

async function scanDir(
  dir: string,
  archives: Partial<ArchiveOptions> = {},
  maxFileSize = 1024 * 1024 * 1024,
  chunkSize?: number,
  exclude: string[] = [],
) {
  const { config } = loadConfig({ cwd: dir, env: {} });
  const s = createScanService({ config, clock: systemClock });
  // all: the archive plumbing is under test here, not the confidence model's view of a key.
  return s.scan({
    all: true,
    sources: [
      fileSource({
        paths: ["."],
        cwd: dir,
        maxFileSize,
        gitignore: true,
        exclude,
        overlap: s.catalogue.maxWindow,
        archives: { ...DEFAULT_ARCHIVE_OPTIONS, ...archives },
        chunkSize,
      }),
    ],
  });
}

type Result = Awaited<ReturnType<typeof scanDir>>;

function findingOf(r: Result, secret: string, under = ""): { file: string; line: number } | undefined {
  const f = r.findings.find((x) => x.secret.reveal() === secret && x.file.startsWith(under));
  return f === undefined ? undefined : { file: f.file, line: f.line };
}

function skippedAt(r: Result, path: string): string[] {
  return r.skipped.filter((s) => s.path === path).map((s) => s.reason);
}

test("keys in a zip, a tgz and a jar are found with the path inside and the right line", async (t) => {
  const dir = tempDir(t);
  const [a, b, c, d] = [awsId(), awsId(), awsId(), awsId()];
  writeFileSync(join(dir, "bundle.zip"), zipOf([{ name: "conf/app.env", data: fileWith(a, 3) }]));
  writeFileSync(
    join(dir, "release.tgz"),
    gzipSync(await tarOf([{ name: "./pkg/config.yml", data: fileWith(b, 5) }])),
  );
  writeFileSync(
    join(dir, "app.jar"),
    zipOf([
      { name: "META-INF/", data: "" },
      { name: "META-INF/MANIFEST.MF", data: "Manifest-Version: 1.0\n", method: 0 },
      { name: "application.properties", data: fileWith(c, 2) },
    ]),
  );
  // Recognised by content, not by name.
  writeFileSync(join(dir, "blob.dat"), zipOf([{ name: "x.txt", data: fileWith(d, 1) }]));
  const r = await scanDir(dir);
  assert.deepEqual(findingOf(r, a), { file: "bundle.zip!conf/app.env", line: 3 });
  assert.deepEqual(findingOf(r, b), { file: "release.tgz!pkg/config.yml", line: 5 });
  assert.deepEqual(findingOf(r, c), { file: "app.jar!application.properties", line: 2 });
  assert.deepEqual(findingOf(r, d), { file: "blob.dat!x.txt", line: 1 });
});

test("a zip inside a tar.gz is found with the full path; a plain .gz too", async (t) => {
  const dir = tempDir(t);
  const [a, b, c] = [github(), awsId(), awsId()];
  const inner = zipOf([{ name: "dir/file.txt", data: fileWith(a, 7, "token: ") }]);
  const tgz = gzipSync(
    await tarOf([
      { name: "lib", data: "", type: "directory" },
      { name: "lib/inner.zip", data: inner },
      { name: "README.md", data: fileWith(b, 2) },
      { name: "logs/old.log.gz", data: gzipSync(fileWith(a, 1, "token=")) },
    ]),
  );
  writeFileSync(join(dir, "outer.tar.gz"), tgz);
  writeFileSync(join(dir, "app.log.gz"), gzipSync(fileWith(c, 4)));
  const r = await scanDir(dir);
  assert.deepEqual(findingOf(r, a), { file: "outer.tar.gz!lib/inner.zip!dir/file.txt", line: 7 });
  assert.deepEqual(findingOf(r, b), { file: "outer.tar.gz!README.md", line: 2 });
  assert.ok(r.findings.some((f) => f.file === "outer.tar.gz!logs/old.log.gz!old.log" && f.line === 1));
  assert.deepEqual(findingOf(r, c), { file: "app.log.gz!app.log", line: 4 });
});

test("large entries are streamed in chunks: a key across a chunk boundary keeps its line", async (t) => {
  const dir = tempDir(t);
  const keys = [awsId(), awsId(), awsId()];
  const lines: string[] = [];
  for (let i = 0; i < 3000; i++) lines.push(`line ${i} ${"x".repeat(40)}`);
  const at = [10, 1500, 2999];
  at.forEach((n, k) => (lines[n - 1] = `AWS_ACCESS_KEY_ID=${keys[k]!}`));
  const big = lines.join("\n") + "\n";
  writeFileSync(join(dir, "logs.tgz"), gzipSync(await tarOf([{ name: "big.log", data: big }])));
  writeFileSync(join(dir, "logs.zip"), zipOf([{ name: "big.log", data: big }]));
  const r = await scanDir(dir, {}, 1024 * 1024 * 1024, 4096);
  keys.forEach((k, i) => {
    const where = r.findings.filter((f) => f.secret.reveal() === k).map((f) => `${f.file}:${f.line}`);
    assert.deepEqual(where.sort(), [`logs.tgz!big.log:${at[i]!}`, `logs.zip!big.log:${at[i]!}`]);
  });
});

test("UTF-16 entries of an archive are decoded, whole and in chunks", async (t) => {
  const dir = tempDir(t);
  const [small, big] = [awsId(), awsId()];
  const utf16 = (text: string) => Buffer.from("\uFEFF" + text, "utf16le");
  const lines = Array.from({ length: 400 }, (_, i) => `line ${i} ${"x".repeat(40)}`);
  lines[299] = `AWS_ACCESS_KEY_ID=${big}`;
  writeFileSync(
    join(dir, "exports.zip"),
    zipOf([
      { name: "settings.reg", data: utf16(fileWith(small, 2)) },
      { name: "big.log", data: utf16(lines.join("\r\n") + "\r\n") },
    ]),
  );
  const r = await scanDir(dir, {}, 1024 * 1024 * 1024, 4096);
  assert.deepEqual(findingOf(r, small), { file: "exports.zip!settings.reg", line: 2 });
  assert.deepEqual(findingOf(r, big), { file: "exports.zip!big.log", line: 300 });
});

test("archives nested deeper than maxDepth are skipped with a reason naming the limit", async (t) => {
  const dir = tempDir(t);
  const [shallow, deep] = [awsId(), awsId()];
  const level3 = zipOf([{ name: "deep.txt", data: fileWith(deep, 1) }]);
  const level2 = zipOf([
    { name: "l3.zip", data: level3 },
    { name: "shallow.txt", data: fileWith(shallow, 1) },
  ]);
  writeFileSync(join(dir, "l1.zip"), zipOf([{ name: "l2.zip", data: level2 }]));
  const r = await scanDir(dir, { maxDepth: 2 });
  assert.deepEqual(findingOf(r, shallow), { file: "l1.zip!l2.zip!shallow.txt", line: 1 });
  assert.equal(findingOf(r, deep), undefined);
  assert.match(skippedAt(r, "l1.zip!l2.zip!l3.zip").join(), /scan\.archives\.maxDepth \(2\)/);
  const r3 = await scanDir(dir, { maxDepth: 3 });
  assert.deepEqual(findingOf(r3, deep), { file: "l1.zip!l2.zip!l3.zip!deep.txt", line: 1 });
});

test("a highly compressed entry stops the rest of its archive (maxRatio); the scan goes on", async (t) => {
  const dir = tempDir(t);
  const [before, after, elsewhere, gzAfter] = [awsId(), awsId(), awsId(), awsId()];
  const zeros = Buffer.alloc(50 * 1024 * 1024);
  writeFileSync(
    join(dir, "bomb.zip"),
    zipOf([
      { name: "a.txt", data: fileWith(before, 1) },
      { name: "zeros.bin", data: zeros },
      { name: "b.txt", data: fileWith(after, 1) },
    ]),
  );
  // The same as a gzip stream: ratio is checked while inflating, whatever the header says.
  writeFileSync(
    join(dir, "bomb.tgz"),
    gzipSync(
      await tarOf([
        { name: "zeros.bin", data: zeros },
        { name: "k.txt", data: fileWith(gzAfter, 1) },
      ]),
    ),
  );
  writeFileSync(join(dir, "ok.env"), fileWith(elsewhere, 1));
  const r = await scanDir(dir);
  assert.deepEqual(findingOf(r, before), { file: "bomb.zip!a.txt", line: 1 });
  assert.equal(findingOf(r, after), undefined);
  assert.equal(findingOf(r, gzAfter), undefined);
  assert.deepEqual(findingOf(r, elsewhere), { file: "ok.env", line: 1 });
  assert.match(
    skippedAt(r, "bomb.zip").join(),
    /scan\.archives\.maxRatio reached at bomb\.zip!zeros\.bin.*rest of the archive skipped/,
  );
  assert.match(skippedAt(r, "bomb.tgz").join(), /scan\.archives\.maxRatio/);
});

test("total-size and entry-count budgets cover nested archives and end the archive on disk", async (t) => {
  const dir = tempDir(t);
  const keys = [awsId(), awsId(), awsId(), awsId()];
  const inner = zipOf(keys.slice(2).map((k, i) => ({ name: `n${i}.txt`, data: fileWith(k, 1) })));
  writeFileSync(
    join(dir, "many.zip"),
    zipOf([
      { name: "0.txt", data: fileWith(keys[0]!, 1) },
      { name: "1.txt", data: fileWith(keys[1]!, 1) },
      { name: "inner.zip", data: inner },
    ]),
  );
  const byEntries = await scanDir(dir, { maxEntries: 4 });
  assert.ok(findingOf(byEntries, keys[2]!), "the 4th entry is read");
  assert.equal(findingOf(byEntries, keys[3]!), undefined);
  assert.match(
    skippedAt(byEntries, "many.zip").join(),
    /scan\.archives\.maxEntries reached at many\.zip!inner\.zip!n1\.txt/,
  );

  const size = Buffer.byteLength(fileWith(keys[0]!, 1));
  const byBytes = await scanDir(dir, { maxTotalBytes: size * 2 + 1 });
  assert.ok(findingOf(byBytes, keys[1]!));
  assert.equal(findingOf(byBytes, keys[2]!), undefined);
  assert.match(skippedAt(byBytes, "many.zip").join(), /scan\.archives\.maxTotalBytes/);
});

test("corrupt and truncated archives are skipped with a reason; what came before is scanned", async (t) => {
  const dir = tempDir(t);
  const [first, second, good, afterBad] = [awsId(), awsId(), awsId(), awsId()];
  const tar = await tarOf([
    { name: "first.txt", data: fileWith(first, 1) },
    { name: "pad.bin", data: Buffer.alloc(256 * 1024, 1) },
    { name: "second.txt", data: fileWith(second, 1) },
  ]);
  const tgz = gzipSync(tar);
  writeFileSync(join(dir, "cut.tar.gz"), tgz.subarray(0, Math.floor(tgz.length / 2)));
  writeFileSync(join(dir, "cut.tar"), tar.subarray(0, 2048));
  const zip = zipOf([
    { name: "a.txt", data: fileWith(good, 1) },
    { name: "b.txt", data: fileWith(second, 1) },
  ]);
  // Cut inside the second entry: the central directory is gone, the first entry survives.
  writeFileSync(join(dir, "cut.zip"), zip.subarray(0, zip.indexOf("b.txt") + 10));
  writeFileSync(
    join(dir, "badentry.zip"),
    zipOf([
      { name: "broken.txt", data: "x".repeat(100), rawOverride: Buffer.from([0xff, 0xff, 0xff, 0xff]) },
      { name: "fine.txt", data: fileWith(afterBad, 1) },
    ]),
  );
  writeFileSync(join(dir, "noise.gz"), Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]));
  const r = await scanDir(dir);
  const firstAt = r.findings.filter((f) => f.secret.reveal() === first).map((f) => `${f.file}:${f.line}`);
  assert.deepEqual(firstAt.sort(), ["cut.tar!first.txt:1", "cut.tar.gz!first.txt:1"]);
  assert.equal(findingOf(r, second), undefined);
  assert.match(skippedAt(r, "cut.tar.gz").join(), /corrupt or truncated archive \(unexpected end of file\)/);
  assert.match(skippedAt(r, "cut.tar").join(), /corrupt or truncated archive/);
  assert.deepEqual(findingOf(r, good), { file: "cut.zip!a.txt", line: 1 });
  assert.match(
    skippedAt(r, "cut.zip").join(),
    /corrupt or truncated archive \(.*central directory.*1 entries recovered from local headers, then: entry b\.txt is cut short/,
  );
  assert.match(skippedAt(r, "badentry.zip!broken.txt").join(), /corrupt zip entry/);
  assert.deepEqual(findingOf(r, afterBad), { file: "badentry.zip!fine.txt", line: 1 });
  assert.match(skippedAt(r, "noise.gz").join(), /corrupt or truncated/);
});

test("scan.archives.enabled = false leaves archives alone", async (t) => {
  const dir = tempDir(t);
  const k = awsId();
  writeFileSync(join(dir, "bundle.zip"), zipOf([{ name: "a.env", data: fileWith(k, 1) }]));
  const r = await scanDir(dir, { enabled: false });
  assert.equal(findingOf(r, k), undefined);
});

/** A notebook as Jupyter writes it (indent 1, one JSON string per source line). */
function notebook(cells: unknown[]): string {
  return JSON.stringify({ cells, metadata: {}, nbformat: 4, nbformat_minor: 5 }, null, 1) + "\n";
}

test("notebooks: cell sources and text outputs are scanned at their JSON line; images are not", async (t) => {
  const dir = tempDir(t);
  const [inCode, inOutput, inTraceback, inImage] = [awsId(), awsId(), awsId(), awsId()];
  const text = notebook([
    { cell_type: "markdown", metadata: {}, source: ["# Setup\n", "Some notes\n"] },
    {
      cell_type: "code",
      execution_count: 1,
      metadata: {},
      source: ["import os\n", `os.environ["AWS_ACCESS_KEY_ID"] = "${inCode}"\n`, "print('hi')"],
      outputs: [
        { name: "stdout", output_type: "stream", text: ["loaded\n", `key AWS_ACCESS_KEY_ID=${inOutput}\n`] },
        {
          output_type: "display_data",
          metadata: {},
          data: {
            "image/png": Buffer.from(`AWS_ACCESS_KEY_ID=${inImage}`).toString("base64") + inImage,
            "text/plain": ["<Figure>"],
          },
        },
        {
          output_type: "error",
          ename: "KeyError",
          evalue: "boom",
          traceback: ["\u001b[0;31mKeyError\u001b[0m", `AWS_ACCESS_KEY_ID=\u001b[1m${inTraceback}\u001b[0m`],
        },
      ],
    },
  ]);
  writeFileSync(join(dir, "analysis.ipynb"), text);
  const lineOf = (s: string): number => text.split("\n").findIndex((l) => l.includes(s)) + 1;
  // The same notebook inside a zip keeps its lines.
  writeFileSync(join(dir, "nbs.zip"), zipOf([{ name: "nb/analysis.ipynb", data: text }]));
  const r = await scanDir(dir);
  assert.deepEqual(findingOf(r, inCode), { file: "analysis.ipynb", line: lineOf(inCode) });
  assert.equal(r.findings.filter((f) => f.secret.reveal() === inCode).length, 2);
  assert.ok(r.findings.some((f) => f.file === "nbs.zip!nb/analysis.ipynb" && f.line === lineOf(inCode)));
  assert.deepEqual(findingOf(r, inOutput), { file: "analysis.ipynb", line: lineOf(inOutput) });
  assert.deepEqual(findingOf(r, inTraceback), { file: "analysis.ipynb", line: lineOf(inTraceback) });
  assert.equal(findingOf(r, inImage), undefined, "image outputs are not scanned");
});

test("a malformed notebook is scanned as plain text", async (t) => {
  const dir = tempDir(t);
  const k = awsId();
  writeFileSync(join(dir, "broken.ipynb"), `{"cells": [ {"source": "x" ,,\nAWS_ACCESS_KEY_ID=${k}\n`);
  const r = await scanDir(dir);
  assert.deepEqual(findingOf(r, k), { file: "broken.ipynb", line: 2 });
  assert.match(skippedAt(r, "broken.ipynb").join(), /malformed notebook JSON.*scanned as plain text/);
});

/** A `docker save` tarball in the legacy layout (manifest.json, <id>/layer.tar, <config>.json). */
async function dockerSave(
  env: string[],
  layerFiles: { name: string; data: string }[],
  history: string[],
): Promise<Buffer> {
  const layer = await tarOf(layerFiles);
  const layerId = "a1b2c3d4e5f6".padEnd(64, "0");
  const configName = "f".repeat(64) + ".json";
  const config = {
    architecture: "amd64",
    config: { Env: env, Cmd: ["node", "server.js"], Labels: { maintainer: "ops" } },
    history: history.map((h) => ({ created: "2026-01-01T00:00:00Z", created_by: h })),
    rootfs: { type: "layers", diff_ids: ["sha256:" + layerId] },
  };
  const manifest = [{ Config: configName, RepoTags: ["acme/api:1.4"], Layers: [`${layerId}/layer.tar`] }];
  return tarOf([
    { name: `${layerId}/`, data: "", type: "directory" },
    { name: `${layerId}/VERSION`, data: "1.0" },
    { name: `${layerId}/json`, data: JSON.stringify({ id: layerId, config: { Env: env } }) },
    { name: `${layerId}/layer.tar`, data: layer },
    { name: configName, data: JSON.stringify(config) },
    { name: "manifest.json", data: JSON.stringify(manifest) },
    { name: "repositories", data: JSON.stringify({ "acme/api": { "1.4": layerId } }) },
  ]);
}

test("docker save tarballs: keys in the config Env, the build history and a layer file", async (t) => {
  const dir = tempDir(t);
  const [inEnv, inHistory, inLayer, inWhiteout] = [awsId(), awsId(), awsId(), awsId()];
  const image = await dockerSave(
    ["PATH=/usr/local/bin:/usr/bin", `AWS_ACCESS_KEY_ID=${inEnv}`],
    [
      { name: "etc/app/", data: "" },
      { name: "etc/app/.env", data: fileWith(inLayer, 2) },
      { name: "etc/.wh.old.env", data: `AWS_ACCESS_KEY_ID=${inWhiteout}\n` },
    ].filter((f) => f.data !== ""),
    [
      "/bin/sh -c #(nop) ADD file:abc in /",
      `RUN /bin/sh -c echo AWS_ACCESS_KEY_ID=${inHistory} > /tmp/k # buildkit`,
    ],
  );
  mkdirSync(join(dir, "images"));
  writeFileSync(join(dir, "images", "api.tar"), image);
  // The same image inside a release bundle.
  writeFileSync(join(dir, "bundle.zip"), zipOf([{ name: "images/api.tar", data: image }]));
  const r = await scanDir(dir);
  const inBundle = r.findings
    .filter((f) => f.file.startsWith("bundle.zip!"))
    .map((f) => `${f.file}:${f.line}`);
  assert.deepEqual(inBundle.sort(), [
    "bundle.zip!images/api.tar!acme/api:1.4!config:2",
    "bundle.zip!images/api.tar!acme/api:1.4!config:6",
    "bundle.zip!images/api.tar!acme/api:1.4!layer-a1b2c3d4e5f6!etc/app/.env:2",
  ]);
  assert.deepEqual(findingOf(r, inEnv, "images/"), { file: "images/api.tar!acme/api:1.4!config", line: 2 });
  assert.deepEqual(findingOf(r, inHistory, "images/"), {
    file: "images/api.tar!acme/api:1.4!config",
    line: 6,
  });
  assert.deepEqual(findingOf(r, inLayer, "images/"), {
    file: "images/api.tar!acme/api:1.4!layer-a1b2c3d4e5f6!etc/app/.env",
    line: 2,
  });
  assert.equal(findingOf(r, inWhiteout), undefined, "whiteout files are ignored");
  assert.equal(
    r.findings.filter((f) => f.secret.reveal() === inEnv).length,
    2,
    "the config is scanned once per image file",
  );
});

test("docker save in the OCI layout (blobs/sha256, gzipped layer, no tag) inside a gzip", async (t) => {
  const dir = tempDir(t);
  const [inEnv, inLayer] = [awsId(), awsId()];
  const layer = gzipSync(
    await tarOf([{ name: "srv/settings.py", data: fileWith(inLayer, 3, "AWS_ACCESS_KEY_ID = ") }]),
  );
  const layerHex = "0123456789ab".padEnd(64, "c");
  const configHex = "9876543210fe".padEnd(64, "d");
  const config = JSON.stringify({ config: { Env: [`AWS_ACCESS_KEY_ID=${inEnv}`] }, history: [] });
  const image = await tarOf([
    { name: "blobs/", data: "", type: "directory" },
    { name: "blobs/sha256/", data: "", type: "directory" },
    { name: `blobs/sha256/${configHex}`, data: config },
    { name: `blobs/sha256/${layerHex}`, data: layer },
    { name: "index.json", data: JSON.stringify({ schemaVersion: 2, manifests: [] }) },
    {
      name: "manifest.json",
      data: JSON.stringify([
        { Config: `blobs/sha256/${configHex}`, RepoTags: null, Layers: [`blobs/sha256/${layerHex}`] },
      ]),
    },
    { name: "oci-layout", data: '{"imageLayoutVersion":"1.0.0"}' },
  ]);
  writeFileSync(join(dir, "image.tar.gz"), gzipSync(image));
  const r = await scanDir(dir);
  assert.deepEqual(findingOf(r, inEnv), { file: "image.tar.gz!image-9876543210fe!config", line: 1 });
  assert.deepEqual(findingOf(r, inLayer), {
    file: "image.tar.gz!image-9876543210fe!layer-0123456789ab!srv/settings.py",
    line: 3,
  });
  assert.equal(r.findings.length, 2, r.findings.map((f) => f.file).join());
});

test("an archive larger than scan.maxFileSize is still opened; its large entries are skipped", async (t) => {
  const dir = tempDir(t);
  const k = awsId();
  const big = "y".repeat(4096);
  writeFileSync(
    join(dir, "big.zip"),
    zipOf([
      { name: "small.env", data: fileWith(k, 1) },
      { name: "big.txt", data: big, method: 0 },
    ]),
  );
  const r = await scanDir(dir, {}, 1024);
  assert.deepEqual(findingOf(r, k), { file: "big.zip!small.env", line: 1 });
  assert.match(skippedAt(r, "big.zip!big.txt").join(), /larger than scan\.maxFileSize \(4096 > 1024 bytes\)/);
});

test("scan.exclude patterns and .git/ folders apply to paths inside archives too", async (t) => {
  const dir = tempDir(t);
  const [kept, vendored, inGit] = [awsId(), awsId(), awsId()];
  const tgz = gzipSync(
    await tarOf([
      { name: "app/.env", data: fileWith(kept, 1) },
      { name: "app/vendor/lib.env", data: fileWith(vendored, 1) },
      { name: "app/.git/config", data: fileWith(inGit, 1) },
    ]),
  );
  writeFileSync(join(dir, "src.tgz"), tgz);
  const r = await scanDir(dir, {}, 1024 * 1024 * 1024, undefined, ["vendor/"]);
  assert.deepEqual(findingOf(r, kept), { file: "src.tgz!app/.env", line: 1 });
  assert.equal(findingOf(r, vendored), undefined);
  assert.equal(findingOf(r, inGit), undefined);
});

test("randomly damaged archives never crash the scan (seeded byte flips and cuts)", async (t) => {
  const dir = tempDir(t);
  const k = awsId();
  const inner = zipOf([
    { name: "a.txt", data: "hello ".repeat(500) },
    { name: "b.env", data: fileWith(k, 2) },
  ]);
  const tar = await tarOf([
    { name: "in.zip", data: inner },
    { name: "c.txt", data: "abc\n".repeat(2000) },
    { name: "n.gz", data: gzipSync("zzz\n".repeat(500)) },
  ]);
  const bases: Record<string, Buffer> = {
    "t.tgz": gzipSync(tar),
    "t.tar": tar,
    "t.zip": zipOf([{ name: "in.tgz", data: gzipSync(tar) }]),
  };
  const rnd = createExampleGen("archive-damage");
  const int = (n: number): number => Math.floor(Number("0." + rnd.digits(9)) * n);
  for (let round = 0; round < 30; round++) {
    for (const [name, base] of Object.entries(bases)) {
      const b = Buffer.from(base);
      for (let f = 0; f < 1 + int(4); f++) b[int(b.length)] = int(256);
      writeFileSync(join(dir, name), round % 2 === 0 ? b : b.subarray(0, int(b.length)));
    }
    const r = await scanDir(dir);
    assert.ok(r.stats.files >= 0);
  }
});

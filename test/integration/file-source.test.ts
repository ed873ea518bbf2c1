import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, openSync, closeSync, symlinkSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { test } from "node:test";
import { loadConfig } from "../../src/config/load.ts";
import { systemClock } from "../../src/core/clock.ts";
import { formatToken } from "../../src/core/token-format.ts";
import { fileSource } from "../../src/sources/file-source.ts";
import { streamSource } from "../../src/sources/stream-source.ts";
import { createScanService } from "../../src/services/scan/scan-service.ts";
import { tempDir } from "../helpers/tmp.ts";

function scanner(cwd: string) {
  const { config } = loadConfig({ cwd, env: {} });
  return createScanService({ config, clock: systemClock });
}

async function scanDir(dir: string, extra: { chunkSize?: number; maxFileSize?: number } = {}) {
  const s = scanner(dir);
  return s.scan({
    sources: [
      fileSource({
        paths: ["."],
        cwd: dir,
        maxFileSize: extra.maxFileSize ?? 1024 * 1024 * 1024,
        gitignore: true,
        exclude: [],
        overlap: s.catalogue.maxWindow,
        chunkSize: extra.chunkSize,
      }),
    ],
  });
}

test(".gitignore and .keywardenignore are honoured, nested ones too; .git is never read", async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, "sub", "deeper"), { recursive: true });
  mkdirSync(join(dir, ".git"));
  mkdirSync(join(dir, "build"));
  const line = (): string => `TOKEN=${formatToken("svc")}\n`;
  writeFileSync(join(dir, ".gitignore"), "build/\n*.log\n");
  writeFileSync(join(dir, "sub", ".keywardenignore"), "skipped.txt\n");
  writeFileSync(join(dir, "build", "out.js"), line());
  writeFileSync(join(dir, "app.log"), line());
  writeFileSync(join(dir, ".git", "config"), line());
  writeFileSync(join(dir, "sub", "skipped.txt"), line());
  writeFileSync(join(dir, "sub", "deeper", "found.env"), line());
  writeFileSync(join(dir, "found.env"), line());
  const r = await scanDir(dir);
  assert.deepEqual(r.findings.map((f) => f.file).sort(), ["found.env", "sub/deeper/found.env"]);
});

test("binaries, oversized files, broken links, links out of the tree and FIFOs are skipped with reasons", async (t) => {
  const dir = tempDir(t);
  const outside = tempDir(t);
  writeFileSync(join(outside, "secret.env"), `TOKEN=${formatToken("svc")}\n`);
  writeFileSync(
    join(dir, "image.bin"),
    Buffer.concat([Buffer.from(`TOKEN=${formatToken("svc")}`), Buffer.from([0, 1, 2, 0])]),
  );
  writeFileSync(join(dir, "big.txt"), "x".repeat(2048));
  symlinkSync(join(dir, "nowhere"), join(dir, "broken"));
  symlinkSync(join(outside, "secret.env"), join(dir, "escape.env"));
  // Nobody writes to it: reading it would wait forever.
  execFileSync("mkfifo", [join(dir, "pipe")]);
  const r = await scanDir(dir, { maxFileSize: 1024 });
  assert.equal(r.findings.length, 0);
  const reasons = Object.fromEntries(r.skipped.map((s) => [s.path, s.reason]));
  assert.equal(reasons["image.bin"], "binary content");
  assert.match(reasons["big.txt"]!, /larger than scan\.maxFileSize/);
  assert.equal(reasons.broken, "broken symbolic link");
  assert.equal(reasons["escape.env"], "symbolic link out of the scanned tree");
  assert.equal(reasons.pipe, "not a regular file");
});

test(
  "unreadable files are skipped, not fatal",
  { skip: process.getuid?.() === 0 ? "root reads everything" : false },
  async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, "locked.env"), "x");
    chmodSync(join(dir, "locked.env"), 0);
    const r = await scanDir(dir);
    assert.deepEqual(r.skipped, [{ path: "locked.env", reason: "permission denied" }]);
  },
);

test("invalid UTF-8 is scanned as Latin-1 and reported", async (t) => {
  const dir = tempDir(t);
  const token = formatToken("svc");
  writeFileSync(
    join(dir, "latin.txt"),
    Buffer.concat([Buffer.from([0xe9, 0xff, 0x0a]), Buffer.from(`k=${token}\n`)]),
  );
  const r = await scanDir(dir);
  assert.equal(r.findings.length, 1);
  assert.equal(r.findings[0]!.line, 2);
  assert.deepEqual(r.skipped, [{ path: "latin.txt", reason: "invalid UTF-8: scanned as Latin-1" }]);
});

test("10,000 nested folders are walked without recursion", async (t) => {
  const dir = tempDir(t);
  // Build the chain with short names, relative to keep paths under PATH_MAX per mkdir call.
  let cur = dir;
  const parts: string[] = [];
  for (let i = 0; i < 10_000; i++) parts.push("d");
  // mkdir in slices so no single path exceeds the OS limit.
  for (let i = 0; i < parts.length; i += 1000) {
    cur = join(cur, ...parts.slice(i, i + 1000));
    try {
      mkdirSync(cur, { recursive: true });
    } catch {
      break;
    }
  }
  const r = await scanDir(dir);
  assert.equal(r.findings.length, 0);
});

test("a large one-line file is scanned in overlapping chunks: a key across a chunk boundary is found once, at the right column", async (t) => {
  const dir = tempDir(t);
  const token = formatToken("svc");
  const chunk = 64 * 1024;
  const file = join(dir, "one-line.min.js");
  const fd = openSync(file, "w");
  // Put the token so that it straddles the first chunk boundary, then another far later.
  const before = chunk - 20;
  writeSync(fd, "a".repeat(before - 1) + " ");
  writeSync(fd, token);
  writeSync(fd, " " + "b".repeat(chunk * 5));
  writeSync(fd, " " + token + " ");
  closeSync(fd);
  const r = await scanDir(dir, { chunkSize: chunk });
  assert.deepEqual(
    r.findings.map((f) => [f.line, f.column]),
    [
      [1, before + 1],
      [1, before + token.length + 1 + chunk * 5 + 2],
    ],
  );
  assert.equal(r.stats.files, 1);
});

/** `text` in UTF-16 of the byte order `order`, with its byte order mark unless `bom` is false. */
function utf16(text: string, order: "le" | "be", bom = true): Buffer {
  const le = Buffer.from((bom ? "\uFEFF" : "") + text, "utf16le");
  return order === "le" ? le : Buffer.from(le).swap16();
}

test("UTF-16 text (what Windows tools write) is decoded and scanned, not skipped as binary", async (t) => {
  const dir = tempDir(t);
  const token = formatToken("svc");
  const text = `# exported by PowerShell\r\n$env:KW_TOKEN = "${token}"\r\n`;
  writeFileSync(join(dir, "le-bom.ps1"), utf16(text, "le"));
  writeFileSync(join(dir, "be-bom.txt"), utf16(text, "be"));
  writeFileSync(join(dir, "le-nobom.txt"), utf16(text, "le", false));
  // Odd length: a stray last byte is dropped, not an error.
  writeFileSync(join(dir, "odd.txt"), Buffer.concat([utf16(text, "le"), Buffer.from([0x41])]));
  // Still binary: UTF-32 (not read), and NUL-laden bytes that are not UTF-16 text.
  writeFileSync(join(dir, "utf32.txt"), Buffer.concat([Buffer.from([0xff, 0xfe, 0, 0]), Buffer.from(token)]));
  writeFileSync(
    join(dir, "blob.bin"),
    Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d, 0, 0]), Buffer.from(` ${token} `)]),
  );
  const r = await scanDir(dir);
  assert.deepEqual(r.findings.map((f) => `${f.file}:${f.line}:${f.column}`).sort(), [
    "be-bom.txt:2:18",
    "le-bom.ps1:2:18",
    "le-nobom.txt:2:18",
    "odd.txt:2:18",
  ]);
  assert.deepEqual(r.skipped.map((s) => `${s.path}: ${s.reason}`).sort(), [
    "blob.bin: binary content",
    "utf32.txt: binary content",
  ]);
});

test("a large UTF-16 file is scanned in chunks: a key across a chunk boundary is found once, at the right column", async (t) => {
  const dir = tempDir(t);
  const token = formatToken("svc");
  const chunk = 64 * 1024;
  // In characters: the token starts 10 characters (20 bytes) before the first block's end,
  // counting the 2-byte mark; blocks of an odd size split a character of UTF-16BE too.
  const before = chunk / 2 - 11;
  const text = "a".repeat(before - 1) + " " + token + " " + "b".repeat(chunk) + "\n  " + token + "\n";
  for (const order of ["le", "be"] as const) {
    writeFileSync(join(dir, `big-${order}.txt`), utf16(text, order));
  }
  for (const chunkSize of [chunk, chunk + 1]) {
    const r = await scanDir(dir, { chunkSize });
    assert.deepEqual(
      r.findings.map((f) => `${f.file}:${f.line}:${f.column}`).sort(),
      [`big-be.txt:1:${before + 1}`, "big-be.txt:2:3", `big-le.txt:1:${before + 1}`, "big-le.txt:2:3"],
      `chunks of ${chunkSize} bytes`,
    );
  }
});

test("file and folder names that are not UTF-8 are read (Linux allows any bytes), and shown with U+FFFD", async (t) => {
  const dir = tempDir(t);
  const token = formatToken("svc");
  const raw = (...parts: (string | number[])[]) =>
    Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p) : Buffer.from(p))));
  writeFileSync(raw(dir, "/bad", [0xff], "name.env"), `TOKEN=${token}\n`);
  mkdirSync(raw(dir, "/folder", [0xe9]));
  writeFileSync(raw(dir, "/folder", [0xe9], "/inner.env"), `\nTOKEN=${token}\n`);
  writeFileSync(raw(dir, "/folder", [0xe9], "/caf\u00e9.env"), `\n\nTOKEN=${token}\n`);
  const r = await scanDir(dir);
  assert.deepEqual(r.skipped, []);
  assert.deepEqual(r.findings.map((f) => `${f.file}:${f.line}`).sort(), [
    "bad\uFFFDname.env:1",
    "folder\uFFFD/caf\u00e9.env:3",
    "folder\uFFFD/inner.env:2",
  ]);
});

test("UTF-16 on stdin (a Windows pipe) is decoded, in whatever pieces it arrives", async () => {
  const s = scanner("/");
  const token = formatToken("svc");
  for (const order of ["le", "be"] as const) {
    const bytes = utf16(`first line\nKW_TOKEN=${token}\n`, order);
    // Pieces of 3 bytes: characters split across them.
    const pieces = Array.from({ length: Math.ceil(bytes.length / 3) }, (_, i) =>
      bytes.subarray(3 * i, 3 * i + 3),
    );
    const r = await s.scan({ sources: [streamSource(Readable.from(pieces), "-", s.catalogue.maxWindow)] });
    assert.deepEqual(
      r.findings.map((f) => [f.line, f.column, f.secret.reveal()]),
      [[2, 10, token]],
      order,
    );
    assert.deepEqual(r.skipped, [], order);
  }
});

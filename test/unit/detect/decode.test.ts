import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { detectInText, MAX_DECODE_DEPTH, type DecodeOptions } from "../../../src/detect/decode.ts";
import { blobLayers } from "../../../src/detect/decoders/base64.ts";
import { escapeLayers } from "../../../src/detect/decoders/escapes.ts";
import { DECODER_NAMES, type DecoderName } from "../../../src/detect/decoders/layer.ts";
import { bytesToText } from "../../../src/detect/decoders/text-check.ts";
import { compileCatalogue, scanText } from "../../../src/detect/engine.ts";
import { createExampleGen } from "../../../src/detect/example-gen.ts";
import { testRule as rule } from "../../helpers/rules.ts";

/** A token rule, a rule that needs a quoted key name as context, and a generic rule. */
const catalogue = compileCatalogue([
  rule({ id: "t-token", keywords: ["acme_"], pattern: /\b(acme_[a-z0-9]{16})\b/ }),
  rule({
    id: "t-context",
    keywords: ["acme_secret"],
    pattern: /"acme_secret"\s{0,3}:\s{0,3}"([A-Za-z0-9]{24})"/,
  }),
  rule({ id: "t-blob", keywords: ["blob:"], pattern: /blob: ([A-Za-z0-9+/=]{20,200})/ }),
  rule({
    id: "t-generic",
    keywords: ["password"],
    pattern: /password\s{0,3}[:=]\s{0,3}([A-Za-z0-9+/=]{8,200})/,
    generic: true,
  }),
]);

const gen = createExampleGen("decode-test");
const token = (): string => "acme_" + gen.chars("abcdefghijklmnopqrstuvwxyz0123456789", 16);
const b64 = (s: string): string => Buffer.from(s).toString("base64");
const ALL: DecodeOptions = { depth: 1, decoders: DECODER_NAMES };
const only = (...decoders: DecoderName[]): DecodeOptions => ({ depth: 1, decoders });

/** The decoded matches of `text`, as [rule, decoder, encoded span text, secret]. */
function decoded(text: string, options: DecodeOptions = ALL): [string, string, string, string][] {
  return detectInText(text, catalogue, options)
    .filter((m) => m.decoder !== undefined)
    .map((m) => [m.rule.id, m.decoder!, text.slice(m.start, m.end), m.secret]);
}

test("base64: a blob of text is decoded and its match points at the encoded span", () => {
  const t = token();
  const blob = b64(`config:\n  token = ${t}\n`);
  const text = `kind: Secret\ndata:\n  app.yaml: ${blob}\n`;
  const [m, ...rest] = detectInText(text, catalogue);
  assert.equal(rest.length, 0);
  assert.ok(m !== undefined);
  assert.equal(m.decoder, "base64");
  assert.equal(m.secret, t);
  // The span covers whole 4-character groups inside the blob and decodes to the token.
  assert.ok(m.start >= text.indexOf(blob) && m.end <= text.indexOf(blob) + blob.length);
  assert.equal((m.start - text.indexOf(blob)) % 4, 0);
  assert.ok(Buffer.from(text.slice(m.start, m.end), "base64").toString().includes(t));
});

test("base64url: URL-safe blobs decode too and are named so", () => {
  // Bytes chosen so the encoding has - and _ in it.
  const t = token();
  const payload = `{"k":"${t}","pad":"\u00ff\u00fe??>>"}`;
  const blob = Buffer.from(payload).toString("base64url");
  assert.match(blob, /[-_]/);
  assert.deepEqual(
    decoded(`jwt=${blob}`).map((d) => d.slice(0, 2)),
    [["t-token", "base64url"]],
  );
  assert.deepEqual(decoded(`jwt=${blob}`, only("base64")), []);
});

test("base64: invalid, too short and binary blobs give nothing", () => {
  const t = token();
  // Too short: 15 bytes and less encode to fewer than 20 characters.
  assert.deepEqual(blobLayers(b64("short text!"), new Set(["base64"])), []);
  // Not base64 of text: identifiers, paths, hashes.
  for (const s of [
    "getObjectAttributesCommandOutput",
    "src/services/scan/scan-service.ts",
    "sha512-" + randomBytes(64).toString("base64"),
  ]) {
    assert.deepEqual(blobLayers(s, new Set(["base64", "base64url"])), [], s);
  }
  // Binary output is rejected even when it holds a token.
  const binary = Buffer.concat([Buffer.from([0, 1, 2, 3, 0x89, 0x50]), Buffer.from(` ${t} `)]);
  assert.deepEqual(decoded(`img: ${binary.toString("base64")}`), []);
  assert.equal(bytesToText(Uint8Array.of(0x41, 0x00, 0x42)), undefined);
  assert.equal(bytesToText(Uint8Array.of(0xc3, 0x28)), undefined); // invalid UTF-8
  assert.equal(bytesToText(Buffer.from("caf\u00e9 ok")), "caf\u00e9 ok");
});

test("base64: the probing scan finds a blob wherever it sits among other tokens", () => {
  const blob = b64("user: admin\npass: correct horse\n");
  const words = ["a", "bc", "def.ghij", "klmnopqrstu", "v-w_x", "yz0123456789abcdefgh"];
  for (let pad = 0; pad < 24; pad++) {
    for (const w of words) {
      const text = `${"x".repeat(pad)} ${w} (${w}) ${blob}\n${w}.${w}`;
      const layers = blobLayers(text, new Set(["base64"]));
      assert.deepEqual(
        layers.map((l) => [l.start, l.text]),
        [[text.indexOf(blob), "user: admin\npass: correct horse\n"]],
        `pad ${pad} word ${w}`,
      );
    }
  }
});

test("hex: even runs of at least 32 digits that decode to text", () => {
  const t = token();
  const hex = Buffer.from(`token=${t}`).toString("hex");
  assert.deepEqual(decoded(`data: ${hex}\n`), [["t-token", "hex", Buffer.from(t).toString("hex"), t]]);
  // Odd length, too short, binary: nothing.
  assert.deepEqual(blobLayers(hex.slice(1), new Set(["hex"])), []);
  assert.deepEqual(blobLayers(Buffer.from("acme_short").toString("hex"), new Set(["hex"])), []);
  assert.deepEqual(blobLayers(randomBytes(32).toString("hex"), new Set(["hex"])), []);
  assert.deepEqual(decoded(`data: ${hex}\n`, only("base64", "url", "json")), []);
});

test("url: %XX sequences are decoded around the escapes, arithmetic is not", () => {
  const t = token();
  const text = `<a href="https://example.test/login?next=${encodeURIComponent(`https://api.test/cb?k=${t}`)}">`;
  // Plain: `%3Dacme_` has no word boundary before the token.
  assert.deepEqual(scanText(text, catalogue), []);
  assert.deepEqual(decoded(text), [["t-token", "url", t, t]]);
  assert.deepEqual(decoded(text, only("json", "base64")), []);
  // `x%10` is a remainder, and an invalid escape is left alone.
  const layers = escapeLayers("y = x%10 + acme_ %zz", new Set(["url"]), new Set(), () => true);
  assert.deepEqual(layers, []);
});

test('json: string escapes are decoded (\\n, \\", \\u, \\/)', () => {
  const t = token();
  // A newline escape glued to the token hides its word boundary.
  const glued = `{"text": "see below:\\n${t}"}`;
  assert.deepEqual(scanText(glued, catalogue), []);
  assert.deepEqual(decoded(glued), [["t-token", "json", t, t]]);
  // JSON inside a JSON string: the key's quotes are escaped.
  const secret = gen.alnum(24);
  const nested = `{"body": "{\\"acme_secret\\": \\"${secret}\\"}"}`;
  assert.deepEqual(scanText(nested, catalogue), []);
  assert.deepEqual(decoded(nested), [["t-context", "json", secret, secret]]);
  // \u escapes can hide the keyword itself.
  const hidden = `"\\u0061cme_${t.slice(5)}"`;
  assert.deepEqual(decoded(hidden), [["t-token", "json", hidden.slice(1, -1), t]]);
  assert.deepEqual(decoded(hidden, only("url", "base64")), []);
});

test("backslash: \\xNN and octal escapes are decoded", () => {
  const t = token();
  const hexEscaped = `s = "\\x61\\x63me_${t.slice(5)}"`;
  const octalEscaped = `s = "\\141\\143me_${t.slice(5)}"`;
  assert.deepEqual(decoded(hexEscaped), [["t-token", "backslash", hexEscaped.slice(5, -1), t]]);
  assert.deepEqual(decoded(octalEscaped), [["t-token", "backslash", octalEscaped.slice(5, -1), t]]);
  assert.deepEqual(decoded(hexEscaped, only("json")), []);
});

test("nested encodings are decoded only to the configured depth", () => {
  const t = token();
  const text = `https://x.test/?state=${encodeURIComponent(`q=1&b=${b64(`token: ${t}`)}`)}`;
  const hexInB64 = b64(`payload ${Buffer.from(`k=${t}`).toString("hex")} end`);
  assert.deepEqual(decoded(`v: ${hexInB64}`, { depth: 1, decoders: DECODER_NAMES }), []);
  assert.deepEqual(
    decoded(`v: ${hexInB64}`, { depth: 2, decoders: DECODER_NAMES }).map((d) => d.slice(0, 2)),
    [["t-token", "base64>hex"]],
  );
  // Three levels: URL-encoded base64 of hex.
  const three = `u=${encodeURIComponent(`a=b&c=${hexInB64}`)}%2B`;
  assert.equal(decoded(three, { depth: 2, decoders: ["url", "base64", "hex"] }).length, 0);
  assert.deepEqual(
    decoded(three, { depth: 3, decoders: ["url", "base64", "hex"] }).map((d) => d.slice(0, 2)),
    [["t-token", "url>base64>hex"]],
  );
  // Depth is capped, and 0 turns decoding off: the plain scan alone.
  assert.equal(MAX_DECODE_DEPTH, 3);
  assert.deepEqual(decoded(three, { depth: 9, decoders: ["url", "base64", "hex"] }).length, 1);
  assert.deepEqual(
    detectInText(text, catalogue, { depth: 0, decoders: DECODER_NAMES }),
    scanText(text, catalogue),
  );
});

test("one secret found plain and decoded on one span is reported once, plain", () => {
  const t = token();
  // The token needs no decoding, but the region around the escapes is decoded too.
  const text = `{"msg": "line one\\nline two ${t} \\"quoted\\""}`;
  const all = detectInText(text, catalogue);
  assert.equal(all.length, 1);
  assert.equal(all[0]!.decoder, undefined);
  // A decoded match inside a plain provider match is dropped; inside a generic one it stays.
  const blob = b64(`{"x": 1, "token": "${t}"}`);
  const ids = (text: string): [string, string | undefined][] =>
    detectInText(text, catalogue).map((m) => [m.rule.id, m.decoder]);
  assert.deepEqual(ids(`blob: ${blob}`), [["t-blob", undefined]]);
  assert.deepEqual(ids(`password = ${blob}`), [
    ["t-generic", undefined],
    ["t-token", "base64"],
  ]);
});

test("decoded text is only scanned near keywords or where an escape could hide one", () => {
  // Escapes without any keyword nearby produce no layer at all.
  const noise = `printf("%d items\\n", n); const re = /a\\.b/;`;
  const hasKeyword = (): boolean => false;
  assert.deepEqual(escapeLayers(noise, new Set(DECODER_NAMES), new Set([0x61]), hasKeyword), []);
});

test("an escape to a keyword character is decoded only where it completes a keyword", () => {
  const hasKeyword = (): boolean => false;
  const chars = new Set(Array.from({ length: 5 }, (_, i) => "acme_".charCodeAt(i)));
  const probe = {
    reach: 5,
    covers: (decoded: string, at: number): boolean => {
      for (let i = decoded.indexOf("acme_"); i >= 0; i = decoded.indexOf("acme_", i + 1)) {
        if (i <= at && at < i + 5) return true;
      }
      return false;
    },
  };
  const json = new Set<DecoderName>(["json"]);
  // "\u0061" decodes to "a", a keyword character, but no keyword forms around it.
  const noise = `{"name": "x\\u0061y", "other": "${"z".repeat(40)}"}`;
  assert.equal(escapeLayers(noise, json, chars, hasKeyword).length, 1);
  assert.deepEqual(escapeLayers(noise, json, chars, hasKeyword, probe), []);
  // Here it completes "acme_", so the region is decoded and the token found.
  const t = token();
  const hidden = `{"key": "\\u0061${t.slice(1)}"}`;
  const layers = escapeLayers(hidden, json, chars, hasKeyword, probe);
  assert.equal(layers.length, 1);
  assert.ok(layers[0]!.text.includes(t));
  assert.equal(detectInText(hidden, catalogue, { depth: 1, decoders: ["json"] })[0]?.secret, t);
  // Escapes denser than the first window: the window widens until the keyword fits.
  const dense = Array.from(
    { length: t.length },
    (_, i) => "\\u" + t.charCodeAt(i).toString(16).padStart(4, "0"),
  ).join("");
  const found = detectInText(`{"pad": "${"y".repeat(60)}", "key": "${dense}"}`, catalogue, {
    depth: 1,
    decoders: ["json"],
  });
  assert.equal(found[0]?.secret, t);
});

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { inspect } from "node:util";
import { test } from "node:test";
import { ERRORS, KeywardenError, isKeywardenError } from "../../../src/core/errors.ts";
import { ID_PREFIXES, isId, newId } from "../../../src/core/ids.ts";
import { maskSecret, parseFailure, redactText, redactUrl } from "../../../src/core/redact.ts";
import { err, ok, unwrap } from "../../../src/core/result.ts";
import { Secret } from "../../../src/core/secret.ts";
import { formatToken, isValidToken } from "../../../src/core/token-format.ts";
import { fixedClock } from "../../helpers/clock.ts";

const root = join(import.meta.dirname, "../../..");

test("docs/errors.md lists every catalogue code, and only those", () => {
  const doc = readFileSync(join(root, "docs/errors.md"), "utf8");
  const documented = new Set([...doc.matchAll(/`(KW_ERR_[A-Z0-9_]+)`/g)].map((m) => m[1]));
  assert.deepEqual([...documented].sort(), Object.keys(ERRORS).sort());
});

test("error codes follow KW_ERR_<AREA>_<WHAT> with a status and exit code", () => {
  for (const [code, spec] of Object.entries(ERRORS)) {
    assert.match(code, /^KW_ERR_[A-Z0-9]+(_[A-Z0-9]+)*$/);
    assert.ok(spec.http >= 400 && spec.http < 600, code);
    assert.ok([1, 2].includes(spec.exit), code);
  }
});

test("KeywardenError renders its message from params and carries status, exit code and hint", () => {
  const e = new KeywardenError("KW_ERR_SCAN_PATH_NOT_FOUND", { path: "./nope" });
  assert.equal(e.message, "path not found: ./nope");
  assert.equal(e.httpStatus, 404);
  assert.equal(e.exitCode, 2);
  assert.ok(isKeywardenError(e, "KW_ERR_SCAN_PATH_NOT_FOUND"));
  assert.ok(!isKeywardenError(new Error("x")));
});

test("Result: ok, err and unwrap", () => {
  assert.equal(unwrap(ok(3)), 3);
  assert.throws(() => unwrap(err(new Error("boom"))), /boom/);
  const r = err("plain");
  assert.equal(r.ok, false);
});

test("Secret never prints its value", () => {
  const value = "sk_" + "live_" + "A1b2C3d4E5f6G7h8";
  const s = new Secret(value);
  assert.equal(String(s), "[Secret]");
  assert.equal(`<${s.toString()}>`, "<[Secret]>");
  assert.equal([s].join(""), "[Secret]");
  assert.equal(JSON.stringify({ s }), '{"s":"[Secret]"}');
  assert.equal(inspect(s), "[Secret]");
  assert.ok(!inspect({ nested: { s } }, { depth: 5 }).includes(value));
  assert.equal(s.reveal(), value);
  assert.equal(s.masked(), "sk_l****h8");
});

test("maskSecret shows at most the first 4 and last 2 characters, nothing of short values", () => {
  assert.equal(maskSecret("abcdefghijklmnop"), "abcd****op");
  assert.equal(maskSecret("hunter2"), "****");
  assert.equal(maskSecret("12345678901"), "****");
  assert.equal(
    redactText("a=abcdefghijklmnop;b=abcdefghijklmnop", ["abcdefghijklmnop"]),
    "a=abcd****op;b=abcd****op",
  );
  assert.equal(redactUrl("postgres://app:s3cr3t@db:5432/app"), "postgres://app:****@db:5432/app");
  assert.equal(redactUrl("postgres://db:5432/app"), "postgres://db:5432/app");
  assert.equal(
    redactUrl("postgres://app@db/app?sslmode=require&password=s3cr3t&application_name=kw"),
    "postgres://app@db/app?sslmode=require&password=****&application_name=kw",
  );
  assert.equal(
    redactUrl("postgres://app:a@db/app?sslpassword=x&pass%77ord=y&api_token=z#frag"),
    "postgres://app:****@db/app?sslpassword=****&pass%77ord=****&api_token=****#frag",
  );
  assert.equal(redactUrl("https://h/p?limit=5&key="), "https://h/p?limit=5&key=****");
});

test("ids carry their prefix, sort by time and validate", () => {
  const a = newId("secret", fixedClock("2026-01-01T00:00:00Z"));
  const b = newId("secret", fixedClock("2026-01-02T00:00:00Z"));
  assert.match(a, /^sec_[0-9A-HJKMNP-TV-Z]{26}$/);
  assert.ok(a < b);
  assert.ok(isId(a, "secret"));
  assert.ok(!isId(a, "version"));
  assert.equal(new Set(Object.values(ID_PREFIXES)).size, Object.keys(ID_PREFIXES).length);
});

test("Keywarden tokens carry a checksum that detects any single change", () => {
  const t = formatToken("svc");
  assert.match(t, /^kw_svc_[0-9A-Za-z]{43}_[0-9A-Za-z]{6}$/);
  assert.ok(isValidToken(t));
  const i = 10;
  const flipped = t.slice(0, i) + (t[i] === "a" ? "b" : "a") + t.slice(i + 1);
  assert.ok(!isValidToken(flipped));
});

test("a parse failure keeps the parser's position and none of the text it failed on", async () => {
  const { parse } = await import("smol-toml");
  const secret = ["sk", "_live_", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4"].join("");
  const failure = (f: () => unknown): unknown => {
    try {
      f();
    } catch (e) {
      return e;
    }
    assert.fail("it parsed");
  };
  const cases: [unknown, "JSON" | "TOML", string][] = [
    [failure(() => JSON.parse(`STRIPE=${secret}`)), "JSON", "not valid JSON"],
    [failure(() => JSON.parse(`{"a":1} ${secret}`)), "JSON", "not valid JSON (line 1, column 9)"],
    [
      failure(() => JSON.parse(`{"a": "${secret}`)),
      "JSON",
      `not valid JSON (line 1, column ${8 + secret.length})`,
    ],
    [failure(() => JSON.parse("")), "JSON", "not valid JSON (it ends too early)"],
    [failure(() => parse(`a = 1\nSTRIPE=${secret}\n`)), "TOML", "not valid TOML (line 2, column 8)"],
  ];
  for (const [e, format, reason] of cases) {
    assert.equal(parseFailure(e, format), reason);
    assert.ok(!parseFailure(e, format).includes(secret.slice(0, 8)));
  }
});

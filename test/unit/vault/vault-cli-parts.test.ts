import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDotenv, renderExport } from "../../../src/cli/commands/export.ts";
import { childEnv } from "../../../src/cli/commands/run.ts";
import { unquoted } from "../../../src/core/redact.ts";
import { formatDuration, parseDuration } from "../../../src/cli/commands/secrets.ts";
import { resolveHome } from "../../../src/cli/home.ts";
import { isKeywardenError } from "../../../src/core/errors.ts";
import { parseEnvironmentPath, parseSecretPath } from "../../../src/services/vault/secret-path.ts";

test("secret paths are project/environment/NAME with NAME usable as a variable", () => {
  assert.deepEqual(parseSecretPath("payments/prod/STRIPE_KEY"), {
    project: "payments",
    environment: "prod",
    name: "STRIPE_KEY",
    path: "payments/prod/STRIPE_KEY",
  });
  for (const bad of ["a/b", "a/b/c/d", "/b/C", "a//C", "a/b/1X", "a/b/X-Y", "a/b/", "../b/C", "a/b/C\n"]) {
    assert.throws(
      () => parseSecretPath(bad),
      (e) => isKeywardenError(e, "KW_ERR_VAULT_PATH_INVALID"),
      bad,
    );
  }
  assert.equal(parseEnvironmentPath("payments/prod/").path, "payments/prod");
  assert.throws(
    () => parseEnvironmentPath("payments"),
    (e) => isKeywardenError(e, "KW_ERR_VAULT_PATH_INVALID"),
  );
});

test("home: the configured folder, else XDG_DATA_HOME, else ~/.local/share", () => {
  assert.equal(resolveHome("data", { HOME: "/h" }, "/work"), "/work/data");
  assert.equal(resolveHome("", { HOME: "/h", XDG_DATA_HOME: "/x" }, "/work"), "/x/keywarden");
  assert.equal(
    resolveHome("", { HOME: "/h", XDG_DATA_HOME: "relative" }, "/work"),
    "/h/.local/share/keywarden",
  );
  assert.equal(resolveHome("", { HOME: "/h" }, "/work"), "/h/.local/share/keywarden");
});

test("dotenv export and import round-trip awkward values", () => {
  const entries = [
    { name: "A", value: 'quote " dollar $HOME back \\ slash' },
    { name: "B", value: "two\nlines" },
    { name: "C", value: "plain" },
  ];
  const text = renderExport(entries, "dotenv");
  assert.deepEqual(
    parseDotenv(text, "x.env").map(({ name, value }) => ({ name, value })),
    entries,
  );
  assert.deepEqual(
    parseDotenv("# c\n\nexport X='single # kept'\nY=bare value # comment\nZ=\n", "f").map((e) => [
      e.name,
      e.value,
      e.line,
    ]),
    [
      ["X", "single # kept", 3],
      ["Y", "bare value", 4],
      ["Z", "", 5],
    ],
  );
  assert.throws(() => parseDotenv("OK=1\nnot a line\n", "f.env"), /f\.env:2/);
  assert.throws(() => parseDotenv('A="open\n', "f.env"), /f\.env:1: unterminated double quote/);
  assert.throws(() => parseDotenv("OK=1\nB='open\nstill\n", "f.env"), /f\.env:2: unterminated single quote/);
  // A quoted value may span lines, as dotenv reads PEM keys; CRLF files too.
  const pem = ["-----BEGIN TEST KEY-----", "bm90IGEgcmVhbCBrZXk=", "-----END TEST KEY-----"];
  assert.deepEqual(
    parseDotenv(`A=1\r\nKEY="${pem.join("\r\n")}" # the key\r\nB='x\r\ny'\r\nC=3\r\n`, "f.env").map((e) => [
      e.name,
      e.value,
      e.line,
    ]),
    [
      ["A", "1", 1],
      ["KEY", pem.join("\n"), 2],
      ["B", "x\ny", 5],
      ["C", "3", 7],
    ],
  );
  assert.equal(renderExport(entries.slice(2), "json"), '{\n  "C": "plain"\n}\n');
});

test("run's child environment has the secrets but not the passphrase, the tokens or the KEK variables", () => {
  const env = childEnv(
    {
      PATH: "/bin",
      KEYWARDEN_PASSPHRASE: "p",
      KEYWARDEN_TOKEN: "t",
      KEYWARDEN_OIDC_TOKEN: "a CI job's JWT",
      KEYWARDEN_MASTER_KEY: "k",
      KEYWARDEN_MASTER_KEY_V2: "k2",
      KEEP: "1",
      PLAIN: "old",
    },
    [{ name: "PLAIN", value: "from vault" }],
    "KEYWARDEN_MASTER_KEY",
  );
  assert.deepEqual(env, { PATH: "/bin", KEEP: "1", PLAIN: "from vault" });
  // A NUL byte cannot go into an environment: the variable is named, never the value.
  const value = "before\0after-secret-part";
  assert.throws(
    () => childEnv({}, [{ name: "BINARY", value }], "KEYWARDEN_MASTER_KEY"),
    (e) =>
      isKeywardenError(e, "KW_ERR_RUN_ENV") &&
      /cannot pass BINARY .*NUL byte/.test(e.message) &&
      !e.message.includes("after-secret"),
  );
});

test("an unexpected error's message loses the value Node quotes", () => {
  assert.equal(
    unquoted("The property 'options.env['K']' must be a string without null bytes. Received 'abc\\x00def'"),
    "The property 'options.env['K']' must be a string without null bytes",
  );
  assert.equal(unquoted("plain failure"), "plain failure");
  assert.equal(
    unquoted("TypeError [ERR_X]: bad. Received 'sk_x'\n    at f (a.js:1:1)\n    at g (b.js:2:2)"),
    "TypeError [ERR_X]: bad\n    at f (a.js:1:1)\n    at g (b.js:2:2)",
    "a stack keeps its frames",
  );
});

test("durations parse and print in whole units", () => {
  assert.equal(parseDuration("90d"), 90 * 86400);
  assert.equal(parseDuration("3600"), 3600);
  assert.equal(parseDuration("2w"), 14 * 86400);
  for (const bad of ["0d", "1y", "-1h", "h"])
    assert.throws(
      () => parseDuration(bad),
      (e) => isKeywardenError(e, "KW_ERR_USAGE"),
    );
  assert.equal(formatDuration(90 * 86400), "12w");
  assert.equal(formatDuration(3 * 86400), "3d");
  assert.equal(formatDuration(59), "59s");
});

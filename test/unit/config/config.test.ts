import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { describeConfig, listOptions, loadConfig, locateKey } from "../../../src/config/load.ts";
import { KeywardenError } from "../../../src/core/errors.ts";
import { tempDir } from "../../helpers/tmp.ts";

test("defaults apply with no file, env or flags, and the result is deeply frozen", (t) => {
  const dir = tempDir(t);
  const { config, file } = loadConfig({ cwd: dir, env: {} });
  assert.equal(file, undefined);
  assert.equal(config.log.level, "warn");
  assert.equal(config.scan.maxFileSize, 100 * 1024 * 1024);
  assert.ok(
    Object.isFrozen(config) && Object.isFrozen(config.scan) && Object.isFrozen(config.detect.allowlist.paths),
  );
  assert.throws(() => {
    (config.scan as { maxFileSize: number }).maxFileSize = 1;
  }, TypeError);
});

test("keywarden.toml is found walking up; env beats file; flags beat env", (t) => {
  const dir = tempDir(t);
  const deep = join(dir, "a", "b", "c");
  mkdirSync(deep, { recursive: true });
  writeFileSync(
    join(dir, "keywarden.toml"),
    '[log]\nlevel = "info"\n\n[scan]\nmaxFileSize = 1000\nexclude = ["*.min.js"]\n',
  );
  const fromFile = loadConfig({ cwd: deep, env: {} });
  assert.equal(fromFile.file, join(dir, "keywarden.toml"));
  assert.equal(fromFile.config.log.level, "info");
  assert.deepEqual(fromFile.config.scan.exclude, ["*.min.js"]);
  assert.deepEqual(fromFile.sources.get("scan.maxFileSize"), {
    kind: "file",
    file: join(dir, "keywarden.toml"),
    line: 5,
  });

  const env = {
    KEYWARDEN_SCAN_MAX_FILE_SIZE: "2000",
    KEYWARDEN_LOG_LEVEL: "debug",
    KEYWARDEN_SCAN_EXCLUDE: "a,b",
  };
  const fromEnv = loadConfig({ cwd: deep, env });
  assert.equal(fromEnv.config.scan.maxFileSize, 2000);
  assert.deepEqual(fromEnv.config.scan.exclude, ["a", "b"]);
  assert.deepEqual(fromEnv.sources.get("scan.maxFileSize"), {
    kind: "env",
    name: "KEYWARDEN_SCAN_MAX_FILE_SIZE",
  });

  const fromFlags = loadConfig({
    cwd: deep,
    env,
    flags: { "log.level": "error", "scan.maxFileSize": "3000" },
  });
  assert.equal(fromFlags.config.log.level, "error");
  assert.equal(fromFlags.config.scan.maxFileSize, 3000);
  assert.equal(fromFlags.sources.get("log.level")?.kind, "flag");
});

function expectError(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof KeywardenError);
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return true;
  });
}

test("a wrong type names the key, the file and the line", (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "keywarden.toml"), '# comment\n[scan]\nformat = "json"\nmaxFileSize = "big"\n');
  expectError(
    () => loadConfig({ cwd: dir, env: {} }),
    "KW_ERR_CONFIG_INVALID",
    /scan\.maxFileSize .*keywarden\.toml:4\)/,
  );
});

test("an unknown key names the key and its line", (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "keywarden.toml"), "[scan]\nmaxFileSize = 10\n\n[detect]\nminConfidance = 0.5\n");
  expectError(
    () => loadConfig({ cwd: dir, env: {} }),
    "KW_ERR_CONFIG_UNKNOWN_KEY",
    /detect\.minConfidance .*keywarden\.toml:5/,
  );
});

test("a TOML syntax error names the file, line and column", (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "keywarden.toml"), "[scan]\nmaxFileSize = = 3\n");
  expectError(() => loadConfig({ cwd: dir, env: {} }), "KW_ERR_CONFIG_PARSE", /keywarden\.toml:2:\d+/);
});

test("a bad env value names the variable", (t) => {
  const dir = tempDir(t);
  expectError(
    () => loadConfig({ cwd: dir, env: { KEYWARDEN_DETECT_MIN_CONFIDENCE: "2" } }),
    "KW_ERR_CONFIG_INVALID",
    /detect\.minConfidence \(env KEYWARDEN_DETECT_MIN_CONFIDENCE\)/,
  );
  expectError(
    () => loadConfig({ cwd: dir, env: { KEYWARDEN_LOG_LEVEL: "loud" } }),
    "KW_ERR_CONFIG_INVALID",
    /log\.level/,
  );
});

test("an explicit --config that does not exist is an error", (t) => {
  const dir = tempDir(t);
  expectError(
    () => loadConfig({ cwd: dir, env: {}, configFile: "nope.toml" }),
    "KW_ERR_CONFIG_NOT_FOUND",
    /nope\.toml/,
  );
});

test("user rules get their defaults and an invalid one names its array index line", (t) => {
  const dir = tempDir(t);
  writeFileSync(
    join(dir, "keywarden.toml"),
    '[[detect.rules]]\nid = "acme"\nregex = "acme_[a-z0-9]{32}"\nkeywords = ["acme_"]\n\n[[detect.rules]]\nid = "bad"\nregex = "x"\nsecretGroup = -1\n',
  );
  expectError(
    () => loadConfig({ cwd: dir, env: {} }),
    "KW_ERR_CONFIG_INVALID",
    /detect\.rules\.1\.secretGroup .*keywarden\.toml:9/,
  );
  writeFileSync(
    join(dir, "keywarden.toml"),
    '[[detect.rules]]\nid = "acme"\nregex = "acme_[a-z0-9]{32}"\nkeywords = ["acme_"]\n',
  );
  const rule = loadConfig({ cwd: dir, env: {} }).config.detect.rules[0]!;
  assert.equal(rule.severity, "high");
  assert.equal(rule.secretGroup, 0);
});

test("config show masks secret options and names every source", (t) => {
  const dir = tempDir(t);
  const loaded = loadConfig({
    cwd: dir,
    env: { KEYWARDEN_STORAGE_URL: "postgres://app:hunter2hunter2@db/app" },
  });
  const rows = describeConfig(loaded);
  const url = rows.find((r) => r.key === "storage.url")!;
  assert.equal(url.value, "postgres://app:****@db/app");
  assert.equal(url.source, "env KEYWARDEN_STORAGE_URL");
  assert.equal(rows.length, listOptions().length);
  assert.ok(!JSON.stringify(rows).includes("hunter2"));
});

test("locateKey handles tables, dotted keys and arrays of tables", () => {
  const text =
    'a = 1\n[scan]\nx = 2\n\n[[detect.rules]]\nid = "1"\n[[detect.rules]]\nid = "2"\ndetect.y = 3\n';
  assert.equal(locateKey(text, ["scan", "x"]), 3);
  assert.equal(locateKey(text, ["detect", "rules", "1", "id"]), 8);
  assert.equal(locateKey(text, ["a"]), 1);
});

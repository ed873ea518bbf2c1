import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ROOT, runCli, type CliRun } from "../helpers/cli.ts";
import { ACME_RULE_TOML, buildScanHistory, buildScanTree } from "../helpers/scan-tree.ts";
import { tempDir } from "../helpers/tmp.ts";

interface JsonReport {
  findings: { rule: string; file: string; commit?: string; decoder?: string }[];
  skipped: unknown[];
  stats: { files: number; bytes: number; durationMs?: number };
}

/** Runs a copy of the CLI at `bin` the way runCli runs dist/cli/bin.js. */
function runBin(bin: string, args: readonly string[], cwd: string): CliRun {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" },
    encoding: "utf8",
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The JSON report without the one field allowed to differ between runs. */
function report(r: CliRun): JsonReport {
  assert.equal(r.code, 1, r.stderr);
  const parsed = JSON.parse(r.stdout) as JsonReport;
  delete parsed.stats.durationMs;
  return parsed;
}

describe("the built CLI with --jobs", () => {
  let tree = "";
  before(() => {
    tree = mkdtempSync(join(tmpdir(), "kw-e2e-jobs-"));
    buildScanTree(tree);
    writeFileSync(
      join(tree, "keywarden.toml"),
      `${ACME_RULE_TOML}\n[detect.allowlist]\npaths = ['''^vendor/allowlisted/''']\n`,
    );
  });
  after(() => {
    rmSync(tree, { recursive: true, force: true });
  });

  test("--jobs 1 and --jobs 2 print the same JSON report over a realistic tree", () => {
    const one = report(runCli(["scan", ".", "--format", "json", "--jobs", "1"], { cwd: tree }));
    const two = report(runCli(["scan", ".", "--format", "json", "--jobs", "2"], { cwd: tree }));
    assert.deepEqual(two, one);
    assert.ok(one.findings.length > 300);
    assert.ok(
      one.findings.some((f) => f.rule === "acme-internal"),
      "the user rule ran",
    );
    assert.ok(one.findings.some((f) => f.file === "dist/huge.js"));
    assert.ok(
      one.findings.some((f) => f.decoder !== undefined),
      "a key behind base64",
    );
    assert.ok(one.skipped.length > 0);
  });

  test("scan.jobs is a config key, --jobs -1 is refused and --jobs 0 (one per core) accepted", () => {
    const viaConfig = mkdtempSync(join(tmpdir(), "kw-e2e-jobs-cfg-"));
    try {
      writeFileSync(join(viaConfig, "app.env"), "nothing to see\n");
      writeFileSync(join(viaConfig, "keywarden.toml"), "[scan]\njobs = 3\n");
      assert.equal(runCli(["config", "show"], { cwd: viaConfig }).stdout.includes("scan.jobs = 3"), true);
      const bad = runCli(["scan", ".", "--jobs", "-1"], { cwd: viaConfig });
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /scan\.jobs/);
      assert.equal(runCli(["scan", ".", "--jobs", "0"], { cwd: viaConfig }).code, 0);
    } finally {
      rmSync(viaConfig, { recursive: true, force: true });
    }
  });

  test("a worker that crashes fails the scan with one clear line and exit code 2", (t) => {
    // A copy of the built CLI whose worker entry throws as it loads.
    const copy = tempDir(t, "kw-e2e-broken-");
    cpSync(join(ROOT, "dist", "cli"), join(copy, "dist", "cli"), { recursive: true });
    cpSync(join(ROOT, "package.json"), join(copy, "package.json"));
    symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"));
    writeFileSync(join(copy, "dist", "cli", "scan-worker.js"), 'throw new Error("scan worker boom");\n');
    const bin = join(copy, "dist", "cli", "bin.js");
    const r = runBin(bin, ["scan", ".", "--jobs", "2"], tree);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /a scan worker thread failed: scan worker boom/);
  });
});

test("scan --git with --jobs 1 and --jobs 2 prints the same JSON report", (t) => {
  const dir = tempDir(t, "kw-e2e-jobs-git-");
  buildScanHistory(dir);
  writeFileSync(join(dir, "keywarden.toml"), ACME_RULE_TOML);
  const one = report(runCli(["scan", "--git", ".", "--format", "json", "--jobs", "1"], { cwd: dir }));
  const two = report(runCli(["scan", "--git", ".", "--format", "json", "--jobs", "2"], { cwd: dir }));
  assert.deepEqual(two, one);
  assert.ok(one.findings.length > 100);
  assert.ok(one.findings.every((f) => f.commit !== undefined));
});

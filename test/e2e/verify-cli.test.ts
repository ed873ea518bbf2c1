import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { createExampleGen } from "../../src/detect/example-gen.ts";
import { BUILTIN_RULES } from "../../src/detect/rules/index.ts";
import { BIN, type CliRun } from "../helpers/cli.ts";
import { startFakeProviders } from "../helpers/fake-providers.ts";
import { tempDir } from "../helpers/tmp.ts";

/** Like runCli, but without blocking the event loop: the fake providers live in this process. */
function runCliAsync(args: readonly string[], cwd: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? "", HOME: cwd },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

interface JsonFinding {
  readonly file: string;
  readonly rule: string;
  readonly secret: string;
  readonly verified?: string;
  readonly verifyReason?: string;
}

test("keywarden scan --verify with verify.baseUrls from keywarden.toml", async (t) => {
  const dir = tempDir(t, "kw-verify-e2e-");
  const fake = await startFakeProviders(t);
  const github = BUILTIN_RULES.find((r) => r.id === "github-pat-classic")!;
  const [live, revoked] = ["live", "revoked"].map(
    (seed) => github.examples.positives(createExampleGen(`e2e-${seed}`))[0]!,
  );
  writeFileSync(join(dir, "live.env"), live!.text + "\n");
  writeFileSync(join(dir, "revoked.env"), revoked!.text + "\n");
  fake.register("github", live!.secret, "live");
  fake.register("github", revoked!.secret, "revoked");
  // An AWS pair exercises the bundled SigV4 signer; the fake checks the signature itself.
  const gen = createExampleGen("e2e-aws");
  const example = (id: string): string =>
    BUILTIN_RULES.find((r) => r.id === id)!.examples.positives(gen)[0]!.secret;
  const [awsId, awsSecret] = [example("aws-access-key-id"), example("aws-secret-access-key")];
  writeFileSync(join(dir, "aws.ini"), `aws_access_key_id = ${awsId}\naws_secret_access_key = ${awsSecret}\n`);
  fake.register("aws", awsId, "live", { secret: awsSecret });
  writeFileSync(
    join(dir, "keywarden.toml"),
    [
      "[scan]",
      "jobs = 1",
      "",
      "[verify.baseUrls]",
      `github = "${fake.baseUrls.github}"`,
      `aws = "${fake.baseUrls.aws}"`,
      "",
    ].join("\n"),
  );

  const plain = await runCliAsync(["scan", "--format", "json", "."], dir);
  assert.equal(plain.code, 1, plain.stderr);
  assert.equal(fake.requests(), 0, "no request without --verify");
  const plainFindings = (JSON.parse(plain.stdout) as { findings: JsonFinding[] }).findings;
  assert.ok(plainFindings.every((f) => f.verified === undefined));

  const checked = await runCliAsync(["scan", "--verify", "--format", "json", "."], dir);
  assert.equal(checked.code, 1, checked.stderr);
  for (const s of [live!.secret, revoked!.secret]) {
    assert.ok(!checked.stdout.includes(s) && !checked.stderr.includes(s), "the secret stays masked");
  }
  const findings = (JSON.parse(checked.stdout) as { findings: JsonFinding[] }).findings;
  const byFile = new Map(findings.filter((f) => f.rule === github.id).map((f) => [f.file, f.verified]));
  assert.deepEqual(Object.fromEntries(byFile), { "live.env": "live", "revoked.env": "revoked" });
  const aws = findings.filter((f) => f.file === "aws.ini").map((f) => [f.rule, f.verified]);
  assert.deepEqual(aws.sort(), [
    ["aws-access-key-id", "live"],
    ["aws-secret-access-key", "live"],
  ]);
  assert.equal(fake.requests(), 3);

  const text = await runCliAsync(["scan", "--verify", "--no-color", "."], dir);
  assert.match(text.stdout, /live\.env[\s\S]*\[LIVE\]/);

  const only = await runCliAsync(["scan", "--only-verified", "--format", "json", "."], dir);
  const onlyFindings = (JSON.parse(only.stdout) as { findings: JsonFinding[] }).findings;
  assert.deepEqual(onlyFindings.map((f) => [f.file, f.verified]).sort(), [
    ["aws.ini", "live"],
    ["aws.ini", "live"],
    ["live.env", "live"],
  ]);
  assert.equal(only.code, 1);
});

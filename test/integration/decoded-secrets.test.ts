import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../src/config/load.ts";
import { systemClock } from "../../src/core/clock.ts";
import { createExampleGen } from "../../src/detect/example-gen.ts";
import { BUILTIN_RULES } from "../../src/detect/rules/index.ts";
import { fileSource } from "../../src/sources/file-source.ts";
import type { Finding } from "../../src/services/scan/finding.ts";
import { renderReport } from "../../src/services/scan/report.ts";
import { createScanService } from "../../src/services/scan/scan-service.ts";
import { tempDir } from "../helpers/tmp.ts";

/** A secret made by the rule's own example generator (never a literal in the repository). */
function exampleSecret(ruleId: string): string {
  const rule = BUILTIN_RULES.find((r) => r.id === ruleId);
  assert.ok(rule !== undefined, ruleId);
  return rule.examples.positives(createExampleGen(`decoded-secrets/${ruleId}`))[0]!.secret;
}

interface Expected {
  readonly rule: string;
  readonly secret: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly decoder: string;
}

/** Writes files with encoded secrets; returns where each must be reported (the encoded span). */
function buildTree(dir: string): Expected[] {
  const awsId = exampleSecret("aws-access-key-id");
  const awsSecret = exampleSecret("aws-secret-access-key");
  const github = exampleSecret("github-pat-classic");
  const slack = exampleSecret("slack-bot-token");
  const stripe = exampleSecret("stripe-secret-key");
  const expected: Expected[] = [];
  const write = (file: string, lines: readonly string[]): void => {
    mkdirSync(join(dir, file, ".."), { recursive: true });
    writeFileSync(join(dir, file), lines.join("\n") + "\n");
  };

  // A Kubernetes Secret whose data holds a whole AWS credentials file, base64-encoded.
  const credentials = `[default]\naws_access_key_id = ${awsId}\naws_secret_access_key = ${awsSecret}\nregion = eu-west-1\n`;
  const blob = Buffer.from(credentials).toString("base64");
  const k8s = [
    "apiVersion: v1",
    "kind: Secret",
    "metadata:",
    "  name: aws-credentials",
    "type: Opaque",
    "data:",
    `  credentials: ${blob}`,
    "  region: ZXUtd2VzdC0x",
  ];
  write("deploy/k8s/aws-secret.yaml", k8s);
  const blobColumn = k8s[6]!.indexOf(blob) + 1;
  // The encoded span starts at the 4-character group holding the secret's first byte.
  const groupColumn = (secret: string): number =>
    blobColumn + Math.floor(Buffer.byteLength(credentials.slice(0, credentials.indexOf(secret))) / 3) * 4;
  for (const [rule, secret] of [
    ["aws-access-key-id", awsId],
    ["aws-secret-access-key", awsSecret],
  ] as const) {
    expected.push({
      rule,
      secret,
      file: "deploy/k8s/aws-secret.yaml",
      line: 7,
      column: groupColumn(secret),
      decoder: "base64",
    });
  }

  // A GitHub token inside a URL-encoded redirect parameter: `%3Dghp_` hides its boundary.
  const link = `Sign in at https://example.com/login?next=${encodeURIComponent(`https://api.example.com/callback?token=${github}`)} to continue.`;
  write("docs/onboarding.md", ["# Onboarding", "", link]);
  expected.push({
    rule: "github-pat-classic",
    secret: github,
    file: "docs/onboarding.md",
    line: 3,
    column: link.indexOf(github) + 1,
    decoder: "url",
  });

  // A Slack token in a JSON string, right after an escaped newline.
  const event = `{"type": "message", "text": "the new bot token is:\\n${slack}", "ts": "1712345679.000200"}`;
  write("exports/slack/events.json", ["[", `  ${event}`, "]"]);
  expected.push({
    rule: "slack-bot-token",
    secret: slack,
    file: "exports/slack/events.json",
    line: 2,
    column: 3 + event.indexOf(slack),
    decoder: "json",
  });

  // A Stripe key in a hex-encoded settings value.
  const settings = `STRIPE_SECRET_KEY=${stripe}`;
  const hex = Buffer.from(settings).toString("hex");
  const hexLine = `seed_settings = "${hex}"`;
  write("config/seed.toml", ["[billing]", hexLine]);
  expected.push({
    rule: "stripe-secret-key",
    secret: stripe,
    file: "config/seed.toml",
    line: 2,
    column: hexLine.indexOf(hex) + 1 + 2 * settings.indexOf(stripe),
    decoder: "hex",
  });
  return expected;
}

async function scan(dir: string, flags: Record<string, unknown> = {}) {
  const { config } = loadConfig({ cwd: dir, env: {}, flags: { "scan.jobs": 1, ...flags } });
  const scanner = createScanService({ config, clock: systemClock });
  // Default confidence threshold: decoded findings must survive it like plain ones.
  return scanner.scan({
    sources: [
      fileSource({
        paths: ["."],
        cwd: dir,
        maxFileSize: 1024 * 1024,
        gitignore: true,
        exclude: [],
        overlap: scanner.catalogue.maxWindow,
      }),
    ],
  });
}

const key = (f: Pick<Finding, "rule" | "file" | "line" | "column"> & { secret: string; decoder?: string }) =>
  `${f.file}:${f.line}:${f.column} ${f.rule} ${f.decoder ?? "plain"} ${f.secret}`;

test("secrets behind base64, URL encoding, JSON escapes and hex are found at their encoded span", async (t) => {
  const dir = tempDir(t);
  const expected = buildTree(dir);
  const result = await scan(dir);
  const found = result.findings.map((f) => key({ ...f, secret: f.secret.reveal() }));
  for (const e of expected)
    assert.ok(found.includes(key(e)), `missing ${key(e)}\nfound:\n${found.join("\n")}`);
  // Each secret once: no plain duplicate of a decoded one.
  for (const e of expected) {
    assert.equal(result.findings.filter((f) => f.secret.reveal() === e.secret).length, 1, e.rule);
  }
  // The end of a decoded finding is the end of its encoded span, on the same line.
  const aws = result.findings.find((f) => f.rule === "aws-secret-access-key")!;
  assert.equal(aws.endLine, aws.line);
  assert.ok(aws.endColumn - aws.column > expected[1]!.secret.length, "the encoded span is longer");

  // Worker threads carry the decoder across: two jobs report the same findings.
  const parallel = await scan(dir, { "scan.jobs": 2 });
  assert.deepEqual(
    parallel.findings.map((f) => key({ ...f, secret: f.secret.reveal() })),
    found,
  );

  // Every report format names the decoder.
  const opts = { showSecrets: false, color: false, toolVersion: "0.0.0-test" } as const;
  const json = JSON.parse(renderReport(result, { ...opts, format: "json" })) as {
    findings: { rule: string; decoder?: string }[];
  };
  assert.equal(json.findings.find((f) => f.rule === "github-pat-classic")?.decoder, "url");
  const sarif = JSON.parse(renderReport(result, { ...opts, format: "sarif" })) as {
    runs: { results: { ruleId: string; properties: { decoder?: string } }[] }[];
  };
  assert.equal(
    sarif.runs[0]!.results.find((r) => r.ruleId === "slack-bot-token")?.properties.decoder,
    "json",
  );
  const csv = renderReport(result, { ...opts, format: "csv" }).split("\n");
  assert.ok(csv[0]!.endsWith(",decoder"));
  assert.ok(csv.some((l) => l.startsWith("stripe-secret-key,") && l.endsWith(",hex")));
  assert.match(renderReport(result, { ...opts, format: "text" }), /decoded: base64/);
});

test("depth 0 turns decoding off, an allow marker on the encoded line suppresses, decoders can be chosen", async (t) => {
  const dir = tempDir(t);
  const expected = buildTree(dir);
  const secrets = new Set(expected.map((e) => e.secret));
  const off = await scan(dir, { "detect.decode.depth": 0 });
  assert.deepEqual(
    off.findings.filter((f) => secrets.has(f.secret.reveal())).map((f) => f.rule),
    [],
  );

  const hexOnly = await scan(dir, { "detect.decode.decoders": ["hex"] });
  assert.deepEqual(
    hexOnly.findings.filter((f) => secrets.has(f.secret.reveal())).map((f) => f.decoder),
    ["hex"],
  );

  const seed = expected.find((e) => e.decoder === "hex")!;
  writeFileSync(
    join(dir, seed.file),
    `[billing]\nseed_settings = "${Buffer.from(`STRIPE_SECRET_KEY=${seed.secret}`).toString("hex")}" # keywarden:allow\n`,
  );
  const allowed = await scan(dir);
  assert.equal(allowed.findings.filter((f) => f.rule === seed.rule).length, 0);
  assert.ok(allowed.suppressed.inline >= 1);
});

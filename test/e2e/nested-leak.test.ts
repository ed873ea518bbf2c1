/**
 * The history issue's acceptance case, end to end through the built CLI with default settings:
 * an AWS key inside a base64 blob inside a zip inside a tar.gz is found, named by its path
 * through both archives and by the decoder that revealed it.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import tarStream from "tar-stream";
import { createExampleGen } from "../../src/detect/example-gen.ts";
import { BUILTIN_RULES } from "../../src/detect/rules/index.ts";
import { runCli } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";
import { zipOf } from "../helpers/zip-writer.ts";

function exampleSecret(ruleId: string): string {
  const rule = BUILTIN_RULES.find((r) => r.id === ruleId);
  assert.ok(rule !== undefined, ruleId);
  return rule.examples.positives(createExampleGen(`nested-leak/${ruleId}`))[0]!.secret;
}

async function tgzOf(entries: readonly { name: string; data: Buffer }[]): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const e of entries) pack.entry({ name: e.name, size: e.data.length }, e.data);
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const b of pack as AsyncIterable<Buffer>) parts.push(b);
  return gzipSync(Buffer.concat(parts));
}

interface JsonFinding {
  rule: string;
  file: string;
  line: number;
  decoder?: string;
  secret: string;
}

test("an AWS key in a base64 blob in a zip in a tar.gz is found with its full path and decoder", async (t) => {
  const dir = tempDir(t);
  const awsId = exampleSecret("aws-access-key-id");
  const awsSecret = exampleSecret("aws-secret-access-key");
  const credentials = `[default]\naws_access_key_id = ${awsId}\naws_secret_access_key = ${awsSecret}\n`;
  const secretYaml = [
    "apiVersion: v1",
    "kind: Secret",
    "metadata:",
    "  name: aws",
    "data:",
    `  credentials: ${Buffer.from(credentials).toString("base64")}`,
  ].join("\n");
  const zip = zipOf([
    { name: "README.txt", data: "deployment bundle\n" },
    { name: "k8s/secret.yaml", data: secretYaml + "\n" },
  ]);
  writeFileSync(
    join(dir, "release.tar.gz"),
    await tgzOf([
      { name: "release/notes.md", data: Buffer.from("# Release\n") },
      { name: "release/bundle.zip", data: zip },
    ]),
  );

  for (const jobs of ["1", "2"]) {
    const r = runCli(["scan", ".", "--format", "json", "--show-secrets", "--jobs", jobs], { cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as { findings: JsonFinding[] };
    const byRule = new Map(report.findings.map((f) => [f.rule, f]));
    for (const [rule, secret] of [
      ["aws-access-key-id", awsId],
      ["aws-secret-access-key", awsSecret],
    ] as const) {
      const f = byRule.get(rule);
      assert.ok(f !== undefined, `${rule} not found (jobs ${jobs}): ${r.stdout}`);
      assert.equal(f.file, "release.tar.gz!release/bundle.zip!k8s/secret.yaml");
      assert.equal(f.line, 6);
      assert.equal(f.decoder, "base64");
      assert.equal(f.secret, secret);
    }
  }

  // Without decoding, the key stays hidden: the decoder is what finds it.
  const off = runCli(["scan", ".", "--format", "json"], {
    cwd: dir,
    env: { KEYWARDEN_DETECT_DECODE_DEPTH: "0" },
  });
  const offReport = JSON.parse(off.stdout) as { findings: JsonFinding[] };
  assert.equal(
    offReport.findings.some((f) => f.rule.startsWith("aws-")),
    false,
    off.stdout,
  );
});

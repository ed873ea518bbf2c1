import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { githubChecksum } from "../../src/detect/checksum.ts";
import { createExampleGen } from "../../src/detect/example-gen.ts";
import { runCli } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";

interface Planted {
  readonly file: string;
  readonly line: number;
  readonly secret: string;
}

/** Builds a folder of realistic files with generated keys, and records where each key is. */
function buildFolder(dir: string): Planted[] {
  const g = createExampleGen("realistic-folder");
  const upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const awsId = "AKIA" + g.chars(upper, 16);
  const awsSecret = g.base64(40).replace(/\+/g, "A");
  const stripe = "sk_" + "live_" + g.alnum(24);
  const ghBody = "ghp_" + g.alnum(30);
  const github = ghBody + githubChecksum(ghBody);
  const slackBot = `xoxb-${g.digits(12)}-${g.digits(13)}-${g.alnum(24)}`;
  const sendgrid = `SG.${g.base64url(22)}.${g.base64url(43)}`;
  const openai = `sk-proj-${g.base64url(74)}T3BlbkFJ${g.base64url(74)}`;
  const anthropic = `sk-ant-api03-${g.base64url(93)}AA`;
  const pgPassword = g.alnum(20);
  const slackWebhook = `https://hooks.slack.com/services/T${g.upperAlnum(10)}/B${g.upperAlnum(10)}/${g.alnum(24)}`;
  const npmBody = g.alnum(30);
  const npmToken = "npm_" + npmBody + githubChecksum(npmBody);
  const planted: Planted[] = [];
  const write = (file: string, lines: string[], secrets: string[]): void => {
    const path = join(dir, file);
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, lines.join("\n") + "\n");
    for (const secret of secrets) {
      const idx = lines.findIndex((l) => l.includes(secret));
      assert.ok(idx >= 0, `planted ${file}`);
      planted.push({ file, line: idx + 1, secret });
    }
  };

  write(
    ".env",
    [
      "# local settings",
      "APP_ENV=production",
      `AWS_ACCESS_KEY_ID=${awsId}`,
      `AWS_SECRET_ACCESS_KEY=${awsSecret}`,
      `STRIPE_SECRET_KEY=${stripe}`,
      "STRIPE_PUBLISHABLE_KEY=pk_test_placeholder",
      `DATABASE_URL=postgres://payments:${pgPassword}@db.internal:5432/payments`,
      "REDIS_URL=redis://localhost:6379/0",
      "SENTRY_DSN=",
    ],
    [awsId, awsSecret, stripe, pgPassword],
  );
  write(
    "src/billing/client.py",
    [
      "import os",
      "import requests",
      "",
      "# TODO: move to the vault",
      `GITHUB_TOKEN = "${github}"`,
      'OPENAI_API_KEY = os.environ["OPENAI_API_KEY"]',
      "",
      "def charge(amount):",
      `    client = OpenAI(api_key="${openai}")`,
      "    return client.create(amount=amount, api_key=os.environ.get('STRIPE_KEY'))",
    ],
    [github, openai],
  );
  write(
    "deploy/k8s/secret.yaml",
    [
      "apiVersion: v1",
      "kind: Secret",
      "metadata:",
      "  name: payments",
      "type: Opaque",
      "stringData:",
      `  SENDGRID_API_KEY: ${sendgrid}`,
      "  ANTHROPIC_API_KEY: ${ANTHROPIC_API_KEY}",
      "  LOG_LEVEL: info",
    ],
    [sendgrid],
  );
  write(
    "exports/slack/general.json",
    [
      "[",
      '  {"type": "message", "user": "U024BE7LH", "text": "deploy is failing, can someone check?", "ts": "1712345678.000100"},',
      `  {"type": "message", "user": "U024BE7LH", "text": "try this token: ${slackBot}", "ts": "1712345679.000200"},`,
      `  {"type": "message", "user": "U0G9QF9C6", "text": "and post to ${slackWebhook} when done", "ts": "1712345680.000300"},`,
      '  {"type": "message", "user": "U0G9QF9C6", "text": "use the key from the vault, not <YOUR_API_KEY>", "ts": "1712345681.000400"}',
      "]",
    ],
    [slackBot, slackWebhook],
  );
  write(
    "docs/runbook.md",
    [
      "# Payments runbook",
      "",
      "## Rotating the Anthropic key",
      "",
      "1. Create a new key in the console.",
      "2. Test it:",
      "",
      "```sh",
      `curl https://api.anthropic.com/v1/messages -H "x-api-key: ${anthropic}"`,
      "```",
      "",
      "Example configuration (placeholders only):",
      "",
      "```",
      "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
      "STRIPE_SECRET_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
      "NPM_TOKEN=npm_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
      "password: changeme",
      "```",
      "",
      `Publishing uses ${npmToken} until we move it.`,
    ],
    [anthropic, npmToken],
  );
  return planted;
}

test("scan of a realistic folder finds every generated key on its exact line and nothing on placeholders", (t) => {
  const dir = tempDir(t);
  const planted = buildFolder(dir);
  const r = runCli(["scan", "--format", "json", "--show-secrets", "."], { cwd: dir });
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout) as {
    findings: { file: string; line: number; secret: string; rule: string }[];
  };
  const found = report.findings.map((f) => `${f.file}:${f.line}:${f.secret}`).sort();
  const expected = planted.map((p) => `${p.file}:${p.line}:${p.secret}`).sort();
  const missing = expected.filter((e) => !found.includes(e));
  const extra = report.findings
    .filter((f) => !expected.includes(`${f.file}:${f.line}:${f.secret}`))
    .map((f) => `${f.file}:${f.line} ${f.rule}`);
  assert.deepEqual({ missing, extra }, { missing: [], extra: [] });
});

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { loadConfig } from "../../src/config/load.ts";
import { systemClock } from "../../src/core/clock.ts";
import { createExampleGen } from "../../src/detect/example-gen.ts";
import type { ExampleGen } from "../../src/detect/rule.ts";
import { BUILTIN_RULES } from "../../src/detect/rules/index.ts";
import { VERIFY_PROVIDERS, type VerifyProvider } from "../../src/detect/verify.ts";
import type { Finding } from "../../src/services/scan/finding.ts";
import { renderReport } from "../../src/services/scan/report.ts";
import { createScanService, type ScanResult } from "../../src/services/scan/scan-service.ts";
import { fileSource } from "../../src/sources/file-source.ts";
import { startFakeProviders, type FakeBehaviour, type FakeProviders } from "../helpers/fake-providers.ts";
import { tempDir } from "../helpers/tmp.ts";

/** One planted credential: the file text, the finding's rule and secret, and what the fake keys on. */
interface Planted {
  readonly text: string;
  readonly rule: string;
  readonly secret: string;
  readonly credential: string;
  readonly extra?: { secret?: string; sid?: string; shop?: string };
}

function example(ruleId: string, gen: ExampleGen): { text: string; secret: string } {
  const rule = BUILTIN_RULES.find((r) => r.id === ruleId);
  assert.ok(rule !== undefined, ruleId);
  return rule.examples.positives(gen)[0]!;
}

/** A key for each provider, built from the rules' own example generators. */
const PLANT: Record<VerifyProvider, (gen: ExampleGen) => Planted> = {
  aws: (gen) => {
    const id = example("aws-access-key-id", gen).secret;
    const secret = example("aws-secret-access-key", gen).secret;
    return {
      text: `[default]\naws_access_key_id = ${id}\naws_secret_access_key = ${secret}\n`,
      rule: "aws-secret-access-key",
      secret,
      credential: id,
      extra: { secret },
    };
  },
  github: (gen) => simple("github-pat-classic", gen),
  gitlab: (gen) => simple("gitlab-pat", gen),
  slack: (gen) => simple("slack-bot-token", gen),
  stripe: (gen) => simple("stripe-secret-key", gen),
  openai: (gen) => simple("openai-project-key", gen),
  anthropic: (gen) => simple("anthropic-api-key", gen),
  sendgrid: (gen) => simple("sendgrid-api-key", gen),
  twilio: (gen) => {
    const sid = `AC${gen.hex(32)}`;
    const e = example("twilio-auth-token", gen);
    return {
      text: `TWILIO_ACCOUNT_SID=${sid}\n${e.text}\n`,
      rule: "twilio-auth-token",
      secret: e.secret,
      credential: e.secret,
      extra: { sid },
    };
  },
  mailgun: (gen) => simple("mailgun-api-key", gen),
  npm: (gen) => simple("npm-access-token", gen),
  huggingface: (gen) => simple("huggingface-access-token", gen),
  datadog: (gen) => simple("datadog-api-key", gen),
  shopify: (gen) => {
    const shop = `acme-${gen.lowerAlnum(6)}.myshopify.com`;
    const e = example("shopify-access-token", gen);
    return {
      text: `SHOPIFY_SHOP=${shop}\n${e.text}\n`,
      rule: "shopify-access-token",
      secret: e.secret,
      credential: e.secret,
      extra: { shop },
    };
  },
  discord: (gen) => simple("discord-bot-token", gen),
};

function simple(rule: string, gen: ExampleGen): Planted {
  const e = example(rule, gen);
  return { text: e.text + "\n", rule, secret: e.secret, credential: e.secret };
}

function plant(
  dir: string,
  fake: FakeProviders,
  provider: VerifyProvider,
  name: string,
  behaviour: FakeBehaviour,
): Planted {
  const p = PLANT[provider](createExampleGen(`verify-${provider}-${name}`));
  writeFileSync(join(dir, `${name}.txt`), p.text);
  fake.register(provider, p.credential, behaviour, p.extra);
  return p;
}

async function scanDir(
  dir: string,
  fake: FakeProviders,
  options: { verify?: boolean; settings?: Record<string, unknown> } = {},
): Promise<ScanResult> {
  const flags: Record<string, unknown> = { "scan.jobs": 1, ...options.settings };
  for (const [p, url] of Object.entries(fake.baseUrls)) flags[`verify.baseUrls.${p}`] = url;
  const { config } = loadConfig({ cwd: dir, env: {}, flags });
  const scanner = createScanService({ config, clock: systemClock });
  const source = fileSource({
    paths: ["."],
    cwd: dir,
    maxFileSize: config.scan.maxFileSize,
    gitignore: false,
    exclude: [],
    overlap: scanner.catalogue.maxWindow,
  });
  return scanner.scan({
    sources: [source],
    all: true,
    ...(options.verify === undefined ? {} : { verify: options.verify }),
  });
}

function findingOf(result: ScanResult, p: Planted): Finding {
  const f = result.findings.find((x) => x.rule === p.rule && x.secret.reveal() === p.secret);
  assert.ok(f !== undefined, `finding for ${p.rule}`);
  return f;
}

async function setup(t: TestContext): Promise<{ dir: string; fake: FakeProviders }> {
  return { dir: tempDir(t, "kw-verify-"), fake: await startFakeProviders(t) };
}

test("each of the 15 providers: a live and a revoked key are classified by one request each", async (t) => {
  const { dir, fake } = await setup(t);
  const cases = VERIFY_PROVIDERS.map((provider) => ({
    provider,
    live: plant(dir, fake, provider, `${provider}-live`, "live"),
    revoked: plant(dir, fake, provider, `${provider}-revoked`, "revoked"),
  }));
  const result = await scanDir(dir, fake, { verify: true });
  for (const c of cases) {
    const live = findingOf(result, c.live);
    const revoked = findingOf(result, c.revoked);
    assert.equal(live.verified, "live", `${c.provider} live: ${live.verifyReason ?? ""}`);
    assert.equal(revoked.verified, "revoked", `${c.provider} revoked: ${revoked.verifyReason ?? ""}`);
    assert.equal(fake.hitsOf(c.provider, c.live.credential), 1, `${c.provider} live requests`);
    assert.equal(fake.hitsOf(c.provider, c.revoked.credential), 1, `${c.provider} revoked requests`);
  }
  assert.equal(fake.requests(), 30);
  // The AWS key id carries its secret's verdict; reports show the verdict, never a secret.
  const awsId = result.findings.find((f) => f.rule === "aws-access-key-id" && f.file === "aws-live.txt");
  assert.equal(awsId?.verified, "live");
  for (const format of ["json", "sarif", "csv", "text"] as const) {
    const report = renderReport(result, { format, showSecrets: false, color: false, toolVersion: "test" });
    for (const c of cases) {
      assert.ok(!report.includes(c.live.secret) && !report.includes(c.revoked.secret), `${format} leaks`);
    }
  }
  const json = JSON.parse(
    renderReport(result, { format: "json", showSecrets: false, color: false, toolVersion: "t" }),
  ) as { findings: { file: string; verified?: string }[] };
  const githubLive = json.findings.find((f) => f.file === "github-live.txt");
  assert.equal(githubLive?.verified, "live");
  const text = renderReport(result, { format: "text", showSecrets: false, color: false, toolVersion: "t" });
  assert.match(text, /\[LIVE\]/);
  assert.match(text, /\[revoked\]/);
  assert.match(text, /^verified: \d+ live, \d+ revoked, 0 unknown$/m);
  const csv = renderReport(result, { format: "csv", showSecrets: false, color: false, toolVersion: "t" });
  const [header, ...rows] = csv.trimEnd().split("\n");
  const column = header!.split(",").indexOf("verified");
  assert.ok(column > 0, "csv has a verified column");
  assert.ok(rows.some((r) => r.startsWith("github-pat-classic,") && /,live(,|$)/.test(r)));
});

test("without --verify (and verify.enabled false) no request is sent", async (t) => {
  const { dir, fake } = await setup(t);
  for (const provider of VERIFY_PROVIDERS) plant(dir, fake, provider, `${provider}-live`, "live");
  const result = await scanDir(dir, fake);
  assert.ok(result.findings.length >= VERIFY_PROVIDERS.length);
  assert.ok(result.findings.every((f) => f.verified === undefined));
  assert.equal(fake.requests(), 0);
  // verify.enabled in config turns it on without the flag; an explicit false wins over it.
  await scanDir(dir, fake, { verify: false, settings: { "verify.enabled": true } });
  assert.equal(fake.requests(), 0);
  const enabled = await scanDir(dir, fake, { settings: { "verify.enabled": true } });
  assert.ok(fake.requests() > 0);
  assert.ok(enabled.findings.some((f) => f.verified === "live"));
});

test("a 429 is retried once after its Retry-After, then classified", async (t) => {
  const { dir, fake } = await setup(t);
  fake.retryAfterSeconds = 1;
  const p = plant(dir, fake, "github", "limited", "ratelimit-once");
  const result = await scanDir(dir, fake, { verify: true });
  assert.equal(findingOf(result, p).verified, "live");
  assert.equal(fake.hitsOf("github", p.credential), 2);
});

test("a 429 whose Retry-After does not fit in the deadline is unknown at once", async (t) => {
  const { dir, fake } = await setup(t);
  const p = plant(dir, fake, "stripe", "limited", "ratelimit");
  const result = await scanDir(dir, fake, { verify: true, settings: { "verify.deadlineMs": 20000 } });
  const f = findingOf(result, p);
  assert.equal(f.verified, "unknown");
  assert.equal(f.verifyReason, "rate limited (http 429)");
  assert.equal(fake.hitsOf("stripe", p.credential), 1);
});

test("timeouts, 5xx and missing inputs are unknown, with a reason that holds no secret", async (t) => {
  const { dir, fake } = await setup(t);
  const slow = plant(dir, fake, "openai", "slow", "slow");
  const broken = plant(dir, fake, "sendgrid", "broken", "error");
  const orphan = PLANT.twilio(createExampleGen("verify-orphan"));
  // The token alone, with no account SID anywhere near it.
  writeFileSync(join(dir, "orphan.txt"), orphan.text.replace(/^TWILIO_ACCOUNT_SID=.*\n/, ""));
  const result = await scanDir(dir, fake, { verify: true, settings: { "verify.timeoutMs": 300 } });
  assert.deepEqual(
    [findingOf(result, slow), findingOf(result, broken), findingOf(result, orphan)].map((f) => [
      f.verified,
      f.verifyReason,
    ]),
    [
      ["unknown", "timed out"],
      ["unknown", "http 503"],
      ["unknown", "no Twilio account SID near the secret"],
    ],
  );
  assert.equal(fake.log.filter((l) => l.provider === "twilio").length, 0);
});

test("the global deadline ends verification: held requests and queued ones are unknown", async (t) => {
  const { dir, fake } = await setup(t);
  const planted = ["a", "b", "c", "d"].map((n) => plant(dir, fake, "discord", `slow-${n}`, "slow"));
  const result = await scanDir(dir, fake, {
    verify: true,
    // Requests would wait a minute each; the deadline stops all of them well before.
    settings: { "verify.timeoutMs": 60000, "verify.deadlineMs": 400, "verify.concurrency": 2 },
  });
  for (const p of planted) {
    const f = findingOf(result, p);
    assert.equal(f.verified, "unknown");
    assert.equal(f.verifyReason, "verification deadline reached");
  }
  // Two went out and were held; the two queued behind them never left.
  assert.equal(fake.requests(), 2);
});

test("concurrency never exceeds verify.concurrency", async (t) => {
  const { dir, fake } = await setup(t);
  fake.delayMs = 40;
  const planted = Array.from({ length: 12 }, (_, i) => plant(dir, fake, "huggingface", `k${i}`, "live"));
  const result = await scanDir(dir, fake, { verify: true, settings: { "verify.concurrency": 3 } });
  for (const p of planted) assert.equal(findingOf(result, p).verified, "live");
  assert.equal(fake.requests(), 12);
  assert.ok(fake.maxInFlight() <= 3, `max in flight ${fake.maxInFlight()}`);
  assert.ok(fake.maxInFlight() >= 2, "requests did run concurrently");
});

test("cache: the same key in three files is verified by one request", async (t) => {
  const { dir, fake } = await setup(t);
  const p = plant(dir, fake, "npm", "one", "live");
  writeFileSync(join(dir, "two.txt"), p.text);
  writeFileSync(join(dir, "three.txt"), `# copy\n${p.text}`);
  const result = await scanDir(dir, fake, { verify: true });
  const same = result.findings.filter((f) => f.rule === p.rule && f.secret.reveal() === p.secret);
  assert.equal(same.length, 3);
  assert.ok(same.every((f) => f.verified === "live"));
  assert.equal(fake.requests(), 1);
});

test("AWS: a secret that does not sign for its key id is unknown, not live", async (t) => {
  const { dir, fake } = await setup(t);
  const gen = createExampleGen("verify-aws-mismatch");
  const p = PLANT.aws(gen);
  // The fake knows the key id with a different secret: the SigV4 signature cannot match.
  fake.register("aws", p.credential, "live", { secret: gen.base64(40) });
  writeFileSync(join(dir, "aws.txt"), p.text);
  const result = await scanDir(dir, fake, { verify: true });
  const f = findingOf(result, p);
  assert.equal(f.verified, "unknown");
  assert.equal(f.verifyReason, "secret does not match the access key id near it");
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigSchema, type SchemaNode } from "../../../src/config/schema.ts";
import { createExampleGen } from "../../../src/detect/example-gen.ts";
import { BUILTIN_RULES } from "../../../src/detect/rules/index.ts";
import {
  classifyResponse,
  nearInputs,
  simpleOutcomes,
  VERIFY_PROVIDERS,
  type VerifySpec,
} from "../../../src/detect/verify.ts";
import { prepareRequest } from "../../../src/services/verify/verify-request.ts";

const verified = BUILTIN_RULES.filter((r) => r.verify !== undefined);

test("every provider has a verifier and every verifier is well formed", () => {
  const providers = new Set(verified.map((r) => r.verify!.provider));
  assert.deepEqual([...providers].sort(), [...VERIFY_PROVIDERS].sort());
  const ids = new Set(BUILTIN_RULES.map((r) => r.id));
  for (const r of verified) {
    const spec = r.verify!;
    assert.ok(spec.path.startsWith("/"), r.id);
    assert.ok(
      spec.outcomes.some((o) => o.result === "live"),
      `${r.id}: a live outcome`,
    );
    assert.ok(
      spec.outcomes.some((o) => o.result === "revoked"),
      `${r.id}: a revoked outcome`,
    );
    assert.match(spec.docs, /^https:\/\//);
    assert.match(spec.baseUrl, /^https:\/\//);
    const names = new Set((spec.inputs ?? []).map((i) => i.name));
    const templates = [spec.baseUrl, spec.path];
    if (spec.auth.kind === "basic") templates.push(spec.auth.username, spec.auth.password);
    for (const t of templates) {
      for (const [, name] of t.matchAll(/\{([A-Za-z]+)\}/g)) {
        assert.ok(name === "secret" || names.has(name!), `${r.id}: {${name}} is not an input`);
      }
    }
    // The secret goes in a header, never in the URL (URLs end up in proxy and server logs).
    assert.ok(!spec.path.includes("{secret}") && !spec.baseUrl.includes("{secret}"), r.id);
    for (const input of spec.inputs ?? []) {
      assert.ok((input.rule === undefined) !== (input.near === undefined), `${r.id}: rule or near`);
      if (input.rule !== undefined) assert.ok(ids.has(input.rule), `${r.id}: ${input.rule}`);
      if (input.near !== undefined) assert.ok(!/[gy]/.test(input.near.flags), r.id);
    }
  }
});

test("config verify.baseUrls has exactly one entry per provider, empty by default", () => {
  const node = (ConfigSchema.properties as Record<string, SchemaNode>).verify!.properties!.baseUrls!;
  assert.deepEqual(Object.keys(node.properties!).sort(), [...VERIFY_PROVIDERS].sort());
  for (const p of Object.values(node.properties!)) assert.equal(p.default, "");
  const enabled = (ConfigSchema.properties as Record<string, SchemaNode>).verify!.properties!.enabled!;
  assert.equal(enabled.default, false);
});

test("classifyResponse: first matching outcome wins; unmatched is undefined", () => {
  const slack = BUILTIN_RULES.find((r) => r.id === "slack-bot-token")!.verify!;
  assert.deepEqual(classifyResponse(slack, 200, '{"ok":true,"team":"x"}'), { status: "live" });
  assert.deepEqual(classifyResponse(slack, 200, '{"ok":false,"error":"invalid_auth"}'), {
    status: "revoked",
  });
  assert.equal(classifyResponse(slack, 200, '{"ok":false,"error":"ratelimited"}'), undefined);
  assert.equal(classifyResponse(slack, 200, "<html>not json</html>"), undefined);
  const openai = BUILTIN_RULES.find((r) => r.id === "openai-project-key")!.verify!;
  assert.deepEqual(classifyResponse(openai, 401, '{"error":{"code":"invalid_api_key"}}'), {
    status: "revoked",
  });
  assert.deepEqual(
    classifyResponse(
      openai,
      401,
      '{"error":{"message":"You have insufficient permissions. Missing scopes: api.model.read"}}',
    ),
    { status: "live" },
  );
  assert.equal(classifyResponse({ outcomes: simpleOutcomes() }, 500, ""), undefined);
});

test("nearInputs takes the occurrence closest to the secret, and only accepted values", () => {
  const spec: VerifySpec = {
    provider: "twilio",
    baseUrl: "https://x",
    method: "GET",
    path: "/",
    auth: { kind: "bearer" },
    inputs: [{ name: "sid", label: "sid", near: /\b(AC[0-9a-f]{4})\b/, accept: /^AC[0-9]/ }],
    outcomes: simpleOutcomes(),
    docs: "https://x",
  };
  const text = "AC1111 ... ACaaaa SECRET AC2222 ... ... ... AC3333";
  const at = text.indexOf("SECRET");
  assert.deepEqual(nearInputs(spec, text, at, at + 6), { sid: "AC2222" });
  assert.equal(nearInputs(spec, "nothing here SECRET", 13, 19), undefined);
});

test("prepareRequest puts the secret only where the spec says", async () => {
  const gen = createExampleGen("verify-unit");
  const secret = gen.alnum(40);
  const twilio = BUILTIN_RULES.find((r) => r.id === "twilio-auth-token")!.verify!;
  const sid = `AC${gen.hex(32)}`;
  const t = await prepareRequest(twilio, "https://api.twilio.com/", secret, { accountSid: sid });
  assert.equal(t.url, `https://api.twilio.com/2010-04-01/Accounts/${sid}.json`);
  assert.equal(t.headers.authorization, `Basic ${Buffer.from(`${sid}:${secret}`).toString("base64")}`);
  const anthropic = BUILTIN_RULES.find((r) => r.id === "anthropic-api-key")!.verify!;
  const a = await prepareRequest(anthropic, anthropic.baseUrl, secret, {});
  assert.equal(a.headers["x-api-key"], secret);
  assert.equal(a.headers["anthropic-version"], "2023-06-01");
  assert.equal(a.headers.authorization, undefined);
  const discord = BUILTIN_RULES.find((r) => r.id === "discord-bot-token")!.verify!;
  assert.equal(
    (await prepareRequest(discord, discord.baseUrl, secret, {})).headers.authorization,
    `Bot ${secret}`,
  );
  const aws = BUILTIN_RULES.find((r) => r.id === "aws-secret-access-key")!.verify!;
  const keyId = `AKIA${gen.upperAlnum(16)}`;
  const s = await prepareRequest(aws, aws.baseUrl, secret, { accessKeyId: keyId });
  assert.match(
    s.headers.authorization!,
    new RegExp(`^AWS4-HMAC-SHA256 Credential=${keyId}/\\d{8}/us-east-1/sts/aws4_request`),
  );
  // SigV4 proves knowledge of the secret without sending it.
  assert.ok(!JSON.stringify(s).includes(secret));
  assert.equal(s.body, "Action=GetCallerIdentity&Version=2011-06-15");
});

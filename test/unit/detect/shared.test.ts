import assert from "node:assert/strict";
import { test } from "node:test";
import { bech32Encode, bech32Valid, hasCrc32Suffix, withCrc32 } from "../../../src/detect/checksum.ts";
import { createExampleGen } from "../../../src/detect/example-gen.ts";
import { checkBoundedPattern } from "../../../src/detect/pattern-check.ts";
import {
  anyCase,
  assigned,
  assignmentExamples,
  line,
  near,
  place,
  prefixed,
  prefixedRule,
  START,
  type TokenFamily,
} from "../../../src/detect/rules/shared.ts";

/** The secret group of every match of `re` in `text`. */
function found(re: RegExp, text: string): string[] {
  const g = new RegExp(re.source, re.flags + "g");
  return [...text.matchAll(g)].map((m) => m[1]!);
}

test("withCrc32 builds tokens that hasCrc32Suffix accepts, with or without the prefix in the sum", () => {
  const gen = createExampleGen("crc32");
  const random = gen.alnum(30);
  const token = withCrc32("ghp_", random);
  assert.equal(token.length, 4 + 30 + 6);
  assert.ok(hasCrc32Suffix(token));
  // npm's published form checksums the random part only.
  assert.ok(hasCrc32Suffix("npm_" + withCrc32("", random)));
  assert.ok(!hasCrc32Suffix(token.slice(0, -1) + (token.endsWith("A") ? "B" : "A")));
  assert.ok(!hasCrc32Suffix("ghp" + token.slice(4)), "no underscore");
});

test("bech32Encode output passes bech32Valid in either case; a changed character fails", () => {
  const key = bech32Encode(
    "age-secret-key-",
    Array.from({ length: 32 }, (_, i) => (i * 37) % 256),
  );
  assert.ok(bech32Valid(key));
  assert.ok(bech32Valid(key.toUpperCase()));
  const broken = key.slice(0, -1) + (key.endsWith("q") ? "p" : "q");
  assert.ok(!bech32Valid(broken));
  assert.ok(!bech32Valid("age-secret-key-1b"), "too short");
});

test("anyCase lists the usual spellings, escaped", () => {
  assert.equal(anyCase("mailgun"), "(?:mailgun|MAILGUN|Mailgun)");
  assert.equal(anyCase("SparkPost"), "(?:SparkPost|sparkpost|SPARKPOST|Sparkpost|sparkPost)");
  assert.equal(anyCase("customer.io"), String.raw`(?:customer\.io|CUSTOMER\.IO|Customer\.io)`);
});

test("every builder's pattern is bounded", () => {
  const patterns = [
    prefixed("gsk_", "[A-Za-z0-9]{52}"),
    assigned({ context: "vultr", name: "key|token", value: "[A-Z0-9]{36}" }),
    assigned({ context: "circle", name: "token", value: "[a-f0-9]{40}", style: "argument" }),
    assigned({ context: "rollbar", name: "token|key", value: "[a-f0-9]{32}", style: "line" }),
    assigned({ context: anyCase("okta"), value: "00[A-Za-z0-9_-]{40}", flags: "" }),
    near({ context: anyCase("mollie"), value: "live_[A-Za-z0-9]{30}", flags: "" }),
    near({ context: `${START}notion`, value: "secret_[A-Za-z0-9]{43}", sameLine: true }),
  ];
  for (const p of patterns) assert.equal(checkBoundedPattern(p.source), undefined, p.source);
});

test("prefixed: the whole token at a word boundary, not a longer run", () => {
  const re = prefixed("rnd_", "[A-Za-z0-9]{8}");
  assert.deepEqual(found(re, "RENDER=rnd_abcd1234 x"), ["rnd_abcd1234"]);
  assert.deepEqual(found(re, "xrnd_abcd1234"), []);
  assert.deepEqual(found(re, "rnd_abcd1234-more"), []);
});

test("assigned, key style: the name ends the key and an operator assigns", () => {
  const re = assigned({ context: "vultr", name: "key|token", value: "[A-Z0-9]{8}" });
  for (const text of ["VULTR_API_KEY=ABCD1234", 'vultr_token: "ABCD1234"', '{ "vultrApiKey": "ABCD1234" }']) {
    assert.deepEqual(found(re, text), ["ABCD1234"], text);
  }
  assert.deepEqual(found(re, "ENV['VULTR_API_KEY'] = 'ABCD1234'"), ["ABCD1234"]);
  assert.deepEqual(found(re, "VULTR_API_KEY ABCD1234"), [], "no operator");
  assert.deepEqual(found(re, "VULTR_KEYRING=ABCD1234"), [], "the name must end the key");
});

test("assigned without a name: any name characters after the context", () => {
  const re = assigned({ context: anyCase("okta"), value: "00[a-f0-9]{6}", flags: "" });
  assert.deepEqual(found(re, "OKTA_CLIENT_API_TOKEN=00abcdef"), ["00abcdef"]);
  assert.deepEqual(found(re, "okta.client.token: 00abcdef"), ["00abcdef"]);
  assert.deepEqual(found(re, "OKTA_TOKEN=00ABCDEF"), [], "without the i flag the value keeps its case");
});

test("assigned, argument and line styles: whitespace may assign, the context starts a word", () => {
  const arg = assigned({ context: "circle", name: "token", value: "[a-f0-9]{8}", style: "argument" });
  assert.deepEqual(found(arg, "--circle-token 0123abcd"), ["0123abcd"]);
  assert.deepEqual(found(arg, "semicircle_token=0123abcd"), []);
  const ln = assigned({ context: "rollbar", name: "token", value: "[a-f0-9]{8}", style: "line" });
  assert.deepEqual(found(ln, 'new Rollbar({ accessToken: "0123abcd" })'), ["0123abcd"]);
  assert.deepEqual(found(ln, "rollbar\naccessToken: 0123abcd"), [], "same line only");
});

test("near: a distinctive value within reach of the context", () => {
  const re = near({ context: anyCase("mollie"), value: "live_[A-Za-z0-9]{8}", flags: "" });
  assert.deepEqual(found(re, 'const mollie = createMollieClient({\n  apiKey: "live_abcd1234" })'), [
    "live_abcd1234",
  ]);
  assert.deepEqual(found(re, 'apiKey: "live_abcd1234"'), []);
  const sameLine = near({ context: `${START}notion`, value: "secret_[a-z]{4}", sameLine: true });
  assert.deepEqual(found(sameLine, "notion\nsecret_abcd"), []);
  assert.deepEqual(found(sameLine, "promotion = secret_abcd"), [], "the context starts a word");
});

test("place: one positive per template, from a maker or from given secrets", () => {
  let n = 0;
  assert.deepEqual(
    place(() => `s${n++}`, [line.env("A"), (s) => `x ${s}`]),
    [
      { text: "A=s0", secret: "s0" },
      { text: "x s1", secret: "s1" },
    ],
  );
  assert.deepEqual(place(["a", "b"], [line.py("k"), line.go("k")]), [
    { text: 'k = "a"', secret: "a" },
    { text: '\tk := "b"', secret: "b" },
  ]);
  assert.throws(() => place(["a"], [line.env("A"), line.env("B")]));
});

test("assignmentExamples: .env, YAML and JSON spellings of the name, placeholders as negatives", () => {
  const ex = assignmentExamples("VULTR_API_KEY", (gen) => gen.upperAlnum(4), ["more"]);
  const positives = ex.positives(createExampleGen("x"));
  assert.equal(positives.length, 3);
  assert.match(positives[0]!.text, /^VULTR_API_KEY=/);
  assert.match(positives[1]!.text, /vultr_api_key: /);
  assert.match(positives[2]!.text, /"vultrApiKey": "/);
  assert.deepEqual(ex.negatives, [
    "VULTR_API_KEY=${VULTR_API_KEY}",
    'vultr_api_key: "<your-vultr-api-key-here>"',
    "more",
  ]);
});

test("prefixedRule: kind fields win over family defaults; a missing field is a bug", () => {
  const family: TokenFamily = {
    provider: "Example",
    body: "[a-f0-9]{8}",
    example: (gen) => gen.hex(8),
    entropy: 2,
    severity: "high",
    remediation: "Revoke it in the console and store the new one in a vault.",
  };
  const rule = prefixedRule(family, {
    id: "example-token",
    prefix: "EX.t_",
    description: "Example token.",
    severity: "low",
    docs: "https://example.com/docs",
    lines: [line.env("EXAMPLE_TOKEN")],
    negatives: ["EXAMPLE_TOKEN=EX.t_<token>"],
  });
  assert.equal(rule.severity, "low");
  assert.equal(rule.remediation, family.remediation);
  assert.deepEqual(rule.keywords, ["ex.t_"]);
  assert.deepEqual(
    found(rule.pattern, "EX.t_0123abcd EXxt_0123abcd"),
    ["EX.t_0123abcd"],
    "prefix is literal",
  );
  const [p] = rule.examples.positives(createExampleGen(rule.id));
  assert.match(p!.secret, /^EX\.t_[a-f0-9]{8}$/);
  const noDocs = { id: "x-token", prefix: "x_", description: "X token.", lines: [], negatives: [] };
  assert.throws(() => prefixedRule(family, noDocs), /x-token/);
});

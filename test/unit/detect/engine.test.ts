import assert from "node:assert/strict";
import { test } from "node:test";
import { builtinCatalogue } from "../../../src/detect/catalogue.ts";
import { compileCatalogue, scanText } from "../../../src/detect/engine.ts";
import { shannonEntropy } from "../../../src/detect/entropy.ts";
import { checkBoundedPattern } from "../../../src/detect/pattern-check.ts";
import { buildAutomaton } from "../../../src/detect/prefilter.ts";
import { testRule as rule } from "../../helpers/rules.ts";
import { compileUserRule } from "../../../src/detect/user-rules.ts";
import { KeywardenError } from "../../../src/core/errors.ts";

test("the prefilter finds every keyword occurrence, case-insensitively, including overlaps", () => {
  const a = buildAutomaton(["abc", "bc", "zz_"]);
  const hits: [string, number][] = [];
  a.scan("xxABCzz_zz_ é abc", (k, at) => hits.push([a.keywords[k]!, at]));
  assert.deepEqual(hits, [
    ["abc", 2],
    ["bc", 3],
    ["zz_", 5],
    ["zz_", 8],
    ["abc", 14],
    ["bc", 15],
  ]);
});

test("a rule only runs near its keyword", () => {
  const r = rule({ id: "t-near", keywords: ["acme_"], pattern: /\b(acme_[a-z0-9]{8})\b/ });
  const c = compileCatalogue([r]);
  const far = "acme_ mentioned\n" + "filler line\n".repeat(200) + "acme_a1b2c3d4\n";
  // The second occurrence carries its own keyword, so it is found.
  assert.equal(scanText(far, c).length, 1);
  const r2 = rule({ id: "t-ctx", keywords: ["acme"], pattern: /\b([a-z0-9]{8}zz)\b/ });
  const c2 = compileCatalogue([r2]);
  assert.equal(scanText("acme key: a1b2c3d4zz", c2).length, 1);
  assert.equal(scanText("acme\n" + "x\n".repeat(2000) + "a1b2c3d4zz", c2).length, 0);
});

test("entropy floor and validator filter matches", () => {
  const r = rule({ id: "t-ent", keywords: ["tok_"], pattern: /\b(tok_[a-z0-9]{12})\b/, entropy: 3 });
  const c = compileCatalogue([r]);
  assert.equal(scanText("tok_aaaaaaaaaaaa", c).length, 0);
  assert.equal(scanText("tok_a8f3k2m9q1z7", c).length, 1);
  const v = rule({
    id: "t-val",
    keywords: ["tok_"],
    pattern: /\b(tok_[a-z0-9]{12})\b/,
    validate: (s) => s.endsWith("7"),
  });
  assert.equal(scanText("tok_a8f3k2m9q1z7 tok_a8f3k2m9q1z6", compileCatalogue([v])).length, 1);
});

test("a generic match overlapping a provider match is dropped; duplicates collapse", () => {
  const specific = rule({ id: "t-spec", keywords: ["tok_"], pattern: /\b(tok_[a-z0-9]{12})\b/ });
  const generic = rule({ id: "t-gen", keywords: ["key"], pattern: /key = "([^"]{8,64})"/, generic: true });
  const c = compileCatalogue([specific, generic]);
  const found = scanText('key = "tok_a8f3k2m9q1z7"', c);
  assert.deepEqual(
    found.map((m) => m.rule.id),
    ["t-spec"],
  );
  assert.equal(scanText('key = "zq8f3k2m9q1z7"', c)[0]?.rule.id, "t-gen");
});

test("unbounded or nested patterns are refused", () => {
  assert.equal(checkBoundedPattern("ghp_[A-Za-z0-9]{36}"), undefined);
  assert.equal(checkBoundedPattern("(?:[A-Z0-9]{4}-){3}"), undefined);
  assert.match(checkBoundedPattern("a+")!, /unbounded/);
  assert.match(checkBoundedPattern("a*")!, /unbounded/);
  assert.match(checkBoundedPattern("a{2,}")!, /unbounded/);
  assert.match(checkBoundedPattern("(?:[a-z]{1,9}){1,9}")!, /nested/);
  assert.match(checkBoundedPattern("(a)\\1")!, /backreference/);
  assert.throws(
    () => compileCatalogue([rule({ id: "t-bad", keywords: ["x"], pattern: /x(a+)+y/ })]),
    /t-bad.*not bounded/,
  );
});

test("user rules: gitleaks inline flags work; bad ones are clear errors", () => {
  const base = {
    description: "",
    provider: "Acme",
    secretGroup: 0,
    entropy: 0,
    severity: "high" as const,
    remediation: "r",
    tags: [],
  };
  const ok = compileUserRule({ ...base, id: "acme", regex: "(?i)acme_[a-z0-9]{8}", keywords: ["ACME_"] });
  assert.equal(scanText("ACME_A1B2C3D4", compileCatalogue([ok])).length, 1);
  for (const [regex, keywords, pattern] of [
    ["acme_(", ["acme_"], /does not compile/],
    ["acme_.*", ["acme_"], /not bounded/],
    ["acme_[a-z]{8}", [], /keywords is empty/],
  ] as const) {
    assert.throws(
      () => compileUserRule({ ...base, id: "bad", regex, keywords: [...keywords] }),
      (e: unknown) =>
        e instanceof KeywardenError && e.code === "KW_ERR_RULE_INVALID" && pattern.test(e.message),
    );
  }
});

test("shannon entropy", () => {
  assert.equal(shannonEntropy(""), 0);
  assert.equal(shannonEntropy("aaaa"), 0);
  assert.equal(shannonEntropy("abcd"), 2);
});

test("runs of a keyword that overlaps itself: the same findings as recording every occurrence, few hits kept", () => {
  // "AAAA…" is base64 of zero bytes; the built-in Twitter keyword is twenty a's, so a run
  // holds an occurrence at every position.
  const builtin = builtinCatalogue();
  const starts: number[] = [];
  assert.deepEqual(scanText("A".repeat(100_000), builtin, starts), []);
  assert.ok(starts.length < 100_000 / 10, `${starts.length} keyword hits kept for a run of 100,000 A's`);

  const wide = rule({ id: "t-run", keywords: ["aaaaaaaa"], pattern: /\b(AAAAAAAA[A-Za-z0-9]{20})\b/ });
  // A window narrower than the keyword: the step is bounded by the window, not the keyword.
  const narrow = rule({
    id: "t-run-narrow",
    keywords: ["aaaaaaaa"],
    pattern: /(zz[0-9]{6})/,
    window: { before: 3, after: 9 },
  });
  const catalogue = compileCatalogue([...builtin.rules, wide, narrow]);
  const everyHit = { ...catalogue, keywordSteps: new Int32Array(catalogue.keywordSteps.length).fill(1) };
  // Long lines: a window's end snaps to the line's end when that is near, which would hide
  // a window cut short.
  const pieces = ["a", "A", "zz123456", "AAAAAAAAb1c2d3e4f5g6h7i8j9k0", "word", "a", "A"];
  let seed = 7;
  const next = (n: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n;
  let found = 0;
  for (let round = 0; round < 200; round++) {
    let text = "";
    while (text.length < 4000) {
      const piece = pieces[next(pieces.length)]!;
      text += (piece.length === 1 ? piece.repeat(1 + next(600)) : piece) + (next(40) === 0 ? "\n" : " ");
    }
    const got = scanText(text, catalogue).map((m) => `${m.rule.id}@${m.start}-${m.end}`);
    const want = scanText(text, everyHit).map((m) => `${m.rule.id}@${m.start}-${m.end}`);
    assert.deepEqual(got.sort(), want.sort(), `round ${round}`);
    found += want.length;
  }
  assert.ok(found > 500, `only ${found} findings: the texts do not exercise the rules`);
});

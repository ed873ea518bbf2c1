import assert from "node:assert/strict";
import { test } from "node:test";
import { totpCode, verifyTotp, type TotpAlgorithm } from "../../../src/services/access/totp.ts";

// RFC 6238 Appendix B: the seeds are the ASCII digits "1234567890" repeated to the hash's length.
const seed = (length: number): Uint8Array =>
  new TextEncoder().encode("1234567890".repeat(7).slice(0, length));
const SEEDS: Record<TotpAlgorithm, Uint8Array> = { SHA1: seed(20), SHA256: seed(32), SHA512: seed(64) };

const VECTORS: [number, TotpAlgorithm, string][] = [
  [59, "SHA1", "94287082"],
  [59, "SHA256", "46119246"],
  [59, "SHA512", "90693936"],
  [1111111109, "SHA1", "07081804"],
  [1111111109, "SHA256", "68084774"],
  [1111111109, "SHA512", "25091201"],
  [1111111111, "SHA1", "14050471"],
  [1111111111, "SHA256", "67062674"],
  [1111111111, "SHA512", "99943326"],
  [1234567890, "SHA1", "89005924"],
  [1234567890, "SHA256", "91819424"],
  [1234567890, "SHA512", "93441116"],
  [2000000000, "SHA1", "69279037"],
  [2000000000, "SHA256", "90698825"],
  [2000000000, "SHA512", "38618901"],
  [20000000000, "SHA1", "65353130"],
  [20000000000, "SHA256", "77737706"],
  [20000000000, "SHA512", "47863826"],
];

test("TOTP codes match every RFC 6238 Appendix B test vector", () => {
  for (const [seconds, algorithm, code] of VECTORS) {
    assert.equal(
      totpCode(SEEDS[algorithm], seconds * 1000, { algorithm, digits: 8 }),
      code,
      `${algorithm} T=${seconds}`,
    );
    assert.notEqual(
      verifyTotp(SEEDS[algorithm], code, seconds * 1000, null, { algorithm, digits: 8 }),
      undefined,
      `${algorithm} T=${seconds} verifies`,
    );
  }
});

test("a code is accepted within one step of drift, once, and never when wrong", () => {
  const secret = SEEDS.SHA1;
  const t = 1_111_111_111_000;
  const code = totpCode(secret, t);
  assert.equal(code.length, 6);
  const step = verifyTotp(secret, code, t, null);
  assert.equal(step, Math.floor(t / 30_000));
  assert.equal(verifyTotp(secret, code, t + 30_000, null), step, "one step late is accepted");
  assert.equal(verifyTotp(secret, code, t + 90_000, null), undefined, "three steps late is not");
  assert.equal(verifyTotp(secret, code, t, step), undefined, "a replay of the same step is refused");
  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
  assert.equal(verifyTotp(secret, wrong, t, null), undefined);
  assert.equal(verifyTotp(secret, "12345", t, null), undefined);
  assert.equal(verifyTotp(secret, "abcdef", t, null), undefined);
});

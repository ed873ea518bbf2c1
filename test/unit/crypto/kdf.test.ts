import assert from "node:assert/strict";
import { test } from "node:test";
import {
  checkArgon2Params,
  constantTimeEqual,
  deriveKeyFromPassphrase,
  hashPassword,
  hkdfSha256,
  hmacSha256,
  verifyPassword,
  type Argon2Params,
} from "../../../src/crypto/kdf.ts";

const hex = (s: string): Uint8Array => Buffer.from(s, "hex");
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const CHEAP: Argon2Params = { memoryKiB: 64, iterations: 1, parallelism: 1 };

test("HKDF-SHA-256 known answer: RFC 5869 test case 1", () => {
  const okm = hkdfSha256(
    hex("0b".repeat(22)),
    hex("000102030405060708090a0b0c"),
    hex("f0f1f2f3f4f5f6f7f8f9"),
    42,
  );
  assert.equal(
    toHex(okm),
    "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
  );
});

test("HMAC-SHA-256 known answer: RFC 4231 test case 2", () => {
  const mac = hmacSha256(utf8("Jefe"), utf8("what do ya want for nothing?"));
  assert.equal(toHex(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
});

test("constantTimeEqual: equal, different content, different length", () => {
  assert.equal(constantTimeEqual(hex("00ff10"), hex("00ff10")), true);
  assert.equal(constantTimeEqual(hex("00ff10"), hex("00ff11")), false);
  assert.equal(constantTimeEqual(hex("00ff10"), hex("00ff")), false);
  assert.equal(constantTimeEqual(new Uint8Array(0), new Uint8Array(0)), true);
});

test("Argon2id known answer: the reference implementation's vector (phc-winner-argon2 src/test.c)", async () => {
  // RFC 9106's vector needs associated data, which @node-rs/argon2 does not take (see NOTES.md).
  const out = await deriveKeyFromPassphrase("password", utf8("somesalt"), {
    memoryKiB: 1 << 16,
    iterations: 2,
    parallelism: 1,
  });
  assert.equal(toHex(out), "09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7");
  const phc = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";
  assert.equal(await verifyPassword(phc, "password"), true);
  assert.equal(await verifyPassword(phc, "passwore"), false);
});

test("Argon2id: every input and cost parameter changes the derived key; same inputs give the same key", async () => {
  const salt = utf8("0123456789abcdef");
  const base = toHex(await deriveKeyFromPassphrase("pass phrase", salt, CHEAP));
  assert.equal(base.length, 64);
  assert.equal(toHex(await deriveKeyFromPassphrase("pass phrase", salt, CHEAP)), base);
  const variants = [
    await deriveKeyFromPassphrase("pass phrasf", salt, CHEAP),
    await deriveKeyFromPassphrase("pass phrase", utf8("0123456789abcdeg"), CHEAP),
    await deriveKeyFromPassphrase("pass phrase", salt, { ...CHEAP, memoryKiB: 72 }),
    await deriveKeyFromPassphrase("pass phrase", salt, { ...CHEAP, iterations: 2 }),
    await deriveKeyFromPassphrase("pass phrase", salt, { ...CHEAP, parallelism: 2 }),
  ].map(toHex);
  assert.equal(new Set([base, ...variants]).size, 6);
});

test("Argon2id parameters and salts are bounds-checked before the library is called", async () => {
  await assert.rejects(deriveKeyFromPassphrase("p", utf8("short"), CHEAP), RangeError);
  await assert.rejects(
    deriveKeyFromPassphrase("p", utf8("0123456789abcdef"), { ...CHEAP, memoryKiB: 8 * 1024 * 1024 }),
    RangeError,
  );
  assert.throws(() => {
    checkArgon2Params({ memoryKiB: 16, iterations: 1, parallelism: 4 });
  }, RangeError);
  assert.throws(() => {
    checkArgon2Params({ memoryKiB: 64, iterations: 0, parallelism: 1 });
  }, RangeError);
  assert.throws(() => {
    checkArgon2Params({ memoryKiB: 64.5, iterations: 1, parallelism: 1 });
  }, RangeError);
  checkArgon2Params({ memoryKiB: 65536, iterations: 3, parallelism: 4 });
});

test("hashPassword / verifyPassword: PHC strings with a random salt and the given costs", async () => {
  const a = await hashPassword("correct horse", CHEAP);
  const b = await hashPassword("correct horse", CHEAP);
  assert.match(a, /^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
  assert.notEqual(a, b);
  assert.equal(await verifyPassword(a, "correct horse"), true);
  assert.equal(await verifyPassword(a, "correct horsf"), false);
  assert.equal(await verifyPassword("not a phc string", "correct horse"), false);
  assert.equal(await verifyPassword("$argon2id$garbage", "correct horse"), false);
});

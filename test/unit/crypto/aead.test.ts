import assert from "node:assert/strict";
import { test } from "node:test";
import { isKeywardenError } from "../../../src/core/errors.ts";
import {
  gcmDecryptWithNonce,
  gcmEncryptWithNonce,
  NONCE_BYTES,
  openBytes,
  randomKey,
  SEAL_FORMAT_VERSION,
  SEAL_OVERHEAD,
  sealBytes,
  TAG_BYTES,
} from "../../../src/crypto/aead.ts";

const hex = (s: string): Uint8Array => Buffer.from(s, "hex");
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

// The 256-bit test cases of McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)",
// also published in NIST's GCM validation set.
const VECTORS = [
  {
    name: "test case 13 (empty plaintext, no aad)",
    key: "0000000000000000000000000000000000000000000000000000000000000000",
    iv: "000000000000000000000000",
    pt: "",
    aad: "",
    ct: "",
    tag: "530f8afbc74536b9a963b4f1c4cb738b",
  },
  {
    name: "test case 14 (one zero block)",
    key: "0000000000000000000000000000000000000000000000000000000000000000",
    iv: "000000000000000000000000",
    pt: "00000000000000000000000000000000",
    aad: "",
    ct: "cea7403d4d606b6e074ec5d3baf39d18",
    tag: "d0d1c8a799996bf0265b98b5d48ab919",
  },
  {
    name: "test case 16 (partial block, with aad)",
    key: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
    iv: "cafebabefacedbaddecaf888",
    pt: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
    aad: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
    ct: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
    tag: "76fc6ece0f4e1768cddf8853bb2d551b",
  },
];

for (const v of VECTORS) {
  test(`AES-256-GCM known answer: ${v.name}`, () => {
    const { ciphertext, tag } = gcmEncryptWithNonce(hex(v.key), hex(v.iv), hex(v.pt), hex(v.aad));
    assert.equal(toHex(ciphertext), v.ct);
    assert.equal(toHex(tag), v.tag);
    assert.equal(toHex(gcmDecryptWithNonce(hex(v.key), hex(v.iv), hex(v.ct), hex(v.tag), hex(v.aad))), v.pt);
  });
}

test("the aad given in parts is authenticated as the parts joined, in their order", () => {
  const v = VECTORS[2]!;
  const aad = hex(v.aad);
  const open = (parts: readonly Uint8Array[]) =>
    gcmDecryptWithNonce(hex(v.key), hex(v.iv), hex(v.ct), hex(v.tag), parts);
  assert.equal(toHex(open([aad.subarray(0, 7), aad.subarray(7)])), v.pt);
  assert.equal(toHex(open([aad, new Uint8Array(0)])), v.pt);
  // The same bytes in another order, or one part left out, are another aad.
  for (const parts of [[aad.subarray(7), aad.subarray(0, 7)], [aad.subarray(0, 7)]])
    assert.throws(
      () => open(parts),
      (e) => isKeywardenError(e, "KW_ERR_CRYPTO_DECRYPT"),
    );
});

test("openBytes opens a known vector framed in the sealed format, the header bound into the aad", () => {
  const v = VECTORS[2]!;
  const header = Uint8Array.of(SEAL_FORMAT_VERSION);
  // sealBytes authenticates header || aad; build the same blob from the primitive with the vector's nonce.
  const { ciphertext, tag } = gcmEncryptWithNonce(
    hex(v.key),
    hex(v.iv),
    hex(v.pt),
    Buffer.concat([header, hex(v.aad)]),
  );
  const sealed = Buffer.concat([header, hex(v.iv), ciphertext, tag]);
  assert.equal(toHex(openBytes(hex(v.key), sealed, hex(v.aad))), v.pt);
  // The bare vector (header not in the aad) must not open: the header really is authenticated.
  const bare = Buffer.concat([header, hex(v.iv), hex(v.ct), hex(v.tag)]);
  assert.throws(
    () => openBytes(hex(v.key), bare, hex(v.aad)),
    (e) => isKeywardenError(e, "KW_ERR_CRYPTO_DECRYPT"),
  );
});

test("sealBytes: layout version || nonce || ciphertext || tag, fresh nonce each call, round trip", () => {
  const key = randomKey();
  assert.equal(key.length, 32);
  assert.notEqual(toHex(key), toHex(randomKey()));
  const pt = utf8("a value that must stay secret");
  const aad = utf8("sec_1|3|payments/prod/STRIPE");
  const a = sealBytes(key, pt, aad);
  const b = sealBytes(key, pt, aad);
  assert.equal(a.length, SEAL_OVERHEAD + pt.length);
  assert.equal(a[0], SEAL_FORMAT_VERSION);
  assert.notEqual(toHex(a.subarray(1, 1 + NONCE_BYTES)), toHex(b.subarray(1, 1 + NONCE_BYTES)));
  assert.notEqual(toHex(a), toHex(b));
  assert.ok(!Buffer.from(a).includes(Buffer.from(pt)));
  assert.deepEqual(Buffer.from(openBytes(key, a, aad)), Buffer.from(pt));
  assert.deepEqual(Buffer.from(openBytes(key, sealBytes(key, new Uint8Array(0), aad), aad)), Buffer.alloc(0));
});

function expectDecryptError(fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isKeywardenError(e, "KW_ERR_CRYPTO_DECRYPT"), String(e));
    return true;
  });
}

test("flipping any single bit of a sealed blob fails with KW_ERR_CRYPTO_DECRYPT", () => {
  const key = randomKey();
  const aad = utf8("sec_1|1|a/b/C");
  const sealed = sealBytes(key, utf8("0123456789abcdef0123"), aad);
  let checked = 0;
  for (let i = 0; i < sealed.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const copy = Uint8Array.from(sealed);
      copy[i] = copy[i]! ^ (1 << bit);
      expectDecryptError(() => openBytes(key, copy, aad));
      checked++;
    }
  }
  assert.equal(checked, sealed.length * 8);
});

test("a wrong aad, a wrong key, truncation or extension fails with KW_ERR_CRYPTO_DECRYPT", () => {
  const key = randomKey();
  const aad = utf8("sec_1|1|a/b/C");
  const sealed = sealBytes(key, utf8("value"), aad);
  expectDecryptError(() => openBytes(key, sealed, utf8("sec_1|2|a/b/C")));
  expectDecryptError(() => openBytes(key, sealed, new Uint8Array(0)));
  expectDecryptError(() => openBytes(randomKey(), sealed, aad));
  expectDecryptError(() => openBytes(key, sealed.subarray(0, sealed.length - 1), aad));
  expectDecryptError(() => openBytes(key, sealed.subarray(0, SEAL_OVERHEAD - 1), aad));
  expectDecryptError(() => openBytes(key, Buffer.concat([sealed, Uint8Array.of(0)]), aad));
  expectDecryptError(() =>
    gcmDecryptWithNonce(key, sealed.subarray(1, 13), sealed.subarray(13), new Uint8Array(TAG_BYTES - 1), aad),
  );
});

test("the error names no key, plaintext or ciphertext", () => {
  const key = randomKey();
  const sealed = sealBytes(key, utf8("hunter2-hunter2"), utf8("x"));
  try {
    openBytes(key, sealed, utf8("y"));
    assert.fail("opened with a wrong aad");
  } catch (e) {
    assert.ok(isKeywardenError(e, "KW_ERR_CRYPTO_DECRYPT"));
    const text = `${e.message} ${JSON.stringify(e.params)}`;
    for (const needle of [toHex(key), Buffer.from(key).toString("base64"), "hunter2", toHex(sealed)]) {
      assert.ok(!text.includes(needle));
    }
  }
});

test("a key of the wrong length is a programming error (RangeError), not a decrypt failure", () => {
  assert.throws(() => sealBytes(new Uint8Array(16), utf8("x"), utf8("")), RangeError);
  assert.throws(() => openBytes(new Uint8Array(31), new Uint8Array(40), utf8("")), RangeError);
  assert.throws(() => gcmEncryptWithNonce(randomKey(), new Uint8Array(16), utf8("x"), utf8("")), RangeError);
});

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import pkcs11js from "pkcs11js";
import { isKeywardenError } from "../../../src/core/errors.ts";
import { Pkcs11KeyProvider } from "../../../src/kms/pkcs11-provider.ts";
import { createSoftHsmToken, type SoftHsmToken } from "../../helpers/softhsm.ts";
import { tempDir } from "../../helpers/tmp.ts";

let token: SoftHsmToken;
before(() => {
  token = createSoftHsmToken("kw-pkcs11-test");
});
after(() => {
  token.remove();
});

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function expectOpenError(
  options: Parameters<typeof Pkcs11KeyProvider.open>[0],
  code: string,
  pattern: RegExp,
): void {
  assert.throws(
    () => Pkcs11KeyProvider.open(options),
    (e: unknown) => {
      assert.ok(isKeywardenError(e), String(e));
      assert.equal(e.code, code, e.message);
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes(token.pin) && !e.message.includes(options.pin));
      return true;
    },
  );
}

/** Reads attributes of the provider's keys with our own session, after the provider closed. */
function inspectKeys(
  keyLabel: string,
): { label: string; sensitive: boolean; extractable: boolean; valueReadable: boolean }[] {
  const lib = new pkcs11js.PKCS11();
  lib.load(token.module);
  lib.C_Initialize();
  try {
    const slot = lib
      .C_GetSlotList(true)
      .find((s) => lib.C_GetTokenInfo(s).label.trim() === token.tokenLabel)!;
    const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
    lib.C_Login(session, pkcs11js.CKU_USER, token.pin);
    lib.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY }]);
    const handles = lib.C_FindObjects(session, 100);
    lib.C_FindObjectsFinal(session);
    const out = [];
    for (const h of handles) {
      const [label, sensitive, extractable] = lib.C_GetAttributeValue(session, h, [
        { type: pkcs11js.CKA_LABEL },
        { type: pkcs11js.CKA_SENSITIVE },
        { type: pkcs11js.CKA_EXTRACTABLE },
      ]);
      const text = label!.value.toString();
      if (!text.startsWith(`${keyLabel}-v`)) continue;
      let valueReadable = true;
      try {
        lib.C_GetAttributeValue(session, h, [{ type: pkcs11js.CKA_VALUE }]);
      } catch {
        valueReadable = false;
      }
      out.push({
        label: text,
        sensitive: sensitive!.value[0] === 1,
        extractable: extractable!.value[0] === 1,
        valueReadable,
      });
    }
    lib.C_CloseSession(session);
    return out.sort((a, b) => a.label.localeCompare(b.label));
  } finally {
    lib.C_Finalize();
    lib.close();
  }
}

test("KEKs are generated on the token as sensitive, non-extractable AES keys labelled <keyLabel>-v<N>", async () => {
  const kms = Pkcs11KeyProvider.open({ ...token, keyLabel: "attrs" });
  const w = await kms.wrap(randomBytes(32), utf8("c"));
  assert.equal(w.blob[0], 1);
  assert.equal(w.blob.length, 1 + 12 + 32 + 16);
  await kms.rotate();
  await kms.close();
  assert.deepEqual(inspectKeys("attrs"), [
    { label: "attrs-v1", sensitive: true, extractable: false, valueReadable: false },
    { label: "attrs-v2", sensitive: true, extractable: false, valueReadable: false },
  ]);
});

test("versions persist on the token: a second provider finds them and unwraps; providers share the library", async () => {
  const a = Pkcs11KeyProvider.open({ ...token, keyLabel: "shared" });
  const dataKey = randomBytes(32);
  const w1 = await a.wrap(dataKey, utf8("ctx"));
  await a.rotate();
  const b = Pkcs11KeyProvider.open({ ...token, keyLabel: "shared" });
  assert.deepEqual((await b.status()).versions, [1, 2]);
  assert.deepEqual(Buffer.from(await b.unwrap(w1, utf8("ctx"))), dataKey);
  // b rotates from what is on the token, after a's rotation.
  assert.equal(await b.rotate(), 3);
  await a.close();
  const w3 = await b.wrap(dataKey, utf8("ctx"));
  assert.equal(w3.kekVersion, 3);
  assert.deepEqual(Buffer.from(await b.unwrap(w3, utf8("ctx"))), dataKey);
  await b.close();
  // A different key label is a different keyring on the same token.
  const other = Pkcs11KeyProvider.open({ ...token, keyLabel: "shared-other" });
  assert.deepEqual((await other.status()).versions, [1]);
  await assert.rejects(other.unwrap(w1, utf8("ctx")), (e) => isKeywardenError(e, "KW_ERR_KMS_UNWRAP"));
  await other.close();
});

test("a missing module, a missing token and a wrong PIN are clear errors, with no PIN in them", () => {
  expectOpenError(
    { ...token, keyLabel: "k", module: "/nonexistent/libpkcs11.so" },
    "KW_ERR_KMS_UNAVAILABLE",
    /PKCS#11 module not found: \/nonexistent\/libpkcs11\.so/,
  );
  expectOpenError(
    { ...token, keyLabel: "k", tokenLabel: "no-such-token" },
    "KW_ERR_KMS_UNAVAILABLE",
    /no token labelled "no-such-token".*kw-pkcs11-test/,
  );
  expectOpenError(
    { ...token, keyLabel: "k", pin: "999999" },
    "KW_ERR_KMS_AUTH_FAILED",
    /login to token "kw-pkcs11-test" failed \(CKR_PIN_INCORRECT\)/,
  );
  // Failed opens leave nothing behind: the next open works and has generated no key for "k".
  const kms = Pkcs11KeyProvider.open({ ...token, keyLabel: "after-failures" });
  assert.equal(kms.kind, "pkcs11");
  return kms.close().then(() => {
    assert.deepEqual(inspectKeys("k"), []);
  });
});

test("a file that is not a PKCS#11 library is KW_ERR_KMS_UNAVAILABLE", (t) => {
  const fake = join(tempDir(t), "libfake.so");
  writeFileSync(fake, "not a shared object");
  expectOpenError(
    { ...token, keyLabel: "k", module: fake },
    "KW_ERR_KMS_UNAVAILABLE",
    /cannot load PKCS#11 module .*libfake\.so/,
  );
});

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { isKeywardenError } from "../../../src/core/errors.ts";
import { Secret } from "../../../src/core/secret.ts";
import { openBytes } from "../../../src/crypto/aead.ts";
import { deriveKeyFromPassphrase } from "../../../src/crypto/kdf.ts";
import { initLocalKeyFile, LocalKeyProvider } from "../../../src/kms/local-provider.ts";
import { expectKwError } from "../../helpers/key-provider-suite.ts";
import { tempDir } from "../../helpers/tmp.ts";

const CHEAP = { memoryKiB: 64, iterations: 1, parallelism: 1 };
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

interface FileJson {
  format: string;
  formatVersion: number;
  kdf: { algorithm: string; salt: string; memoryKiB: number; iterations: number; parallelism: number };
  current: number;
  versions: number[];
  keyring: string;
}
const readJson = (file: string): FileJson => JSON.parse(readFileSync(file, "utf8")) as FileJson;

function snapshot(file: string): { bytes: string; mtimeMs: number } {
  return { bytes: readFileSync(file, "hex"), mtimeMs: statSync(file).mtimeMs };
}

test("initLocalKeyFile: a 0600 file in a 0700 folder, the costs stored, the keyring sealed; never overwrites", async (t) => {
  const dir = join(tempDir(t), "home", "keywarden");
  const file = join(dir, "master.key");
  await initLocalKeyFile(file, new Secret("correct horse battery"), CHEAP);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  const json = readJson(file);
  assert.equal(json.format, "keywarden-key-file");
  assert.deepEqual(json.kdf, { algorithm: "argon2id", salt: json.kdf.salt, ...CHEAP });
  assert.equal(Buffer.from(json.kdf.salt, "base64").length, 16);
  assert.deepEqual(json.versions, [1]);
  assert.equal(json.current, 1);
  assert.deepEqual(readdirSync(dir), ["master.key"]);

  const before = snapshot(file);
  await expectKwError(initLocalKeyFile(file, "another passphrase", CHEAP), "KW_ERR_KMS_KEY_FILE_EXISTS");
  assert.deepEqual(snapshot(file), before);
  await expectKwError(initLocalKeyFile(join(dir, "other.key"), "", CHEAP), "KW_ERR_USAGE");
});

test("the file format is as documented: Argon2id opens the keyring, and wrap is sealBytes(KEK_v, dataKey, context)", async (t) => {
  const file = join(tempDir(t), "master.key");
  const passphrase = "documented format";
  await initLocalKeyFile(file, passphrase, CHEAP);
  const kms = LocalKeyProvider.open(file);
  await kms.unseal(passphrase);
  const dataKey = randomBytes(32);
  const wrapped = await kms.wrap(dataKey, utf8("ctx"));
  await kms.close();

  const json = readJson(file);
  const unsealKey = await deriveKeyFromPassphrase(passphrase, Buffer.from(json.kdf.salt, "base64"), json.kdf);
  const { keyring, ...rest } = json;
  const aad = utf8(JSON.stringify({ ...rest, kdf: { ...json.kdf } }));
  const records = Buffer.from(openBytes(unsealKey, Buffer.from(keyring, "base64"), aad));
  assert.equal(records.length, 36);
  assert.equal(records.readUInt32BE(0), 1);
  const kek = records.subarray(4);
  assert.deepEqual(Buffer.from(openBytes(kek, wrapped.blob, utf8("ctx"))), dataKey);
});

test("a sealed provider reports its versions but refuses to wrap, unwrap, rotate or retire", async (t) => {
  const file = join(tempDir(t), "master.key");
  await initLocalKeyFile(file, "pass", CHEAP);
  const kms = LocalKeyProvider.open(file);
  assert.equal(kms.sealed, true);
  const status = await kms.status();
  assert.deepEqual(status, {
    kind: "local",
    unsealed: false,
    currentVersion: 1,
    versions: [1],
    description: `key file ${file} (sealed)`,
  });
  const sealed = await expectKwError(kms.wrap(randomBytes(32), utf8("c")), "KW_ERR_KMS_SEALED");
  assert.match(sealed.hint, /keywarden unseal/);
  await expectKwError(kms.unwrap({ kekVersion: 1, blob: randomBytes(40) }, utf8("c")), "KW_ERR_KMS_SEALED");
  await expectKwError(kms.rotate(), "KW_ERR_KMS_SEALED");
  await expectKwError(kms.retire(1), "KW_ERR_KMS_SEALED");

  await kms.unseal("pass");
  const w = await kms.wrap(randomBytes(32), utf8("c"));
  kms.seal();
  await expectKwError(kms.unwrap(w, utf8("c")), "KW_ERR_KMS_SEALED");
});

test("a wrong passphrase is KW_ERR_KMS_WRONG_PASSPHRASE and changes nothing on disk or in memory", async (t) => {
  const file = join(tempDir(t), "master.key");
  await initLocalKeyFile(file, "the right one", CHEAP);
  const before = snapshot(file);
  const kms = LocalKeyProvider.open(file);
  const e = await expectKwError(kms.unseal("the wrong one"), "KW_ERR_KMS_WRONG_PASSPHRASE");
  assert.ok(!e.message.includes("the wrong one") && !e.message.includes("the right one"));
  assert.equal(kms.sealed, true);
  assert.deepEqual(snapshot(file), before);

  await kms.unseal(new Secret("the right one"));
  const w = await kms.wrap(randomBytes(32), utf8("c"));
  await expectKwError(kms.unseal("the wrong one"), "KW_ERR_KMS_WRONG_PASSPHRASE");
  assert.equal(kms.sealed, false);
  await kms.unwrap(w, utf8("c"));
  assert.deepEqual(snapshot(file), before);
});

test("missing, corrupt and tampered key files are clear errors; the header is bound to the keyring", async (t) => {
  const dir = tempDir(t);
  const missing = await Promise.resolve()
    .then(() => LocalKeyProvider.open(join(dir, "nope.key")))
    .catch((e: unknown) => e);
  assert.ok(isKeywardenError(missing, "KW_ERR_KMS_KEY_FILE_NOT_FOUND"));
  assert.match(missing.hint, /keywarden init/);

  const garbage = join(dir, "garbage.key");
  writeFileSync(garbage, "{ not json");
  assert.throws(
    () => LocalKeyProvider.open(garbage),
    (e) => isKeywardenError(e, "KW_ERR_KMS_KEY_FILE_INVALID"),
  );

  const file = join(dir, "master.key");
  await initLocalKeyFile(file, "pass", CHEAP);
  const original = readJson(file);

  // Claiming a second version (consistent with "current") breaks the keyring's authentication.
  writeFileSync(file, JSON.stringify({ ...original, versions: [1, 2], current: 2 }));
  const forged = LocalKeyProvider.open(file);
  await expectKwError(forged.unseal("pass"), "KW_ERR_KMS_WRONG_PASSPHRASE");

  // Costs are bounds-checked before Argon2 runs, so a crafted file cannot demand terabytes.
  writeFileSync(file, JSON.stringify({ ...original, kdf: { ...original.kdf, memoryKiB: 2 ** 31 } }));
  assert.throws(
    () => LocalKeyProvider.open(file),
    (e) => isKeywardenError(e, "KW_ERR_KMS_KEY_FILE_INVALID"),
  );

  writeFileSync(file, JSON.stringify({ ...original, formatVersion: 9 }));
  assert.throws(
    () => LocalKeyProvider.open(file),
    (e) => isKeywardenError(e, "KW_ERR_KMS_KEY_FILE_INVALID") && /version 9/.test(e.message),
  );
});

test("rotate and retire rewrite the file atomically (0600, no temporary files) and another process sees them", async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, "k"));
  const file = join(dir, "k", "master.key");
  await initLocalKeyFile(file, "pass", CHEAP);
  const a = LocalKeyProvider.open(file);
  const b = LocalKeyProvider.open(file);
  await a.unseal("pass");
  await b.unseal("pass");
  const w1 = await a.wrap(randomBytes(32), utf8("c"));
  const saltBefore = readJson(file).kdf.salt;

  assert.equal(await a.rotate(), 2);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(join(dir, "k")), ["master.key"]);
  assert.deepEqual(readJson(file).versions, [1, 2]);
  assert.equal(readJson(file).kdf.salt, saltBefore);

  // b unsealed before the rotation: a version-2 blob makes it re-read the file.
  const w2 = await a.wrap(randomBytes(32), utf8("c"));
  assert.equal(w2.kekVersion, 2);
  await b.unwrap(w2, utf8("c"));
  // b rotates from the file as it is now, so no version number is handed out twice.
  assert.equal(await b.rotate(), 3);
  await a.retire(1);
  assert.deepEqual(readJson(file).versions, [2, 3]);
  await expectKwError(a.unwrap(w1, utf8("c")), "KW_ERR_KMS_UNKNOWN_VERSION");
  await expectKwError(a.retire(3), "KW_ERR_KMS_RETIRE_CURRENT");

  const fresh = LocalKeyProvider.open(file);
  await fresh.unseal("pass");
  assert.deepEqual((await fresh.status()).versions, [2, 3]);
  await fresh.unwrap(w2, utf8("c"));
  await Promise.all([a.close(), b.close(), fresh.close()]);
});

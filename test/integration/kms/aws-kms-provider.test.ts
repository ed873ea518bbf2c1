import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, test, type TestContext } from "node:test";
import { GenerateDataKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import {
  AwsKmsKeyProvider,
  CONTEXT_KEY,
  encryptionContext,
  VERSION_KEY,
  type AwsKmsOptions,
} from "../../../src/kms/aws-kms-provider.ts";
import { startFakeKms, unreachableEndpoint, type FakeKms } from "../../helpers/fake-kms.ts";
import { expectKwError } from "../../helpers/key-provider-suite.ts";
import { tempDir } from "../../helpers/tmp.ts";

let kms: FakeKms;
before(async () => {
  kms = await startFakeKms();
});
after(async () => {
  await kms.close();
});

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function provider(t: TestContext, overrides: Partial<AwsKmsOptions> = {}): AwsKmsKeyProvider {
  const p = new AwsKmsKeyProvider({
    keyId: kms.keyId,
    region: kms.region,
    endpoint: kms.endpoint,
    stateFile: join(tempDir(t), "aws-kms-keyring.json"),
    credentials: kms.credentials,
    ...overrides,
  });
  t.after(() => p.close());
  return p;
}

test("wrap is Encrypt with the key and an encryption context from the context bytes; unwrap is Decrypt", async (t) => {
  const p = provider(t, { keyId: "alias/keywarden" });
  const context = utf8("sec_01|1|payments/prod/X");
  const dataKey = randomBytes(32);
  const start = kms.calls.length;
  const w = await p.wrap(dataKey, context);
  assert.deepEqual(Buffer.from(await p.unwrap(w, context)), dataKey);
  const [enc, dec] = kms.calls.slice(start);
  assert.equal(enc?.operation, "Encrypt");
  assert.equal(enc.body.KeyId, "alias/keywarden");
  const expected = { [CONTEXT_KEY]: Buffer.from(context).toString("base64"), [VERSION_KEY]: "1" };
  assert.deepEqual(enc.body.EncryptionContext, expected);
  assert.equal(dec?.operation, "Decrypt");
  assert.deepEqual(dec.body.EncryptionContext, expected);
  assert.equal(dec.body.KeyId, "alias/keywarden");
});

test("KMS error responses become catalogue errors: auth, refused, unavailable, bad ciphertext", async (t) => {
  const p = provider(t);
  const w = await p.wrap(randomBytes(32), utf8("c"));

  kms.failNext({ type: "AccessDeniedException", message: "User is not authorized to perform kms:Encrypt" });
  const denied = await expectKwError(p.wrap(randomBytes(32), utf8("c")), "KW_ERR_KMS_AUTH_FAILED");
  assert.match(denied.message, /AccessDeniedException: User is not authorized/);

  kms.failNext({ type: "DisabledException", message: "the key is disabled" });
  const disabled = await expectKwError(p.unwrap(w, utf8("c")), "KW_ERR_KMS_REFUSED");
  assert.match(disabled.message, /refused Decrypt: DisabledException: the key is disabled/);

  // 5xx answers are retried by the SDK; fail every attempt.
  kms.failNext({ type: "KMSInternalException", message: "try later", status: 500 }, 5);
  await expectKwError(p.wrap(randomBytes(32), utf8("c")), "KW_ERR_KMS_UNAVAILABLE");
  kms.failNext({ type: "KMSInternalException", message: "", status: 500 }, 0); // clears what the retries left

  const unknown = provider(t, { keyId: "alias/does-not-exist" });
  await expectKwError(unknown.wrap(randomBytes(32), utf8("c")), "KW_ERR_KMS_REFUSED");

  const wrongCreds = provider(t, {
    credentials: {
      accessKeyId: "AKIA" + randomBytes(8).toString("hex").toUpperCase(),
      secretAccessKey: "x".repeat(40),
    },
  });
  const auth = await expectKwError(wrongCreds.wrap(randomBytes(32), utf8("c")), "KW_ERR_KMS_AUTH_FAILED");
  assert.ok(!auth.message.includes("x".repeat(40)));

  // A blob made under one key, presented as the current version of another, is IncorrectKeyException.
  const other = provider(t, { keyId: kms.createKey() });
  await expectKwError(other.unwrap(w, utf8("c")), "KW_ERR_KMS_UNWRAP");
});

test("an unreachable endpoint is KW_ERR_KMS_UNAVAILABLE naming it, and nothing is written", async (t) => {
  const endpoint = await unreachableEndpoint();
  const dir = tempDir(t);
  const stateFile = join(dir, "aws-kms-keyring.json");
  const p = provider(t, { endpoint, stateFile });
  const e = await expectKwError(p.wrap(randomBytes(32), utf8("c")), "KW_ERR_KMS_UNAVAILABLE");
  assert.match(e.message, new RegExp(`Encrypt at ${endpoint} failed: ECONNREFUSED`));
  await expectKwError(
    p.unwrap({ kekVersion: 1, blob: randomBytes(64) }, utf8("c")),
    "KW_ERR_KMS_UNAVAILABLE",
  );
  await expectKwError(p.rotate(), "KW_ERR_KMS_UNAVAILABLE");
  assert.equal(existsSync(stateFile), false);

  // With a keyring file already there, a failed rotation leaves it byte for byte.
  const live = provider(t, { stateFile });
  await live.rotate();
  const before = readFileSync(stateFile, "hex");
  const down = provider(t, { endpoint, stateFile });
  await expectKwError(down.rotate(), "KW_ERR_KMS_UNAVAILABLE");
  assert.equal(readFileSync(stateFile, "hex"), before);
  assert.deepEqual((await down.status()).versions, [1, 2]);
});

test("rotate creates a KMS key and records it (0600); another instance reads the record", async (t) => {
  const stateFile = join(tempDir(t), "aws-kms-keyring.json");
  const a = provider(t, { stateFile });
  const w1 = await a.wrap(randomBytes(32), utf8("c"));
  const start = kms.calls.length;
  assert.equal(await a.rotate(), 2);
  assert.equal(kms.calls[start]?.operation, "CreateKey");
  assert.equal(statSync(stateFile).mode & 0o777, 0o600);
  const record = JSON.parse(readFileSync(stateFile, "utf8")) as {
    versions: { version: number; keyId: string }[];
  };
  assert.equal(record.versions[0]?.keyId, kms.keyId);
  assert.match(record.versions[1]?.keyId ?? "", /^arn:aws:kms:us-east-1:\d+:key\//);

  const b = provider(t, { stateFile });
  const status = await b.status();
  assert.deepEqual(status.versions, [1, 2]);
  assert.match(status.description, /v2=arn:aws:kms/);
  await b.unwrap(w1, utf8("c"));
  const w2 = await b.wrap(randomBytes(32), utf8("c"));
  assert.equal(w2.kekVersion, 2);
  assert.equal(kms.calls.at(-1)?.body.KeyId, record.versions[1]?.keyId);
});

test("the local KMS server's GenerateDataKey interoperates: its blob unwraps through the provider", async (t) => {
  const p = provider(t);
  const client = new KMSClient({ region: kms.region, endpoint: kms.endpoint, credentials: kms.credentials });
  t.after(() => {
    client.destroy();
  });
  const context = utf8("sec_02|1|a/b/C");
  const out = await client.send(
    new GenerateDataKeyCommand({
      KeyId: kms.keyId,
      KeySpec: "AES_256",
      EncryptionContext: encryptionContext(context, 1),
    }),
  );
  assert.equal(out.Plaintext?.length, 32);
  const unwrapped = await p.unwrap({ kekVersion: 1, blob: out.CiphertextBlob! }, context);
  assert.deepEqual(Buffer.from(unwrapped), Buffer.from(out.Plaintext));
});

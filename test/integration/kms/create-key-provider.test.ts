import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { describeConfig, loadConfig } from "../../../src/config/load.ts";
import { isKeywardenError } from "../../../src/core/errors.ts";
import { Secret } from "../../../src/core/secret.ts";
import {
  createKeyProvider,
  initLocalKeyFile,
  isSealed,
  localKeyFilePath,
  unseal,
  type KeyProvider,
} from "../../../src/kms/index.ts";
import { startFakeKms, type FakeKms } from "../../helpers/fake-kms.ts";
import { expectKwError } from "../../helpers/key-provider-suite.ts";
import { createSoftHsmToken, type SoftHsmToken } from "../../helpers/softhsm.ts";
import { tempDir } from "../../helpers/tmp.ts";

let token: SoftHsmToken;
let fakeKms: FakeKms;
before(async () => {
  token = createSoftHsmToken("kw-create-test");
  fakeKms = await startFakeKms();
});
after(async () => {
  await fakeKms.close();
  token.remove();
});

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

async function roundTrip(kms: KeyProvider): Promise<void> {
  const dataKey = randomBytes(32);
  assert.deepEqual(Buffer.from(await kms.unwrap(await kms.wrap(dataKey, utf8("c")), utf8("c"))), dataKey);
}

test("the kms config section: defaults, env variables, and the PIN masked by config show", (t) => {
  const dir = tempDir(t);
  const { config } = loadConfig({ cwd: dir, env: {} });
  assert.equal(config.kms.provider, "local");
  assert.equal(config.kms.local.keyFile, "");
  assert.deepEqual(config.kms.local.argon2, { memoryKiB: 65536, iterations: 3, parallelism: 4 });
  assert.equal(config.kms.env.variable, "KEYWARDEN_MASTER_KEY");
  assert.equal(config.kms.pkcs11.module, "/usr/lib/softhsm/libsofthsm2.so");
  assert.equal(localKeyFilePath(config, "/h"), "/h/master.key");

  const pin = randomBytes(4).toString("hex");
  const loaded = loadConfig({
    cwd: dir,
    env: {
      KEYWARDEN_KMS_PROVIDER: "pkcs11",
      KEYWARDEN_KMS_PKCS11_PIN: pin,
      KEYWARDEN_KMS_LOCAL_ARGON2_MEMORY_KI_B: "128",
    },
  });
  assert.equal(loaded.config.kms.provider, "pkcs11");
  assert.equal(loaded.config.kms.pkcs11.pin, pin);
  assert.equal(loaded.config.kms.local.argon2.memoryKiB, 128);
  const shown = describeConfig(loaded).find((o) => o.key === "kms.pkcs11.pin");
  assert.equal(shown?.value, "****");
  assert.throws(
    () => loadConfig({ cwd: dir, env: { KEYWARDEN_KMS_PROVIDER: "vault" } }),
    (e) => isKeywardenError(e, "KW_ERR_CONFIG_INVALID") && /kms\.provider/.test(e.message),
  );
});

test("local: missing key file, then init, a sealed provider, unseal with a Secret", async (t) => {
  const home = tempDir(t);
  const { config } = loadConfig({
    cwd: home,
    env: {
      KEYWARDEN_KMS_LOCAL_ARGON2_MEMORY_KI_B: "64",
      KEYWARDEN_KMS_LOCAL_ARGON2_PARALLELISM: "1",
      KEYWARDEN_KMS_LOCAL_ARGON2_ITERATIONS: "1",
    },
  });
  const missing = await expectKwError(
    createKeyProvider(config, { home, env: {} }),
    "KW_ERR_KMS_KEY_FILE_NOT_FOUND",
  );
  assert.equal(missing.params.file, join(home, "master.key"));

  await initLocalKeyFile(localKeyFilePath(config, home), new Secret("open sesame"), config.kms.local.argon2);
  const kms = await createKeyProvider(config, { home, env: {} });
  t.after(() => kms.close());
  assert.equal(kms.kind, "local");
  assert.equal(isSealed(kms), true);
  await expectKwError(unseal(kms, "open sesame?"), "KW_ERR_KMS_WRONG_PASSPHRASE");
  await unseal(kms, new Secret("open sesame"));
  assert.equal(isSealed(kms), false);
  await roundTrip(kms);
});

test("env: the variable comes from the map passed in; unseal is a no-op", async (t) => {
  const home = tempDir(t);
  const { config } = loadConfig({
    cwd: home,
    env: { KEYWARDEN_KMS_PROVIDER: "env", KEYWARDEN_KMS_ENV_VARIABLE: "APP_KEK" },
  });
  await expectKwError(
    createKeyProvider(config, { home, env: { KEYWARDEN_MASTER_KEY: randomBytes(32).toString("base64") } }),
    "KW_ERR_KMS_ENV_KEY",
  );
  const kms = await createKeyProvider(config, { home, env: { APP_KEK: randomBytes(32).toString("base64") } });
  t.after(() => kms.close());
  assert.equal(kms.kind, "env");
  await unseal(kms, "ignored");
  assert.equal(isSealed(kms), false);
  await roundTrip(kms);
});

test("pkcs11: opens the configured token; an empty PIN is a config error", async (t) => {
  const home = tempDir(t);
  const env = {
    KEYWARDEN_KMS_PROVIDER: "pkcs11",
    KEYWARDEN_KMS_PKCS11_TOKEN_LABEL: token.tokenLabel,
    KEYWARDEN_KMS_PKCS11_KEY_LABEL: "via-config",
  };
  const noPin = loadConfig({ cwd: home, env }).config;
  const e = await expectKwError(createKeyProvider(noPin, { home, env: {} }), "KW_ERR_CONFIG_INVALID");
  assert.match(e.message, /kms\.pkcs11\.pin/);
  const { config } = loadConfig({ cwd: home, env: { ...env, KEYWARDEN_KMS_PKCS11_PIN: token.pin } });
  const kms = await createKeyProvider(config, { home, env: {} });
  t.after(() => kms.close());
  assert.equal(kms.kind, "pkcs11");
  await roundTrip(kms);
});

test("aws-kms: endpoint, region and key from config, credentials from deps, keyring file in home", async (t) => {
  const home = tempDir(t);
  const env = {
    KEYWARDEN_KMS_PROVIDER: "aws-kms",
    KEYWARDEN_KMS_AWS_KMS_ENDPOINT: fakeKms.endpoint,
    KEYWARDEN_KMS_AWS_KMS_REGION: fakeKms.region,
  };
  await expectKwError(
    createKeyProvider(loadConfig({ cwd: home, env }).config, { home, env: {} }),
    "KW_ERR_CONFIG_INVALID",
  );
  const { config } = loadConfig({ cwd: home, env: { ...env, KEYWARDEN_KMS_AWS_KMS_KEY_ID: fakeKms.keyId } });
  const kms = await createKeyProvider(config, { home, env: {}, awsCredentials: fakeKms.credentials });
  t.after(() => kms.close());
  assert.equal(kms.kind, "aws-kms");
  await roundTrip(kms);
  await kms.rotate();
  const again = await createKeyProvider(config, { home, env: {}, awsCredentials: fakeKms.credentials });
  t.after(() => again.close());
  assert.deepEqual((await again.status()).versions, [1, 2]);
});

import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { after, before } from "node:test";
import { AwsKmsKeyProvider } from "../../../src/kms/aws-kms-provider.ts";
import { EnvKeyProvider } from "../../../src/kms/env-provider.ts";
import { initLocalKeyFile, LocalKeyProvider } from "../../../src/kms/local-provider.ts";
import { Pkcs11KeyProvider } from "../../../src/kms/pkcs11-provider.ts";
import { startFakeKms, type FakeKms } from "../../helpers/fake-kms.ts";
import { keyProviderContract } from "../../helpers/key-provider-suite.ts";
import { createSoftHsmToken, type SoftHsmToken } from "../../helpers/softhsm.ts";
import { tempDir } from "../../helpers/tmp.ts";

const CHEAP_ARGON2 = { memoryKiB: 64, iterations: 1, parallelism: 1 };

let token: SoftHsmToken;
let kms: FakeKms;
before(async () => {
  token = createSoftHsmToken();
  kms = await startFakeKms();
});
after(async () => {
  await kms.close();
  token.remove();
});

keyProviderContract("local", async (t, logger) => {
  const file = join(tempDir(t), "master.key");
  const passphrase = `pass ${randomBytes(8).toString("hex")}`;
  await initLocalKeyFile(file, passphrase, CHEAP_ARGON2);
  const provider = LocalKeyProvider.open(file, { logger });
  await provider.unseal(passphrase);
  return { provider, secrets: [passphrase] };
});

keyProviderContract("env", (_t, logger) => {
  const variable = "KW_TEST_MASTER_KEY";
  const env: Record<string, string | undefined> = {
    [variable]: randomBytes(32).toString("base64"),
    UNRELATED: "x",
  };
  const nameOf = (version: number): string => (version === 1 ? variable : `${variable}_V${version}`);
  const secrets = [env[variable]!];
  let latest = 1;
  return Promise.resolve({
    provider: new EnvKeyProvider({ variable, env, logger }),
    secrets,
    // Rotation and retirement by deployment: add or remove a numbered variable, then restart.
    async rotate(old) {
      await old.close();
      latest++;
      env[nameOf(latest)] = randomBytes(32).toString("base64");
      secrets.push(env[nameOf(latest)]!);
      return { provider: new EnvKeyProvider({ variable, env, logger }), version: latest };
    },
    async retire(old, version) {
      await old.close();
      env[nameOf(version)] = undefined;
      return new EnvKeyProvider({ variable, env, logger });
    },
  });
});

let labels = 0;
keyProviderContract("pkcs11 (SoftHSM2)", (_t, logger) => {
  // One token per run; a fresh key label per test keeps the tests independent.
  const provider = Pkcs11KeyProvider.open({ ...token, keyLabel: `contract-${++labels}`, logger });
  return Promise.resolve({ provider, secrets: [token.pin] });
});

keyProviderContract("aws-kms (local KMS server)", (t, logger) => {
  const provider = new AwsKmsKeyProvider({
    keyId: kms.createKey(),
    region: kms.region,
    endpoint: kms.endpoint,
    stateFile: join(tempDir(t), "aws-kms-keyring.json"),
    credentials: kms.credentials,
    logger,
  });
  return Promise.resolve({ provider, secrets: [kms.credentials.secretAccessKey] });
});

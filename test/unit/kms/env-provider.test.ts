import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { isKeywardenError } from "../../../src/core/errors.ts";
import { EnvKeyProvider, readEnvKeys } from "../../../src/kms/env-provider.ts";
import { expectKwError } from "../../helpers/key-provider-suite.ts";

const VAR = "KEYWARDEN_MASTER_KEY";
const key = (): string => randomBytes(32).toString("base64");

function expectEnvError(env: Record<string, string>, variable: string, reason: RegExp): void {
  assert.throws(
    () => new EnvKeyProvider({ variable: VAR, env }),
    (e: unknown) => {
      assert.ok(isKeywardenError(e, "KW_ERR_KMS_ENV_KEY"), String(e));
      assert.equal(e.params.variable, variable);
      assert.match(e.message, reason);
      for (const value of Object.values(env)) {
        if (value.trim().length >= 4)
          assert.ok(!e.message.includes(value.trim()), "the error printed the value");
      }
      return true;
    },
  );
}

test("a missing or malformed variable is an error naming the variable, never its value", () => {
  expectEnvError({}, VAR, /KEYWARDEN_MASTER_KEY: is not set/);
  expectEnvError({ [VAR]: "   " }, VAR, /is empty/);
  expectEnvError(
    { [VAR]: "this is not base64 at all, not even close!!" },
    VAR,
    /not the base64 encoding of 32 bytes/,
  );
  expectEnvError({ [VAR]: randomBytes(16).toString("base64") }, VAR, /not the base64 encoding of 32 bytes/);
  expectEnvError({ [VAR]: randomBytes(33).toString("base64") }, VAR, /not the base64 encoding of 32 bytes/);
  expectEnvError({ [VAR]: randomBytes(32).toString("hex") }, VAR, /not the base64 encoding of 32 bytes/);
  expectEnvError({ [VAR]: key(), [`${VAR}_V2`]: "short" }, `${VAR}_V2`, /not the base64/);
  expectEnvError({ [VAR]: key(), [`${VAR}_V1`]: key() }, `${VAR}_V1`, /start at _V2/);
  expectEnvError({ [VAR]: key(), [`${VAR}_V02`]: key() }, `${VAR}_V02`, /start at _V2/);
});

test("standard, unpadded, url-safe and space-padded base64 are accepted; other variables are ignored", () => {
  const raw = randomBytes(32);
  for (const value of [
    raw.toString("base64"),
    raw.toString("base64").replace(/=$/, ""),
    raw.toString("base64url"),
    ` ${raw.toString("base64")}\n`,
  ]) {
    const keys = readEnvKeys(VAR, { [VAR]: value, OTHER: "not a key", [`${VAR}_EXTRA`]: "nope" });
    assert.deepEqual([...keys.keys()], [1]);
    assert.deepEqual(keys.get(1), raw);
  }
});

test("numbered variables are versions; the highest present is current, v1 may be gone", async () => {
  const env = { [`${VAR}_V3`]: key(), [`${VAR}_V2`]: key() };
  const kms = new EnvKeyProvider({ variable: VAR, env });
  const status = await kms.status();
  assert.equal(status.currentVersion, 3);
  assert.deepEqual(status.versions, [2, 3]);
  assert.match(status.description, /KEYWARDEN_MASTER_KEY/);
  assert.equal((await kms.wrap(randomBytes(32), new Uint8Array(0))).kekVersion, 3);
});

test("rotate and retire refuse, saying which variable to deploy or remove", async () => {
  const kms = new EnvKeyProvider({ variable: VAR, env: { [VAR]: key(), [`${VAR}_V2`]: key() } });
  const rotate = await expectKwError(kms.rotate(), "KW_ERR_KMS_ROTATE_UNSUPPORTED");
  assert.match(rotate.message, /set KEYWARDEN_MASTER_KEY_V3 /);
  const retire = await expectKwError(kms.retire(1), "KW_ERR_KMS_ROTATE_UNSUPPORTED");
  assert.match(retire.message, /remove KEYWARDEN_MASTER_KEY from the environment/);
  assert.deepEqual((await kms.status()).versions, [1, 2]);
});

test("the env provider reads only the map it is given", () => {
  const env = { [VAR]: key() };
  const kms = new EnvKeyProvider({ variable: VAR, env });
  assert.equal(kms.kind, "env");
  assert.throws(
    () => new EnvKeyProvider({ variable: "KW_NOT_IN_THE_MAP_" + randomBytes(4).toString("hex"), env }),
    (e) => isKeywardenError(e, "KW_ERR_KMS_ENV_KEY"),
  );
});

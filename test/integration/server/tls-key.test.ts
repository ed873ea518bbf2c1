/**
 * The generated TLS key at rest (server/tls.ts, tls-key-box.ts): sealed by the vault while it
 * is unsealed, in the clear only for a server that starts sealed, and every way the files can
 * be wrong ends in KW_ERR_SERVER_TLS with the reason, losing nothing.
 */
import assert from "node:assert/strict";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { systemClock } from "../../../src/core/clock.ts";
import { isKeywardenError } from "../../../src/core/errors.ts";
import { loadOrCreateTls, SEALED_KEY, SELF_SIGNED_CERT, SELF_SIGNED_KEY } from "../../../src/server/tls.ts";
import { tlsKeyBox } from "../../../src/server/tls-key-box.ts";
import { DIALECTS } from "../../helpers/storage.ts";
import { createTestVault } from "../../helpers/vault.ts";

const GENERATED = { tlsCert: "", tlsKey: "" };
const sqlite = DIALECTS.find((d) => d.name === "sqlite")!;

async function unsealedBox(t: TestContext) {
  const v = await createTestVault(t, sqlite);
  const box = tlsKeyBox(v.kw, systemClock);
  assert.ok(box !== undefined, "an unsealed vault has a box");
  return { ...v, box };
}

function tlsError(reason: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(isKeywardenError(e) && e.code === "KW_ERR_SERVER_TLS", String(e));
    assert.match(e.message, reason);
    return true;
  };
}

function sealedStartError(e: unknown): boolean {
  assert.ok(isKeywardenError(e) && e.code === "KW_ERR_SERVER_TLS_KEY_SEALED", String(e));
  assert.match(e.message, /server-key\.sealed is sealed by the vault, and this server starts sealed/);
  return true;
}

test("generated while unsealed: the key is sealed, nothing in home holds it in the clear, and it reopens", async (t) => {
  const v = await unsealedBox(t);
  const { home, box } = v;
  const made = await loadOrCreateTls(GENERATED, home, ["localhost"], box);
  assert.equal(made.generated, true);
  assert.equal(made.keyAtRest, "sealed");
  assert.equal(existsSync(join(home, SELF_SIGNED_KEY)), false);
  const sealed = readFileSync(join(home, SEALED_KEY), "utf8");
  assert.ok(!sealed.includes("PRIVATE KEY"), "no PEM block in the file");
  const body = made.key.split("\n").slice(1, -2).join("");
  assert.ok(!sealed.includes(body.slice(0, 40)), "nor the key's base64");
  // `kek rotate --retire` re-wraps the box's key too: the file still opens afterwards.
  await v.kw.kek.rotate(v.ctx, { retire: true });
  const again = await loadOrCreateTls(GENERATED, home, ["localhost"], box);
  assert.equal(again.generated, false);
  assert.equal(again.key, made.key);
  assert.equal(again.fingerprint, made.fingerprint);
  assert.ok(new X509Certificate(again.cert).checkPrivateKey(createPrivateKey(again.key)));
});

test("a clear key (a sealed start's, or an older version's) is sealed at the next unsealed load, and a wrong one is left alone", async (t) => {
  const { home, box } = await unsealedBox(t);
  const clear = await loadOrCreateTls(GENERATED, home);
  assert.equal(clear.keyAtRest, "clear");
  assert.equal(existsSync(join(home, SELF_SIGNED_KEY)), true);
  const reloaded = await loadOrCreateTls(GENERATED, home);
  assert.equal(reloaded.key, clear.key, "a sealed start reuses it");

  // Another pair's key beside this certificate: refused, and neither file is touched.
  const other = await loadOrCreateTls(GENERATED, join(home, "other"));
  const keyFile = join(home, SELF_SIGNED_KEY);
  const original = readFileSync(keyFile, "utf8");
  writeFileSync(keyFile, other.key);
  await assert.rejects(
    loadOrCreateTls(GENERATED, home, ["localhost"], box),
    tlsError(/not the private key of server-cert\.pem/),
  );
  assert.equal(readFileSync(keyFile, "utf8"), other.key);
  assert.equal(existsSync(join(home, SEALED_KEY)), false);

  writeFileSync(keyFile, original);
  const sealed = await loadOrCreateTls(GENERATED, home, ["localhost"], box);
  assert.equal(sealed.keyAtRest, "sealed-now");
  assert.equal(sealed.fingerprint, clear.fingerprint, "the same pair: pinned clients go on");
  assert.equal(existsSync(keyFile), false);
  assert.equal((await loadOrCreateTls(GENERATED, home, ["localhost"], box)).keyAtRest, "sealed");

  // A sealing that stopped between writing the sealed file and removing the clear one: a sealed
  // start uses the clear key, the next unsealed load removes it.
  writeFileSync(keyFile, original);
  assert.equal((await loadOrCreateTls(GENERATED, home)).keyAtRest, "clear");
  const finished = await loadOrCreateTls(GENERATED, home, ["localhost"], box);
  assert.deepEqual([finished.keyAtRest, finished.key], ["sealed-now", original]);
  assert.equal(existsSync(keyFile), false);
});

test("a sealed key cannot serve a sealed start, nor open with another vault's keys or once changed", async (t) => {
  const { home, box, kw } = await unsealedBox(t);
  await loadOrCreateTls(GENERATED, home, ["localhost"], box);
  await assert.rejects(loadOrCreateTls(GENERATED, home), sealedStartError);

  const elsewhere = await unsealedBox(t);
  await assert.rejects(
    loadOrCreateTls(GENERATED, home, ["localhost"], elsewhere.box),
    tlsError(/does not open with this vault's keys/),
  );

  const file = join(home, SEALED_KEY);
  const good = readFileSync(file, "utf8");
  const parsed = JSON.parse(good) as { format: string; sealed: string };
  const bytes = Buffer.from(parsed.sealed, "base64");
  bytes[bytes.length - 1]! ^= 1;
  for (const spoiled of [
    JSON.stringify({ ...parsed, sealed: bytes.toString("base64") }),
    "not json",
    JSON.stringify({ format: "something-else", sealed: parsed.sealed }),
  ]) {
    writeFileSync(file, spoiled);
    await assert.rejects(loadOrCreateTls(GENERATED, home, ["localhost"], box), tlsError(/does not open/));
    assert.equal(readFileSync(file, "utf8"), spoiled, "the file is left as evidence");
  }
  writeFileSync(file, good);
  assert.equal((await loadOrCreateTls(GENERATED, home, ["localhost"], box)).keyAtRest, "sealed");

  // A sealed vault has no box.
  await kw.seal({ actor: "cli:tester", source: "cli", requestId: "req_test" });
  assert.equal(tlsKeyBox(kw, systemClock), undefined);
  assert.equal(existsSync(join(home, SELF_SIGNED_CERT)), true);
});

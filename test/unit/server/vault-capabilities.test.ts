import assert from "node:assert/strict";
import { test } from "node:test";
import type { Capability } from "../../../src/services/access/access-types.ts";
import { vaultCapabilities, type CapabilityCheck } from "../../../src/server/routes/vault-capabilities.ts";

/** A check that allows exactly `allowed` ("capability path" pairs; a folder as "list prefix/"). */
function allowing(...allowed: string[]): CapabilityCheck {
  const set = new Set(allowed);
  return {
    can: (capability: Capability, path: string) => Promise.resolve(set.has(`${capability} ${path}`)),
    canList: (prefix: string) => Promise.resolve(set.has(`list ${prefix}`)),
  };
}

test("Vault's capabilities of KV v2 paths, from Keywarden's capabilities on the secret path", async () => {
  const p = "payments/prod/KEY";
  const reader = allowing(`read ${p}`, `list ${p}`);
  assert.deepEqual(await vaultCapabilities(`secret/data/${p}`, reader), ["read"]);
  assert.deepEqual(await vaultCapabilities(`secret/metadata/${p}`, reader), ["read"]);
  assert.deepEqual(await vaultCapabilities(`secret/delete/${p}`, reader), ["deny"]);
  const writer = allowing(`read ${p}`, `write ${p}`, `delete ${p}`, `destroy ${p}`);
  assert.deepEqual(await vaultCapabilities(`kv/data/${p}`, writer), [
    "create",
    "delete",
    "patch",
    "read",
    "update",
  ]);
  assert.deepEqual(await vaultCapabilities(`kv/metadata/${p}`, writer), ["create", "delete", "update"]);
  assert.deepEqual(await vaultCapabilities(`kv/undelete/${p}`, writer), ["update"]);
  assert.deepEqual(await vaultCapabilities(`kv/destroy/${p}`, writer), ["update"]);
  // A patch reads, then writes: write alone does not allow it.
  assert.deepEqual(await vaultCapabilities(`kv/data/${p}`, allowing(`write ${p}`)), ["create", "update"]);
  // A folder's metadata is its listing: list on everything under it.
  const lister = allowing("list payments/prod/");
  assert.deepEqual(await vaultCapabilities("secret/metadata/payments/prod", lister), ["list"]);
  assert.deepEqual(await vaultCapabilities("secret/metadata/payments/prod/", lister), ["list"]);
  // Leading slashes are Vault's too; anything that is no KV v2 path is denied.
  assert.deepEqual(await vaultCapabilities(`/secret/data/${p}`, reader), ["read"]);
  for (const other of [
    "sys/seal",
    "auth/token/create",
    "secret/config",
    "secret/data/",
    "",
    "bad mount/data/x",
  ])
    assert.deepEqual(await vaultCapabilities(other, writer), ["deny"], other);
});

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isKeywardenError } from "../../../src/core/errors.ts";
import { Secret } from "../../../src/core/secret.ts";
import { LocalKeyProvider } from "../../../src/kms/local-provider.ts";
import { DIALECTS } from "../../helpers/storage.ts";
import { createTestVault } from "../../helpers/vault.ts";

for (const d of DIALECTS) {
  describe(`vault read path on ${d.name}`, () => {
    test("cached data keys never outlive a seal or a destroy", async (t) => {
      const { kw, ctx, passphrase } = await createTestVault(t, d);
      const path = "payments/prod/API_KEY";
      await kw.vault.set(ctx, path, new Secret("value one"));
      await kw.vault.set(ctx, path, new Secret("value two"));
      // Twice each: the second read of a version uses its cached key.
      for (let i = 0; i < 2; i++) {
        assert.equal((await kw.vault.get(ctx, path)).value.reveal(), "value two");
        assert.equal((await kw.vault.get(ctx, path, { version: 1 })).value.reveal(), "value one");
      }
      assert.ok(kw.kms instanceof LocalKeyProvider);
      kw.kms.seal();
      await assert.rejects(kw.vault.get(ctx, path), (e) => isKeywardenError(e, "KW_ERR_KMS_SEALED"));
      await kw.unseal(ctx, passphrase);
      assert.equal((await kw.vault.get(ctx, path)).value.reveal(), "value two");
      await kw.vault.destroy(ctx, path, 2);
      await assert.rejects(kw.vault.get(ctx, path), (e) =>
        isKeywardenError(e, "KW_ERR_VAULT_VERSION_DESTROYED"),
      );
      assert.equal((await kw.vault.get(ctx, path, { version: 1 })).value.reveal(), "value one");
      await assert.rejects(kw.vault.get(ctx, path, { version: 3 }), (e) =>
        isKeywardenError(e, "KW_ERR_VAULT_VERSION_NOT_FOUND"),
      );
      await assert.rejects(kw.vault.get(ctx, "payments/prod/NONE"), (e) =>
        isKeywardenError(e, "KW_ERR_VAULT_NOT_FOUND"),
      );
      // Every read above, served or refused, is in the log.
      const reads = await kw.audit.query({ action: "secret.read", limit: 100 });
      assert.equal(reads.length, 10);
    });
  });
}

import type { TestContext } from "node:test";
import { createAccessService, type AccessManager } from "../../src/services/access/access-service.ts";
import type { TestDialect } from "./storage.ts";
import { CHEAP_ARGON2, createTestVault, type TestVault } from "./vault.ts";

export interface TestAccess extends TestVault {
  readonly access: AccessManager;
}

/** A vault on a fresh database with an access service on it (cheap Argon2, the vault's fixed clock). */
export async function createTestAccess(t: TestContext, d: TestDialect): Promise<TestAccess> {
  const v = await createTestVault(t, d);
  const access = createAccessService({
    storage: v.kw.storage,
    audit: v.kw.audit,
    kms: v.kw.kms,
    clock: v.clock,
    config: {
      tokenTtl: 30 * 86400,
      tokenMaxTtl: 90 * 86400,
      childTokenMaxMinutes: 60,
      lockoutThreshold: 3,
      lockoutBaseSeconds: 30,
      lockoutMaxSeconds: 600,
      sessionIdleMinutes: 30,
      sessionMaxHours: 12,
      oidc: [],
    },
    argon2: CHEAP_ARGON2,
  });
  t.after(() => {
    access.close();
  });
  return { ...v, access };
}

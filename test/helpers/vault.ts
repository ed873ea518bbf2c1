import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { createKeywarden, type Keywarden } from "../../src/app.ts";
import { loadConfig } from "../../src/config/load.ts";
import { initLocalKeyFile } from "../../src/kms/local-provider.ts";
import type { RequestContext } from "../../src/services/audit/audit-service.ts";
import type { Authorizer } from "../../src/services/vault/vault-service.ts";
import type { TestDialect } from "./storage.ts";
import { fixedClock } from "./clock.ts";

/** Argon2id costs low enough for tests; production uses the config defaults. */
export const CHEAP_ARGON2 = { memoryKiB: 64, iterations: 1, parallelism: 1 };

export interface TestVault {
  readonly kw: Keywarden;
  readonly ctx: RequestContext;
  readonly home: string;
  readonly url: string;
  readonly passphrase: string;
  readonly clock: ReturnType<typeof fixedClock>;
  /** Opens another Keywarden on the same database and home (unsealed), as another process would. */
  reopen(options?: { authorize?: Authorizer; sealed?: boolean }): Promise<Keywarden>;
}

/**
 * A vault on a fresh database of `dialect`, with a real local key provider (cheap Argon2)
 * already unsealed.
 */
export async function createTestVault(
  t: TestContext,
  dialect: TestDialect,
  options: { authorize?: Authorizer } = {},
): Promise<TestVault> {
  const { url, home, storage } = await dialect.create(t, { migrate: false });
  await storage.close();
  const passphrase = `test pass ${randomBytes(6).toString("hex")}`;
  await initLocalKeyFile(join(home, "master.key"), passphrase, CHEAP_ARGON2);
  const clock = fixedClock("2025-03-01T12:00:00.000Z");
  const { config } = loadConfig({ cwd: home, env: {}, flags: { home, "storage.url": url } });
  const ctx: RequestContext = { actor: "cli:tester", source: "cli", requestId: "req_test" };
  const open = async (o: { authorize?: Authorizer; sealed?: boolean } = {}): Promise<Keywarden> => {
    const kw = await createKeywarden({ config, home, env: {}, clock, authorize: o.authorize });
    t.after(() => kw.close());
    if (o.sealed !== true) await kw.unseal(ctx, passphrase);
    return kw;
  };
  const kw = await open(options);
  return { kw, ctx, home, url, passphrase, clock, reopen: open };
}

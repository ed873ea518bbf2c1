/**
 * A real Keywarden server for tests: a vault on a fresh database of one dialect (real local
 * key provider, cheap Argon2), the real access service in server mode, and helpers that
 * issue tokens with given policy rules through that service, as an operator would.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { TestContext } from "node:test";
import type { FastifyInstance, RouteOptions } from "fastify";
import { createKeywarden, type Keywarden } from "../../src/app.ts";
import { loadConfig } from "../../src/config/load.ts";
import { createLogger, type Logger } from "../../src/core/logger.ts";
import { initLocalKeyFile } from "../../src/kms/local-provider.ts";
import { buildServer } from "../../src/server/server.ts";
import { loadOrCreateTls } from "../../src/server/tls.ts";
import { CAPABILITIES, type PolicyRule } from "../../src/services/access/access-types.ts";
import type { RequestContext } from "../../src/services/audit/audit-service.ts";
import { fixedClock } from "./clock.ts";
import type { TestDialect } from "./storage.ts";
import { CHEAP_ARGON2 } from "./vault.ts";

export interface TestServer {
  readonly app: FastifyInstance;
  readonly kw: Keywarden;
  readonly clock: ReturnType<typeof fixedClock>;
  readonly ctx: RequestContext;
  readonly home: string;
  readonly url: string;
  readonly passphrase: string;
  /** A token whose identity holds one policy with `rules`; returns the raw token. */
  token(
    rules: readonly Omit<PolicyRule, "effect">[] | readonly PolicyRule[],
    options?: TokenOptions,
  ): Promise<string>;
  /** A token allowed everything (`**` with every capability). */
  rootToken(): Promise<string>;
  /** Listens on 127.0.0.1, any free port; returns the base URL and the certificate (HTTPS). */
  listen(): Promise<{ url: string; ca: string | undefined }>;
}

export interface TokenOptions {
  readonly ttlSeconds?: number;
  readonly allowIps?: readonly string[];
  /** Revoke it at once. */
  readonly revoked?: boolean;
}

/** Opens the vault of a database in server mode (access control on), unsealed. */
export async function openServerVault(
  t: TestContext,
  o: {
    url: string;
    home: string;
    passphrase: string;
    clock: ReturnType<typeof fixedClock>;
    flags?: Record<string, unknown>;
  },
): Promise<{ kw: Keywarden; config: ReturnType<typeof loadConfig>["config"] }> {
  const { config } = loadConfig({
    cwd: o.home,
    env: {},
    flags: { home: o.home, "storage.url": o.url, "server.authFailureLimit": 1_000_000, ...o.flags },
  });
  const kw = await createKeywarden({ config, home: o.home, env: {}, clock: o.clock, accessControl: true });
  t.after(() => kw.close());
  await kw.unseal({ actor: "cli:tester", source: "cli", requestId: "req_test" }, o.passphrase);
  return { kw, config };
}

/**
 * @example
 *   const s = await createTestServer(t, dialect);
 *   const token = await s.token([{ path: "payments/prod/*", capabilities: ["read"] }]);
 *   await s.app.inject({ url: "/api/v1/secrets/payments/prod/KEY", headers: { authorization: `Bearer ${token}` } });
 */
export async function createTestServer(
  t: TestContext,
  dialect: TestDialect,
  options: {
    onRoute?: (r: RouteOptions) => void;
    flags?: Record<string, unknown>;
    logger?: Logger;
    database?: { url: string; home: string; passphrase: string };
    /** Serve HTTPS with a self-signed certificate made in home (then call `listen`). */
    https?: boolean;
  } = {},
): Promise<TestServer> {
  let db = options.database;
  if (db === undefined) {
    const { url, home, storage } = await dialect.create(t, { migrate: false });
    await storage.close();
    const passphrase = `test pass ${randomBytes(6).toString("hex")}`;
    await initLocalKeyFile(join(home, "master.key"), passphrase, CHEAP_ARGON2);
    db = { url, home, passphrase };
  }
  const clock = fixedClock("2025-03-01T12:00:00.000Z");
  const { kw, config } = await openServerVault(t, { ...db, clock, flags: options.flags });
  const logger = options.logger ?? createLogger({ level: "silent", format: "json" });
  const tls = options.https === true ? await loadOrCreateTls(config.server, db.home) : undefined;
  const app = await buildServer({
    keywarden: kw,
    access: kw.access,
    config,
    logger,
    onRoute: options.onRoute,
    tls,
    clock,
  });
  t.after(() => app.close());
  const ctx: RequestContext = { actor: "cli:operator", source: "cli", requestId: "req_test" };
  let n = 0;
  async function token(
    rules: readonly (Omit<PolicyRule, "effect"> & { effect?: "allow" | "deny" })[],
    o: TokenOptions = {},
  ) {
    const name = `t${++n}-${randomBytes(3).toString("hex")}`;
    await kw.access.putPolicy(ctx, "operator", name, rules);
    await kw.access.putRole(ctx, "operator", name, [name]);
    await kw.access.addMachine(ctx, "operator", { name, roles: [name] });
    const issued = await kw.access.createToken(ctx, "operator", {
      identity: name,
      policies: [name],
      ttlSeconds: o.ttlSeconds,
      allowIps: o.allowIps,
    });
    if (o.revoked === true) await kw.access.revokeToken(ctx, "operator", issued.info.id);
    return issued.token.reveal();
  }
  return {
    app,
    kw,
    clock,
    ctx,
    home: db.home,
    url: db.url,
    passphrase: db.passphrase,
    token,
    rootToken: () => token([{ path: "**", capabilities: [...CAPABILITIES] }]),
    async listen() {
      await app.listen({ host: "127.0.0.1", port: 0 });
      const address = app.server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      return { url: `${tls === undefined ? "http" : "https"}://127.0.0.1:${port}`, ca: tls?.cert };
    },
  };
}

/** Authorization header for a token. */
export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

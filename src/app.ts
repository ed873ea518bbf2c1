/**
 * The composition root: opens storage (migrated), the configured key provider, and builds
 * the services on them. The CLI and `keywarden serve` call this; nothing else wires
 * services together.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { DeepReadonly } from "./config/load.ts";
import type { Config } from "./config/schema.ts";
import type { Clock } from "./core/clock.ts";
import { isKeywardenError, KeywardenError } from "./core/errors.ts";
import type { Logger } from "./core/logger.ts";
import { createKeyProvider, isSealed, LocalKeyProvider, unseal, type Passphrase } from "./kms/index.ts";
import type { KeyProvider } from "./kms/key-provider.ts";
import {
  createAuditService,
  type AuditService,
  type RequestContext,
} from "./services/audit/audit-service.ts";
import { createAccessService, type AccessManager } from "./services/access/access-service.ts";
import { vaultAuthorizer } from "./services/access/vault-authorizer.ts";
import { createKekService, type KekService } from "./services/vault/kek-service.ts";
import { createProjectService, type ProjectService } from "./services/vault/project-service.ts";
import { createVaultService, type Authorizer, type VaultService } from "./services/vault/vault-service.ts";
import { openStorage, type Storage } from "./storage/database.ts";
import { migrateToLatest } from "./storage/migrations.ts";

/** The audit checkpoint file's name in home. */
export const AUDIT_CHECKPOINT_FILE = "audit-checkpoint.json";

export interface KeywardenDeps {
  readonly config: DeepReadonly<Config>;
  /** Keywarden's home folder, resolved by the caller. */
  readonly home: string;
  /** Environment for the env key provider (the CLI passes process.env). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly clock: Clock;
  readonly logger?: Logger | undefined;
  readonly authorize?: Authorizer | undefined;
  /**
   * Server mode: the vault asks the access service about every operation (a context must
   * carry a principal, see principalContext). Ignored when `authorize` is given.
   */
  readonly accessControl?: boolean | undefined;
  /** An already-open key provider (tests, or a server holding one); otherwise the configured one is opened. */
  readonly kms?: KeyProvider | undefined;
  /** An already-open database (the bench, to choose SQLite's sync mode); migrated here, never closed here. */
  readonly storage?: Storage | undefined;
}

export interface Keywarden {
  readonly storage: Storage;
  readonly kms: KeyProvider;
  readonly audit: AuditService;
  readonly vault: VaultService;
  /** Projects and environments with their secret counts, as far as the caller may list them. */
  readonly projects: ProjectService;
  /** Identities, tokens, policies, roles and sessions. */
  readonly access: AccessManager;
  /** KEK status and rotation (`keywarden kek`). */
  readonly kek: KekService;
  /** True while the key provider waits for a passphrase. */
  sealed(): boolean;
  /** Unseals a `local` provider (no-op for others), auditing the attempt either way. */
  unseal(ctx: RequestContext, passphrase: Passphrase): Promise<void>;
  /**
   * Seals a `local` provider again (its keys leave memory; reads and writes answer
   * KW_ERR_KMS_SEALED until the next unseal); audited. Other providers cannot be sealed.
   */
  seal(ctx: RequestContext): Promise<void>;
  /** Signs the audit head (if unsealed) and closes everything. */
  close(): Promise<void>;
}

/**
 * Warns when the home folder, or a file in it, is open to other users. Keywarden makes its home
 * 0700 and its files 0600; a copy, a restore or an umask can widen them, and the home holds the
 * sealed key file, the database (ciphertexts, token hashes, the audit log), the audit
 * checkpoint and maybe a login token. Like ssh and gpg, it says so rather than guess.
 */
function warnLoosePermissions(home: string, logger: Logger | undefined): void {
  if (logger === undefined || process.platform === "win32") return;
  const check = (file: string, isFolder: boolean): void => {
    let mode: number;
    try {
      const st = statSync(file);
      if (isFolder ? !st.isDirectory() : !st.isFile()) return;
      mode = st.mode & 0o777;
    } catch {
      return;
    }
    if ((mode & 0o077) !== 0)
      logger.warn(
        { file, mode: mode.toString(8) },
        `other users may read or change this: chmod ${isFolder ? "700" : "600"} it`,
      );
  };
  check(home, true);
  let names: string[];
  try {
    names = readdirSync(home);
  } catch {
    return;
  }
  for (const name of names) check(join(home, name), false);
}

/**
 * @example
 *   const kw = await createKeywarden({ config, home, env: process.env, clock: systemClock, logger });
 *   await kw.unseal(ctx, passphrase);
 *   await kw.vault.get(ctx, "payments/prod/STRIPE_KEY");
 *   await kw.close();
 */
export async function createKeywarden(deps: KeywardenDeps): Promise<Keywarden> {
  warnLoosePermissions(deps.home, deps.logger);
  /** Runs a step that must not stop a seal or a close; a failure is logged by its code. */
  const orWarn = async (step: () => Promise<unknown>, message: string): Promise<void> => {
    try {
      await step();
    } catch (e) {
      deps.logger?.warn({ code: isKeywardenError(e) ? e.code : undefined }, message);
    }
  };
  // A server (access control on) commits its audited reads on a writer thread (SQLite files).
  const storage =
    deps.storage ??
    (await openStorage({
      url: deps.config.storage.url,
      home: deps.home,
      writerThread: deps.accessControl === true,
      logger: deps.logger,
    }));
  let kms: KeyProvider;
  try {
    await migrateToLatest(storage.db, storage.caps);
    kms =
      deps.kms ??
      (await createKeyProvider(deps.config, { home: deps.home, env: deps.env, logger: deps.logger }));
  } catch (e) {
    if (deps.storage === undefined) await storage.close();
    throw e;
  }
  const audit = createAuditService({
    storage,
    kms,
    clock: deps.clock,
    checkpointFile: join(deps.home, AUDIT_CHECKPOINT_FILE),
  });
  const access = createAccessService({
    storage,
    audit,
    kms,
    clock: deps.clock,
    config: deps.config.access,
    logger: deps.logger,
  });
  const authorize =
    deps.authorize ?? (deps.accessControl === true ? vaultAuthorizer(() => access) : undefined);
  const vault = createVaultService({
    storage,
    kms,
    audit,
    clock: deps.clock,
    logger: deps.logger,
    authorize,
  });
  const projects = createProjectService({ storage, audit, authorize });
  const kek = createKekService({ storage, kms, audit, clock: deps.clock, logger: deps.logger });
  return {
    storage,
    kms,
    audit,
    vault,
    projects,
    access,
    kek,
    sealed: () => isSealed(kms),
    async unseal(ctx, passphrase) {
      if (!isSealed(kms)) return;
      try {
        await unseal(kms, passphrase);
      } catch (e) {
        const code = isKeywardenError(e) ? e.code : "KW_ERR_INTERNAL";
        await audit.record(ctx, {
          action: "vault.unseal",
          result: code === "KW_ERR_KMS_WRONG_PASSPHRASE" ? "denied" : "failed",
          detail: code,
        });
        throw e;
      }
      await audit.record(ctx, { action: "vault.unseal", result: "ok", detail: kms.kind });
    },
    async seal(ctx) {
      if (!(kms instanceof LocalKeyProvider)) {
        const error = new KeywardenError("KW_ERR_KMS_ROTATE_UNSUPPORTED", {
          provider: kms.kind,
          operation: "seal",
          reason: "only the local sealed-file provider holds its keys behind a passphrase",
        });
        await audit.record(ctx, { action: "vault.seal", result: "failed", detail: error.code });
        throw error;
      }
      if (kms.sealed) return;
      // Signed while the key is still there, so the next start can verify the chain up to here.
      await orWarn(() => audit.checkpoint(), "could not write the audit checkpoint");
      kms.seal();
      // Keys derived from the KEK go too; they come back through the provider after unseal.
      vault.close();
      access.close();
      audit.close();
      await audit.record(ctx, { action: "vault.seal", result: "ok", detail: kms.kind });
    },
    async close() {
      try {
        // A fill a server started finishes before the storage closes; what is left of the
        // log's tail is indexed now (services/audit/audit-service.ts indexPaths).
        await orWarn(() => audit.indexPaths(), "could not index the audit log's paths");
        if (!isSealed(kms)) await orWarn(() => audit.checkpoint(), "could not write the audit checkpoint");
      } finally {
        vault.close();
        access.close();
        audit.close();
        if (deps.kms === undefined) await kms.close();
        if (deps.storage === undefined) await storage.close();
      }
    },
  };
}

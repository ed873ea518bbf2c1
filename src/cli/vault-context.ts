/**
 * What every vault command does first: resolve home, open the database and key provider
 * (src/app.ts), and unseal with a passphrase from --passphrase-file, KEYWARDEN_PASSPHRASE
 * or a terminal prompt.
 */
import { existsSync, readFileSync } from "node:fs";
import { userInfo } from "node:os";
import { resolve } from "node:path";
import type { Command } from "commander";
import type { Keywarden } from "../app.ts";
import { systemClock } from "../core/clock.ts";
import { KeywardenError } from "../core/errors.ts";
import { newId } from "../core/ids.ts";
import { Secret } from "../core/secret.ts";
import type { RequestContext } from "../services/audit/audit-service.ts";
import { commandContext, type CommandContext } from "./context.ts";
import { resolveHome } from "./home.ts";
import type { CliIO } from "./io.ts";
import { canPrompt, promptHidden } from "./prompt.ts";

export const PASSPHRASE_ENV = "KEYWARDEN_PASSPHRASE";

export interface VaultFlags {
  passphraseFile?: string;
}

/** Adds --passphrase-file to a command that may need to unseal. */
export function withPassphraseOption(cmd: Command): Command {
  return cmd.option(
    "--passphrase-file <file>",
    `read the vault passphrase from a file (or set ${PASSPHRASE_ENV})`,
  );
}

/** The request context of this CLI invocation: the OS user, a fresh request id. */
export function cliRequestContext(io: CliIO): RequestContext {
  let user = io.env.USER ?? io.env.LOGNAME ?? "";
  if (user === "") {
    try {
      user = userInfo().username;
    } catch {
      user = "unknown";
    }
  }
  return { actor: `cli:${user}`, source: "cli", requestId: newId("request") };
}

/**
 * The passphrase from --passphrase-file, then KEYWARDEN_PASSPHRASE, then a prompt on a
 * terminal; undefined when none can be had.
 */
export async function passphraseFrom(
  io: CliIO,
  flags: VaultFlags,
  options: { confirm?: boolean } = {},
): Promise<Secret | undefined> {
  if (flags.passphraseFile !== undefined) {
    const file = resolve(io.cwd, flags.passphraseFile);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw new KeywardenError("KW_ERR_VAULT_INPUT", {
        what: `passphrase file ${file}`,
        reason: (e as NodeJS.ErrnoException).code ?? "error",
      });
    }
    return new Secret(text.replace(/\r?\n$/, ""));
  }
  const fromEnv = io.env[PASSPHRASE_ENV];
  if (fromEnv !== undefined && fromEnv !== "") return new Secret(fromEnv);
  if (!canPrompt(io)) return undefined;
  const first = await promptHidden(io, "Vault passphrase: ");
  if (options.confirm === true && (await promptHidden(io, "Repeat the passphrase: ")) !== first) {
    throw new KeywardenError("KW_ERR_USAGE", { reason: "the two passphrases differ" });
  }
  return new Secret(first);
}

export interface VaultSession {
  readonly ctx: CommandContext;
  readonly kw: Keywarden;
  readonly request: RequestContext;
  readonly home: string;
}

/**
 * True when a vault was initialised in `home` (its database, or for PostgreSQL its key file).
 * Loads the storage and key-provider modules it asks, so start-up never does.
 *
 * @example
 *   if (!(await vaultExists(cc, home))) throw new KeywardenError("KW_ERR_VAULT_NOT_INITIALIZED", { home });
 */
export async function vaultExists(cc: CommandContext, home: string): Promise<boolean> {
  const { config } = cc.loaded;
  if (config.kms.provider === "local") {
    const { localKeyFilePath } = await import("../kms/index.ts");
    return existsSync(localKeyFilePath(config, home));
  }
  const { isPostgresUrl, sqliteFileFor } = await import("../storage/database.ts");
  if (isPostgresUrl(config.storage.url)) return true;
  return existsSync(sqliteFileFor(config.storage.url, home));
}

/**
 * Opens the vault for a command. With `unsealed`, a sealed provider is unsealed (and the
 * attempt audited) or the command fails with KW_ERR_KMS_SEALED. Always `close()` it.
 *
 * @example
 *   const s = await openVault(io, cmd, flags, { unsealed: true });
 *   try { ... } finally { await s.kw.close(); }
 */
export async function openVault(
  io: CliIO,
  cmd: Command,
  flags: VaultFlags,
  options: { unsealed: boolean },
): Promise<VaultSession> {
  const cc = commandContext(io, cmd);
  const home = resolveHome(cc.loaded.config.home, io.env, io.cwd);
  if (!(await vaultExists(cc, home))) throw new KeywardenError("KW_ERR_VAULT_NOT_INITIALIZED", { home });
  // Storage, key providers and services load only for vault commands: `scan` never pays for them.
  const { createKeywarden } = await import("../app.ts");
  const kw = await createKeywarden({
    config: cc.loaded.config,
    home,
    env: io.env,
    clock: systemClock,
    logger: cc.logger,
  });
  const request = cliRequestContext(io);
  try {
    if (options.unsealed && kw.sealed()) {
      const passphrase = await passphraseFrom(io, flags);
      if (passphrase === undefined) {
        const error = new KeywardenError("KW_ERR_KMS_SEALED", { provider: kw.kms.kind });
        await kw.audit.record(request, { action: "vault.unseal", result: "denied", detail: error.code });
        throw error;
      }
      await kw.unseal(request, passphrase);
    }
  } catch (e) {
    await kw.close();
    throw e;
  }
  return { ctx: cc, kw, request, home };
}

/** Runs `fn` with an open vault and always closes it (signing the audit head). */
export async function withVault<T>(
  io: CliIO,
  cmd: Command,
  flags: VaultFlags,
  options: { unsealed: boolean },
  fn: (s: VaultSession) => Promise<T>,
): Promise<T> {
  const session = await openVault(io, cmd, flags, options);
  try {
    return await fn(session);
  } finally {
    await session.kw.close();
  }
}

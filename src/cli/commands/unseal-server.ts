/**
 * `keywarden unseal --server URL`: unseals a running server (started with `serve --sealed`,
 * or without a passphrase) through POST /api/v1/sys/unseal. No token is needed or sent;
 * the passphrase comes from --passphrase-file, KEYWARDEN_PASSPHRASE or a hidden prompt,
 * and crosses only HTTPS (or plain HTTP to a loopback address) to a certificate trusted
 * by --ca-file, --fingerprint, their KEYWARDEN_* variables, or the stored login's. A
 * login stored with --insecure-skip-verify does not count: a passphrase is never sent to
 * a certificate nobody checked.
 */
import { resolve } from "node:path";
import type { Command } from "commander";
import { createClient } from "../../client/client.ts";
import { KeywardenError } from "../../core/errors.ts";
import { commandContext } from "../context.ts";
import { resolveHome } from "../home.ts";
import type { CliIO } from "../io.ts";
import {
  CA_FILE_ENV,
  FINGERPRINT_ENV,
  normalizeFingerprint,
  normalizeServer,
  readCaFile,
  readStoredLogin,
} from "../remote-login.ts";
import { explainTls } from "../vault-backend.ts";
import { passphraseFrom, PASSPHRASE_ENV, type VaultFlags } from "../vault-context.ts";

/** The flags of `keywarden unseal` that concern a server. */
export interface UnsealServerFlags extends VaultFlags {
  server?: string;
  caFile?: string;
  fingerprint?: string;
}

/**
 * Unseals the server at `flags.server`; returns the line to print.
 *
 * @example
 *   io.stdout.write(await unsealServer(io, cmd, { server: "https://127.0.0.1:8443", fingerprint }));
 */
export async function unsealServer(io: CliIO, cmd: Command, flags: UnsealServerFlags): Promise<string> {
  const server = normalizeServer(flags.server ?? "");
  const cc = commandContext(io, cmd);
  const home = resolveHome(cc.loaded.config.home, io.env, io.cwd);
  const stored = readStoredLogin(home);
  const login = stored !== undefined && normalizeServer(stored.server) === server ? stored : undefined;
  const caFile = flags.caFile ?? io.env[CA_FILE_ENV] ?? login?.caFile;
  const fp = flags.fingerprint ?? io.env[FINGERPRINT_ENV] ?? login?.fingerprint;
  const passphrase = await passphraseFrom(io, flags);
  if (passphrase === undefined)
    throw new KeywardenError("KW_ERR_USAGE", {
      reason: `unseal needs the passphrase: set ${PASSPHRASE_ENV}, pass --passphrase-file, or run it on a terminal`,
    });
  const client = createClient({
    url: server,
    token: "",
    ca: caFile === undefined || caFile === "" ? undefined : readCaFile(resolve(io.cwd, caFile)),
    fingerprint: fp === undefined || fp === "" ? undefined : normalizeFingerprint(fp),
  });
  try {
    const before = await client.sealStatus();
    if (!before.sealed) return `${server} is not sealed (key provider ${before.type})\n`;
    const after = await client.unseal(passphrase.reveal());
    return `unsealed ${server} (key provider ${after.type})\n`;
  } catch (e) {
    throw await explainTls(e, server);
  } finally {
    client.close();
  }
}

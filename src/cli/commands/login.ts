/**
 * `keywarden login --server URL` and `keywarden logout`: after a login, `secrets`, `run`,
 * `export`, `import` and `audit log` talk to that server (see src/cli/vault-backend.ts).
 * The token is read from a hidden prompt or stdin, never from argv (or with --user, issued by
 * the server after the user's password and TOTP code), and checked with a lookup-self call
 * before it is stored.
 */
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { EXIT, isKeywardenError, KeywardenError } from "../../core/errors.ts";
import { Secret } from "../../core/secret.ts";
import { commandContext } from "../context.ts";
import { resolveHome } from "../home.ts";
import type { CliIO } from "../io.ts";
import { canPrompt, promptHidden, readAll } from "../prompt.ts";
import {
  normalizeFingerprint,
  normalizeServer,
  readCaFile,
  removeLogin,
  saveLogin,
  TOKEN_FILE,
  type RemoteSettings,
} from "../remote-login.ts";
import { explainTls, issuedToken, openClient } from "../vault-backend.ts";

interface LoginFlags {
  server: string;
  user?: string;
  passwordStdin?: boolean;
  totp?: string;
  tokenStdin?: boolean;
  caFile?: string;
  fingerprint?: string;
  insecureSkipVerify?: boolean;
}

async function readToken(io: CliIO, flags: LoginFlags): Promise<Secret> {
  const text =
    flags.tokenStdin !== true && canPrompt(io) ? await promptHidden(io, "Token: ") : await readAll(io.stdin);
  const token = text.trim();
  if (token === "")
    throw new KeywardenError("KW_ERR_USAGE", {
      reason: "no token given: pipe it on stdin with --token-stdin, or type it at the prompt",
    });
  return new Secret(token);
}

/** A user's password, from a hidden prompt or (with --password-stdin) stdin. */
async function readPassword(io: CliIO, flags: LoginFlags): Promise<Secret> {
  const text =
    flags.passwordStdin !== true && canPrompt(io)
      ? await promptHidden(io, `Password for ${flags.user ?? ""}: `)
      : (await readAll(io.stdin)).replace(/\r?\n$/, "");
  if (text === "")
    throw new KeywardenError("KW_ERR_USAGE", {
      reason: "no password given: pipe it on stdin with --password-stdin, or type it at the prompt",
    });
  return new Secret(text);
}

/**
 * The token to store: the one given, or for --user one the server issues after the user's
 * password (and TOTP code) check.
 */
async function tokenFor(
  io: CliIO,
  flags: LoginFlags,
  settings: Omit<RemoteSettings, "token">,
): Promise<Secret> {
  if (flags.user === undefined) return readToken(io, flags);
  const user = flags.user;
  const password = await readPassword(io, flags);
  try {
    return await issuedToken(settings, (c) => c.tokens.login(user, password.reveal(), flags.totp));
  } catch (error) {
    // The server says the same for every failure; a missing code is the one the CLI can name.
    if (isKeywardenError(error, "KW_ERR_AUTH_BAD_CREDENTIALS") && flags.totp === undefined)
      io.stderr.write(`keywarden: note: if ${user} enrolled a one-time code (TOTP), give it with --totp\n`);
    throw error;
  }
}

/** `keywarden login` and `keywarden logout`. */
export function registerLogin(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("login")
    .description("log in to a Keywarden server: vault commands then work against it")
    .requiredOption("--server <url>", "https://host:port of the server (http:// only on loopback)")
    .option("--token-stdin", "read the token from stdin (never give it as an argument)")
    .option("--user <name>", "log in as this user with a password instead: the server issues the token")
    .option("--password-stdin", "with --user: read the password from stdin")
    .option("--totp <code>", "with --user: the current one-time code, when the user enrolled TOTP")
    .option("--ca-file <file>", "trust this PEM certificate or CA (e.g. the server's self-signed one)")
    .option("--fingerprint <sha256>", "trust exactly the certificate with this SHA-256 fingerprint")
    .option(
      "--insecure-skip-verify",
      "trust any certificate (DANGEROUS: anyone in the middle gets the token)",
    )
    .addHelpText(
      "after",
      `
The token is stored in the OS keyring (the Secret Service: GNOME Keyring, KWallet, ...,
through secret-tool) when one answers, otherwise in a 0600 file in the Keywarden home; the
output says which. KEYWARDEN_KEYRING=off always uses the file; KEYWARDEN_KEYRING_TIMEOUT_MS
(default 20000) bounds each keyring call. KEYWARDEN_ADDR and KEYWARDEN_TOKEN (with
KEYWARDEN_CA_FILE or KEYWARDEN_FINGERPRINT) override the stored login, for CI; in a CI job
whose platform signs an OIDC token (GitHub Actions with id-token: write, GitLab's id_tokens
in KEYWARDEN_OIDC_TOKEN), KEYWARDEN_OIDC_IDENTITY instead of a token logs each command in.

Examples:
  keywarden serve                  prints "certificate SHA-256 AB:CD:..."
  keywarden login --server https://127.0.0.1:8443 --fingerprint AB:CD:...
  printf %s "$TOKEN" | keywarden login --server https://vault.internal:8443 --token-stdin
  keywarden login --server https://vault.internal:8443 --user alice --totp 123456
  keywarden logout`,
    )
    .action(async (flags: LoginFlags, cmd: Command) => {
      const cc = commandContext(io, cmd);
      const home = resolveHome(cc.loaded.config.home, io.env, io.cwd);
      const server = normalizeServer(flags.server);
      const trust = [flags.caFile, flags.fingerprint, flags.insecureSkipVerify].filter(
        (x) => x !== undefined,
      );
      if (trust.length > 1)
        throw new KeywardenError("KW_ERR_USAGE", {
          reason: "give only one of --ca-file, --fingerprint, --insecure-skip-verify",
        });
      const caFile = flags.caFile === undefined ? undefined : resolve(io.cwd, flags.caFile);
      const ca = caFile === undefined ? undefined : readCaFile(caFile);
      const fingerprint =
        flags.fingerprint === undefined ? undefined : normalizeFingerprint(flags.fingerprint);
      const insecure = flags.insecureSkipVerify === true && server.startsWith("https:");
      if (insecure)
        io.stderr.write(
          "WARNING: --insecure-skip-verify: the server's certificate is NOT checked. Anyone able to\n" +
            "intercept this connection can take the token and every secret read with it. Use\n" +
            "--fingerprint (printed by `keywarden serve`) or --ca-file instead.\n",
        );
      if (flags.user === undefined && (flags.passwordStdin === true || flags.totp !== undefined))
        throw new KeywardenError("KW_ERR_USAGE", { reason: "--password-stdin and --totp go with --user" });
      if (flags.user !== undefined && flags.tokenStdin === true)
        throw new KeywardenError("KW_ERR_USAGE", { reason: "give --user or --token-stdin, not both" });
      const trustSettings = { server, ca, fingerprint, insecureSkipVerify: insecure };
      const token = await tokenFor(io, flags, trustSettings);
      const settings: RemoteSettings = { ...trustSettings, token };
      const client = await openClient(settings);
      let self: Awaited<ReturnType<typeof client.tokens.self>>;
      try {
        self = await client.tokens.self();
      } catch (e) {
        throw await explainTls(e, server);
      } finally {
        client.close();
      }
      const saved = saveLogin(
        io.env,
        home,
        { server, caFile, fingerprint, insecureSkipVerify: insecure || undefined },
        token,
      );
      io.stdout.write(
        `logged in to ${server} as ${self.name} (${self.kind})` +
          (self.expiresAt === undefined ? "" : `, token expires ${self.expiresAt}`) +
          `, policies ${self.policies.join(",") || "(none)"}\n` +
          (saved.store === "keyring"
            ? "token stored in the OS keyring (Secret Service)\n"
            : `token stored in ${join(home, TOKEN_FILE)} (mode 0600; OS keyring not used: ${saved.keyringReason ?? "unknown"})\n`),
      );
      if (saved.warning !== undefined)
        io.stderr.write(`keywarden: warning ${saved.warning.code}: ${saved.warning.message}\n`);
      setExit(EXIT.OK);
    });

  program
    .command("logout")
    .description("forget the stored server login and its token")
    .action((_flags: unknown, cmd: Command) => {
      const cc = commandContext(io, cmd);
      const home = resolveHome(cc.loaded.config.home, io.env, io.cwd);
      const removed = removeLogin(io.env, home);
      io.stdout.write(
        removed === undefined
          ? "not logged in\n"
          : `logged out of ${removed.server}; the token itself stays valid until it expires or is revoked (keywarden token revoke)\n`,
      );
      // Logged out all the same; the error names the keyring item left behind.
      if (removed?.keyringError !== undefined) throw removed.keyringError;
      setExit(EXIT.OK);
    });
}

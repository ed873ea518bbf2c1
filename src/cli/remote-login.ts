/**
 * Where the CLI finds its server: `keywarden login` stores the address and how to trust it
 * in `<home>/remote.json` (no secret in it) and the token in the OS keyring when one answers
 * (the Secret Service through `secret-tool`, see os-keyring.ts), else alone in
 * `<home>/remote-token` (0600). KEYWARDEN_ADDR and KEYWARDEN_TOKEN (and KEYWARDEN_CA_FILE,
 * KEYWARDEN_FINGERPRINT) override the stored login, for CI. The token travels on stdin and
 * in memory only, never in argv.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join, resolve } from "node:path";
import { KeywardenError } from "../core/errors.ts";
import { parseFailure } from "../core/redact.ts";
import { Secret } from "../core/secret.ts";
import type { CliIO } from "./io.ts";
import { OIDC_IDENTITY_ENV } from "./ci-oidc.ts";
import { keyringClear, keyringLookup, keyringStatus, keyringStore, type KeyringItem } from "./os-keyring.ts";

export const ADDR_ENV = "KEYWARDEN_ADDR";
export const TOKEN_ENV = "KEYWARDEN_TOKEN";
export const CA_FILE_ENV = "KEYWARDEN_CA_FILE";
export const FINGERPRINT_ENV = "KEYWARDEN_FINGERPRINT";

export const LOGIN_FILE = "remote.json";
export const TOKEN_FILE = "remote-token";

/** What `keywarden login` keeps beside the token: how to reach and trust the server. */
export interface StoredLogin {
  readonly server: string;
  readonly caFile?: string | undefined;
  readonly fingerprint?: string | undefined;
  readonly insecureSkipVerify?: boolean | undefined;
  readonly tokenStore: "keyring" | "file";
}

/** The server a command talks to, with its token and trust settings. */
export interface RemoteSettings {
  readonly server: string;
  readonly token: Secret;
  /** PEM text of the CA (or self-signed certificate) to trust. */
  readonly ca?: string | undefined;
  /** Colon-separated upper-case SHA-256 fingerprint to pin. */
  readonly fingerprint?: string | undefined;
  readonly insecureSkipVerify: boolean;
}

/**
 * The server to talk to as configured: its token, or the identity a CI job logs in as with its
 * OIDC token (KEYWARDEN_OIDC_IDENTITY; the token comes from the server, cli/vault-backend.ts).
 */
export interface RemoteTarget extends Omit<RemoteSettings, "token"> {
  readonly token: Secret | { readonly oidcIdentity: string };
}

/**
 * A server URL checked and reduced to its origin; plain http only to a loopback address,
 * since the token would otherwise cross the network in clear.
 *
 * @example
 *   normalizeServer("https://vault.internal:8443/") // "https://vault.internal:8443"
 */
export function normalizeServer(text: string): string {
  let url: URL;
  try {
    url = new URL(text.includes("://") ? text : `https://${text}`);
  } catch {
    throw new KeywardenError("KW_ERR_REMOTE_CONFIG", { what: "server", reason: `${text} is not a URL` });
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new KeywardenError("KW_ERR_REMOTE_CONFIG", {
      what: "server",
      reason: "use https:// (or http:// on loopback)",
    });
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const loopback = host === "localhost" || host === "::1" || (isIP(host) === 4 && host.startsWith("127."));
  if (url.protocol === "http:" && !loopback)
    throw new KeywardenError("KW_ERR_REMOTE_CONFIG", {
      what: "server",
      reason: `refusing plain http to ${url.host}: the token would cross the network in clear`,
    });
  if (url.username !== "" || url.password !== "")
    throw new KeywardenError("KW_ERR_REMOTE_CONFIG", { what: "server", reason: "no credentials in the URL" });
  return url.origin;
}

/**
 * A SHA-256 fingerprint as Node prints it (`AB:CD:...`), from hex with or without colons.
 *
 * @example
 *   normalizeFingerprint("abcd...") // "AB:CD:..."
 */
export function normalizeFingerprint(text: string): string {
  const hex = text
    .replace(/^sha256[:=]/i, "")
    .replace(/[:\s]/g, "")
    .toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex))
    throw new KeywardenError("KW_ERR_REMOTE_CONFIG", {
      what: "fingerprint",
      reason: "expected 64 hex digits (SHA-256), as `keywarden serve` prints it",
    });
  return hex.match(/../g)!.join(":");
}

/**
 * The SHA-256 fingerprint of the certificate a TLS server presents, without trusting it
 * (nothing is sent over that connection).
 *
 * @example
 *   await peerFingerprint("https://127.0.0.1:8443") // "AB:CD:..."
 */
export async function peerFingerprint(server: string): Promise<string> {
  const url = new URL(server);
  // Loaded here, not at start-up (see vault-backend.ts).
  const { connect: tlsConnect } = await import("node:tls");
  return new Promise((resolvePromise, reject) => {
    const socket = tlsConnect({
      host: url.hostname.replace(/^\[|\]$/g, ""),
      port: Number(url.port === "" ? 443 : url.port),
      servername: isIP(url.hostname) === 0 ? url.hostname : undefined,
      rejectUnauthorized: false,
      minVersion: "TLSv1.2",
    });
    socket.once("secureConnect", () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.destroy();
      resolvePromise(fp.toUpperCase());
    });
    socket.once("error", (e: NodeJS.ErrnoException) => {
      reject(new KeywardenError("KW_ERR_CLIENT_NETWORK", { origin: url.origin, reason: e.code ?? "error" }));
    });
  });
}

/**
 * A PEM file to trust, or KW_ERR_REMOTE_CONFIG naming it.
 *
 * @example
 *   createClient({ url, token, ca: readCaFile("/etc/keywarden/server-cert.pem") })
 */
export function readCaFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new KeywardenError("KW_ERR_REMOTE_CONFIG", {
      what: `CA file ${file}`,
      reason: (e as NodeJS.ErrnoException).code ?? "unreadable",
    });
  }
}

/** Writes `text` to `file` with mode 0600 from its first byte, replacing any old file. */
function writePrivate(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text, { mode: 0o600, flag: "wx" });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new KeywardenError("KW_ERR_REMOTE_STORE", {
      operation: "write",
      file,
      reason: (e as NodeJS.ErrnoException).code ?? "error",
    });
  }
}

/**
 * The login stored in `home`, or undefined when there is none.
 *
 * @example
 *   readStoredLogin(home)?.server // "https://vault.internal:8443"
 */
export function readStoredLogin(home: string): StoredLogin | undefined {
  const file = join(home, LOGIN_FILE);
  if (!existsSync(file)) return undefined;
  let doc: Partial<StoredLogin> | null;
  try {
    doc = JSON.parse(readFileSync(file, "utf8")) as Partial<StoredLogin> | null;
  } catch (e) {
    throw new KeywardenError("KW_ERR_REMOTE_STORE", {
      operation: "read",
      file,
      reason:
        e instanceof SyntaxError
          ? parseFailure(e, "JSON")
          : ((e as NodeJS.ErrnoException).code ?? "unreadable"),
    });
  }
  if (typeof doc?.server !== "string")
    throw new KeywardenError("KW_ERR_REMOTE_STORE", {
      operation: "read",
      file,
      reason: "it names no server",
    });
  return doc as StoredLogin;
}

/** Where `saveLogin` put the token, and why not in the keyring when it did not. */
export interface SavedLogin {
  readonly store: StoredLogin["tokenStore"];
  /** Why the OS keyring was not used (only when `store` is "file"). */
  readonly keyringReason?: string | undefined;
  /** The previous login's keyring item could not be removed: what to do about it. */
  readonly warning?: KeywardenError | undefined;
}

/** The keyring item of a login: the token belongs to one server and one Keywarden home. */
function itemOf(home: string, server: string): KeyringItem {
  return { server, home: resolve(home) };
}

/**
 * Stores a login: the token in the OS keyring when one answers, else alone in a 0600 file.
 * A keyring that is off, absent, locked or silent never loses the token: it goes to the file
 * and the reason comes back. The new token is stored before the old login is removed.
 *
 * @example
 *   saveLogin(io.env, home, { server, fingerprint }, token) // { store: "file", keyringReason: "..." }
 */
export function saveLogin(
  env: CliIO["env"],
  home: string,
  login: Omit<StoredLogin, "tokenStore">,
  token: Secret,
): SavedLogin {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const previous = readStoredLogin(home);
  const status = keyringStatus(env);
  let keyringReason: string | undefined;
  if (status.usable) {
    const stored = keyringStore(env, itemOf(home, login.server), token);
    if (!stored.ok) keyringReason = stored.reason;
  } else {
    keyringReason = status.reason;
  }
  const store = keyringReason === undefined ? "keyring" : "file";
  const tokenFile = join(home, TOKEN_FILE);
  if (store === "file") writePrivate(tokenFile, `${token.reveal()}\n`);
  writePrivate(join(home, LOGIN_FILE), `${JSON.stringify({ ...login, tokenStore: store }, null, 2)}\n`);
  if (store === "keyring") rmSync(tokenFile, { force: true });
  // The old keyring item, unless the new one just replaced it (same server and home).
  const warning =
    previous?.tokenStore === "keyring" && (store === "file" || previous.server !== login.server)
      ? forgetKeyringItem(env, home, previous.server)
      : undefined;
  return { store, keyringReason, warning };
}

/** Removes a login's keyring item; the error to report when it could not. */
function forgetKeyringItem(env: CliIO["env"], home: string, server: string): KeywardenError | undefined {
  const item = itemOf(home, server);
  const status = keyringStatus(env);
  const cleared = status.usable ? keyringClear(env, item) : { ok: false as const, reason: status.reason };
  if (cleared.ok) return undefined;
  return new KeywardenError("KW_ERR_REMOTE_KEYRING", {
    operation: "remove",
    server,
    reason:
      `${cleared.reason}; the token stays in the keyring, remove it with ` +
      `\`secret-tool clear service keywarden server ${item.server} home ${item.home}\``,
  });
}

/** What `removeLogin` forgot. */
export interface RemovedLogin {
  readonly server: string;
  /** The keyring item could not be removed (locked, no session, no answer): what to do. */
  readonly keyringError?: KeywardenError | undefined;
}

/**
 * Forgets the stored login and its token, wherever it is (keyring item or file). Returns the
 * server it was for, or undefined when there was none. The login is forgotten even when the
 * keyring cannot remove its item; `keyringError` then says what to remove by hand.
 *
 * @example
 *   removeLogin(io.env, home)?.server // "https://vault.internal:8443"
 */
export function removeLogin(env: CliIO["env"], home: string): RemovedLogin | undefined {
  const login = readStoredLogin(home);
  rmSync(join(home, TOKEN_FILE), { force: true });
  if (login === undefined) return undefined;
  rmSync(join(home, LOGIN_FILE), { force: true });
  const keyringError =
    login.tokenStore === "keyring" ? forgetKeyringItem(env, home, login.server) : undefined;
  return { server: login.server, keyringError };
}

function storedToken(env: CliIO["env"], home: string, login: StoredLogin): string | undefined {
  if (login.tokenStore === "keyring") {
    const status = keyringStatus(env);
    if (!status.usable)
      throw new KeywardenError("KW_ERR_REMOTE_KEYRING", {
        operation: "read",
        server: login.server,
        reason: `it is in the OS keyring, which this session cannot reach: ${status.reason}`,
      });
    const found = keyringLookup(env, itemOf(home, login.server));
    if (found.ok) return found.value;
    if (found.missing)
      throw new KeywardenError("KW_ERR_REMOTE_NO_TOKEN", {
        server: login.server,
        reason: "the OS keyring has no token for it any more (removed outside Keywarden?)",
      });
    throw new KeywardenError("KW_ERR_REMOTE_KEYRING", {
      operation: "read",
      server: login.server,
      reason: found.reason,
    });
  }
  const file = join(home, TOKEN_FILE);
  if (!existsSync(file)) return undefined;
  return readFileSync(file, "utf8").trim() || undefined;
}

/**
 * The server this invocation talks to, or undefined to use the local vault: KEYWARDEN_ADDR
 * (with KEYWARDEN_TOKEN) wins over the login stored in `home`.
 *
 * @example
 *   const remote = resolveRemote(io, home);
 *   if (remote === undefined) openLocalVault(); else createClient({ url: remote.server, ... });
 */
export function resolveRemote(io: Pick<CliIO, "env" | "cwd">, home: string): RemoteTarget | undefined {
  const env = io.env;
  const addr = env[ADDR_ENV] ?? "";
  const envToken = env[TOKEN_ENV] ?? "";
  // A CI job that logs in with its OIDC token (cli/ci-oidc.ts) gets its token from the server.
  const oidcIdentity = env[OIDC_IDENTITY_ENV] ?? "";
  const login = readStoredLogin(home);
  if (addr === "" && login === undefined) {
    // Meant for a server: not a silent run on the local vault.
    const meant = envToken !== "" ? TOKEN_ENV : oidcIdentity !== "" ? OIDC_IDENTITY_ENV : undefined;
    if (meant !== undefined)
      throw new KeywardenError("KW_ERR_REMOTE_CONFIG", {
        what: meant,
        reason: `it is set but no server is: set ${ADDR_ENV} or run \`keywarden login\``,
      });
    return undefined;
  }
  const server = normalizeServer(addr !== "" ? addr : login!.server);
  // The stored trust settings apply only to the server they were stored for.
  const stored = login !== undefined && normalizeServer(login.server) === server ? login : undefined;
  const token =
    envToken !== ""
      ? envToken
      : oidcIdentity !== ""
        ? undefined
        : stored === undefined
          ? undefined
          : storedToken(env, home, stored);
  if (token === undefined && oidcIdentity === "")
    throw new KeywardenError("KW_ERR_REMOTE_NO_TOKEN", {
      server,
      reason: stored === undefined ? `${TOKEN_ENV} is not set` : "the stored token is gone",
    });
  const caFile = env[CA_FILE_ENV] ?? stored?.caFile;
  const fp = env[FINGERPRINT_ENV] ?? stored?.fingerprint;
  return {
    server,
    token: token === undefined ? { oidcIdentity } : new Secret(token),
    ca: caFile === undefined || caFile === "" ? undefined : readCaFile(resolve(io.cwd, caFile)),
    fingerprint: fp === undefined || fp === "" ? undefined : normalizeFingerprint(fp),
    insecureSkipVerify: stored?.insecureSkipVerify === true && env[CA_FILE_ENV] === undefined,
  };
}

/**
 * Where the CLI finds its server: `keywarden login` stores the address and how to trust it
 * in `<home>/remote.json` (no secret in it) and the token in the OS keyring when one answers
 * (libsecret's `secret-tool` over D-Bus), else alone in `<home>/remote-token` (0600).
 * KEYWARDEN_ADDR and KEYWARDEN_TOKEN (and KEYWARDEN_CA_FILE, KEYWARDEN_FINGERPRINT) override
 * the stored login, for CI. The token travels on stdin and in memory only, never in argv.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { delimiter, join, resolve } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { KeywardenError } from "../core/errors.ts";
import { Secret } from "../core/secret.ts";
import type { CliIO } from "./io.ts";

export const ADDR_ENV = "KEYWARDEN_ADDR";
export const TOKEN_ENV = "KEYWARDEN_TOKEN";
export const CA_FILE_ENV = "KEYWARDEN_CA_FILE";
export const FINGERPRINT_ENV = "KEYWARDEN_FINGERPRINT";

export const LOGIN_FILE = "remote.json";
export const TOKEN_FILE = "remote-token";
const KEYRING_SERVICE = "keywarden";

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
export function peerFingerprint(server: string): Promise<string> {
  const url = new URL(server);
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

function onPath(env: CliIO["env"], name: string): boolean {
  return (env.PATH ?? "").split(delimiter).some((d) => d !== "" && existsSync(join(d, name)));
}

/**
 * True when an OS keyring can be used: libsecret's `secret-tool` with a D-Bus session.
 * Machines without a desktop session (servers, CI, containers) have none.
 *
 * @example
 *   keyringAvailable(process.env) // false on a headless box
 */
export function keyringAvailable(env: CliIO["env"]): boolean {
  if (env.KEYWARDEN_KEYRING === "off") return false;
  return (env.DBUS_SESSION_BUS_ADDRESS ?? "") !== "" && onPath(env, "secret-tool");
}

function secretTool(env: CliIO["env"], args: string[], input?: string) {
  return spawnSync("secret-tool", args, {
    input,
    env: { ...env },
    encoding: "utf8",
    timeout: 10_000,
  });
}

function keyringStore(env: CliIO["env"], server: string, token: Secret): boolean {
  // The token goes on stdin: secret-tool reads the secret there when it is not a terminal.
  const r = secretTool(
    env,
    ["store", "--label", `Keywarden token for ${server}`, "service", KEYRING_SERVICE, "server", server],
    token.reveal(),
  );
  return r.status === 0;
}

function keyringLookup(env: CliIO["env"], server: string): string | undefined {
  const r = secretTool(env, ["lookup", "service", KEYRING_SERVICE, "server", server]);
  return r.status === 0 && r.stdout.trim() !== "" ? r.stdout.trim() : undefined;
}

function keyringClear(env: CliIO["env"], server: string): void {
  secretTool(env, ["clear", "service", KEYRING_SERVICE, "server", server]);
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
  try {
    const doc = JSON.parse(readFileSync(file, "utf8")) as StoredLogin;
    if (typeof doc.server !== "string") throw new Error("no server");
    return doc;
  } catch (e) {
    throw new KeywardenError("KW_ERR_REMOTE_STORE", {
      operation: "read",
      file,
      reason: (e as Error).message,
    });
  }
}

/**
 * Stores a login: the token in the keyring when there is one, else alone in a 0600 file.
 * Returns where the token went.
 *
 * @example
 *   saveLogin(io.env, home, { server, fingerprint }, token) // "file"
 */
export function saveLogin(
  env: CliIO["env"],
  home: string,
  login: Omit<StoredLogin, "tokenStore">,
  token: Secret,
): StoredLogin["tokenStore"] {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const previous = readStoredLogin(home);
  if (previous !== undefined) removeLogin(env, home);
  const store = keyringAvailable(env) && keyringStore(env, login.server, token) ? "keyring" : "file";
  if (store === "file") writePrivate(join(home, TOKEN_FILE), `${token.reveal()}\n`);
  writePrivate(join(home, LOGIN_FILE), `${JSON.stringify({ ...login, tokenStore: store }, null, 2)}\n`);
  return store;
}

/**
 * Forgets the stored login and its token (keyring entry or file). Returns the server it
 * was for, or undefined when there was none.
 *
 * @example
 *   removeLogin(io.env, home) // "https://vault.internal:8443"
 */
export function removeLogin(env: CliIO["env"], home: string): string | undefined {
  const login = readStoredLogin(home);
  rmSync(join(home, TOKEN_FILE), { force: true });
  if (login === undefined) return undefined;
  if (login.tokenStore === "keyring" && keyringAvailable(env)) keyringClear(env, login.server);
  rmSync(join(home, LOGIN_FILE), { force: true });
  return login.server;
}

function storedToken(env: CliIO["env"], home: string, login: StoredLogin): string | undefined {
  if (login.tokenStore === "keyring")
    return keyringAvailable(env) ? keyringLookup(env, login.server) : undefined;
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
export function resolveRemote(io: Pick<CliIO, "env" | "cwd">, home: string): RemoteSettings | undefined {
  const env = io.env;
  const addr = env[ADDR_ENV] ?? "";
  const envToken = env[TOKEN_ENV] ?? "";
  const login = readStoredLogin(home);
  if (addr === "" && login === undefined) {
    if (envToken !== "")
      throw new KeywardenError("KW_ERR_REMOTE_CONFIG", {
        what: TOKEN_ENV,
        reason: `it is set but no server is: set ${ADDR_ENV} or run \`keywarden login\``,
      });
    return undefined;
  }
  const server = normalizeServer(addr !== "" ? addr : login!.server);
  // The stored trust settings apply only to the server they were stored for.
  const stored = login !== undefined && normalizeServer(login.server) === server ? login : undefined;
  const token =
    envToken !== "" ? envToken : stored === undefined ? undefined : storedToken(env, home, stored);
  if (token === undefined)
    throw new KeywardenError("KW_ERR_REMOTE_NO_TOKEN", {
      server,
      reason: stored === undefined ? `${TOKEN_ENV} is not set` : "the stored token is gone",
    });
  const caFile = env[CA_FILE_ENV] ?? stored?.caFile;
  const fp = env[FINGERPRINT_ENV] ?? stored?.fingerprint;
  return {
    server,
    token: new Secret(token),
    ca: caFile === undefined || caFile === "" ? undefined : readCaFile(resolve(io.cwd, caFile)),
    fingerprint: fp === undefined || fp === "" ? undefined : normalizeFingerprint(fp),
    insecureSkipVerify: stored?.insecureSkipVerify === true && env[CA_FILE_ENV] === undefined,
  };
}

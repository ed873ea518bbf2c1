/**
 * The one catalogue of expected failures. Codes are never reused: retire a code by
 * leaving it in place, never by renaming it. docs/errors.md is generated from this table
 * and a test keeps the two in step.
 */

/** CLI exit codes shared by every command. */
export const EXIT = Object.freeze({ OK: 0, FINDINGS: 1, USAGE: 2 });

interface ErrorSpec {
  /** Message template; `{name}` placeholders are filled from the error's params. */
  readonly message: string;
  readonly http: number;
  readonly exit: number;
  /** What the user can do about it, one sentence. */
  readonly hint: string;
}

const spec = (message: string, http: number, exit: number, hint: string): ErrorSpec => ({
  message,
  http,
  exit,
  hint,
});

/**
 * @example
 *   throw new KeywardenError("KW_ERR_CONFIG_INVALID", { key: "scan.maxFileSize", where: "keywarden.toml:3", reason: "must be a number" });
 */
export const ERRORS = Object.freeze({
  KW_ERR_INTERNAL: spec("internal error", 500, 2, "Report a bug with the request id or the command you ran."),
  KW_ERR_USAGE: spec("{reason}", 400, 2, "Run `keywarden --help` for the commands and their options."),
  KW_ERR_CONFIG_PARSE: spec(
    "cannot parse {file}:{line}:{column}: {reason}",
    500,
    2,
    "Fix the TOML syntax at the position shown.",
  ),
  KW_ERR_CONFIG_INVALID: spec(
    "invalid config value for {key} ({where}): {reason}",
    500,
    2,
    "Change the value to match the documented type; `keywarden config show` prints the effective config.",
  ),
  KW_ERR_CONFIG_UNKNOWN_KEY: spec(
    "unknown config key {key} ({where})",
    500,
    2,
    "Remove the key or fix its spelling; `keywarden config show` lists every key.",
  ),
  KW_ERR_CONFIG_NOT_FOUND: spec("config file not found: {file}", 500, 2, "Check the path given to --config."),
  KW_ERR_RULE_INVALID: spec(
    "invalid rule {rule}: {reason}",
    500,
    2,
    "Fix the rule in keywarden.toml; patterns must compile and be bounded (no unbounded repetition of a group).",
  ),
  KW_ERR_SCAN_PATH_NOT_FOUND: spec("path not found: {path}", 404, 2, "Check the path you asked to scan."),
  KW_ERR_SCAN_OUTPUT: spec(
    "cannot write report to {file}: {reason}",
    500,
    2,
    "Check that the folder exists and is writable.",
  ),
  KW_ERR_SCAN_WORKER: spec(
    "a scan worker thread failed: {reason}",
    500,
    2,
    "Retry with `--jobs 1` to scan in one thread, and report the message as a bug if it persists.",
  ),
  KW_ERR_BASELINE_INVALID: spec(
    "invalid baseline file {file}: {reason}",
    500,
    2,
    "Recreate it with `keywarden baseline create`.",
  ),
  KW_ERR_GIT_FAILED: spec(
    "git failed: {reason}",
    500,
    2,
    "Check that the path is a git repository and that git is installed (`git --version`).",
  ),
  KW_ERR_INPUT_TOO_LARGE: spec(
    "input too large: {what} exceeds {limit}",
    413,
    2,
    "Raise the limit in config or split the input.",
  ),
  // --- crypto and kms (src/crypto, src/kms) ---
  KW_ERR_CRYPTO_DECRYPT: spec(
    "cannot decrypt: {reason}",
    500,
    2,
    "The ciphertext was modified, or the key or its binding (id, version, path) is not the one it was sealed with; restore it from a backup.",
  ),
  KW_ERR_KMS_SEALED: spec(
    "the vault is sealed: the {provider} key provider needs its passphrase",
    503,
    2,
    "Run `keywarden unseal` (with `--server URL` for a server), or set KEYWARDEN_PASSPHRASE or --passphrase-file.",
  ),
  KW_ERR_KMS_WRONG_PASSPHRASE: spec(
    "wrong passphrase for key file {file} (or the file was modified)",
    401,
    2,
    "Try the passphrase again; nothing was changed.",
  ),
  KW_ERR_KMS_KEY_FILE_NOT_FOUND: spec(
    "key file not found: {file}",
    500,
    2,
    "Run `keywarden init` to create it, or set kms.local.keyFile.",
  ),
  KW_ERR_KMS_KEY_FILE_EXISTS: spec(
    "key file already exists: {file}",
    409,
    2,
    "Keep the existing file, or move it away first if you really mean to start a new vault.",
  ),
  KW_ERR_KMS_KEY_FILE_INVALID: spec(
    "invalid key file {file}: {reason}",
    500,
    2,
    "Restore the key file from a backup.",
  ),
  KW_ERR_KMS_KEY_FILE_WRITE: spec(
    "cannot write key file {file}: {reason}",
    500,
    2,
    "Check that the folder exists and is writable; the previous file is unchanged.",
  ),
  KW_ERR_KMS_ENV_KEY: spec(
    "master key variable {variable}: {reason}",
    500,
    2,
    "Set it to the base64 encoding of 32 random bytes, for example `openssl rand -base64 32`.",
  ),
  KW_ERR_KMS_UNAVAILABLE: spec(
    "key provider {provider} unavailable: {reason}",
    503,
    2,
    "Check the provider's settings under [kms] and that the HSM or KMS answers; nothing was written.",
  ),
  KW_ERR_KMS_AUTH_FAILED: spec(
    "key provider {provider} refused the credentials: {reason}",
    503,
    2,
    "Check the PIN or the cloud credentials and their permissions; nothing was written.",
  ),
  KW_ERR_KMS_REFUSED: spec(
    "key provider {provider} refused {operation}: {reason}",
    503,
    2,
    "Check that the key exists, is enabled and that this identity may use it.",
  ),
  KW_ERR_KMS_UNWRAP: spec(
    "cannot unwrap a data key with KEK version {version} ({provider}): {reason}",
    500,
    2,
    "The wrapped key was modified or belongs to another record; restore it from a backup.",
  ),
  KW_ERR_KMS_UNKNOWN_VERSION: spec(
    "KEK version {version} is not available ({provider}); known versions: {versions}",
    500,
    2,
    "The version was retired or never existed; re-wrap data keys before retiring a version.",
  ),
  KW_ERR_KMS_RETIRE_CURRENT: spec(
    "cannot retire KEK version {version}: it is the current version",
    409,
    2,
    "Rotate to a new version first (`keywarden kek rotate`).",
  ),
  KW_ERR_KMS_ROTATE_UNSUPPORTED: spec(
    "the {provider} key provider cannot {operation} by itself: {reason}",
    409,
    2,
    "Change the key provider's own settings as described, then restart.",
  ),
  // --- end crypto and kms ---
  // --- storage, vault and audit (src/storage, src/services/vault, src/services/audit) ---
  KW_ERR_STORAGE_OPEN: spec(
    "cannot open database {database}: {reason}",
    503,
    2,
    "Check storage.url (or the home folder's permissions) and that the database answers.",
  ),
  KW_ERR_STORAGE_DAMAGED: spec(
    "the database {database} is damaged: {reason}",
    500,
    2,
    "Restore it from a backup (the file with its -wal file); then `keywarden audit verify` says whether the audit log is whole.",
  ),
  KW_ERR_STORAGE_UNAVAILABLE: spec(
    "the database is unavailable: {reason}",
    503,
    2,
    "Retry shortly (a write with check-and-set cannot land twice); if it persists, check that the database runs, answers and has disk space (`/readyz` says when it answers).",
  ),
  KW_ERR_STORAGE_MIGRATE: spec(
    "database migration {migration} failed: {reason}",
    500,
    2,
    "Nothing of that migration was kept; fix the cause and run `keywarden migrate` again.",
  ),
  KW_ERR_STORAGE_SCHEMA_NEWER: spec(
    "the database was migrated by a newer Keywarden: {reason}",
    500,
    2,
    "Upgrade Keywarden; never point an older version at a newer database.",
  ),
  KW_ERR_VAULT_PATH_INVALID: spec(
    "invalid secret path {path}: {reason}",
    400,
    2,
    "Use project/environment/NAME: letters, digits, '.', '_' and '-', for example payments/prod/STRIPE_SECRET_KEY.",
  ),
  KW_ERR_VAULT_VALUE_INVALID: spec(
    "invalid value for secret {path}: {reason}",
    400,
    2,
    "Give a non-empty value of at most 64 KiB.",
  ),
  KW_ERR_VAULT_NOT_FOUND: spec(
    "no secret at {path}",
    404,
    2,
    "Check the path; `keywarden secrets list` shows what exists.",
  ),
  KW_ERR_VAULT_VERSION_NOT_FOUND: spec(
    "secret {path} has no version {version}",
    404,
    2,
    "`keywarden secrets history PATH` lists its versions.",
  ),
  KW_ERR_VAULT_DELETED: spec(
    "secret {path} is deleted",
    410,
    2,
    "Undelete it with `keywarden secrets restore PATH`, or write a new value.",
  ),
  KW_ERR_VAULT_VERSION_DESTROYED: spec(
    "version {version} of secret {path} was destroyed and cannot be read",
    410,
    2,
    "Read or restore another version (`keywarden secrets history PATH`).",
  ),
  KW_ERR_VAULT_NOT_CURRENT: spec(
    "secret {path} is deleted and undeleted as a whole, at its current version {current}; not version {versions}",
    400,
    2,
    "Destroy older versions for good (`keywarden secrets destroy PATH VERSION`), or restore one to make it current.",
  ),
  KW_ERR_VAULT_CAS_CONFLICT: spec(
    "secret {path} is at version {actual}, not {expected}: someone else wrote it",
    409,
    1,
    "Read the current version, then retry with --cas set to it.",
  ),
  KW_ERR_VAULT_TAMPERED: spec(
    "version {version} of secret {path} failed its integrity check: {reason}",
    500,
    2,
    "Its ciphertext or wrapped key was modified or copied from another secret; restore the database from a backup.",
  ),
  KW_ERR_VAULT_DENIED: spec(
    "{actor} may not {action} {path}",
    403,
    2,
    "Ask an administrator for access; the attempt was recorded in the audit log.",
  ),
  KW_ERR_VAULT_NOT_INITIALIZED: spec(
    "no vault in {home}",
    500,
    2,
    "Run `keywarden init` (or pass --home / set KEYWARDEN_HOME to the vault's folder).",
  ),
  KW_ERR_VAULT_INPUT: spec(
    "cannot read {what}: {reason}",
    400,
    2,
    "Check the file, or pipe the value on stdin.",
  ),
  KW_ERR_AUDIT_CHECKPOINT: spec(
    "cannot {operation} the audit checkpoint {file}: {reason}",
    500,
    2,
    "Check that the home folder is writable; the audit log itself is unchanged.",
  ),
  KW_ERR_AUDIT_CHECKPOINT_INVALID: spec(
    "the audit checkpoint {file} does not verify ({reason}); it is kept as evidence, not overwritten",
    500,
    2,
    "Run `keywarden audit verify` and look into it; to sign again, move the file out of the home folder (the next command signs the current head).",
  ),
  KW_ERR_EXPORT_OUTPUT: spec(
    "cannot write the export to {file}: {reason}",
    500,
    2,
    "Check that the folder is writable; the file is written anew with mode 0600.",
  ),
  KW_ERR_RUN_ENV: spec(
    "cannot pass {name} to the command: {reason}",
    400,
    2,
    "An environment variable cannot hold a NUL byte: store that value encoded (base64, for one), or read it in the command with `keywarden secrets get`.",
  ),
  KW_ERR_RUN_ENV_TOO_LARGE: spec(
    "the environment ({count} variables, {bytes} bytes) is larger than the system lets a new process take (E2BIG)",
    400,
    2,
    "Linux caps the environment and arguments together (a quarter of `ulimit -s`) and one variable at 128 KiB. Keep large values out of the environment: split the secrets into smaller environments, or have the command read a value with `keywarden secrets get`.",
  ),
  KW_ERR_RUN_FAILED: spec(
    "cannot run {command}: {reason}",
    500,
    2,
    "Check the command name and that it is on PATH.",
  ),
  // --- end storage, vault and audit ---
  // --- access: identities, tokens, policies (src/services/access) ---
  KW_ERR_AUTH_MISSING: spec(
    "no credentials: this request needs a token or a session",
    401,
    2,
    "Create a token with `keywarden token create` and send it with every request.",
  ),
  KW_ERR_AUTH_MALFORMED: spec(
    "malformed token: expected kw_<kind>_<random>_<checksum>",
    401,
    2,
    "Send the whole token as `keywarden token create` printed it, with no spaces or quotes.",
  ),
  KW_ERR_AUTH_CHECKSUM: spec(
    "the token's checksum does not match: it was mistyped or truncated",
    401,
    2,
    "Copy the token again from where it was stored.",
  ),
  KW_ERR_AUTH_UNKNOWN: spec(
    "unknown token or session",
    401,
    2,
    "Create a new token with `keywarden token create`; the old one may belong to another server.",
  ),
  KW_ERR_AUTH_EXPIRED: spec(
    "the {what} expired at {expiresAt}",
    401,
    2,
    "Create a new token (or log in again); `keywarden token create --ttl` sets a longer life within access.tokenMaxTtl.",
  ),
  KW_ERR_AUTH_REVOKED: spec(
    "the token was revoked at {revokedAt}",
    401,
    2,
    "Ask an administrator for a new token.",
  ),
  KW_ERR_AUTH_IP_NOT_ALLOWED: spec(
    "the token may not be used from {ip}",
    401,
    2,
    "Use the token from an address in its allow-list, or create one with the right --allow-ip.",
  ),
  KW_ERR_AUTH_LOCKED_OUT: spec(
    "too many failed logins for this account: locked until {lockedUntil}",
    401,
    2,
    "Wait until the time shown; every further failure doubles the wait.",
  ),
  KW_ERR_AUTH_BAD_CREDENTIALS: spec(
    "wrong user name, password or one-time code",
    401,
    2,
    "Check the credentials; repeated failures lock the account for a while.",
  ),
  KW_ERR_AUTH_APPROLE: spec(
    "invalid role or secret ID",
    400,
    2,
    "role_id is a machine identity's name and secret_id a token of that identity (`keywarden token create --identity NAME`).",
  ),
  KW_ERR_AUTH_OIDC: spec(
    "OIDC login refused",
    401,
    2,
    "The JWT must come from an issuer that a trust of this identity names (access.oidc), for its audience, unexpired, with the claims it binds; the server's audit log says which check failed.",
  ),
  KW_ERR_AUTH_JWT_USED: spec(
    "this JWT has already logged in",
    401,
    2,
    "The OIDC trust is single-use (singleUse = true): each JWT logs in once. Ask the CI platform for a new JWT for every login.",
  ),
  KW_ERR_AUTH_DISABLED: spec(
    "the identity {identity} is disabled",
    401,
    2,
    "Ask an administrator to enable it again or to give you another identity.",
  ),
  KW_ERR_AUTH_CSRF: spec(
    "missing or wrong CSRF token: a request with the session cookie that changes something needs its session's token in x-csrf-token",
    403,
    2,
    "Send the csrfToken from login (or GET /api/v1/auth/session) in the x-csrf-token header; requests with a token (Bearer, X-Vault-Token) need none.",
  ),
  KW_ERR_ACCESS_DENIED: spec(
    "{actor} may not {capability} {path}",
    403,
    2,
    "Ask an administrator for a policy that allows it; the attempt was recorded in the audit log.",
  ),
  KW_ERR_ACCESS_INVALID: spec(
    "invalid {what}: {reason}",
    400,
    2,
    "Fix the value as described; `keywarden policy --help` shows the policy format.",
  ),
  KW_ERR_ACCESS_NOT_FOUND: spec(
    "no {what} named {name}",
    404,
    2,
    "Check the name; the `list` subcommands show what exists.",
  ),
  KW_ERR_ACCESS_EXISTS: spec(
    "a {what} named {name} already exists",
    409,
    2,
    "Choose another name, or change the existing one.",
  ),
  // --- end access ---
  // --- server (src/server) ---
  KW_ERR_HTTP_NOT_FOUND: spec(
    "no route {method} {url}",
    404,
    2,
    "Check the URL; /api/v1/openapi.json lists the API.",
  ),
  KW_ERR_HTTP_BAD_REQUEST: spec(
    "invalid request: {reason}",
    400,
    2,
    "Check the request against /api/v1/openapi.json.",
  ),
  KW_ERR_HTTP_TOO_LARGE: spec(
    "request body larger than {limit} bytes",
    413,
    2,
    "Send a smaller body, or raise server.bodyLimit.",
  ),
  KW_ERR_HTTP_RATE_LIMITED: spec(
    "too many requests: retry in {retryAfter} seconds",
    429,
    2,
    "Slow down, or raise server.rateLimit if the traffic is expected.",
  ),
  KW_ERR_SERVER_NOT_READY: spec(
    "the server is not ready: {reason}",
    503,
    2,
    "Unseal the vault (`keywarden unseal --server URL`, or KEYWARDEN_PASSPHRASE at start) and retry.",
  ),
  KW_ERR_SERVER_UNSEAL_DENIED: spec(
    "the passphrase does not unseal the vault",
    401,
    2,
    "Try again with the passphrase the key file was sealed with; the attempt was recorded in the audit log and attempts are rate limited.",
  ),
  KW_ERR_SERVER_INSECURE: spec(
    "refusing plain HTTP on {host}: it is not a loopback address",
    500,
    2,
    "Serve HTTPS (drop --insecure-http), or listen on 127.0.0.1 / ::1.",
  ),
  KW_ERR_SERVER_LISTEN: spec(
    "cannot listen on {host} port {port}: {reason}",
    500,
    2,
    "EADDRINUSE: another process holds the port (pick another with --port or server.port); EACCES: ports below 1024 need privileges; EADDRNOTAVAIL or ENOTFOUND: --host is not an address of this machine.",
  ),
  KW_ERR_SERVER_TLS: spec(
    "cannot use the TLS {what} {file}: {reason}",
    500,
    2,
    "Check server.tlsCert and server.tlsKey: both PEM files, readable, and a matching pair. For the pair generated in home, the reason says what to do.",
  ),
  KW_ERR_SERVER_TLS_KEY_SEALED: spec(
    "the generated TLS key {file} is sealed by the vault, and this server starts sealed: it cannot open the key before it is unsealed",
    500,
    2,
    "Start it unsealed (--passphrase-file or KEYWARDEN_PASSPHRASE), or set server.tlsCert and server.tlsKey (files outside home) to serve while sealed.",
  ),
  KW_ERR_CLIENT_NETWORK: spec(
    "cannot reach {origin}: {reason}",
    502,
    2,
    "Check the server address (KEYWARDEN_ADDR), that it runs, and that its certificate is trusted (ca or fingerprint).",
  ),
  KW_ERR_CLIENT_TLS: spec(
    "the server's certificate does not match the pinned fingerprint",
    502,
    2,
    "Compare with the fingerprint `keywarden serve` printed; a mismatch may mean someone is in the middle.",
  ),
  KW_ERR_CLIENT_PROTOCOL: spec(
    "{origin} answered HTTP {status} with something other than Keywarden's API",
    502,
    2,
    "Check the server address (KEYWARDEN_ADDR): it must reach `keywarden serve` itself, not a proxy's login or error page.",
  ),
  KW_ERR_CLIENT_TIMEOUT: spec(
    "no answer from {origin} in time",
    504,
    2,
    "Check the server's health (/readyz) and the network, or raise timeoutMs.",
  ),
  // --- end server ---
  // --- remote CLI (src/cli/vault-backend.ts, src/cli/remote-login.ts) ---
  KW_ERR_REMOTE_CONFIG: spec(
    "invalid server settings ({what}): {reason}",
    400,
    2,
    "Log in again with `keywarden login --server https://HOST:PORT`, or fix KEYWARDEN_ADDR.",
  ),
  KW_ERR_REMOTE_NO_TOKEN: spec(
    "no token for {server}: {reason}",
    401,
    2,
    "Run `keywarden login --server URL` (token on stdin or at the prompt), or set KEYWARDEN_TOKEN.",
  ),
  KW_ERR_REMOTE_OIDC: spec(
    "cannot get the CI job's OIDC token: {reason}",
    401,
    2,
    "In GitHub Actions give the job `permissions: id-token: write`; elsewhere put the platform's JWT in KEYWARDEN_OIDC_TOKEN.",
  ),
  KW_ERR_REMOTE_UNTRUSTED: spec(
    "the certificate of {server} is not trusted ({reason}); its SHA-256 fingerprint is {fingerprint}",
    502,
    2,
    "Compare the fingerprint with the one `keywarden serve` printed, then pass it with --fingerprint (or give --ca-file).",
  ),
  KW_ERR_REMOTE_STORE: spec(
    "cannot {operation} the stored login in {file}: {reason}",
    500,
    2,
    "Check that the Keywarden home is writable, then log in again.",
  ),
  KW_ERR_REMOTE_KEYRING: spec(
    "the OS keyring could not {operation} the token for {server}: {reason}",
    503,
    2,
    "Unlock the keyring (or run from the desktop session that holds it) and retry; or set KEYWARDEN_TOKEN; or log out and log in again with KEYWARDEN_KEYRING=off for a 0600 file.",
  ),
  // --- end remote CLI ---
} satisfies Record<string, ErrorSpec>);

export type ErrorCode = keyof typeof ERRORS;
export type ErrorParams = Readonly<Record<string, string | number>>;

function render(template: string, params: ErrorParams): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    return value === undefined ? whole : String(value);
  });
}

/**
 * An expected failure with a catalogue code. Its message never contains a secret: callers
 * pass ids, paths and masked values only.
 *
 * @example
 *   new KeywardenError("KW_ERR_SCAN_PATH_NOT_FOUND", { path: "./nope" }).message // "path not found: ./nope"
 */
export class KeywardenError extends Error {
  readonly code: ErrorCode;
  readonly params: ErrorParams;

  constructor(code: ErrorCode, params: ErrorParams = {}, options?: { cause?: unknown }) {
    super(render(ERRORS[code].message, params), options);
    this.name = "KeywardenError";
    this.code = code;
    this.params = params;
  }

  get httpStatus(): number {
    return ERRORS[this.code].http;
  }

  get exitCode(): number {
    return ERRORS[this.code].exit;
  }

  get hint(): string {
    return ERRORS[this.code].hint;
  }
}

/** True when `e` is a catalogue error, optionally of one code. */
export function isKeywardenError(e: unknown, code?: ErrorCode): e is KeywardenError {
  return e instanceof KeywardenError && (code === undefined || e.code === code);
}

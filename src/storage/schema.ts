/**
 * The database schema as Kysely sees it: one interface per table. Times are ISO-8601 UTC
 * strings (`Date.toISOString()`, which sort as text), byte strings are `Uint8Array` (BLOB on
 * SQLite, bytea on PostgreSQL), flags are integers. migrations.ts creates exactly this.
 */

/** One secret: a path and its metadata. Values live in `secret_versions`. */
export interface SecretsTable {
  readonly id: string;
  /** `project/environment/NAME`, unique. */
  readonly path: string;
  readonly project: string;
  readonly environment: string;
  readonly name: string;
  /** The newest version number (0 before the first write completes). */
  current_version: number;
  deleted_at: string | null;
  /** Filled from the detection engine when it recognises the current value. */
  provider: string | null;
  kind: string | null;
  owner: string | null;
  /** JSON array of strings. */
  consumers: string;
  /** JSON array of strings. */
  tags: string;
  expires_at: string | null;
  max_age_seconds: number | null;
  readonly created_at: string;
  updated_at: string;
  last_read_at: string | null;
}

/** One immutable version of a secret's value. */
export interface SecretVersionsTable {
  readonly id: string;
  readonly secret_id: string;
  readonly version: number;
  /** sealBytes(dataKey, value, aad); null once destroyed. */
  ciphertext: Uint8Array | null;
  /** Hex HMAC-SHA-256 of the value under the vault's fingerprint key. */
  readonly fingerprint: string;
  readonly created_at: string;
  readonly created_by: string;
  /** The version this one was restored from, if any. */
  readonly restored_from: number | null;
  destroyed_at: string | null;
  /**
   * How the value encodes what a client wrote (migration 0006): null, the string itself;
   * `kv-map`, a Vault KV map as JSON; `kv-map-legacy`, written before versions said so (a
   * Vault map or a plain string: told apart by parsing, as before).
   */
  readonly encoding: string | null;
}

/** The wrapped data key of one version; deleting the row destroys the version. */
export interface DataKeysTable {
  readonly version_id: string;
  kek_version: number;
  wrapped: Uint8Array;
}

/** Vault-wide keys (fingerprint, audit checkpoint), each wrapped by the KEK. */
export interface VaultMetaTable {
  readonly name: string;
  kek_version: number;
  wrapped: Uint8Array;
  readonly created_at: string;
}

/** The append-only audit log, a hash chain in `seq` order. */
export interface AuditLogTable {
  readonly seq: number;
  readonly id: string;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly path: string | null;
  readonly version: number | null;
  readonly result: string;
  readonly source: string;
  readonly request_id: string;
  readonly detail: string | null;
  readonly prev_hash: string;
  readonly hash: string;
}

/** One row (id 1): the chain's head, updated in the transaction of each append. */
export interface AuditHeadTable {
  readonly id: number;
  seq: number;
  hash: string;
}

/**
 * Which entries of `audit_log` hold each path (migrations 0005 and 0010), filled in batches
 * (repos/audit-repo.ts `indexAuditPaths`) rather than by an index on `audit_log.path`
 * that every append would write into, one page per path read: a row per path per fill,
 * whose `seqs` are that path's entries in the fill, ascending, as a JSON array, from
 * `seq_from` to `seq_to`. A path's rows never overlap.
 */
export interface AuditPathBlocksTable {
  readonly path: string;
  readonly seq_from: number;
  readonly seq_to: number;
  readonly seqs: string;
}

/**
 * Blocks of `audit_log` (migration 0008), filled with the path index: the entries from
 * `seq_from` to `seq_to` and the latest time among them. A query since a time starts at the
 * first block whose `max_at` reaches it, instead of an index on `audit_log.at` that every
 * append would write into.
 */
export interface AuditTimeIndexTable {
  readonly seq_from: number;
  readonly seq_to: number;
  readonly max_at: string;
}

/**
 * One row (id 1): every entry up to `through` is in `audit_path_blocks` and in a block of
 * `audit_time_index`; later ones are not yet.
 */
export interface AuditPathIndexHeadTable {
  readonly id: number;
  through: number;
}

/**
 * Vault KV custom metadata of a path (migration 0007): string keys and values, kept by path
 * so that it may be written before the secret exists (External Secrets' PushSecret does),
 * and kept through soft deletes, as Vault keeps it. In the clear, like tags.
 */
export interface SecretCustomMetadataTable {
  readonly path: string;
  /** A JSON object of strings. */
  data: string;
  updated_at: string;
}

/**
 * JWTs that logged in through a single-use OIDC trust (migration 0009), by the SHA-256 of
 * their signed part (header and payload: a second signature of the same claims is the same
 * JWT), until they expire. Nothing of the JWT itself is kept.
 */
export interface OidcUsedJwtsTable {
  readonly digest: string;
  readonly expires_at: string;
}

/** A user or a machine identity (access service). */
export interface IdentitiesTable {
  /** `usr_...` or `mid_...`. */
  readonly id: string;
  readonly name: string;
  /** "user" or "machine". */
  readonly kind: string;
  disabled_at: string | null;
  readonly created_at: string;
  readonly created_by: string;
}

/** A user's password (Argon2id PHC string) and TOTP secret (sealed under the `totp-key`). */
export interface UserCredentialsTable {
  readonly identity_id: string;
  password_hash: string;
  totp_sealed: Uint8Array | null;
  /** The last TOTP time step accepted, so that a code is never accepted twice. */
  totp_last_step: number | null;
  updated_at: string;
}

/** Consecutive failed logins of an identity and its lockout. */
export interface LoginStateTable {
  readonly identity_id: string;
  failures: number;
  locked_until: string | null;
  last_failure_at: string | null;
}

/** An API token; only the SHA-256 hex of the token is stored. */
export interface TokensTable {
  /** `tok_...`. */
  readonly id: string;
  readonly identity_id: string;
  readonly token_hash: string;
  /** svc, usr or cld (a child token). */
  readonly kind: string;
  readonly description: string;
  readonly created_at: string;
  /** The principal id (or `cli:<user>`) that created it. */
  readonly created_by: string;
  readonly expires_at: string;
  revoked_at: string | null;
  /** JSON array of CIDRs; empty means any address. */
  readonly ip_allow: string;
  /** JSON array of policy names: the most this token may use. */
  readonly scope: string;
  readonly parent_id: string | null;
}

/** A named policy; `rules` is a JSON array of PolicyRule. */
export interface PoliciesTable {
  readonly id: string;
  readonly name: string;
  rules: string;
  readonly created_at: string;
  updated_at: string;
}

export interface RolesTable {
  readonly id: string;
  readonly name: string;
  readonly created_at: string;
}

export interface RolePoliciesTable {
  readonly role_id: string;
  readonly policy_id: string;
}

export interface RoleBindingsTable {
  readonly role_id: string;
  readonly identity_id: string;
}

/** A dashboard session; only the SHA-256 hex of the session id is stored. */
export interface SessionsTable {
  /** `ses_...` (not the secret session id). */
  readonly id: string;
  readonly session_hash: string;
  readonly identity_id: string;
  readonly created_at: string;
  last_seen_at: string;
  /** The absolute expiry. */
  readonly expires_at: string;
  revoked_at: string | null;
}

/** One row (id 1): bumped by triggers on every change to what authentication reads. */
export interface AccessEpochTable {
  readonly id: number;
  /** A bigint on PostgreSQL (string from the driver), a number on SQLite. */
  readonly epoch: number | string;
}

export interface Database {
  secrets: SecretsTable;
  secret_versions: SecretVersionsTable;
  data_keys: DataKeysTable;
  vault_meta: VaultMetaTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
  audit_path_blocks: AuditPathBlocksTable;
  audit_path_index_head: AuditPathIndexHeadTable;
  audit_time_index: AuditTimeIndexTable;
  secret_custom_metadata: SecretCustomMetadataTable;
  oidc_used_jwts: OidcUsedJwtsTable;
  identities: IdentitiesTable;
  user_credentials: UserCredentialsTable;
  login_state: LoginStateTable;
  tokens: TokensTable;
  policies: PoliciesTable;
  roles: RolesTable;
  role_policies: RolePoliciesTable;
  role_bindings: RoleBindingsTable;
  sessions: SessionsTable;
  access_epoch: AccessEpochTable;
}

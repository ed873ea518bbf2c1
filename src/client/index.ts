/** `keywarden/client`: the typed Node client of Keywarden's server. */
export {
  createClient,
  KeywardenClientError,
  type ClientOptions,
  type KeywardenClient,
  type SecretValue,
  type SecretMetadata,
  type WriteResult,
  type VersionInfo,
  type MetadataPatch,
  type IssuedToken,
  type AuditEntry,
  type ProjectInfo,
  type EnvironmentInfo,
  type EnvironmentValue,
  type SealStatus,
} from "./client.ts";

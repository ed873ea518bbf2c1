/**
 * The key-provider module's public face: open the configured provider, unseal it, and
 * create a local key file (`keywarden init`).
 */
export type { KeyProvider, KeyProviderKind, KeyProviderStatus, WrappedKey } from "./key-provider.ts";
export {
  awsKmsStatePath,
  createKeyProvider,
  isSealed,
  localKeyFilePath,
  unseal,
  type KeyProviderDeps,
  type KmsConfig,
} from "./create-key-provider.ts";
export { initLocalKeyFile, LocalKeyProvider, type Passphrase } from "./local-provider.ts";
export type { AwsCredentials } from "./aws-kms-provider.ts";

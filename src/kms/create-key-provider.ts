/**
 * Chooses and opens the key provider named by `config.kms.provider`.
 */
import { join } from "node:path";
import type { DeepReadonly } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { KeywardenError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { AwsCredentials } from "./aws-kms-provider.ts";
import { EnvKeyProvider } from "./env-provider.ts";
import type { KeyProvider } from "./key-provider.ts";
import { LocalKeyProvider, type Passphrase } from "./local-provider.ts";

export type KmsConfig = DeepReadonly<Config>["kms"];

export interface KeyProviderDeps {
  /** Keywarden's home folder, already resolved (the default key file and AWS keyring live there). */
  readonly home: string;
  /** Environment variables for the env provider (the CLI passes process.env; library code never reads it). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger?: Logger | undefined;
  /** aws-kms only: static credentials instead of the SDK's default chain. */
  readonly awsCredentials?: AwsCredentials | undefined;
}

/**
 * The key file path in effect: `kms.local.keyFile`, or `<home>/master.key` when empty.
 *
 * @example
 *   await initLocalKeyFile(localKeyFilePath(config, home), passphrase, config.kms.local.argon2);
 */
export function localKeyFilePath(config: { readonly kms: KmsConfig }, home: string): string {
  return config.kms.local.keyFile !== "" ? config.kms.local.keyFile : join(home, "master.key");
}

/** Where the aws-kms provider records rotated versions. */
export function awsKmsStatePath(home: string): string {
  return join(home, "aws-kms-keyring.json");
}

function required(key: string, value: string, provider: string): void {
  if (value === "") {
    throw new KeywardenError("KW_ERR_CONFIG_INVALID", {
      key,
      where: "config",
      reason: `required by the ${provider} key provider`,
    });
  }
}

/**
 * Opens the configured key provider. A `local` provider comes back sealed: pass it to
 * `unseal` before wrapping. Missing HSMs, bad variables and missing key files are
 * KeywardenErrors here, before anything is written.
 *
 * @example
 *   const kms = await createKeyProvider(config, { home, env: process.env, logger });
 *   await unseal(kms, passphrase);
 */
export async function createKeyProvider(
  config: { readonly kms: KmsConfig },
  deps: KeyProviderDeps,
): Promise<KeyProvider> {
  const kms = config.kms;
  switch (kms.provider) {
    case "local":
      return LocalKeyProvider.open(localKeyFilePath(config, deps.home), { logger: deps.logger });
    case "env":
      return new EnvKeyProvider({ variable: kms.env.variable, env: deps.env, logger: deps.logger });
    case "pkcs11": {
      required("kms.pkcs11.pin", kms.pkcs11.pin, "pkcs11");
      required("kms.pkcs11.tokenLabel", kms.pkcs11.tokenLabel, "pkcs11");
      // The native PKCS#11 binding and the AWS SDK load only when configured: every other
      // command (a scan above all) starts without them.
      const { Pkcs11KeyProvider } = await import("./pkcs11-provider.ts");
      return Pkcs11KeyProvider.open({ ...kms.pkcs11, logger: deps.logger });
    }
    case "aws-kms": {
      required("kms.awsKms.keyId", kms.awsKms.keyId, "aws-kms");
      const { AwsKmsKeyProvider } = await import("./aws-kms-provider.ts");
      return new AwsKmsKeyProvider({
        ...kms.awsKms,
        stateFile: awsKmsStatePath(deps.home),
        credentials: deps.awsCredentials,
        logger: deps.logger,
      });
    }
  }
}

/**
 * Unseals a provider that needs a passphrase (`local`); for the others it does nothing, so
 * callers need not know which provider is configured. A wrong passphrase is
 * KW_ERR_KMS_WRONG_PASSPHRASE.
 *
 * @example
 *   await unseal(kms, new Secret(env.KEYWARDEN_PASSPHRASE ?? ""));
 */
export async function unseal(provider: KeyProvider, passphrase: Passphrase): Promise<void> {
  if (provider instanceof LocalKeyProvider) await provider.unseal(passphrase);
}

/**
 * True while the provider waits for `unseal`.
 *
 * @example
 *   if (isSealed(kms)) await unseal(kms, await promptPassphrase());
 */
export function isSealed(provider: KeyProvider): boolean {
  return provider instanceof LocalKeyProvider && provider.sealed;
}

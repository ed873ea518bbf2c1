/**
 * A vault made with the CLI as an operator would (on `storageUrl`: empty for SQLite in its
 * home, or a PostgreSQL URL), with one machine identity `app` holding a policy `app` (the
 * rules given), bound through a role `app`, and a token for it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { runCliInProcess, CHEAP_ARGON2_ENV } from "./cli.ts";
import { tempDir } from "./tmp.ts";

/** Runs the CLI in this process; fails the test unless it exits 0; returns its stdout. */
export async function cliOk(env: Record<string, string>, args: readonly string[]): Promise<string> {
  const r = await runCliInProcess(env, args);
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/**
 * The environment of a CLI run against a new home on `storageUrl` (cheap Argon2, a fixed
 * passphrase); `init` has not run yet.
 *
 * @example
 *   const env = vaultEnv(t, url); await cliOk(env, ["init"]);
 */
export function vaultEnv(t: TestContext, storageUrl: string): Record<string, string> {
  return {
    KEYWARDEN_HOME: join(tempDir(t), "home"),
    KEYWARDEN_PASSPHRASE: "app vault passphrase, not a real one",
    ...CHEAP_ARGON2_ENV,
    KEYWARDEN_STORAGE_URL: storageUrl,
    USER: "tester",
  };
}

/**
 * @example
 *   const { env, token } = await appVault(t, url, "payments/**:read,write");
 */
export async function appVault(
  t: TestContext,
  storageUrl: string,
  allow: string,
): Promise<{ env: Record<string, string>; token: string }> {
  const env = vaultEnv(t, storageUrl);
  await cliOk(env, ["init"]);
  await cliOk(env, ["machine", "add", "app"]);
  await cliOk(env, ["policy", "put", "app", "--allow", allow]);
  await cliOk(env, ["role", "put", "app", "--policy", "app"]);
  await cliOk(env, ["role", "bind", "app", "app"]);
  const token = (await cliOk(env, ["token", "create", "--identity", "app", "--policy", "app"])).trim();
  return { env, token };
}

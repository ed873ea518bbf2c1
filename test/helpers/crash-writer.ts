/**
 * Child process for the crash test: writes secrets as fast as it can and prints one line
 * per committed version (`committed PATH VERSION VALUE`), until it is killed.
 * Env: KW_CRASH_HOME, KW_CRASH_URL, KW_CRASH_PASSPHRASE.
 */
import { createKeywarden } from "../../src/app.ts";
import { loadConfig } from "../../src/config/load.ts";
import { systemClock } from "../../src/core/clock.ts";
import { Secret } from "../../src/core/secret.ts";

const home = process.env.KW_CRASH_HOME!;
const { config } = loadConfig({
  cwd: home,
  env: {},
  flags: { home, "storage.url": process.env.KW_CRASH_URL ?? "" },
});
const kw = await createKeywarden({ config, home, env: {}, clock: systemClock });
const ctx = { actor: "cli:crash", source: "cli", requestId: "req_crash" };
await kw.unseal(ctx, process.env.KW_CRASH_PASSPHRASE!);
for (let n = 0; ; n++) {
  const path = `crash/test/K${n % 5}`;
  const value = `crash-value-${n}`;
  const r = await kw.vault.set(ctx, path, new Secret(value));
  process.stdout.write(`committed ${path} ${r.version} ${value}\n`);
}

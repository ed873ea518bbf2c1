/**
 * `keywarden serve --sealed` starts sealed even with a passphrase at hand: /readyz answers
 * 503, reads 503, until `keywarden unseal --server` unseals it over HTTP; then it is ready
 * and serves reads. The passphrase appears in no output of the server.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runCliInProcess, CHEAP_ARGON2_ENV } from "../../helpers/cli.ts";
import { spawnServe } from "../../helpers/serve-process.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { makeKey } from "./fixtures.ts";

async function kw(env: Record<string, string>, args: string[], input = ""): Promise<string> {
  const r = await runCliInProcess(env, args, input);
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

test("serve --sealed: sealed at start, unsealed over HTTP, then ready", async (t) => {
  const home = join(tempDir(t), "home");
  const passphrase = `serve sealed ${makeKey()}`;
  const env = {
    KEYWARDEN_HOME: home,
    KEYWARDEN_PASSPHRASE: passphrase,
    ...CHEAP_ARGON2_ENV,
    USER: "tester",
  };
  await kw(env, ["init"]);
  const value = makeKey();
  await kw(env, ["secrets", "set", "app/dev/KEY"], value);
  await kw(env, ["machine", "add", "app"]);
  await kw(env, ["policy", "put", "app", "--allow", "app/dev/*:read"]);
  await kw(env, ["role", "put", "app", "--policy", "app"]);
  await kw(env, ["role", "bind", "app", "app"]);
  const token = (await kw(env, ["token", "create", "--identity", "app", "--policy", "app"])).trim();

  // KEYWARDEN_PASSPHRASE is set, and yet --sealed keeps it sealed.
  const server = await spawnServe(t, env, ["--insecure-http", "--sealed"]);
  const url = server.url.origin;
  assert.equal((await fetch(`${url}/readyz`)).status, 503);
  assert.deepEqual(await (await fetch(`${url}/api/v1/sys/seal-status`)).json(), {
    sealed: true,
    type: "local",
  });
  const read = () =>
    fetch(`${url}/api/v1/environments/app/dev/secrets`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal((await read()).status, 503);

  const { KEYWARDEN_PASSPHRASE: _, ...withoutPassphrase } = env;
  const clientEnv = { ...withoutPassphrase, KEYWARDEN_HOME: join(home, "..", "client") };
  const passFile = join(home, "..", "pass.txt");
  writeFileSync(passFile, `${passphrase}\n`, { mode: 0o600 });
  assert.equal(
    await kw(clientEnv, ["unseal", "--server", url, "--passphrase-file", passFile]),
    `unsealed ${url} (key provider local)\n`,
  );
  assert.equal((await fetch(`${url}/readyz`)).status, 200);
  const r = await read();
  assert.equal(r.status, 200);
  assert.equal(((await r.json()) as { secrets: { value: string }[] }).secrets[0]?.value, value);

  assert.equal(await server.stop(), 0);
  const logs = server.stdout() + server.stderr();
  assert.match(logs, /started sealed \(--sealed\)/);
  assert.ok(!logs.includes(passphrase) && !logs.includes(value), "the server logs no passphrase or value");
});

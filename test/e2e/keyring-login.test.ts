/**
 * `keywarden login` with a real OS keyring: the built CLI against a real `keywarden serve`,
 * and a real Secret Service (gnome-keyring-daemon on a private D-Bus session bus, see
 * test/helpers/secret-service.ts). The token goes into the keyring and into no file, remote
 * commands read it from there, each Keywarden home keeps its own, logout removes it; a
 * locked or frozen keyring neither loses a token nor hangs; with no Secret Service on the
 * bus the token goes to the 0600 file and login says why.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { CHEAP_ARGON2_ENV, type CliRun, runCli } from "../helpers/cli.ts";
import { secretServiceMissing, startSecretService } from "../helpers/secret-service.ts";
import { spawnServe } from "../helpers/serve-process.ts";
import { tempDir } from "../helpers/tmp.ts";

type Env = Record<string, string>;

const kw = (dir: string, args: string[], env: Env, input = ""): CliRun =>
  runCli(args, { cwd: dir, env, input });

function ok(dir: string, args: string[], env: Env, input = ""): string {
  const r = kw(dir, args, env, input);
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

/** A served vault with a token allowed app/dev and one allowed only other/dev. */
async function startVault(t: TestContext, dir: string) {
  const serverEnv = {
    KEYWARDEN_HOME: join(dir, "server"),
    KEYWARDEN_PASSPHRASE: `keyring e2e ${randomBytes(6).toString("hex")}`,
    ...CHEAP_ARGON2_ENV,
  };
  ok(dir, ["init"], serverEnv);
  ok(dir, ["policy", "put", "app-rw", "--allow", "app/dev/*:read,write,list"], serverEnv);
  ok(dir, ["policy", "put", "other-read", "--allow", "other/dev/*:read,list"], serverEnv);
  ok(dir, ["role", "put", "app", "--policy", "app-rw"], serverEnv);
  ok(dir, ["role", "put", "other", "--policy", "other-read"], serverEnv);
  ok(dir, ["machine", "add", "app-ci", "--role", "app"], serverEnv);
  ok(dir, ["machine", "add", "other-ci", "--role", "other"], serverEnv);
  const token = ok(dir, ["token", "create", "--identity", "app-ci", "--policy", "app-rw"], serverEnv).trim();
  const otherToken = ok(
    dir,
    ["token", "create", "--identity", "other-ci", "--policy", "other-read"],
    serverEnv,
  ).trim();
  const server = await spawnServe(t, serverEnv, [], { built: true });
  const url = server.url.origin;
  const login = (env: Env, secret: string): CliRun =>
    kw(dir, ["login", "--server", url, "--fingerprint", server.fingerprint, "--token-stdin"], env, secret);
  const noLeak = (r: CliRun): void => {
    for (const secret of [token, otherToken])
      assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), "a token in the output");
  };
  return { server, url, token, otherToken, login, noLeak };
}

test("login keeps the token in the OS keyring, per server and home; logout removes it", async (t) => {
  const missing = secretServiceMissing();
  if (missing !== undefined) {
    // .ci/run installs dbus, gnome-keyring and libsecret-tools: in CI a missing one is a failure.
    assert.equal(process.env.CI, undefined, `CI must have a Secret Service: ${missing}`);
    t.skip(`no Secret Service can be started: ${missing}`);
    return;
  }
  const ss = await startSecretService(t);
  const dir = tempDir(t);
  const { server, url, token, otherToken, login, noLeak } = await startVault(t, dir);
  const homeA = join(dir, "a");
  const envA = { ...ss.env, KEYWARDEN_HOME: homeA };
  const item = (home: string) => ({ service: "keywarden", server: url, home });

  const a = login(envA, `${token}\n`);
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /as app-ci \(machine\).*\ntoken stored in the OS keyring \(Secret Service\)\n$/);
  noLeak(a);
  assert.equal(ss.lookup(item(homeA)), token, "the keyring holds the token, without the newline");
  assert.equal(existsSync(join(homeA, "remote-token")), false);
  const files = filesUnder(homeA);
  assert.ok(files.includes(join(homeA, "remote.json")));
  for (const f of files) assert.ok(!readFileSync(f, "utf8").includes(token), `the token is in ${f}`);
  assert.equal((JSON.parse(readFileSync(join(homeA, "remote.json"), "utf8")) as Env).tokenStore, "keyring");

  // Remote commands read the token from the keyring.
  const value = `v-${randomBytes(8).toString("hex")}`;
  assert.equal(ok(dir, ["secrets", "set", "app/dev/KEY"], envA, value), "stored app/dev/KEY version 1\n");
  assert.equal(ok(dir, ["secrets", "get", "app/dev/KEY"], envA), value);

  // Another home on the same server keeps its own token, and its logout leaves A's alone.
  const homeB = join(dir, "b");
  const envB = { ...ss.env, KEYWARDEN_HOME: homeB };
  assert.equal(login(envB, otherToken).code, 0);
  assert.equal(ss.lookup(item(homeB)), otherToken);
  assert.equal(ss.lookup(item(homeA)), token);
  const denied = kw(dir, ["secrets", "get", "app/dev/KEY"], envB);
  assert.match(denied.stderr, /KW_ERR_ACCESS_DENIED/, "B uses its own token");
  assert.match(ok(dir, ["logout"], envB), /^logged out of https:\/\/127\.0\.0\.1:\d+;/);
  assert.equal(ss.lookup(item(homeB)), undefined, "logout removed B's item");
  assert.equal(ss.lookup(item(homeA)), token);
  assert.equal(ok(dir, ["secrets", "get", "app/dev/KEY"], envA), value);

  // Logging in again to the same server replaces the item; logout clears it and the login.
  assert.equal(login(envA, token).code, 0);
  ok(dir, ["logout"], envA);
  assert.equal(ss.lookup(item(homeA)), undefined);
  assert.equal(existsSync(join(homeA, "remote.json")), false);
  assert.match(kw(dir, ["secrets", "get", "app/dev/KEY"], envA).stderr, /KW_ERR_VAULT_NOT_INITIALIZED/);

  // A token removed from the keyring behind Keywarden's back: said so, not a silent local run.
  assert.equal(login(envA, token).code, 0);
  const cleared = spawnSync("secret-tool", ["clear", ...Object.entries(item(homeA)).flat()], {
    env: ss.env,
    timeout: 10_000,
  });
  assert.equal(cleared.status, 0);
  const noToken = kw(dir, ["secrets", "get", "app/dev/KEY"], envA);
  assert.equal(noToken.code, 2);
  assert.match(noToken.stderr, /KW_ERR_REMOTE_NO_TOKEN: .*the OS keyring has no token for it/);

  // Locked: reads fail at once with the reason; a new login falls back to the file.
  assert.equal(login(envA, token).code, 0);
  const homeE = join(dir, "e");
  const envE = { ...ss.env, KEYWARDEN_HOME: homeE };
  assert.equal(login(envE, token).code, 0);
  const homeF = join(dir, "f");
  const envF = { ...ss.env, KEYWARDEN_HOME: homeF };
  assert.equal(login(envF, token).code, 0);
  ss.lock();
  let started = Date.now();
  const locked = kw(dir, ["secrets", "get", "app/dev/KEY"], envA);
  assert.equal(locked.code, 2);
  assert.match(locked.stderr, /KW_ERR_REMOTE_KEYRING: the OS keyring could not read the token for .*locked/);
  noLeak(locked);
  assert.ok(Date.now() - started < 15_000, "a locked keyring does not hang");
  const homeC = join(dir, "c");
  const envC = { ...ss.env, KEYWARDEN_HOME: homeC };
  const c = login(envC, token);
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stdout, /token stored in .*remote-token \(mode 0600; OS keyring not used: .*locked/);
  assert.equal(statSync(join(homeC, "remote-token")).mode & 0o777, 0o600);
  assert.equal(readFileSync(join(homeC, "remote-token"), "utf8"), `${token}\n`);
  assert.equal(ok(dir, ["secrets", "get", "app/dev/KEY"], envC), value);
  // Logging in again while locked: the new token goes to the file, the old item is named.
  const f = login(envF, token);
  assert.equal(f.code, 0, f.stderr);
  assert.match(f.stdout, /remote-token \(mode 0600; OS keyring not used: .*locked/);
  assert.match(f.stderr, /^keywarden: warning KW_ERR_REMOTE_KEYRING: .*could not remove the token/);
  assert.equal(ok(dir, ["secrets", "get", "app/dev/KEY"], envF), value);
  // Logout while locked: logged out, and told what is left in the keyring.
  const out = kw(dir, ["logout"], envA);
  assert.equal(out.code, 2);
  assert.match(out.stdout, /^logged out of /);
  assert.match(out.stderr, /KW_ERR_REMOTE_KEYRING: the OS keyring could not remove the token/);
  assert.ok(out.stderr.includes(`secret-tool clear service keywarden server ${url} home ${homeA}`));
  assert.equal(existsSync(join(homeA, "remote.json")), false);

  // Frozen (holds its bus name, never answers): each call gives up at the deadline.
  const resume = ss.freeze();
  try {
    const quick = { KEYWARDEN_KEYRING_TIMEOUT_MS: "1500" };
    started = Date.now();
    const frozen = kw(dir, ["secrets", "get", "app/dev/KEY"], { ...envE, ...quick });
    assert.equal(frozen.code, 2);
    assert.match(frozen.stderr, /KW_ERR_REMOTE_KEYRING: .*no answer from the Secret Service within 1\.5 s/);
    const homeD = join(dir, "d");
    const d = login({ ...ss.env, ...quick, KEYWARDEN_HOME: homeD }, token);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /remote-token \(mode 0600; OS keyring not used: no answer .* within 1\.5 s/);
    assert.equal(readFileSync(join(homeD, "remote-token"), "utf8"), `${token}\n`, "the token is not lost");
    assert.ok(Date.now() - started < 20_000, "a frozen keyring does not hang the CLI");
  } finally {
    resume();
  }
  // Thawed, the daemon answers again (still locked) and the file login is unaffected.
  assert.match(kw(dir, ["secrets", "get", "app/dev/KEY"], envE).stderr, /KW_ERR_REMOTE_KEYRING: .*locked/);
  assert.equal(ok(dir, ["secrets", "get", "app/dev/KEY"], envC), value);
  assert.equal(await server.stop(), 0);
});

test("no Secret Service on the bus: the token goes to a 0600 file, and login says why", async (t) => {
  const dir = tempDir(t);
  const { server, token, login, noLeak } = await startVault(t, dir);
  const home = join(dir, "client");
  const env = { KEYWARDEN_HOME: home, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(dir, "no-bus")}` };
  const started = Date.now();
  const r = login(env, token);
  assert.equal(r.code, 0, r.stderr);
  noLeak(r);
  assert.ok(Date.now() - started < 15_000);
  assert.match(
    r.stdout,
    secretServiceMissing() === undefined
      ? /token stored in .*remote-token \(mode 0600; OS keyring not used: Could not connect: No such file or directory\)\n$/
      : /token stored in .*remote-token \(mode 0600; OS keyring not used: secret-tool is not installed/,
  );
  const file = join(home, "remote-token");
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(readFileSync(file, "utf8"), `${token}\n`);
  assert.equal((JSON.parse(readFileSync(join(home, "remote.json"), "utf8")) as Env).tokenStore, "file");
  const value = `v-${randomBytes(8).toString("hex")}`;
  ok(dir, ["secrets", "set", "app/dev/KEY"], env, value);
  assert.equal(ok(dir, ["secrets", "get", "app/dev/KEY"], env), value);
  // KEYWARDEN_KEYRING=off says so too.
  const off = login({ ...env, KEYWARDEN_KEYRING: "off" }, token);
  assert.match(off.stdout, /OS keyring not used: KEYWARDEN_KEYRING=off\)\n$/);
  assert.match(ok(dir, ["logout"], env), /^logged out of /);
  assert.equal(existsSync(file), false);
  assert.equal(existsSync(join(home, "remote.json")), false);
  assert.equal(await server.stop(), 0);
});

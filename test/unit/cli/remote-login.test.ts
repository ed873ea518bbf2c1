import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { KeywardenClientError } from "../../../src/client/client.ts";
import { isKeywardenError, KeywardenError } from "../../../src/core/errors.ts";
import { Secret } from "../../../src/core/secret.ts";
import { keyringStatus } from "../../../src/cli/os-keyring.ts";
import {
  normalizeFingerprint,
  normalizeServer,
  removeLogin,
  resolveRemote,
  saveLogin,
  type RemoteTarget,
} from "../../../src/cli/remote-login.ts";
import { fromClientError } from "../../../src/cli/vault-backend.ts";
import { tempDir } from "../../helpers/tmp.ts";

/** The target's token text, or undefined when it is to come from an OIDC login. */
const revealed = (t: RemoteTarget) => (t.token instanceof Secret ? t.token.reveal() : undefined);

const fakeToken = (): string => `kw_svc_${randomBytes(16).toString("hex")}_abcdef`;

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (isKeywardenError(e)) return e.code;
    throw e;
  }
  return "none";
};

test("server URLs: https anywhere, plain http only to loopback, no credentials", () => {
  assert.equal(normalizeServer("https://vault.internal:8443/"), "https://vault.internal:8443");
  assert.equal(normalizeServer("vault.internal:8443"), "https://vault.internal:8443");
  assert.equal(normalizeServer("http://127.0.0.1:8200"), "http://127.0.0.1:8200");
  assert.equal(normalizeServer("http://[::1]:8200"), "http://[::1]:8200");
  assert.equal(
    code(() => normalizeServer("http://vault.internal:8200")),
    "KW_ERR_REMOTE_CONFIG",
  );
  assert.equal(
    code(() => normalizeServer("https://u:p@vault.internal")),
    "KW_ERR_REMOTE_CONFIG",
  );
  assert.equal(
    code(() => normalizeServer("ftp://vault.internal")),
    "KW_ERR_REMOTE_CONFIG",
  );
});

test("fingerprints are accepted with or without colons, in any case", () => {
  const hex = randomBytes(32).toString("hex");
  const canonical = hex.toUpperCase().match(/../g)!.join(":");
  assert.equal(normalizeFingerprint(hex), canonical);
  assert.equal(normalizeFingerprint(canonical.toLowerCase()), canonical);
  assert.equal(
    code(() => normalizeFingerprint(hex.slice(2))),
    "KW_ERR_REMOTE_CONFIG",
  );
});

test("the keyring is not tried, with the reason, when off, without a D-Bus session or secret-tool", (t) => {
  const bin = tempDir(t);
  writeFileSync(join(bin, "secret-tool"), "");
  const bus = "unix:path=/nonexistent/bus";
  assert.deepEqual(keyringStatus({ PATH: bin, DBUS_SESSION_BUS_ADDRESS: bus }), { usable: true });
  assert.deepEqual(keyringStatus({ PATH: bin }), {
    usable: false,
    reason: "no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)",
  });
  assert.match(
    (keyringStatus({ PATH: "", DBUS_SESSION_BUS_ADDRESS: bus }) as { reason: string }).reason,
    /secret-tool is not installed/,
  );
  assert.deepEqual(keyringStatus({ PATH: bin, DBUS_SESSION_BUS_ADDRESS: bus, KEYWARDEN_KEYRING: "off" }), {
    usable: false,
    reason: "KEYWARDEN_KEYRING=off",
  });
});

test("a stored login: token alone in a 0600 file; env overrides; logout removes it", (t) => {
  const home = join(tempDir(t), "home");
  const io = { env: { PATH: "" }, cwd: home };
  assert.equal(resolveRemote(io, home), undefined, "nothing configured: local");
  const token = fakeToken();
  const fp = normalizeFingerprint(randomBytes(32).toString("hex"));
  assert.deepEqual(
    saveLogin(io.env, home, { server: "https://kw.test:8443", fingerprint: fp }, new Secret(token)),
    {
      store: "file",
      keyringReason: "no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)",
      warning: undefined,
    },
  );
  const file = join(home, "remote-token");
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(readFileSync(file, "utf8"), `${token}\n`);
  assert.ok(!readFileSync(join(home, "remote.json"), "utf8").includes(token));

  const stored = resolveRemote(io, home)!;
  assert.equal(stored.server, "https://kw.test:8443");
  assert.equal(revealed(stored), token);
  assert.equal(stored.fingerprint, fp);

  const other = fakeToken();
  const env = resolveRemote({ env: { KEYWARDEN_TOKEN: other }, cwd: home }, home)!;
  assert.equal(revealed(env), other, "KEYWARDEN_TOKEN wins");
  assert.equal(env.fingerprint, fp, "the stored trust still applies to the same server");
  // Another address: the stored token and pin are not sent there.
  assert.equal(
    code(() => resolveRemote({ env: { KEYWARDEN_ADDR: "https://elsewhere.test" }, cwd: home }, home)),
    "KW_ERR_REMOTE_NO_TOKEN",
  );
  const ci = resolveRemote(
    { env: { KEYWARDEN_ADDR: "https://elsewhere.test", KEYWARDEN_TOKEN: other }, cwd: home },
    home,
  )!;
  assert.equal(ci.server, "https://elsewhere.test");
  assert.equal(ci.fingerprint, undefined);
  // A CI job logging in with its OIDC token: no token yet, the identity to ask one for; a
  // token given beside it still wins.
  const oidcEnv = { KEYWARDEN_ADDR: "https://elsewhere.test", KEYWARDEN_OIDC_IDENTITY: "ci-deployer" };
  const job = resolveRemote({ env: oidcEnv, cwd: home }, home)!;
  assert.deepEqual(job.token, { oidcIdentity: "ci-deployer" });
  const both = resolveRemote({ env: { ...oidcEnv, KEYWARDEN_TOKEN: other }, cwd: home }, home)!;
  assert.equal(revealed(both), other);

  assert.deepEqual(removeLogin(io.env, home), { server: "https://kw.test:8443", keyringError: undefined });
  assert.equal(existsSync(file), false);
  assert.equal(resolveRemote(io, home), undefined);
  assert.equal(
    code(() => resolveRemote({ env: { KEYWARDEN_TOKEN: other }, cwd: home }, home)),
    "KW_ERR_REMOTE_CONFIG",
    "a token with no server is an error, not a silent local run",
  );
  assert.equal(
    code(() => resolveRemote({ env: { KEYWARDEN_OIDC_IDENTITY: "ci-deployer" }, cwd: home }, home)),
    "KW_ERR_REMOTE_CONFIG",
    "so is an OIDC identity",
  );
});

test("a server's error becomes the local error: code, exit code, hint, no token", () => {
  const e = fromClientError(
    new KeywardenClientError(
      "KW_ERR_VAULT_CAS_CONFLICT",
      409,
      "secret a/b/C is at version 2, not 0",
      "req_1",
    ),
  );
  assert.ok(e instanceof KeywardenError);
  assert.equal(e.code, "KW_ERR_VAULT_CAS_CONFLICT");
  assert.equal(e.exitCode, 1);
  assert.equal(e.message, "secret a/b/C is at version 2, not 0 (request req_1)");
  const unknown = fromClientError(new KeywardenClientError("KW_ERR_FROM_THE_FUTURE", 418, "odd", undefined));
  assert.ok(unknown instanceof KeywardenError);
  assert.equal(unknown.code, "KW_ERR_INTERNAL");
  const plain = new Error("bug");
  assert.equal(fromClientError(plain), plain);
});

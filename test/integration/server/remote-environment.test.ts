/**
 * The one-call environment read from the outside: the typed client's new calls (projects,
 * environments, the environment read, seal status, seal, unseal) over HTTPS, and the CLI
 * run in process against the server: remote `run` and `export` work with a token that
 * has `read` and no `list` on the environment, and `keywarden unseal --server` unseals.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createClient, KeywardenClientError } from "../../../src/client/index.ts";
import { runCliInProcess } from "../../helpers/cli.ts";
import { bearer, createTestServer } from "../../helpers/server.ts";
import { DIALECTS } from "../../helpers/storage.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { makeKey } from "./fixtures.ts";

const sqlite = DIALECTS.find((d) => d.name === "sqlite") ?? DIALECTS[0]!;

const cli = runCliInProcess;

/** A child that writes the variables it was given to a file (its stdout is not ours in process). */
function dumpEnv(file: string): string[] {
  return [
    process.execPath,
    "-e",
    "require('node:fs').writeFileSync(process.argv[1], JSON.stringify({ A: process.env.A, B: process.env.B, T: process.env.KEYWARDEN_TOKEN }))",
    file,
  ];
}

describe("remote environment read, seal and unseal", () => {
  test("remote run and export with read and no list; the client's calls; unseal --server", async (t) => {
    const s = await createTestServer(t, sqlite, { https: true });
    const { url, ca } = await s.listen();
    const fingerprint = new X509Certificate(ca!).fingerprint256;
    const root = await s.rootToken();
    const a = makeKey();
    const b = `two words "quoted" ${makeKey()}`;
    for (const [name, value] of [
      ["A", a],
      ["B", b],
    ] as const) {
      const w = await s.app.inject({
        method: "PUT",
        url: `/api/v1/secrets/app/dev/${name}`,
        headers: bearer(root),
        payload: { value },
      });
      assert.equal(w.statusCode, 200, w.body);
    }
    const readOnly = await s.token([{ path: "app/dev/*", capabilities: ["read"] }]);
    const dir = tempDir(t);
    const env = (token: string): Record<string, string> => ({
      KEYWARDEN_HOME: dir,
      KEYWARDEN_ADDR: url,
      KEYWARDEN_TOKEN: token,
      KEYWARDEN_FINGERPRINT: fingerprint,
      PATH: process.env.PATH ?? "",
    });

    // The token may not list the environment...
    const list = await cli(env(readOnly), ["secrets", "list", "app/dev/"]);
    assert.equal(list.code, 2);
    assert.match(list.stderr, /KW_ERR_ACCESS_DENIED/);
    // ...and yet run and export get every value, in one request each.
    const out = join(dir, "child.json");
    const ran = await cli(env(readOnly), ["run", "--env", "app/dev", "--", ...dumpEnv(out)]);
    assert.equal(ran.code, 0, ran.stderr);
    assert.deepEqual(JSON.parse(readFileSync(out, "utf8")), { A: a, B: b }, "the token is not passed on");
    const exported = await cli(env(readOnly), ["export", "app/dev", "--format", "json"]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.deepEqual(JSON.parse(exported.stdout), { A: a, B: b });
    const kw = createClient({ url, token: readOnly, fingerprint });
    const admin = createClient({ url, token: root, ca });
    t.after(() => {
      kw.close();
      admin.close();
    });
    const self = (await kw.tokens.self()).id;
    const reads = await s.kw.audit.query({ actor: self, action: "secret.read", limit: 100 });
    assert.deepEqual(
      reads.map((e) => [e.path, e.result, e.detail]),
      [
        ["app/dev/A", "ok", "api run"],
        ["app/dev/B", "ok", "api run"],
        ["app/dev/A", "ok", "api export"],
        ["app/dev/B", "ok", "api export"],
      ],
    );

    // A token that may read only some of the environment: refused whole, the command not started.
    const partial = await s.token([{ path: "app/dev/A", capabilities: ["read"] }]);
    const refusedOut = join(dir, "refused.json");
    const refused = await cli(env(partial), ["run", "--env", "app/dev", "--", ...dumpEnv(refusedOut)]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /KW_ERR_VAULT_DENIED: mid_\w+ may not read every secret of app\/dev/);
    assert.equal(existsSync(refusedOut), false);
    for (const r of [ran, exported, refused])
      assert.ok(!r.stderr.includes(a) && !r.stderr.includes(readOnly));

    // The typed client.
    assert.deepEqual(
      (await kw.environments.read("app/dev", { purpose: "client" })).map((v) => [v.name, v.value, v.version]),
      [
        ["A", a, 1],
        ["B", b, 1],
      ],
    );
    assert.deepEqual(await kw.projects.list(), [], "read without list shows no project");
    assert.deepEqual(await admin.projects.list(), [{ name: "app", environments: 1, secrets: 2 }]);
    assert.deepEqual(await admin.projects.environments("app"), [{ name: "dev", secrets: 2 }]);
    const partialClient = createClient({ url, token: partial, fingerprint });
    t.after(() => {
      partialClient.close();
    });
    const denied = await partialClient.environments.read("app/dev").then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(denied instanceof KeywardenClientError);
    assert.equal(denied.status, 403);
    assert.equal(denied.code, "KW_ERR_VAULT_DENIED");

    // Seal status needs no token; seal needs admin; unseal needs the passphrase only.
    const anonymous = createClient({ url, token: "", fingerprint });
    t.after(() => {
      anonymous.close();
    });
    assert.deepEqual(await anonymous.sealStatus(), { sealed: false, type: "local" });
    const notAdmin = await kw.seal().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(notAdmin instanceof KeywardenClientError);
    assert.equal(notAdmin.status, 403);
    assert.deepEqual(await admin.seal(), { sealed: true, type: "local" });
    assert.equal(await anonymous.ready(), false);
    const wrongPassphrase = `not it ${makeKey()}`;
    const wrong = await anonymous.unseal(wrongPassphrase).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(wrong instanceof KeywardenClientError);
    assert.equal(wrong.status, 401);
    assert.equal(wrong.code, "KW_ERR_SERVER_UNSEAL_DENIED");
    assert.ok(!`${wrong.message} ${wrong.stack ?? ""}`.includes(wrongPassphrase));

    // The CLI: a wrong passphrase, then the right one; no token needed or used.
    const cliEnv = { KEYWARDEN_HOME: dir, PATH: process.env.PATH ?? "" };
    const bad = await cli({ ...cliEnv, KEYWARDEN_PASSPHRASE: wrongPassphrase }, [
      "unseal",
      "--server",
      url,
      "--fingerprint",
      fingerprint,
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /KW_ERR_SERVER_UNSEAL_DENIED: the passphrase does not unseal the vault/);
    assert.ok(!bad.stderr.includes(wrongPassphrase));
    const unsealed = await cli({ ...cliEnv, KEYWARDEN_PASSPHRASE: s.passphrase }, [
      "unseal",
      "--server",
      url,
      "--fingerprint",
      fingerprint,
    ]);
    assert.equal(unsealed.code, 0, unsealed.stderr);
    assert.equal(unsealed.stdout, `unsealed ${url} (key provider local)\n`);
    assert.equal(await anonymous.ready(), true);
    const again = await cli({ ...cliEnv, KEYWARDEN_PASSPHRASE: s.passphrase }, [
      "unseal",
      "--server",
      url,
      "--fingerprint",
      fingerprint,
    ]);
    assert.equal(again.stdout, `${url} is not sealed (key provider local)\n`);
    // An untrusted certificate: refused before the passphrase is sent, with the fingerprint shown.
    const untrusted = await cli({ ...cliEnv, KEYWARDEN_PASSPHRASE: s.passphrase }, [
      "unseal",
      "--server",
      url,
    ]);
    assert.equal(untrusted.code, 2);
    assert.match(untrusted.stderr, /KW_ERR_REMOTE_UNTRUSTED/);
    assert.equal((await kw.environments.read("app/dev")).length, 2);
  });
});

/**
 * `/api/v1/projects`, `/api/v1/projects/:project/environments` (filtered by the caller's
 * `list` capability, counts included, audited) and `/api/v1/environments/:project/:env/secrets`
 * (every current value with `read` alone, all or nothing, each read audited), on every dialect.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { bearer, createTestServer, type TestServer } from "../../helpers/server.ts";
import { DIALECTS } from "../../helpers/storage.ts";
import { makeKey } from "./fixtures.ts";

interface ProjectsBody {
  projects: { name: string; environments: number; secrets: number }[];
}
interface EnvironmentsBody {
  project: string;
  environments: { name: string; secrets: number }[];
}
interface ValuesBody {
  project: string;
  environment: string;
  secrets: { name: string; path: string; version: number; value: string }[];
}

/** The identity id a token acts as (the actor of its audit entries). */
async function actorOf(s: TestServer, token: string): Promise<string> {
  return (await s.app.inject({ url: "/api/v1/tokens/self", headers: bearer(token) })).json<{ id: string }>()
    .id;
}

/** payments/prod: A, B, C (and a deleted D); payments/dev: A, B; shipping/prod: A. */
async function seed(s: TestServer): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  const h = bearer(await s.rootToken());
  for (const path of [
    "payments/prod/A",
    "payments/prod/B",
    "payments/prod/C",
    "payments/prod/D",
    "payments/dev/A",
    "payments/dev/B",
    "shipping/prod/A",
  ]) {
    const value = makeKey();
    values.set(path, value);
    const r = await s.app.inject({
      method: "PUT",
      url: `/api/v1/secrets/${path}`,
      headers: h,
      payload: { value },
    });
    assert.equal(r.statusCode, 200, r.body);
  }
  // A second version of B: the environment read returns the current one.
  const b2 = makeKey();
  values.set("payments/prod/B", b2);
  await s.app.inject({
    method: "PUT",
    url: "/api/v1/secrets/payments/prod/B",
    headers: h,
    payload: { value: b2 },
  });
  const del = await s.app.inject({ method: "DELETE", url: "/api/v1/secrets/payments/prod/D", headers: h });
  assert.equal(del.statusCode, 200, del.body);
  return values;
}

for (const dialect of DIALECTS) {
  describe(`projects and environments (${dialect.name})`, () => {
    test("projects and environments show only what the token may list, with counts", async (t) => {
      const s = await createTestServer(t, dialect);
      const values = await seed(s);
      const get = async <T>(token: string, url: string): Promise<T> => {
        const r = await s.app.inject({ url, headers: bearer(token) });
        assert.equal(r.statusCode, 200, `${url}: ${r.body}`);
        for (const v of values.values()) assert.ok(!r.body.includes(v), `${url} carries a value`);
        return r.json<T>();
      };

      const root = await s.rootToken();
      assert.deepEqual((await get<ProjectsBody>(root, "/api/v1/projects")).projects, [
        { name: "payments", environments: 2, secrets: 5 },
        { name: "shipping", environments: 1, secrets: 1 },
      ]);
      assert.deepEqual(await get<EnvironmentsBody>(root, "/api/v1/projects/payments/environments"), {
        project: "payments",
        environments: [
          { name: "dev", secrets: 2 },
          { name: "prod", secrets: 3 },
        ],
      });

      // list on one environment: the other environment and project do not show at all.
      const prodLister = await s.token([{ path: "payments/prod/*", capabilities: ["list"] }]);
      assert.deepEqual((await get<ProjectsBody>(prodLister, "/api/v1/projects")).projects, [
        { name: "payments", environments: 1, secrets: 3 },
      ]);
      assert.deepEqual(
        (await get<EnvironmentsBody>(prodLister, "/api/v1/projects/payments/environments")).environments,
        [{ name: "prod", secrets: 3 }],
      );
      assert.deepEqual(
        (await get<EnvironmentsBody>(prodLister, "/api/v1/projects/shipping/environments")).environments,
        [],
        "a project the token may list nothing in looks like one that does not exist",
      );
      assert.deepEqual(
        (await get<EnvironmentsBody>(prodLister, "/api/v1/projects/nowhere/environments")).environments,
        [],
      );

      // list on single secrets, and a deny that wins: counted secret by secret.
      const oneSecret = await s.token([
        { path: "payments/prod/A", capabilities: ["list"], effect: "allow" },
        { path: "payments/dev/*", capabilities: ["list"], effect: "allow" },
        { path: "payments/dev/B", capabilities: ["list"], effect: "deny" },
      ]);
      assert.deepEqual((await get<ProjectsBody>(oneSecret, "/api/v1/projects")).projects, [
        { name: "payments", environments: 2, secrets: 2 },
      ]);
      assert.deepEqual(
        (await get<EnvironmentsBody>(oneSecret, "/api/v1/projects/payments/environments")).environments,
        [
          { name: "dev", secrets: 1 },
          { name: "prod", secrets: 1 },
        ],
      );

      // read without list shows nothing.
      const reader = await s.token([{ path: "**", capabilities: ["read"] }]);
      assert.deepEqual((await get<ProjectsBody>(reader, "/api/v1/projects")).projects, []);

      const bad = await s.app.inject({
        url: `/api/v1/projects/${"x".repeat(200)}/environments`,
        headers: bearer(root),
      });
      assert.equal(bad.statusCode, 400);
      const invalid = await s.app.inject({
        url: "/api/v1/projects/bad%20name/environments",
        headers: bearer(root),
      });
      assert.equal(invalid.statusCode, 400);
      assert.equal(invalid.json<{ error: { code: string } }>().error.code, "KW_ERR_VAULT_PATH_INVALID");

      // Each listing is audited under the caller.
      const entries = await s.kw.audit.query({ limit: 10_000 });
      const self = await actorOf(s, prodLister);
      const mine = entries.filter((e) => e.actor === self);
      assert.deepEqual(
        mine.filter((e) => e.action === "project.list").map((e) => [e.result, e.detail]),
        [["ok", "1 projects"]],
      );
      assert.deepEqual(
        mine.filter((e) => e.action === "environment.list").map((e) => [e.path, e.result]),
        [
          ["payments/", "ok"],
          ["shipping/", "ok"],
          ["nowhere/", "ok"],
        ],
      );
    });

    test("environment read: every current value with read alone, each read audited", async (t) => {
      const s = await createTestServer(t, dialect);
      const values = await seed(s);
      const token = await s.token([{ path: "payments/prod/*", capabilities: ["read"] }]);
      const self = await actorOf(s, token);

      // The token cannot list: the one-call read is what it has.
      const list = await s.app.inject({
        url: "/api/v1/secrets?prefix=payments/prod/",
        headers: bearer(token),
      });
      assert.equal(list.statusCode, 403);

      const r = await s.app.inject({
        url: "/api/v1/environments/payments/prod/secrets?purpose=run",
        headers: bearer(token),
      });
      assert.equal(r.statusCode, 200, r.body);
      const body = r.json<ValuesBody>();
      assert.equal(body.project, "payments");
      assert.equal(body.environment, "prod");
      assert.deepEqual(
        body.secrets.map((x) => [x.name, x.path, x.version, x.value]),
        [
          ["A", "payments/prod/A", 1, values.get("payments/prod/A")],
          ["B", "payments/prod/B", 2, values.get("payments/prod/B")],
          ["C", "payments/prod/C", 1, values.get("payments/prod/C")],
        ],
        "current versions only, the deleted secret left out",
      );
      const reads = (await s.kw.audit.query({ actor: self, action: "secret.read", limit: 100 })).map((e) => [
        e.path,
        e.version,
        e.result,
        e.detail,
      ]);
      assert.deepEqual(reads, [
        ["payments/prod/A", 1, "ok", "api run"],
        ["payments/prod/B", 2, "ok", "api run"],
        ["payments/prod/C", 1, "ok", "api run"],
      ]);
      // last_read_at moves as with a single read.
      const meta = await s.app.inject({
        url: "/api/v1/secrets/payments/prod/A/metadata",
        headers: bearer(await s.rootToken()),
      });
      assert.notEqual(meta.json<{ lastReadAt: string | null }>().lastReadAt, null);

      // An empty (or unknown) environment is an empty answer.
      const empty = await s.app.inject({
        url: "/api/v1/environments/payments/qa/secrets",
        headers: bearer(token),
      });
      assert.equal(empty.statusCode, 200);
      assert.deepEqual(empty.json<ValuesBody>().secrets, []);

      const invalid = await s.app.inject({
        url: "/api/v1/environments/payments/prod/secrets?purpose=Not%20OK",
        headers: bearer(token),
      });
      assert.equal(invalid.statusCode, 400);
    });

    test("environment read: one secret the token may not read is a 403 for the whole request", async (t) => {
      const s = await createTestServer(t, dialect);
      const values = await seed(s);
      const token = await s.token([
        { path: "payments/prod/A", capabilities: ["read"] },
        { path: "payments/prod/B", capabilities: ["read"] },
      ]);
      const self = await actorOf(s, token);
      const r = await s.app.inject({
        url: "/api/v1/environments/payments/prod/secrets",
        headers: bearer(token),
      });
      assert.equal(r.statusCode, 403, r.body);
      const error = r.json<{ error: { code: string; message: string } }>().error;
      assert.equal(error.code, "KW_ERR_VAULT_DENIED");
      assert.match(error.message, /may not read every secret of payments\/prod$/);
      assert.ok(!error.message.includes("payments/prod/C"), "the denied secret's name is not revealed");
      for (const v of values.values()) assert.ok(!r.body.includes(v));
      const entries = await s.kw.audit.query({ actor: self, limit: 100 });
      assert.deepEqual(
        entries.map((e) => [e.action, e.path, e.result, e.detail]),
        [
          ["secret.read", "payments/prod/C", "denied", "KW_ERR_VAULT_DENIED"],
          ["secret.read", "payments/prod", "denied", "KW_ERR_VAULT_DENIED"],
        ],
        "the denial is audited, naming the secret; nothing was read",
      );

      // A deny rule wins over a broad allow the same way.
      const denyOne = await s.token([
        { path: "payments/**", capabilities: ["read"], effect: "allow" },
        { path: "payments/dev/B", capabilities: ["read"], effect: "deny" },
      ]);
      const d = await s.app.inject({
        url: "/api/v1/environments/payments/dev/secrets",
        headers: bearer(denyOne),
      });
      assert.equal(d.statusCode, 403);
      const ok = await s.app.inject({
        url: "/api/v1/environments/payments/prod/secrets",
        headers: bearer(denyOne),
      });
      assert.equal(ok.statusCode, 200);
    });

    test("environment read on a sealed vault is a 503, and nothing is read", async (t) => {
      const s = await createTestServer(t, dialect);
      await seed(s);
      const token = await s.token([{ path: "payments/prod/*", capabilities: ["read"] }]);
      await s.kw.seal(s.ctx);
      const r = await s.app.inject({
        url: "/api/v1/environments/payments/prod/secrets",
        headers: bearer(token),
      });
      assert.equal(r.statusCode, 503, r.body);
      assert.equal(r.json<{ error: { code: string } }>().error.code, "KW_ERR_KMS_SEALED");
    });
  });
}

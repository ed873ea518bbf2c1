/**
 * `keywarden serve` on PostgreSQL when its database goes away: connections ended by the
 * server (pg_terminate_backend, as in a failover or restart), then the database unreachable
 * for a while (through a TCP proxy the test takes down). The process stays up; requests in
 * the gap get 503 KW_ERR_STORAGE_UNAVAILABLE in the one error shape, with no secret in it;
 * a write refused then did not land; once the database is back the same server serves again,
 * every answered read audited.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, connect, type AddressInfo, type Socket } from "node:net";
import { test } from "node:test";
import pg from "pg";
import { appVault, cliOk } from "../../helpers/app-vault.ts";
import { spawnServe } from "../../helpers/serve-process.ts";
import { DIALECTS, freshPostgresSchema, postgresUrl } from "../../helpers/storage.ts";
import { makeKey } from "./fixtures.ts";

/** Terminates every PostgreSQL connection named `application`; returns how many there were. */
async function terminate(url: string, application: string): Promise<number> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const r = await admin.query<{ n: number }>(
      "select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where application_name = $1",
      [application],
    );
    return r.rows[0]!.n;
  } finally {
    await admin.end();
  }
}

/**
 * A TCP proxy to PostgreSQL that can be taken down (every connection cut, new ones refused),
 * turned into a black hole (connections accepted, nothing ever answered, as behind a dead
 * network path) and brought back on its port.
 */
async function databaseProxy(target: URL) {
  const sockets = new Set<Socket>();
  let forward = true;
  const track = (s: Socket): void => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  };
  const server = createServer((client) => {
    track(client);
    if (!forward) {
      client.on("error", () => client.destroy());
      return;
    }
    const upstream = connect(Number(target.port || 5432), target.hostname);
    track(upstream);
    for (const s of [client, upstream])
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  const cutAll = (): void => {
    for (const s of sockets) s.destroy();
  };
  return {
    port,
    async down(): Promise<void> {
      const closed = once(server, "close");
      server.close();
      cutAll();
      await closed;
    },
    blackhole(): void {
      forward = false;
      cutAll();
    },
    async up(): Promise<void> {
      forward = true;
      if (!server.listening) {
        server.listen(port, "127.0.0.1");
        await once(server, "listening");
      }
    },
  };
}

const skip = !DIALECTS.some((d) => d.name === "postgres");

test(
  "the server outlives its PostgreSQL connections being ended and the database being unreachable",
  { skip, timeout: 60_000 },
  async (t) => {
    const application = `kw_outage_${randomBytes(4).toString("hex")}`;
    const base = await postgresUrl(await freshPostgresSchema(t));
    const url = `${base}&application_name=${application}&connect_timeout=1`;
    const { env, token } = await appVault(t, url, "payments/**:read,write");
    const proxy = await databaseProxy(new URL(url));
    t.after(() => proxy.down().catch(() => undefined));
    const proxied = url.replace(/@([^/:]+):\d+\//, `@127.0.0.1:${proxy.port}/`);
    assert.notEqual(proxied, url);
    const { KEYWARDEN_STORAGE_URL: _, ...serveEnv } = env;
    const server = await spawnServe(t, serveEnv, ["--insecure-http", "--database", proxied]);
    const get = (path: string) => fetch(new URL(path, server.url));
    const call = (method: string, body?: unknown) =>
      fetch(new URL("/api/v1/secrets/payments/prod/STRIPE_KEY", server.url), {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const first = makeKey();
    assert.equal((await call("PUT", { value: first })).status, 200);
    assert.equal((await call("GET")).status, 200);

    assert.ok((await terminate(base, application)) > 0, "the server had connections to terminate");
    // Requests in the gap: served on a new connection, or refused in the one error shape.
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await call("GET");
      const text = await r.text();
      seen.push(r.status);
      if (r.status === 200) {
        assert.equal((JSON.parse(text) as { value: string }).value, first);
        continue;
      }
      assert.equal(r.status, 503, text);
      const body = JSON.parse(text) as { error: { code: string; requestId: string } };
      assert.deepEqual(Object.keys(body), ["error"]);
      assert.equal(body.error.requestId, r.headers.get("x-request-id"));
      assert.ok(!text.includes(first));
    }
    assert.equal(seen.at(-1), 200, `reads recover after the connections are gone: ${seen.join(", ")}`);

    assert.match(server.stdout() + server.stderr(), /an idle database connection was lost/);

    // The database unreachable: refused in the one error shape, with a hint to retry.
    await proxy.down();
    const second = makeKey();
    for (const r of [await call("GET"), await call("PUT", { value: second, cas: 1 })]) {
      const text = await r.text();
      assert.equal(r.status, 503, text);
      const body = JSON.parse(text) as { error: { code: string; requestId: string } };
      assert.deepEqual(Object.keys(body), ["error"]);
      assert.equal(body.error.code, "KW_ERR_STORAGE_UNAVAILABLE");
      assert.equal(body.error.requestId, r.headers.get("x-request-id"));
      assert.equal(r.headers.get("retry-after"), "1");
      assert.ok(!text.includes(first) && !text.includes(second));
    }
    // A Vault client is told the same, in Vault's shape.
    const vault = await fetch(new URL("/v1/secret/data/payments/prod/STRIPE_KEY", server.url), {
      headers: { "x-vault-token": token },
    });
    assert.equal(vault.status, 503);
    assert.equal(vault.headers.get("retry-after"), "1");
    const vaultBody = (await vault.json()) as { errors: string[]; error: { code: string } };
    assert.equal(vaultBody.errors.length, 1);
    assert.equal(vaultBody.error.code, "KW_ERR_STORAGE_UNAVAILABLE");
    assert.equal((await get("/readyz")).status, 503);
    assert.equal((await get("/healthz")).status, 200);
    assert.equal(server.child.exitCode, null, "the process stays up");

    // Back, then a black hole: the wait for a connection ends at connect_timeout (1 s here).
    await proxy.up();
    assert.equal((await get("/readyz")).status, 200);
    proxy.blackhole();
    const started = performance.now();
    const hung = await call("GET");
    assert.equal(hung.status, 503, await hung.text());
    assert.ok(performance.now() - started < 8_000, "answered within the connect timeout, not hung");

    // Back: the same server serves again; the refused write did not land (cas 1 still holds).
    await proxy.up();
    assert.equal((await get("/readyz")).status, 200);
    const w = await call("PUT", { value: second, cas: 1 });
    assert.equal(w.status, 200, await w.text());
    const r = await call("GET");
    assert.equal(r.status, 200);
    assert.deepEqual(
      ((await r.json()) as { value: string; version: number }).version,
      2,
      "one write landed, the one after the outage",
    );
    const reads = (await cliOk(env, ["audit", "log", "--action", "secret.read", "--format", "json"]))
      .trim()
      .split("\n");
    const answered = 2 + seen.filter((s) => s === 200).length;
    assert.ok(reads.length >= answered, `every answered read was audited: ${reads.length} of ${answered}`);
    // The chain survived the failed groups: nothing half-written, no gap.
    assert.match(await cliOk(env, ["audit", "verify"]), /^audit log intact: \d+ entries/);
    for (const log of [server.stdout(), server.stderr()]) {
      assert.ok(!log.includes(first) && !log.includes(second), "no secret in the logs");
    }
    assert.equal(await server.stop(), 0);
  },
);

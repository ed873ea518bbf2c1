/**
 * Server reads: authenticated secret reads over HTTPS (token check, policy check, vault read
 * with KEK unwrap and AES-256-GCM open, audit entry committed before the answer) driven by
 * autocannon with CONNECTIONS connections, on SQLite and on PostgreSQL, side by side with a
 * bare Fastify HTTPS route returning a constant, in the same run on the same machine. The
 * server runs in this process; autocannon in a worker thread.
 *
 * On SQLite it also measures two floors through Keywarden's own server: a public route (the
 * HTTP stack and its hooks alone) and a token check (plus authentication), so the gap to the
 * bare route splits into stack, authentication and the read itself. Besides requests/s it
 * prints CPU per request of the server's thread (which load on the machine barely moves) and
 * of the whole process.
 *
 * Targets: at least 40% of the bare route's requests/s and p99 under 20 ms, audit on.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import autocannon from "autocannon";
import Fastify, { type FastifyInstance } from "fastify";
import { createKeywarden, type Keywarden } from "../src/app.ts";
import { loadConfig } from "../src/config/load.ts";
import { systemClock } from "../src/core/clock.ts";
import { createLogger } from "../src/core/logger.ts";
import { Secret } from "../src/core/secret.ts";
import { initLocalKeyFile } from "../src/kms/local-provider.ts";
import { openStorage } from "../src/storage/database.ts";
import { buildServer } from "../src/server/server.ts";
import { loadOrCreateTls, type TlsMaterial } from "../src/server/tls.ts";
import type { RequestContext } from "../src/services/audit/audit-service.ts";
import type { BenchPart } from "./bench-part.ts";
import { fixed, table, TMP_DIR } from "./measure.ts";
import { benchSchema, postgresBase, type BenchSchema } from "./postgres.ts";

const CONNECTIONS = 50;
const DURATION_S = 10;
const WARMUP_S = 2;
const SECRETS = 100;
const TARGET_RATIO = 0.4;
const TARGET_P99_MS = 20;
const PASSPHRASE = "server bench passphrase";
const CTX: RequestContext = { actor: "bench:server", source: "bench", requestId: "req_bench" };

interface Measured {
  readonly label: string;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly requests: number;
  readonly errors: number;
  /** CPU time of the server's thread per answered request (load on the machine barely moves it). */
  readonly cpuUs: number;
  /** CPU time of the whole process per request: the server, autocannon's thread and libuv's pool. */
  readonly processUs: number;
}

async function listen(app: FastifyInstance): Promise<number> {
  await app.listen({ host: "127.0.0.1", port: 0 });
  const a = app.server.address();
  return typeof a === "object" && a !== null ? a.port : 0;
}

async function cannon(
  label: string,
  port: number,
  requests: autocannon.Request[],
  headers: Record<string, string>,
): Promise<Measured> {
  const opts = {
    url: `https://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    headers,
    requests,
    workers: 1,
  };
  await autocannon({ ...opts, duration: WARMUP_S });
  // autocannon runs in a worker thread: this thread's CPU time is the server's alone.
  const cpu0 = process.threadCpuUsage();
  const all0 = process.cpuUsage();
  const r = await autocannon({ ...opts, duration: DURATION_S });
  const cpu = process.threadCpuUsage(cpu0);
  const all = process.cpuUsage(all0);
  return {
    label,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    requests: r.requests.total,
    errors: r.errors + r.timeouts + r.non2xx,
    cpuUs: (cpu.user + cpu.system) / Math.max(1, r.requests.total),
    processUs: (all.user + all.system) / Math.max(1, r.requests.total),
  };
}

async function measureVault(
  label: string,
  url: string,
  home: string,
  tls: TlsMaterial,
  options: { synchronous?: "FULL" | "NORMAL"; floors?: boolean } = {},
): Promise<Measured[]> {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  await initLocalKeyFile(join(home, "master.key"), PASSPHRASE, {
    memoryKiB: 64,
    iterations: 1,
    parallelism: 1,
  });
  const { config } = loadConfig({
    cwd: home,
    env: {},
    flags: { home, "storage.url": url, "server.rateLimit": 1_000_000_000 },
  });
  let kw: Keywarden | undefined;
  let app: FastifyInstance | undefined;
  // As `keywarden serve` opens it: audited reads commit on the writer thread.
  const storage = await openStorage({ url, home, synchronous: options.synchronous, writerThread: true });
  try {
    // Seeded as the local operator (no access control), then served in server mode.
    const seed = await createKeywarden({ config, home, env: {}, clock: systemClock });
    try {
      await seed.unseal(CTX, new Secret(PASSPHRASE));
      for (let i = 0; i < SECRETS; i++)
        await seed.vault.set(
          CTX,
          `bench/prod/KEY_${i}`,
          new Secret(`sk_${randomBytes(24).toString("base64url")}`),
        );
    } finally {
      await seed.close();
    }
    kw = await createKeywarden({ config, home, env: {}, clock: systemClock, accessControl: true, storage });
    await kw.unseal(CTX, new Secret(PASSPHRASE));
    await kw.access.putPolicy(CTX, "operator", "bench-read", [
      { path: "bench/prod/*", capabilities: ["read"] },
    ]);
    await kw.access.putRole(CTX, "operator", "bench", ["bench-read"]);
    await kw.access.addMachine(CTX, "operator", { name: "bench-app", roles: ["bench"] });
    const token = (
      await kw.access.createToken(CTX, "operator", { identity: "bench-app", policies: ["bench-read"] })
    ).token;
    const before = (await kw.audit.query({ action: "secret.read", limit: 1_000_000 })).length;
    app = await buildServer({
      keywarden: kw,
      access: kw.access,
      config,
      logger: createLogger({ level: "silent", format: "json" }),
      tls,
    });
    const port = await listen(app);
    const requests = Array.from({ length: SECRETS }, (_, i) => ({
      method: "GET" as const,
      path: `/api/v1/secrets/bench/prod/KEY_${i}`,
    }));
    const auth = { authorization: `Bearer ${token.reveal()}` };
    const m = await cannon(label, port, requests, auth);
    // The floors under a read: the server's hooks alone (a public route), then with the
    // token check (a route that answers from the principal), so the gap to the bare route
    // can be split between the HTTP stack, authentication and the vault read itself.
    const floors =
      options.floors === true
        ? [
            await cannon("  floor: public route (/healthz)", port, [{ method: "GET", path: "/healthz" }], {}),
            await cannon(
              "  floor: token check (/api/v1/tokens/self)",
              port,
              [{ method: "GET", path: "/api/v1/tokens/self" }],
              auth,
            ),
          ]
        : [];
    await app.close();
    app = undefined;
    const audited = (await kw.audit.query({ action: "secret.read", limit: 10_000_000 })).length - before;
    // Audit is on: every answered read left an entry (warm-up reads included).
    if (audited < m.requests)
      throw new Error(`audit check failed: ${audited} read entries for ${m.requests} answered reads`);
    return [m, ...floors];
  } finally {
    await app?.close();
    await kw?.close();
    await storage.close();
  }
}

async function measureBare(tls: TlsMaterial): Promise<Measured> {
  const app = Fastify({
    https: { cert: tls.cert, key: tls.key, minVersion: "TLSv1.2" },
  }) as unknown as FastifyInstance;
  app.get("/constant", () => ({ value: "constant" }));
  try {
    const port = await listen(app);
    return await cannon("bare Fastify HTTPS route", port, [{ method: "GET", path: "/constant" }], {});
  } finally {
    await app.close();
  }
}

/**
 * `KEYWARDEN_BENCH_SERVER_ONLY=sqlite,postgres` measures only those stores (besides the bare
 * route), e.g. to profile one of them.
 */
function wanted(store: "sqlite" | "sqlite-normal" | "postgres"): boolean {
  const only = process.env.KEYWARDEN_BENCH_SERVER_ONLY;
  return only === undefined || only === "" || only.split(",").includes(store);
}

async function run(): Promise<void> {
  const work = join(TMP_DIR, `server-${process.pid}`);
  mkdirSync(work, { recursive: true, mode: 0o700 });
  const base = await postgresBase();
  let schema: BenchSchema | undefined;
  try {
    const tls = await loadOrCreateTls({ tlsCert: "", tlsKey: "" }, join(work, "tls"));
    const rows: Measured[] = [await measureBare(tls)];
    if (wanted("sqlite"))
      rows.push(
        ...(await measureVault(
          "secret read, SQLite (synchronous=FULL, default)",
          "",
          join(work, "sqlite"),
          tls,
          {
            floors: true,
          },
        )),
      );
    if (wanted("sqlite-normal"))
      rows.push(
        ...(await measureVault(
          "secret read, SQLite (synchronous=NORMAL)",
          "",
          join(work, "sqlite-normal"),
          tls,
          {
            synchronous: "NORMAL",
          },
        )),
      );
    if (!wanted("postgres")) {
      // Left out by KEYWARDEN_BENCH_SERVER_ONLY.
    } else if (base !== undefined) {
      schema = await benchSchema(base);
      rows.push(...(await measureVault("secret read, PostgreSQL", schema.url, join(work, "postgres"), tls)));
    } else console.log("postgres: skipped (no server at 127.0.0.1:5432/test; set KEYWARDEN_BENCH_PG_URL)");
    const bare = rows[0]!;
    console.log(
      `HTTPS, ${CONNECTIONS} connections, ${DURATION_S} s each after ${WARMUP_S} s warm-up; reads rotate over ${SECRETS} secrets; audit on`,
    );
    console.log(
      table(
        [
          "target",
          "req/s",
          "p50 ms",
          "p99 ms",
          "requests",
          "errors",
          "of bare",
          "server CPU µs/req",
          "all CPU µs/req",
        ],
        rows.map((r) => [
          r.label,
          Math.round(r.rps).toLocaleString("en-US"),
          fixed(r.p50),
          fixed(r.p99),
          r.requests.toLocaleString("en-US"),
          String(r.errors),
          `${fixed((r.rps / bare.rps) * 100)}%`,
          fixed(r.cpuUs),
          fixed(r.processUs),
        ]),
      ),
    );
    for (const r of rows.slice(1).filter((x) => !x.label.includes("floor"))) {
      const pass = r.rps / bare.rps >= TARGET_RATIO && r.p99 < TARGET_P99_MS && r.errors === 0;
      console.log(
        `target (${r.label}): >= ${TARGET_RATIO * 100}% of bare and p99 < ${TARGET_P99_MS} ms: ${fixed((r.rps / bare.rps) * 100)}%, p99 ${fixed(r.p99)} ms ${pass ? "PASS" : "MISS"}`,
      );
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    await schema?.drop();
  }
}

export const serverBench: BenchPart = {
  name: "server",
  description: `authenticated HTTPS secret reads (autocannon, ${CONNECTIONS} connections) on SQLite and PostgreSQL vs a bare Fastify route`,
  run,
};

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
 * prints CPU per request of the server's thread (which load on the machine barely moves), of
 * the SQLite writer thread, of the whole process, and of the local PostgreSQL server's
 * processes (from /proc), which share the same cores; and how busy the event loop was. The
 * event loop is one thread: at the target share, with the loop as busy as the bare route keeps
 * its own, a read may cost the loop at most 1/0.4 = 2.5 times what a bare request costs it,
 * and each target line says where a store stands against that.
 *
 * The machine is shared and its speed drifts by tens of percent within a minute, so every
 * target is measured in SLICES slices, each right after a slice of the bare route, and its
 * share of the bare route is the median of the slice pairs' ratios.
 *
 * The bare route keeps both cores busy (its server thread and autocannon's). At the CPU per
 * request a target was measured to spend in all (this process and PostgreSQL's), it can
 * reach at most bare's CPU per request divided by its own, however well it overlaps its
 * work: that quotient is printed as the CPU ceiling, so a run shows where the target stands
 * against what the cores allow.
 *
 * On each store it also measures the floor any audited read stands on (audit-floor.ts): a
 * bare route that commits one audit row per request before it answers, with the same group
 * commit (on SQLite, on the same writer thread with the same WAL sync). Its share of the bare
 * route is as far as an audited read could go here, and each target line says how much of it
 * the read reaches.
 *
 * Targets: at least 40% of the bare route's requests/s and p99 under 20 ms, audit on.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
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
import { auditFloorServer, type AuditFloorStore } from "./audit-floor.ts";
import type { BenchPart } from "./bench-part.ts";
import { fixed, listen, table, TMP_DIR } from "./measure.ts";
import { benchSchema, postgresBase, type BenchSchema } from "./postgres.ts";

const CONNECTIONS = 50;
/** Seconds of load per target, in SLICES slices alternating with slices of the bare route. */
const DURATION_S = 12;
const SLICES = 4;
/**
 * Seconds of load each target (and the bare route, at the start) gets before it is measured:
 * V8 is still compiling a read's code paths well after 2 s. Measured on one build, 3 s of
 * reads after 2 s of warm-up: 13,400-14,400 reads/s, the event loop 61-65 µs a read; after
 * 10 s: 15,100-15,500 reads/s, 57 µs (three runs each). The bare route runs in every slice of
 * every target, so it is always warm; each target is measured warm too.
 */
const WARMUP_S = 10;
const SECRETS = 100;
/** The reads each store's audit floor is printed beside (SQLite's floor syncs as FULL does). */
const SQLITE_READ = "secret read, SQLite (synchronous=FULL, default)";
const POSTGRES_READ = "secret read, PostgreSQL";
const TARGET_RATIO = 0.4;
const TARGET_P99_MS = 20;
const PASSPHRASE = "server bench passphrase";
const CTX: RequestContext = { actor: "bench:server", source: "bench", requestId: "req_bench" };

interface Measured {
  readonly label: string;
  readonly rps: number;
  /** Median over the slices of (this slice's requests/s) / (the bare slice's before it). */
  readonly ofBare: number;
  /** Each slice pair's ratio, in the order measured (the spread behind the median). */
  readonly slices: readonly number[];
  readonly p50: number;
  /** The worst slice's p99. */
  readonly p99: number;
  readonly requests: number;
  readonly errors: number;
  /** CPU time of the server's thread per answered request (load on the machine barely moves it). */
  readonly cpuUs: number;
  /** CPU time of the whole process per request: the server, autocannon's thread and libuv's pool. */
  readonly processUs: number;
  /** CPU time of the local PostgreSQL server's processes per request (0 when none runs here). */
  readonly databaseUs: number;
  /** CPU time of the SQLite writer thread per request (0 on PostgreSQL). */
  readonly writerUs: number;
  /** The share of the time the event loop was busy (not waiting for I/O), over the slices. */
  readonly loopBusy: number;
}

interface Load {
  readonly port: number;
  readonly requests: autocannon.Request[];
  readonly headers: Record<string, string>;
}

interface Slice {
  readonly result: autocannon.Result;
  readonly cpuUs: number;
  readonly processUs: number;
  readonly databaseUs: number;
  readonly writerUs: number;
  readonly loopBusy: number;
}

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/**
 * CPU time so far (µs) of the processes (or threads) listed in `dir` (/proc, /proc/self/task)
 * whose name `named` accepts, from their stat files. 0 where there is no /proc.
 */
function cpuUsOf(dir: string, named: (comm: string) => boolean): number {
  let ticks = 0;
  let ids: string[];
  try {
    ids = readdirSync(dir).filter((d) => /^\d+$/.test(d));
  } catch {
    return 0;
  }
  for (const id of ids) {
    try {
      if (!named(readFileSync(`${dir}/${id}/comm`, "utf8").trim())) continue;
      // Fields after the parenthesised name: utime and stime are the 12th and 13th.
      const stat = readFileSync(`${dir}/${id}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // The process or thread ended meanwhile.
    }
  }
  return (ticks * 1_000_000) / USER_HZ;
}

/**
 * CPU time so far (µs) of this machine's PostgreSQL server processes: they share the cores
 * with the server and autocannon, so a read's cost includes theirs.
 */
function postgresCpuUs(): number {
  return cpuUsOf("/proc", (comm) => comm === "postgres");
}

/** The SQLite writer thread's name as /proc shows it: Linux keeps its first 15 characters. */
const WRITER_COMM = "keywarden-sqlite-writer".slice(0, 15);

/** CPU time so far (µs) of this process's SQLite writer thread. */
function writerCpuUs(): number {
  return cpuUsOf("/proc/self/task", (comm) => comm === WRITER_COMM);
}

function options(load: Load, duration: number): autocannon.Options {
  return {
    url: `https://127.0.0.1:${load.port}`,
    connections: CONNECTIONS,
    headers: load.headers,
    requests: load.requests,
    workers: 1,
    duration,
  };
}

async function slice(load: Load, seconds: number): Promise<Slice> {
  // autocannon runs in a worker thread: this thread's CPU time is the server's alone.
  const cpu0 = process.threadCpuUsage();
  const all0 = process.cpuUsage();
  const db0 = postgresCpuUs();
  const writer0 = writerCpuUs();
  const loop0 = performance.eventLoopUtilization();
  const result = await autocannon(options(load, seconds));
  const loopBusy = performance.eventLoopUtilization(loop0).utilization;
  const cpu = process.threadCpuUsage(cpu0);
  const all = process.cpuUsage(all0);
  // A PostgreSQL process that ended meanwhile (autovacuum) takes its ticks along: not below 0.
  const databaseUs = Math.max(0, postgresCpuUs() - db0);
  const writerUs = Math.max(0, writerCpuUs() - writer0);
  return {
    result,
    cpuUs: cpu.user + cpu.system,
    processUs: all.user + all.system,
    databaseUs,
    writerUs,
    loopBusy,
  };
}

/**
 * The share of `bare`'s throughput that `target` could reach with the cores as busy as bare
 * keeps them: bare's CPU per request over the target's, PostgreSQL's included.
 */
function ceiling(bare: Measured, target: Measured): number {
  return (bare.processUs + bare.databaseUs) / Math.max(1e-9, target.processUs + target.databaseUs);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function summarize(label: string, slices: readonly Slice[], ratios: readonly number[]): Measured {
  const requests = slices.reduce((n, x) => n + x.result.requests.total, 0);
  const per = (us: number) => us / Math.max(1, requests);
  return {
    label,
    rps: slices.reduce((n, x) => n + x.result.requests.average, 0) / slices.length,
    ofBare: median(ratios),
    slices: ratios,
    p50: median(slices.map((x) => x.result.latency.p50)),
    p99: Math.max(...slices.map((x) => x.result.latency.p99)),
    requests,
    errors: slices.reduce((n, x) => n + x.result.errors + x.result.timeouts + x.result.non2xx, 0),
    cpuUs: per(slices.reduce((n, x) => n + x.cpuUs, 0)),
    processUs: per(slices.reduce((n, x) => n + x.processUs, 0)),
    databaseUs: per(slices.reduce((n, x) => n + x.databaseUs, 0)),
    writerUs: per(slices.reduce((n, x) => n + x.writerUs, 0)),
    loopBusy: slices.reduce((n, x) => n + x.loopBusy, 0) / slices.length,
  };
}

/**
 * Warms `load` up, then measures it in SLICES slices, each after a slice of `bare`. Returns
 * the target's figures and the bare slices taken meanwhile.
 */
async function cannon(label: string, load: Load, bare: Load): Promise<{ m: Measured; bare: Slice[] }> {
  await autocannon(options(load, WARMUP_S));
  const seconds = DURATION_S / SLICES;
  const bares: Slice[] = [];
  const mine: Slice[] = [];
  for (let i = 0; i < SLICES; i++) {
    bares.push(await slice(bare, seconds));
    mine.push(await slice(load, seconds));
  }
  const ratios = mine.map((x, i) => x.result.requests.average / bares[i]!.result.requests.average);
  return { m: summarize(label, mine, ratios), bare: bares };
}

async function measureVault(
  label: string,
  url: string,
  home: string,
  tls: TlsMaterial,
  bare: Load,
  options: { synchronous?: "FULL" | "NORMAL"; floors?: boolean } = {},
): Promise<{ rows: Measured[]; bare: Slice[] }> {
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
    const read = await cannon(label, { port, requests, headers: auth }, bare);
    // The floors under a read: the server's hooks alone (a public route), then with the
    // token check (a route that answers from the principal), so the gap to the bare route
    // can be split between the HTTP stack, authentication and the vault read itself.
    const floors =
      options.floors === true
        ? [
            await cannon(
              "  floor: public route (/healthz)",
              { port, requests: [{ method: "GET", path: "/healthz" }], headers: {} },
              bare,
            ),
            await cannon(
              "  floor: token check (/api/v1/tokens/self)",
              { port, requests: [{ method: "GET", path: "/api/v1/tokens/self" }], headers: auth },
              bare,
            ),
          ]
        : [];
    await app.close();
    app = undefined;
    const audited = (await kw.audit.query({ action: "secret.read", limit: 10_000_000 })).length - before;
    // Audit is on: every answered read left an entry (warm-up reads included).
    if (audited < read.m.requests)
      throw new Error(`audit check failed: ${audited} read entries for ${read.m.requests} answered reads`);
    return {
      rows: [read.m, ...floors.map((f) => f.m)],
      bare: [read, ...floors].flatMap((x) => x.bare),
    };
  } finally {
    await app?.close();
    await kw?.close();
    await storage.close();
  }
}

/** The label of a store's audit floor (audit-floor.ts). */
function auditFloorLabel(kind: AuditFloorStore["kind"]): string {
  return `  floor: bare route + audit row committed (${kind === "postgres" ? "PostgreSQL" : "SQLite"})`;
}

/** Measures the audit floor on `store` (audit-floor.ts), reading the same paths as the reads. */
async function measureAuditFloor(
  store: AuditFloorStore,
  tls: TlsMaterial,
  bare: Load,
): Promise<{ rows: Measured[]; bare: Slice[] }> {
  const floor = await auditFloorServer(tls, store);
  try {
    const requests = Array.from({ length: SECRETS }, (_, i) => ({
      method: "GET" as const,
      path: `/floor/bench/prod/KEY_${i}`,
    }));
    const r = await cannon(auditFloorLabel(store.kind), { port: floor.port, requests, headers: {} }, bare);
    return { rows: [r.m], bare: r.bare };
  } finally {
    await floor.close();
  }
}

/** The bare route: Fastify over HTTPS answering a constant, served for the whole run. */
async function bareServer(tls: TlsMaterial): Promise<{ load: Load; close: () => Promise<void> }> {
  const app = Fastify({
    https: { cert: tls.cert, key: tls.key, minVersion: "TLSv1.2" },
  }) as unknown as FastifyInstance;
  app.get("/constant", () => ({ value: "constant" }));
  const port = await listen(app);
  const load: Load = { port, requests: [{ method: "GET", path: "/constant" }], headers: {} };
  await autocannon(options(load, WARMUP_S));
  return { load, close: () => app.close() };
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
  let closeBare: (() => Promise<void>) | undefined;
  try {
    const tls = await loadOrCreateTls({ tlsCert: "", tlsKey: "" }, join(work, "tls"));
    const bareRoute = await bareServer(tls);
    closeBare = bareRoute.close;
    const targets: Measured[] = [];
    const bareSlices: Slice[] = [];
    const add = (r: { rows: Measured[]; bare: Slice[] }) => {
      targets.push(...r.rows);
      bareSlices.push(...r.bare);
    };
    if (wanted("sqlite")) {
      add(await measureVault(SQLITE_READ, "", join(work, "sqlite"), tls, bareRoute.load, { floors: true }));
      add(
        await measureAuditFloor({ kind: "sqlite", file: join(work, "audit-floor.db") }, tls, bareRoute.load),
      );
    }
    if (wanted("sqlite-normal"))
      add(
        await measureVault(
          "secret read, SQLite (synchronous=NORMAL)",
          "",
          join(work, "sqlite-normal"),
          tls,
          bareRoute.load,
          { synchronous: "NORMAL" },
        ),
      );
    if (!wanted("postgres")) {
      // Left out by KEYWARDEN_BENCH_SERVER_ONLY.
    } else if (base !== undefined) {
      schema = await benchSchema(base);
      add(await measureVault(POSTGRES_READ, schema.url, join(work, "postgres"), tls, bareRoute.load));
      add(await measureAuditFloor({ kind: "postgres", url: schema.url }, tls, bareRoute.load));
    } else console.log("postgres: skipped (no server at 127.0.0.1:5432/test; set KEYWARDEN_BENCH_PG_URL)");
    const rows = [summarize("bare Fastify HTTPS route (all its slices)", bareSlices, [1]), ...targets];
    console.log(
      `HTTPS, ${CONNECTIONS} connections, ${DURATION_S} s per target after ${WARMUP_S} s warm-up, in ${SLICES} slices each after a slice of the bare route; reads rotate over ${SECRETS} secrets; audit on`,
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
          "of bare (median)",
          "server CPU µs/req",
          "loop busy",
          "writer CPU µs/req",
          "all CPU µs/req",
          "PostgreSQL CPU µs/req",
          "CPU ceiling",
        ],
        rows.map((r) => [
          r.label,
          Math.round(r.rps).toLocaleString("en-US"),
          fixed(r.p50),
          fixed(r.p99),
          r.requests.toLocaleString("en-US"),
          String(r.errors),
          `${fixed(r.ofBare * 100)}%`,
          fixed(r.cpuUs),
          `${fixed(r.loopBusy * 100)}%`,
          fixed(r.writerUs),
          fixed(r.processUs),
          fixed(r.databaseUs),
          `${fixed(ceiling(rows[0]!, r) * 100)}%`,
        ]),
      ),
    );
    const floorOf = new Map([
      [SQLITE_READ, rows.find((r) => r.label === auditFloorLabel("sqlite"))],
      [POSTGRES_READ, rows.find((r) => r.label === auditFloorLabel("postgres"))],
    ]);
    for (const r of rows.slice(1).filter((x) => !x.label.includes("floor"))) {
      const pass = r.ofBare >= TARGET_RATIO && r.p99 < TARGET_P99_MS && r.errors === 0;
      const auditFloor = floorOf.get(r.label);
      const floor =
        auditFloor !== undefined
          ? `; the audit floor reaches ${fixed(auditFloor.ofBare * 100)}% of bare, the read ${fixed((r.ofBare / auditFloor.ofBare) * 100)}% of that`
          : "";
      console.log(
        `target (${r.label}): >= ${TARGET_RATIO * 100}% of bare and p99 < ${TARGET_P99_MS} ms: ${fixed(r.ofBare * 100)}%, p99 ${fixed(r.p99)} ms ${pass ? "PASS" : "MISS"} (slices ${r.slices.map((x) => fixed(x * 100)).join(", ")}%; CPU ceiling ${fixed(ceiling(rows[0]!, r) * 100)}%; the event loop spends ${fixed(r.cpuUs / rows[0]!.cpuUs, 2)} times bare's CPU per request, ${fixed(r.loopBusy * 100)}% busy, where ${TARGET_RATIO * 100}% of bare allows about ${fixed((1 / TARGET_RATIO) * (r.loopBusy / rows[0]!.loopBusy), 2)}${floor})`,
      );
    }
  } finally {
    await closeBare?.();
    rmSync(work, { recursive: true, force: true });
    await schema?.drop();
  }
}

export const serverBench: BenchPart = {
  name: "server",
  description: `authenticated HTTPS secret reads (autocannon, ${CONNECTIONS} connections) on SQLite and PostgreSQL vs a bare Fastify route`,
  run,
};

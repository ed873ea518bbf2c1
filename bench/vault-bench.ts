/**
 * Vault reads: audited, decrypted reads per second in process through the real vault
 * service (path lookup, data key unwrapped by the local KEK, AES-256-GCM open, audit entry
 * committed before the value is returned), against the same number of plain reads of a
 * stored blob through the same storage layer (one SELECT, no crypto, no audit). The ratio
 * is the cost of safety.
 *
 * - SECRETS secrets, READS reads spread over them, IN_FLIGHT reads at a time (as a server
 *   serves concurrent requests: audit entries are group-committed), and a sequential run
 *   (one read at a time: one commit per read).
 * - SQLite in WAL mode with synchronous=FULL (the default: every commit survives power
 *   loss) and NORMAL (survives a process crash, not a power loss); PostgreSQL when a server
 *   answers (KEYWARDEN_BENCH_PG_URL, default postgres://127.0.0.1:5432/test as PGUSER,
 *   postgres or root), in a schema of its own dropped afterwards.
 * - Target: at least TARGET audited, decrypted reads/s on SQLite with the default settings.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createKeywarden, type Keywarden } from "../src/app.ts";
import { loadConfig } from "../src/config/load.ts";
import { systemClock } from "../src/core/clock.ts";
import { Secret } from "../src/core/secret.ts";
import { initLocalKeyFile } from "../src/kms/local-provider.ts";
import type { RequestContext } from "../src/services/audit/audit-service.ts";
import { openStorage, type Storage } from "../src/storage/database.ts";
import type { BenchPart } from "./bench-part.ts";
import { benchSchema, postgresBase } from "./postgres.ts";
import { fixed, table, TMP_DIR } from "./measure.ts";

const SECRETS = 1_000;
const READS = 20_000;
const SEQUENTIAL_READS = 2_000;
const IN_FLIGHT = 32;
const TARGET = 5_000;
const PASSPHRASE = "vault bench passphrase";
const CTX: RequestContext = { actor: "bench:vault", source: "bench", requestId: "req_bench" };

interface Setup {
  readonly label: string;
  readonly url: string;
  readonly synchronous?: "FULL" | "NORMAL";
}

interface Row {
  readonly label: string;
  readonly inFlight: number;
  readonly reads: number;
  readonly audited: number;
  readonly plain: number;
}

const pathOf = (i: number): string => `bench/prod/KEY_${i % SECRETS}`;

/** Runs `count` calls of `fn(i)`, `inFlight` at a time; returns calls per second. */
async function rate(count: number, inFlight: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) await fn(next++);
    }),
  );
  return (count / (performance.now() - started)) * 1000;
}

async function measure(setup: Setup, home: string): Promise<Row[]> {
  const { config } = loadConfig({ cwd: home, env: {}, flags: { home, "storage.url": setup.url } });
  await initLocalKeyFile(join(home, "master.key"), PASSPHRASE, config.kms.local.argon2);
  const storage: Storage = await openStorage({ url: setup.url, home, synchronous: setup.synchronous });
  let kw: Keywarden | undefined;
  try {
    kw = await createKeywarden({ config, home, env: {}, clock: systemClock, storage });
    await kw.unseal(CTX, PASSPHRASE);
    const vault = kw.vault;
    for (let i = 0; i < SECRETS; i += 50)
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          vault.set(
            CTX,
            pathOf(i + j),
            new Secret(`bench-${i + j}-${randomBytes(24).toString("base64url")}`),
          ),
        ),
      );
    const ids = (await storage.db.selectFrom("secrets").select("id").orderBy("path").execute()).map(
      (r) => r.id,
    );
    const plainRead = async (i: number): Promise<void> => {
      const row = await storage.db
        .selectFrom("secret_versions")
        .select("ciphertext")
        .where("secret_id", "=", ids[i % ids.length]!)
        .where("version", "=", 1)
        .executeTakeFirstOrThrow();
      if (row.ciphertext === null) throw new Error("no blob");
    };
    const auditedRead = async (i: number): Promise<void> => {
      const r = await vault.get(CTX, pathOf(i));
      if (r.value.reveal().length === 0) throw new Error("empty value");
    };
    await rate(1_000, IN_FLIGHT, auditedRead); // warm-up: JIT, statement cache, page cache
    await rate(1_000, IN_FLIGHT, plainRead);
    const rows: Row[] = [];
    for (const [inFlight, reads] of [
      [IN_FLIGHT, READS],
      [1, SEQUENTIAL_READS],
    ] as const) {
      const audited = await rate(reads, inFlight, auditedRead);
      const plain = await rate(reads, inFlight, plainRead);
      rows.push({ label: setup.label, inFlight, reads, audited, plain });
    }
    // Every read above left its entry in the chain, and the chain holds.
    const report = await kw.audit.verify();
    const expected = 1_000 + READS + SEQUENTIAL_READS;
    const readEntries = (await kw.audit.query({ action: "secret.read" })).length;
    if (!report.ok || readEntries !== expected)
      throw new Error(
        `audit check failed: ${readEntries} read entries for ${expected} reads, ok=${report.ok}`,
      );
    return rows;
  } finally {
    await kw?.close();
    await storage.close();
  }
}

async function run(): Promise<void> {
  const work = join(TMP_DIR, `vault-${process.pid}`);
  const setups: Setup[] = [
    { label: "sqlite WAL, synchronous=FULL (default)", url: "", synchronous: "FULL" },
    { label: "sqlite WAL, synchronous=NORMAL", url: "", synchronous: "NORMAL" },
  ];
  const base = await postgresBase();
  const schema = base === undefined ? undefined : await benchSchema(base);
  if (schema !== undefined) setups.push({ label: "postgres", url: schema.url });
  console.log(
    `${SECRETS} secrets; audited read = lookup + KEK unwrap + AES-256-GCM open + audit entry committed; plain read = SELECT of the stored blob`,
  );
  const rows: Row[] = [];
  try {
    for (const [i, setup] of setups.entries()) {
      const home = join(work, String(i));
      mkdirSync(home, { recursive: true, mode: 0o700 });
      rows.push(...(await measure(setup, home)));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    await schema?.drop();
  }
  if (base === undefined)
    console.log("postgres: skipped (no server at 127.0.0.1:5432/test; set KEYWARDEN_BENCH_PG_URL)");
  const n = (x: number): string => Math.round(x).toLocaleString("en-US");
  console.log(
    table(
      ["database", "in flight", "reads", "audited reads/s", "plain reads/s", "ratio"],
      rows.map((r) => [
        r.label,
        String(r.inFlight),
        n(r.reads),
        n(r.audited),
        n(r.plain),
        `${fixed(r.plain / r.audited)}x`,
      ]),
    ),
  );
  const judged = rows.find((r) => r.label === setups[0]!.label && r.inFlight === IN_FLIGHT)!;
  const pass = judged.audited >= TARGET;
  console.log(
    `target: >= ${n(TARGET)} audited, decrypted reads/s on SQLite (default settings, ${IN_FLIGHT} in flight): ${n(judged.audited)} ${pass ? "PASS" : "MISS"}`,
  );
}

export const vaultBench: BenchPart = {
  name: "vault",
  description: `audited, decrypted vault reads/s on SQLite and PostgreSQL against plain reads (target >= ${TARGET}/s on SQLite)`,
  run,
};

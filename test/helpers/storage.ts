import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { TestContext } from "node:test";
import pg from "pg";
import { openStorage, type Storage } from "../../src/storage/database.ts";
import { migrateToLatest } from "../../src/storage/migrations.ts";
import { freshSecretRow, type SecretRow } from "../../src/storage/repos/secret-repo.ts";
import { tempDir } from "./tmp.ts";

/** A database engine the storage tests run against, for real. */
export interface TestDialect {
  readonly name: "sqlite" | "postgres";
  /** A fresh, migrated database removed when the test ends, and the storage.url and home that open it. */
  create(t: TestContext, options?: { migrate?: boolean }): Promise<TestDatabase>;
}

export interface TestDatabase {
  readonly storage: Storage;
  /** Opens another handle on the same database, as another process would. */
  reopen(): Promise<Storage>;
  /**
   * A handle for concurrency tests within this process: another pool on PostgreSQL; the
   * same handle on SQLite, whose synchronous driver would block the event loop while a
   * second in-process connection waits for the first's lock (processes are tested apart).
   */
  peer(): Promise<Storage>;
  readonly url: string;
  readonly home: string;
}

const PG_HOST = "127.0.0.1";
const PG_DB = "test";
let pgUser: string | undefined;

/** The first role among PGUSER, postgres and root that the trust-auth server accepts. */
async function postgresUser(): Promise<string> {
  if (pgUser !== undefined) return pgUser;
  const candidates = [process.env.PGUSER, "postgres", "root"].filter(
    (u): u is string => u !== undefined && u !== "",
  );
  for (const user of candidates) {
    const client = new pg.Client({ host: PG_HOST, port: 5432, database: PG_DB, user });
    try {
      await client.connect();
      await client.end();
      pgUser = user;
      return user;
    } catch {
      await client.end().catch(() => undefined);
    }
  }
  throw new Error(`PostgreSQL at ${PG_HOST}:5432/${PG_DB} accepts none of ${candidates.join(", ")}`);
}

/** A postgres:// URL whose connections use `schema` as their search_path. */
export async function postgresUrl(schema: string): Promise<string> {
  const user = await postgresUser();
  return `postgres://${user}@${PG_HOST}:5432/${PG_DB}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}

/** Creates a fresh PostgreSQL schema dropped when the test ends; returns its name. */
export async function freshPostgresSchema(t: TestContext): Promise<string> {
  const schema = `kw_t_${randomBytes(6).toString("hex")}`;
  const user = await postgresUser();
  const admin = new pg.Client({ host: PG_HOST, port: 5432, database: PG_DB, user });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  t.after(async () => {
    const c = new pg.Client({ host: PG_HOST, port: 5432, database: PG_DB, user });
    await c.connect();
    await c.query(`drop schema if exists ${schema} cascade`);
    await c.end();
  });
  return schema;
}

async function prepared(t: TestContext, url: string, home: string, migrate: boolean): Promise<TestDatabase> {
  const open = async (): Promise<Storage> => {
    const s = await openStorage({ url, home });
    t.after(() => s.close());
    return s;
  };
  const storage = await open();
  if (migrate) await migrateToLatest(storage.db, storage.caps);
  return { storage, reopen: open, peer: () => (url === "" ? Promise.resolve(storage) : open()), url, home };
}

const ALL: readonly TestDialect[] = [
  {
    name: "sqlite",
    async create(t, options = {}) {
      const home = join(tempDir(t), "home");
      return prepared(t, "", home, options.migrate ?? true);
    },
  },
  {
    name: "postgres",
    async create(t, options = {}) {
      const home = join(tempDir(t), "home");
      const url = await postgresUrl(await freshPostgresSchema(t));
      return prepared(t, url, home, options.migrate ?? true);
    },
  },
];

/** Every dialect, or those named in KW_DIALECTS (comma-separated: `KW_DIALECTS=sqlite`). */
export const DIALECTS: readonly TestDialect[] = (() => {
  const wanted = process.env.KW_DIALECTS;
  if (wanted === undefined || wanted.trim() === "") return ALL;
  const names = new Set(wanted.split(",").map((s) => s.trim()));
  return ALL.filter((d) => names.has(d.name));
})();

const ROW_TIME = "2025-03-01T12:00:00.000Z";

/**
 * A `secrets` row for `path` (no version yet), for tests that write rows directly.
 *
 * @example
 *   await db.insertInto("secrets").values(secretRow("payments/prod/KEY")).execute();
 */
export function secretRow(path: string, id = `sec_${path.replace(/\W/g, "")}`): SecretRow {
  const [project = "", environment = "", name = ""] = path.split("/");
  return freshSecretRow(id, { path, project, environment, name }, ROW_TIME);
}

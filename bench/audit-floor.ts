/**
 * The least an audited read can cost, to measure Keywarden's read against: a bare Fastify
 * HTTPS route that commits one audit row per request before it answers, with the same group
 * commit as Keywarden's reads (services/audit/group-commit.ts: one group in flight), a hash
 * per row as a tamper-evident log needs, and an answer of a read's shape. No token check, no
 * policy, no decryption, no head to chain onto, no epoch: whatever Keywarden's read reaches
 * beyond what this reaches is its own cost.
 *
 * On PostgreSQL a group is one statement; on SQLite one transaction of one insert per row on
 * Keywarden's writer thread (storage/sqlite-script.ts) with its WAL sync, as `keywarden
 * serve` commits reads with synchronous=FULL, the default.
 */
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import Fastify, { type FastifyInstance } from "fastify";
import pg from "pg";
import type { TlsMaterial } from "../src/server/tls.ts";
import { groupRunner } from "../src/services/audit/group-commit.ts";
import { WAL_AUTOCHECKPOINT_PAGES } from "../src/storage/node-sqlite-dialect.ts";
import { openWriter, ScriptThread } from "../src/storage/sqlite-script.ts";
import { listen } from "./measure.ts";

/** An audit row's columns, as Keywarden's audit_log has them. */
const COLUMNS = `seq bigint, id text, at text, actor text, action text, path text, version integer,
  result text, source text, request_id text, detail text, prev_hash text, hash text`;
const COLUMN_NAMES = COLUMNS.split(",").map((c) => c.trim().split(" ")[0]!);

const CREATE_PG = `create table audit_floor (${COLUMNS.replace("seq bigint", "seq bigint primary key")})`;
/** On SQLite the seq is the rowid, as in audit_log (no index of its own). */
const CREATE_SQLITE = `create table audit_floor (${COLUMNS.replace("seq bigint", "seq integer primary key")})`;
const INSERT_PG = `insert into audit_floor select * from jsonb_to_recordset($1::jsonb) as x(${COLUMNS})`;
const INSERT_SQLITE = `insert into audit_floor (${COLUMN_NAMES.join(", ")}) values (${COLUMN_NAMES.map(() => "?").join(", ")})`;

/** A row by column name. */
type Row = Record<string, string | number | null>;

/** Where the floor commits: a PostgreSQL URL (its schema), or an SQLite file it makes. */
export type AuditFloorStore =
  { readonly kind: "postgres"; readonly url: string } | { readonly kind: "sqlite"; readonly file: string };

export interface AuditFloorServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Commits groups of rows to `store`, in a table it makes there. */
async function committer(
  store: AuditFloorStore,
): Promise<{ commit: (rows: readonly Row[]) => Promise<unknown>; close: () => Promise<void> }> {
  if (store.kind === "postgres") {
    const pool = new pg.Pool({ connectionString: store.url, max: 1 });
    try {
      await pool.query(CREATE_PG);
    } catch (e) {
      await pool.end();
      throw e;
    }
    return {
      commit: (rows) =>
        pool.query({ name: "audit_floor_insert", text: INSERT_PG, values: [JSON.stringify(rows)] }),
      close: () => pool.end(),
    };
  }
  // Set up as Keywarden's writer connection is (WAL, its checkpoint interval).
  const setup = openWriter(store.file, 5000, WAL_AUTOCHECKPOINT_PAGES);
  try {
    setup.exec(CREATE_SQLITE);
  } finally {
    setup.close();
  }
  const thread = new ScriptThread({
    file: store.file,
    timeoutMs: 5000,
    walAutocheckpointPages: WAL_AUTOCHECKPOINT_PAGES,
    syncWal: true,
  });
  return {
    commit: (rows) =>
      thread.run({
        guarded: false,
        steps: [{ sql: INSERT_SQLITE, rows: rows.map((r) => COLUMN_NAMES.map((c) => r[c] ?? null)) }],
      }),
    close: async () => {
      await thread.close();
      for (const suffix of ["", "-wal", "-shm"]) rmSync(`${store.file}${suffix}`, { force: true });
    },
  };
}

/**
 * Serves `GET /floor/<path>` on 127.0.0.1 over HTTPS, committing a row to `store` before each
 * answer.
 *
 * @example
 *   const floor = await auditFloorServer(tls, { kind: "postgres", url: schema.url });
 *   try { await load(floor.port, "/floor/bench/prod/KEY_0"); } finally { await floor.close(); }
 */
export async function auditFloorServer(tls: TlsMaterial, store: AuditFloorStore): Promise<AuditFloorServer> {
  const sink = await committer(store);
  let app: FastifyInstance | undefined;
  try {
    let seq = 0;
    let prev = "0".repeat(64);
    const commit = groupRunner(async (paths: readonly string[]) => {
      const at = new Date().toISOString();
      const rows = paths.map((path) => {
        seq++;
        const row: Row = {
          seq,
          id: `aud_floor_${seq}`,
          at,
          actor: "machine:bench-app",
          action: "secret.read",
          path,
          version: 1,
          result: "ok",
          source: "api",
          request_id: `req_floor_${seq}`,
          detail: null,
          prev_hash: prev,
          hash: "",
        };
        row.hash = createHash("sha256").update(JSON.stringify(row)).digest("hex");
        prev = row.hash;
        return row;
      });
      await sink.commit(rows);
    });
    app = Fastify({ https: { cert: tls.cert, key: tls.key, minVersion: "TLSv1.2" } });
    app.get("/floor/*", async (request) => {
      const path = (request.params as { "*": string })["*"];
      await commit.submit(path);
      const now = new Date().toISOString();
      return {
        path,
        version: 1,
        value: "floor value, as long as a bench secret's value",
        metadata: { path, currentVersion: 1, tags: [], createdAt: now, updatedAt: now, lastReadAt: now },
      };
    });
    const port = await listen(app);
    const served = app;
    return {
      port,
      close: async () => {
        await served.close();
        await sink.close();
      },
    };
  } catch (e) {
    await app?.close();
    await sink.close();
    throw e;
  }
}

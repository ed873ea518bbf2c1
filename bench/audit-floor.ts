/**
 * The least an audited read can cost on PostgreSQL, to measure Keywarden's read against: a
 * bare Fastify HTTPS route that commits one audit row per request before it answers, with
 * the same group commit as Keywarden's reads (services/audit/group-commit.ts: one statement
 * per group, one group in flight), a hash per row as a tamper-evident log needs, and an
 * answer of a read's shape. No token check, no policy, no decryption, no head to chain onto,
 * no epoch: whatever Keywarden's read reaches beyond what this reaches is its own cost.
 */
import { createHash } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";
import pg from "pg";
import type { TlsMaterial } from "../src/server/tls.ts";
import { groupRunner } from "../src/services/audit/group-commit.ts";
import { listen } from "./measure.ts";

/** An audit row's columns, as Keywarden's audit_log has them. */
const COLUMNS = `seq bigint, id text, at text, actor text, action text, path text, version integer,
  result text, source text, request_id text, detail text, prev_hash text, hash text`;

const INSERT = `insert into audit_floor select * from jsonb_to_recordset($1::jsonb) as x(${COLUMNS})`;

export interface AuditFloorServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `GET /floor/<path>` on 127.0.0.1 over HTTPS, committing a row to a table it makes
 * in `url`'s schema (dropped with the schema) before each answer.
 *
 * @example
 *   const floor = await auditFloorServer(tls, schema.url);
 *   try { await load(floor.port, "/floor/bench/prod/KEY_0"); } finally { await floor.close(); }
 */
export async function auditFloorServer(tls: TlsMaterial, url: string): Promise<AuditFloorServer> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  let app: FastifyInstance | undefined;
  try {
    await pool.query(`create table audit_floor (${COLUMNS.replace("seq bigint", "seq bigint primary key")})`);
    let seq = 0;
    let prev = "0".repeat(64);
    const commit = groupRunner(async (paths: readonly string[]) => {
      const at = new Date().toISOString();
      const rows = paths.map((path) => {
        seq++;
        const row = {
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
      await pool.query({ name: "audit_floor_insert", text: INSERT, values: [JSON.stringify(rows)] });
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
        await pool.end();
      },
    };
  } catch (e) {
    await app?.close();
    await pool.end();
    throw e;
  }
}

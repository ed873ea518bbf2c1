/**
 * SQLite scripts: a short write transaction given as data (statement texts and their
 * parameter rows), run in one go on a writer connection, here or on a thread of its own.
 *
 * Why: node:sqlite is synchronous, so every statement of a transaction runs on the thread
 * that asks for it. A server's hottest write is the group commit of audited reads (a head
 * compare-and-set, one insert per entry, the `last_read_at` touch, COMMIT): about a fifth of
 * the event loop's time per read. As a script it runs on a writer thread (`ScriptThread`)
 * with its own connection, while the event loop serves requests; the caller still waits for
 * the commit (and the driver's WAL sync) before it answers. The two connections share the
 * database file the way two processes do: SQLite's write lock and busy_timeout.
 */
import { Worker } from "node:worker_threads";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { workerEntry } from "../core/worker-entry.ts";

/** One statement text and the parameter rows it runs with, in order. */
export interface ScriptStep {
  readonly sql: string;
  readonly rows: readonly (readonly SQLInputValue[])[];
}

export interface SqliteScript {
  /**
   * When true, the first step must change exactly one row (a compare-and-set); when it
   * does not, nothing of the script is written and it answers false.
   */
  readonly guarded: boolean;
  readonly steps: readonly ScriptStep[];
}

/** Statement texts a script connection keeps prepared; scripts use a handful. */
const PREPARED_LIMIT = 32;
const statements = new WeakMap<DatabaseSync, Map<string, StatementSync>>();

function statement(db: DatabaseSync, sqlText: string): StatementSync {
  let cache = statements.get(db);
  if (cache === undefined) {
    cache = new Map<string, StatementSync>();
    statements.set(db, cache);
  }
  let stmt = cache.get(sqlText);
  if (stmt === undefined) {
    stmt = db.prepare(sqlText);
    if (cache.size >= PREPARED_LIMIT) cache.clear();
    cache.set(sqlText, stmt);
  }
  return stmt;
}

/**
 * Runs `script` in one `BEGIN IMMEDIATE` transaction on `db`. Returns false (having rolled
 * back) when a guarded script's first step changed no row or more than one; throws (having
 * rolled back) when a statement fails.
 *
 * @example
 *   executeScript(db, { guarded: true, steps: [{ sql: "update t set v = ? where v = ?", rows: [[2, 1]] }] });
 */
export function executeScript(db: DatabaseSync, script: SqliteScript): boolean {
  db.exec("begin immediate");
  try {
    for (let i = 0; i < script.steps.length; i++) {
      const step = script.steps[i]!;
      const stmt = statement(db, step.sql);
      let changes = 0;
      for (const row of step.rows) changes += Number(stmt.run(...row).changes);
      if (i === 0 && script.guarded && changes !== 1) {
        db.exec("rollback");
        return false;
      }
    }
    db.exec("commit");
    return true;
  } catch (e) {
    if (db.isTransaction) db.exec("rollback");
    throw e;
  }
}

/**
 * Opens a read-write connection the way every Keywarden writer is set up: WAL (readers never
 * block the writer), synchronous=NORMAL (FULL is the driver's WAL sync on top), foreign keys,
 * secure_delete (freed pages are zeroed, so a destroyed data key does not linger in the file),
 * and a checkpoint every `walAutocheckpointPages` WAL pages.
 *
 * @example
 *   const db = openWriter("/home/me/.local/share/keywarden/keywarden.db", 5000, 10_000);
 */
export function openWriter(file: string, timeoutMs: number, walAutocheckpointPages: number): DatabaseSync {
  const db = new DatabaseSync(file, { timeout: timeoutMs });
  db.exec(`PRAGMA journal_mode = WAL`);
  db.exec(`PRAGMA synchronous = NORMAL`);
  db.exec(`PRAGMA foreign_keys = ON`);
  db.exec(`PRAGMA secure_delete = ON`);
  db.exec(`PRAGMA wal_autocheckpoint = ${walAutocheckpointPages}`);
  return db;
}

/** What the writer thread is started with. */
export interface ScriptThreadData {
  readonly file: string;
  readonly timeoutMs: number;
  readonly walAutocheckpointPages: number;
  /**
   * synchronous=FULL: after each commit the thread syncs the WAL file itself (fdatasync)
   * before it answers, so the commit is durable when the answer arrives.
   */
  readonly syncWal: boolean;
}

/**
 * A script's result, or its error: the message, and SQLite's result code when it has one
 * (so that a busy database stays recognisable on the other side; storage/unavailable.ts).
 */
export type ScriptReply =
  | { readonly id: number; readonly ok: boolean }
  | { readonly id: number; readonly error: string; readonly code?: string; readonly errcode?: number };

/**
 * The reply for a script that threw `e`.
 *
 * @example
 *   parentPort.postMessage(errorReply(id, e));
 */
export function errorReply(id: number, e: unknown): ScriptReply {
  if (!(e instanceof Error)) return { id, error: String(e) };
  const { code, errcode } = e as { code?: unknown; errcode?: unknown };
  return {
    id,
    error: e.message,
    ...(typeof code === "string" ? { code } : {}),
    ...(typeof errcode === "number" ? { errcode } : {}),
  };
}

interface Pending {
  readonly resolve: (ok: boolean) => void;
  readonly reject: (e: Error) => void;
}

/**
 * A writer thread (sqlite-script-worker.ts) that runs scripts on its own connection to
 * `file`, one at a time, in the order they are sent. Once the thread has failed or exited,
 * `alive` is false and every script still waiting is rejected.
 */
export class ScriptThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #alive = true;

  constructor(data: ScriptThreadData) {
    this.#worker = new Worker(workerEntry(import.meta.url, "sqlite-script-worker"), {
      workerData: data,
      name: "keywarden-sqlite-writer",
    });
    // Held only while a script is out (see `run`): an idle writer never keeps the process alive.
    this.#worker.unref();
    this.#worker.on("message", (reply: ScriptReply) => {
      const p = this.#pending.get(reply.id);
      if (p === undefined) return;
      this.#pending.delete(reply.id);
      if (this.#pending.size === 0) this.#worker.unref();
      if ("error" in reply)
        p.reject(Object.assign(new Error(reply.error), { code: reply.code, errcode: reply.errcode }));
      else p.resolve(reply.ok);
    });
    this.#worker.on("error", (e: Error) => {
      this.#fail(e);
    });
    this.#worker.on("exit", (code) => {
      this.#fail(new Error(`the SQLite writer thread exited (code ${code})`));
    });
  }

  get alive(): boolean {
    return this.#alive;
  }

  /** Runs `script` on the writer thread (see `executeScript`). */
  run(script: SqliteScript): Promise<boolean> {
    if (!this.#alive) return Promise.reject(new Error("the SQLite writer thread is not running"));
    const id = ++this.#nextId;
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, script });
    });
  }

  #fail(e: Error): void {
    this.#alive = false;
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
  }

  async close(): Promise<void> {
    this.#alive = false;
    await this.#worker.terminate();
  }
}

/**
 * What a database error says about the database, apart from the statement. Mostly: tells a
 * database that cannot serve right now (refused or lost connections, a server shutting
 * down or starting, out of disk or connections, SQLite busy past its timeout) from a
 * statement that is wrong. The first is worth a retry and is answered 503; the second is a
 * bug.
 */

/** Socket errors of a connection that could not be made or was lost. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * PostgreSQL SQLSTATEs that say the server cannot serve now, from PostgreSQL's Appendix A:
 * classes 08 (connection exception) and 53 (insufficient resources: disk full, out of
 * memory, too many connections), and these.
 */
const POSTGRES_CLASSES = new Set(["08", "53"]);
const POSTGRES_STATES = new Set([
  "57P01", // admin_shutdown (also pg_terminate_backend)
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, or in recovery)
  // read_only_sql_transaction: connected to a standby (during a failover, or a URL that names
  // a replica) or a database set read-only; no write, and so no audited read, can land.
  "25006",
]);

/** What node-postgres says when its connection ends under it, or it times out connecting. */
const PG_CLIENT_MESSAGES =
  /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect)/;

/** SQLite's primary result codes (without extended bits) for a database that cannot serve now. */
const SQLITE_CODES = new Map([
  [5, "SQLite busy"], // SQLITE_BUSY
  [6, "SQLite locked"], // SQLITE_LOCKED
  [13, "SQLite full"], // SQLITE_FULL: the disk, or max_page_count
]);

function reasonOf(e: object): string | undefined {
  const { code, errcode } = e as { code?: unknown; errcode?: unknown };
  if (typeof code === "string" && NETWORK_CODES.has(code)) return code;
  if (
    typeof code === "string" &&
    /^[0-9A-Z]{5}$/.test(code) &&
    (POSTGRES_CLASSES.has(code.slice(0, 2)) || POSTGRES_STATES.has(code))
  )
    return `SQLSTATE ${code}`;
  if (code === "ERR_SQLITE_ERROR" && typeof errcode === "number") {
    const reason = SQLITE_CODES.get(errcode & 0xff);
    if (reason !== undefined) return reason;
  }
  const message = (e as { message?: unknown }).message;
  if (typeof message === "string" && PG_CLIENT_MESSAGES.test(message)) return "connection lost";
  return undefined;
}

/**
 * Why `e` (or an error it wraps, through `cause` and AggregateError) says the database is
 * unavailable, in a few words that name no host, user or value; undefined when it does not.
 *
 * @example
 *   storageUnavailable(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })) // "ECONNREFUSED"
 */
export function storageUnavailable(e: unknown): string | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [e];
  while (queue.length > 0) {
    const x = queue.shift();
    if (typeof x !== "object" || x === null || seen.has(x)) continue;
    seen.add(x);
    const reason = reasonOf(x);
    if (reason !== undefined) return reason;
    queue.push((x as { cause?: unknown }).cause);
    if (x instanceof AggregateError) queue.push(...(x.errors as unknown[]));
  }
  return undefined;
}

/** SQLite's SQLITE_CORRUPT and SQLITE_NOTADB (primary codes): the file is damaged, or not a database. */
const SQLITE_DAMAGED = new Set([11, 26]);

/**
 * True when `e` is SQLite saying its file is damaged or is not a database at all.
 *
 * @example
 *   storageDamaged(errorOpeningARandomFile) // true
 */
export function storageDamaged(e: unknown): boolean {
  const { code, errcode } = (e ?? {}) as { code?: unknown; errcode?: unknown };
  return code === "ERR_SQLITE_ERROR" && typeof errcode === "number" && SQLITE_DAMAGED.has(errcode & 0xff);
}

/**
 * Tells a database that cannot serve right now (refused or lost connections, a server shutting
 * down or starting, SQLite busy past its timeout) from a statement that is wrong. The first
 * is worth a retry and is answered 503; the second is a bug.
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
 * PostgreSQL SQLSTATEs that say the server cannot serve now: class 08 (connection exception)
 * and these, from PostgreSQL's Appendix A.
 */
const POSTGRES_STATES = new Set([
  "53300", // too_many_connections
  "57P01", // admin_shutdown (also pg_terminate_backend)
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, or in recovery)
]);

/** What node-postgres says when its connection ends under it, or it times out connecting. */
const PG_CLIENT_MESSAGES =
  /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect)/;

/** SQLite's SQLITE_BUSY and SQLITE_LOCKED result codes (primary, without extended bits). */
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;

function reasonOf(e: object): string | undefined {
  const { code, errcode } = e as { code?: unknown; errcode?: unknown };
  if (typeof code === "string" && NETWORK_CODES.has(code)) return code;
  if (
    typeof code === "string" &&
    /^[0-9A-Z]{5}$/.test(code) &&
    (code.startsWith("08") || POSTGRES_STATES.has(code))
  )
    return `SQLSTATE ${code}`;
  if (code === "ERR_SQLITE_ERROR" && typeof errcode === "number") {
    const primary = errcode & 0xff;
    if (primary === SQLITE_BUSY) return "SQLite busy";
    if (primary === SQLITE_LOCKED) return "SQLite locked";
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

import { pino, type Logger, type DestinationStream } from "pino";
import { createRequire } from "node:module";
import type PinoPretty from "pino-pretty";
import { SECRET_FIELD_NAMES } from "./redact.ts";

export type { Logger } from "pino";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  readonly level: LogLevel;
  /** `pretty` for people, `json` for machines; `auto` picks pretty when the stream is a TTY. */
  readonly format: "auto" | "json" | "pretty";
  /** Where lines go; standard error by default so that reports on stdout stay clean. */
  readonly stream?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** Redaction paths: each secret field name at the top level and up to two levels deep. */
export const REDACT_PATHS: readonly string[] = SECRET_FIELD_NAMES.flatMap((name) => [
  name,
  `*.${name}`,
  `*.*.${name}`,
]).concat(["req.headers.authorization", "req.headers.cookie", 'req.headers["x-vault-token"]']);

/** What a server request's log lines show of it (Fastify logs `req` as each request comes in). */
export interface LoggedRequest {
  readonly method?: string;
  readonly url?: string;
  readonly host?: string;
  readonly ip?: string;
  readonly socket?: { readonly remotePort?: number } | null;
}

/**
 * A request URL for a log line: the path, and of the query only the parameter names. The API
 * takes no secret in a query, but a client may still put one there (a token, a value), and a
 * log must not keep it.
 *
 * @example
 *   urlForLog("/api/v1/audit?path=a/b&limit=5") // "/api/v1/audit?path=*&limit=*"
 */
export function urlForLog(url: string): string {
  const q = url.indexOf("?");
  if (q < 0) return url;
  const names = url
    .slice(q + 1)
    .split("&")
    .filter((p) => p !== "")
    .map((p) => `${p.split("=", 1)[0]!.slice(0, 64)}=*`);
  return `${url.slice(0, q)}?${names.join("&")}`;
}

/**
 * Fastify's request serializer, with the URL through `urlForLog` (pino's own serializers win
 * over Fastify's defaults for a logger passed in as `loggerInstance`).
 */
export function requestForLog(req: LoggedRequest): { url: string | undefined } & Record<string, unknown> {
  return {
    method: req.method,
    url: req.url === undefined ? undefined : urlForLog(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

/** pino-pretty costs tens of milliseconds to load: only a terminal needs it. */
function loadPretty(): typeof PinoPretty {
  const require = createRequire(import.meta.url);
  return require("pino-pretty") as typeof PinoPretty;
}

/**
 * A pino logger that never prints a secret field: values under the names in
 * SECRET_FIELD_NAMES are replaced by "[redacted]".
 *
 * @example
 *   const log = createLogger({ level: "info", format: "auto" }); log.info({ secretId }, "read");
 */
export function createLogger(options: LoggerOptions): Logger {
  const stream = options.stream ?? process.stderr;
  const usePretty = options.format === "pretty" || (options.format === "auto" && stream.isTTY === true);
  const destination: DestinationStream = usePretty
    ? loadPretty()({
        destination: stream,
        colorize: stream.isTTY === true,
        sync: true,
        ignore: "pid,hostname",
      })
    : stream;
  return pino(
    {
      level: options.level,
      base: undefined,
      redact: { paths: [...REDACT_PATHS], censor: "[redacted]" },
      serializers: { req: requestForLog },
    },
    destination,
  );
}

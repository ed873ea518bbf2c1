/**
 * The one HTTP error shape, `{ "error": { "code", "message", "requestId" } }`, for every
 * failure: catalogue errors keep their code and status; schema failures, oversized bodies
 * and rate limits get codes of their own; a database that cannot serve now is a 503 the
 * client may retry; anything else (a bug) is a 500 that says only "internal error" and is
 * logged with its stack under the request id.
 */
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ERRORS, isKeywardenError, KeywardenError, type ErrorCode } from "../../core/errors.ts";
import { newId } from "../../core/ids.ts";
import { unquoted } from "../../core/redact.ts";
import { maskKeys } from "../../detect/mask.ts";
import { storageUnavailable } from "../../storage/unavailable.ts";
import { answerListVerb } from "./list-verb.ts";

/** The body of every error response. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly requestId: string };
}

/**
 * 503s whose messages name no host, endpoint or provider detail (the sealed state and the
 * provider's kind are public: /readyz, /api/v1/sys/seal-status), so a client may show them.
 * A key provider's own failure (KW_ERR_KMS_UNAVAILABLE) can name its endpoint: not listed.
 */
const PLAIN_503: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "KW_ERR_KMS_SEALED",
  "KW_ERR_SERVER_NOT_READY",
  "KW_ERR_STORAGE_UNAVAILABLE",
]);

/** Longest schema-validation message echoed back; validators never quote values, this bounds it anyway. */
const MAX_REASON = 300;

/** Fastify's own 4xx errors whose messages may quote the body: replaced by a fixed reason. */
function fastifyReason(e: FastifyError): string {
  switch (e.code) {
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return "unsupported content type";
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return "empty JSON body";
    default:
      return "malformed request";
  }
}

/**
 * Maps any thrown value to a status and the one error body.
 *
 * @example
 *   const { status, body } = errorResponse(new KeywardenError("KW_ERR_VAULT_NOT_FOUND", { path }), "req_...");
 */
export function errorResponse(thrown: unknown, requestId: string): { status: number; body: ErrorBody } {
  let code: ErrorCode = "KW_ERR_INTERNAL";
  let status = 500;
  let message = "internal error";
  const unavailable = isKeywardenError(thrown) ? undefined : storageUnavailable(thrown);
  const e =
    unavailable === undefined
      ? thrown
      : new KeywardenError("KW_ERR_STORAGE_UNAVAILABLE", { reason: unavailable });
  if (isKeywardenError(e)) {
    code = e.code;
    status = e.httpStatus;
    message = e.message;
  } else if (typeof e === "object" && e !== null && "statusCode" in e) {
    const fe = e as FastifyError;
    const s = typeof fe.statusCode === "number" ? fe.statusCode : 500;
    if (fe.validation !== undefined) {
      code = "KW_ERR_HTTP_BAD_REQUEST";
      status = 400;
      message = new KeywardenError(code, { reason: fe.message.slice(0, MAX_REASON) }).message;
    } else if (fe.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      code = "KW_ERR_HTTP_TOO_LARGE";
      status = 413;
      message = ERRORS[code].message.replace("{limit}", "the configured");
    } else if (s === 429) {
      code = "KW_ERR_HTTP_RATE_LIMITED";
      status = 429;
      message = new KeywardenError(code, { retryAfter: "a few" }).message;
    } else if (s >= 400 && s < 500) {
      code = "KW_ERR_HTTP_BAD_REQUEST";
      status = s;
      message = new KeywardenError(code, { reason: fastifyReason(fe) }).message;
    }
  }
  if (status >= 500) {
    // A 503 keeps its code (sealed, not ready, database unavailable) so clients know to
    // retry, and its message when that names nothing internal; nothing else leaks.
    if (status !== 503) code = "KW_ERR_INTERNAL";
    if (status !== 503 || !PLAIN_503.has(code)) message = "internal error";
  }
  return { status, body: { error: { code, message, requestId } } };
}

/** A bug's error for the log: its name, message and stack, less any value Node quotes in them. */
function loggable(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  return {
    type: e.name,
    message: unquoted(e.message),
    stack: e.stack === undefined ? undefined : unquoted(e.stack),
  };
}

/**
 * Logs a failed request as its status deserves (a bug with its stack, a refusal in a line)
 * and sets the headers its error calls for; every error handler goes through it.
 *
 * @example
 *   const { status, body } = errorResponse(e, request.id);
 *   reportError(request, reply, e, status, body);
 */
export function reportError(
  request: FastifyRequest,
  reply: FastifyReply,
  e: unknown,
  status: number,
  body: ErrorBody,
): void {
  if (status >= 500 && status !== 503) request.log.error({ err: loggable(e) }, "request failed");
  else if (body.error.code === "KW_ERR_STORAGE_UNAVAILABLE") {
    // The reason names no host, user or value (storage/unavailable.ts).
    request.log.warn(
      { code: body.error.code, status, reason: storageUnavailable(e) },
      "database unavailable",
    );
    void reply.header("retry-after", "1");
  } else request.log.info({ code: body.error.code, status }, "request refused");
}

function send(request: FastifyRequest, reply: FastifyReply, e: unknown): FastifyReply {
  const { status, body } = errorResponse(e, request.id);
  reportError(request, reply, e, status, body);
  return reply.code(status).type("application/json; charset=utf-8").send(body);
}

/** What Node's HTTP parser refuses before a request exists, as status and reason. */
function clientErrorOf(e: NodeJS.ErrnoException): { status: number; reason: string } {
  if (e.code === "ERR_HTTP_REQUEST_TIMEOUT")
    return { status: 408, reason: "the request took too long to arrive" };
  if (e.code === "HPE_HEADER_OVERFLOW")
    return { status: 431, reason: "its headers are larger than the server accepts" };
  return { status: 400, reason: "it is not valid HTTP" };
}

/**
 * Answers what Node's HTTP parser refuses (headers too large, malformed HTTP, a request that
 * took too long) in the one error shape, with a request id of its own, then closes the
 * connection; Fastify's default answers in a shape of its own. A reset connection gets nothing.
 *
 * @example
 *   Fastify({ clientErrorHandler: answerClientError });
 */
export function answerClientError(this: FastifyInstance, e: NodeJS.ErrnoException, socket: Duplex): void {
  if (e.code === "ECONNRESET" || socket.destroyed) return;
  // Vault's LIST verb, which the parser does not know: answered as the GET it means. (Node
  // gives the bytes it read as a Buffer; Fastify's types say otherwise.)
  const raw = (e as { rawPacket?: unknown }).rawPacket;
  if (e.code === "HPE_INVALID_METHOD" && Buffer.isBuffer(raw) && answerListVerb(this, raw, socket)) return;
  const { status, reason } = clientErrorOf(e);
  const requestId = newId("request");
  // The status is Node's (408, 431, 400); the body is the one shape's.
  const body = JSON.stringify(
    errorResponse(new KeywardenError("KW_ERR_HTTP_BAD_REQUEST", { reason }), requestId).body,
  );
  this.log.debug({ reqId: requestId, code: e.code, status }, "client error");
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  socket.destroy();
}

/**
 * Installs the error and not-found handlers on the root instance.
 *
 * @example
 *   installErrorHandling(app);
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((e, request, reply) => send(request, reply, e));
  app.setNotFoundHandler((request, reply) =>
    send(
      request,
      reply,
      new KeywardenError("KW_ERR_HTTP_NOT_FOUND", {
        method: request.method,
        url: maskKeys(request.url.split("?")[0] ?? ""),
      }),
    ),
  );
}

/**
 * The client's error, apart from the client so that code which only recognises it (the CLI
 * turning it into its own errors) does not load node:http, node:https and node:tls.
 */

/**
 * A failed call: the server's error code, HTTP status and request id; never a token or a value.
 *
 * @example
 *   catch (e) { if (e instanceof KeywardenClientError && e.status === 409) retryWithFreshVersion(); }
 */
export class KeywardenClientError extends Error {
  readonly code: string;
  readonly status: number;
  readonly requestId: string | undefined;
  /** For KW_ERR_CLIENT_NETWORK: the socket error's code (ECONNREFUSED, ECONNRESET, ...). */
  readonly errno: string | undefined;

  constructor(code: string, status: number, message: string, requestId: string | undefined, errno?: string) {
    super(`${code}: ${message}${requestId === undefined ? "" : ` (request ${requestId})`}`);
    this.name = "KeywardenClientError";
    this.code = code;
    this.status = status;
    this.requestId = requestId;
    this.errno = errno;
  }
}

/**
 * The body of a 2xx answer. One that is not JSON (a proxy's login or error page, a portal)
 * is KW_ERR_CLIENT_PROTOCOL, which names the status and content type, never the body.
 *
 * @example
 *   const value = parseAnswer(base.origin, r.status, r.headers["content-type"], r.text) as SecretValue;
 */
export function parseAnswer(origin: string, status: number, contentType: unknown, text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    const type = typeof contentType === "string" ? contentType.split(";")[0]!.trim().slice(0, 60) : "none";
    throw new KeywardenClientError(
      "KW_ERR_CLIENT_PROTOCOL",
      status,
      `${origin} answered HTTP ${status} (content type ${type || "none"}) with something other than Keywarden's API`,
      undefined,
    );
  }
}

/**
 * The error of an answer outside 2xx: the server's code, message and request id, or the
 * status alone when the body is not Keywarden's error shape (it is never quoted).
 *
 * @example
 *   throw answerError(r.status, r.text);
 */
export function answerError(status: number, text: string): KeywardenClientError {
  let code = "KW_ERR_INTERNAL";
  let message = `HTTP ${status}`;
  let requestId: string | undefined;
  try {
    const e = (JSON.parse(text) as { error?: { code?: string; message?: string; requestId?: string } } | null)
      ?.error;
    code = e?.code ?? code;
    message = e?.message ?? message;
    requestId = e?.requestId;
  } catch {
    // Not our error shape (a proxy's page): the status alone.
  }
  return new KeywardenClientError(code, status, message, requestId);
}

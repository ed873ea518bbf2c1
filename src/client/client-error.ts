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

  constructor(code: string, status: number, message: string, requestId: string | undefined) {
    super(`${code}: ${message}${requestId === undefined ? "" : ` (request ${requestId})`}`);
    this.name = "KeywardenClientError";
    this.code = code;
    this.status = status;
    this.requestId = requestId;
  }
}

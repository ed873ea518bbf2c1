/**
 * HashiCorp Vault's `LIST` verb. Vault clients list a folder with the HTTP method LIST (hvac,
 * hashi-vault-js, node-vault without `noCustomHTTPVerbs`); Go's api sends the same request as
 * `GET ...?list=true`. Node's HTTP parser (llhttp) knows no LIST method and refuses the
 * request before a server sees it, so such clients could not list at all.
 *
 * The refused request still reaches the server's client-error handler with the bytes the
 * parser read. When those bytes are one whole LIST request (request line and headers, no
 * body: a LIST has none), it is answered as the `GET` with `list=true` that it means, through
 * Fastify's `inject` with the connection's address, so every hook (authentication, rate
 * limits, audit) runs as for any request; the answer is written on the connection, which is
 * then closed (the parser cannot go on after its error). Anything else stays a 400.
 */
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { FastifyInstance } from "fastify";

/** Header lines a LIST request may have at most. */
const MAX_HEADERS = 100;

/** Response headers not copied from the injected answer (the connection's own are written). */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "content-length"]);

export interface ListRequest {
  /** The target with `list=true` added to its query. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * The GET that `raw` (bytes Node's parser refused) means, when it is exactly one whole LIST
 * request; otherwise undefined.
 *
 * @example
 *   listRequestOf(Buffer.from("LIST /v1/secret/metadata/app HTTP/1.1\r\nX-Vault-Token: t\r\n\r\n"))
 *   // { url: "/v1/secret/metadata/app?list=true", headers: { "x-vault-token": "t" } }
 */
export function listRequestOf(raw: Buffer | undefined): ListRequest | undefined {
  if (raw === undefined || raw.length < 16 || raw.subarray(0, 5).toString("latin1") !== "LIST ")
    return undefined;
  const end = raw.indexOf("\r\n\r\n");
  // Whole, and nothing after it: a LIST has no body, and a pipelined request is not ours to guess.
  if (end === -1 || end + 4 !== raw.length) return undefined;
  const lines = raw.subarray(0, end).toString("latin1").split("\r\n");
  const m = /^LIST (\/[\x21-\x7e]*) HTTP\/1\.[01]$/.exec(lines[0] ?? "");
  if (m === null || lines.length - 1 > MAX_HEADERS) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const h = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (h === null) return undefined;
    const name = h[1]!.toLowerCase();
    // eslint-disable-next-line no-control-regex -- a header value with control characters is malformed.
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(h[2]!)) return undefined;
    headers[name] = name in headers ? `${headers[name]}, ${h[2]!}` : h[2]!;
  }
  // A body announced but not here is a request we cannot answer whole.
  if ("transfer-encoding" in headers || (headers["content-length"] ?? "0") !== "0") return undefined;
  const target = m[1]!;
  const url = `${target}${target.includes("?") ? "&" : "?"}list=true`;
  return { url, headers };
}

/**
 * Answers `raw` on `socket` as the GET it means if it is a LIST request (see the file
 * comment); false, having done nothing, when it is not one.
 *
 * @example
 *   if (answerListVerb(app, e.rawPacket, socket)) return;
 */
export function answerListVerb(app: FastifyInstance, raw: Buffer | undefined, socket: Duplex): boolean {
  const list = listRequestOf(raw);
  if (list === undefined) return false;
  const remoteAddress = (socket as Partial<Socket>).remoteAddress ?? "127.0.0.1";
  void app.inject({ method: "GET", url: list.url, headers: list.headers, remoteAddress }).then(
    (res) => {
      if (!socket.writable) return;
      const head = [`HTTP/1.1 ${res.statusCode} ${STATUS_CODES[res.statusCode] ?? ""}`];
      for (const [name, value] of Object.entries(res.headers)) {
        if (HOP_BY_HOP.has(name.toLowerCase()) || value === undefined) continue;
        for (const v of Array.isArray(value) ? value : [value]) head.push(`${name}: ${String(v)}`);
      }
      head.push(`content-length: ${res.rawPayload.length}`, "connection: close");
      socket.write(`${head.join("\r\n")}\r\n\r\n`);
      socket.end(res.rawPayload);
    },
    () => socket.destroy(),
  );
  return true;
}

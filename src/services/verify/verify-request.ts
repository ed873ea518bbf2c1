import { createHash, createHmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import type { VerifySpec } from "../../detect/verify.ts";

/** A request ready for `fetch`. Holds the secret in a header: never log or print it. */
export interface PreparedRequest {
  readonly url: string;
  readonly method: "GET" | "POST";
  readonly headers: Record<string, string>;
  readonly body?: string;
}

const USER_AGENT = "keywarden-verify";

/** node:crypto behind the hash interface @smithy/signature-v4 expects (HMAC when keyed). */
class NodeSha256 {
  readonly #hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;

  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash =
      secret === undefined
        ? createHash("sha256")
        : createHmac("sha256", typeof secret === "string" ? secret : toBuffer(secret));
  }

  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(typeof data === "string" ? data : toBuffer(data));
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }
}

function toBuffer(data: ArrayBuffer | ArrayBufferView): Buffer {
  return ArrayBuffer.isView(data)
    ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    : Buffer.from(data);
}

/** Fills `{name}` placeholders; `encode` URL-encodes values (paths), hosts are taken as found. */
function fill(template: string, values: Readonly<Record<string, string>>, encode: boolean): string {
  return template.replace(/\{([A-Za-z]+)\}/g, (whole, name: string) => {
    const v = values[name];
    if (v === undefined) return whole;
    return encode ? encodeURIComponent(v) : v;
  });
}

/**
 * Builds the one request a spec describes, for a secret and the inputs found for it. The
 * base URL is the configured one when set, else the spec's default.
 *
 * @example
 *   const req = await prepareRequest(spec, "https://api.github.com", secret.reveal(), {});
 *   await fetch(req.url, { method: req.method, headers: req.headers, body: req.body });
 */
export async function prepareRequest(
  spec: VerifySpec,
  baseUrl: string,
  secret: string,
  inputs: Readonly<Record<string, string>>,
): Promise<PreparedRequest> {
  // Hosts from the text (a Shopify shop) were matched by a strict pattern, so they are safe.
  const base = fill(baseUrl, inputs, false).replace(/\/+$/, "");
  const url = new URL(base + fill(spec.path, inputs, true));
  const headers: Record<string, string> = { "user-agent": USER_AGENT, ...spec.headers };
  if (spec.body !== undefined) headers["content-type"] = spec.body.contentType;
  const body = spec.body?.text;
  const auth = spec.auth;
  switch (auth.kind) {
    case "bearer":
      headers.authorization = `${auth.scheme ?? "Bearer"} ${secret}`;
      break;
    case "header":
      headers[auth.name] = secret;
      break;
    case "basic": {
      const values = { ...inputs, secret };
      const pair = `${fill(auth.username, values, false)}:${fill(auth.password, values, false)}`;
      headers.authorization = `Basic ${Buffer.from(pair).toString("base64")}`;
      break;
    }
    case "aws-sigv4": {
      const accessKeyId = inputs.accessKeyId;
      if (accessKeyId === undefined) throw new Error("aws-sigv4 needs the accessKeyId input");
      const signer = new SignatureV4({
        service: auth.service,
        region: auth.region,
        credentials: { accessKeyId, secretAccessKey: secret },
        sha256: NodeSha256,
      });
      const query: Record<string, string> = {};
      for (const [k, v] of url.searchParams) query[k] = v;
      const signed = await signer.sign({
        method: spec.method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port === "" ? {} : { port: Number(url.port) }),
        path: url.pathname,
        query,
        headers: { ...headers, host: url.host },
        ...(body === undefined ? {} : { body }),
      });
      // fetch sets Host itself; the signed value is the same url.host.
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(signed.headers)) if (k.toLowerCase() !== "host") out[k] = v;
      return {
        url: url.toString(),
        method: spec.method,
        headers: out,
        ...(body === undefined ? {} : { body }),
      };
    }
  }
  return { url: url.toString(), method: spec.method, headers, ...(body === undefined ? {} : { body }) };
}

/**
 * A local OpenID Connect issuer for tests, speaking what GitHub Actions' issuer serves: a
 * discovery document at /.well-known/openid-configuration, its keys at /jwks, and JWTs signed
 * at run time with keys made at run time (RS256), with GitHub's claims. It counts what it is
 * asked, can rotate its key, and can go down (503); over HTTPS when given a certificate (one no
 * public CA signed, as a self-hosted GitLab's may be).
 */
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createServer, type RequestListener } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { TestContext } from "node:test";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";

interface Key {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

export interface TestIssuer {
  /** `http://127.0.0.1:<port>`: what its JWTs carry as `iss`. */
  readonly url: string;
  /** How many times each document was fetched. */
  readonly fetched: { discovery: number; jwks: number };
  /** A JWT with GitHub Actions' claims for `repository` and `ref`, overridden by `claims`. */
  sign(options: SignOptions): Promise<string>;
  /** A new signing key, published beside the old ones; later JWTs use it. */
  rotate(): Promise<void>;
  /** A key this issuer never published, with a key id of its own or of the current key. */
  foreignKey(sameKid: boolean): Promise<Key>;
  /** While true, both documents answer 503. */
  down: boolean;
}

export interface SignOptions {
  /** Seconds since the epoch the JWT counts from (iat, nbf; exp is 5 minutes later). */
  readonly now: number;
  readonly audience?: string;
  readonly issuer?: string;
  readonly claims?: Record<string, unknown>;
  readonly expiresIn?: number;
  /** Signed with this key instead of the issuer's current one. */
  readonly key?: Key;
}

async function newKey(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" } };
}

/**
 * @example
 *   const issuer = await startIssuer(t);
 *   const jwt = await issuer.sign({ now, claims: { repository: "acme/payments" } });
 */
export async function startIssuer(
  t: TestContext,
  options: { tls?: { readonly cert: string; readonly key: string } } = {},
): Promise<TestIssuer> {
  const keys: Key[] = [await newKey("key-1")];
  const fetched = { discovery: 0, jwks: 0 };
  let url = "";
  const state = { down: false };
  const handler: RequestListener = (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (state.down) {
      send(503, { message: "unavailable" });
      return;
    }
    if (req.url === "/.well-known/openid-configuration") {
      fetched.discovery++;
      send(200, {
        issuer: url,
        jwks_uri: `${url}/jwks`,
        subject_types_supported: ["public", "pairwise"],
        response_types_supported: ["id_token"],
        claims_supported: ["sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "repository"],
        id_token_signing_alg_values_supported: ["RS256"],
        scopes_supported: ["openid"],
      });
      return;
    }
    if (req.url === "/jwks") {
      fetched.jwks++;
      send(200, { keys: keys.map((k) => k.jwk) });
      return;
    }
    send(404, { message: "not found" });
  };
  const server = options.tls === undefined ? createServer(handler) : createHttpsServer(options.tls, handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const scheme = options.tls === undefined ? "http" : "https";
  url = `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.after(
    () =>
      new Promise<void>((r) =>
        server.close(() => {
          r();
        }),
      ),
  );
  return {
    url,
    fetched,
    get down() {
      return state.down;
    },
    set down(v: boolean) {
      state.down = v;
    },
    async sign(o) {
      const key = o.key ?? keys.at(-1)!;
      const repository = "acme/payments";
      const ref = "refs/heads/main";
      return (
        new SignJWT({
          sub: `repo:${repository}:ref:${ref}`,
          repository,
          repository_owner: "acme",
          ref,
          workflow: "deploy",
          event_name: "push",
          run_id: "4242",
          ...o.claims,
        })
          .setProtectedHeader({ alg: "RS256", kid: key.kid, typ: "JWT" })
          .setIssuer(o.issuer ?? url)
          .setAudience(o.audience ?? "keywarden")
          .setIssuedAt(o.now)
          .setNotBefore(o.now)
          .setExpirationTime(o.now + (o.expiresIn ?? 300))
          // Every JWT its own, as GitHub's (a unique jti).
          .setJti(randomUUID())
          .sign(key.privateKey)
      );
    },
    async rotate() {
      keys.push(await newKey(`key-${keys.length + 1}`));
    },
    foreignKey(sameKid) {
      return newKey(sameKid ? keys.at(-1)!.kid : "foreign");
    },
  };
}

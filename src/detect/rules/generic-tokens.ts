import { createHmac } from "node:crypto";
import type { ExampleGen, Rule } from "../rule.ts";
import { isLikelyPassword, isLikelySecretValue } from "./generic-values.ts";

/* Provider-independent token formats: JSON Web Tokens and HTTP Authorization headers. */

function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  if (segment.length % 4 === 1) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A signed JWT: header and payload are base64url JSON objects, the header names a signing
 * algorithm other than `none`, and the signature is well-formed base64url.
 *
 * @example
 *   isSignedJwt(header + "." + payload + "." + signature) // true for {"alg":"HS256"}
 */
export function isSignedJwt(token: string): boolean {
  const [header, payload, signature] = token.split(".");
  if (header === undefined || payload === undefined || signature === undefined || signature.length % 4 === 1)
    return false;
  const h = decodeJsonObject(header);
  if (h === undefined || typeof h.alg !== "string" || h.alg.toLowerCase() === "none") return false;
  if (decodeJsonObject(payload) === undefined) return false;
  return !signedWithDocumentationSecret(`${header}.${payload}`, h.alg, signature);
}

/** HMAC secrets of tutorials and jwt.io: a token signed with one is an example, not a leak. */
const DOCUMENTATION_HMAC_SECRETS = [
  "secret",
  "your-256-bit-secret",
  "your-384-bit-secret",
  "your-512-bit-secret",
  "key",
  "test",
  "changeme",
  "mysecret",
  "supersecret",
  "shhhhh",
  "secretkey",
  "secret-key",
  "my_secret",
  "jwt_secret",
];

function signedWithDocumentationSecret(signingInput: string, alg: string, signature: string): boolean {
  const hash = { HS256: "sha256", HS384: "sha384", HS512: "sha512" }[alg];
  if (hash === undefined) return false;
  return DOCUMENTATION_HMAC_SECRETS.some(
    (k) => createHmac(hash, k).update(signingInput).digest("base64url") === signature,
  );
}

function b64url(json: string): string {
  return Buffer.from(json, "utf8").toString("base64url");
}

/** A signed JWT with a plausible header and claims, built from the generator. */
function jwt(gen: ExampleGen): string {
  const alg = gen.pick(["HS256", "RS256", "ES256"]);
  const header = b64url(
    JSON.stringify({ alg, typ: "JWT", ...(alg === "HS256" ? {} : { kid: gen.hex(16) }) }),
  );
  const iat = gen.int(1_650_000_000, 1_760_000_000);
  const claims = {
    sub: gen.uuid(),
    iss: `https://auth.${gen.lowerAlnum(6)}.io/`,
    iat,
    exp: iat + 3600,
    scope: "read write",
  };
  const sigBytes = alg === "HS256" ? 32 : alg === "ES256" ? 64 : 256;
  return `${header}.${b64url(JSON.stringify(claims))}.${gen.base64url(Math.ceil((sigBytes * 4) / 3))}`;
}

/** The `user:password` inside a Basic credential is a real one (or a bare API key as user). */
function isBasicCredential(encoded: string): boolean {
  if (encoded.length % 4 !== 0) return false;
  const text = Buffer.from(encoded, "base64").toString("latin1");
  if (!/^[\x20-\x7e]{3,300}$/.test(text)) return false;
  const colon = text.indexOf(":");
  if (colon <= 0) return false;
  const user = text.slice(0, colon);
  const password = text.slice(colon + 1);
  if (password.length === 0) return user.length >= 16 && isLikelySecretValue(user);
  return password.length >= 6 && isLikelyPassword(password);
}

const AUTHORIZATION = String.raw`authorization["']?[ \t]{0,3}[:=,][ \t]{0,3}["']?[ \t]{0,3}`;
const OWASP_SECRETS = "https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html";

export const tokenRules: readonly Rule[] = [
  {
    id: "jwt-token",
    provider: "JWT",
    description:
      "Signed JSON Web Token (eyJ header . eyJ payload . signature) whose header and payload decode to JSON objects.",
    keywords: ["eyj"],
    pattern: /\beyJ[A-Za-z0-9_-]{10,2000}\.eyJ[A-Za-z0-9_-]{10,10000}\.[A-Za-z0-9_-]{16,2000}/,
    secretGroup: 0,
    entropy: 3,
    validate: isSignedJwt,
    severity: "medium",
    remediation:
      "Treat the token as stolen until it expires: revoke the session or refresh token at the issuer, and if it is long-lived or the signing key leaked too, rotate the signing key (which invalidates every token it signed) and store the new key in a vault.",
    docs: "https://datatracker.ietf.org/doc/html/rfc8725",
    // Providers whose keys are JWTs (Supabase, ...) report them under their own rule.
    generic: true,
    examples: {
      positives: (gen) => {
        const [a, b, c] = [jwt(gen), jwt(gen), jwt(gen)];
        return [
          { text: `curl -H "Authorization: Bearer ${a}" https://api.corp.lan/v1/me`, secret: a },
          { text: `{"access_token": "${b}", "token_type": "Bearer", "expires_in": 3600}`, secret: b },
          { text: `here is the token from staging: ${c}. it still works`, secret: c },
        ];
      },
      negatives: [
        // alg "none", empty signature.
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxMjM0NTY3ODkwIn0.",
        "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...",
        "eyJxxxxxxxxxxxxxxxx.eyJxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxx",
      ],
    },
  },
  {
    id: "generic-authorization-basic",
    provider: "Generic",
    description:
      "HTTP Basic credentials in an Authorization header (Authorization: Basic base64(user:password)).",
    keywords: ["authorization"],
    pattern: new RegExp(String.raw`${AUTHORIZATION}basic[ \t]{1,3}([A-Za-z0-9+/]{8,400}={0,2})`, "i"),
    secretGroup: 1,
    entropy: 3,
    validate: isBasicCredential,
    severity: "high",
    remediation:
      "Change the password (or revoke the API key used as the user name) at the service the header is sent to, send credentials from a vault or the environment instead of hard-coding the header, and store the new secret in a vault.",
    docs: OWASP_SECRETS,
    generic: true,
    examples: {
      positives: (gen) => {
        const a = Buffer.from(`svc-reports:${gen.alnum(18)}`).toString("base64");
        const b = Buffer.from(`${gen.alnum(32)}:`).toString("base64");
        return [
          { text: `curl -H "Authorization: Basic ${a}" https://jira.corp.lan/rest/api/2/search`, secret: a },
          { text: `headers = {"Authorization": "Basic ${b}"}`, secret: b },
        ];
      },
      negatives: [
        // base64("username:password") and base64("user:pass").
        "Authorization: Basic dXNlcm5hbWU6cGFzc3dvcmQ=",
        "Authorization: Basic dXNlcjpwYXNz",
        "Authorization: Basic <base64-credentials>",
      ],
    },
  },
  {
    id: "generic-authorization-bearer",
    provider: "Generic",
    description:
      "Opaque bearer token in an Authorization header (Authorization: Bearer <token>); JWTs are left to jwt-token.",
    keywords: ["authorization"],
    pattern: new RegExp(String.raw`${AUTHORIZATION}bearer[ \t]{1,3}([A-Za-z0-9._~+/-]{16,1000}={0,2})`, "i"),
    secretGroup: 1,
    entropy: 3.5,
    validate: (token) => !token.startsWith("eyJ") && isLikelySecretValue(token),
    severity: "medium",
    remediation:
      "Revoke the token at its issuer (the service's token or OAuth app settings), issue a new one with the least scope needed and store it in a vault; never paste live tokens into scripts, docs or tickets.",
    docs: "https://datatracker.ietf.org/doc/html/rfc6750#section-5",
    generic: true,
    examples: {
      positives: (gen) => {
        const a = gen.alnum(40);
        const b = `${gen.base64url(24)}.${gen.base64url(32)}`;
        return [
          {
            text: `curl -s -H 'Authorization: Bearer ${a}' https://internal.corp.lan/api/v2/jobs`,
            secret: a,
          },
          { text: `  -H "authorization: bearer ${b}" \\`, secret: b },
        ];
      },
      negatives: [
        "Authorization: Bearer YOUR_ACCESS_TOKEN",
        "Authorization: Bearer $TOKEN",
        'headers: { Authorization: "Bearer " + token }',
      ],
    },
  },
];

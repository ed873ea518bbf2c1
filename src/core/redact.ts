/**
 * Masking and redaction: the only way a secret may appear in output without --show-secrets.
 */

const MASK = "****";

/**
 * Masks a secret for display: the first 4 and last 2 characters of a value of 12 or more
 * characters, nothing of a shorter one.
 *
 * @example
 *   maskSecret("sk_live_abcdefghijklmnop") // "sk_l****op"
 *   maskSecret("hunter2")                  // "****"
 */
export function maskSecret(value: string): string {
  const chars = Array.from(value);
  if (chars.length < 12) return MASK;
  return `${chars.slice(0, 4).join("")}${MASK}${chars.slice(-2).join("")}`;
}

/**
 * Replaces every occurrence of each secret in `text` by its mask.
 *
 * @example
 *   redactText("token=abc123abc123xyz", ["abc123abc123xyz"]) // "token=abc1****yz"
 */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (s.length === 0) continue;
    out = out.split(s).join(maskSecret(s));
  }
  return out;
}

/** Query parameters whose values are credentials (libpq's `password`, `sslpassword`, API tokens, ...). */
const SECRET_PARAM = /pass|pwd|secret|token|key|auth|credential|signature/i;

/**
 * Masks the credentials of a URL: the password of its user info
 * (`postgres://user:pass@host/db`) and the values of query parameters named like credentials
 * (`?password=...`, which libpq and node-postgres read too).
 *
 * @example
 *   redactUrl("postgres://app:s3cret@db/app") // "postgres://app:****@db/app"
 *   redactUrl("postgres://app@db/app?password=s3cret&sslmode=require") // "postgres://app@db/app?password=****&sslmode=require"
 */
export function redactUrl(value: string): string {
  const withoutPassword = value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@\s]*@/i, `$1:${MASK}@`);
  return withoutPassword.replace(/([?&])([^=&#\s]*)=([^&#\s]*)/g, (whole, sep: string, name: string) =>
    SECRET_PARAM.test(decodeName(name)) ? `${sep}${name}=${MASK}` : whole,
  );
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

/** Field names whose values are secrets wherever they appear in logged objects. */
export const SECRET_FIELD_NAMES = Object.freeze([
  "secret",
  "password",
  "passphrase",
  "token",
  "apiKey",
  "value",
  "authorization",
  "cookie",
  "privateKey",
  "dataKey",
  "kek",
]);

/**
 * An error's message or stack without the value Node's argument checks quote ("... must be a
 * string without null bytes. Received 'x'"), which may be a secret. Only the rest of that
 * line goes; a stack's frames stay.
 *
 * @example
 *   unquoted("The property 'env' is invalid. Received 'sk_live_...'") // "The property 'env' is invalid"
 */
export function unquoted(text: string): string {
  return text.replace(/\.? Received [^\n]*/, "");
}

/**
 * Why text did not parse, without the text. JSON.parse quotes up to ten characters of its
 * input, and smol-toml a frame of the lines around the fault, and the input may hold a secret
 * (a .env file passed where a baseline or a policy was expected). Only the position is kept.
 *
 * @example
 *   parseFailure(e, "JSON") // "not valid JSON (line 1, column 9)"
 */
export function parseFailure(e: unknown, format: "JSON" | "TOML"): string {
  const message = e instanceof Error ? e.message : String(e);
  const { line, column } = (typeof e === "object" && e !== null ? e : {}) as {
    line?: unknown;
    column?: unknown;
  };
  if (typeof line === "number" && typeof column === "number")
    return `not valid ${format} (line ${line}, column ${column})`;
  const at = /line (\d+) column (\d+)/.exec(message);
  if (at !== null) return `not valid ${format} (line ${at[1]}, column ${at[2]})`;
  if (/unexpected end/i.test(message)) return `not valid ${format} (it ends too early)`;
  return `not valid ${format}`;
}

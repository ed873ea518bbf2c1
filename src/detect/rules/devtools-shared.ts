import { githubChecksum } from "../checksum.ts";
import type { PositiveExample } from "../rule.ts";

/*
 * Building blocks shared by the devtools-*.ts rule files. Every piece is bounded (no `*`,
 * `+` or `{n,}`) so that the patterns assembled from them stay linear on adversarial input.
 */

/**
 * A lowercase UUID (any version), as used by many providers for prefix-less keys.
 *
 * @example
 *   new RegExp(`GenieKey (${UUID})`)
 */
export const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

/**
 * A left boundary without lookbehind (which the pattern checker refuses): the start of the
 * scanned window or one character that is not a letter or digit.
 *
 * @example
 *   new RegExp(`${START}rollbar`, "i")
 */
export const START = "(?:^|[^A-Za-z0-9])";

/**
 * An assignment between a key name and its value: `=`, `:`, `:=`, `=>`, with optional quotes
 * and spaces, or plain whitespace (`--key VALUE`, `add-authtoken VALUE`).
 *
 * @example
 *   new RegExp(`splunk_token${ASSIGN}(${UUID})`, "i")
 */
export const ASSIGN = String.raw`['"\x60]?(?:\s{0,3}[:=]{1,2}>?\s{0,3}|\s{1,3})['"\x60]?`;

export interface NearOptions {
  /** Alternation naming the provider, e.g. `datadog|dd[_.-]`. Must hold a keyword. */
  readonly context: string;
  /** Alternation for the key name that follows the context, e.g. `api[_.-]?key`. */
  readonly name: string;
  /** The value's shape; it becomes capture group 1. */
  readonly value: string;
  /**
   * How the context may be separated from the key name: `tight` allows only identifier
   * characters (`DD_API_KEY`), `line` allows up to 40 characters of the same line
   * (`Rollbar.init({ accessToken: ...`). Default `line`.
   */
  readonly gap?: "tight" | "line";
  /** Regex flags; default `i` because key names come in every case. */
  readonly flags?: string;
}

/**
 * A pattern for a prefix-less key assigned to a name that mentions the provider, such as
 * `DATADOG_API_KEY = "<32 hex>"` or `bugsnag.start({ apiKey: "<32 hex>" })`. The secret is
 * group 1 and must not continue into further word characters or dashes.
 *
 * @example
 *   assignedNear({ context: "rollbar", name: "token", value: "[a-f0-9]{32}" })
 */
export function assignedNear(o: NearOptions): RegExp {
  const gap = o.gap === "tight" ? String.raw`[\w.-]{0,20}` : String.raw`[^\n]{0,40}?`;
  return new RegExp(
    String.raw`${START}(?:${o.context})${gap}(?:${o.name})\w{0,12}${ASSIGN}(${o.value})(?![\w-])`,
    o.flags ?? "i",
  );
}

/**
 * Builds positives by placing one freshly generated secret in each template.
 *
 * @example
 *   place(() => "ghp_" + gen.alnum(36), [(s) => `GITHUB_TOKEN=${s}`])
 */
export function place(
  make: () => string,
  templates: readonly ((secret: string) => string)[],
): PositiveExample[] {
  return templates.map((t) => {
    const secret = make();
    return { text: t(secret), secret };
  });
}

/**
 * Appends the 6-character base62 CRC32 checksum to `prefix + random`, the way GitHub and
 * npm build their tokens.
 *
 * @example
 *   withCrc32("ghp_", gen.alnum(30)) // "ghp_" + 30 random + 6 checksum
 */
export function withCrc32(prefix: string, random: string): string {
  return prefix + random + githubChecksum(prefix + random);
}

/**
 * Checks the trailing 6-character base62 CRC32 of a GitHub-style token (`<prefix>_` + 30
 * random + 6 checksum, as used by GitHub and npm). Published descriptions disagree on
 * whether the prefix is part of the checksummed body, so either is accepted; the chance
 * that a random string passes stays about 2 in 2^32.
 *
 * @example
 *   hasCrc32Suffix("npm_" + random30 + checksum) // true
 */
export function hasCrc32Suffix(token: string): boolean {
  const cut = token.lastIndexOf("_") + 1;
  const rest = token.slice(cut);
  if (cut === 0 || rest.length !== 36) return false;
  const random = rest.slice(0, 30);
  const sum = rest.slice(30);
  return githubChecksum(token.slice(0, cut) + random) === sum || githubChecksum(random) === sum;
}

/**
 * Whether `encoded` is base64 (standard or URL-safe) of a JSON object holding every one of
 * `fields`: Sentry org tokens and Grafana API keys carry such a payload.
 *
 * @example
 *   isBase64Json(Buffer.from('{"k":"x"}').toString("base64"), ["k"]) // true
 */
export function isBase64Json(encoded: string, fields: readonly string[]): boolean {
  const text = Buffer.from(encoded, "base64").toString("utf8");
  if (!text.startsWith("{")) return false;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null) return false;
    return fields.every((f) => f in parsed);
  } catch {
    return false;
  }
}

/** Standard base64 of a UTF-8 string, for building payload-carrying examples. */
export function b64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

/** URL-safe base64 without padding of a UTF-8 string (JWT segments). */
export function b64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}

/**
 * A pattern for a distinctive but prefix-poor value that must follow the provider's name on
 * the same line, within 80 characters: `notion = Client(auth="secret_...")`. The secret is
 * group 1, bounded on both sides.
 *
 * @example
 *   onLineAfter("asana", "[0-2]/[0-9]{16}:[A-Za-z0-9]{32}")
 */
export function onLineAfter(context: string, value: string, flags = "i"): RegExp {
  return new RegExp(String.raw`${START}(?:${context})[^\n]{0,80}?[^\w\n-](${value})(?![\w-])`, flags);
}

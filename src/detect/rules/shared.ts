import { createHash } from "node:crypto";
import { shannonEntropy } from "../entropy.ts";
import type { ExampleGen, PositiveExample, Rule, Severity, Validator } from "../rule.ts";
import type { VerifySpec } from "../verify.ts";

/*
 * What the provider rule files (cloud-*, devtools-*, saas-*) build their rules from: pattern
 * building blocks, pattern builders, validators and example builders. Every pattern piece is
 * bounded (no `*`, `+` or `{n,}`) and no quantified group holds a quantifier, so the patterns
 * composed from them stay linear on adversarial input. Checksums live in ../checksum.ts.
 */

// Building blocks -------------------------------------------------------------------------

/**
 * A left boundary without lookbehind (which the pattern checker refuses): the start of the
 * scanned window or one character that is not a letter or digit.
 *
 * @example
 *   new RegExp(`${START}rollbar`, "i")
 */
export const START = "(?:^|[^A-Za-z0-9])";

/**
 * A lowercase UUID (any version), as used by many providers for prefix-less keys.
 *
 * @example
 *   new RegExp(`GenieKey (${UUID})`)
 */
export const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

/**
 * A JSON Web Token: three base64url parts, the header and payload being JSON objects.
 *
 * @example
 *   near({ context: anyCase("calendly"), value: JWT, flags: "" })
 */
export const JWT = String.raw`eyJ[A-Za-z0-9_-]{10,1000}\.eyJ[A-Za-z0-9_-]{10,3000}\.[A-Za-z0-9_-]{20,1000}`;

/**
 * After a token: it must not continue with another token character.
 *
 * @example
 *   new RegExp(String.raw`\b(rnd_[A-Za-z0-9]{32})${END_TOKEN}`)
 */
export const END_TOKEN = String.raw`(?![A-Za-z0-9_-])`;

/**
 * After a base64 value (standard or URL-safe): it must not continue with a base64 character.
 *
 * @example
 *   assigned({ context: "lightstep", value: "[A-Za-z0-9+/]{32,200}={0,2}", end: END_BASE64 })
 */
export const END_BASE64 = String.raw`(?![A-Za-z0-9+/=_-])`;

/**
 * An assignment between a key name and its value: the name's closing quotes or bracket, then
 * `=`, `:`, `:=`, `=>` (or `==`) with up to three spaces around it, then opening quotes.
 *
 * @example
 *   new RegExp(String.raw`aws_session_token${ASSIGN}([A-Za-z0-9/+]{100,2000})`, "i")
 */
export const ASSIGN = String.raw`['"\x60\]]{0,2}\s{0,3}[:=]{1,2}>?\s{0,3}['"\x60]{0,2}`;

/**
 * Like ASSIGN, but whitespace alone also separates the name from the value, as a command-line
 * argument does (`--token VALUE`, `snyk auth VALUE`).
 *
 * @example
 *   new RegExp(String.raw`${START}splunk\w{0,12}${ASSIGN_OR_SPACE}(${UUID})`, "i")
 */
export const ASSIGN_OR_SPACE = String.raw`(?:${ASSIGN}|['"\x60]?\s{1,3}['"\x60]?)`;

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * An alternation of each literal as written, in lowercase, in uppercase, capitalised and
 * camel-cased (`sparkPost` from `SparkPost`): the usual spellings of a provider's name in
 * variable names, for patterns without the `i` flag (which would also make the key's own
 * alphabet case-insensitive).
 *
 * @example
 *   anyCase("mailgun") // "(?:mailgun|MAILGUN|Mailgun)"
 */
export function anyCase(...words: readonly string[]): string {
  const forms = new Set<string>();
  for (const w of words) {
    forms.add(w);
    forms.add(w.toLowerCase());
    forms.add(w.toUpperCase());
    forms.add(w.charAt(0).toUpperCase() + w.slice(1).toLowerCase());
    forms.add(w.charAt(0).toLowerCase() + w.slice(1));
  }
  return `(?:${[...forms].map(escapeRegExp).join("|")})`;
}

/**
 * The word `secret` in any of the usual spellings, for key names without the `i` flag.
 *
 * @example
 *   assigned({ context: `${anyCase("spotify")}[\\w.-]{0,20}${SECRET_WORD}`, value: "[a-f0-9]{32}", flags: "" })
 */
export const SECRET_WORD = anyCase("secret");

/**
 * The words `key`, `token` and `secret` in any of the usual spellings.
 *
 * @example
 *   assigned({ context: `${anyCase("zoom")}[\\w.-]{0,20}${KEY_WORD}`, value: "[A-Za-z0-9]{32}", flags: "" })
 */
export const KEY_WORD = anyCase("key", "token", "secret");

// Pattern builders ------------------------------------------------------------------------

/**
 * A token recognised by its own prefix, anywhere: `<prefix><body>` as group 1, starting at a
 * word boundary and not continuing into further token characters.
 *
 * @example
 *   prefixed("gsk_", "[A-Za-z0-9]{52}") // /\b(gsk_[A-Za-z0-9]{52})(?![A-Za-z0-9_-])/
 */
export function prefixed(prefix: string, body: string, end = END_TOKEN): RegExp {
  return new RegExp(String.raw`\b(${prefix}${body})${end}`);
}

const STYLES = {
  key: { start: "", gap: String.raw`[\w.-]{0,20}`, assign: ASSIGN },
  argument: { start: START, gap: String.raw`[\w.-]{0,20}`, assign: ASSIGN_OR_SPACE },
  line: { start: START, gap: String.raw`[^\n]{0,40}?`, assign: ASSIGN_OR_SPACE },
} as const;

/**
 * What `assigned` builds a pattern from.
 *
 * @example
 *   const o: AssignedOptions = { context: "vultr", name: "key|token", value: "[A-Z0-9]{36}" };
 */
export interface AssignedOptions {
  /** Alternation naming the provider, e.g. `datadog|dd[_.-]`. Must hold one of the keywords. */
  readonly context: string;
  /**
   * Alternation for the credential word that ends the key name, e.g. `api[_.-]?key`, up to 20
   * name characters after the context (`DD_API_KEY`). Without it, up to 30 name characters
   * may follow the context (`MAILGUN_PRIVATE_API_KEY`).
   */
  readonly name?: string;
  /** The value's shape; it becomes capture group 1. */
  readonly value: string;
  /**
   * Where the context and the assignment may be. `key` (default): the key name holds the
   * context, an operator assigns (`DD_API_KEY = ...`). `argument`: the same, but the context
   * starts a word and whitespace alone may also assign (`--circle-token VALUE`). `line`: the
   * context starts a word up to 40 characters before the name on the same line, and whitespace
   * may assign (`Rollbar.init({ accessToken: ...`, `codecov -t VALUE`).
   */
  readonly style?: keyof typeof STYLES;
  /** Matched just before the value but kept out of the group (Twitch's `oauth:`). */
  readonly prefix?: string;
  /** What must not follow the value. Default END_TOKEN. */
  readonly end?: string;
  /**
   * Regex flags; default `i`, since key names come in every case. Pass `""` to keep the
   * value's alphabet case-sensitive, spelling the context with anyCase.
   */
  readonly flags?: string;
}

/**
 * A prefix-less key assigned to a name that mentions the provider:
 * `<context>[<gap><name>]<rest of the name><assignment><value>`, such as
 * `DATADOG_API_KEY = "..."`, `mailgunKey: '...'` or `codecov -t ...`. The value is
 * group 1.
 *
 * @example
 *   assigned({ context: "rollbar", name: "token|key", value: "[a-f0-9]{32}", style: "line" })
 */
export function assigned(o: AssignedOptions): RegExp {
  const style = STYLES[o.style ?? "key"];
  // A name word ends the key name (so `pat` does not match in `SNOWFLAKE_PATTERN`); a bare
  // context may be followed by any name characters (`_API_KEY`, `.client.token`).
  const name = o.name === undefined ? String.raw`[\w.-]{0,30}` : `${style.gap}(?:${o.name})`;
  return new RegExp(
    String.raw`${style.start}(?:${o.context})${name}${style.assign}${o.prefix ?? ""}(${o.value})${o.end ?? END_TOKEN}`,
    o.flags ?? "i",
  );
}

/**
 * What `near` builds a pattern from.
 *
 * @example
 *   const o: NearOptions = { context: `${START}notion`, value: "secret_[A-Za-z0-9]{43}", sameLine: true };
 */
export interface NearOptions {
  /** Alternation naming the provider. Must hold one of the keywords. */
  readonly context: string;
  /** The value's shape, distinctive on its own; it becomes capture group 1. */
  readonly value: string;
  /** How many characters may stand between the context and the value. Default 120. */
  readonly within?: number;
  /** The value must be on the context's line. Default false. */
  readonly sameLine?: boolean;
  /** What must not follow the value. Default END_TOKEN. */
  readonly end?: string;
  /** Regex flags; default `i` (see AssignedOptions.flags). */
  readonly flags?: string;
}

/**
 * A distinctive value that follows the provider's name within a few characters, starting at a
 * word boundary: for formats with a prefix or a structure of their own that still need the
 * name nearby (`Paystack(secret="sk_live_...")`, `notion = Client(auth="secret_...")`).
 *
 * @example
 *   near({ context: anyCase("mollie"), value: "live_[A-Za-z0-9]{30}", flags: "" })
 */
export function near(o: NearOptions): RegExp {
  const span = `${o.sameLine === true ? String.raw`[^\n]` : String.raw`[\s\S]`}{0,${o.within ?? 120}}?`;
  return new RegExp(String.raw`(?:${o.context})${span}\b(${o.value})${o.end ?? END_TOKEN}`, o.flags ?? "i");
}

// Rule factory ----------------------------------------------------------------------------

/**
 * What the token kinds of one provider share: their shape after the prefix, and defaults.
 *
 * @example
 *   const LANGSMITH: TokenFamily = { provider: "LangSmith", body: "[a-f0-9]{32}_[a-f0-9]{10}", ... };
 */
export interface TokenFamily {
  readonly provider: string;
  /** The token after its prefix, as a pattern: `[a-f0-9]{64}`. */
  readonly body: string;
  /** What must not follow the token. Default END_TOKEN. */
  readonly end?: string;
  /** Builds a body for examples. */
  readonly example: (gen: ExampleGen) => string;
  readonly entropy: number;
  /** Defaults for every kind; a kind may set its own. */
  readonly severity?: Severity;
  readonly remediation?: string;
  readonly docs?: string;
}

/**
 * One kind of a family's tokens, told apart by its prefix.
 *
 * @example
 *   prefixedRule(LANGSMITH, { id: "langsmith-service-key", prefix: "lsv2_sk_", description, lines, negatives })
 */
export interface TokenKind {
  readonly id: string;
  /** The literal prefix, also the rule's keyword (lowercased): `dor_v1_`. */
  readonly prefix: string;
  readonly description: string;
  readonly severity?: Severity;
  readonly remediation?: string;
  readonly docs?: string;
  /** One positive example per template, each with a freshly generated token. */
  readonly lines: readonly Template[];
  readonly negatives: readonly string[];
  readonly verify?: VerifySpec;
}

/**
 * The rule for one kind of a provider's prefixed tokens: the family gives the body, the
 * example generator and the shared fields, the kind its prefix, id and wording.
 *
 * @example
 *   const DIGITALOCEAN: TokenFamily = { provider: "DigitalOcean", body: "[a-f0-9]{64}", ... };
 *   prefixedRule(DIGITALOCEAN, { id: "digitalocean-oauth-refresh-token", prefix: "dor_v1_", ... })
 */
export function prefixedRule(family: TokenFamily, kind: TokenKind): Rule {
  const severity = kind.severity ?? family.severity;
  const remediation = kind.remediation ?? family.remediation;
  const docs = kind.docs ?? family.docs;
  if (severity === undefined || remediation === undefined || docs === undefined) {
    throw new Error(`rule ${kind.id}: severity, remediation and docs are needed`);
  }
  return {
    id: kind.id,
    provider: family.provider,
    description: kind.description,
    keywords: [kind.prefix.toLowerCase()],
    pattern: prefixed(escapeRegExp(kind.prefix), family.body, family.end),
    secretGroup: 1,
    entropy: family.entropy,
    severity,
    remediation,
    docs,
    ...(kind.verify === undefined ? {} : { verify: kind.verify }),
    examples: {
      positives: (gen) => place(() => kind.prefix + family.example(gen), kind.lines),
      negatives: kind.negatives,
    },
  };
}

// Validators ------------------------------------------------------------------------------

/**
 * Rejects the documentation key family (AWS's `AKIAIOSFODNN7EXAMPLE`, `...EXAMPLEKEY`):
 * those are published on purpose and are not leaks.
 *
 * @example
 *   notExample("AKIAIOSFODNN7EXAMPLE") // false
 */
export const notExample: Validator = (secret) => !/example/i.test(secret);

/**
 * A validator that rejects keys whose SHA-256 (hex) is in `hashes`: well-known public
 * development keys (Azurite, the Cosmos DB emulator) that ship in vendor documentation.
 * Only their hashes live here, so the repository holds no key-shaped literal.
 *
 * @example
 *   const v = notPublicKey(["0011cc25..."]); v(key)
 */
export function notPublicKey(hashes: readonly string[]): Validator {
  const known = new Set(hashes);
  return (secret) => !known.has(createHash("sha256").update(secret).digest("hex"));
}

/**
 * For secrets that are whole URLs (webhooks): the URL's entropy says little, so require
 * `min` bits per character in its last path segment, the random token.
 *
 * @example
 *   validate: lastSegmentEntropy(3)
 */
export function lastSegmentEntropy(min: number): Validator {
  return (secret) => shannonEntropy(secret.slice(secret.lastIndexOf("/") + 1)) >= min;
}

/**
 * Whether `encoded` is base64 (standard or URL-safe) of a JSON object holding every one of
 * `fields`: Sentry org tokens and Grafana API keys carry such a payload.
 *
 * @example
 *   isBase64Json(b64('{"k":"x"}'), ["k"]) // true
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

// Examples --------------------------------------------------------------------------------

/**
 * Where a secret goes in a realistic line (or lines) of text.
 *
 * @example
 *   const t: Template = (s) => `curl -H "Authorization: Bearer ${s}" https://api.example.com`;
 */
export type Template = (secret: string) => string;

/**
 * Templates for the usual ways a secret is assigned to a variable or key.
 *
 * @example
 *   place(() => gen.hex(32), [line.env("MAILGUN_API_KEY"), line.json("mailgunKey")])
 */
export const line = {
  env(name: string): Template {
    return (s) => `${name}=${s}`;
  },
  shell(name: string): Template {
    return (s) => `export ${name}="${s}"`;
  },
  json(name: string): Template {
    return (s) => `{\n  "${name}": "${s}",\n  "enabled": true\n}`;
  },
  yaml(name: string): Template {
    return (s) => `settings:\n  ${name}: ${s}\n`;
  },
  py(name: string): Template {
    return (s) => `${name} = "${s}"`;
  },
  js(name: string): Template {
    return (s) => `const ${name} = '${s}';`;
  },
  go(name: string): Template {
    return (s) => `\t${name} := "${s}"`;
  },
};

/**
 * Positive examples: one per template, each holding its own secret. `secrets` is either a
 * maker called once per template, or the secrets themselves, one per template in order (for
 * secrets of different shapes).
 *
 * @example
 *   place(() => `rnd_${gen.alnum(32)}`, [line.env("RENDER_API_KEY"), (s) => `Bearer ${s}`])
 *   place([gen.hex(20), gen.hex(32)], [line.env("CUSTOMERIO_API_KEY"), line.yaml("app_key")])
 */
export function place(
  secrets: (() => string) | readonly string[],
  templates: readonly Template[],
): PositiveExample[] {
  if (typeof secrets !== "function" && secrets.length !== templates.length) {
    throw new Error(`place: ${secrets.length} secrets for ${templates.length} templates`);
  }
  return templates.map((t, i) => {
    const secret = typeof secrets === "function" ? secrets() : secrets[i]!;
    return { text: t(secret), secret };
  });
}

/**
 * Examples for a rule that keys on a variable name: the secret assigned to `name` in a .env
 * line, in YAML (lowercase) and in JSON (camelCase); and, as negatives, placeholders for that
 * name (placeholderNegatives) and any `more`.
 *
 * @example
 *   examples: assignmentExamples("VULTR_API_KEY", (gen) => gen.upperAlnum(36))
 */
export function assignmentExamples(
  name: string,
  make: (gen: ExampleGen) => string,
  more: readonly string[] = [],
): Rule["examples"] {
  const lower = name.toLowerCase();
  const camel = lower.replace(/[_-]([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
  return {
    positives: (gen) => place(() => make(gen), [line.env(name), line.yaml(lower), line.json(camel)]),
    negatives: [...placeholderNegatives(name), ...more],
  };
}

/**
 * Negative lines for a variable name: an environment reference and a template hole.
 *
 * @example
 *   placeholderNegatives("VULTR_API_KEY") // ["VULTR_API_KEY=${VULTR_API_KEY}", ...]
 */
export function placeholderNegatives(name: string): string[] {
  const lower = name.toLowerCase();
  return [`${name}=\${${name}}`, `${lower}: "<your-${lower.replace(/_/g, "-")}-here>"`];
}

/**
 * Standard base64 of a UTF-8 string, for building payload-carrying examples.
 *
 * @example
 *   b64('{"k":"x"}') // "eyJrIjoieCJ9"
 */
export function b64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

/**
 * URL-safe base64 without padding of a UTF-8 string (JWT segments).
 *
 * @example
 *   b64url('{"alg":"HS256"}') // "eyJhbGciOiJIUzI1NiJ9"
 */
export function b64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}

/**
 * A structurally valid, unsigned-looking JWT built from the generator (for formats that are
 * JWTs behind a provider-specific variable name).
 *
 * @example
 *   fakeJwt(gen, { iss: "temporal" })
 */
export function fakeJwt(gen: ExampleGen, claims: Record<string, string | number>): string {
  const header = b64url(JSON.stringify({ alg: "ES256", kid: gen.alnum(12), typ: "JWT" }));
  const payload = b64url(
    JSON.stringify({ ...claims, jti: gen.uuid(), iat: gen.int(1_700_000_000, 1_760_000_000) }),
  );
  return `${header}.${payload}.${gen.base64url(86)}`;
}

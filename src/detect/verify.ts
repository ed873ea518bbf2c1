/**
 * Live verification specs: how to ask a provider, with ONE safe, read-only request, whether
 * a found credential still works. Pure data, declared next to each rule (`Rule.verify`); the
 * executor that sends the requests lives in src/services/verify/ (L3) and only runs when the
 * user opts in (`scan --verify` or `verify.enabled`).
 */

/**
 * The providers that have a verifier; also the keys of the `verify.baseUrls` config map.
 *
 * @example
 *   VERIFY_PROVIDERS.includes("github") // true
 */
export const VERIFY_PROVIDERS = [
  "aws",
  "github",
  "gitlab",
  "slack",
  "stripe",
  "openai",
  "anthropic",
  "sendgrid",
  "twilio",
  "mailgun",
  "npm",
  "huggingface",
  "datadog",
  "shopify",
  "discord",
] as const;

export type VerifyProvider = (typeof VERIFY_PROVIDERS)[number];

/** What verification concluded about one finding. */
export type VerifyStatus = "live" | "revoked" | "unknown";

/**
 * Where the secret goes in the request. Templates in `basic` use `{secret}` for the secret
 * and `{name}` for an input's value.
 */
export type VerifyAuth =
  /** `Authorization: <scheme> <secret>`; the scheme defaults to `Bearer`. */
  | { readonly kind: "bearer"; readonly scheme?: string }
  /** `<name>: <secret>` */
  | { readonly kind: "header"; readonly name: string }
  /** HTTP basic authentication built from two templates. */
  | { readonly kind: "basic"; readonly username: string; readonly password: string }
  /**
   * AWS Signature Version 4: the secret is the secret access key, and the input named
   * `accessKeyId` is its access key id. The secret itself never goes over the wire.
   */
  | { readonly kind: "aws-sigv4"; readonly service: string; readonly region: string };

/**
 * A value the request needs besides the secret, found at scan time: either another finding
 * of `rule` in the same file (the nearest one, for key pairs), or the first group of `near`
 * matched in the text around the secret (identifiers such as a Twilio account SID).
 */
export interface VerifyInput {
  readonly name: string;
  /** Said in the `unknown` reason when the value is missing: "no {label} near the secret". */
  readonly label: string;
  readonly rule?: string;
  /** Group 1 is the value. Must not use the `g` or `y` flag. */
  readonly near?: RegExp;
  /** Characters searched on each side of the secret for `near`; default 1000. */
  readonly window?: number;
  /** Only values matching this are used (e.g. long-term AWS key ids). */
  readonly accept?: RegExp;
}

/** One way to read a response; the first outcome whose status and body both match wins. */
export interface VerifyOutcome {
  readonly status: readonly number[];
  /** A dotted path into the JSON body whose value must be one of `oneOf`. */
  readonly json?: { readonly path: string; readonly oneOf: readonly (string | number | boolean)[] };
  /** A pattern the raw body must match (used for XML errors and free-text messages). */
  readonly body?: RegExp;
  readonly result: VerifyStatus;
  /** For `unknown`: a short, non-secret reason. */
  readonly reason?: string;
}

/**
 * One provider call. The `baseUrl` is the provider's default, overridable per provider in
 * config (`verify.baseUrls.<provider>`), and may hold `{input}` placeholders (Shopify's shop).
 *
 * @example
 *   const spec: VerifySpec = {
 *     provider: "npm", baseUrl: "https://registry.npmjs.org", method: "GET", path: "/-/whoami",
 *     auth: { kind: "bearer" }, outcomes: [{ status: [200], result: "live" }, { status: [401], result: "revoked" }],
 *     docs: "https://docs.npmjs.com/cli/commands/npm-whoami",
 *   };
 */
export interface VerifySpec {
  readonly provider: VerifyProvider;
  readonly baseUrl: string;
  readonly method: "GET" | "POST";
  /** Path and query, with `{input}` placeholders (URL-encoded on use). */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: { readonly contentType: string; readonly text: string };
  readonly auth: VerifyAuth;
  readonly inputs?: readonly VerifyInput[];
  /** Checked in order; a response that matches none is `unknown` ("http <status>"). */
  readonly outcomes: readonly VerifyOutcome[];
  /** The provider's documentation of the endpoint used. */
  readonly docs: string;
  /** Limits a user should know, for docs/rules.md. */
  readonly note?: string;
}

const DEFAULT_WINDOW = 1000;

/**
 * The `near` inputs of a spec found in the text around a secret at [start, end): the
 * occurrence closest to the secret wins. Values are identifiers, never secrets, so they may
 * be carried on a finding.
 *
 * @example
 *   nearInputs(spec, 'client = Client("AC0123...", "<token>")', 30, 62) // { accountSid: "AC0123..." }
 */
export function nearInputs(
  spec: VerifySpec,
  text: string,
  start: number,
  end: number,
): Readonly<Record<string, string>> | undefined {
  let out: Record<string, string> | undefined;
  for (const input of spec.inputs ?? []) {
    if (input.near === undefined) continue;
    const window = input.window ?? DEFAULT_WINDOW;
    const from = Math.max(0, start - window);
    const slice = text.slice(from, Math.min(text.length, end + window));
    const re = new RegExp(input.near.source, input.near.flags.replace(/[gy]/g, "") + "g");
    let best: { value: string; distance: number } | undefined;
    for (const m of slice.matchAll(re)) {
      const value = m[1];
      if (value === undefined || (input.accept !== undefined && !input.accept.test(value))) continue;
      const at = from + m.index;
      const distance = at < start ? start - at : Math.max(0, at - end);
      if (best === undefined || distance < best.distance) best = { value, distance };
    }
    if (best !== undefined) (out ??= {})[input.name] = best.value;
  }
  return out;
}

const ANY_JSON = /^[[{]/;

/**
 * Reads a provider's response with a spec's outcomes. `body` is the (size-capped) response
 * text; it is only matched, never copied into the result, so nothing the provider echoes
 * (which may include the key) can reach a report.
 *
 * @example
 *   classifyResponse(spec, 401, "") // { status: "revoked" }
 */
export function classifyResponse(
  spec: Pick<VerifySpec, "outcomes">,
  status: number,
  body: string,
): { readonly status: VerifyStatus; readonly reason?: string } | undefined {
  let json: unknown;
  let parsed = false;
  for (const o of spec.outcomes) {
    if (!o.status.includes(status)) continue;
    if (o.body !== undefined && !o.body.test(body)) continue;
    if (o.json !== undefined) {
      if (!parsed) {
        parsed = true;
        try {
          json = ANY_JSON.test(body.trimStart()) ? JSON.parse(body) : undefined;
        } catch {
          json = undefined;
        }
      }
      const value = jsonAt(json, o.json.path);
      if (!o.json.oneOf.some((v) => v === value)) continue;
    }
    return o.reason === undefined ? { status: o.result } : { status: o.result, reason: o.reason };
  }
  return undefined;
}

function jsonAt(value: unknown, path: string): unknown {
  let cur = value;
  for (const part of path.split(".")) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/**
 * The usual reading: 200 is live, the given statuses (default 401) are revoked.
 *
 * @example
 *   simpleOutcomes([401, 403]) // [{ status: [200], result: "live" }, { status: [401, 403], result: "revoked" }]
 */
export function simpleOutcomes(revoked: readonly number[] = [401]): readonly VerifyOutcome[] {
  return [
    { status: [200], result: "live" },
    { status: revoked, result: "revoked" },
  ];
}

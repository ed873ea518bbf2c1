import { shannonEntropy } from "../entropy.ts";
import type { PositiveExample, Validator } from "../rule.ts";

/**
 * Building blocks shared by the SaaS rule files: context patterns for prefix-less keys and
 * line templates for positive examples. Every piece is bounded (no `*`, `+`, `{n,}`) and no
 * quantified group holds a quantifier, so the composed patterns stay linear.
 */

/** A token must not continue with one of these characters. */
export const END_TOKEN = String.raw`(?![A-Za-z0-9_-])`;
/** A base64 value must not continue with one of these characters. */
export const END_BASE64 = String.raw`(?![A-Za-z0-9+/=_-])`;
/** A lowercase UUID. */
export const UUID = String.raw`[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}`;
/** A JSON Web Token (three base64url parts, header and payload being JSON objects). */
export const JWT = String.raw`eyJ[A-Za-z0-9_-]{10,500}\.eyJ[A-Za-z0-9_-]{10,2000}\.[A-Za-z0-9_-]{20,900}`;

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * An alternation of each literal as written, in lowercase, in uppercase, capitalised and
 * camel-cased (`sparkPost` from `SparkPost`):
 * the usual spellings of a provider's name in variable names, without the `i` flag (which
 * would also make the key's own alphabet case-insensitive).
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

/** Words that name a credential in a variable name, in any of the usual spellings. */
export const SECRET_WORD = anyCase("secret");
export const KEY_WORD = anyCase("key", "token", "secret");

/**
 * `<context><name chars> = <value>` on one line, the value in group 1: the context (a
 * provider name, maybe followed by a credential word), up to 30 more name characters
 * (`_API_KEY`, `.apiSecret`, `-Server-Token`), closing quotes or bracket, an operator
 * (`=`, `:`, `:=`, `=>`), opening quotes, then the value. `prefix` is matched just before
 * the value but kept out of the group (e.g. Twitch's `oauth:`).
 *
 * @example
 *   assigned(anyCase("mailjet"), "[a-f0-9]{32}") // matches MAILJET_API_KEY="<32 hex>"
 */
export function assigned(context: string, value: string, end = END_TOKEN, prefix = ""): RegExp {
  return new RegExp(
    String.raw`(?:${context})[\w.\-]{0,30}['"\]]{0,2}[ \t]{0,3}(?:=>|:=|[:=])[ \t]{0,3}['"\x60]{0,2}${prefix}(${value})${end}`,
  );
}

/**
 * A distinctive value that follows the context within `distance` characters (across lines),
 * the value in group 1 starting at a word boundary. For formats with a prefix or a structure
 * of their own, where the provider's name only needs to be nearby (`Paystack(secret="...")`).
 *
 * @example
 *   after(anyCase("mollie"), "live_[A-Za-z0-9]{30}")
 */
export function after(context: string, value: string, distance = 120, end = END_TOKEN): RegExp {
  return new RegExp(String.raw`(?:${context})[\s\S]{0,${distance}}?\b(${value})${end}`);
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
 * Line templates for positive examples, each holding `secret` once.
 *
 * @example
 *   line.env("MAILGUN_API_KEY", secret)
 */
export const line = {
  env: (name: string, secret: string): PositiveExample => ({ text: `${name}=${secret}`, secret }),
  shell: (name: string, secret: string): PositiveExample => ({ text: `export ${name}="${secret}"`, secret }),
  json: (name: string, secret: string): PositiveExample => ({
    text: `{\n  "${name}": "${secret}",\n  "enabled": true\n}`,
    secret,
  }),
  yaml: (name: string, secret: string): PositiveExample => ({
    text: `settings:\n  ${name}: ${secret}\n`,
    secret,
  }),
  py: (name: string, secret: string): PositiveExample => ({ text: `${name} = "${secret}"`, secret }),
  js: (name: string, secret: string): PositiveExample => ({ text: `const ${name} = '${secret}';`, secret }),
  go: (name: string, secret: string): PositiveExample => ({ text: `\t${name} := "${secret}"`, secret }),
  text: (text: string, secret: string): PositiveExample => ({ text, secret }),
};

/**
 * Keys found in short text that is about to be shown or kept (a secret's path in an error or
 * the audit log, a request's URL in a log line), masked. A key pasted where a name goes must
 * not travel further than the request that carried it.
 */
import { maskSecret } from "../core/redact.ts";
import { builtinCatalogue } from "./catalogue.ts";
import { scanText, type Match } from "./engine.ts";

/**
 * The keys the built-in rules find in `text`, first to last, without overlaps.
 *
 * @example
 *   keysIn("billing/prod/sk_live_...")[0]?.rule.provider // "Stripe"
 */
export function keysIn(text: string): Match[] {
  const found = scanText(text, builtinCatalogue()).sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: Match[] = [];
  for (const m of found) if (kept.length === 0 || m.start >= kept.at(-1)!.end) kept.push(m);
  return kept;
}

/**
 * `text` with every key the built-in rules find in it masked (maskSecret).
 *
 * @example
 *   maskKeys("/api/v1/secrets/billing/prod/sk_live_...") // ".../billing/prod/sk_l****xy"
 */
export function maskKeys(text: string): string {
  const keys = keysIn(text);
  if (keys.length === 0) return text;
  let out = "";
  let at = 0;
  for (const k of keys) {
    out += text.slice(at, k.start) + maskSecret(k.secret);
    at = k.end;
  }
  return out + text.slice(at);
}

/**
 * What the first key in `text` looks like, for an error that refuses to keep it, or undefined
 * when the built-in rules find none.
 *
 * @example
 *   keyLookalike("owner: sk_live_...") // "a Stripe key (stripe-secret-key)"
 */
export function keyLookalike(text: string): string | undefined {
  const key = keysIn(text)[0];
  return key === undefined ? undefined : `a ${key.rule.provider} key (${key.rule.id})`;
}

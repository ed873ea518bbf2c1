/**
 * Path globs of policy rules over `project/environment/NAME` (and `_sys/...` for
 * management): `*` matches within one segment, `**` across segments, everything else is
 * literal. Matching is a dynamic program over (glob token, path position), so it takes
 * time proportional to their product whatever the input: a regular expression would
 * backtrack exponentially on globs like `*a*a*a*b`.
 */
import { KeywardenError } from "../../core/errors.ts";

/** Longest glob accepted. */
export const MAX_GLOB_LENGTH = 256;

/** Stands for "any character" when checking that a glob covers every completion of a prefix; no path may contain it. */
const ANY = "\uE000";

/** A literal character, or one of the two wildcards. */
type Token = string | typeof STAR | typeof DOUBLE_STAR;
const STAR = 1;
const DOUBLE_STAR = 2;

const cache = new Map<string, readonly Token[]>();

/**
 * Checks a glob; throws KW_ERR_ACCESS_INVALID when it is empty, too long, has a control or
 * non-ASCII character, or three stars in a row.
 *
 * @example
 *   checkGlob("payments/prod/*"); // ok
 */
export function checkGlob(glob: string): void {
  const invalid = (reason: string): KeywardenError =>
    new KeywardenError("KW_ERR_ACCESS_INVALID", { what: "path glob", reason });
  if (glob.length === 0) throw invalid("it is empty");
  if (glob.length > MAX_GLOB_LENGTH) throw invalid(`it is longer than ${MAX_GLOB_LENGTH} characters`);
  if (!/^[\x21-\x7e]+$/.test(glob)) throw invalid("it may only contain printable ASCII without spaces");
  if (glob.includes("***")) throw invalid("use * (one segment) or ** (any depth), not ***");
}

function compile(glob: string): readonly Token[] {
  let tokens = cache.get(glob);
  if (tokens !== undefined) return tokens;
  checkGlob(glob);
  const out: Token[] = [];
  for (let i = 0; i < glob.length; i++) {
    const ch = glob.charAt(i);
    if (ch !== "*") out.push(ch);
    else if (glob.charAt(i + 1) === "*") {
      out.push(DOUBLE_STAR);
      i++;
    } else out.push(STAR);
  }
  tokens = out;
  // A bounded cache: policies are few, but globs may come from requests.
  if (cache.size > 4096) cache.clear();
  cache.set(glob, tokens);
  return tokens;
}

function run(tokens: readonly Token[], path: string): boolean {
  const n = path.length;
  // cur[j]: the tokens so far can match path[0, j).
  let cur = new Uint8Array(n + 1);
  cur[0] = 1;
  for (const tok of tokens) {
    const next = new Uint8Array(n + 1);
    if (typeof tok === "string") {
      for (let j = 0; j < n; j++) if (cur[j] === 1 && path.charAt(j) === tok) next[j + 1] = 1;
    } else {
      let reach = false;
      for (let j = 0; j <= n; j++) {
        if (cur[j] === 1) reach = true;
        if (reach) next[j] = 1;
        if (tok === STAR && path.charAt(j) === "/") reach = false;
      }
    }
    cur = next;
  }
  return cur[n] === 1;
}

/**
 * True when `path` matches `glob` exactly.
 *
 * @example
 *   globMatches("payments/prod/*", "payments/prod/STRIPE_KEY") // true
 *   globMatches("payments/prod/*", "payments/prod/x/y")        // false
 *   globMatches("payments/**", "payments/prod/x")              // true
 */
export function globMatches(glob: string, path: string): boolean {
  return run(compile(glob), path);
}

/**
 * True when `glob` matches every secret path (`project/environment/NAME`, three segments)
 * that starts with `prefix`, which is what listing that prefix reveals. A prefix is filled
 * up to three segments with a character no path contains: since no literal can match it,
 * only wildcards can, and wildcards that match it match any completion.
 *
 * @example
 *   globCoversPrefix("payments/prod/*", "payments/prod/") // true
 *   globCoversPrefix("payments/prod/*", "payments/")      // false: payments/dev/... would show
 */
export function globCoversPrefix(glob: string, prefix: string): boolean {
  const slashes = prefix.split("/").length - 1;
  if (slashes > 2) return globMatches(glob, prefix);
  const completion = ANY + `/${ANY}`.repeat(2 - slashes);
  return run(compile(glob), prefix + completion);
}

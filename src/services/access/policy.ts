/**
 * Policy rules: parsing (from JSON, TOML or flags, all checked the same way) and
 * evaluation. Default deny; a matching deny wins over every allow; capabilities are
 * independent (`admin` does not imply `read`).
 */
import { KeywardenError } from "../../core/errors.ts";
import { CAPABILITIES, type Capability, type PolicyRule } from "./access-types.ts";
import { checkGlob, globCoversPrefix, globMatches } from "./path-glob.ts";

/** Names of policies, roles and identities: what a person types on a command line. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/i;
/** A policy may hold this many rules. */
export const MAX_RULES = 256;

/** Management objects live under `_sys/`, which no secret path can start with. */
export const SYS = Object.freeze({
  identity: (name: string) => `_sys/identities/${name}`,
  policy: (name: string) => `_sys/policies/${name}`,
  role: (name: string) => `_sys/roles/${name}`,
  token: (id: string) => `_sys/tokens/${id}`,
});

/**
 * Throws KW_ERR_ACCESS_INVALID unless `name` is 1-64 letters, digits, '.', '_' or '-'.
 *
 * @example
 *   checkName("policy", "payments-read");
 */
export function checkName(what: string, name: string): void {
  if (!NAME_PATTERN.test(name))
    throw new KeywardenError("KW_ERR_ACCESS_INVALID", {
      what: `${what} name`,
      reason: `${JSON.stringify(name.slice(0, 80))} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    });
}

function isCapability(v: unknown): v is Capability {
  return typeof v === "string" && (CAPABILITIES as readonly string[]).includes(v);
}

/**
 * Checks rules from untrusted input (a file, a request body) and returns them typed and
 * normalised (capabilities sorted, each once; effect defaults to allow).
 *
 * @example
 *   parseRules([{ path: "payments/prod/*", capabilities: ["read", "list"] }]);
 */
export function parseRules(input: unknown): PolicyRule[] {
  const invalid = (reason: string): KeywardenError =>
    new KeywardenError("KW_ERR_ACCESS_INVALID", { what: "policy", reason });
  if (!Array.isArray(input)) throw invalid("rules must be an array");
  if (input.length > MAX_RULES) throw invalid(`a policy has at most ${MAX_RULES} rules`);
  return input.map((raw: unknown, i) => {
    if (typeof raw !== "object" || raw === null) throw invalid(`rule ${i + 1} is not an object`);
    const r = raw as Record<string, unknown>;
    for (const key of Object.keys(r))
      if (!["path", "capabilities", "effect"].includes(key))
        throw invalid(`rule ${i + 1} has an unknown key ${JSON.stringify(key)}`);
    if (typeof r.path !== "string") throw invalid(`rule ${i + 1} needs a path glob`);
    checkGlob(r.path);
    const caps = r.capabilities;
    if (!Array.isArray(caps) || caps.length === 0)
      throw invalid(`rule ${i + 1} needs a non-empty list of capabilities`);
    for (const c of caps as unknown[])
      if (!isCapability(c))
        throw invalid(
          `rule ${i + 1} has an unknown capability ${JSON.stringify(c)} (known: ${CAPABILITIES.join(", ")})`,
        );
    const effect = r.effect ?? "allow";
    if (effect !== "allow" && effect !== "deny") throw invalid(`rule ${i + 1}: effect is allow or deny`);
    const set = new Set(caps as Capability[]);
    return { path: r.path, capabilities: CAPABILITIES.filter((c) => set.has(c)), effect };
  });
}

/** How a path is compared with a rule's glob. */
export type MatchMode = "exact" | "prefix";

/**
 * Evaluates rules: false unless an allow rule matches, and false whenever a deny rule
 * matches. In `prefix` mode (listing), an allow must cover every path under the prefix,
 * while a deny counts as soon as it could match any of them.
 *
 * @example
 *   evaluate(rules, "read", "payments/prod/STRIPE_KEY") // true or false
 */
export function evaluate(
  rules: readonly PolicyRule[],
  capability: Capability,
  path: string,
  mode: MatchMode = "exact",
): boolean {
  let allowed = false;
  for (const rule of rules) {
    if (!rule.capabilities.includes(capability)) continue;
    if (rule.effect === "deny") {
      if (mode === "exact" ? globMatches(rule.path, path) : denyReaches(rule.path, path)) return false;
    } else if (!allowed) {
      allowed = mode === "exact" ? globMatches(rule.path, path) : globCoversPrefix(rule.path, path);
    }
  }
  return allowed;
}

/**
 * Whether a deny glob could match some path under `prefix`. Conservative: true when the
 * literal text before the glob's first wildcard and the prefix agree as far as both go.
 */
function denyReaches(glob: string, prefix: string): boolean {
  const star = glob.indexOf("*");
  const literal = star === -1 ? glob : glob.slice(0, star);
  if (star === -1 && !glob.startsWith(prefix)) return false;
  const n = Math.min(literal.length, prefix.length);
  return literal.slice(0, n) === prefix.slice(0, n);
}

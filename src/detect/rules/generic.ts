import type { Rule } from "../rule.ts";
import { assignmentRules } from "./generic-assignments.ts";
import { privateKeyRules } from "./generic-private-keys.ts";
import { tokenRules } from "./generic-tokens.ts";
import { uriRules } from "./generic-uris.ts";

/**
 * Provider-independent rules: private keys, JWTs, connection URIs and strings with
 * passwords, Authorization headers, and secret-named assignments. The catch-all ones are
 * marked `generic`, so a provider rule reporting the same secret wins.
 *
 * @example
 *   genericRules.find((r) => r.id === "private-key-openssh")
 */
export const genericRules: readonly Rule[] = [
  ...privateKeyRules,
  ...tokenRules,
  ...uriRules,
  ...assignmentRules,
];

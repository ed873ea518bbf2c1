import type { Rule } from "../rule.ts";
import { cloudRules } from "./cloud.ts";
import { devtoolsRules } from "./devtools.ts";
import { genericRules } from "./generic.ts";
import { keywardenRules } from "./keywarden.ts";
import { saasRules } from "./saas.ts";

/**
 * The built-in catalogue, in a stable order. docs/rules.md is generated from it.
 *
 * @example
 *   BUILTIN_RULES.find((r) => r.id === "github-pat-classic")
 */
export const BUILTIN_RULES: readonly Rule[] = Object.freeze([
  ...cloudRules,
  ...devtoolsRules,
  ...saasRules,
  ...keywardenRules,
  ...genericRules,
]);

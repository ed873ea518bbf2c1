import type { Rule } from "../rule.ts";
import { devtoolsCiRules } from "./devtools-ci.ts";
import { devtoolsObservabilityRules } from "./devtools-observability.ts";
import { devtoolsProductivityRules } from "./devtools-productivity.ts";
import { devtoolsRegistryRules } from "./devtools-registries.ts";
import { devtoolsScmRules } from "./devtools-scm.ts";

/**
 * Rules for developer platforms: source hosting, package registries, CI/CD, observability
 * and productivity tools.
 *
 * @example
 *   devtoolsRules.find((r) => r.id === "github-pat-classic")
 */
export const devtoolsRules: readonly Rule[] = [
  ...devtoolsScmRules,
  ...devtoolsRegistryRules,
  ...devtoolsCiRules,
  ...devtoolsObservabilityRules,
  ...devtoolsProductivityRules,
];

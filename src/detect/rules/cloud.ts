import type { Rule } from "../rule.ts";
import { awsRules } from "./cloud-aws.ts";
import { azureRules } from "./cloud-azure.ts";
import { computeRules } from "./cloud-compute.ts";
import { dataRules } from "./cloud-data.ts";
import { googleRules } from "./cloud-google.ts";
import { opsRules } from "./cloud-ops.ts";
import { platformRules } from "./cloud-platform.ts";

/**
 * Cloud and infrastructure providers: hyperscalers, other IaaS clouds, edge and application
 * platforms, managed data services, secrets managers and infrastructure tooling.
 *
 * @example
 *   cloudRules.find((r) => r.id === "aws-access-key-id")
 */
export const cloudRules: readonly Rule[] = [
  ...awsRules,
  ...googleRules,
  ...azureRules,
  ...computeRules,
  ...platformRules,
  ...dataRules,
  ...opsRules,
];

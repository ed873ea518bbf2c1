import type { Rule } from "../rule.ts";
import { saasAiRules } from "./saas-ai.ts";
import { saasBusinessRules } from "./saas-business.ts";
import { saasEmailRules } from "./saas-email.ts";
import { saasIdentityRules } from "./saas-identity.ts";
import { saasMessagingRules } from "./saas-messaging.ts";
import { saasPaymentRules } from "./saas-payments.ts";
import { saasSocialRules } from "./saas-social.ts";

/**
 * Communication, payments, AI, identity, social, e-commerce and other SaaS providers.
 *
 * @example
 *   saasRules.filter((r) => r.provider === "Slack")
 */
export const saasRules: readonly Rule[] = [
  ...saasMessagingRules,
  ...saasEmailRules,
  ...saasAiRules,
  ...saasPaymentRules,
  ...saasIdentityRules,
  ...saasSocialRules,
  ...saasBusinessRules,
];

import type { Rule } from "../rule.ts";
import { anyCase, assigned, line, place } from "./shared.ts";

/** Okta, Auth0, Clerk, WorkOS and Stytch. */
export const saasIdentityRules: readonly Rule[] = [
  {
    id: "okta-api-token",
    provider: "Okta",
    description: "Okta API token (00 + 40 characters) in an Okta variable.",
    keywords: ["okta"],
    pattern: assigned({ context: anyCase("okta"), value: "00[A-Za-z0-9_-]{40}", flags: "" }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Revoke the token in the Okta Admin Console (Security > API > Tokens > Revoke), create a new one for a least-privileged service account (or move to OAuth for Okta) and store it in a vault.",
    docs: "https://developer.okta.com/docs/guides/create-an-api-token/main/",
    examples: {
      positives: (gen) =>
        place(
          [`00${gen.base64url(40)}`, `00${gen.alnum(40)}`],
          [line.env("OKTA_API_TOKEN"), line.yaml("okta.client.token")],
        ),
      negatives: [
        "OKTA_API_TOKEN={apiToken}",
        "okta.client.token: 00xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
      ],
    },
  },
  {
    id: "auth0-client-secret",
    provider: "Auth0",
    description: "Auth0 application client secret (64 characters) in an Auth0 variable.",
    keywords: ["auth0"],
    pattern: assigned({ context: anyCase("auth0"), value: "[A-Za-z0-9_-]{64}", flags: "" }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Rotate the client secret in the Auth0 Dashboard (Applications > your app > Settings > Rotate) or with POST /api/v2/clients/{id}/rotate-secret, then store it in a vault.",
    docs: "https://auth0.com/docs/get-started/applications/rotate-client-secret",
    examples: {
      positives: (gen) =>
        place(
          [gen.base64url(64), gen.alnum(64)],
          [line.env("AUTH0_CLIENT_SECRET"), line.json("auth0ClientSecret")],
        ),
      negatives: ["AUTH0_CLIENT_SECRET=YOUR_CLIENT_SECRET"],
    },
  },
  {
    id: "clerk-secret-key",
    provider: "Clerk",
    description: "Clerk live secret key (sk_live_) in a Clerk variable.",
    keywords: ["clerk"],
    pattern: assigned({ context: anyCase("clerk"), value: "sk_live_[A-Za-z0-9]{30,80}", flags: "" }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Roll the secret key in the Clerk Dashboard (Configure > API keys), deploy the new one and store it in a vault.",
    docs: "https://clerk.com/docs/deployments/clerk-environment-variables",
    examples: {
      positives: (gen) =>
        place(() => `sk_live_${gen.alnum(42)}`, [line.env("CLERK_SECRET_KEY"), line.js("clerkSecretKey")]),
      negatives: ["CLERK_SECRET_KEY=sk_live_****"],
    },
  },
  {
    id: "workos-api-key",
    provider: "WorkOS",
    description: "WorkOS API key (sk_) in a WorkOS variable.",
    keywords: ["workos"],
    pattern: assigned({ context: anyCase("workos", "WorkOS"), value: "sk_[A-Za-z0-9_]{30,120}", flags: "" }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Delete the key in the WorkOS Dashboard (API Keys), create a new one and store it in a vault.",
    docs: "https://workos.com/docs/reference",
    examples: {
      positives: (gen) =>
        place(
          [`sk_${gen.alnum(60)}`, `sk_test_${gen.alnum(40)}`],
          [line.env("WORKOS_API_KEY"), line.py("workos_api_key")],
        ),
      negatives: ["WORKOS_API_KEY=sk_example_123456789"],
    },
  },
  {
    id: "stytch-secret",
    provider: "Stytch",
    description: "Stytch live project secret (secret-live-).",
    keywords: ["secret-live-"],
    pattern: /\b(secret-live-[A-Za-z0-9_=-]{30,48})(?![A-Za-z0-9_=-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Create a new secret in the Stytch Dashboard (API Keys), deploy it, delete the old one and store the new one in a vault.",
    docs: "https://stytch.com/docs/api",
    examples: {
      positives: (gen) =>
        place(
          [`secret-live-${gen.base64url(34)}=`, `secret-live-${gen.alnum(36)}`],
          [line.env("STYTCH_SECRET"), line.go("stytchSecret")],
        ),
      negatives: ["STYTCH_SECRET=secret-live-..."],
    },
  },
];

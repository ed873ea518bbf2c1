import type { ExampleGen, Rule } from "../rule.ts";
import { hasCrc32Suffix, withCrc32 } from "../checksum.ts";
import type { VerifySpec } from "../verify.ts";
import { assigned, place, prefixed, type Template } from "./shared.ts";

/* Source hosting: GitHub, GitLab, Bitbucket, Atlassian, Sourcegraph, Gitea. */

const GITHUB_TOKEN_DOCS =
  "https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/managing-your-personal-access-tokens";
const GITLAB_TOKEN_DOCS = "https://docs.gitlab.com/security/tokens/";

/**
 * GET /user: 200 for a working token, 401 "Bad credentials" for a revoked or expired one.
 * Installation tokens (ghs_) cannot read /user and get 403 "Resource not accessible by
 * integration", which still proves they authenticated. A 403 rate limit stays unknown.
 */
const GITHUB_VERIFY: VerifySpec = {
  provider: "github",
  baseUrl: "https://api.github.com",
  method: "GET",
  path: "/user",
  headers: { accept: "application/vnd.github+json", "x-github-api-version": "2022-11-28" },
  auth: { kind: "bearer" },
  outcomes: [
    { status: [200], result: "live" },
    { status: [403], body: /Resource not accessible by integration/, result: "live" },
    { status: [401], result: "revoked" },
  ],
  docs: "https://docs.github.com/en/rest/users/users#get-the-authenticated-user",
};

/**
 * GET /api/v4/personal_access_tokens/self works for personal, project and group access
 * tokens of any scope: 200 with the token's metadata, 401 once revoked or expired.
 * Self-managed instances: set verify.baseUrls.gitlab.
 */
const GITLAB_VERIFY: VerifySpec = {
  provider: "gitlab",
  baseUrl: "https://gitlab.com",
  method: "GET",
  path: "/api/v4/personal_access_tokens/self",
  auth: { kind: "header", name: "private-token" },
  outcomes: [
    { status: [200], json: { path: "active", oneOf: [true] }, result: "live" },
    { status: [200], json: { path: "active", oneOf: [false] }, result: "revoked" },
    { status: [401], result: "revoked" },
  ],
  docs: "https://docs.gitlab.com/api/personal_access_tokens/#get-details-on-a-personal-access-token",
  note: "gitlab.com by default; point verify.baseUrls.gitlab at a self-managed instance.",
};

/** One rule per GitHub `gh?_` token kind: 30 random base62 and a 6-character CRC32. */
function githubRule(o: {
  id: string;
  kind: string;
  description: string;
  severity: Rule["severity"];
  remediation: string;
  docs: string;
  contexts: readonly Template[];
  verify?: VerifySpec;
}): Rule {
  const prefix = `${o.kind}_`;
  return {
    id: o.id,
    provider: "GitHub",
    description: o.description,
    keywords: [prefix],
    pattern: prefixed(prefix, "[0-9A-Za-z]{36}", String.raw`\b`),
    secretGroup: 1,
    entropy: 3,
    validate: hasCrc32Suffix,
    checksummed: true,
    severity: o.severity,
    remediation: o.remediation,
    docs: o.docs,
    ...(o.verify === undefined ? {} : { verify: o.verify }),
    examples: {
      positives: (gen) => place(() => withCrc32(prefix, gen.alnum(30)), o.contexts),
      negatives: [
        `GITHUB_TOKEN=${prefix}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`,
        // Right shape and plenty of entropy, but the CRC32 does not match.
        `see ${prefix}aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 in the docs`,
        `the ${prefix} prefix marks a ${o.kind} token`,
      ],
    },
  };
}

const github: Rule[] = [
  githubRule({
    id: "github-pat-classic",
    kind: "ghp",
    description: "GitHub classic personal access token (ghp_) with a valid CRC32 checksum.",
    severity: "critical",
    remediation:
      "Delete the token under GitHub Settings > Developer settings > Personal access tokens (or have an org owner revoke it), then issue a fine-grained token with the least scope and store it in a vault.",
    docs: GITHUB_TOKEN_DOCS,
    verify: GITHUB_VERIFY,
    contexts: [
      (s) => `export GITHUB_TOKEN=${s}`,
      (s) => `git clone https://oauth2:${s}@github.com/acme/payments.git`,
      (s) => `    token = "${s}"  # TODO move to secrets`,
    ],
  }),
  githubRule({
    id: "github-oauth-token",
    kind: "gho",
    description: "GitHub OAuth app access token (gho_) with a valid CRC32 checksum.",
    severity: "high",
    remediation:
      "Revoke the grant under Settings > Applications > Authorized OAuth Apps, or as the app owner call DELETE /applications/{client_id}/token; then re-authorize to obtain a new token and store it in a vault.",
    docs: "https://docs.github.com/en/rest/apps/oauth-applications",
    verify: GITHUB_VERIFY,
    contexts: [
      (s) => `{"access_token":"${s}","token_type":"bearer","scope":"repo"}`,
      (s) => `  oauth_token: ${s}`,
    ],
  }),
  githubRule({
    id: "github-user-to-server-token",
    kind: "ghu",
    description: "GitHub App user-to-server access token (ghu_) with a valid CRC32 checksum.",
    severity: "high",
    remediation:
      "Revoke it with DELETE /applications/{client_id}/token using the GitHub App's credentials (or have the user revoke the app under Settings > Applications), then obtain a new token and store it in a vault.",
    docs: "https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app",
    verify: GITHUB_VERIFY,
    contexts: [(s) => `const userToken = "${s}";`, (s) => `GH_USER_TOKEN=${s}`],
  }),
  githubRule({
    id: "github-server-to-server-token",
    kind: "ghs",
    description:
      "GitHub App installation (server-to-server) or Actions GITHUB_TOKEN (ghs_) with a valid CRC32 checksum.",
    severity: "high",
    remediation:
      "Revoke it with DELETE /installation/token authenticated by the token itself (it also expires within an hour); if the app's private key leaked too, generate a new key in the app settings and store it in a vault.",
    docs: "https://docs.github.com/en/rest/apps/installations#revoke-an-installation-access-token",
    verify: GITHUB_VERIFY,
    contexts: [
      (s) => `Authorization: token ${s}`,
      (s) => `installation_token = "${s}"`,
      (s) => `+ git push https://x-access-token:${s}@github.com/acme/site.git HEAD:main`,
    ],
  }),
  githubRule({
    id: "github-refresh-token",
    kind: "ghr",
    description: "GitHub App user refresh token (ghr_) with a valid CRC32 checksum.",
    severity: "high",
    remediation:
      "Revoke the user's authorization of the GitHub App (DELETE /applications/{client_id}/grant), which invalidates the refresh token, then have the user re-authorize and store the new tokens in a vault.",
    docs: "https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens",
    contexts: [(s) => `"refresh_token": "${s}",`, (s) => `GITHUB_REFRESH_TOKEN='${s}'`],
  }),
  {
    id: "github-pat-fine-grained",
    provider: "GitHub",
    description: "GitHub fine-grained personal access token (github_pat_ + 22 + _ + 59).",
    keywords: ["github_pat_"],
    pattern: /\b(github_pat_[0-9A-Za-z]{22}_[0-9A-Za-z]{59})\b/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Delete the token under GitHub Settings > Developer settings > Fine-grained tokens (org owners can revoke it from the org's settings), then issue a new one with the least repository access and store it in a vault.",
    docs: GITHUB_TOKEN_DOCS,
    verify: GITHUB_VERIFY,
    examples: {
      positives: (gen) =>
        place(
          () => `github_pat_${gen.alnum(22)}_${gen.alnum(59)}`,
          [(s) => `GH_TOKEN=${s}`, (s) => `          github-token: ${s}`, (s) => `client = Github("${s}")`],
        ),
      negatives: [
        "GH_TOKEN=github_pat_<your-fine-grained-token>",
        "github_pat_xxxxxxxxxxxxxxxxxxxxxx_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "tokens starting with github_pat_ are fine-grained",
      ],
    },
  },
];

/** One rule per GitLab token prefix whose body is `[0-9A-Za-z_-]` of a fixed length. */
function gitlabRule(o: {
  id: string;
  prefix: string;
  body: string;
  make: (gen: ExampleGen) => string;
  description: string;
  severity: Rule["severity"];
  remediation: string;
  docs?: string;
  contexts: readonly Template[];
  verify?: VerifySpec;
}): Rule {
  return {
    id: o.id,
    provider: "GitLab",
    description: o.description,
    keywords: [o.prefix.toLowerCase()],
    pattern: prefixed(o.prefix, o.body),
    secretGroup: 1,
    entropy: 3,
    severity: o.severity,
    remediation: o.remediation,
    docs: o.docs ?? GITLAB_TOKEN_DOCS,
    ...(o.verify === undefined ? {} : { verify: o.verify }),
    examples: {
      positives: (gen) => place(() => o.make(gen), o.contexts),
      negatives: [
        `${o.prefix}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`,
        `token: ${o.prefix}<redacted>`,
        `tokens prefixed ${o.prefix} are GitLab tokens`,
      ],
    },
  };
}

/** URL-safe base64 without the characters that would end a `\b`-bounded match early. */
const ROUTABLE = String.raw`[\w-]{27,300}\.[0-9a-z]{2}\.?[0-9a-z]{7,9}`;

const gitlab: Rule[] = [
  gitlabRule({
    id: "gitlab-pat",
    prefix: "glpat-",
    body: String.raw`(?:${ROUTABLE}|[\w-]{20})`,
    make: (gen) =>
      gen.pick([true, false])
        ? `glpat-${gen.base64url(20)}`
        : `glpat-${gen.base64url(36)}.01.${gen.lowerAlnum(9)}`,
    description: "GitLab personal, project or group access token (glpat-), legacy or routable.",
    severity: "critical",
    remediation:
      "Revoke it under User settings > Access tokens (or the project/group's Access tokens page, or POST /personal_access_tokens/:id/revoke with the API), then create a new one with the least scope and an expiry and store it in a vault.",
    docs: "https://docs.gitlab.com/user/profile/personal_access_tokens/",
    verify: GITLAB_VERIFY,
    contexts: [
      (s) => `export GITLAB_TOKEN=${s}`,
      (s) => `git remote add origin https://oauth2:${s}@gitlab.com/acme/api.git`,
      (s) => `gl = gitlab.Gitlab("https://gitlab.com", private_token="${s}")`,
    ],
  }),
  gitlabRule({
    id: "gitlab-deploy-token",
    prefix: "gldt-",
    body: String.raw`[\w-]{20}`,
    make: (gen) => `gldt-${gen.base64url(20)}`,
    description: "GitLab deploy token (gldt-).",
    severity: "high",
    remediation:
      "Revoke it under the project's or group's Settings > Repository > Deploy tokens, then create a new deploy token with the least scope and store it in a vault.",
    docs: "https://docs.gitlab.com/user/project/deploy_tokens/",
    contexts: [
      (s) => `DEPLOY_TOKEN=${s}`,
      (s) => `docker login registry.gitlab.com -u gitlab+deploy-token-12 -p ${s}`,
    ],
  }),
  gitlabRule({
    id: "gitlab-runner-auth-token",
    prefix: "glrt-",
    body: String.raw`(?:${ROUTABLE}|[\w-]{20})`,
    make: (gen) =>
      gen.pick([true, false])
        ? `glrt-${gen.base64url(20)}`
        : `glrt-t1_${gen.base64url(30)}.01.${gen.lowerAlnum(9)}`,
    description: "GitLab runner authentication token (glrt-).",
    severity: "high",
    remediation:
      "Delete or reset the runner's token under Settings > CI/CD > Runners (or `gitlab-runner unregister` plus POST /runners/reset_authentication_token), then register the runner again and keep config.toml out of reach.",
    docs: "https://docs.gitlab.com/ci/runners/configure_runners/",
    contexts: [
      (s) => `  token = "${s}"`,
      (s) => `gitlab-runner register --non-interactive --url https://gitlab.com --token ${s}`,
    ],
  }),
  gitlabRule({
    id: "gitlab-runner-registration-token",
    prefix: "GR1348941",
    body: String.raw`[\w-]{20}`,
    make: (gen) => `GR1348941${gen.base64url(20)}`,
    description: "GitLab legacy runner registration token (GR1348941).",
    severity: "medium",
    remediation:
      "Reset the registration token under Settings > CI/CD > Runners, then move to runner authentication tokens (glrt-) created in the UI and store them in a vault.",
    docs: "https://docs.gitlab.com/ci/runners/new_creation_workflow/",
    contexts: [
      (s) => `REGISTRATION_TOKEN=${s}`,
      (s) => `gitlab-runner register --registration-token ${s} --executor docker`,
    ],
  }),
  gitlabRule({
    id: "gitlab-ci-job-token",
    prefix: "glcbt-",
    body: String.raw`[0-9a-zA-Z]{1,5}_[\w-]{20}`,
    make: (gen) => `glcbt-${gen.hex(2)}_${gen.base64url(20)}`,
    description: "GitLab CI/CD job token (glcbt-).",
    severity: "medium",
    remediation:
      "Job tokens expire when the job ends; cancel the job if it still runs, restrict the project's job token allowlist under Settings > CI/CD, and review what the job could reach.",
    docs: "https://docs.gitlab.com/ci/jobs/ci_job_token/",
    contexts: [
      (s) => `CI_JOB_TOKEN=${s}`,
      (s) => `curl --header "JOB-TOKEN: ${s}" https://gitlab.com/api/v4/projects/42/packages`,
    ],
  }),
  gitlabRule({
    id: "gitlab-pipeline-trigger-token",
    prefix: "glptt-",
    body: "[0-9a-f]{40}",
    make: (gen) => `glptt-${gen.hex(40)}`,
    description: "GitLab pipeline trigger token (glptt-).",
    severity: "high",
    remediation:
      "Revoke the trigger under the project's Settings > CI/CD > Pipeline trigger tokens (or DELETE /projects/:id/triggers/:trigger_id), then create a new one and store it in a vault.",
    docs: "https://docs.gitlab.com/ci/triggers/",
    contexts: [
      (s) =>
        `curl -X POST --fail -F token=${s} -F ref=main https://gitlab.com/api/v4/projects/9/trigger/pipeline`,
      (s) => `TRIGGER_TOKEN: "${s}"`,
    ],
  }),
  gitlabRule({
    id: "gitlab-scim-token",
    prefix: "glsoat-",
    body: String.raw`[\w-]{20}`,
    make: (gen) => `glsoat-${gen.base64url(20)}`,
    description: "GitLab SCIM OAuth access token (glsoat-).",
    severity: "high",
    remediation:
      "Reset the SCIM token under the group's Settings > SAML SSO (Generate a SCIM token), update the identity provider with the new token, and store it in a vault.",
    docs: "https://docs.gitlab.com/user/group/saml_sso/scim_setup/",
    contexts: [(s) => `scim_token: ${s}`, (s) => `Authorization: Bearer ${s}`],
  }),
  gitlabRule({
    id: "gitlab-feed-token",
    prefix: "glft-",
    body: String.raw`[\w-]{20}`,
    make: (gen) => `glft-${gen.base64url(20)}`,
    description: "GitLab feed token (glft-) for RSS/Atom and calendar feeds.",
    severity: "low",
    remediation:
      "Reset it under User settings > Access tokens > Feed token; the old feed URLs stop working at once.",
    contexts: [
      (s) => `https://gitlab.com/dashboard/issues.atom?feed_token=${s}&state=opened`,
      (s) => `FEED_TOKEN=${s}`,
    ],
  }),
  gitlabRule({
    id: "gitlab-incoming-mail-token",
    prefix: "glimt-",
    body: String.raw`[\w-]{25}`,
    make: (gen) => `glimt-${gen.base64url(25)}`,
    description: "GitLab incoming email token (glimt-) used to create issues by email.",
    severity: "low",
    remediation:
      "Reset it under User settings > Access tokens > Incoming email token; the old issue-by-email addresses stop working.",
    contexts: [(s) => `GITLAB_INCOMING_EMAIL_TOKEN=${s}`, (s) => `mail_token: ${s}`],
  }),
  gitlabRule({
    id: "gitlab-kubernetes-agent-token",
    prefix: "glagent-",
    body: String.raw`[\w-]{50}`,
    make: (gen) => `glagent-${gen.base64url(50)}`,
    description: "GitLab agent for Kubernetes token (glagent-).",
    severity: "high",
    remediation:
      "Revoke the agent token under Operate > Kubernetes clusters > the agent > Access tokens, create a new one, and update the agent's Kubernetes secret.",
    docs: "https://docs.gitlab.com/user/clusters/agent/work_with_agent/",
    contexts: [
      (s) => `helm upgrade --install k8s-agent gitlab/gitlab-agent --set config.token=${s}`,
      (s) => `  token: ${s}`,
    ],
  }),
  gitlabRule({
    id: "gitlab-oauth-app-secret",
    prefix: "gloas-",
    body: String.raw`[\w-]{64}`,
    make: (gen) => `gloas-${gen.base64url(64)}`,
    description: "GitLab OAuth application secret (gloas-).",
    severity: "high",
    remediation:
      "Renew the secret on the application's page under User/Group settings > Applications (or POST /applications/:id/renew-secret), then update the OAuth client and store the secret in a vault.",
    docs: "https://docs.gitlab.com/integration/oauth_provider/",
    contexts: [(s) => `GITLAB_CLIENT_SECRET=${s}`, (s) => `  "client_secret": "${s}"`],
  }),
  gitlabRule({
    id: "gitlab-feature-flags-client-token",
    prefix: "glffct-",
    body: String.raw`[\w-]{20}`,
    make: (gen) => `glffct-${gen.base64url(20)}`,
    description: "GitLab feature flags client token (glffct-).",
    severity: "low",
    remediation:
      "Reset the instance ID's token under Deploy > Feature flags > Configure, then update the Unleash clients.",
    docs: "https://docs.gitlab.com/operations/feature_flags/",
    contexts: [(s) => `UNLEASH_API_TOKEN=${s}`, (s) => `  instanceId: "${s}",`],
  }),
];

const ATLASSIAN_TOKEN_DOCS =
  "https://support.atlassian.com/atlassian-account/docs/manage-api-tokens-for-your-atlassian-account/";

const atlassian: Rule[] = [
  {
    id: "bitbucket-app-password",
    provider: "Bitbucket",
    description: "Bitbucket Cloud app password (ATBB).",
    keywords: ["atbb"],
    pattern: /\b(ATBB[A-Za-z0-9]{28,40})\b/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Revoke it under Bitbucket Personal settings > App passwords, then replace it with an API token or access token with the least scope and store it in a vault.",
    docs: "https://support.atlassian.com/bitbucket-cloud/docs/app-passwords/",
    examples: {
      positives: (gen) =>
        place(
          () => `ATBB${gen.alnum(24)}${gen.hexUpper(8)}`,
          [
            (s) => `BITBUCKET_APP_PASSWORD=${s}`,
            (s) => `git clone https://jdoe:${s}@bitbucket.org/acme/web.git`,
          ],
        ),
      negatives: [
        "BITBUCKET_APP_PASSWORD=ATBBxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "ATBB is the app password prefix",
      ],
    },
  },
  {
    id: "bitbucket-access-token",
    provider: "Bitbucket",
    description: "Bitbucket repository, project or workspace access token (ATCTT3xFfGN0).",
    keywords: ["atctt3xffgn0"],
    pattern: /\b(ATCTT3xFfGN0[A-Za-z0-9_=-]{100,300})(?![\w=-])/,
    secretGroup: 1,
    entropy: 4,
    severity: "high",
    remediation:
      "Revoke it under the repository's (or project's, workspace's) Settings > Access tokens, then create a new token with the least scope and store it in a vault.",
    docs: "https://support.atlassian.com/bitbucket-cloud/docs/access-tokens/",
    examples: {
      positives: (gen) =>
        place(
          () => `ATCTT3xFfGN0${gen.base64url(171)}=${gen.hexUpper(8)}`,
          [(s) => `BITBUCKET_ACCESS_TOKEN=${s}`, (s) => `headers = {"Authorization": "Bearer ${s}"}`],
        ),
      negatives: [
        "BITBUCKET_ACCESS_TOKEN=ATCTT3xFfGN0...",
        "Bitbucket access tokens start with ATCTT3xFfGN0",
      ],
    },
  },
  {
    id: "atlassian-api-token",
    provider: "Atlassian",
    description: "Atlassian account API token for Jira, Confluence and other cloud products (ATATT3xFfGF0).",
    keywords: ["atatt3xffgf0"],
    pattern: /\b(ATATT3xFfGF0[A-Za-z0-9_=-]{100,300})(?![\w=-])/,
    secretGroup: 1,
    entropy: 4,
    severity: "high",
    remediation:
      "Revoke it at id.atlassian.com > Security > API tokens (organization admins can revoke user tokens in admin.atlassian.com), then create a new token with an expiry and store it in a vault.",
    docs: ATLASSIAN_TOKEN_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `ATATT3xFfGF0${gen.base64url(171)}=${gen.hexUpper(8)}`,
          [
            (s) => `JIRA_API_TOKEN=${s}`,
            (s) => `confluence = Confluence(url=URL, username="ops@acme.io", password="${s}")`,
            (s) => `  "apiToken": "${s}"`,
          ],
        ),
      negatives: ["JIRA_API_TOKEN=ATATT3xFfGF0<token>", "Atlassian API tokens start with ATATT3xFfGF0"],
    },
  },
  {
    id: "atlassian-legacy-api-token",
    provider: "Atlassian",
    description:
      "Atlassian legacy 24-character API token assigned to a Jira, Confluence or Atlassian key name.",
    keywords: ["atlassian", "confluence", "jira"],
    pattern: assigned({
      context: "atlassian|confluence|jira",
      name: "token|key|password",
      value: "[A-Za-z0-9]{24}",
      style: "argument",
    }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Revoke it at id.atlassian.com > Security > API tokens, then create a new token with an expiry and store it in a vault.",
    docs: ATLASSIAN_TOKEN_DOCS,
    examples: {
      positives: (gen) =>
        place(() => gen.alnum(24), [(s) => `JIRA_API_TOKEN=${s}`, (s) => `confluence_token: "${s}"`]),
      negatives: ["JIRA_API_TOKEN=${JIRA_API_TOKEN}", "jira_token: <your-api-token>"],
    },
  },
  {
    id: "sourcegraph-access-token",
    provider: "Sourcegraph",
    description: "Sourcegraph access token (sgp_).",
    keywords: ["sgp_"],
    pattern: /\b(sgp_(?:[a-f0-9]{16}|local)_[a-f0-9]{40}|sgp_[a-f0-9]{40})\b/,
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Delete the token under the Sourcegraph user's Settings > Access tokens (site admins can revoke any user's tokens), then create a new one and store it in a vault.",
    docs: "https://sourcegraph.com/docs/cli/how-tos/creating_an_access_token",
    examples: {
      positives: (gen) => [
        ...place(() => `sgp_${gen.hex(16)}_${gen.hex(40)}`, [(s) => `export SRC_ACCESS_TOKEN=${s}`]),
        ...place(() => `sgp_${gen.hex(40)}`, [(s) => `  "token": "${s}"`]),
      ],
      negatives: [
        "SRC_ACCESS_TOKEN=sgp_<token>",
        "sgp_0000000000000000_0000000000000000000000000000000000000000",
      ],
    },
  },
  {
    id: "gitea-access-token",
    provider: "Gitea",
    description: "Gitea or Forgejo access token (40 hex) assigned to a gitea/forgejo key name.",
    keywords: ["gitea", "forgejo"],
    pattern: assigned({
      context: "gitea|forgejo",
      name: "token|password",
      value: "[a-f0-9]{40}",
      style: "line",
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Delete the token under Gitea/Forgejo Settings > Applications > Access tokens, then generate a new one with the least scope and store it in a vault.",
    docs: "https://docs.gitea.com/development/api-usage",
    examples: {
      positives: (gen) =>
        place(
          () => gen.hex(40),
          [(s) => `GITEA_TOKEN=${s}`, (s) => `forgejo: { url: "https://codeberg.org", token: "${s}" }`],
        ),
      negatives: ["GITEA_TOKEN=<token>", "gitea token: see the admin panel"],
    },
  },
];

/**
 * Rules for source hosting (GitHub, GitLab, Bitbucket, Atlassian, Sourcegraph, Gitea).
 *
 * @example
 *   devtoolsScmRules.find((r) => r.id === "github-pat-classic")
 */
export const devtoolsScmRules: readonly Rule[] = [...github, ...gitlab, ...atlassian];

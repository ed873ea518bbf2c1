import type { Rule } from "../rule.ts";
import type { VerifySpec } from "../verify.ts";
import { ASSIGN_OR_SPACE, assigned, b64, END_TOKEN, isBase64Json, place, START, UUID } from "./shared.ts";

/* Monitoring, logging, tracing, error tracking and on-call. */

const DATADOG_DOCS = "https://docs.datadoghq.com/account_management/api-app-keys/";
const NEW_RELIC_DOCS = "https://docs.newrelic.com/docs/apis/intro-apis/new-relic-api-keys/";
const SENTRY_DOCS = "https://docs.sentry.io/account/auth-tokens/";
const GRAFANA_SA_DOCS = "https://grafana.com/docs/grafana/latest/administration/service-accounts/";
const ELASTIC_DOCS =
  "https://www.elastic.co/guide/en/elasticsearch/reference/current/security-api-invalidate-api-key.html";
const SUMO_DOCS = "https://help.sumologic.com/docs/manage/security/access-keys/";
const HONEYCOMB_DOCS = "https://docs.honeycomb.io/configure/environments/manage-api-keys/";

const DATADOG_CONTEXT = String.raw`datadog|dd[_.-]`;

/**
 * GET /api/v1/validate with DD-API-KEY: 200 `{"valid": true}` for a working key, 403
 * `{"errors": ["Forbidden"]}` for a revoked one. Keys belong to one site (US1 by default):
 * point verify.baseUrls.datadog at your site (api.datadoghq.eu, api.us5.datadoghq.com, ...).
 */
const DATADOG_VERIFY: VerifySpec = {
  provider: "datadog",
  baseUrl: "https://api.datadoghq.com",
  method: "GET",
  path: "/api/v1/validate",
  auth: { kind: "header", name: "dd-api-key" },
  outcomes: [
    { status: [200], json: { path: "valid", oneOf: [true] }, result: "live" },
    { status: [403], result: "revoked" },
  ],
  docs: "https://docs.datadoghq.com/api/latest/authentication/#validate-api-key",
  note: "US1 site by default; a key of another site reads as revoked unless verify.baseUrls.datadog names that site.",
};

/** Whether a base64 string decodes to Elastic's `id:api_key` pair. */
function isElasticApiKey(encoded: string): boolean {
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  return /^[\w-]{10,64}:[\w-]{10,64}$/.test(decoded);
}

/**
 * Rules for monitoring, logging, tracing, error tracking and on-call tools.
 *
 * @example
 *   devtoolsObservabilityRules.find((r) => r.id === "datadog-api-key")
 */
export const devtoolsObservabilityRules: readonly Rule[] = [
  {
    id: "datadog-api-key",
    provider: "Datadog",
    description: "Datadog API key (32 hex) assigned to a Datadog/DD api key name.",
    keywords: ["datadog", "dd_", "dd-", "dd."],
    pattern: assigned({
      context: DATADOG_CONTEXT,
      name: String.raw`api[_.-]?key`,
      value: "[a-f0-9]{32}",
      style: "line",
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Revoke the key in Datadog under Organization Settings > API Keys after creating a replacement, then roll the new key out to agents and store it in a vault.",
    docs: DATADOG_DOCS,
    verify: DATADOG_VERIFY,
    examples: {
      positives: (gen) =>
        place(
          () => gen.hex(32),
          [
            (s) => `DD_API_KEY=${s}`,
            (s) => `datadog.initialize(api_key="${s}", app_key=os.environ["DD_APP_KEY"])`,
            (s) => `curl -X POST https://api.datadoghq.com/api/v2/series -H "DD-API-KEY: ${s}"`,
          ],
        ),
      negatives: [
        "DD_API_KEY=<DATADOG_API_KEY>",
        "DD_API_KEY=${DD_API_KEY}",
        "datadog api key: 0000000000000000",
      ],
    },
  },
  {
    id: "datadog-app-key",
    provider: "Datadog",
    description: "Datadog application key (40 hex) assigned to a Datadog/DD app key name.",
    keywords: ["datadog", "dd_", "dd-", "dd."],
    pattern: assigned({
      context: DATADOG_CONTEXT,
      name: String.raw`app[_.-]?key|application[_.-]?key`,
      value: "[a-f0-9]{40}",
      style: "line",
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Revoke the application key in Datadog under Organization Settings > Application Keys (or Personal Settings), then create a scoped key and store it in a vault.",
    docs: DATADOG_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => gen.hex(40),
          [
            (s) => `DD_APP_KEY=${s}`,
            (s) => `  "datadog_application_key": "${s}",`,
            (s) => `-H "DD-APPLICATION-KEY: ${s}"`,
          ],
        ),
      negatives: ["DD_APP_KEY=<DATADOG_APP_KEY>", "datadog_app_key: ${DATADOG_APP_KEY}"],
    },
  },
  {
    id: "new-relic-user-api-key",
    provider: "New Relic",
    description: "New Relic user API key (NRAK-).",
    keywords: ["nrak-"],
    pattern: /\b(NRAK-[A-Z0-9]{27})\b/i,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the key in New Relic under the user menu > API Keys (or NerdGraph apiAccessDeleteKeys), then create a new user key and store it in a vault.",
    docs: NEW_RELIC_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `NRAK-${gen.upperAlnum(27)}`,
          [
            (s) => `NEW_RELIC_API_KEY=${s}`,
            (s) => `curl https://api.newrelic.com/graphql -H 'API-Key: ${s}'`,
          ],
        ),
      negatives: ["NEW_RELIC_API_KEY=NRAK-<key>", "NEW_RELIC_API_KEY=NRAK-XXXXXXXXXXXXXXXXXXXXXXXXXXX"],
    },
  },
  {
    id: "new-relic-admin-api-key",
    provider: "New Relic",
    description: "New Relic legacy admin API key (NRAA-).",
    keywords: ["nraa-"],
    pattern: /\b(NRAA-[A-Za-z0-9]{27})\b/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the admin key in New Relic under API Keys, move to user keys (NRAK-) with the least role, and store the new key in a vault.",
    docs: NEW_RELIC_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `NRAA-${gen.hex(27)}`,
          [(s) => `NEWRELIC_ADMIN_KEY=${s}`, (s) => `headers: { "X-Api-Key": "${s}" }`],
        ),
      negatives: ["NEWRELIC_ADMIN_KEY=NRAA-<key>", "admin keys start with NRAA-"],
    },
  },
  {
    id: "new-relic-insights-key",
    provider: "New Relic",
    description: "New Relic Insights insert or query key (NRII-, NRIQ-).",
    keywords: ["nrii-", "nriq-"],
    pattern: /\b(NRI[IQ]-[\w-]{32})(?![\w-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "medium",
    remediation:
      "Delete the key in New Relic under API Keys (Insights insert/query keys), then create a new license or user key and store it in a vault.",
    docs: NEW_RELIC_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `${gen.pick(["NRII-", "NRIQ-"])}${gen.base64url(32)}`,
          [(s) => `NEW_RELIC_INSERT_KEY=${s}`, (s) => `-H "X-Insert-Key: ${s}"`],
        ),
      negatives: ["NEW_RELIC_INSERT_KEY=NRII-<key>", "X-Insert-Key: NRII-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"],
    },
  },
  {
    id: "new-relic-browser-key",
    provider: "New Relic",
    description: "New Relic browser (JavaScript) license key (NRJS-).",
    keywords: ["nrjs-"],
    pattern: /\b(NRJS-[a-f0-9]{19})\b/,
    secretGroup: 1,
    entropy: 3,
    severity: "low",
    remediation:
      "Browser keys are embedded in pages and only allow sending browser data; if abused, rotate it in New Relic under API Keys and redeploy the browser agent snippet.",
    docs: NEW_RELIC_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `NRJS-${gen.hex(19)}`,
          [
            (s) => `;NREUM.loader_config={accountID:"123",licenseKey:"${s}",applicationID:"456"}`,
            (s) => `NEW_RELIC_BROWSER_KEY=${s}`,
          ],
        ),
      negatives: ["licenseKey: NRJS-<key>", "browser keys start with NRJS-"],
    },
  },
  {
    id: "new-relic-license-key",
    provider: "New Relic",
    description:
      "New Relic ingest license key (36 hex ending in NRAL, optionally with an eu01xx region prefix).",
    keywords: ["nral"],
    pattern: /\b((?:eu01xx[a-f0-9]{30}|[a-f0-9]{36})NRAL)\b/,
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Create a new ingest license key in New Relic under API Keys, roll it out to agents, then delete the leaked key and store the new one in a vault.",
    docs: NEW_RELIC_DOCS,
    examples: {
      positives: (gen) => [
        ...place(
          () => `${gen.hex(36)}NRAL`,
          [(s) => `NEW_RELIC_LICENSE_KEY=${s}`, (s) => `license_key: '${s}'`],
        ),
        ...place(() => `eu01xx${gen.hex(30)}NRAL`, [(s) => `newrelic.license_key = ${s}`]),
      ],
      negatives: ["NEW_RELIC_LICENSE_KEY=<license-key>NRAL", "license keys end in NRAL"],
    },
  },
  {
    id: "sentry-org-token",
    provider: "Sentry",
    description: "Sentry organization auth token (sntrys_) whose payload decodes to Sentry's JSON claims.",
    keywords: ["sntrys_"],
    pattern: /\b(sntrys_eyJ[A-Za-z0-9+/]{30,400}={0,2}_[A-Za-z0-9+/]{43})(?![A-Za-z0-9+/=])/,
    secretGroup: 1,
    entropy: 4,
    validate: (s) => isBase64Json(s.slice("sntrys_".length, s.lastIndexOf("_")), ["iat"]),
    severity: "high",
    remediation:
      "Revoke the token in Sentry under Settings > Organization Tokens (sentry.io/settings/auth-tokens), then create a new one and store it as a CI secret.",
    docs: SENTRY_DOCS,
    examples: {
      positives: (gen) =>
        place(() => {
          const claims = {
            iat: 1_700_000_000 + gen.int(0, 90_000_000) + gen.int(0, 999_999) / 1_000_000,
            url: "https://sentry.io",
            region_url: "https://us.sentry.io",
            org: gen.pick(["acme", "initech", "globex"]),
          };
          return `sntrys_${b64(JSON.stringify(claims))}_${gen.base64(43)}`;
        }, [(s) => `SENTRY_AUTH_TOKEN=${s}`, (s) => `[auth]\ntoken=${s}\n`]),
      negatives: ["SENTRY_AUTH_TOKEN=sntrys_<token>", "SENTRY_AUTH_TOKEN=${{ secrets.SENTRY_AUTH_TOKEN }}"],
    },
  },
  {
    id: "sentry-user-token",
    provider: "Sentry",
    description: "Sentry user auth token (sntryu_ + 64 hex).",
    keywords: ["sntryu_"],
    pattern: /\b(sntryu_[a-f0-9]{64})\b/,
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Revoke the token in Sentry under User Settings > Personal Tokens, then create a new one with the least scope and store it in a vault.",
    docs: SENTRY_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `sntryu_${gen.hex(64)}`,
          [
            (s) => `export SENTRY_AUTH_TOKEN=${s}`,
            (s) => `curl -H 'Authorization: Bearer ${s}' https://sentry.io/api/0/projects/`,
          ],
        ),
      negatives: [
        "SENTRY_AUTH_TOKEN=sntryu_<token>",
        "sntryu_0000000000000000000000000000000000000000000000000000000000000000",
      ],
    },
  },
  {
    id: "sentry-dsn-secret",
    provider: "Sentry",
    description: "Secret key inside a legacy Sentry DSN (https://public:secret@host/project).",
    keywords: ["sentry"],
    pattern: /https?:\/\/[a-f0-9]{32}:([a-f0-9]{32})@[\w.-]{0,80}sentry[\w.-]{0,80}\/[0-9]{1,12}\b/,
    secretGroup: 1,
    entropy: 3,
    severity: "low",
    remediation:
      "Disable the client key in Sentry under Project Settings > Client Keys (DSN) and create a new one; modern SDKs need only the public DSN, so drop the secret part.",
    docs: "https://docs.sentry.io/concepts/key-terms/dsn-explainer/",
    examples: {
      positives: (gen) =>
        place(
          () => gen.hex(32),
          [
            (s) =>
              `SENTRY_DSN=https://${gen.hex(32)}:${s}@o${gen.digits(6)}.ingest.sentry.io/${gen.digits(7)}`,
            (s) => `raven: { dsn: "https://${gen.hex(32)}:${s}@sentry.acme.io/12" }`,
          ],
        ),
      negatives: [
        "SENTRY_DSN=https://<public>:<secret>@sentry.io/1",
        "SENTRY_DSN=https://examplePublicKey@o0.ingest.sentry.io/0",
      ],
    },
  },
  {
    id: "grafana-cloud-token",
    provider: "Grafana",
    description: "Grafana Cloud access policy token (glc_).",
    keywords: ["glc_"],
    pattern: /\b(glc_[A-Za-z0-9+/]{32,400}={0,2})(?![A-Za-z0-9+/=])/,
    secretGroup: 1,
    entropy: 4,
    severity: "high",
    remediation:
      "Delete the token in the Grafana Cloud portal under Security > Access Policies (or the Cloud API), then create a new token with the least scopes and an expiry and store it in a vault.",
    docs: "https://grafana.com/docs/grafana-cloud/security-and-account-management/authentication-and-permissions/access-policies/",
    examples: {
      positives: (gen) =>
        place(() => {
          const claims = {
            o: gen.digits(6),
            n: `stack-${gen.digits(6)}-${gen.pick(["logs-write", "metrics-read", "alloy"])}`,
            k: gen.alnum(24),
            m: { r: gen.pick(["prod-us-east-0", "prod-eu-west-2"]) },
          };
          return `glc_${b64(JSON.stringify(claims))}`;
        }, [(s) => `GRAFANA_CLOUD_TOKEN=${s}`, (s) => `      password: ${s}`]),
      negatives: ["GRAFANA_CLOUD_TOKEN=glc_<token>", "GRAFANA_CLOUD_TOKEN=glc_xxxxxxxx"],
    },
  },
  {
    id: "grafana-service-account-token",
    provider: "Grafana",
    description: "Grafana service account token (glsa_).",
    keywords: ["glsa_"],
    pattern: /\b(glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})\b/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the token under Administration > Users and access > Service accounts in Grafana, then add a new token with an expiry and store it in a vault.",
    docs: GRAFANA_SA_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `glsa_${gen.alnum(32)}_${gen.hex(8)}`,
          [(s) => `GRAFANA_TOKEN=${s}`, (s) => `provider "grafana" {\n  auth = "${s}"\n}`],
        ),
      negatives: ["GRAFANA_TOKEN=glsa_<token>", "service account tokens start with glsa_"],
    },
  },
  {
    id: "grafana-api-key",
    provider: "Grafana",
    description: "Grafana legacy API key (eyJrIjoi, base64 JSON with k and n).",
    keywords: ["eyjrijoi"],
    pattern: /\b(eyJrIjoi[A-Za-z0-9+/]{40,400}={0,2})(?![A-Za-z0-9+/=])/,
    secretGroup: 1,
    entropy: 4,
    validate: (s) => isBase64Json(s, ["k", "n"]),
    severity: "high",
    remediation:
      "Delete the API key under Administration > API keys in Grafana (or migrate it to a service account), then create a service account token and store it in a vault.",
    docs: GRAFANA_SA_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () =>
            b64(
              JSON.stringify({
                k: gen.alnum(32),
                n: gen.pick(["ci", "deploy", "dashboards-sync"]),
                id: gen.int(1, 99),
              }),
            ),
          [(s) => `GRAFANA_API_KEY=${s}`, (s) => `headers = {"Authorization": "Bearer ${s}"}`],
        ),
      negatives: ["GRAFANA_API_KEY=eyJrIjoi...", "Authorization: Bearer <grafana-api-key>"],
    },
  },
  {
    id: "pagerduty-api-key",
    provider: "PagerDuty",
    description: "PagerDuty REST API key or user token (20 characters) assigned to a PagerDuty key name.",
    keywords: ["pagerduty", "pd_", "pd-", "pd."],
    pattern: assigned({
      context: String.raw`pagerduty|pd[_.-]`,
      name: "token|key",
      value: String.raw`[\w+-]{20}`,
      style: "line",
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Delete the key in PagerDuty under Integrations > API Access Keys (or the user's User Settings > API Access for user tokens), then create a new one and store it in a vault.",
    docs: "https://support.pagerduty.com/main/docs/api-access-keys",
    examples: {
      positives: (gen) => [
        ...place(() => `u+${gen.base64url(18)}`, [(s) => `PAGERDUTY_TOKEN=${s}`]),
        ...place(
          () => gen.alnum(20),
          [(s) => `pd_api_key: "${s}"`, (s) => `session = pagerduty.RestApiV2Client(api_key="${s}")`],
        ),
      ],
      negatives: ["PAGERDUTY_TOKEN=<api-key>", "PAGERDUTY_TOKEN=${PAGERDUTY_TOKEN}"],
    },
  },
  {
    id: "opsgenie-api-key",
    provider: "Opsgenie",
    description: "Opsgenie API key (UUID) in a GenieKey header or assigned to an opsgenie key name.",
    keywords: ["opsgenie", "geniekey"],
    pattern: new RegExp(
      String.raw`(?:GenieKey\s{1,3}|${START}opsgenie[^\n]{0,40}?key\w{0,12}${ASSIGN_OR_SPACE})(${UUID})${END_TOKEN}`,
      "i",
    ),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Delete the key in Opsgenie under Settings > API key management (or the integration's page for integration keys), then create a new one and store it in a vault.",
    docs: "https://support.atlassian.com/opsgenie/docs/api-key-management/",
    examples: {
      positives: (gen) =>
        place(
          () => gen.uuid(),
          [
            (s) => `curl -H "Authorization: GenieKey ${s}" https://api.opsgenie.com/v2/alerts`,
            (s) => `OPSGENIE_API_KEY=${s}`,
          ],
        ),
      negatives: ["Authorization: GenieKey <api-key>", "OPSGENIE_API_KEY=${OPSGENIE_API_KEY}"],
    },
  },
  {
    id: "honeycomb-ingest-key",
    provider: "Honeycomb",
    description: "Honeycomb ingest key (hcaik_, hcxik_).",
    keywords: ["hcaik_", "hcxik_"],
    pattern: /\b(hc[ax]ik_[0-9a-z]{58})\b/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "medium",
    remediation:
      "Disable or delete the key under Environment settings > API Keys in Honeycomb, then create a new ingest key and store it in a vault.",
    docs: HONEYCOMB_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `${gen.pick(["hcaik_", "hcxik_"])}${gen.lowerAlnum(58)}`,
          [(s) => `OTEL_EXPORTER_OTLP_HEADERS="x-honeycomb-team=${s}"`, (s) => `HONEYCOMB_API_KEY=${s}`],
        ),
      negatives: ["HONEYCOMB_API_KEY=hcaik_<key>", "ingest keys start with hcaik_"],
    },
  },
  {
    id: "honeycomb-api-key",
    provider: "Honeycomb",
    description:
      "Honeycomb configuration or classic API key (22 alphanumerics or 32 hex) assigned to a honeycomb key name.",
    keywords: ["honeycomb"],
    pattern: assigned({
      context: "honeycomb",
      name: "key|team|token",
      value: "[A-Za-z0-9]{22}|[a-f0-9]{32}",
      style: "line",
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "medium",
    remediation:
      "Disable or delete the key under Environment settings > API Keys in Honeycomb, then create a new key with the least permissions and store it in a vault.",
    docs: HONEYCOMB_DOCS,
    examples: {
      positives: (gen) => [
        ...place(
          () => gen.alnum(22),
          [(s) => `HONEYCOMB_API_KEY=${s}`, (s) => `-H "X-Honeycomb-Team: ${s}"`],
        ),
        ...place(() => gen.hex(32), [(s) => `honeycomb_writekey: "${s}"`]),
      ],
      negatives: ["HONEYCOMB_API_KEY=<key>", "X-Honeycomb-Team: ${HONEYCOMB_API_KEY}"],
    },
  },
  {
    id: "rollbar-access-token",
    provider: "Rollbar",
    description: "Rollbar project or account access token (32 hex) assigned to a rollbar key name.",
    keywords: ["rollbar"],
    pattern: assigned({ context: "rollbar", name: "token|key", value: "[a-f0-9]{32}", style: "line" }),
    secretGroup: 1,
    entropy: 3,
    severity: "medium",
    remediation:
      "Disable the token in Rollbar under Project (or Account) Settings > Access Tokens, then create a new one with only the scopes needed and store it in a vault.",
    docs: "https://docs.rollbar.com/docs/access-tokens",
    examples: {
      positives: (gen) =>
        place(
          () => gen.hex(32),
          [
            (s) => `ROLLBAR_ACCESS_TOKEN=${s}`,
            (s) => `const rollbar = new Rollbar({ accessToken: "${s}", captureUncaught: true });`,
          ],
        ),
      negatives: ["ROLLBAR_ACCESS_TOKEN=<token>", "rollbar token: POST_SERVER_ITEM_ACCESS_TOKEN"],
    },
  },
  {
    id: "bugsnag-api-key",
    provider: "Bugsnag",
    description: "Bugsnag project API key or data access token (32 hex) assigned to a bugsnag key name.",
    keywords: ["bugsnag"],
    pattern: assigned({ context: "bugsnag", name: "key|token", value: "[a-f0-9]{32}", style: "line" }),
    secretGroup: 1,
    entropy: 3,
    severity: "medium",
    remediation:
      "Regenerate the project's notifier API key in Bugsnag under Project settings (or revoke the personal auth token in your account settings), then store the new key in a vault.",
    docs: "https://docs.bugsnag.com/api/data-access/",
    examples: {
      positives: (gen) =>
        place(() => gen.hex(32), [(s) => `BUGSNAG_API_KEY=${s}`, (s) => `Bugsnag.start({ apiKey: '${s}' })`]),
      negatives: ["BUGSNAG_API_KEY=<api-key>", "Bugsnag.start({ apiKey: process.env.BUGSNAG_API_KEY })"],
    },
  },
  {
    id: "airbrake-project-key",
    provider: "Airbrake",
    description: "Airbrake project key or user API key (32 hex) assigned to an airbrake key name.",
    keywords: ["airbrake"],
    pattern: assigned({ context: "airbrake", name: "key|token", value: "[a-f0-9]{32}", style: "line" }),
    secretGroup: 1,
    entropy: 3,
    severity: "medium",
    remediation:
      "Regenerate the project key in Airbrake under Project Settings (or the user key under Profile), then store the new key in a vault.",
    docs: "https://docs.airbrake.io/docs/overview/api-keys/",
    examples: {
      positives: (gen) =>
        place(
          () => gen.hex(32),
          [(s) => `AIRBRAKE_PROJECT_KEY=${s}`, (s) => `airbrake.project_key = "${s}"`],
        ),
      negatives: ["AIRBRAKE_PROJECT_KEY=<project-key>", "airbrake key: see project settings"],
    },
  },
  {
    id: "logzio-token",
    provider: "Logz.io",
    description: "Logz.io shipping token (32 letters) or API token (UUID) assigned to a logz key name.",
    keywords: ["logz"],
    pattern: assigned({ context: "logz", name: "token|key", value: `[A-Za-z]{32}|${UUID}`, style: "line" }),
    secretGroup: 1,
    entropy: 3,
    severity: "medium",
    remediation:
      "Delete the token in Logz.io under Settings > Manage tokens (Data shipping tokens or API tokens), then create a new one and store it in a vault.",
    docs: "https://docs.logz.io/docs/user-guide/admin/authentication-tokens/api-tokens/",
    examples: {
      positives: (gen) => [
        ...place(
          () => gen.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 32),
          [(s) => `LOGZIO_TOKEN=${s}`],
        ),
        ...place(() => gen.uuid(), [(s) => `logzio_api_token: "${s}"`]),
      ],
      negatives: ["LOGZIO_TOKEN=<shipping-token>", "LOGZIO_TOKEN=${LOGZIO_TOKEN}"],
    },
  },
  {
    id: "sumologic-access-key",
    provider: "Sumo Logic",
    description: "Sumo Logic access key (64 alphanumerics) assigned to a sumo key name.",
    keywords: ["sumo"],
    pattern: assigned({ context: "sumo", name: "key|secret", value: "[A-Za-z0-9]{64}", style: "line" }),
    secretGroup: 1,
    entropy: 4,
    severity: "high",
    remediation:
      "Delete the access key in Sumo Logic under Administration > Security > Access Keys (or Preferences > My Access Keys), then create a new one and store it in a vault.",
    docs: SUMO_DOCS,
    examples: {
      positives: (gen) =>
        place(() => gen.alnum(64), [(s) => `SUMOLOGIC_ACCESSKEY=${s}`, (s) => `sumo_access_key = "${s}"`]),
      negatives: ["SUMOLOGIC_ACCESSKEY=<access-key>", "SUMOLOGIC_ACCESSID=suXXXXXXXXXXXX"],
    },
  },
  {
    id: "sumologic-http-source-url",
    provider: "Sumo Logic",
    description: "Token inside a Sumo Logic hosted HTTP/OTLP source URL, which lets anyone send data.",
    keywords: ["sumologic.com"],
    pattern:
      /collection\.[a-z0-9.]{0,12}sumologic\.com\/receiver\/v1\/(?:http|otlp)\/([\w-]{40,400}={0,2})(?![\w=-])/,
    secretGroup: 1,
    entropy: 4,
    severity: "medium",
    remediation:
      "Regenerate the source's URL in Sumo Logic under Manage Data > Collection (Show URL > New URL), then update the senders and store the URL in a vault.",
    docs: "https://help.sumologic.com/docs/send-data/hosted-collectors/http-source/logs-metrics/",
    examples: {
      positives: (gen) =>
        place(
          () => `${gen.base64url(120)}==`,
          [
            (s) => `SUMO_URL=https://endpoint4.collection.us2.sumologic.com/receiver/v1/http/${s}`,
            (s) => `  url: "https://endpoint1.collection.sumologic.com/receiver/v1/otlp/${s}"`,
          ],
        ),
      negatives: [
        "SUMO_URL=https://endpoint1.collection.sumologic.com/receiver/v1/http/<token>",
        "see https://collection.sumologic.com/receiver/v1/http/ for the endpoint",
      ],
    },
  },
  {
    id: "loggly-customer-token",
    provider: "Loggly",
    description: "Loggly customer token (UUID) in an inputs/bulk URL or assigned to a loggly key name.",
    keywords: ["loggly"],
    pattern: new RegExp(
      String.raw`(?:loggly\.com/(?:inputs|bulk)/|${START}loggly[^\n]{0,40}?(?:token|key)\w{0,12}${ASSIGN_OR_SPACE})(${UUID})${END_TOKEN}`,
      "i",
    ),
    secretGroup: 1,
    entropy: 3,
    severity: "medium",
    remediation:
      "Add a new customer token in Loggly under Source Setup > Customer Tokens, switch senders to it, then delete the leaked token and store the new one in a vault.",
    docs: "https://documentation.solarwinds.com/en/success_center/loggly/content/admin/customer-token-authentication-token.htm",
    examples: {
      positives: (gen) =>
        place(
          () => gen.uuid(),
          [
            (s) => `curl -d "hello" https://logs-01.loggly.com/inputs/${s}/tag/http/`,
            (s) => `LOGGLY_TOKEN=${s}`,
          ],
        ),
      negatives: ["https://logs-01.loggly.com/inputs/TOKEN/tag/http/", "LOGGLY_TOKEN=<customer-token>"],
    },
  },
  {
    id: "splunk-hec-token",
    provider: "Splunk",
    description:
      "Splunk HTTP Event Collector token (UUID) in a `Splunk` authorization header or assigned to a splunk token name.",
    keywords: ["splunk"],
    pattern: new RegExp(
      String.raw`(?:Splunk\s{1,3}|${START}splunk[^\n]{0,40}?(?:token|hec)\w{0,12}${ASSIGN_OR_SPACE})(${UUID})${END_TOKEN}`,
      "i",
    ),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Delete or disable the token in Splunk under Settings > Data inputs > HTTP Event Collector, create a new one with only the indexes it needs, and store it in a vault.",
    docs: "https://docs.splunk.com/Documentation/Splunk/latest/Data/UsetheHTTPEventCollector",
    examples: {
      positives: (gen) => [
        ...place(
          () => gen.uuid().toUpperCase(),
          [(s) => `curl -k https://hec.acme.io:8088/services/collector -H "Authorization: Splunk ${s}"`],
        ),
        ...place(() => gen.uuid(), [(s) => `SPLUNK_HEC_TOKEN=${s}`, (s) => `  splunk_token: "${s}"`]),
      ],
      negatives: ["Authorization: Splunk <hec-token>", "SPLUNK_HEC_TOKEN=${SPLUNK_HEC_TOKEN}"],
    },
  },
  {
    id: "elastic-api-key",
    provider: "Elastic",
    description:
      "Elasticsearch/Kibana encoded API key (base64 of id:key) in an ApiKey header or assigned to an elastic/es api key name.",
    keywords: ["apikey", "elastic", "kibana", "es_", "es-", "es."],
    pattern: new RegExp(
      String.raw`(?:ApiKey\s{1,3}|${START}(?:elastic|kibana|es[_.-])[\w.-]{0,20}api[_.-]?key\w{0,12}${ASSIGN_OR_SPACE})([A-Za-z0-9+/]{40,200}={0,2})(?![A-Za-z0-9+/=])`,
      "i",
    ),
    secretGroup: 1,
    entropy: 4,
    validate: isElasticApiKey,
    severity: "high",
    remediation:
      "Invalidate the key in Kibana under Stack Management > API keys (or POST /_security/api_key/_invalidate, or the Elastic Cloud console for Cloud keys), then create a new key with least-privilege role descriptors and an expiry and store it in a vault.",
    docs: ELASTIC_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => b64(`${gen.base64url(20)}:${gen.base64url(22)}`),
          [
            (s) => `curl -H "Authorization: ApiKey ${s}" https://es.acme.io:9200/_cluster/health`,
            (s) => `ELASTIC_API_KEY=${s}`,
            (s) => `  es_api_key: "${s}"`,
          ],
        ),
      negatives: ["Authorization: ApiKey <base64(id:api_key)>", "ELASTIC_API_KEY=${ELASTIC_API_KEY}"],
    },
  },
  {
    id: "elastic-cloud-api-key",
    provider: "Elastic",
    description: "Elastic Cloud API key (essu_).",
    keywords: ["essu_"],
    pattern: /\b(essu_[A-Za-z0-9+/]{60,300}={0,2})(?![A-Za-z0-9+/=])/,
    secretGroup: 1,
    entropy: 4,
    severity: "high",
    remediation:
      "Revoke the key in the Elastic Cloud console under Organization > API keys, then create a new one with the least role and an expiry and store it in a vault.",
    docs: "https://www.elastic.co/guide/en/cloud/current/ec-api-authentication.html",
    examples: {
      positives: (gen) =>
        place(
          () => `essu_${gen.base64(92)}==`,
          [
            (s) => `EC_API_KEY=${s}`,
            (s) => `curl -H "Authorization: ApiKey ${s}" https://api.elastic-cloud.com/api/v1/deployments`,
          ],
        ),
      negatives: ["EC_API_KEY=essu_<key>", "Elastic Cloud keys start with essu_"],
    },
  },
  {
    id: "dynatrace-api-token",
    provider: "Dynatrace",
    description: "Dynatrace API or platform token (dt0c01., dt0s01./dt0s16.).",
    keywords: ["dt0c", "dt0s"],
    pattern: /\b(dt0[cs][0-9]{2}\.[A-Z0-9]{24}\.[A-Z0-9]{64})\b/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the token in Dynatrace under Access tokens (or the account's Identity & access management for platform tokens), then generate a new one with the least scopes and store it in a vault.",
    docs: "https://docs.dynatrace.com/docs/manage/identity-access-management/access-tokens-and-oauth-clients/access-tokens",
    examples: {
      positives: (gen) =>
        place(
          () => `dt0c01.${gen.upperAlnum(24)}.${gen.upperAlnum(64)}`,
          [
            (s) => `DT_API_TOKEN=${s}`,
            (s) =>
              `curl -H "Authorization: Api-Token ${s}" https://abc12345.live.dynatrace.com/api/v2/metrics`,
          ],
        ),
      negatives: [
        "DT_API_TOKEN=dt0c01.<id>.<secret>",
        "DT_API_TOKEN=dt0c01.XXXXXXXXXXXXXXXXXXXXXXXX.XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
      ],
    },
  },
  {
    id: "lightstep-access-token",
    provider: "Lightstep",
    description:
      "Lightstep (ServiceNow Cloud Observability) access token or API key assigned to a lightstep key name.",
    keywords: ["lightstep"],
    pattern: assigned({
      context: "lightstep",
      name: "token|key",
      value: "[A-Za-z0-9+/]{32,200}={0,2}",
      style: "line",
    }),
    secretGroup: 1,
    entropy: 4,
    severity: "medium",
    remediation:
      "Delete the token in Cloud Observability under Project settings > Access tokens (or API keys), then create a new one and store it in a vault.",
    docs: "https://docs.lightstep.com/docs/create-and-manage-access-tokens",
    examples: {
      positives: (gen) =>
        place(
          () => gen.base64(84),
          [
            (s) => `LIGHTSTEP_ACCESS_TOKEN=${s}`,
            (s) => `OTEL_EXPORTER_OTLP_HEADERS=lightstep-access-token=${s}`,
          ],
        ),
      negatives: ["LIGHTSTEP_ACCESS_TOKEN=<access-token>", "LIGHTSTEP_ACCESS_TOKEN=${LS_TOKEN}"],
    },
  },
  {
    id: "axiom-token",
    provider: "Axiom",
    description: "Axiom API token or personal access token (xaat-, xapt-).",
    keywords: ["xaat-", "xapt-"],
    pattern: new RegExp(String.raw`\b(xa[ap]t-${UUID})\b`),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Delete the token in Axiom under Settings > API tokens (or Profile > Personal tokens), then create a new one with the least permissions and store it in a vault.",
    docs: "https://axiom.co/docs/reference/tokens",
    examples: {
      positives: (gen) =>
        place(
          () => `${gen.pick(["xaat-", "xapt-"])}${gen.uuid()}`,
          [(s) => `AXIOM_TOKEN=${s}`, (s) => `client = axiom.Client(token="${s}")`],
        ),
      negatives: ["AXIOM_TOKEN=xaat-<token>", "AXIOM_TOKEN=xaat-00000000-0000-0000-0000-000000000000"],
    },
  },
  {
    id: "coralogix-api-key",
    provider: "Coralogix",
    description: "Coralogix Send-Your-Data or personal API key (cxtp_, cxup_).",
    keywords: ["cxtp_", "cxup_"],
    pattern: /\b(cx[tu]p_[A-Za-z0-9]{20,40})\b/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "medium",
    remediation:
      "Delete the key in Coralogix under Settings > API Keys, then create a new one with the least presets and store it in a vault.",
    docs: "https://coralogix.com/docs/user-guides/account-management/api-keys/api-keys/",
    examples: {
      positives: (gen) =>
        place(
          () => `${gen.pick(["cxtp_", "cxup_"])}${gen.alnum(30)}`,
          [(s) => `CORALOGIX_PRIVATE_KEY=${s}`, (s) => `    headers: { Authorization: "Bearer ${s}" }`],
        ),
      negatives: ["CORALOGIX_PRIVATE_KEY=cxtp_<key>", "keys look like cxtp_..."],
    },
  },
  {
    id: "papertrail-api-token",
    provider: "Papertrail",
    description: "Papertrail API token (20 alphanumerics) assigned to a papertrail key name or header.",
    keywords: ["papertrail"],
    pattern: assigned({ context: "papertrail", name: "token|key", value: "[A-Za-z0-9]{20}", style: "line" }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "medium",
    remediation:
      "Regenerate the API token in Papertrail under Settings > Profile, which invalidates the old one, then store the new token in a vault.",
    docs: "https://www.papertrail.com/help/http-api/",
    examples: {
      positives: (gen) =>
        place(
          () => gen.alnum(20),
          [
            (s) => `PAPERTRAIL_API_TOKEN=${s}`,
            (s) => `curl -H "X-Papertrail-Token: ${s}" https://papertrailapp.com/api/v1/events/search.json`,
          ],
        ),
      negatives: ["PAPERTRAIL_API_TOKEN=<token>", "X-Papertrail-Token: ${PAPERTRAIL_API_TOKEN}"],
    },
  },
  {
    id: "mezmo-ingestion-key",
    provider: "Mezmo",
    description: "Mezmo (LogDNA) ingestion or service key (32 hex) assigned to a logdna/mezmo key name.",
    keywords: ["logdna", "mezmo"],
    pattern: assigned({ context: "logdna|mezmo", name: "key|token", value: "[a-f0-9]{32}", style: "line" }),
    secretGroup: 1,
    entropy: 3,
    severity: "medium",
    remediation:
      "Add a new key in Mezmo under Settings > Organization > API Keys, switch agents to it, then delete the leaked key and store the new one in a vault.",
    docs: "https://docs.mezmo.com/docs/ingestion-key",
    examples: {
      positives: (gen) =>
        place(() => gen.hex(32), [(s) => `LOGDNA_INGESTION_KEY=${s}`, (s) => `  mezmo_service_key: "${s}"`]),
      negatives: ["LOGDNA_INGESTION_KEY=<ingestion-key>", "MZ_INGESTION_KEY=${MEZMO_KEY}"],
    },
  },
  {
    id: "appsignal-push-api-key",
    provider: "AppSignal",
    description: "AppSignal push or front-end API key (UUID) assigned to an appsignal key name.",
    keywords: ["appsignal"],
    pattern: assigned({ context: "appsignal", name: "key", value: UUID, style: "line" }),
    secretGroup: 1,
    entropy: 3,
    severity: "medium",
    remediation:
      "Rotate the push API key in AppSignal under Organization settings > Administration > API keys, update the agents, and store the new key in a vault.",
    docs: "https://docs.appsignal.com/appsignal/terminology.html",
    examples: {
      positives: (gen) =>
        place(
          () => gen.uuid(),
          [
            (s) => `APPSIGNAL_PUSH_API_KEY=${s}`,
            (s) => `const appsignal = new Appsignal({ active: true, name: "web", pushApiKey: "${s}" });`,
          ],
        ),
      negatives: ["APPSIGNAL_PUSH_API_KEY=<push-api-key>", "APPSIGNAL_PUSH_API_KEY=${APPSIGNAL_KEY}"],
    },
  },
  {
    id: "betterstack-source-token",
    provider: "Better Stack",
    description:
      "Better Stack (Logtail) source token (24 alphanumerics) assigned to a logtail/betterstack key name.",
    keywords: ["logtail", "betterstack", "better_stack"],
    pattern: assigned({
      context: "logtail|betterstack|better_stack",
      name: "token|key",
      value: "[A-Za-z0-9]{24}",
      style: "line",
    }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "medium",
    remediation:
      "Create a new source (or reset its token) in Better Stack Telemetry under Sources, switch senders to it, then delete the leaked one and store the token in a vault.",
    docs: "https://betterstack.com/docs/logs/start/",
    examples: {
      positives: (gen) =>
        place(
          () => gen.alnum(24),
          [(s) => `LOGTAIL_SOURCE_TOKEN=${s}`, (s) => `  betterstack: { source_token: "${s}" }`],
        ),
      negatives: ["LOGTAIL_SOURCE_TOKEN=<source-token>", "BETTERSTACK_API_TOKEN=${BETTERSTACK_API_TOKEN}"],
    },
  },
];

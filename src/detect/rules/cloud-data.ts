import type { Rule } from "../rule.ts";
import {
  ASSIGN,
  assigned,
  assignmentExamples,
  b64url,
  END_BASE64,
  fakeJwt,
  line,
  place,
  placeholderNegatives,
  prefixedRule,
  type TokenFamily,
  UUID,
} from "./shared.ts";

const UUID_SHAPE = "8-4-4-4-12 hex UUID";

const PLANETSCALE: TokenFamily = {
  provider: "PlanetScale",
  body: "[A-Za-z0-9=._-]{32,64}",
  end: "(?![A-Za-z0-9=._-])",
  example: (gen) => gen.base64url(43),
  entropy: 3.5,
};

const MONGODB_ATLAS_DOCS = "https://www.mongodb.com/docs/atlas/configure-api-access/";
const PINECONE_REMEDIATION =
  "Delete the key in the Pinecone console (project > API keys), then create a new one with the role it needs and store it in a vault.";
const PINECONE_DOCS = "https://docs.pinecone.io/guides/projects/manage-api-keys";

/**
 * Managed data services: databases (Supabase, PlanetScale, Neon, MongoDB Atlas, Upstash,
 * Aiven), streaming and analytics (Confluent, Databricks, Snowflake), search and vectors
 * (Algolia, Pinecone), media and content (Cloudinary, Mapbox, Contentful, Sanity).
 *
 * @example
 *   dataRules.find((r) => r.id === "databricks-api-token")
 */
export const dataRules: readonly Rule[] = [
  {
    id: "supabase-personal-access-token",
    provider: "Supabase",
    description: "Supabase personal access token for the Management API (sbp_ followed by 40 hex digits).",
    keywords: ["sbp_"],
    pattern: /\b(sbp_[a-f0-9]{40})\b/,
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Revoke the token in the Supabase dashboard (Account > Access Tokens), then generate a new one and store it in a vault.",
    docs: "https://supabase.com/docs/reference/api/introduction",
    examples: {
      positives: (gen) =>
        place(
          () => `sbp_${gen.hex(40)}`,
          [(s) => `SUPABASE_ACCESS_TOKEN=${s}`, (s) => `supabase login --token ${s}`],
        ),
      negatives: ["SUPABASE_ACCESS_TOKEN=sbp_<token>"],
    },
  },
  {
    id: "supabase-secret-key",
    provider: "Supabase",
    description:
      "Supabase project secret API key (sb_secret_ followed by 20 to 60 characters), which bypasses Row Level Security.",
    keywords: ["sb_secret_"],
    pattern: /\b(sb_secret_[A-Za-z0-9_-]{20,60})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Delete the key in the Supabase dashboard (Project Settings > API Keys), then create a new secret key, keep it server-side only and store it in a vault.",
    docs: "https://supabase.com/docs/guides/api/api-keys",
    examples: {
      positives: (gen) =>
        place(
          () => `sb_secret_${gen.base64url(31)}`,
          [(s) => `SUPABASE_SECRET_KEY=${s}`, (s) => `const supabase = createClient(SUPABASE_URL, "${s}");`],
        ),
      negatives: [
        "SUPABASE_SECRET_KEY=sb_secret_<key>",
        "Secret keys start with sb_secret_, publishable keys with sb_publishable_.",
      ],
    },
  },
  prefixedRule(PLANETSCALE, {
    id: "planetscale-service-token",
    prefix: "pscale_tkn_",
    description: "PlanetScale service token (pscale_tkn_ followed by 32 to 64 characters).",
    severity: "critical",
    remediation:
      "Delete the service token in PlanetScale (Organization settings > Service tokens) or with `pscale service-token delete`, then create a new one with the least access and store it in a vault.",
    docs: "https://planetscale.com/docs/concepts/service-tokens",
    lines: [(s) => `PLANETSCALE_SERVICE_TOKEN=${s}`, (s) => `  service_token: "${s}"`],
    negatives: ["PLANETSCALE_SERVICE_TOKEN=pscale_tkn_<token>"],
  }),
  prefixedRule(PLANETSCALE, {
    id: "planetscale-password",
    prefix: "pscale_pw_",
    description: "PlanetScale database password (pscale_pw_ followed by 32 to 64 characters).",
    severity: "critical",
    remediation:
      "Delete the password in PlanetScale (database > Settings > Passwords) or with `pscale password delete`, then create a new one for the branch and store it in a vault.",
    docs: "https://planetscale.com/docs/concepts/connection-strings",
    lines: [
      (s) => `DATABASE_PASSWORD=${s}`,
      (s) => `db = MySQLdb.connect(host="aws.connect.psdb.cloud", user="app", passwd="${s}", db="shop")`,
    ],
    negatives: ["DATABASE_PASSWORD=pscale_pw_<password>"],
  }),
  prefixedRule(PLANETSCALE, {
    id: "planetscale-oauth-token",
    prefix: "pscale_oauth_",
    description: "PlanetScale OAuth access token (pscale_oauth_ followed by 32 to 64 characters).",
    severity: "high",
    remediation:
      "Revoke the token through the PlanetScale API or by removing the application's access (Organization settings > OAuth applications), then reauthorize and store the new token in a vault.",
    docs: "https://planetscale.com/docs/concepts/planetscale-api-oauth-applications",
    lines: [(s) => `{"access_token": "${s}", "token_type": "Bearer"}`, (s) => `PSCALE_OAUTH_TOKEN=${s}`],
    negatives: ['"access_token": "pscale_oauth_<token>"'],
  }),
  {
    id: "neon-api-key",
    provider: "Neon",
    description: "Neon API key (napi_ followed by 40 to 80 characters).",
    keywords: ["napi_"],
    pattern: /\b(napi_[A-Za-z0-9]{40,80})\b/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Revoke the key in the Neon Console (Account settings > API keys, or the organization's API keys) or with DELETE /api_keys/{id}, then create a new one and store it in a vault.",
    docs: "https://neon.com/docs/manage/api-keys",
    examples: {
      positives: (gen) =>
        place(
          () => `napi_${gen.lowerAlnum(64)}`,
          [
            (s) => `NEON_API_KEY=${s}`,
            (s) => `curl -H "Authorization: Bearer ${s}" https://console.neon.tech/api/v2/projects`,
          ],
        ),
      negatives: [
        "NEON_API_KEY=napi_<api-key>",
        "napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, data, &result);",
      ],
    },
  },
  {
    id: "mongodb-atlas-api-private-key",
    provider: "MongoDB Atlas",
    description: `MongoDB Atlas programmatic API private key (${UUID_SHAPE}) next to an atlas / mcli private-key name.`,
    keywords: ["atlas", "mcli"],
    pattern: assigned({
      context: String.raw`atlas|\bmcli`,
      name: String.raw`private[\w.-]{0,12}`,
      value: UUID,
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Delete the API key in Atlas (Organization > Access Manager > API Keys) or with `atlas organizations apiKeys delete`, check the activity feed, then create a new key with an IP access list and store it in a vault.",
    docs: MONGODB_ATLAS_DOCS,
    examples: assignmentExamples("MONGODB_ATLAS_PRIVATE_KEY", (gen) => gen.uuid()),
  },
  {
    id: "mongodb-atlas-service-account-secret",
    provider: "MongoDB Atlas",
    description: "MongoDB Atlas service account client secret (mdb_sa_sk_ followed by 30 to 80 characters).",
    keywords: ["mdb_sa_sk_"],
    pattern: /\b(mdb_sa_sk_[A-Za-z0-9_-]{30,80})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Delete the secret in Atlas (Organization > Access Manager > Service Accounts > secrets), then generate a new one with an expiry and store it in a vault.",
    docs: MONGODB_ATLAS_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `mdb_sa_sk_${gen.base64url(40)}`,
          [(s) => `MONGODB_ATLAS_CLIENT_SECRET=${s}`, (s) => `client_secret: "${s}"`],
        ),
      negatives: ["MONGODB_ATLAS_CLIENT_SECRET=mdb_sa_sk_<secret>"],
    },
  },
  {
    id: "upstash-token",
    provider: "Upstash",
    description: "Upstash Redis REST token or QStash token next to an upstash / qstash token name.",
    keywords: ["upstash", "qstash"],
    pattern: assigned({
      context: "upstash|qstash",
      name: "token",
      value: "[A-Za-z0-9_-]{40,200}={0,2}",
      end: END_BASE64,
    }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Reset the credentials in the Upstash console (database > Reset credentials, or QStash > Reset token), update clients, and store the new token in a vault.",
    docs: "https://upstash.com/docs/redis/features/restapi",
    examples: {
      positives: (gen) =>
        place(
          [`AX${gen.base64url(62)}`, `AY${gen.base64url(62)}`, `${gen.base64url(96)}=`],
          [
            line.env("UPSTASH_REDIS_REST_TOKEN"),
            line.yaml("upstash_redis_rest_token"),
            line.json("upstashRedisRestToken"),
          ],
        ),
      negatives: placeholderNegatives("UPSTASH_REDIS_REST_TOKEN"),
    },
  },
  {
    id: "upstash-management-api-key",
    provider: "Upstash",
    description: `Upstash management (developer) API key (${UUID_SHAPE}) next to an upstash api key name.`,
    keywords: ["upstash"],
    pattern: assigned({ context: "upstash", name: "(?:api|management)[_-]?key", value: UUID }),
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Delete the key in the Upstash console (Account > Management API), then create a new one and store it in a vault.",
    docs: "https://upstash.com/docs/devops/developer-api/introduction",
    examples: assignmentExamples("UPSTASH_API_KEY", (gen) => gen.uuid()),
  },
  {
    id: "aiven-service-password",
    provider: "Aiven",
    description: "Aiven service user password (AVNS_ followed by 16 to 32 characters).",
    keywords: ["avns_"],
    pattern: /\b(AVNS_[A-Za-z0-9_-]{16,32})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Reset the service user's password in the Aiven Console (service > Users > Reset password) or with `avn service user-password-reset`, update clients, and store the new password in a vault.",
    docs: "https://aiven.io/docs/tools/cli/service/user",
    examples: {
      positives: (gen) =>
        place(
          () => `AVNS_${gen.base64url(19)}`,
          [
            (s) => `PGPASSWORD=${s} psql -h pg-shop.aivencloud.com -p 12691 -U avnadmin defaultdb`,
            (s) => `  password: "${s}"`,
          ],
        ),
      negatives: ["PGPASSWORD=AVNS_<password>"],
    },
  },
  {
    id: "confluent-cloud-api-secret",
    provider: "Confluent",
    description:
      "Confluent Cloud API secret (64 characters) next to a confluent secret name or in a JAAS config for confluent.cloud.",
    keywords: ["confluent"],
    pattern: new RegExp(
      String.raw`(?:confluent[\w.-]{0,30}secret[\w.-]{0,10}${ASSIGN}|confluent\.cloud[\s\S]{0,300}?password\s{0,2}=\s{0,2}\\?["'])([A-Za-z0-9+/]{64})(?![A-Za-z0-9+/=])`,
      "i",
    ),
    secretGroup: 1,
    entropy: 4,
    severity: "critical",
    remediation:
      "Delete the API key in Confluent Cloud (Administration > API keys) or with `confluent api-key delete KEY`, then create a new key owned by a service account and store it in a vault.",
    docs: "https://docs.confluent.io/cloud/current/security/authenticate/workload-identities/service-accounts/api-keys/manage-api-keys.html",
    examples: {
      positives: (gen) =>
        place(
          [gen.base64(64), gen.base64(64)],
          [
            (s) => `CONFLUENT_CLOUD_API_SECRET=${s}`,
            (s) =>
              `bootstrap.servers=pkc-${gen.lowerAlnum(5)}.eu-west-1.aws.confluent.cloud:9092\nsecurity.protocol=SASL_SSL\n` +
              `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username='${gen.upperAlnum(16)}' password='${s}';`,
          ],
        ),
      negatives: placeholderNegatives("CONFLUENT_CLOUD_API_SECRET"),
    },
  },
  {
    id: "databricks-api-token",
    provider: "Databricks",
    description: "Databricks personal access token (dapi followed by 32 hex digits, optionally -N).",
    keywords: ["dapi"],
    pattern: /\b(dapi[a-f0-9]{32}(?:-\d)?)\b/,
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Revoke the token in the workspace (Settings > Developer > Access tokens; admins via the Token Management API), then create a new one with a lifetime, or use OAuth, and store it in a vault.",
    docs: "https://docs.databricks.com/en/dev-tools/auth/pat.html",
    examples: {
      positives: (gen) =>
        place(
          [`dapi${gen.hex(32)}`, `dapi${gen.hex(32)}-2`],
          [
            (s) => `DATABRICKS_TOKEN=${s}`,
            (s) => `[DEFAULT]\nhost = https://adb-${gen.digits(16)}.7.azuredatabricks.net\ntoken = ${s}`,
          ],
        ),
      negatives: ["DATABRICKS_TOKEN=dapi<token>", "token = dapiXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"],
    },
  },
  {
    id: "databricks-oauth-secret",
    provider: "Databricks",
    description: "Databricks service principal OAuth secret (dose followed by 32 hex digits).",
    keywords: ["dose"],
    pattern: /\b(dose[a-f0-9]{32})\b/,
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Delete the secret on the service principal (account console > User management > Service principals > Secrets), then create a new one and store it in a vault.",
    docs: "https://docs.databricks.com/en/dev-tools/auth/oauth-m2m.html",
    examples: {
      positives: (gen) =>
        place(
          () => `dose${gen.hex(32)}`,
          [(s) => `DATABRICKS_CLIENT_SECRET=${s}`, (s) => `client_secret: "${s}"`],
        ),
      negatives: ["DATABRICKS_CLIENT_SECRET=dose<secret>", "Take one dose daily."],
    },
  },
  {
    id: "snowflake-credential",
    provider: "Snowflake",
    description:
      "Snowflake password or programmatic access token next to a snowflake password / token name or in a dbt profile with type: snowflake.",
    keywords: ["snowflake"],
    pattern: assigned({
      context: String.raw`snowflake|type:\s{0,3}["']?snowflake["']?[\s\S]{0,200}?`,
      name: "password|passwd|pwd|token|pat",
      value: "[A-Za-z0-9!@#%^&*_+=.~-]{8,2000}",
      end: String.raw`(?=["'\s;,]|$)`,
      flags: "im",
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Reset the password or remove the token in Snowsight (Admin > Users & roles) or with `ALTER USER ... SET PASSWORD` / `ALTER USER ... REMOVE PROGRAMMATIC ACCESS TOKEN`, prefer key-pair or OAuth auth, and store the new credential in a vault.",
    docs: "https://docs.snowflake.com/en/user-guide/programmatic-access-tokens",
    examples: {
      positives: (gen) =>
        place(
          [
            `${gen.alnum(12)}!${gen.alnum(6)}`,
            fakeJwt(gen, { iss: "snowflake", sub: "SVC_ETL" }),
            `${gen.alnum(10)}#${gen.digits(4)}`,
          ],
          [
            (s) => `SNOWFLAKE_PASSWORD=${s}`,
            (s) => `snowflake_token: "${s}"`,
            (s) =>
              `shop:\n  outputs:\n    prod:\n      type: snowflake\n      account: xy12345\n      user: DBT\n      password: "${s}"`,
          ],
        ),
      negatives: [...placeholderNegatives("SNOWFLAKE_PASSWORD"), "SNOWFLAKE_PASSWORD=********"],
    },
  },
  {
    id: "algolia-admin-api-key",
    provider: "Algolia",
    description:
      "Algolia admin or write API key (32 hex digits) next to an algolia admin / write / api key name (search-only keys are public and not matched).",
    keywords: ["algolia"],
    pattern: assigned({ context: "algolia[_-]?(?:admin|write|api)", name: "key", value: "[a-f0-9]{32}" }),
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Regenerate the Admin API key in the Algolia dashboard (Settings > API Keys > Regenerate) or delete the custom key, update back ends, and store the new key in a vault; front ends should use search-only keys.",
    docs: "https://www.algolia.com/doc/guides/security/api-keys/",
    examples: assignmentExamples("ALGOLIA_ADMIN_API_KEY", (gen) => gen.hex(32), [
      "ALGOLIA_SEARCH_API_KEY=<search-only-key>",
    ]),
  },
  {
    id: "pinecone-api-key",
    provider: "Pinecone",
    description: "Pinecone API key (pcsk_ followed by a key id and a secret).",
    keywords: ["pcsk_"],
    pattern: /\b(pcsk_[A-Za-z0-9]{4,10}_[A-Za-z0-9]{50,80})\b/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation: PINECONE_REMEDIATION,
    docs: PINECONE_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `pcsk_${gen.alnum(6)}_${gen.alnum(64)}`,
          [(s) => `PINECONE_API_KEY=${s}`, (s) => `pc = Pinecone(api_key="${s}")`],
        ),
      negatives: ["PINECONE_API_KEY=pcsk_<api-key>"],
    },
  },
  {
    id: "pinecone-api-key-legacy",
    provider: "Pinecone",
    description: `Pinecone API key in the older ${UUID_SHAPE} format, next to a pinecone name.`,
    keywords: ["pinecone"],
    pattern: assigned({ context: "pinecone", name: "key", value: UUID }),
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation: PINECONE_REMEDIATION,
    docs: PINECONE_DOCS,
    examples: assignmentExamples("PINECONE_API_KEY", (gen) => gen.uuid()),
  },
  {
    id: "cloudinary-url",
    provider: "Cloudinary",
    description: "Cloudinary API secret inside a cloudinary://KEY:SECRET@CLOUD URL.",
    keywords: ["cloudinary://"],
    pattern: /cloudinary:\/\/\d{6,20}:([A-Za-z0-9_-]{20,40})@[A-Za-z0-9_-]{1,64}/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "In the Cloudinary Console (Settings > API Keys), generate a new API key, move clients to it, then deactivate and delete the leaked key; store the new CLOUDINARY_URL in a vault.",
    docs: "https://cloudinary.com/documentation/developer_onboarding_faq_find_credentials",
    examples: {
      positives: (gen) =>
        place(
          [gen.base64url(27), gen.base64url(27)],
          [
            (s) => `CLOUDINARY_URL=cloudinary://${gen.digits(15)}:${s}@shop-media`,
            (s) => `cloudinary.config(cloudinary_url="cloudinary://${gen.digits(15)}:${s}@demo-cloud")`,
          ],
        ),
      negatives: [
        "CLOUDINARY_URL=cloudinary://<api_key>:<api_secret>@<cloud_name>",
        "CLOUDINARY_URL=cloudinary://${CLOUDINARY_KEY}:${CLOUDINARY_SECRET}@shop",
      ],
    },
  },
  {
    id: "mapbox-secret-token",
    provider: "Mapbox",
    description: "Mapbox secret access token (sk.eyJ...); public pk. tokens are not matched.",
    keywords: ["sk.eyj"],
    pattern: /\b(sk\.eyJ[A-Za-z0-9_-]{20,200}\.[A-Za-z0-9_-]{20,30})(?![A-Za-z0-9_.-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete or rotate the token on the Mapbox account's Access tokens page (or with the Tokens API), then create a new secret token with the least scopes and store it in a vault.",
    docs: "https://docs.mapbox.com/accounts/guides/tokens/",
    examples: {
      positives: (gen) =>
        place(
          () =>
            `sk.${b64url(JSON.stringify({ u: `user${gen.digits(3)}`, a: gen.lowerAlnum(25) }))}.${gen.base64url(22)}`,
          [
            (s) => `MAPBOX_DOWNLOADS_TOKEN=${s}`,
            (s) => `machine api.mapbox.com\n  login mapbox\n  password ${s}`,
          ],
        ),
      negatives: [
        "MAPBOX_DOWNLOADS_TOKEN=sk.<secret-token>",
        "Secret tokens start with sk.eyJ and public ones with pk.eyJ.",
      ],
    },
  },
  {
    id: "contentful-personal-access-token",
    provider: "Contentful",
    description:
      "Contentful Content Management API personal access token (CFPAT- followed by 43 characters).",
    keywords: ["cfpat-"],
    pattern: /\b(CFPAT-[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Revoke the token in Contentful (Settings > CMA tokens > Revoke) or with the Content Management API, then create a new one and store it in a vault.",
    docs: "https://www.contentful.com/developers/docs/references/authentication/",
    examples: {
      positives: (gen) =>
        place(
          () => `CFPAT-${gen.base64url(43)}`,
          [
            (s) => `CONTENTFUL_MANAGEMENT_TOKEN=${s}`,
            (s) => `const client = contentful.createClient({ accessToken: "${s}" });`,
          ],
        ),
      negatives: ["CONTENTFUL_MANAGEMENT_TOKEN=CFPAT-<token>"],
    },
  },
  {
    id: "sanity-api-token",
    provider: "Sanity",
    description: "Sanity API token (sk followed by 60 to 250 characters) next to a sanity name.",
    keywords: ["sanity"],
    pattern: assigned({ context: "sanity", name: "token|key", value: "sk[A-Za-z0-9]{60,250}" }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the token in sanity.io/manage (project > API > Tokens), then create a new one with the least permission and store it in a vault.",
    docs: "https://www.sanity.io/docs/http-auth",
    examples: assignmentExamples("SANITY_API_TOKEN", (gen) => `sk${gen.alnum(180)}`),
  },
];

import type { Rule } from "../rule.ts";
import { assignmentExamples, fakeJwt, placeholderNegatives } from "./cloud-shared.ts";

const UUID_SHAPE = "8-4-4-4-12 hex UUID";

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
      positives: (gen) => {
        const [a, b] = [`sbp_${gen.hex(40)}`, `sbp_${gen.hex(40)}`];
        return [
          { text: `SUPABASE_ACCESS_TOKEN=${a}`, secret: a },
          { text: `supabase login --token ${b}`, secret: b },
        ];
      },
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
      positives: (gen) => {
        const [a, b] = [`sb_secret_${gen.base64url(31)}`, `sb_secret_${gen.base64url(31)}`];
        return [
          { text: `SUPABASE_SECRET_KEY=${a}`, secret: a },
          { text: `const supabase = createClient(SUPABASE_URL, "${b}");`, secret: b },
        ];
      },
      negatives: [
        "SUPABASE_SECRET_KEY=sb_secret_<key>",
        "Secret keys start with sb_secret_, publishable keys with sb_publishable_.",
      ],
    },
  },
  {
    id: "planetscale-service-token",
    provider: "PlanetScale",
    description: "PlanetScale service token (pscale_tkn_ followed by 32 to 64 characters).",
    keywords: ["pscale_tkn_"],
    pattern: /\b(pscale_tkn_[A-Za-z0-9=._-]{32,64})(?![A-Za-z0-9=._-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Delete the service token in PlanetScale (Organization settings > Service tokens) or with `pscale service-token delete`, then create a new one with the least access and store it in a vault.",
    docs: "https://planetscale.com/docs/concepts/service-tokens",
    examples: {
      positives: (gen) => {
        const [a, b] = [`pscale_tkn_${gen.base64url(43)}`, `pscale_tkn_${gen.base64url(43)}`];
        return [
          { text: `PLANETSCALE_SERVICE_TOKEN=${a}`, secret: a },
          { text: `  service_token: "${b}"`, secret: b },
        ];
      },
      negatives: ["PLANETSCALE_SERVICE_TOKEN=pscale_tkn_<token>"],
    },
  },
  {
    id: "planetscale-password",
    provider: "PlanetScale",
    description: "PlanetScale database password (pscale_pw_ followed by 32 to 64 characters).",
    keywords: ["pscale_pw_"],
    pattern: /\b(pscale_pw_[A-Za-z0-9=._-]{32,64})(?![A-Za-z0-9=._-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Delete the password in PlanetScale (database > Settings > Passwords) or with `pscale password delete`, then create a new one for the branch and store it in a vault.",
    docs: "https://planetscale.com/docs/concepts/connection-strings",
    examples: {
      positives: (gen) => {
        const [a, b] = [`pscale_pw_${gen.base64url(43)}`, `pscale_pw_${gen.base64url(43)}`];
        return [
          { text: `DATABASE_PASSWORD=${a}`, secret: a },
          {
            text: `db = MySQLdb.connect(host="aws.connect.psdb.cloud", user="app", passwd="${b}", db="shop")`,
            secret: b,
          },
        ];
      },
      negatives: ["DATABASE_PASSWORD=pscale_pw_<password>"],
    },
  },
  {
    id: "planetscale-oauth-token",
    provider: "PlanetScale",
    description: "PlanetScale OAuth access token (pscale_oauth_ followed by 32 to 64 characters).",
    keywords: ["pscale_oauth_"],
    pattern: /\b(pscale_oauth_[A-Za-z0-9=._-]{32,64})(?![A-Za-z0-9=._-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Revoke the token through the PlanetScale API or by removing the application's access (Organization settings > OAuth applications), then reauthorize and store the new token in a vault.",
    docs: "https://planetscale.com/docs/concepts/planetscale-api-oauth-applications",
    examples: {
      positives: (gen) => {
        const [a, b] = [`pscale_oauth_${gen.base64url(43)}`, `pscale_oauth_${gen.base64url(43)}`];
        return [
          { text: `{"access_token": "${a}", "token_type": "Bearer"}`, secret: a },
          { text: `PSCALE_OAUTH_TOKEN=${b}`, secret: b },
        ];
      },
      negatives: ['"access_token": "pscale_oauth_<token>"'],
    },
  },
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
      positives: (gen) => {
        const [a, b] = [`napi_${gen.lowerAlnum(64)}`, `napi_${gen.lowerAlnum(64)}`];
        return [
          { text: `NEON_API_KEY=${a}`, secret: a },
          {
            text: `curl -H "Authorization: Bearer ${b}" https://console.neon.tech/api/v2/projects`,
            secret: b,
          },
        ];
      },
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
    pattern:
      /(?:atlas|\bmcli)[\w.-]{0,20}private[\w.-]{0,12}[\s'"]{0,3}[:=]{1,2}>?[\s'"]{0,5}([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b/i,
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Delete the API key in Atlas (Organization > Access Manager > API Keys) or with `atlas organizations apiKeys delete`, check the activity feed, then create a new key with an IP access list and store it in a vault.",
    docs: "https://www.mongodb.com/docs/atlas/configure-api-access/",
    examples: {
      positives: (gen) =>
        assignmentExamples("MONGODB_ATLAS_PRIVATE_KEY", [gen.uuid(), gen.uuid(), gen.uuid()]),
      negatives: placeholderNegatives("MONGODB_ATLAS_PRIVATE_KEY"),
    },
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
    docs: "https://www.mongodb.com/docs/atlas/configure-api-access/",
    examples: {
      positives: (gen) => {
        const [a, b] = [`mdb_sa_sk_${gen.base64url(40)}`, `mdb_sa_sk_${gen.base64url(40)}`];
        return [
          { text: `MONGODB_ATLAS_CLIENT_SECRET=${a}`, secret: a },
          { text: `client_secret: "${b}"`, secret: b },
        ];
      },
      negatives: ["MONGODB_ATLAS_CLIENT_SECRET=mdb_sa_sk_<secret>"],
    },
  },
  {
    id: "upstash-token",
    provider: "Upstash",
    description: "Upstash Redis REST token or QStash token next to an upstash / qstash token name.",
    keywords: ["upstash", "qstash"],
    pattern:
      /(?:upstash|qstash)[\w.-]{0,30}token[\s'"]{0,3}[:=]{1,2}>?[\s'"]{0,5}([A-Za-z0-9_-]{40,200}={0,2})(?![A-Za-z0-9_=-])/i,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Reset the credentials in the Upstash console (database > Reset credentials, or QStash > Reset token), update clients, and store the new token in a vault.",
    docs: "https://upstash.com/docs/redis/features/restapi",
    examples: {
      positives: (gen) =>
        assignmentExamples("UPSTASH_REDIS_REST_TOKEN", [
          `AX${gen.base64url(62)}`,
          `AY${gen.base64url(62)}`,
          `${gen.base64url(96)}=`,
        ]),
      negatives: placeholderNegatives("UPSTASH_REDIS_REST_TOKEN"),
    },
  },
  {
    id: "upstash-management-api-key",
    provider: "Upstash",
    description: `Upstash management (developer) API key (${UUID_SHAPE}) next to an upstash api key name.`,
    keywords: ["upstash"],
    pattern:
      /upstash[\w.-]{0,20}(?:api|management)[_-]?key[\s'"]{0,3}[:=]{1,2}>?[\s'"]{0,5}([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b/i,
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Delete the key in the Upstash console (Account > Management API), then create a new one and store it in a vault.",
    docs: "https://upstash.com/docs/devops/developer-api/introduction",
    examples: {
      positives: (gen) => assignmentExamples("UPSTASH_API_KEY", [gen.uuid(), gen.uuid()]),
      negatives: placeholderNegatives("UPSTASH_API_KEY"),
    },
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
      positives: (gen) => {
        const [a, b] = [`AVNS_${gen.base64url(19)}`, `AVNS_${gen.base64url(19)}`];
        return [
          {
            text: `PGPASSWORD=${a} psql -h pg-shop.aivencloud.com -p 12691 -U avnadmin defaultdb`,
            secret: a,
          },
          { text: `  password: "${b}"`, secret: b },
        ];
      },
      negatives: ["PGPASSWORD=AVNS_<password>"],
    },
  },
  {
    id: "confluent-cloud-api-secret",
    provider: "Confluent",
    description:
      "Confluent Cloud API secret (64 characters) next to a confluent secret name or in a JAAS config for confluent.cloud.",
    keywords: ["confluent"],
    pattern:
      /(?:confluent[\w.-]{0,30}secret[\w.-]{0,10}[\s'"]{0,3}[:=]{1,2}>?[\s'"]{0,5}|confluent\.cloud[\s\S]{0,300}?password\s{0,2}=\s{0,2}\\?["'])([A-Za-z0-9+/]{64})(?![A-Za-z0-9+/=])/i,
    secretGroup: 1,
    entropy: 4,
    severity: "critical",
    remediation:
      "Delete the API key in Confluent Cloud (Administration > API keys) or with `confluent api-key delete KEY`, then create a new key owned by a service account and store it in a vault.",
    docs: "https://docs.confluent.io/cloud/current/security/authenticate/workload-identities/service-accounts/api-keys/manage-api-keys.html",
    examples: {
      positives: (gen) => {
        const [a, b] = [gen.base64(64), gen.base64(64)];
        return [
          { text: `CONFLUENT_CLOUD_API_SECRET=${a}`, secret: a },
          {
            text:
              `bootstrap.servers=pkc-${gen.lowerAlnum(5)}.eu-west-1.aws.confluent.cloud:9092\nsecurity.protocol=SASL_SSL\n` +
              `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username='${gen.upperAlnum(16)}' password='${b}';`,
            secret: b,
          },
        ];
      },
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
      positives: (gen) => {
        const [a, b] = [`dapi${gen.hex(32)}`, `dapi${gen.hex(32)}-2`];
        return [
          { text: `DATABRICKS_TOKEN=${a}`, secret: a },
          {
            text: `[DEFAULT]\nhost = https://adb-${gen.digits(16)}.7.azuredatabricks.net\ntoken = ${b}`,
            secret: b,
          },
        ];
      },
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
      positives: (gen) => {
        const [a, b] = [`dose${gen.hex(32)}`, `dose${gen.hex(32)}`];
        return [
          { text: `DATABRICKS_CLIENT_SECRET=${a}`, secret: a },
          { text: `client_secret: "${b}"`, secret: b },
        ];
      },
      negatives: ["DATABRICKS_CLIENT_SECRET=dose<secret>", "Take one dose daily."],
    },
  },
  {
    id: "snowflake-credential",
    provider: "Snowflake",
    description:
      "Snowflake password or programmatic access token next to a snowflake password / token name or in a dbt profile with type: snowflake.",
    keywords: ["snowflake"],
    pattern:
      /(?:snowflake[\w.-]{0,20}|type:\s{0,3}["']?snowflake["']?[\s\S]{0,200}?)(?:password|passwd|pwd|token|pat)[\s'"]{0,3}[:=]{1,2}>?[\s'"]{0,5}([A-Za-z0-9!@#%^&*_+=.~-]{8,2000})(?=["'\s;,]|$)/im,
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Reset the password or remove the token in Snowsight (Admin > Users & roles) or with `ALTER USER ... SET PASSWORD` / `ALTER USER ... REMOVE PROGRAMMATIC ACCESS TOKEN`, prefer key-pair or OAuth auth, and store the new credential in a vault.",
    docs: "https://docs.snowflake.com/en/user-guide/programmatic-access-tokens",
    examples: {
      positives: (gen) => {
        const a = `${gen.alnum(12)}!${gen.alnum(6)}`;
        const b = fakeJwt(gen, { iss: "snowflake", sub: "SVC_ETL" });
        const c = `${gen.alnum(10)}#${gen.digits(4)}`;
        return [
          { text: `SNOWFLAKE_PASSWORD=${a}`, secret: a },
          { text: `snowflake_token: "${b}"`, secret: b },
          {
            text: `shop:\n  outputs:\n    prod:\n      type: snowflake\n      account: xy12345\n      user: DBT\n      password: "${c}"`,
            secret: c,
          },
        ];
      },
      negatives: [...placeholderNegatives("SNOWFLAKE_PASSWORD"), "SNOWFLAKE_PASSWORD=********"],
    },
  },
  {
    id: "algolia-admin-api-key",
    provider: "Algolia",
    description:
      "Algolia admin or write API key (32 hex digits) next to an algolia admin / write / api key name (search-only keys are public and not matched).",
    keywords: ["algolia"],
    pattern:
      /algolia[_-]?(?:admin|write|api)[\w-]{0,12}key[\s'"]{0,3}[:=]{1,2}>?[\s'"]{0,5}([a-f0-9]{32})(?![A-Za-z0-9])/i,
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Regenerate the Admin API key in the Algolia dashboard (Settings > API Keys > Regenerate) or delete the custom key, update back ends, and store the new key in a vault; front ends should use search-only keys.",
    docs: "https://www.algolia.com/doc/guides/security/api-keys/",
    examples: {
      positives: (gen) =>
        assignmentExamples("ALGOLIA_ADMIN_API_KEY", [gen.hex(32), gen.hex(32), gen.hex(32)]),
      negatives: [
        ...placeholderNegatives("ALGOLIA_ADMIN_API_KEY"),
        "ALGOLIA_SEARCH_API_KEY=<search-only-key>",
      ],
    },
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
    remediation:
      "Delete the key in the Pinecone console (project > API keys), then create a new one with the role it needs and store it in a vault.",
    docs: "https://docs.pinecone.io/guides/projects/manage-api-keys",
    examples: {
      positives: (gen) => {
        const [a, b] = [`pcsk_${gen.alnum(6)}_${gen.alnum(64)}`, `pcsk_${gen.alnum(6)}_${gen.alnum(64)}`];
        return [
          { text: `PINECONE_API_KEY=${a}`, secret: a },
          { text: `pc = Pinecone(api_key="${b}")`, secret: b },
        ];
      },
      negatives: ["PINECONE_API_KEY=pcsk_<api-key>"],
    },
  },
  {
    id: "pinecone-api-key-legacy",
    provider: "Pinecone",
    description: `Pinecone API key in the older ${UUID_SHAPE} format, next to a pinecone name.`,
    keywords: ["pinecone"],
    pattern:
      /pinecone[\w.-]{0,20}key[\s'"]{0,3}[:=]{1,2}>?[\s'"]{0,5}([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b/i,
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Delete the key in the Pinecone console (project > API keys), then create a new one with the role it needs and store it in a vault.",
    docs: "https://docs.pinecone.io/guides/projects/manage-api-keys",
    examples: {
      positives: (gen) => assignmentExamples("PINECONE_API_KEY", [gen.uuid(), gen.uuid()]),
      negatives: placeholderNegatives("PINECONE_API_KEY"),
    },
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
      positives: (gen) => {
        const [a, b] = [gen.base64url(27), gen.base64url(27)];
        return [
          { text: `CLOUDINARY_URL=cloudinary://${gen.digits(15)}:${a}@shop-media`, secret: a },
          {
            text: `cloudinary.config(cloudinary_url="cloudinary://${gen.digits(15)}:${b}@demo-cloud")`,
            secret: b,
          },
        ];
      },
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
      positives: (gen) => {
        const make = (): string =>
          `sk.${Buffer.from(JSON.stringify({ u: `user${gen.digits(3)}`, a: gen.lowerAlnum(25) })).toString("base64url")}.${gen.base64url(22)}`;
        const [a, b] = [make(), make()];
        return [
          { text: `MAPBOX_DOWNLOADS_TOKEN=${a}`, secret: a },
          { text: `machine api.mapbox.com\n  login mapbox\n  password ${b}`, secret: b },
        ];
      },
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
      positives: (gen) => {
        const [a, b] = [`CFPAT-${gen.base64url(43)}`, `CFPAT-${gen.base64url(43)}`];
        return [
          { text: `CONTENTFUL_MANAGEMENT_TOKEN=${a}`, secret: a },
          { text: `const client = contentful.createClient({ accessToken: "${b}" });`, secret: b },
        ];
      },
      negatives: ["CONTENTFUL_MANAGEMENT_TOKEN=CFPAT-<token>"],
    },
  },
  {
    id: "sanity-api-token",
    provider: "Sanity",
    description: "Sanity API token (sk followed by 60 to 250 characters) next to a sanity name.",
    keywords: ["sanity"],
    pattern:
      /sanity[\w.-]{0,20}(?:token|key)[\s'"]{0,3}[:=]{1,2}>?[\s'"]{0,5}(sk[A-Za-z0-9]{60,250})(?![A-Za-z0-9])/i,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the token in sanity.io/manage (project > API > Tokens), then create a new one with the least permission and store it in a vault.",
    docs: "https://www.sanity.io/docs/http-auth",
    examples: {
      positives: (gen) =>
        assignmentExamples("SANITY_API_TOKEN", [`sk${gen.alnum(180)}`, `sk${gen.alnum(180)}`]),
      negatives: placeholderNegatives("SANITY_API_TOKEN"),
    },
  },
];

import type { Rule } from "../rule.ts";
import {
  ASSIGN,
  assigned,
  assignmentExamples,
  END_TOKEN,
  place,
  placeholderNegatives,
  UUID,
} from "./shared.ts";

const AKAMAI_DOCS = "https://techdocs.akamai.com/developer/docs/set-up-authentication-credentials";
const NETLIFY_DOCS = "https://docs.netlify.com/api/get-started/#authentication";
const FLYIO_DOCS = "https://fly.io/docs/security/tokens/";
const HEROKU_REMEDIATION =
  "Revoke it with `heroku authorizations:revoke ID` (or regenerate the API key in Account settings), check the account's audit trail, then create a new authorization with `heroku authorizations:create` and store it in a vault.";
const HEROKU_DOCS = "https://devcenter.heroku.com/articles/authentication";

/**
 * Edge, CDN and application platforms: Cloudflare, Fastly, Akamai, Vercel, Netlify, Fly.io,
 * Heroku, Render, Railway, Deno Deploy, Scalingo, GoDaddy.
 *
 * @example
 *   platformRules.filter((r) => r.provider === "Cloudflare")
 */
export const platformRules: readonly Rule[] = [
  {
    id: "cloudflare-api-token",
    provider: "Cloudflare",
    description:
      "Cloudflare API token (40 characters) next to a cloudflare / CF_ name or sent as a Bearer token to api.cloudflare.com.",
    keywords: ["cloudflare", "cf_", "cf-"],
    pattern: new RegExp(
      String.raw`(?:(?:cloudflare|\bcf[_-])[\w.-]{0,20}token${ASSIGN}|api\.cloudflare\.com[^\n]{0,200}?Bearer\s|Bearer\s(?=[A-Za-z0-9_-]{40}[^\n]{0,200}?api\.cloudflare\.com))([A-Za-z0-9_-]{40})${END_TOKEN}`,
      "i",
    ),
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Roll or delete the token in the Cloudflare dashboard (My Profile > API Tokens, or the account's API Tokens page), then create a new token with the least permissions, IP filtering and a TTL, and store it in a vault.",
    docs: "https://developers.cloudflare.com/fundamentals/api/get-started/create-token/",
    examples: {
      positives: (gen) =>
        place(
          () => gen.base64url(40),
          [
            (s) => `CLOUDFLARE_API_TOKEN=${s}`,
            (s) => `export CF_DNS_API_TOKEN="${s}"`,
            (s) =>
              `curl "https://api.cloudflare.com/client/v4/user/tokens/verify" -H "Authorization: Bearer ${s}"`,
          ],
        ),
      negatives: [
        ...placeholderNegatives("CLOUDFLARE_API_TOKEN"),
        'curl https://api.cloudflare.com/client/v4/zones -H "Authorization: Bearer $CF_TOKEN"',
      ],
    },
  },
  {
    id: "cloudflare-global-api-key",
    provider: "Cloudflare",
    description:
      "Cloudflare Global API Key (37 hex digits) next to a cloudflare / CF_ name or an X-Auth-Key header.",
    keywords: ["cloudflare", "cf_", "cf-", "x-auth-key"],
    pattern: assigned({
      context: String.raw`cloudflare|\bcf[_-]|x-auth`,
      name: "key",
      value: "[a-f0-9]{37}",
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Change the key in the Cloudflare dashboard (My Profile > API Tokens > Global API Key > Change), which invalidates the old one, then move integrations to scoped API tokens stored in a vault.",
    docs: "https://developers.cloudflare.com/fundamentals/api/get-started/keys/",
    examples: {
      positives: (gen) =>
        place(
          () => gen.hex(37),
          [
            (s) => `CLOUDFLARE_API_KEY=${s}`,
            (s) =>
              `curl -H "X-Auth-Email: ops@example.com" -H "X-Auth-Key: ${s}" https://api.cloudflare.com/client/v4/zones`,
          ],
        ),
      negatives: placeholderNegatives("CLOUDFLARE_API_KEY"),
    },
  },
  {
    id: "cloudflare-origin-ca-key",
    provider: "Cloudflare",
    description: "Cloudflare Origin CA key (v1.0- followed by 24 and 146 hex digits).",
    keywords: ["v1.0-"],
    pattern: /\b(v1\.0-[a-f0-9]{24}-[a-f0-9]{146})\b/,
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Change the Origin CA Key in the Cloudflare dashboard (My Profile > API Tokens > Origin CA Key > Change), then use a scoped API token with the SSL and Certificates permission, stored in a vault.",
    docs: "https://developers.cloudflare.com/fundamentals/api/get-started/ca-keys/",
    examples: {
      positives: (gen) =>
        place(
          () => `v1.0-${gen.hex(24)}-${gen.hex(146)}`,
          [(s) => `CF_ORIGIN_CA_KEY=${s}`, (s) => `origin_ca_key: "${s}"`],
        ),
      negatives: ["CF_ORIGIN_CA_KEY=v1.0-<origin-ca-key>"],
    },
  },
  {
    id: "fastly-api-token",
    provider: "Fastly",
    description: "Fastly API token (32 characters) next to a fastly name or a Fastly-Key header.",
    keywords: ["fastly"],
    pattern: assigned({ context: "fastly", name: "token|key", value: "[A-Za-z0-9_-]{32}" }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Delete the token in the Fastly control panel (Account > API tokens) or with DELETE /tokens/{id}, then create a new token scoped to the services it needs, with an expiry, and store it in a vault.",
    docs: "https://docs.fastly.com/en/guides/using-api-tokens",
    examples: {
      positives: (gen) =>
        place(
          () => gen.base64url(32),
          [
            (s) => `FASTLY_API_TOKEN=${s}`,
            (s) => `curl -H "Fastly-Key: ${s}" https://api.fastly.com/service`,
            (s) => `  fastly_api_key: "${s}"`,
          ],
        ),
      negatives: placeholderNegatives("FASTLY_API_TOKEN"),
    },
  },
  {
    id: "akamai-edgegrid-client-secret",
    provider: "Akamai",
    description:
      "Akamai EdgeGrid client secret (44 base64 characters) in an .edgerc section or an AKAMAI_CLIENT_SECRET variable.",
    keywords: ["akamai", "akab-"],
    pattern: new RegExp(
      String.raw`(?:akamai[\w.-]{0,20}client[_-]?secret${ASSIGN}|client_secret\s{0,3}=\s{0,3}(?=[A-Za-z0-9+/]{43}=[\s\S]{0,300}?akab-))([A-Za-z0-9+/]{43}=)(?![A-Za-z0-9+/=])`,
      "i",
    ),
    // In an .edgerc the akab- keyword follows client_secret by up to a few lines.
    window: { before: 400, after: 512 },
    secretGroup: 1,
    entropy: 4,
    severity: "critical",
    remediation:
      "Rotate the credential in Akamai Control Center (Identity & Access > API clients > client > Credentials: create a new one, then deactivate and delete the old), update .edgerc, and store the new secret in a vault.",
    docs: AKAMAI_DOCS,
    examples: {
      positives: (gen) => {
        const [a, b] = [gen.base64Bytes(32), gen.base64Bytes(32)];
        const tok = (): string => `akab-${gen.lowerAlnum(16)}-${gen.lowerAlnum(16)}`;
        return place(
          [a, b],
          [
            (s) =>
              `[default]\nclient_secret = ${s}\nhost = ${tok()}.luna.akamaiapis.net\naccess_token = ${tok()}\nclient_token = ${tok()}`,
            (s) => `AKAMAI_CLIENT_SECRET=${s}`,
          ],
        );
      },
      negatives: [
        "client_secret = <client-secret>\nhost = <host>.luna.akamaiapis.net",
        ...placeholderNegatives("AKAMAI_CLIENT_SECRET"),
      ],
    },
  },
  {
    id: "akamai-edgegrid-token",
    provider: "Akamai",
    description: "Akamai EdgeGrid access or client token (akab- followed by two 16-character parts).",
    keywords: ["akab-"],
    pattern: /\b(akab-[a-z0-9]{16}-[a-z0-9]{16})(?![a-z0-9.-])/,
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Rotate the credential in Akamai Control Center (Identity & Access > API clients > client > Credentials: create a new one, then deactivate and delete the old), update .edgerc, and store the new credential in a vault.",
    docs: AKAMAI_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `akab-${gen.lowerAlnum(16)}-${gen.lowerAlnum(16)}`,
          [(s) => `access_token = ${s}`, (s) => `AKAMAI_CLIENT_TOKEN=${s}`],
        ),
      negatives: [
        "host = akab-xxxxxxxxxxxxxxxx-xxxxxxxxxxxxxxxx.luna.akamaiapis.net",
        "access_token = akab-<access-token>",
      ],
    },
  },
  {
    id: "vercel-access-token",
    provider: "Vercel",
    description: "Vercel access token (24 characters) next to a vercel name or a vercel --token flag.",
    keywords: ["vercel"],
    pattern: new RegExp(
      String.raw`(?:vercel[\w.-]{0,20}(?:token|key)${ASSIGN}|vercel\b[^\n]{0,100}?--token[=\s]["']?)([A-Za-z0-9]{24})${END_TOKEN}`,
      "i",
    ),
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Delete the token in Vercel (Account Settings > Tokens), check the team's audit log, then create a new token scoped to the team with an expiry and store it in a vault.",
    docs: "https://vercel.com/docs/rest-api#authentication",
    examples: {
      positives: (gen) =>
        place(
          () => gen.alnum(24),
          [
            (s) => `VERCEL_TOKEN=${s}`,
            (s) => `      - run: npx vercel deploy --prod --token=${s}`,
            (s) => `{ "vercelToken": "${s}" }`,
          ],
        ),
      negatives: [
        ...placeholderNegatives("VERCEL_TOKEN"),
        "run: vercel deploy --prod --token=${{ secrets.VERCEL_TOKEN }}",
      ],
    },
  },
  {
    id: "netlify-personal-access-token",
    provider: "Netlify",
    description: "Netlify personal access token (nfp_ followed by 36 to 40 characters).",
    keywords: ["nfp_"],
    pattern: /\b(nfp_[A-Za-z0-9]{36,40})\b/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Revoke the token in Netlify (User settings > Applications > Personal access tokens), then create a new one with an expiry and store it in a vault.",
    docs: NETLIFY_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `nfp_${gen.alnum(36)}`,
          [(s) => `NETLIFY_AUTH_TOKEN=${s}`, (s) => `const client = new NetlifyAPI("${s}");`],
        ),
      negatives: ["NETLIFY_AUTH_TOKEN=nfp_<token>", "Personal access tokens start with nfp_."],
    },
  },
  {
    id: "netlify-access-token",
    provider: "Netlify",
    description:
      "Netlify access token in the older unprefixed format (40 to 46 characters) next to a netlify name.",
    keywords: ["netlify"],
    pattern: assigned({
      context: "netlify",
      name: "token|key|pat",
      prefix: "(?!nfp_)",
      value: "[A-Za-z0-9_-]{40,46}",
    }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Revoke the token in Netlify (User settings > Applications > Personal access tokens, or the OAuth application's grants), then create a new one with an expiry and store it in a vault.",
    docs: NETLIFY_DOCS,
    examples: assignmentExamples("NETLIFY_AUTH_TOKEN", (gen) => gen.base64url(43)),
  },
  {
    id: "flyio-macaroon-token",
    provider: "Fly.io",
    description:
      "Fly.io macaroon token (fm2_ or fm1a_/fm1r_ followed by base64, possibly several comma-separated, as after FlyV1).",
    keywords: ["fm2_", "fm1a_", "fm1r_"],
    pattern: /\b(fm(?:2|1[ar])_[A-Za-z0-9+/=_,-]{99,2999}[A-Za-z0-9+/=_-])/,
    window: { before: 128, after: 3200 },
    secretGroup: 1,
    entropy: 4,
    severity: "critical",
    remediation:
      "Revoke it with `fly tokens revoke <id>` (find it with `fly tokens list`) or on the dashboard's Tokens page, then create a narrowly scoped token (`fly tokens create deploy`) with an expiry and store it in a vault.",
    docs: FLYIO_DOCS,
    examples: {
      positives: (gen) =>
        place(
          [`fm2_${gen.base64(260)}`, `fm2_${gen.base64(180)},fm2_${gen.base64(120)}`],
          [
            (s) => `FLY_API_TOKEN="FlyV1 ${s}"`,
            (s) => `curl -H "Authorization: FlyV1 ${s}" https://api.machines.dev/v1/apps`,
          ],
        ),
      negatives: ['FLY_API_TOKEN="FlyV1 fm2_..."', "Fly.io tokens start with FlyV1 fm2_."],
    },
  },
  {
    id: "flyio-access-token",
    provider: "Fly.io",
    description: "Fly.io OAuth / personal access token (fo1_ followed by 43 characters).",
    keywords: ["fo1_"],
    pattern: /\b(fo1_[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Sign out the session with `fly auth logout` or revoke it on the dashboard's Tokens page, then create a narrowly scoped macaroon token (`fly tokens create`) and store it in a vault.",
    docs: FLYIO_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `fo1_${gen.base64url(43)}`,
          [(s) => `access_token: ${s}`, (s) => `FLY_ACCESS_TOKEN=${s}`],
        ),
      negatives: ["FLY_ACCESS_TOKEN=fo1_<token>"],
    },
  },
  {
    id: "heroku-api-key-v2",
    provider: "Heroku",
    description: "Heroku API key in the prefixed format (HRKU- followed by 50 to 70 characters).",
    keywords: ["hrku-"],
    pattern: /\b(HRKU-[A-Za-z0-9_-]{50,70})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation: HEROKU_REMEDIATION,
    docs: HEROKU_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `HRKU-AA${gen.base64url(58)}`,
          [
            (s) => `HEROKU_API_KEY=${s}`,
            (s) => `machine api.heroku.com\n  login ops@example.com\n  password ${s}`,
          ],
        ),
      negatives: ["HEROKU_API_KEY=HRKU-<api-key>"],
    },
  },
  {
    id: "heroku-api-key",
    provider: "Heroku",
    description:
      "Heroku API key in the older UUID format, next to a heroku name or in a .netrc entry for api.heroku.com.",
    keywords: ["heroku"],
    pattern: new RegExp(
      String.raw`(?:heroku[\w.-]{0,20}(?:key|token)${ASSIGN}|api\.heroku\.com[\s\S]{0,100}?password\s{1,5})(${UUID})${END_TOKEN}`,
      "i",
    ),
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation: HEROKU_REMEDIATION,
    docs: HEROKU_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => gen.uuid(),
          [
            (s) => `HEROKU_API_KEY=${s}`,
            (s) => `machine api.heroku.com\n  login ops@example.com\n  password ${s}`,
          ],
        ),
      negatives: [
        ...placeholderNegatives("HEROKU_API_KEY"),
        "HEROKU_API_KEY=00000000-0000-0000-0000-000000000000",
      ],
    },
  },
  {
    id: "render-api-key",
    provider: "Render",
    description: "Render API key (rnd_ followed by 32 characters).",
    keywords: ["rnd_"],
    pattern: /\b(rnd_[A-Za-z0-9]{32})\b/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Revoke the key in the Render Dashboard (Account Settings > API Keys), then create a new one and store it in a vault.",
    docs: "https://render.com/docs/api#1-create-an-api-key",
    examples: {
      positives: (gen) =>
        place(
          () => `rnd_${gen.alnum(32)}`,
          [
            (s) => `RENDER_API_KEY=${s}`,
            (s) => `curl -H "Authorization: Bearer ${s}" https://api.render.com/v1/services`,
          ],
        ),
      negatives: ["RENDER_API_KEY=rnd_<api-key>"],
    },
  },
  {
    id: "railway-api-token",
    provider: "Railway",
    description: "Railway account, team or project token (a UUID) next to a railway name.",
    keywords: ["railway"],
    pattern: assigned({ context: "railway", name: "token|key", value: UUID }),
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Delete the token in Railway (Account Settings > Tokens, or the project's Settings > Tokens), then create a new one and store it in a vault.",
    docs: "https://docs.railway.com/guides/public-api",
    examples: assignmentExamples("RAILWAY_TOKEN", (gen) => gen.uuid()),
  },
  {
    id: "deno-deploy-access-token",
    provider: "Deno Deploy",
    description: "Deno Deploy access token (ddp_ followed by 36 to 40 characters).",
    keywords: ["ddp_"],
    pattern: /\b(ddp_[A-Za-z0-9]{36,40})\b/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Delete the token in the Deno Deploy dashboard (Account settings > Access tokens), then create a new one and store it in a vault.",
    docs: "https://docs.deno.com/deploy/manual/deployctl/",
    examples: {
      positives: (gen) =>
        place(
          () => `ddp_${gen.alnum(36)}`,
          [(s) => `DENO_DEPLOY_TOKEN=${s}`, (s) => `deployctl deploy --project=shop --token=${s} main.ts`],
        ),
      negatives: ["DENO_DEPLOY_TOKEN=ddp_<token>"],
    },
  },
  {
    id: "scalingo-api-token",
    provider: "Scalingo",
    description: "Scalingo API token (tk-us- followed by 48 characters).",
    keywords: ["tk-us-"],
    pattern: /\b(tk-us-[A-Za-z0-9_-]{48})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Delete the token in the Scalingo dashboard (User settings > API tokens) or with `scalingo tokens-remove`, then create a new one and store it in a vault.",
    docs: "https://developers.scalingo.com/#authentication",
    examples: {
      positives: (gen) =>
        place(
          () => `tk-us-${gen.base64url(48)}`,
          [(s) => `SCALINGO_API_TOKEN=${s}`, (s) => `scalingo login --api-token ${s}`],
        ),
      negatives: ["SCALINGO_API_TOKEN=tk-us-<token>"],
    },
  },
  {
    id: "godaddy-api-secret",
    provider: "GoDaddy",
    description: "GoDaddy API secret in an `Authorization: sso-key KEY:SECRET` header.",
    keywords: ["sso-key"],
    pattern: /sso-key\s{1,3}[A-Za-z0-9_]{10,60}:([A-Za-z0-9]{16,40})(?![A-Za-z0-9])/i,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Delete the key on the GoDaddy developer portal (API Keys page), then create a new production key and store it in a vault.",
    docs: "https://developer.godaddy.com/keys",
    examples: {
      positives: (gen) =>
        place(
          [gen.alnum(22), gen.alnum(22)],
          [
            (s) =>
              `curl -H "Authorization: sso-key ${gen.alnum(12)}_${gen.alnum(22)}:${s}" https://api.godaddy.com/v1/domains`,
            (s) => `headers = {"Authorization": "sso-key ${gen.alnum(34)}:${s}"}`,
          ],
        ),
      negatives: [
        '"Authorization": "sso-key {API_KEY}:{API_SECRET}"',
        "Authorization: sso-key <key>:<secret>",
      ],
    },
  },
];

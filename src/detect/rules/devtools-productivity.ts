import type { Rule } from "../rule.ts";
import { assigned, b64url, JWT, near, place, START, UUID } from "./shared.ts";

/* Work management, design and developer-facing APIs: Linear, Asana, Notion, Airtable, Figma, ... */

const TRELLO_DOCS = "https://developer.atlassian.com/cloud/trello/guides/rest-api/authorization/";
const TRELLO_REMEDIATION =
  "Revoke the token in Trello under Account > Settings > Applications (or DELETE /1/tokens/{token}), then authorize again and store the new token in a vault.";
const AIRTABLE_DOCS = "https://airtable.com/developers/web/guides/personal-access-tokens";
const NOTION_DOCS = "https://developers.notion.com/docs/authorization";
const FIGMA_DOCS = "https://help.figma.com/hc/en-us/articles/8085703771159-Manage-personal-access-tokens";

/**
 * Rules for work management, design and developer-facing APIs.
 *
 * @example
 *   devtoolsProductivityRules.find((r) => r.id === "linear-api-key")
 */
export const devtoolsProductivityRules: readonly Rule[] = [
  {
    id: "linear-api-key",
    provider: "Linear",
    description: "Linear personal API key (lin_api_).",
    keywords: ["lin_api_"],
    pattern: /\b(lin_api_[A-Za-z0-9]{40})\b/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Revoke the key in Linear under Settings > Security & access > Personal API keys (workspace admins can revoke members' keys), then create a new one and store it in a vault.",
    docs: "https://linear.app/developers/graphql",
    examples: {
      positives: (gen) =>
        place(
          () => `lin_api_${gen.alnum(40)}`,
          [(s) => `LINEAR_API_KEY=${s}`, (s) => `const linear = new LinearClient({ apiKey: "${s}" });`],
        ),
      negatives: [
        "LINEAR_API_KEY=lin_api_<key>",
        "LINEAR_API_KEY=lin_api_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
      ],
    },
  },
  {
    id: "linear-oauth-token",
    provider: "Linear",
    description: "Linear OAuth access token (lin_oauth_).",
    keywords: ["lin_oauth_"],
    pattern: /\b(lin_oauth_[a-f0-9]{64})\b/,
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Revoke the token with Linear's POST /oauth/revoke (or remove the app under Settings > Applications), then re-authorize and store the new token in a vault.",
    docs: "https://linear.app/developers/oauth-2-0-authentication",
    examples: {
      positives: (gen) =>
        place(
          () => `lin_oauth_${gen.hex(64)}`,
          [
            (s) => `{"access_token":"${s}","token_type":"Bearer","expires_in":315705599}`,
            (s) => `LINEAR_OAUTH_TOKEN=${s}`,
          ],
        ),
      negatives: ["LINEAR_OAUTH_TOKEN=lin_oauth_<token>", "OAuth tokens start with lin_oauth_"],
    },
  },
  {
    id: "asana-personal-access-token",
    provider: "Asana",
    description: "Asana personal access token (0/, 1/ or 2/ forms) on a line that mentions Asana.",
    keywords: ["asana"],
    pattern: near({
      context: `${START}asana`,
      value:
        "[0-2]/[0-9]{10,20}/[0-9]{10,20}:[A-Za-z0-9]{32}|[0-2]/[0-9]{10,20}:[A-Za-z0-9]{32}|0/[a-f0-9]{32}",
      sameLine: true,
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Deauthorize the token in Asana under My Settings > Apps > Developer console (Personal access tokens), then create a new one and store it in a vault.",
    docs: "https://developers.asana.com/docs/personal-access-token",
    examples: {
      positives: (gen) => [
        ...place(
          () => `2/${gen.digits(16)}/${gen.digits(16)}:${gen.hex(32)}`,
          [
            (s) => `ASANA_ACCESS_TOKEN=${s}`,
            (s) => `client = asana.ApiClient(); client.configuration.access_token = "${s}"`,
          ],
        ),
        ...place(() => `1/${gen.digits(16)}:${gen.alnum(32)}`, [(s) => `  asana_pat: "${s}"`]),
      ],
      negatives: ["ASANA_ACCESS_TOKEN=<personal-access-token>", "asana task 1/1200000000000000 is done"],
    },
  },
  {
    id: "notion-integration-secret",
    provider: "Notion",
    description: "Notion internal integration secret (secret_ + 43) on a line that mentions Notion.",
    keywords: ["notion"],
    pattern: near({ context: `${START}notion`, value: "secret_[A-Za-z0-9]{43}", sameLine: true }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Refresh the secret on the integration's page at notion.so/my-integrations (Show > Refresh), then update the app and store the new secret in a vault.",
    docs: NOTION_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `secret_${gen.alnum(43)}`,
          [(s) => `NOTION_TOKEN=${s}`, (s) => `const notion = new Client({ auth: "${s}" });`],
        ),
      negatives: [
        "NOTION_TOKEN=secret_<integration-secret>",
        "notion integration secrets start with secret_",
      ],
    },
  },
  {
    id: "notion-api-token",
    provider: "Notion",
    description: "Notion integration token (ntn_ + 11 digits + 35 alphanumerics).",
    keywords: ["ntn_"],
    pattern: /\b(ntn_[0-9]{11}[A-Za-z0-9]{35})\b/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Refresh the secret on the integration's page at notion.so/my-integrations (or disconnect the connection), then store the new token in a vault.",
    docs: NOTION_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `ntn_${gen.digits(11)}${gen.alnum(35)}`,
          [(s) => `NOTION_API_KEY=${s}`, (s) => `notion = Client(auth="${s}")`],
        ),
      negatives: ["NOTION_API_KEY=ntn_<token>", "tokens now start with ntn_"],
    },
  },
  {
    id: "airtable-personal-access-token",
    provider: "Airtable",
    description: "Airtable personal access token (pat + 14 . 64 hex).",
    keywords: ["pat"],
    pattern: /\b(pat[A-Za-z0-9]{14}\.[a-f0-9]{64})\b/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete or regenerate the token at airtable.com/create/tokens (Builder hub > Personal access tokens), then create a new one with the least scopes and bases and store it in a vault.",
    docs: AIRTABLE_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `pat${gen.alnum(14)}.${gen.hex(64)}`,
          [
            (s) => `AIRTABLE_TOKEN=${s}`,
            (s) => `curl https://api.airtable.com/v0/meta/whoami -H "Authorization: Bearer ${s}"`,
          ],
        ),
      negatives: [
        "AIRTABLE_TOKEN=pat<id>.<secret>",
        "AIRTABLE_TOKEN=patXXXXXXXXXXXXXX.0000000000000000000000000000000000000000000000000000000000000000",
      ],
    },
  },
  {
    id: "airtable-legacy-api-key",
    provider: "Airtable",
    description: "Airtable legacy API key (key + 14) on a line that mentions Airtable.",
    keywords: ["airtable"],
    pattern: near({
      context: `${START}(?:[Aa]irtable|AIRTABLE)`,
      value: "key[A-Za-z0-9]{14}",
      sameLine: true,
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "medium",
    remediation:
      "Legacy API keys are deprecated: delete it at airtable.com/account, then move to a personal access token with the least scopes stored in a vault.",
    docs: AIRTABLE_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `key${gen.alnum(14)}`,
          [(s) => `AIRTABLE_API_KEY=${s}`, (s) => `base = Airtable(base_id, api_key="${s}")`],
        ),
      negatives: ["AIRTABLE_API_KEY=keyXXXXXXXXXXXXXX", "airtable keyboard shortcuts"],
    },
  },
  {
    id: "figma-personal-access-token",
    provider: "Figma",
    description: "Figma personal access or OAuth token (figd_, figu_, figo_).",
    keywords: ["figd_", "figu_", "figo_", "figdr_", "figur_", "figor_", "figdh_", "figuh_", "figoh_"],
    pattern: /\b(fig[dou][rh]?_[\w-]{40})(?![\w-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Revoke the token in Figma under Settings > Security > Personal access tokens, then generate a new one with the least scopes and an expiry and store it in a vault.",
    docs: FIGMA_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `figd_${gen.base64url(40)}`,
          [(s) => `FIGMA_TOKEN=${s}`, (s) => `curl -H "X-Figma-Token: ${s}" https://api.figma.com/v1/me`],
        ),
      negatives: ["FIGMA_TOKEN=figd_<token>", "FIGMA_TOKEN=figd_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"],
    },
  },
  {
    id: "figma-legacy-token",
    provider: "Figma",
    description: "Figma legacy personal access token (digits-UUID) assigned to a figma key name.",
    keywords: ["figma"],
    pattern: assigned({ context: "figma", name: "token|key", value: `[0-9]{5,7}-${UUID}`, style: "line" }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Revoke the token in Figma under Settings > Security > Personal access tokens, then generate a new one with scopes and an expiry and store it in a vault.",
    docs: FIGMA_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `${gen.digits(6)}-${gen.uuid()}`,
          [(s) => `FIGMA_ACCESS_TOKEN=${s}`, (s) => `  "figmaToken": "${s}"`],
        ),
      negatives: ["FIGMA_ACCESS_TOKEN=<token>", "FIGMA_ACCESS_TOKEN=${FIGMA_ACCESS_TOKEN}"],
    },
  },
  {
    id: "frameio-api-token",
    provider: "Frame.io",
    description: "Frame.io developer token (fio-u-).",
    keywords: ["fio-u-"],
    pattern: /\b(fio-u-[\w=-]{64})(?![\w=-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the token in the Frame.io developer site under Tokens, then create a new one with the least scopes and store it in a vault.",
    docs: "https://developer.frame.io/docs/getting-started/authentication",
    examples: {
      positives: (gen) =>
        place(
          () => `fio-u-${gen.base64url(64)}`,
          [(s) => `FRAMEIO_TOKEN=${s}`, (s) => `client = FrameioClient("${s}")`],
        ),
      negatives: ["FRAMEIO_TOKEN=fio-u-<token>", "developer tokens start with fio-u-"],
    },
  },
  {
    id: "trello-api-token",
    provider: "Trello",
    description: "Trello API token (ATTA + 72 hex).",
    keywords: ["atta"],
    pattern: /\b(ATTA[a-fA-F0-9]{72})\b/,
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation: TRELLO_REMEDIATION,
    docs: TRELLO_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `ATTA${gen.hex(64)}${gen.hexUpper(8)}`,
          [
            (s) => `TRELLO_TOKEN=${s}`,
            (s) => `curl "https://api.trello.com/1/members/me/boards?key=$TRELLO_KEY&token=${s}"`,
          ],
        ),
      negatives: ["TRELLO_TOKEN=ATTA<token>", "ATTACHMENT_UPLOAD_LIMIT_MEGABYTES_FOR_THE_BOARD"],
    },
  },
  {
    id: "trello-legacy-token",
    provider: "Trello",
    description: "Trello legacy API token (64 hex) assigned to a trello token name.",
    keywords: ["trello"],
    pattern: assigned({ context: "trello", name: "token", value: "[a-f0-9]{64}", style: "line" }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation: TRELLO_REMEDIATION,
    docs: TRELLO_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => gen.hex(64),
          [(s) => `TRELLO_TOKEN=${s}`, (s) => `trello = TrelloClient(api_key=KEY, token="${s}")`],
        ),
      negatives: ["TRELLO_TOKEN=<token>", "TRELLO_TOKEN=${TRELLO_TOKEN}"],
    },
  },
  {
    id: "trello-api-key",
    provider: "Trello",
    description: "Trello Power-Up API key (32 hex) assigned to a trello key name.",
    keywords: ["trello"],
    pattern: assigned({ context: "trello", name: "key", value: "[a-f0-9]{32}", style: "line" }),
    secretGroup: 1,
    entropy: 3,
    severity: "low",
    remediation:
      "The API key alone is semi-public, but with a token it grants access: regenerate it on the Power-Up admin page (trello.com/power-ups/admin > API key), then revoke tokens issued for it.",
    docs: TRELLO_DOCS,
    examples: {
      positives: (gen) =>
        place(() => gen.hex(32), [(s) => `TRELLO_API_KEY=${s}`, (s) => `trello_key: "${s}"`]),
      negatives: ["TRELLO_API_KEY=<api-key>", "trello key: find it on the Power-Up admin page"],
    },
  },
  {
    id: "clickup-api-token",
    provider: "ClickUp",
    description: "ClickUp personal API token (pk_ + user id + _ + 32).",
    keywords: ["pk_"],
    pattern: /\b(pk_[0-9]{1,10}_[A-Za-z0-9]{32})\b/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Regenerate the token in ClickUp under Settings > Apps > API Token, which invalidates the old one, then store the new token in a vault.",
    docs: "https://developer.clickup.com/docs/authentication",
    examples: {
      positives: (gen) =>
        place(
          () => `pk_${gen.digits(gen.int(6, 9))}_${gen.upperAlnum(32)}`,
          [(s) => `CLICKUP_API_TOKEN=${s}`, (s) => `headers = {"Authorization": "${s}"}`],
        ),
      negatives: [
        "CLICKUP_API_TOKEN=pk_<user-id>_<token>",
        "CLICKUP_API_TOKEN=pk_12345_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
      ],
    },
  },
  {
    id: "monday-api-token",
    provider: "monday.com",
    description: "monday.com API token (a JWT) assigned to a monday key name.",
    keywords: ["monday"],
    pattern: assigned({
      context: "monday",
      name: "token|key",
      value: JWT,
      style: "line",
    }),
    secretGroup: 1,
    entropy: 4,
    severity: "high",
    remediation:
      "Regenerate the token in monday.com under Profile > Developers > My access tokens (admins: Administration > Connections > API), then store the new token in a vault.",
    docs: "https://developer.monday.com/api-reference/docs/authentication",
    examples: {
      positives: (gen) =>
        place(() => {
          const claims = {
            tid: gen.int(100_000_000, 999_999_999),
            aai: gen.int(10, 99),
            uid: gen.int(10_000_000, 99_999_999),
            iad: "2024-05-02T10:11:12.000Z",
            per: "me:write",
            actid: gen.int(1_000_000, 9_999_999),
            rgn: "use1",
          };
          return `${b64url('{"alg":"HS256"}')}.${b64url(JSON.stringify(claims))}.${gen.base64url(43)}`;
        }, [(s) => `MONDAY_API_TOKEN=${s}`, (s) => `await monday.api(query, { token: "${s}" });`]),
      negatives: ["MONDAY_API_TOKEN=<token>", "MONDAY_API_TOKEN=${MONDAY_API_TOKEN}"],
    },
  },
  {
    id: "typeform-personal-access-token",
    provider: "Typeform",
    description: "Typeform personal access token (tfp_).",
    keywords: ["tfp_"],
    pattern: /\b(tfp_[\w.=-]{59})(?![\w=-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the token in Typeform under Account > Personal tokens, then generate a new one with the least scopes and store it in a vault.",
    docs: "https://www.typeform.com/developers/get-started/personal-access-token/",
    examples: {
      positives: (gen) =>
        place(
          () => `tfp_${gen.alnum(44)}_${gen.alnum(14)}`,
          [
            (s) => `TYPEFORM_TOKEN=${s}`,
            (s) => `curl -H "Authorization: bearer ${s}" https://api.typeform.com/forms`,
          ],
        ),
      negatives: ["TYPEFORM_TOKEN=tfp_<token>", "personal tokens start with tfp_"],
    },
  },
  {
    id: "zapier-webhook-url",
    provider: "Zapier",
    description: "Zapier catch-hook webhook URL, which lets anyone trigger the Zap.",
    keywords: ["hooks.zapier.com"],
    pattern: /(https:\/\/hooks\.zapier\.com\/hooks\/catch\/[0-9]{3,12}\/[A-Za-z0-9]{4,12})(?![A-Za-z0-9])/,
    secretGroup: 1,
    entropy: 3,
    severity: "medium",
    remediation:
      "Turn off the Zap and replace its Webhooks by Zapier trigger (a new trigger gets a new URL), then keep the URL in a vault and consider checking a shared secret in the payload.",
    docs: "https://help.zapier.com/hc/en-us/articles/8496288690317-Trigger-Zaps-from-webhooks",
    examples: {
      positives: (gen) =>
        place(
          () => `https://hooks.zapier.com/hooks/catch/${gen.digits(gen.int(6, 8))}/${gen.lowerAlnum(7)}`,
          [(s) => `ZAPIER_WEBHOOK_URL=${s}/`, (s) => `requests.post("${s}/", json=payload)`],
        ),
      negatives: [
        "ZAPIER_WEBHOOK_URL=https://hooks.zapier.com/hooks/catch/<id>/<key>/",
        "see hooks.zapier.com for webhooks",
      ],
    },
  },
  {
    id: "mux-token-secret",
    provider: "Mux",
    description: "Mux access token secret assigned to a mux secret name.",
    keywords: ["mux"],
    pattern: assigned({ context: "mux", name: "secret", value: "[A-Za-z0-9+/]{60,90}", style: "line" }),
    secretGroup: 1,
    entropy: 4,
    severity: "high",
    remediation:
      "Revoke the access token in the Mux dashboard under Settings > Access Tokens, then create a new one with the least permissions and store it in a vault.",
    docs: "https://docs.mux.com/core/make-api-requests",
    examples: {
      positives: (gen) =>
        place(
          () => gen.base64(75),
          [
            (s) => `MUX_TOKEN_SECRET=${s}`,
            (s) => `const mux = new Mux({ tokenId: process.env.MUX_TOKEN_ID, tokenSecret: "${s}" });`,
          ],
        ),
      negatives: ["MUX_TOKEN_SECRET=<token-secret>", "MUX_TOKEN_SECRET=${MUX_TOKEN_SECRET}"],
    },
  },
  {
    id: "shippo-api-token",
    provider: "Shippo",
    description: "Shippo live or test API token (shippo_live_, shippo_test_).",
    keywords: ["shippo_live_", "shippo_test_"],
    pattern: /\b(shippo_(?:live|test)_[a-f0-9]{40})\b/,
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Regenerate the token in the Shippo dashboard under Settings > Advanced > API, then store the new token in a vault.",
    docs: "https://docs.goshippo.com/docs/guides_general/authentication/",
    examples: {
      positives: (gen) =>
        place(
          () => `shippo_${gen.pick(["live", "test"])}_${gen.hex(40)}`,
          [
            (s) => `SHIPPO_API_KEY=${s}`,
            (s) => `curl -H "Authorization: ShippoToken ${s}" https://api.goshippo.com/shipments/`,
          ],
        ),
      negatives: ["SHIPPO_API_KEY=shippo_live_<token>", "live tokens start with shippo_live_"],
    },
  },
  {
    id: "beamer-api-key",
    provider: "Beamer",
    description: "Beamer API key (b_ + 44) on a line that mentions Beamer.",
    keywords: ["beamer"],
    pattern: near({ context: `${START}beamer`, value: String.raw`b_[\w=-]{44}`, sameLine: true }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "medium",
    remediation:
      "Delete the key in Beamer under Settings > API, then create a new one with only the permissions needed and store it in a vault.",
    docs: "https://www.getbeamer.com/api",
    examples: {
      positives: (gen) =>
        place(
          () => `b_${gen.base64url(44)}`,
          [
            (s) => `BEAMER_API_KEY=${s}`,
            (s) => `curl -H "Beamer-Api-Key: ${s}" https://api.getbeamer.com/v0/posts`,
          ],
        ),
      negatives: ["BEAMER_API_KEY=b_<key>", "BEAMER_API_KEY=${BEAMER_API_KEY}"],
    },
  },
  {
    id: "todoist-api-token",
    provider: "Todoist",
    description: "Todoist API token (40 hex) assigned to a todoist key name.",
    keywords: ["todoist"],
    pattern: assigned({ context: "todoist", name: "token|key", value: "[a-f0-9]{40}", style: "line" }),
    secretGroup: 1,
    entropy: 3,
    severity: "medium",
    remediation:
      "Issue a new API token in Todoist under Settings > Integrations > Developer, which invalidates the old one, then store it in a vault.",
    docs: "https://todoist.com/help/articles/find-your-api-token-Jpzx9IIlB",
    examples: {
      positives: (gen) =>
        place(
          () => gen.hex(40),
          [(s) => `TODOIST_API_TOKEN=${s}`, (s) => `todoist_api = TodoistAPI(token="${s}")`],
        ),
      negatives: ["TODOIST_API_TOKEN=<token>", "TODOIST_API_TOKEN=${TODOIST_API_TOKEN}"],
    },
  },
  {
    id: "smartsheet-access-token",
    provider: "Smartsheet",
    description: "Smartsheet API access token (26 or 37 alphanumerics) assigned to a smartsheet key name.",
    keywords: ["smartsheet"],
    pattern: assigned({
      context: "smartsheet",
      name: "token|key",
      value: "[A-Za-z0-9]{26}|[A-Za-z0-9]{37}",
      style: "line",
    }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Revoke the token in Smartsheet under Account > Apps & Integrations > API Access, then generate a new one and store it in a vault.",
    docs: "https://help.smartsheet.com/articles/2482389-generate-API-key",
    examples: {
      positives: (gen) => [
        ...place(() => gen.alnum(26), [(s) => `SMARTSHEET_ACCESS_TOKEN=${s}`]),
        ...place(
          () => gen.alnum(37),
          [(s) => `smartsheet_client = smartsheet.Smartsheet(access_token="${s}")`],
        ),
      ],
      negatives: ["SMARTSHEET_ACCESS_TOKEN=<token>", "SMARTSHEET_ACCESS_TOKEN=${SMARTSHEET_ACCESS_TOKEN}"],
    },
  },
];

import type { Rule } from "../rule.ts";
import type { VerifySpec } from "../verify.ts";
import {
  anyCase,
  ASSIGN,
  assigned,
  END_TOKEN,
  lastSegmentEntropy,
  line,
  near,
  place,
  SECRET_WORD,
  UUID,
} from "./shared.ts";

const SLACK_REVOKE =
  "Revoke the token with the auth.revoke API method or by reinstalling the app (api.slack.com/apps > your app > OAuth & Permissions > Revoke tokens), issue a new token and store it in a vault.";
const SLACK_WEBHOOK_REVOKE =
  "Remove the webhook in api.slack.com/apps > your app > Incoming Webhooks (or the workflow's trigger in Workflow Builder), create a new one and store its URL in a vault.";

const SLACK_CONFIG_TOKEN_DOCS = "https://api.slack.com/authentication/config-tokens";

/**
 * POST auth.test answers HTTP 200 either way: `ok: true` for a working token, `ok: false`
 * with `invalid_auth`, `token_revoked`, `token_expired` or `account_inactive` for a dead one.
 * Other errors (ratelimited, fatal_error) stay unknown.
 */
const SLACK_VERIFY: VerifySpec = {
  provider: "slack",
  baseUrl: "https://slack.com",
  method: "POST",
  path: "/api/auth.test",
  body: { contentType: "application/x-www-form-urlencoded", text: "" },
  auth: { kind: "bearer" },
  outcomes: [
    { status: [200], json: { path: "ok", oneOf: [true] }, result: "live" },
    {
      status: [200],
      json: { path: "error", oneOf: ["invalid_auth", "token_revoked", "token_expired", "account_inactive"] },
      result: "revoked",
    },
  ],
  docs: "https://api.slack.com/methods/auth.test",
};

const slackRules: readonly Rule[] = [
  {
    id: "slack-bot-token",
    provider: "Slack",
    description: "Slack bot user OAuth token (xoxb-).",
    keywords: ["xoxb-"],
    pattern: /\b(xoxb-\d{10,13}-(?:\d{10,13}-[A-Za-z0-9]{24,34}|[A-Za-z0-9]{24}))(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation: SLACK_REVOKE,
    docs: "https://api.slack.com/authentication/token-types#bot",
    verify: SLACK_VERIFY,
    examples: {
      positives: (gen) =>
        place(
          [
            `xoxb-${gen.digits(12)}-${gen.digits(13)}-${gen.alnum(24)}`,
            `xoxb-${gen.digits(11)}-${gen.digits(12)}-${gen.alnum(24)}`,
          ],
          [line.env("SLACK_BOT_TOKEN"), (s) => `client = WebClient(token="${s}")`],
        ),
      negatives: [
        "SLACK_BOT_TOKEN=xoxb-your-bot-token",
        "xoxb-xxxxxxxxxxxx-xxxxxxxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx",
        "Bot tokens start with xoxb- and are shown on the OAuth & Permissions page.",
      ],
    },
  },
  {
    id: "slack-user-token",
    provider: "Slack",
    description: "Slack user OAuth token (xoxp-).",
    keywords: ["xoxp-"],
    pattern: /\b(xoxp-\d{10,13}-\d{10,13}-\d{10,13}-[A-Za-z0-9]{28,34})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation: SLACK_REVOKE,
    docs: "https://api.slack.com/authentication/token-types#user",
    verify: SLACK_VERIFY,
    examples: {
      positives: (gen) =>
        place(
          [
            `xoxp-${gen.digits(12)}-${gen.digits(12)}-${gen.digits(13)}-${gen.hex(32)}`,
            `xoxp-${gen.digits(11)}-${gen.digits(11)}-${gen.digits(13)}-${gen.hex(32)}`,
          ],
          [line.yaml("slack_user_token"), line.shell("SLACK_USER_TOKEN")],
        ),
      negatives: [
        "SLACK_USER_TOKEN=xoxp-<your-user-token>",
        "xoxp-000000000000-000000000000-0000000000000-00000000000000000000000000000000",
      ],
    },
  },
  {
    id: "slack-app-token",
    provider: "Slack",
    description: "Slack app-level token for Socket Mode (xapp-).",
    keywords: ["xapp-"],
    pattern: /\b(xapp-\d-[A-Z0-9]{9,12}-\d{10,13}-[A-Za-z0-9]{40,64})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Revoke the app-level token in api.slack.com/apps > your app > Basic Information > App-Level Tokens, generate a new one and store it in a vault.",
    docs: "https://api.slack.com/authentication/token-types#app-level",
    examples: {
      positives: (gen) =>
        place(
          () => `xapp-1-A${gen.upperAlnum(10)}-${gen.digits(13)}-${gen.hex(64)}`,
          [line.env("SLACK_APP_TOKEN"), (s) => `app = App(token=bot_token, app_token="${s}")`],
        ),
      negatives: ["SLACK_APP_TOKEN=xapp-1-...", "export SLACK_APP_TOKEN=${SLACK_APP_TOKEN}"],
    },
  },
  {
    id: "slack-config-access-token",
    provider: "Slack",
    description: "Slack app configuration access token (xoxe.xoxp- / xoxe.xoxb-).",
    keywords: ["xoxe.xox"],
    pattern: /\b(xoxe\.xox[bp]-\d-[A-Za-z0-9]{140,180})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Revoke the configuration token with tooling.tokens.rotate or by regenerating it at api.slack.com/apps (Your App Configuration Tokens), then store the new pair in a vault.",
    docs: SLACK_CONFIG_TOKEN_DOCS,
    examples: {
      positives: (gen) =>
        place(
          [`xoxe.xoxp-1-${gen.alnum(163)}`, `xoxe.xoxp-1-${gen.alnum(166)}`],
          [line.env("SLACK_CONFIG_TOKEN"), line.json("configToken")],
        ),
      negatives: ["SLACK_CONFIG_TOKEN=xoxe.xoxp-1-REPLACE_ME"],
    },
  },
  {
    id: "slack-config-refresh-token",
    provider: "Slack",
    description: "Slack app configuration refresh token (xoxe-1-).",
    keywords: ["xoxe-"],
    pattern: /\b(xoxe-\d-[A-Za-z0-9]{140,160})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Regenerate the configuration token pair at api.slack.com/apps (Your App Configuration Tokens), which invalidates the old refresh token, and store the new pair in a vault.",
    docs: SLACK_CONFIG_TOKEN_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `xoxe-1-${gen.alnum(146)}`,
          [line.shell("SLACK_CONFIG_REFRESH_TOKEN"), line.yaml("refresh_token")],
        ),
      negatives: ["refresh_token: xoxe-1-<refresh-token>"],
    },
  },
  {
    id: "slack-legacy-token",
    provider: "Slack",
    description: "Slack legacy test token or legacy user session token (xoxo-, xoxs-).",
    keywords: ["xoxo-", "xoxs-"],
    pattern: /\b(xox[os]-\d{6,13}-\d{6,13}-\d{6,13}-[a-fA-F0-9]{16,64})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Revoke the legacy token with auth.revoke or on the Legacy tokens page (api.slack.com/legacy/custom-integrations/legacy-tokens), move to a Slack app token and store it in a vault.",
    docs: "https://api.slack.com/legacy/custom-integrations/legacy-tokens",
    examples: {
      positives: (gen) =>
        place(
          [
            `xoxs-${gen.digits(10)}-${gen.digits(11)}-${gen.digits(12)}-${gen.hex(64)}`,
            `xoxo-${gen.digits(10)}-${gen.digits(11)}-${gen.digits(12)}-${gen.hex(32)}`,
          ],
          [line.env("SLACK_LEGACY_TOKEN"), line.py("slack_token")],
        ),
      negatives: ["xoxs-0000000000-0000000000-0000000000-0000000000000000"],
    },
  },
  {
    id: "slack-legacy-workspace-token",
    provider: "Slack",
    description: "Slack legacy workspace app access or refresh token (xoxa-, xoxr-).",
    keywords: ["xoxa-", "xoxr-"],
    pattern:
      /\b(xox[ar]-(?:\d-|)(?:[A-Za-z0-9]{8,48}|\d{6,13}-[A-Za-z0-9-]{18,120}[A-Za-z0-9]))(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Revoke the workspace token with auth.revoke or by uninstalling the workspace app, migrate to a current Slack app token and store it in a vault.",
    docs: "https://api.slack.com/authentication/token-types",
    examples: {
      positives: (gen) =>
        place(
          [
            `xoxa-2-${gen.digits(12)}-${gen.digits(12)}-${gen.hex(32)}`,
            `xoxr-${gen.digits(12)}-${gen.alnum(40)}`,
          ],
          [line.env("SLACK_WORKSPACE_TOKEN"), line.json("refresh_token")],
        ),
      negatives: ["SLACK_TOKEN=xoxa-your-workspace-token-here"],
    },
  },
  {
    id: "slack-webhook-url",
    provider: "Slack",
    description: "Slack incoming webhook URL (hooks.slack.com/services/T.../B.../...).",
    keywords: ["hooks.slack.com/services"],
    pattern:
      /\b(https?:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]{8,12}\/B[A-Z0-9]{8,12}\/[A-Za-z0-9]{24})(?![A-Za-z0-9])/,
    secretGroup: 1,
    entropy: 0,
    validate: lastSegmentEntropy(3),
    severity: "medium",
    remediation: SLACK_WEBHOOK_REVOKE,
    docs: "https://api.slack.com/messaging/webhooks",
    examples: {
      positives: (gen) =>
        place(
          [
            `https://hooks.slack.com/services/T${gen.upperAlnum(10)}/B${gen.upperAlnum(10)}/${gen.alnum(24)}`,
            `https://hooks.slack.com/services/T${gen.upperAlnum(8)}/B${gen.upperAlnum(10)}/${gen.alnum(24)}`,
          ],
          [
            line.env("SLACK_WEBHOOK_URL"),
            (s) => `curl -X POST -H 'Content-type: application/json' --data '{"text":"deployed"}' ${s}`,
          ],
        ),
      negatives: [
        "SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "Post to https://hooks.slack.com/services/<team>/<channel>/<token>",
      ],
    },
  },
  {
    id: "slack-workflow-webhook-url",
    provider: "Slack",
    description: "Slack Workflow Builder webhook trigger URL (hooks.slack.com/workflows/ or /triggers/).",
    keywords: ["hooks.slack.com/workflows", "hooks.slack.com/triggers"],
    pattern:
      /\b(https?:\/\/hooks\.slack\.com\/(?:workflows|triggers)\/T[A-Z0-9]{8,12}\/(?:[A-Z0-9]{8,12}\/\d{10,20}|\d{10,20})\/[A-Za-z0-9]{24,34})(?![A-Za-z0-9])/,
    secretGroup: 1,
    entropy: 0,
    validate: lastSegmentEntropy(3),
    severity: "medium",
    remediation: SLACK_WEBHOOK_REVOKE,
    docs: "https://slack.com/help/articles/360041352714-Build-a-workflow--Create-a-workflow-that-starts-outside-of-Slack",
    examples: {
      positives: (gen) =>
        place(
          [
            `https://hooks.slack.com/workflows/T${gen.upperAlnum(10)}/A${gen.upperAlnum(10)}/${gen.digits(18)}/${gen.alnum(32)}`,
            `https://hooks.slack.com/triggers/T${gen.upperAlnum(10)}/${gen.digits(13)}/${gen.hex(32)}`,
          ],
          [line.yaml("webhook"), line.js("TRIGGER_URL")],
        ),
      negatives: [
        "https://hooks.slack.com/workflows/T00000000/A00000000/000000000000000000/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
      ],
    },
  },
];

const DISCORD = anyCase("discord");

/** GET /users/@me with `Authorization: Bot <token>`: 200 with the bot user, 401 once reset. */
const DISCORD_VERIFY: VerifySpec = {
  provider: "discord",
  baseUrl: "https://discord.com",
  method: "GET",
  path: "/api/v10/users/@me",
  auth: { kind: "bearer", scheme: "Bot" },
  outcomes: [
    { status: [200], result: "live" },
    { status: [401], result: "revoked" },
  ],
  docs: "https://discord.com/developers/docs/resources/user#get-current-user",
};

const discordRules: readonly Rule[] = [
  {
    id: "discord-bot-token",
    provider: "Discord",
    description: "Discord bot token (three dot-separated parts) near the word discord.",
    keywords: ["discord"],
    pattern: near({
      context: DISCORD,
      value: String.raw`[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}`,
      within: 200,
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Reset the token in the Discord Developer Portal (Applications > your app > Bot > Reset Token), which invalidates the old one, then store the new token in a vault.",
    docs: "https://discord.com/developers/docs/topics/oauth2#bots",
    verify: DISCORD_VERIFY,
    examples: {
      positives: (gen) =>
        place(
          [
            `M${gen.alnum(25)}.${gen.base64url(6)}.${gen.alnum(38)}`,
            `N${gen.alnum(23)}.${gen.alnum(6)}.${gen.base64url(27)}`,
          ],
          [
            line.env("DISCORD_BOT_TOKEN"),
            (s) => `import discord\nclient = discord.Client(intents=intents)\nclient.run("${s}")`,
          ],
        ),
      negatives: [
        "DISCORD_BOT_TOKEN=your.discord.token",
        "discord: MTAxxxxxxxxxxxxxxxxxxxxx.xxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxx",
      ],
    },
  },
  {
    id: "discord-webhook-url",
    provider: "Discord",
    description: "Discord webhook URL (discord.com/api/webhooks/<id>/<token>).",
    keywords: ["discord.com/api/webhooks", "discordapp.com/api/webhooks"],
    pattern:
      /\b(https:\/\/(?:ptb\.|canary\.)?discord(?:app)?\.com\/api\/webhooks\/\d{17,20}\/[A-Za-z0-9_-]{60,72})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 0,
    validate: lastSegmentEntropy(3.5),
    severity: "medium",
    remediation:
      "Delete the webhook in the channel's Settings > Integrations > Webhooks (or DELETE /webhooks/{id}/{token}), create a new one and store its URL in a vault.",
    docs: "https://discord.com/developers/docs/resources/webhook",
    examples: {
      positives: (gen) =>
        place(
          [
            `https://discord.com/api/webhooks/${gen.digits(19)}/${gen.base64url(68)}`,
            `https://discordapp.com/api/webhooks/${gen.digits(18)}/${gen.alnum(68)}`,
          ],
          [line.env("DISCORD_WEBHOOK"), line.json("webhook_url")],
        ),
      negatives: ["https://discord.com/api/webhooks/{webhook.id}/{webhook.token}"],
    },
  },
  {
    id: "discord-client-secret",
    provider: "Discord",
    description: "Discord OAuth2 client secret assigned to a Discord secret variable.",
    keywords: ["discord"],
    pattern: assigned({
      context: `${DISCORD}[\\w.-]{0,20}${SECRET_WORD}`,
      value: "[A-Za-z0-9_-]{32}",
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Reset the client secret in the Discord Developer Portal (Applications > your app > OAuth2 > Reset Secret), then store the new one in a vault.",
    docs: "https://discord.com/developers/docs/topics/oauth2",
    examples: {
      positives: (gen) =>
        place(
          [gen.alnum(32), gen.base64url(32)],
          [line.env("DISCORD_CLIENT_SECRET"), line.js("discordClientSecret")],
        ),
      negatives: ["DISCORD_CLIENT_SECRET=<your client secret>"],
    },
  },
];

const otherChatRules: readonly Rule[] = [
  {
    id: "telegram-bot-token",
    provider: "Telegram",
    description: "Telegram Bot API token (<bot id>:AA...) near the word telegram or bot.",
    keywords: ["telegram", "bot"],
    pattern: new RegExp(
      String.raw`${anyCase("telegram", "bot")}(?:[\s\S]{0,80}?\D|)(\d{8,10}:AA[A-Za-z0-9_-]{33})${END_TOKEN}`,
    ),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Send /revoke to @BotFather and pick the bot to invalidate the token and get a new one, then store it in a vault.",
    docs: "https://core.telegram.org/bots/features#botfather",
    examples: {
      positives: (gen) =>
        place(
          [`${gen.digits(10)}:AA${gen.base64url(33)}`, `${gen.digits(9)}:AA${gen.alnum(33)}`],
          [
            line.env("TELEGRAM_BOT_TOKEN"),
            (s) => `requests.post(f"https://api.telegram.org/bot${s}/sendMessage", json=payload)`,
          ],
        ),
      negatives: [
        "TELEGRAM_BOT_TOKEN=123456789:ABC-your-token-here",
        "https://api.telegram.org/bot<token>/getMe",
      ],
    },
  },
  {
    id: "microsoft-teams-webhook-url",
    provider: "Microsoft Teams",
    description: "Microsoft Teams incoming webhook URL (webhook.office.com/webhookb2/...).",
    keywords: ["webhook.office.com", "outlook.office.com/webhook"],
    pattern: new RegExp(
      String.raw`\b(https://(?:[A-Za-z0-9-]{1,60}\.webhook\.office\.com/webhookb2|outlook\.office\.com/webhook)/${UUID}@${UUID}/IncomingWebhook/[a-f0-9]{32}/${UUID}(?:/V2[A-Za-z0-9_-]{20,80}|))(?![A-Za-z0-9_/-])`,
    ),
    secretGroup: 1,
    entropy: 0,
    validate: lastSegmentEntropy(3),
    severity: "medium",
    remediation:
      "Remove the Incoming Webhook connector (or workflow) from the Teams channel's Connectors settings, create a new one and store its URL in a vault.",
    docs: "https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook",
    examples: {
      positives: (gen) =>
        place(
          [
            `https://contoso.webhook.office.com/webhookb2/${gen.uuid()}@${gen.uuid()}/IncomingWebhook/${gen.hex(32)}/${gen.uuid()}/V2${gen.base64url(44)}`,
            `https://outlook.office.com/webhook/${gen.uuid()}@${gen.uuid()}/IncomingWebhook/${gen.hex(32)}/${gen.uuid()}`,
          ],
          [line.env("TEAMS_WEBHOOK_URL"), line.yaml("teams_webhook")],
        ),
      negatives: [
        "https://contoso.webhook.office.com/webhookb2/<group-id>@<tenant-id>/IncomingWebhook/<id>/<owner>",
      ],
    },
  },
  {
    id: "mattermost-access-token",
    provider: "Mattermost",
    description: "Mattermost personal access or bot token (26 characters) assigned to a Mattermost variable.",
    keywords: ["mattermost"],
    pattern: assigned({ context: anyCase("mattermost"), value: "[a-z0-9]{26}", flags: "" }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Revoke the token in Profile > Security > Personal Access Tokens (or Integrations > Bot Accounts), or with DELETE /api/v4/users/tokens/revoke, create a new one and store it in a vault.",
    docs: "https://developers.mattermost.com/integrate/reference/personal-access-token/",
    examples: {
      positives: (gen) =>
        place(() => gen.lowerAlnum(26), [line.env("MATTERMOST_TOKEN"), line.go("mattermostToken")]),
      negatives: ["MATTERMOST_TOKEN=your-personal-access-token"],
    },
  },
  {
    id: "mattermost-webhook-url",
    provider: "Mattermost",
    description: "Mattermost incoming webhook URL (<server>/hooks/<26 characters>) near the word mattermost.",
    keywords: ["mattermost"],
    pattern: near({
      context: anyCase("mattermost"),
      value: String.raw`https?://[A-Za-z0-9.-]{1,100}(?::\d{2,5}|)/hooks/[a-z0-9]{26}`,
      within: 200,
      flags: "",
    }),
    secretGroup: 1,
    entropy: 0,
    validate: lastSegmentEntropy(3),
    severity: "medium",
    remediation:
      "Delete the hook in Main Menu > Integrations > Incoming Webhooks, create a new one and store its URL in a vault.",
    docs: "https://developers.mattermost.com/integrate/webhooks/incoming/",
    examples: {
      positives: (gen) =>
        place(
          [
            `https://chat.example.com/hooks/${gen.lowerAlnum(26)}`,
            `https://mattermost.internal:8065/hooks/${gen.lowerAlnum(26)}`,
          ],
          [
            line.env("MATTERMOST_WEBHOOK_URL"),
            (s) => `# notify mattermost\ncurl -X POST -d 'payload={"text":"ok"}' ${s}`,
          ],
        ),
      negatives: ["MATTERMOST_WEBHOOK_URL=https://your-mattermost-server.com/hooks/xxx-generatedkey-xxx"],
    },
  },
  {
    id: "zulip-api-key",
    provider: "Zulip",
    description: "Zulip API key in a Zulip variable or a zuliprc file.",
    keywords: ["zulip"],
    pattern: new RegExp(
      String.raw`${anyCase("zulip")}[\s\S]{0,120}?${anyCase("key")}[\w-]{0,10}${ASSIGN}([A-Za-z0-9]{32})(?![A-Za-z0-9])`,
    ),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Regenerate the API key in Zulip's Personal settings > Account & privacy > API key (or the bot's settings), which invalidates the old one, then store it in a vault.",
    docs: "https://zulip.com/api/api-keys",
    examples: {
      positives: (gen) =>
        place(
          () => gen.alnum(32),
          [
            (s) =>
              `[api]\nemail=deploy-bot@example.zulipchat.com\nkey=${s}\nsite=https://example.zulipchat.com`,
            line.env("ZULIP_API_KEY"),
          ],
        ),
      negatives: ["ZULIP_API_KEY=<your-api-key>"],
    },
  },
  {
    id: "lark-webhook-url",
    provider: "Lark / Feishu",
    description: "Lark or Feishu custom bot webhook URL (open-apis/bot/v2/hook/<uuid>).",
    keywords: ["open.feishu.cn/open-apis/bot", "open.larksuite.com/open-apis/bot"],
    pattern: new RegExp(
      String.raw`\b(https://open\.(?:feishu\.cn|larksuite\.com)/open-apis/bot/v2/hook/${UUID})(?![a-f0-9-])`,
    ),
    secretGroup: 1,
    entropy: 0,
    validate: lastSegmentEntropy(3),
    severity: "medium",
    remediation:
      "Remove the custom bot from the group chat's settings (Bots), add a new one with signature verification enabled and store its webhook URL in a vault.",
    docs: "https://open.larksuite.com/document/client-docs/bot-v3/add-custom-bot",
    examples: {
      positives: (gen) =>
        place(
          [
            `https://open.feishu.cn/open-apis/bot/v2/hook/${gen.uuid()}`,
            `https://open.larksuite.com/open-apis/bot/v2/hook/${gen.uuid()}`,
          ],
          [line.env("FEISHU_WEBHOOK"), line.py("LARK_HOOK")],
        ),
      negatives: ["https://open.feishu.cn/open-apis/bot/v2/hook/xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"],
    },
  },
  {
    id: "lark-app-secret",
    provider: "Lark / Feishu",
    description: "Lark or Feishu app secret assigned to a Lark/Feishu secret variable.",
    keywords: ["lark", "feishu"],
    pattern: assigned({
      context: `${anyCase("lark", "feishu")}[\\w.-]{0,20}${SECRET_WORD}`,
      value: "[A-Za-z0-9]{32}",
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Reset the App Secret in the developer console (Credentials & Basic Info), update the app and store the new secret in a vault.",
    docs: "https://open.larksuite.com/document/server-docs/api-call-guide/terminology",
    examples: {
      positives: (gen) =>
        place(() => gen.alnum(32), [line.env("FEISHU_APP_SECRET"), line.yaml("lark_app_secret")]),
      negatives: ["LARK_APP_SECRET=${LARK_APP_SECRET}"],
    },
  },
];

/** Slack, Discord, Telegram, Teams, Mattermost, Zulip and Lark/Feishu. */
export const saasMessagingRules: readonly Rule[] = [...slackRules, ...discordRules, ...otherChatRules];

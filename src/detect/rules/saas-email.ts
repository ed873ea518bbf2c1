import type { Rule } from "../rule.ts";
import type { VerifySpec } from "../verify.ts";
import {
  anyCase,
  ASSIGN,
  assigned,
  END_TOKEN,
  KEY_WORD,
  line,
  near,
  place,
  prefixedRule,
  type TokenFamily,
  UUID,
} from "./shared.ts";

const BREVO: TokenFamily = {
  provider: "Brevo",
  body: "[a-f0-9]{64}-[A-Za-z0-9]{16}",
  example: (gen) => `${gen.hex(64)}-${gen.alnum(16)}`,
  entropy: 3,
  severity: "high",
  docs: "https://help.brevo.com/hc/en-us/articles/209467485-Create-and-manage-your-API-keys",
};

const TWILIO = anyCase("twilio");
const MAILGUN = anyCase("mailgun");

/**
 * GET /2010-04-01/Accounts/{AccountSid}.json with basic auth SID:token: 200 with the account,
 * 401 (error 20003) when the token was rotated away. The account SID (AC + 32 hex, an
 * identifier, not a secret) is taken from the text near the token.
 */
const TWILIO_VERIFY: VerifySpec = {
  provider: "twilio",
  baseUrl: "https://api.twilio.com",
  method: "GET",
  path: "/2010-04-01/Accounts/{accountSid}.json",
  auth: { kind: "basic", username: "{accountSid}", password: "{secret}" },
  inputs: [{ name: "accountSid", label: "Twilio account SID", near: /\b(AC[0-9a-f]{32})\b/ }],
  outcomes: [
    { status: [200], result: "live" },
    { status: [401], result: "revoked" },
  ],
  docs: "https://www.twilio.com/docs/usage/api/account#fetch-an-account-resource",
  note: "Needs an account SID (AC...) within 1,000 characters of the token.",
};

/** GET /v3/scopes lists the key's own scopes (any key may): 200 live, 401 revoked. */
const SENDGRID_VERIFY: VerifySpec = {
  provider: "sendgrid",
  baseUrl: "https://api.sendgrid.com",
  method: "GET",
  path: "/v3/scopes",
  auth: { kind: "bearer" },
  outcomes: [
    { status: [200], result: "live" },
    { status: [401], result: "revoked" },
  ],
  docs: "https://www.twilio.com/docs/sendgrid/api-reference/api-key-permissions/retrieve-a-list-of-scopes-for-which-this-user-has-access",
};

/**
 * GET /v3/domains with basic auth `api:<key>`: 200 live, 401 "Forbidden" revoked. Keys of an
 * EU account only work on api.eu.mailgun.net: set verify.baseUrls.mailgun for those.
 */
const MAILGUN_VERIFY: VerifySpec = {
  provider: "mailgun",
  baseUrl: "https://api.mailgun.net",
  method: "GET",
  path: "/v3/domains?limit=1",
  auth: { kind: "basic", username: "api", password: "{secret}" },
  outcomes: [
    { status: [200], result: "live" },
    { status: [401], result: "revoked" },
  ],
  docs: "https://documentation.mailgun.com/docs/mailgun/api-reference/openapi-final/tag/Domains/",
  note: "US region by default; EU accounts need verify.baseUrls.mailgun = https://api.eu.mailgun.net.",
};

const MAILGUN_DOCS =
  "https://help.mailgun.com/hc/en-us/articles/203380100-Where-Can-I-Find-My-API-Keys-and-SMTP-Credentials";

const twilioRules: readonly Rule[] = [
  {
    id: "twilio-api-key",
    provider: "Twilio",
    description: "Twilio API key SID (SK followed by 32 hex digits).",
    keywords: ["sk"],
    pattern: /\b(SK[0-9a-f]{32})\b/,
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Delete the API key in the Twilio Console (Account > API keys & tokens) or with DELETE /v1/Keys/{sid}, create a new key and store it in a vault.",
    docs: "https://www.twilio.com/docs/iam/api-keys",
    examples: {
      positives: (gen) =>
        place(
          () => `SK${gen.hex(32)}`,
          [line.env("TWILIO_API_KEY"), (s) => `client = Client("${s}", api_secret, account_sid)`],
        ),
      negatives: [
        "TWILIO_API_KEY=SKxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "TWILIO_API_KEY=SK00000000000000000000000000000000",
      ],
    },
  },
  {
    id: "twilio-auth-token",
    provider: "Twilio",
    description: "Twilio account auth token (32 hex) in a Twilio variable or next to an account SID.",
    keywords: ["twilio"],
    pattern: new RegExp(
      String.raw`(?:${TWILIO}[\w.-]{0,30}${ASSIGN}|\bAC[a-f0-9]{32}['"]?[ \t]{0,3}[,:][ \t]{0,3}['"]?)([a-f0-9]{32})${END_TOKEN}`,
    ),
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Rotate the auth token in the Twilio Console (Account > API keys & tokens > Auth tokens: create a secondary token, promote it), then store it in a vault; prefer API keys over the auth token.",
    docs: "https://help.twilio.com/articles/223136027-Auth-Tokens-and-How-to-Change-Them",
    verify: TWILIO_VERIFY,
    examples: {
      positives: (gen) =>
        place(
          [gen.hex(32), gen.hex(32), gen.hex(32)],
          [
            line.env("TWILIO_AUTH_TOKEN"),
            (s) => `from twilio.rest import Client\nclient = Client("AC${gen.hex(32)}", "${s}")`,
            line.json("twilioAuthToken"),
          ],
        ),
      negatives: ["TWILIO_AUTH_TOKEN=your_auth_token", "TWILIO_AUTH_TOKEN=[AuthToken]"],
    },
  },
];

const emailRules: readonly Rule[] = [
  {
    id: "sendgrid-api-key",
    provider: "SendGrid",
    description: "SendGrid API key (SG.<22>.<43>).",
    keywords: ["sg."],
    pattern: /\b(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the key in SendGrid (Settings > API Keys) or with DELETE /v3/api_keys/{id}, create a new key with the least scopes needed and store it in a vault.",
    docs: "https://www.twilio.com/docs/sendgrid/ui/account-and-settings/api-keys",
    verify: SENDGRID_VERIFY,
    examples: {
      positives: (gen) =>
        place(
          [`SG.${gen.base64url(22)}.${gen.base64url(43)}`, `SG.${gen.alnum(22)}.${gen.base64url(43)}`],
          [line.env("SENDGRID_API_KEY"), line.js("sgKey")],
        ),
      negatives: [
        "SENDGRID_API_KEY=SG.xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "SENDGRID_API_KEY=SG.<your-key>",
      ],
    },
  },
  {
    id: "mailgun-api-key",
    provider: "Mailgun",
    description: "Mailgun private API key (key- + 32 hex) near the word mailgun.",
    keywords: ["mailgun"],
    pattern: near({ context: MAILGUN, value: "key-[a-f0-9]{32}", flags: "" }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Delete the key in the Mailgun control panel (API Security > API keys), create a new one and store it in a vault.",
    docs: MAILGUN_DOCS,
    verify: MAILGUN_VERIFY,
    examples: {
      positives: (gen) =>
        place(
          () => `key-${gen.hex(32)}`,
          [
            line.env("MAILGUN_API_KEY"),
            (s) => `const mg = mailgun.client({ username: "api", key: "${s}" });`,
          ],
        ),
      negatives: [
        "MAILGUN_API_KEY=key-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "MAILGUN_API_KEY=key-00000000000000000000000000000000",
      ],
    },
  },
  {
    id: "mailgun-api-key-v2",
    provider: "Mailgun",
    description: "Mailgun API or sending key in the newer format (32 hex-8 hex-8 hex) near the word mailgun.",
    keywords: ["mailgun"],
    pattern: near({ context: MAILGUN, value: "[a-f0-9]{32}-[a-f0-9]{8}-[a-f0-9]{8}", flags: "" }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Delete the key in the Mailgun control panel (API Security > API keys, or the domain's Sending keys), create a new one and store it in a vault.",
    docs: MAILGUN_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `${gen.hex(32)}-${gen.hex(8)}-${gen.hex(8)}`,
          [line.shell("MAILGUN_API_KEY"), line.yaml("mailgun_sending_key")],
        ),
      negatives: ["mailgun_key: 00000000000000000000000000000000-00000000-00000000"],
    },
  },
  {
    id: "mailchimp-api-key",
    provider: "Mailchimp",
    description: "Mailchimp Marketing API key (32 hex + -us<datacenter>).",
    keywords: ["-us"],
    pattern: /\b([a-f0-9]{32}-us\d{1,2})\b/,
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Disable the key in Mailchimp (Profile > Extras > API keys), create a new one and store it in a vault.",
    docs: "https://mailchimp.com/help/about-api-keys/",
    examples: {
      positives: (gen) =>
        place(
          () => `${gen.hex(32)}-us${gen.int(1, 21)}`,
          [line.env("MAILCHIMP_API_KEY"), (s) => `client.set_config({"api_key": "${s}", "server": "us6"})`],
        ),
      negatives: ["MAILCHIMP_API_KEY=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-us6", "MAILCHIMP_API_KEY=<key>-us21"],
    },
  },
  {
    id: "postmark-server-token",
    provider: "Postmark",
    description: "Postmark server or account API token (a UUID) in a Postmark variable or header.",
    keywords: ["postmark"],
    pattern: assigned({ context: anyCase("postmark"), value: UUID, flags: "" }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Reset the token in Postmark (the server's API Tokens tab, or Account > API Tokens for the account token), update the app and store it in a vault.",
    docs: "https://postmarkapp.com/support/article/1008-what-are-the-account-and-server-api-tokens",
    examples: {
      positives: (gen) =>
        place(
          () => gen.uuid(),
          [
            line.env("POSTMARK_SERVER_TOKEN"),
            (s) => `curl https://api.postmarkapp.com/email -H "X-Postmark-Server-Token: ${s}"`,
          ],
        ),
      negatives: [
        "X-Postmark-Server-Token: POSTMARK_API_TEST",
        "POSTMARK_SERVER_TOKEN=00000000-0000-0000-0000-000000000000",
      ],
    },
  },
  {
    id: "mailjet-api-key",
    provider: "Mailjet",
    description: "Mailjet API key or secret key (32 hex) in a Mailjet variable.",
    keywords: ["mailjet", "mj_apikey"],
    pattern: assigned({ context: `${anyCase("mailjet")}|MJ_APIKEY`, value: "[a-f0-9]{32}", flags: "" }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Regenerate the secret key or delete the sub-account key in Mailjet (Account settings > API key management), then store the new pair in a vault.",
    docs: "https://dev.mailjet.com/email/guides/#authentication",
    examples: {
      positives: (gen) =>
        place(() => gen.hex(32), [line.env("MJ_APIKEY_PRIVATE"), line.py("mailjet_secret")]),
      negatives: ["MJ_APIKEY_PRIVATE=your_private_key"],
    },
  },
  prefixedRule(BREVO, {
    id: "brevo-api-key",
    prefix: "xkeysib-",
    description: "Brevo (Sendinblue) API key (xkeysib-).",
    remediation:
      "Delete the key in Brevo (SMTP & API > API keys), generate a new one and store it in a vault.",
    lines: [line.env("BREVO_API_KEY"), (s) => `configuration.api_key['api-key'] = '${s}'`],
    negatives: ["BREVO_API_KEY=xkeysib-YOUR_API_KEY"],
  }),
  prefixedRule(BREVO, {
    id: "brevo-smtp-key",
    prefix: "xsmtpsib-",
    description: "Brevo (Sendinblue) SMTP key (xsmtpsib-).",
    remediation:
      "Delete the SMTP key in Brevo (SMTP & API > SMTP), generate a new one and store it in a vault.",
    lines: [line.env("SMTP_PASSWORD"), line.yaml("smtp_key")],
    negatives: ["SMTP_PASSWORD=xsmtpsib-..."],
  }),
  {
    id: "sparkpost-api-key",
    provider: "SparkPost",
    description: "SparkPost API key (40 hex) in a SparkPost variable.",
    keywords: ["sparkpost"],
    pattern: assigned({ context: anyCase("sparkpost", "SparkPost"), value: "[a-f0-9]{40}", flags: "" }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Delete the key in SparkPost (Configuration > API Keys), create a new one with the least grants needed and store it in a vault.",
    docs: "https://support.sparkpost.com/docs/getting-started/create-api-keys",
    examples: {
      positives: (gen) => place(() => gen.hex(40), [line.env("SPARKPOST_API_KEY"), line.js("sparkPostKey")]),
      negatives: ["SPARKPOST_API_KEY=<YOUR_API_KEY>"],
    },
  },
  {
    id: "resend-api-key",
    provider: "Resend",
    description: "Resend API key (re_<8>_<24>).",
    keywords: ["re_"],
    pattern: /\b(re_(?=[A-Za-z_]{0,42}\d)[A-Za-z0-9]{8,10}_[A-Za-z0-9]{20,32})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the key in the Resend dashboard (API Keys) or with DELETE /api-keys/{id}, create a new one and store it in a vault.",
    docs: "https://resend.com/docs/dashboard/api-keys/introduction",
    examples: {
      positives: (gen) =>
        place(
          [
            `re_${gen.digits(2)}${gen.alnum(6)}_${gen.alnum(24)}`,
            `re_${gen.alnum(7)}${gen.digits(1)}_${gen.alnum(24)}`,
          ],
          [line.env("RESEND_API_KEY"), (s) => `const resend = new Resend("${s}");`],
        ),
      negatives: ["RESEND_API_KEY=re_123456789", "const resend = new Resend('re_xxxxxxxxx');"],
    },
  },
  {
    id: "loops-api-key",
    provider: "Loops",
    description: "Loops API key (32 hex) in a Loops variable.",
    keywords: ["loops"],
    pattern: assigned({ context: anyCase("loops"), value: "[a-f0-9]{32}", flags: "" }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation: "Delete the key in Loops (Settings > API), generate a new one and store it in a vault.",
    docs: "https://loops.so/docs/api-reference/intro",
    examples: {
      positives: (gen) => place(() => gen.hex(32), [line.env("LOOPS_API_KEY"), line.go("loopsKey")]),
      negatives: ["LOOPS_API_KEY=your-loops-api-key"],
    },
  },
  {
    id: "customerio-api-key",
    provider: "Customer.io",
    description: "Customer.io Track or App API key (20 or 32 hex) in a Customer.io key variable.",
    keywords: ["customerio", "customer_io", "customer.io", "customer-io"],
    pattern: assigned({
      context: `${anyCase("customerio", "customer_io", "customer.io", "customer-io", "CustomerIO")}[\\w.-]{0,20}${KEY_WORD}`,
      value: "[a-f0-9]{32}|[a-f0-9]{20}",
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Delete the key in Customer.io (Account Settings > API Credentials), create a new one and store it in a vault.",
    docs: "https://docs.customer.io/accounts-and-workspaces/managing-credentials/",
    examples: {
      positives: (gen) =>
        place([gen.hex(20), gen.hex(32)], [line.env("CUSTOMERIO_API_KEY"), line.yaml("customer_io_app_key")]),
      negatives: ["CUSTOMERIO_API_KEY=<track-api-key>"],
    },
  },
];

/** Twilio, email delivery and marketing-automation providers. */
export const saasEmailRules: readonly Rule[] = [...twilioRules, ...emailRules];

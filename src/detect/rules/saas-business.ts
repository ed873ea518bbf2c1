import type { Rule } from "../rule.ts";
import {
  anyCase,
  ASSIGN,
  assigned,
  END_BASE64,
  END_TOKEN,
  JWT,
  KEY_WORD,
  line,
  near,
  place,
  SECRET_WORD,
  UUID,
} from "./shared.ts";

const HUBSPOT_REMEDIATION =
  "Rotate the token in HubSpot (Settings > Integrations > Private Apps > your app > Auth > Rotate), update the integration and store the new token in a vault.";
const SALESFORCE_REVOKE =
  "Revoke the token with POST /services/oauth2/revoke or in Setup > Connected Apps OAuth Usage (or reset the user's session), then store only refresh tokens, in a vault.";

const SALESFORCE_REVOKE_DOCS =
  "https://help.salesforce.com/s/articleView?id=sf.remoteaccess_revoke_token.htm&type=5";

const supportAndCrmRules: readonly Rule[] = [
  {
    id: "intercom-access-token",
    provider: "Intercom",
    description: "Intercom access token (base64 of tok:..., dG9rO...) near the word intercom.",
    keywords: ["intercom"],
    pattern: near({
      context: anyCase("intercom"),
      value: "dG9rO[A-Za-z0-9+/]{50,70}={0,2}",
      end: END_BASE64,
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Regenerate the access token in the Intercom Developer Hub (your app > Authentication), update the integration and store the new token in a vault.",
    docs: "https://developers.intercom.com/docs/build-an-integration/learn-more/authentication",
    examples: {
      positives: (gen) =>
        place(
          [`dG9rOj${gen.base64(53)}=`, `dG9rOj${gen.base64(54)}`],
          [
            line.env("INTERCOM_ACCESS_TOKEN"),
            (s) => `const intercom = new IntercomClient({ token: "${s}" });`,
          ],
        ),
      negatives: ["INTERCOM_ACCESS_TOKEN=<your access token>"],
    },
  },
  {
    id: "zendesk-api-token",
    provider: "Zendesk",
    description: "Zendesk API token (40 characters) in a Zendesk variable.",
    keywords: ["zendesk"],
    pattern: assigned({ context: anyCase("zendesk"), value: "[A-Za-z0-9]{40}", flags: "" }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the token in Zendesk Admin Center (Apps and integrations > APIs > Zendesk API), create a new one and store it in a vault.",
    docs: "https://support.zendesk.com/hc/en-us/articles/4408889192858-Managing-access-to-the-Zendesk-API",
    examples: {
      positives: (gen) =>
        place(() => gen.alnum(40), [line.env("ZENDESK_API_TOKEN"), line.yaml("zendesk_token")]),
      negatives: ["ZENDESK_API_TOKEN=your_api_token"],
    },
  },
  {
    id: "freshdesk-api-key",
    provider: "Freshdesk",
    description: "Freshdesk API key (20 characters) in a Freshdesk variable.",
    keywords: ["freshdesk"],
    pattern: assigned({ context: anyCase("freshdesk"), value: "[A-Za-z0-9]{20}", flags: "" }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Reset the API key in Freshdesk (Profile settings > View API key > Reset), update the integration and store the new key in a vault.",
    docs: "https://support.freshdesk.com/support/solutions/articles/215517-how-to-find-your-api-key",
    examples: {
      positives: (gen) =>
        place(() => gen.alnum(20), [line.env("FRESHDESK_API_KEY"), line.py("freshdesk_key")]),
      negatives: ["FRESHDESK_API_KEY=YOUR_API_KEY"],
    },
  },
  {
    id: "hubspot-private-app-token",
    provider: "HubSpot",
    description: "HubSpot private app access token (pat-na1-, pat-eu1- + UUID).",
    keywords: ["pat-na", "pat-eu", "pat-ap"],
    pattern: new RegExp(String.raw`\b(pat-(?:na|eu|ap)\d-${UUID})(?![a-f0-9-])`),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation: HUBSPOT_REMEDIATION,
    docs: "https://developers.hubspot.com/docs/api/private-apps",
    examples: {
      positives: (gen) =>
        place(
          [`pat-na1-${gen.uuid()}`, `pat-eu1-${gen.uuid()}`],
          [line.env("HUBSPOT_ACCESS_TOKEN"), (s) => `-H "Authorization: Bearer ${s}"`],
        ),
      negatives: ["HUBSPOT_ACCESS_TOKEN=pat-na1-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"],
    },
  },
  {
    id: "hubspot-api-key",
    provider: "HubSpot",
    description: "HubSpot legacy API key (hapikey, a UUID) in a HubSpot variable or hapikey= parameter.",
    keywords: ["hubspot", "hapikey"],
    pattern: assigned({ context: anyCase("hubspot", "HubSpot", "hapikey"), value: UUID, flags: "" }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation: HUBSPOT_REMEDIATION,
    docs: "https://developers.hubspot.com/docs/api/migrate-an-api-key-integration-to-a-private-app",
    examples: {
      positives: (gen) =>
        place(
          () => gen.uuid(),
          [
            line.env("HUBSPOT_API_KEY"),
            (s) => `GET https://api.hubapi.com/contacts/v1/lists/all/contacts/all?hapikey=${s}`,
          ],
        ),
      negatives: ["https://api.hubapi.com/contacts/v1/contact?hapikey=demo"],
    },
  },
  {
    id: "salesforce-access-token",
    provider: "Salesforce",
    description: "Salesforce OAuth access token or session id (00D<org id>!<token>).",
    keywords: ["00d"],
    pattern: /\b(00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]{80,120})(?![A-Za-z0-9._])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation: SALESFORCE_REVOKE,
    docs: SALESFORCE_REVOKE_DOCS,
    examples: {
      positives: (gen) =>
        place(
          [
            `00D${gen.alnum(15)}!AQ${gen.alnum(30)}.${gen.alnum(30)}_${gen.alnum(30)}`,
            `00D${gen.alnum(12)}!AR${gen.alnum(94)}`,
          ],
          [line.env("SF_ACCESS_TOKEN"), (s) => `sfdx force:org:display => Access Token ${s}`],
        ),
      negatives: ["SF_ACCESS_TOKEN=00Dxx0000000000!<session-id>"],
    },
  },
  {
    id: "salesforce-refresh-token",
    provider: "Salesforce",
    description: "Salesforce OAuth refresh token (5Aep8...).",
    keywords: ["5aep8"],
    pattern: /\b(5Aep8[A-Za-z0-9._]{75,100})(?![A-Za-z0-9._])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation: SALESFORCE_REVOKE,
    docs: SALESFORCE_REVOKE_DOCS,
    examples: {
      positives: (gen) =>
        place(
          [`5Aep861${gen.alnum(30)}_${gen.alnum(50)}`, `5Aep861${gen.alnum(80)}`],
          [line.env("SALESFORCE_REFRESH_TOKEN"), line.json("refresh_token")],
        ),
      negatives: ["SALESFORCE_REFRESH_TOKEN=5Aep861..."],
    },
  },
  {
    id: "salesforce-consumer-secret",
    provider: "Salesforce",
    description:
      "Salesforce connected app consumer secret (64 hex or 19 digits) in a Salesforce secret variable.",
    keywords: ["salesforce", "sfdc"],
    pattern: assigned({
      context: `${anyCase("salesforce", "sfdc")}[\\w.-]{0,20}${SECRET_WORD}`,
      value: String.raw`[A-Fa-f0-9]{64}|\d{19}`,
      flags: "",
    }),
    secretGroup: 1,
    entropy: 2.5,
    severity: "high",
    remediation:
      "Generate a new consumer secret in Setup > App Manager > your connected app > Manage Consumer Details (Generate), update the integration and store it in a vault.",
    docs: "https://help.salesforce.com/s/articleView?id=sf.connected_app_rotate_consumer_details.htm&type=5",
    examples: {
      positives: (gen) =>
        place(
          [gen.hexUpper(64), gen.digits(19)],
          [line.env("SALESFORCE_CLIENT_SECRET"), line.yaml("sfdc_consumer_secret")],
        ),
      negatives: ["SALESFORCE_CLIENT_SECRET=<consumer-secret>"],
    },
  },
];

const analyticsAndOtherRules: readonly Rule[] = [
  {
    id: "segment-public-api-token",
    provider: "Segment",
    description: "Segment Public API token (sgp_).",
    keywords: ["sgp_"],
    pattern: /\b(sgp_[A-Za-z0-9]{64})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Revoke the token in Segment (Settings > Workspace settings > Access Management > Tokens), create a new one with the least role needed and store it in a vault.",
    docs: "https://segment.com/docs/api/public-api/",
    examples: {
      positives: (gen) =>
        place(
          () => `sgp_${gen.alnum(64)}`,
          [line.env("SEGMENT_API_TOKEN"), (s) => `-H "Authorization: Bearer ${s}"`],
        ),
      negatives: ["SEGMENT_API_TOKEN=sgp_<token>"],
    },
  },
  {
    id: "segment-write-key",
    provider: "Segment",
    description:
      "Segment source write key (32 characters) in a Segment write-key variable or analytics.load() call.",
    keywords: ["segment", "analytics.load"],
    pattern: new RegExp(
      String.raw`(?:${anyCase("segment")}[\w.-]{0,20}${anyCase("write")}[\w.-]{0,20}${ASSIGN}|analytics\.load\([ \t]{0,3}['"])([A-Za-z0-9]{32})${END_TOKEN}`,
    ),
    secretGroup: 1,
    entropy: 3.5,
    severity: "medium",
    remediation:
      "Regenerate the source's write key in Segment (Connections > Sources > your source > Settings > API Keys) and store server-side keys in a vault.",
    docs: "https://segment.com/docs/connections/find-writekey/",
    examples: {
      positives: (gen) =>
        place(() => gen.alnum(32), [line.env("SEGMENT_WRITE_KEY"), (s) => `analytics.load("${s}");`]),
      negatives: ['analytics.load("YOUR_WRITE_KEY");'],
    },
  },
  {
    id: "mixpanel-api-secret",
    provider: "Mixpanel",
    description:
      "Mixpanel project API secret or service account secret (32 characters) in a Mixpanel secret variable.",
    keywords: ["mixpanel"],
    pattern: assigned({
      context: `${anyCase("mixpanel")}[\\w.-]{0,20}${SECRET_WORD}`,
      value: "[A-Za-z0-9]{32}",
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "medium",
    remediation:
      "Delete the service account or reset the project secret in Mixpanel (Organization or Project settings), create a new one and store it in a vault.",
    docs: "https://docs.mixpanel.com/docs/orgs-and-projects/service-accounts",
    examples: {
      positives: (gen) =>
        place(
          [gen.hex(32), gen.alnum(32)],
          [line.env("MIXPANEL_API_SECRET"), line.py("mixpanel_service_account_secret")],
        ),
      negatives: ["MIXPANEL_API_SECRET=YOUR_API_SECRET"],
    },
  },
  {
    id: "amplitude-secret-key",
    provider: "Amplitude",
    description: "Amplitude project secret key (32 hex) in an Amplitude secret variable.",
    keywords: ["amplitude"],
    pattern: assigned({
      context: `${anyCase("amplitude")}[\\w.-]{0,20}${SECRET_WORD}`,
      value: "[a-f0-9]{32}",
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "medium",
    remediation:
      "Create a new API key and secret in Amplitude (Organization settings > Projects > your project > API Keys), move clients to it, delete the old pair and store the new secret in a vault.",
    docs: "https://amplitude.com/docs/apis/keys-and-tokens",
    examples: {
      positives: (gen) =>
        place(() => gen.hex(32), [line.env("AMPLITUDE_SECRET_KEY"), line.json("amplitudeSecret")]),
      negatives: ["AMPLITUDE_SECRET_KEY=<secret-key>"],
    },
  },
  {
    id: "calendly-access-token",
    provider: "Calendly",
    description: "Calendly personal access token (a JWT) near the word calendly.",
    keywords: ["calendly"],
    pattern: near({ context: anyCase("calendly"), value: JWT, flags: "" }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the token in Calendly (Integrations & apps > API & webhooks > Personal access tokens), create a new one and store it in a vault.",
    docs: "https://developer.calendly.com/how-to-authenticate-with-personal-access-tokens",
    examples: {
      positives: (gen) =>
        place(
          [
            `eyJraWQiOiIxY2UxZTEzNjE3ZGNmNzY2YjNjZWJjY2Y4ZGM1YmFmYThhNjVlNjg0MDIzZjdjMzJiZTgzNDliMjM4MDEzNWI0IiwidHlwIjoiUEFUIiwiYWxnIjoiRVMyNTYifQ.eyJ${gen.base64url(240)}.${gen.base64url(86)}`,
            `eyJhbGciOiJIUzI1NiJ9.eyJ${gen.base64url(200)}.${gen.base64url(43)}`,
          ],
          [line.env("CALENDLY_TOKEN"), line.js("calendlyApiKey")],
        ),
      negatives: ["CALENDLY_TOKEN=<personal-access-token>"],
    },
  },
  {
    id: "docusign-secret-key",
    provider: "DocuSign",
    description: "DocuSign integration secret key (a UUID) in a DocuSign secret variable.",
    keywords: ["docusign"],
    pattern: assigned({
      context: `${anyCase("docusign", "DocuSign")}[\\w.-]{0,20}${SECRET_WORD}`,
      value: UUID,
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Delete the secret key in DocuSign Admin (Apps and Keys > your app > Secret Keys), add a new one and store it in a vault.",
    docs: "https://developers.docusign.com/platform/auth/",
    examples: {
      positives: (gen) =>
        place(() => gen.uuid(), [line.env("DOCUSIGN_CLIENT_SECRET"), line.yaml("docusign_secret_key")]),
      negatives: ["DOCUSIGN_CLIENT_SECRET={secret-key}"],
    },
  },
  {
    id: "box-client-secret",
    provider: "Box",
    description:
      "Box app client secret or developer token (32 characters) in a Box secret or token variable.",
    keywords: ["box"],
    pattern: assigned({
      context: String.raw`\b${anyCase("box")}[_.\-][\w.-]{0,20}${KEY_WORD}`,
      value: "[A-Za-z0-9]{32}",
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Reset the client secret in the Box Developer Console (your app > Configuration > Client Secret > Reset), revoke developer tokens, then store the new secret in a vault.",
    docs: "https://developer.box.com/guides/authentication/tokens/developer-tokens/",
    examples: {
      positives: (gen) =>
        place(() => gen.alnum(32), [line.env("BOX_CLIENT_SECRET"), line.py("box_developer_token")]),
      negatives: ["BOX_CLIENT_SECRET=<client-secret>"],
    },
  },
];

/** CRM, support desks, analytics and document/business SaaS. */
export const saasBusinessRules: readonly Rule[] = [...supportAndCrmRules, ...analyticsAndOtherRules];

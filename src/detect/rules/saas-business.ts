import type { Rule } from "../rule.ts";
import {
  after,
  anyCase,
  assigned,
  END_BASE64,
  JWT,
  KEY_WORD,
  line,
  SECRET_WORD,
  UUID,
} from "./saas-shared.ts";

const HUBSPOT_REMEDIATION =
  "Rotate the token in HubSpot (Settings > Integrations > Private Apps > your app > Auth > Rotate), update the integration and store the new token in a vault.";
const SALESFORCE_REVOKE =
  "Revoke the token with POST /services/oauth2/revoke or in Setup > Connected Apps OAuth Usage (or reset the user's session), then store only refresh tokens, in a vault.";

const supportAndCrmRules: readonly Rule[] = [
  {
    id: "intercom-access-token",
    provider: "Intercom",
    description: "Intercom access token (base64 of tok:..., dG9rO...) near the word intercom.",
    keywords: ["intercom"],
    pattern: after(anyCase("intercom"), "dG9rO[A-Za-z0-9+/]{50,70}={0,2}", 120, END_BASE64),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Regenerate the access token in the Intercom Developer Hub (your app > Authentication), update the integration and store the new token in a vault.",
    docs: "https://developers.intercom.com/docs/build-an-integration/learn-more/authentication",
    examples: {
      positives: (gen) => {
        const a = `dG9rOj${gen.base64(53)}=`;
        const b = `dG9rOj${gen.base64(54)}`;
        return [
          line.env("INTERCOM_ACCESS_TOKEN", a),
          line.text(`const intercom = new IntercomClient({ token: "${b}" });`, b),
        ];
      },
      negatives: ["INTERCOM_ACCESS_TOKEN=<your access token>"],
    },
  },
  {
    id: "zendesk-api-token",
    provider: "Zendesk",
    description: "Zendesk API token (40 characters) in a Zendesk variable.",
    keywords: ["zendesk"],
    pattern: assigned(anyCase("zendesk"), "[A-Za-z0-9]{40}"),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the token in Zendesk Admin Center (Apps and integrations > APIs > Zendesk API), create a new one and store it in a vault.",
    docs: "https://support.zendesk.com/hc/en-us/articles/4408889192858-Managing-access-to-the-Zendesk-API",
    examples: {
      positives: (gen) => {
        const a = gen.alnum(40);
        const b = gen.alnum(40);
        return [line.env("ZENDESK_API_TOKEN", a), line.yaml("zendesk_token", b)];
      },
      negatives: ["ZENDESK_API_TOKEN=your_api_token"],
    },
  },
  {
    id: "freshdesk-api-key",
    provider: "Freshdesk",
    description: "Freshdesk API key (20 characters) in a Freshdesk variable.",
    keywords: ["freshdesk"],
    pattern: assigned(anyCase("freshdesk"), "[A-Za-z0-9]{20}"),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Reset the API key in Freshdesk (Profile settings > View API key > Reset), update the integration and store the new key in a vault.",
    docs: "https://support.freshdesk.com/support/solutions/articles/215517-how-to-find-your-api-key",
    examples: {
      positives: (gen) => {
        const a = gen.alnum(20);
        const b = gen.alnum(20);
        return [line.env("FRESHDESK_API_KEY", a), line.py("freshdesk_key", b)];
      },
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
      positives: (gen) => {
        const a = `pat-na1-${gen.uuid()}`;
        const b = `pat-eu1-${gen.uuid()}`;
        return [line.env("HUBSPOT_ACCESS_TOKEN", a), line.text(`-H "Authorization: Bearer ${b}"`, b)];
      },
      negatives: ["HUBSPOT_ACCESS_TOKEN=pat-na1-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"],
    },
  },
  {
    id: "hubspot-api-key",
    provider: "HubSpot",
    description: "HubSpot legacy API key (hapikey, a UUID) in a HubSpot variable or hapikey= parameter.",
    keywords: ["hubspot", "hapikey"],
    pattern: assigned(anyCase("hubspot", "HubSpot", "hapikey"), UUID),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation: HUBSPOT_REMEDIATION,
    docs: "https://developers.hubspot.com/docs/api/migrate-an-api-key-integration-to-a-private-app",
    examples: {
      positives: (gen) => {
        const a = gen.uuid();
        const b = gen.uuid();
        return [
          line.env("HUBSPOT_API_KEY", a),
          line.text(`GET https://api.hubapi.com/contacts/v1/lists/all/contacts/all?hapikey=${b}`, b),
        ];
      },
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
    docs: "https://help.salesforce.com/s/articleView?id=sf.remoteaccess_revoke_token.htm&type=5",
    examples: {
      positives: (gen) => {
        const a = `00D${gen.alnum(15)}!AQ${gen.alnum(30)}.${gen.alnum(30)}_${gen.alnum(30)}`;
        const b = `00D${gen.alnum(12)}!AR${gen.alnum(94)}`;
        return [line.env("SF_ACCESS_TOKEN", a), line.text(`sfdx force:org:display => Access Token ${b}`, b)];
      },
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
    docs: "https://help.salesforce.com/s/articleView?id=sf.remoteaccess_revoke_token.htm&type=5",
    examples: {
      positives: (gen) => {
        const a = `5Aep861${gen.alnum(30)}_${gen.alnum(50)}`;
        const b = `5Aep861${gen.alnum(80)}`;
        return [line.env("SALESFORCE_REFRESH_TOKEN", a), line.json("refresh_token", b)];
      },
      negatives: ["SALESFORCE_REFRESH_TOKEN=5Aep861..."],
    },
  },
  {
    id: "salesforce-consumer-secret",
    provider: "Salesforce",
    description:
      "Salesforce connected app consumer secret (64 hex or 19 digits) in a Salesforce secret variable.",
    keywords: ["salesforce", "sfdc"],
    pattern: assigned(
      `${anyCase("salesforce", "sfdc")}[\\w.\\-]{0,20}${SECRET_WORD}`,
      String.raw`[A-Fa-f0-9]{64}|\d{19}`,
    ),
    secretGroup: 1,
    entropy: 2.5,
    severity: "high",
    remediation:
      "Generate a new consumer secret in Setup > App Manager > your connected app > Manage Consumer Details (Generate), update the integration and store it in a vault.",
    docs: "https://help.salesforce.com/s/articleView?id=sf.connected_app_rotate_consumer_details.htm&type=5",
    examples: {
      positives: (gen) => {
        const a = gen.hexUpper(64);
        const b = gen.digits(19);
        return [line.env("SALESFORCE_CLIENT_SECRET", a), line.yaml("sfdc_consumer_secret", b)];
      },
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
      positives: (gen) => {
        const a = `sgp_${gen.alnum(64)}`;
        const b = `sgp_${gen.alnum(64)}`;
        return [line.env("SEGMENT_API_TOKEN", a), line.text(`-H "Authorization: Bearer ${b}"`, b)];
      },
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
      String.raw`(?:${anyCase("segment")}[\w.\-]{0,20}${anyCase("write")}[\w.\-]{0,20}['"\]]{0,2}[ \t]{0,3}(?:=>|:=|[:=])[ \t]{0,3}['"\x60]{0,2}|analytics\.load\([ \t]{0,3}['"])([A-Za-z0-9]{32})(?![A-Za-z0-9_-])`,
    ),
    secretGroup: 1,
    entropy: 3.5,
    severity: "medium",
    remediation:
      "Regenerate the source's write key in Segment (Connections > Sources > your source > Settings > API Keys) and store server-side keys in a vault.",
    docs: "https://segment.com/docs/connections/find-writekey/",
    examples: {
      positives: (gen) => {
        const a = gen.alnum(32);
        const b = gen.alnum(32);
        return [line.env("SEGMENT_WRITE_KEY", a), line.text(`analytics.load("${b}");`, b)];
      },
      negatives: ['analytics.load("YOUR_WRITE_KEY");'],
    },
  },
  {
    id: "mixpanel-api-secret",
    provider: "Mixpanel",
    description:
      "Mixpanel project API secret or service account secret (32 characters) in a Mixpanel secret variable.",
    keywords: ["mixpanel"],
    pattern: assigned(`${anyCase("mixpanel")}[\\w.\\-]{0,20}${SECRET_WORD}`, "[A-Za-z0-9]{32}"),
    secretGroup: 1,
    entropy: 3,
    severity: "medium",
    remediation:
      "Delete the service account or reset the project secret in Mixpanel (Organization or Project settings), create a new one and store it in a vault.",
    docs: "https://docs.mixpanel.com/docs/orgs-and-projects/service-accounts",
    examples: {
      positives: (gen) => {
        const a = gen.hex(32);
        const b = gen.alnum(32);
        return [line.env("MIXPANEL_API_SECRET", a), line.py("mixpanel_service_account_secret", b)];
      },
      negatives: ["MIXPANEL_API_SECRET=YOUR_API_SECRET"],
    },
  },
  {
    id: "amplitude-secret-key",
    provider: "Amplitude",
    description: "Amplitude project secret key (32 hex) in an Amplitude secret variable.",
    keywords: ["amplitude"],
    pattern: assigned(`${anyCase("amplitude")}[\\w.\\-]{0,20}${SECRET_WORD}`, "[a-f0-9]{32}"),
    secretGroup: 1,
    entropy: 3,
    severity: "medium",
    remediation:
      "Create a new API key and secret in Amplitude (Organization settings > Projects > your project > API Keys), move clients to it, delete the old pair and store the new secret in a vault.",
    docs: "https://amplitude.com/docs/apis/keys-and-tokens",
    examples: {
      positives: (gen) => {
        const a = gen.hex(32);
        const b = gen.hex(32);
        return [line.env("AMPLITUDE_SECRET_KEY", a), line.json("amplitudeSecret", b)];
      },
      negatives: ["AMPLITUDE_SECRET_KEY=<secret-key>"],
    },
  },
  {
    id: "calendly-access-token",
    provider: "Calendly",
    description: "Calendly personal access token (a JWT) near the word calendly.",
    keywords: ["calendly"],
    pattern: after(anyCase("calendly"), JWT),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the token in Calendly (Integrations & apps > API & webhooks > Personal access tokens), create a new one and store it in a vault.",
    docs: "https://developer.calendly.com/how-to-authenticate-with-personal-access-tokens",
    examples: {
      positives: (gen) => {
        const a = `eyJraWQiOiIxY2UxZTEzNjE3ZGNmNzY2YjNjZWJjY2Y4ZGM1YmFmYThhNjVlNjg0MDIzZjdjMzJiZTgzNDliMjM4MDEzNWI0IiwidHlwIjoiUEFUIiwiYWxnIjoiRVMyNTYifQ.eyJ${gen.base64url(240)}.${gen.base64url(86)}`;
        const b = `eyJhbGciOiJIUzI1NiJ9.eyJ${gen.base64url(200)}.${gen.base64url(43)}`;
        return [line.env("CALENDLY_TOKEN", a), line.js("calendlyApiKey", b)];
      },
      negatives: ["CALENDLY_TOKEN=<personal-access-token>"],
    },
  },
  {
    id: "docusign-secret-key",
    provider: "DocuSign",
    description: "DocuSign integration secret key (a UUID) in a DocuSign secret variable.",
    keywords: ["docusign"],
    pattern: assigned(`${anyCase("docusign", "DocuSign")}[\\w.\\-]{0,20}${SECRET_WORD}`, UUID),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Delete the secret key in DocuSign Admin (Apps and Keys > your app > Secret Keys), add a new one and store it in a vault.",
    docs: "https://developers.docusign.com/platform/auth/",
    examples: {
      positives: (gen) => {
        const a = gen.uuid();
        const b = gen.uuid();
        return [line.env("DOCUSIGN_CLIENT_SECRET", a), line.yaml("docusign_secret_key", b)];
      },
      negatives: ["DOCUSIGN_CLIENT_SECRET={secret-key}"],
    },
  },
  {
    id: "box-client-secret",
    provider: "Box",
    description:
      "Box app client secret or developer token (32 characters) in a Box secret or token variable.",
    keywords: ["box"],
    pattern: assigned(String.raw`\b${anyCase("box")}[_.\-][\w.\-]{0,20}${KEY_WORD}`, "[A-Za-z0-9]{32}"),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Reset the client secret in the Box Developer Console (your app > Configuration > Client Secret > Reset), revoke developer tokens, then store the new secret in a vault.",
    docs: "https://developer.box.com/guides/authentication/tokens/developer-tokens/",
    examples: {
      positives: (gen) => {
        const a = gen.alnum(32);
        const b = gen.alnum(32);
        return [line.env("BOX_CLIENT_SECRET", a), line.py("box_developer_token", b)];
      },
      negatives: ["BOX_CLIENT_SECRET=<client-secret>"],
    },
  },
];

/** CRM, support desks, analytics and document/business SaaS. */
export const saasBusinessRules: readonly Rule[] = [...supportAndCrmRules, ...analyticsAndOtherRules];

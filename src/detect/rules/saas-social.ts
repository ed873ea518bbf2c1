import type { Rule } from "../rule.ts";
import { anyCase, assigned, KEY_WORD, line, near, place, SECRET_WORD } from "./shared.ts";

const TWITTER = String.raw`(?:${anyCase("twitter")}|\bX_(?:API|ACCESS|CONSUMER|BEARER))`;
const TWITTER_KEYWORDS = ["twitter", "x_api", "x_access", "x_consumer", "x_bearer"];
const TWITTER_REMEDIATION =
  "Regenerate the credential in the X Developer Portal (Projects & Apps > your app > Keys and tokens > Regenerate), which invalidates the old one, then store it in a vault.";
const TWITTER_DOCS = "https://developer.x.com/en/docs/authentication/oauth-1-0a/api-key-and-secret";
const TWITTER_USER_TOKEN_DOCS =
  "https://developer.x.com/en/docs/authentication/oauth-1-0a/obtaining-user-access-tokens";

// `fb` and `meta` only as a name's first word (FB_APP_SECRET, metaAppSecret), not inside `metadata`.
const FACEBOOK = String.raw`(?:${anyCase("facebook", "whatsapp", "WhatsApp")}|\b(?:fb|FB|meta|Meta|META)(?=[A-Z_.])|graph\.facebook)`;
const FACEBOOK_KEYWORDS = ["facebook", "whatsapp", "meta", "fb"];
const FACEBOOK_REMEDIATION =
  "Reset the app secret in the Meta App Dashboard (App settings > Basic > Reset), which invalidates the tokens made with it, then store the new secret in a vault.";

const DROPBOX_DOCS = "https://developers.dropbox.com/oauth-guide";

const twitterRules: readonly Rule[] = [
  {
    id: "twitter-bearer-token",
    provider: "Twitter / X",
    description: "Twitter/X app-only bearer token (a run of A's followed by 80-130 characters).",
    keywords: ["aaaaaaaaaaaaaaaaaaaa"],
    pattern: /\b(AAAAAAAAAAAAAAAAAAAA[A-Za-z0-9%]{80,130})(?![A-Za-z0-9%])/,
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Invalidate the bearer token in the X Developer Portal (Keys and tokens > Bearer Token > Regenerate) or with POST /oauth2/invalidate_token, then store the new one in a vault.",
    docs: "https://developer.x.com/en/docs/authentication/oauth-2-0/bearer-tokens",
    examples: {
      positives: (gen) =>
        place(
          [
            `AAAAAAAAAAAAAAAAAAAAA${gen.alnum(8)}AAAAAAA${gen.alnum(12)}%2B${gen.alnum(20)}%3D${gen.alnum(50)}`,
            `AAAAAAAAAAAAAAAAAAAAA${gen.alnum(91)}`,
          ],
          [line.env("TWITTER_BEARER_TOKEN"), (s) => `-H "Authorization: Bearer ${s}"`],
        ),
      negatives: [
        "TWITTER_BEARER_TOKEN=AAAAAAAAAAAAAAAAAAAAA<rest-of-token>",
        "BEARER=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      ],
    },
  },
  {
    id: "twitter-api-key",
    provider: "Twitter / X",
    description: "Twitter/X API key (consumer key, 25 characters) in a Twitter variable.",
    keywords: TWITTER_KEYWORDS,
    pattern: assigned({ context: TWITTER, value: "[A-Za-z0-9]{25}", flags: "" }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "medium",
    remediation: TWITTER_REMEDIATION,
    docs: TWITTER_DOCS,
    examples: {
      positives: (gen) =>
        place(() => gen.alnum(25), [line.env("TWITTER_API_KEY"), line.py("twitter_consumer_key")]),
      negatives: ["TWITTER_API_KEY=<your-consumer-key>"],
    },
  },
  {
    id: "twitter-api-secret",
    provider: "Twitter / X",
    description: "Twitter/X API key secret (consumer secret, 50 characters) in a Twitter variable.",
    keywords: TWITTER_KEYWORDS,
    pattern: assigned({ context: TWITTER, value: "[A-Za-z0-9]{50}", flags: "" }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation: TWITTER_REMEDIATION,
    docs: TWITTER_DOCS,
    examples: {
      positives: (gen) =>
        place(() => gen.alnum(50), [line.env("TWITTER_API_SECRET"), line.env("X_API_SECRET")]),
      negatives: ["TWITTER_API_SECRET=${TWITTER_API_SECRET}"],
    },
  },
  {
    id: "twitter-access-token",
    provider: "Twitter / X",
    description: "Twitter/X user access token (<user id>-<characters>) in a Twitter variable.",
    keywords: TWITTER_KEYWORDS,
    pattern: assigned({ context: TWITTER, value: String.raw`\d{6,25}-[A-Za-z0-9]{20,50}`, flags: "" }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation: TWITTER_REMEDIATION,
    docs: TWITTER_USER_TOKEN_DOCS,
    examples: {
      positives: (gen) =>
        place(
          [`${gen.digits(19)}-${gen.alnum(31)}`, `${gen.digits(10)}-${gen.alnum(31)}`],
          [line.env("TWITTER_ACCESS_TOKEN"), line.yaml("twitter_access_token")],
        ),
      negatives: ["TWITTER_ACCESS_TOKEN=<user-id>-<token>"],
    },
  },
  {
    id: "twitter-access-token-secret",
    provider: "Twitter / X",
    description: "Twitter/X user access token secret (45 characters) in a Twitter variable.",
    keywords: TWITTER_KEYWORDS,
    pattern: assigned({ context: TWITTER, value: "[A-Za-z0-9]{45}", flags: "" }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation: TWITTER_REMEDIATION,
    docs: TWITTER_USER_TOKEN_DOCS,
    examples: {
      positives: (gen) =>
        place(() => gen.alnum(45), [line.env("TWITTER_ACCESS_TOKEN_SECRET"), line.js("twitterAccessSecret")]),
      negatives: ["TWITTER_ACCESS_TOKEN_SECRET=your_access_token_secret"],
    },
  },
];

const metaRules: readonly Rule[] = [
  {
    id: "facebook-access-token",
    provider: "Meta",
    description:
      "Facebook/Instagram Graph or WhatsApp Cloud API access token (EAA...) near the word facebook, meta or whatsapp.",
    keywords: FACEBOOK_KEYWORDS,
    pattern: near({
      context: FACEBOOK,
      value: "EAA[A-Za-z0-9]{90,250}",
      within: 200,
      end: "(?![A-Za-z0-9])",
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Invalidate the token (remove the app from the user or page, reset the system user's token in Business Settings, or reset the app secret), issue a new one and store it in a vault.",
    docs: "https://developers.facebook.com/docs/facebook-login/guides/access-tokens",
    examples: {
      positives: (gen) =>
        place(
          [`EAAG${gen.alnum(180)}`, `EAAJ${gen.alnum(200)}`],
          [
            line.env("FACEBOOK_ACCESS_TOKEN"),
            (s) => `curl "https://graph.facebook.com/v19.0/me?access_token=${s}"`,
          ],
        ),
      negatives: ["FACEBOOK_ACCESS_TOKEN=EAAxxxxxxxxxxxxxxxxxx", "WHATSAPP_TOKEN=EAA...your-token"],
    },
  },
  {
    id: "facebook-app-secret",
    provider: "Meta",
    description: "Facebook/Meta app secret (32 hex) in a Facebook secret variable.",
    keywords: FACEBOOK_KEYWORDS,
    pattern: assigned({
      context: `${FACEBOOK}[\\w.-]{0,20}${SECRET_WORD}`,
      value: "[a-f0-9]{32}",
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation: FACEBOOK_REMEDIATION,
    docs: "https://developers.facebook.com/docs/facebook-login/security#appsecret",
    examples: {
      positives: (gen) =>
        place(() => gen.hex(32), [line.env("FACEBOOK_APP_SECRET"), line.yaml("fb_app_secret")]),
      negatives: ["FACEBOOK_APP_SECRET={app-secret}"],
    },
  },
  {
    id: "facebook-app-access-token",
    provider: "Meta",
    description: "Facebook app access token (<app id>|<app secret>) near the word facebook or meta.",
    keywords: FACEBOOK_KEYWORDS,
    pattern: near({
      context: FACEBOOK,
      value: String.raw`\d{15,16}(?:\||%7C)[A-Za-z0-9_-]{27,40}`,
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation: FACEBOOK_REMEDIATION,
    docs: "https://developers.facebook.com/docs/facebook-login/guides/access-tokens#apptokens",
    examples: {
      positives: (gen) =>
        place(
          [`${gen.digits(15)}|${gen.hex(32)}`, `${gen.digits(16)}%7C${gen.hex(32)}`],
          [
            line.env("FB_APP_TOKEN"),
            (s) => `fetch("https://graph.facebook.com/debug_token?input_token=t&access_token=${s}")`,
          ],
        ),
      negatives: ["FB_APP_TOKEN={app-id}|{app-secret}"],
    },
  },
  {
    id: "instagram-access-token",
    provider: "Instagram",
    description: "Instagram API user access token (IGQV... or IGAA...) near the word instagram.",
    keywords: ["instagram"],
    pattern: near({
      context: anyCase("instagram"),
      value: "IG(?:QV|AA)[A-Za-z0-9_-]{100,300}",
      within: 200,
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Remove the app's access from the Instagram account (Settings > Apps and websites) or reset the app secret in the Meta App Dashboard, issue a new token and store it in a vault.",
    docs: "https://developers.facebook.com/docs/instagram-platform/reference/refresh_access_token",
    examples: {
      positives: (gen) =>
        place(
          [`IGQVJ${gen.base64url(180)}`, `IGAA${gen.alnum(160)}`],
          [line.env("INSTAGRAM_ACCESS_TOKEN"), line.json("instagramToken")],
        ),
      negatives: ["INSTAGRAM_ACCESS_TOKEN=IGQVJ..."],
    },
  },
];

const otherSocialRules: readonly Rule[] = [
  {
    id: "linkedin-client-secret",
    provider: "LinkedIn",
    description: "LinkedIn app client secret (WPL_AP... or 16 characters) in a LinkedIn secret variable.",
    keywords: ["linkedin"],
    pattern: assigned({
      context: `${anyCase("linkedin", "LinkedIn")}[\\w.-]{0,20}${SECRET_WORD}`,
      value: String.raw`WPL_AP\d\.[A-Za-z0-9]{8,32}\.[A-Za-z0-9+/]{4,16}={0,2}|[A-Za-z0-9]{16}`,
      end: String.raw`(?![A-Za-z0-9+/=._-])`,
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Generate a new client secret in the LinkedIn Developer Portal (My apps > Auth > Generate a new Client Secret), deploy it, then delete the old one and store the new one in a vault.",
    docs: "https://learn.microsoft.com/en-us/linkedin/shared/authentication/authentication",
    examples: {
      positives: (gen) =>
        place(
          [gen.alnum(16), `WPL_AP1.${gen.alnum(16)}.${gen.alnum(6)}==`],
          [line.env("LINKEDIN_CLIENT_SECRET"), line.js("linkedinClientSecret")],
        ),
      negatives: ["LINKEDIN_CLIENT_SECRET=<client-secret>"],
    },
  },
  {
    id: "dropbox-short-lived-token",
    provider: "Dropbox",
    description: "Dropbox short-lived OAuth access token (sl.).",
    keywords: ["sl."],
    pattern: /\b(sl\.(?:u\.|)[A-Za-z0-9_=-]{130,1500})(?![A-Za-z0-9_=-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Revoke the token with POST /2/auth/token/revoke or by disconnecting the app (Dropbox settings > Connected apps), then store the refresh token, not access tokens, in a vault.",
    docs: DROPBOX_DOCS,
    examples: {
      positives: (gen) =>
        place(
          [`sl.${gen.base64url(135)}`, `sl.u.${gen.base64url(600)}`],
          [line.env("DROPBOX_ACCESS_TOKEN"), (s) => `dbx = dropbox.Dropbox("${s}")`],
        ),
      negatives: ["DROPBOX_ACCESS_TOKEN=sl.xxxxxxxxxxxx", "dbx = dropbox.Dropbox('sl.<ACCESS_TOKEN>')"],
    },
  },
  {
    id: "dropbox-long-lived-token",
    provider: "Dropbox",
    description: "Dropbox legacy long-lived access token (11 + AAAAAAAAAA + 43) in a Dropbox variable.",
    keywords: ["dropbox"],
    pattern: assigned({
      context: anyCase("dropbox"),
      value: "[A-Za-z0-9]{11}AAAAAAAAAA[A-Za-z0-9_=-]{43}",
      end: String.raw`(?![A-Za-z0-9_=-])`,
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Revoke the token with POST /2/auth/token/revoke or in the App Console, move to short-lived tokens with a refresh token and store it in a vault.",
    docs: DROPBOX_DOCS,
    examples: {
      positives: (gen) =>
        place(
          [`${gen.alnum(11)}AAAAAAAAAA${gen.base64url(43)}`, `${gen.alnum(11)}AAAAAAAAAA${gen.alnum(43)}`],
          [line.env("DROPBOX_TOKEN"), line.py("dropbox_access_token")],
        ),
      negatives: ["DROPBOX_TOKEN=<generated-access-token>"],
    },
  },
  {
    id: "zoom-client-secret",
    provider: "Zoom",
    description: "Zoom app client secret or secret token (32 characters) in a Zoom secret variable.",
    keywords: ["zoom"],
    pattern: assigned({
      context: `${anyCase("zoom")}[\\w.-]{0,20}${KEY_WORD}`,
      value: "[A-Za-z0-9]{32}",
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Regenerate the client secret in the Zoom App Marketplace (Manage > your app > App Credentials > Regenerate), then store it in a vault.",
    docs: "https://developers.zoom.us/docs/internal-apps/s2s-oauth/",
    examples: {
      positives: (gen) =>
        place(() => gen.alnum(32), [line.env("ZOOM_CLIENT_SECRET"), line.yaml("zoom_secret_token")]),
      negatives: ["ZOOM_CLIENT_SECRET=your_zoom_client_secret"],
    },
  },
  {
    id: "twitch-api-token",
    provider: "Twitch",
    description:
      "Twitch client secret or OAuth token (30 characters, maybe after oauth:) in a Twitch secret or token variable.",
    keywords: ["twitch"],
    pattern: assigned({
      context: `${anyCase("twitch")}[\\w.-]{0,20}(?:${KEY_WORD}|${anyCase("oauth", "pass")})`,
      value: "[a-z0-9]{30}",
      prefix: "(?:oauth:|)",
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Reset the client secret in the Twitch Developer Console (Applications > Manage > New Secret) or revoke the token with POST https://id.twitch.tv/oauth2/revoke, then store the new one in a vault.",
    docs: "https://dev.twitch.tv/docs/authentication/revoke-tokens/",
    examples: {
      positives: (gen) =>
        place(
          () => gen.lowerAlnum(30),
          [line.env("TWITCH_CLIENT_SECRET"), (s) => `twitch_oauth: oauth:${s}`],
        ),
      negatives: [
        "TWITCH_CLIENT_SECRET=<client secret>",
        "twitch_oauth: oauth:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
      ],
    },
  },
  {
    id: "reddit-client-secret",
    provider: "Reddit",
    description: "Reddit app client secret (27-30 characters) in a Reddit secret variable.",
    keywords: ["reddit"],
    pattern: assigned({
      context: `${anyCase("reddit")}[\\w.-]{0,20}${SECRET_WORD}`,
      value: "[A-Za-z0-9_-]{27,30}",
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the app or its secret at reddit.com/prefs/apps, create a new one and store it in a vault.",
    docs: "https://github.com/reddit-archive/reddit/wiki/OAuth2",
    examples: {
      positives: (gen) =>
        place(
          [gen.base64url(30), gen.alnum(27)],
          [line.env("REDDIT_CLIENT_SECRET"), line.py("reddit_secret")],
        ),
      negatives: ["REDDIT_CLIENT_SECRET=<your-secret>"],
    },
  },
  {
    id: "spotify-client-secret",
    provider: "Spotify",
    description: "Spotify app client secret (32 hex) in a Spotify secret variable.",
    keywords: ["spotify"],
    pattern: assigned({
      context: `${anyCase("spotify")}[\\w.-]{0,20}${SECRET_WORD}`,
      value: "[a-f0-9]{32}",
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Rotate the client secret in the Spotify Developer Dashboard (your app > Settings > Rotate client secret) and store the new one in a vault.",
    docs: "https://developer.spotify.com/documentation/web-api/concepts/apps",
    examples: {
      positives: (gen) =>
        place(() => gen.hex(32), [line.env("SPOTIFY_CLIENT_SECRET"), line.js("spotifyClientSecret")]),
      negatives: ["SPOTIFY_CLIENT_SECRET=<client-secret>"],
    },
  },
  {
    id: "pinterest-access-token",
    provider: "Pinterest",
    description: "Pinterest API v5 access or refresh token (pina_, pinr_).",
    keywords: ["pina_", "pinr_"],
    pattern: /\b(pin[ar]_[A-Za-z0-9]{60,200})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Revoke the app's access in Pinterest (Settings > Security and logins > Apps) or reset the app secret at developers.pinterest.com, issue a new token and store it in a vault.",
    docs: "https://developers.pinterest.com/docs/getting-started/authentication-and-scopes/",
    examples: {
      positives: (gen) =>
        place(
          [`pina_${gen.upperAlnum(110)}`, `pinr_${gen.upperAlnum(110)}`],
          [line.env("PINTEREST_ACCESS_TOKEN"), line.json("refresh_token")],
        ),
      negatives: ["PINTEREST_ACCESS_TOKEN=pina_<token>"],
    },
  },
];

/** Social networks, content and consumer-platform APIs. */
export const saasSocialRules: readonly Rule[] = [...twitterRules, ...metaRules, ...otherSocialRules];

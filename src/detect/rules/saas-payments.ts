import type { Rule } from "../rule.ts";
import type { VerifySpec } from "../verify.ts";
import {
  anyCase,
  ASSIGN,
  assigned,
  END_BASE64,
  END_TOKEN,
  JWT,
  line,
  near,
  place,
  prefixedRule,
  SECRET_WORD,
  type TokenFamily,
  UUID,
} from "./shared.ts";

const STRIPE_REMEDIATION =
  "Roll the key in the Stripe Dashboard (Developers > API keys > Roll key, with an expiry for the old one), or delete a restricted key, then store the new key in a vault.";
const STRIPE_DOCS = "https://docs.stripe.com/keys";

/**
 * GET /v1/balance: 200 for a working key, 401 "Invalid API Key" or "Expired API Key" for a
 * rolled one, 403 (permission_error) for a restricted key without balance read: it did
 * authenticate, so it is live.
 */
const STRIPE_VERIFY: VerifySpec = {
  provider: "stripe",
  baseUrl: "https://api.stripe.com",
  method: "GET",
  path: "/v1/balance",
  auth: { kind: "bearer" },
  outcomes: [
    { status: [200, 403], result: "live" },
    { status: [401], result: "revoked" },
  ],
  docs: "https://docs.stripe.com/api/balance/balance_retrieve",
};

const PADDLE: TokenFamily = {
  provider: "Paddle",
  body: "[A-Za-z0-9_]{40,80}",
  example: (gen) => `${gen.lowerAlnum(26)}_${gen.alnum(22)}_${gen.alnum(3)}`,
  entropy: 3.5,
  remediation:
    "Revoke the key in Paddle (Developer tools > Authentication > API keys), create a new one with the least permissions needed and store it in a vault.",
  docs: "https://developer.paddle.com/api-reference/about/api-keys",
};

const FLUTTERWAVE: TokenFamily = {
  provider: "Flutterwave",
  body: "[a-fA-F0-9]{32}-X",
  example: (gen) => `${gen.hex(32)}-X`,
  entropy: 3,
  docs: "https://developer.flutterwave.com/docs/api-keys",
};

const RAZORPAY_DOCS = "https://razorpay.com/docs/api/authentication/";

const stripeRules: readonly Rule[] = [
  {
    id: "stripe-secret-key",
    provider: "Stripe",
    description: "Stripe live secret key (sk_live_).",
    keywords: ["sk_live_"],
    // A Paystack secret key (sk_live_ + exactly 40 hex) is left to paystack-secret-key.
    pattern: /\b(sk_live_(?![a-f0-9]{40}(?![A-Za-z0-9]))[A-Za-z0-9]{24,247})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation: STRIPE_REMEDIATION,
    docs: STRIPE_DOCS,
    verify: STRIPE_VERIFY,
    examples: {
      positives: (gen) =>
        place(
          [`sk_live_51${gen.alnum(97)}`, `sk_live_${gen.alnum(24)}`],
          [line.env("STRIPE_SECRET_KEY"), (s) => `Stripe.api_key = "${s}"`],
        ),
      negatives: [
        "STRIPE_SECRET_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
        "STRIPE_SECRET_KEY=sk_live_...",
        "Live secret keys start with sk_live_ and test keys with sk_test_.",
      ],
    },
  },
  {
    id: "stripe-restricted-key",
    provider: "Stripe",
    description: "Stripe live restricted key (rk_live_).",
    keywords: ["rk_live_"],
    pattern: /\b(rk_live_[A-Za-z0-9]{24,247})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation: STRIPE_REMEDIATION,
    docs: "https://docs.stripe.com/keys#limit-access",
    verify: STRIPE_VERIFY,
    examples: {
      positives: (gen) =>
        place(
          [`rk_live_51${gen.alnum(97)}`, `rk_live_${gen.alnum(24)}`],
          [line.shell("STRIPE_RESTRICTED_KEY"), line.yaml("stripe_key")],
        ),
      negatives: ["STRIPE_KEY=rk_live_<restricted-key>"],
    },
  },
  {
    id: "stripe-test-key",
    provider: "Stripe",
    description:
      "Stripe test-mode secret or restricted key (sk_test_, rk_test_): no real money, but account access.",
    keywords: ["sk_test_", "rk_test_"],
    pattern: /\b([sr]k_test_[A-Za-z0-9]{24,247})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "low",
    remediation:
      "Roll the test key in the Stripe Dashboard (test mode, Developers > API keys > Roll key) and keep test keys out of source control as well.",
    docs: STRIPE_DOCS,
    verify: STRIPE_VERIFY,
    examples: {
      positives: (gen) =>
        place(
          [`sk_test_51${gen.alnum(97)}`, `rk_test_${gen.alnum(24)}`],
          [line.env("STRIPE_SECRET_KEY"), line.js("stripeKey")],
        ),
      negatives: ["STRIPE_SECRET_KEY=sk_test_xxxxxxxxxxxxxxxxxxxxxxxx", "STRIPE_SECRET_KEY=sk_test_..."],
    },
  },
  {
    id: "stripe-webhook-secret",
    provider: "Stripe",
    description: "Stripe (or Svix-style) webhook signing secret (whsec_).",
    keywords: ["whsec_"],
    pattern: /\b(whsec_[A-Za-z0-9+/]{32,88}={0,2})(?![A-Za-z0-9+/=_-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Roll the endpoint's signing secret in the Stripe Dashboard (Developers > Webhooks > endpoint > Roll secret), update the verifier and store the new secret in a vault.",
    docs: "https://docs.stripe.com/webhooks#roll-endpoint-secrets",
    examples: {
      positives: (gen) =>
        place(
          [`whsec_${gen.alnum(32)}`, `whsec_${gen.base64Bytes(24)}`],
          [line.env("STRIPE_WEBHOOK_SECRET"), (s) => `endpoint_secret = '${s}'`],
        ),
      negatives: ["STRIPE_WEBHOOK_SECRET=whsec_..."],
    },
  },
];

const SHOPIFY: TokenFamily = {
  provider: "Shopify",
  body: "[a-fA-F0-9]{32}",
  example: (gen) => gen.hex(32),
  entropy: 3,
  severity: "critical",
  remediation:
    "Uninstall and reinstall the app or rotate its credentials in the Shopify admin (Settings > Apps and sales channels > Develop apps > API credentials) or the Partner Dashboard, then store the new token in a vault.",
};

/**
 * GET /admin/api/<version>/shop.json on the shop's own host: 200 for a working token, 401
 * "[API] Invalid API key or access token" for an uninstalled app's. The shop domain comes
 * from the text near the token; without one the finding stays unknown. A retired API
 * version is served by the oldest supported one, so the pinned version keeps working.
 */
const SHOPIFY_VERIFY: VerifySpec = {
  provider: "shopify",
  baseUrl: "https://{shop}",
  method: "GET",
  path: "/admin/api/2025-10/shop.json",
  auth: { kind: "header", name: "x-shopify-access-token" },
  inputs: [
    {
      name: "shop",
      label: "myshopify.com shop domain",
      near: /\b([a-z0-9][a-z0-9-]{0,60}\.myshopify\.com)\b/i,
    },
  ],
  outcomes: [
    { status: [200], result: "live" },
    { status: [401], result: "revoked" },
  ],
  docs: "https://shopify.dev/docs/api/admin-rest/latest/resources/shop",
  note: "Needs a *.myshopify.com domain within 1,000 characters of the token.",
};

const shopifyRule = (id: string, prefix: string, what: string, docs: string, verify?: VerifySpec): Rule =>
  prefixedRule(SHOPIFY, {
    id,
    prefix,
    description: `Shopify ${what} (${prefix} + 32 hex).`,
    docs,
    ...(verify === undefined ? {} : { verify }),
    lines: [line.env("SHOPIFY_ACCESS_TOKEN"), (s) => `-H "X-Shopify-Access-Token: ${s}"`],
    negatives: [
      `SHOPIFY_ACCESS_TOKEN=${prefix}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`,
      `SHOPIFY_ACCESS_TOKEN=${prefix}<token>`,
    ],
  });

const SHOPIFY_TOKENS_DOCS =
  "https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/generate-app-access-tokens-admin";

const shopifyRules: readonly Rule[] = [
  shopifyRule(
    "shopify-access-token",
    "shpat_",
    "Admin API access token of a custom app",
    SHOPIFY_TOKENS_DOCS,
    SHOPIFY_VERIFY,
  ),
  shopifyRule(
    "shopify-custom-app-token",
    "shpca_",
    "custom app access token",
    SHOPIFY_TOKENS_DOCS,
    SHOPIFY_VERIFY,
  ),
  shopifyRule(
    "shopify-private-app-token",
    "shppa_",
    "private app password/access token",
    SHOPIFY_TOKENS_DOCS,
    SHOPIFY_VERIFY,
  ),
  shopifyRule(
    "shopify-shared-secret",
    "shpss_",
    "app shared secret (API secret key)",
    "https://shopify.dev/docs/apps/build/authentication-authorization/client-secrets",
  ),
];

const processorRules: readonly Rule[] = [
  {
    id: "square-access-token",
    provider: "Square",
    description: "Square access token (EAAA + 60, or legacy sq0atp-).",
    keywords: ["eaaa", "sq0atp-"],
    pattern: /\b(EAAA[A-Za-z0-9_-]{60}|sq0atp-[A-Za-z0-9_-]{22})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Revoke the token in the Square Developer Console (Credentials, or OAuth > Revoke) or with POST /oauth2/revoke, issue a new one and store it in a vault.",
    docs: "https://developer.squareup.com/docs/build-basics/access-tokens",
    examples: {
      positives: (gen) =>
        place(
          [`EAAA${gen.base64url(60)}`, `sq0atp-${gen.base64url(22)}`],
          [line.env("SQUARE_ACCESS_TOKEN"), line.json("squareToken")],
        ),
      negatives: [
        "SQUARE_ACCESS_TOKEN=EAAA<your-access-token>",
        "SQUARE_ACCESS_TOKEN=sq0atp-XXXXXXXXXXXXXXXXXXXXXX",
      ],
    },
  },
  {
    id: "square-oauth-secret",
    provider: "Square",
    description: "Square OAuth application secret (sq0csp-).",
    keywords: ["sq0csp-"],
    pattern: /\b(sq0csp-[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Replace the application secret in the Square Developer Console (your app > OAuth > Replace secret) and store the new one in a vault.",
    docs: "https://developer.squareup.com/docs/oauth-api/best-practices",
    examples: {
      positives: (gen) =>
        place(
          () => `sq0csp-${gen.base64url(43)}`,
          [line.env("SQUARE_APPLICATION_SECRET"), line.py("client_secret")],
        ),
      negatives: ["SQUARE_APPLICATION_SECRET=sq0csp-..."],
    },
  },
  {
    id: "braintree-access-token",
    provider: "PayPal Braintree",
    description: "PayPal/Braintree production access token (access_token$production$...).",
    keywords: ["access_token$production$"],
    pattern: /\b(access_token\$production\$[a-z0-9]{16}\$[a-f0-9]{32})(?![A-Za-z0-9])/,
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Revoke the token in the PayPal/Braintree control panel (API credentials), generate a new one and store it in a vault.",
    docs: "https://developer.paypal.com/braintree/articles/control-panel/important-gateway-credentials",
    examples: {
      positives: (gen) =>
        place(
          () => `access_token$production$${gen.lowerAlnum(16)}$${gen.hex(32)}`,
          [
            line.env("BRAINTREE_ACCESS_TOKEN"),
            (s) => `gateway = braintree.BraintreeGateway(access_token="${s}")`,
          ],
        ),
      negatives: ["BRAINTREE_ACCESS_TOKEN=access_token$production$<merchant>$<token>"],
    },
  },
  {
    id: "adyen-api-key",
    provider: "Adyen",
    description: "Adyen API key (AQE...) near the word adyen.",
    keywords: ["adyen"],
    pattern: near({
      context: anyCase("adyen"),
      value: "AQE[A-Za-z0-9+/=_-]{80,300}",
      end: END_BASE64,
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Generate a new key for the API credential in the Adyen Customer Area (Developers > API credentials), deploy it, then revoke the old key and store the new one in a vault.",
    docs: "https://docs.adyen.com/development-resources/api-credentials/",
    examples: {
      positives: (gen) =>
        place(
          [
            `AQE${gen.base64(64)}==-${gen.base64(43)}=-${gen.alnum(12)}`,
            `AQE${gen.base64(70)}==-${gen.base64(43)}=-${gen.alnum(12)}`,
          ],
          [
            line.env("ADYEN_API_KEY"),
            (s) => `const adyenClient = new Client({ apiKey: "${s}", environment: "LIVE" });`,
          ],
        ),
      negatives: ["ADYEN_API_KEY=AQE...your-api-key"],
    },
  },
  {
    id: "plaid-secret",
    provider: "Plaid",
    description: "Plaid API secret (30 hex) in a Plaid variable.",
    keywords: ["plaid"],
    pattern: assigned({ context: anyCase("plaid"), value: "[a-f0-9]{30}", flags: "" }),
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Rotate the secret in the Plaid Dashboard (Developers > Keys > Rotate secret), deploy the new one, delete the old one and store it in a vault.",
    docs: "https://plaid.com/docs/account/security/",
    examples: {
      positives: (gen) => place(() => gen.hex(30), [line.env("PLAID_SECRET"), line.json("plaidSecret")]),
      negatives: ["PLAID_SECRET=<your-plaid-secret>"],
    },
  },
  {
    id: "plaid-access-token",
    provider: "Plaid",
    description: "Plaid Item access token (access-production- or access-development- + UUID).",
    keywords: ["access-production-", "access-development-"],
    pattern: new RegExp(String.raw`\b(access-(?:production|development)-${UUID})(?![a-f0-9-])`),
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Rotate the access token with /item/access_token/invalidate (or remove the Item with /item/remove) and store the new token in a vault.",
    docs: "https://plaid.com/docs/api/items/#itemaccess_tokeninvalidate",
    examples: {
      positives: (gen) =>
        place(
          [`access-production-${gen.uuid()}`, `access-development-${gen.uuid()}`],
          [line.py("access_token"), line.yaml("plaid_access_token")],
        ),
      negatives: ["access_token: access-sandbox-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"],
    },
  },
  {
    id: "coinbase-api-secret",
    provider: "Coinbase",
    description: "Coinbase API secret or access token in a Coinbase variable.",
    keywords: ["coinbase"],
    pattern: assigned({
      context: anyCase("coinbase", "CoinBase"),
      value: "[A-Za-z0-9_-]{64}|[A-Za-z0-9]{32}",
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Delete the API key in the Coinbase Developer Platform (portal.cdp.coinbase.com > API keys) or Coinbase settings, create a new one with the least permissions and an IP allowlist, and store it in a vault.",
    docs: "https://docs.cdp.coinbase.com/get-started/docs/cdp-api-keys/",
    examples: {
      positives: (gen) =>
        place(
          [gen.alnum(32), gen.base64url(64)],
          [line.env("COINBASE_API_SECRET"), line.yaml("coinbase_access_token")],
        ),
      negatives: ["COINBASE_API_SECRET=your-coinbase-api-secret"],
    },
  },
  {
    id: "razorpay-key-id",
    provider: "Razorpay",
    description: "Razorpay live key id (rzp_live_): not secret alone, but marks a live key secret nearby.",
    keywords: ["rzp_live_"],
    pattern: /\b(rzp_live_[A-Za-z0-9]{14})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3,
    severity: "medium",
    remediation:
      "If the key secret leaked with it, regenerate the key in the Razorpay Dashboard (Account & Settings > API Keys > Regenerate) and store the new pair in a vault.",
    docs: RAZORPAY_DOCS,
    examples: {
      positives: (gen) =>
        place(() => `rzp_live_${gen.alnum(14)}`, [line.env("RAZORPAY_KEY_ID"), line.js("key")]),
      negatives: ["RAZORPAY_KEY_ID=rzp_live_XXXXXXXXXXXXXX"],
    },
  },
  {
    id: "razorpay-key-secret",
    provider: "Razorpay",
    description: "Razorpay key secret (24 characters) in a Razorpay secret variable or next to a key id.",
    keywords: ["razorpay", "rzp_"],
    pattern: new RegExp(
      String.raw`(?:${anyCase("razorpay", "rzp")}[\w.-]{0,20}${SECRET_WORD}[\w.-]{0,20}${ASSIGN}|\brzp_(?:live|test)_[A-Za-z0-9]{14}['"]?[ \t]{0,3},[ \t]{0,3}['"])([A-Za-z0-9]{24})${END_TOKEN}`,
    ),
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Regenerate the key in the Razorpay Dashboard (Account & Settings > API Keys > Regenerate key), update the app and store the new secret in a vault.",
    docs: RAZORPAY_DOCS,
    examples: {
      positives: (gen) =>
        place(
          [gen.alnum(24), gen.alnum(24)],
          [
            line.env("RAZORPAY_KEY_SECRET"),
            (s) => `client = razorpay.Client(auth=("rzp_live_${gen.alnum(14)}", "${s}"))`,
          ],
        ),
      negatives: ["RAZORPAY_KEY_SECRET=<your_key_secret>"],
    },
  },
  prefixedRule(FLUTTERWAVE, {
    id: "flutterwave-secret-key",
    prefix: "FLWSECK-",
    description: "Flutterwave live secret key (FLWSECK-...-X).",
    severity: "critical",
    remediation:
      "Generate new API keys in the Flutterwave Dashboard (Settings > API Keys), which invalidates the old ones, and store them in a vault.",
    lines: [line.env("FLW_SECRET_KEY"), line.js("secretKey")],
    negatives: ["FLW_SECRET_KEY=FLWSECK-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-X"],
  }),
  prefixedRule(FLUTTERWAVE, {
    id: "flutterwave-test-secret-key",
    prefix: "FLWSECK_TEST-",
    description: "Flutterwave test-mode secret key (FLWSECK_TEST-...-X).",
    severity: "low",
    remediation:
      "Regenerate the test keys in the Flutterwave Dashboard (Settings > API Keys, test mode) and keep them out of source control.",
    lines: [line.env("FLW_SECRET_KEY"), line.yaml("flutterwave_secret")],
    negatives: ["FLW_SECRET_KEY=FLWSECK_TEST-SANDBOXDEMOKEY-X"],
  }),
  {
    id: "paystack-secret-key",
    provider: "Paystack",
    description: "Paystack live secret key (sk_live_ + 40 hex) near the word paystack.",
    keywords: ["paystack"],
    pattern: near({ context: anyCase("paystack"), value: "sk_live_[a-f0-9]{40}", flags: "" }),
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Generate new secret keys in the Paystack Dashboard (Settings > API Keys & Webhooks), which invalidates the old ones, and store them in a vault.",
    docs: "https://paystack.com/docs/api/authentication/",
    examples: {
      positives: (gen) =>
        place(
          () => `sk_live_${gen.hex(40)}`,
          [line.env("PAYSTACK_SECRET_KEY"), (s) => `paystack = Paystack(secret_key="${s}")`],
        ),
      negatives: ["PAYSTACK_SECRET_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"],
    },
  },
  {
    id: "mollie-api-key",
    provider: "Mollie",
    description: "Mollie live API key (live_) or organization access token (access_) near the word mollie.",
    keywords: ["mollie"],
    pattern: near({
      context: anyCase("mollie"),
      value: "live_[A-Za-z0-9]{30}|access_[A-Za-z0-9]{40}",
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Reset the live API key in the Mollie Dashboard (Developers > API keys) or revoke the access token (Developers > Organization access tokens), then store the new one in a vault.",
    docs: "https://docs.mollie.com/reference/authentication",
    examples: {
      positives: (gen) =>
        place(
          [`live_${gen.alnum(30)}`, `access_${gen.alnum(40)}`],
          [line.env("MOLLIE_API_KEY"), (s) => `$mollie->setAccessToken("${s}");`],
        ),
      negatives: ["MOLLIE_API_KEY=live_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"],
    },
  },
  {
    id: "gocardless-access-token",
    provider: "GoCardless",
    description: "GoCardless live access token (live_) near the word gocardless.",
    keywords: ["gocardless"],
    pattern: near({
      context: anyCase("gocardless", "GoCardless"),
      value: "live_[A-Za-z0-9_=-]{40}",
      end: String.raw`(?![A-Za-z0-9_=-])`,
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Revoke the token in the GoCardless Dashboard (Developers > Access tokens), create a new one with the least scope needed and store it in a vault.",
    docs: "https://developer.gocardless.com/getting-started/api/making-your-first-request",
    examples: {
      positives: (gen) =>
        place(
          [`live_${gen.base64url(40)}`, `live_${gen.alnum(40)}`],
          [
            line.env("GOCARDLESS_ACCESS_TOKEN"),
            (s) => `client = gocardless_pro.Client(access_token="${s}", environment="live")`,
          ],
        ),
      negatives: ["GOCARDLESS_ACCESS_TOKEN=live_your_access_token"],
    },
  },
  {
    id: "lemonsqueezy-api-key",
    provider: "Lemon Squeezy",
    description: "Lemon Squeezy API key (a JWT) near the words lemon squeezy.",
    keywords: ["lemonsqueezy", "lemon_squeezy", "lemon-squeezy"],
    pattern: near({
      context: anyCase("lemonsqueezy", "lemon_squeezy", "lemon-squeezy", "LemonSqueezy"),
      value: JWT,
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the key in Lemon Squeezy (Settings > API), create a new one and store it in a vault.",
    docs: "https://docs.lemonsqueezy.com/api/getting-started/requests",
    examples: {
      positives: (gen) =>
        place(
          [
            `eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJ${gen.base64url(300)}.${gen.base64url(342)}`,
            `eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJ${gen.base64url(280)}.${gen.base64url(342)}`,
          ],
          [line.env("LEMONSQUEEZY_API_KEY"), line.js("lemonSqueezyApiKey")],
        ),
      negatives: ["LEMONSQUEEZY_API_KEY=your-api-key"],
    },
  },
  prefixedRule(PADDLE, {
    id: "paddle-api-key",
    prefix: "pdl_live_apikey_",
    description: "Paddle Billing live API key (pdl_live_apikey_).",
    severity: "critical",
    lines: [line.env("PADDLE_API_KEY"), line.json("paddleApiKey")],
    negatives: ["PADDLE_API_KEY=pdl_live_apikey_..."],
  }),
  prefixedRule(PADDLE, {
    id: "paddle-sandbox-api-key",
    prefix: "pdl_sdbx_apikey_",
    description: "Paddle Billing sandbox API key (pdl_sdbx_apikey_).",
    severity: "low",
    lines: [line.env("PADDLE_API_KEY"), line.yaml("paddle_api_key")],
    negatives: ["PADDLE_API_KEY=pdl_sdbx_apikey_<key>"],
  }),
];

/** Stripe, Shopify and the other payment, commerce and banking-data providers. */
export const saasPaymentRules: readonly Rule[] = [...stripeRules, ...shopifyRules, ...processorRules];

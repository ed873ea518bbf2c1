import type { ExampleGen, Rule } from "../rule.ts";
import { isLikelySecretValue } from "./generic-values.ts";

/*
 * Values assigned to secret-named variables and keys, in code and in configuration files.
 * The name must END with a credential word (`api_key`, `clientSecret`, `DB_PASSWORD`,
 * `auth_token`), so `token_type`, `secret_name`, `passwordField`, `keyboard` and `tokenizer`
 * never qualify; a bare `key` does not either (dictionary keys, cache keys, primary keys).
 * The value must then pass isLikelySecretValue.
 */

/** Words that qualify `key` as a credential: `api_key`, `clientKey`, `SECRET_KEY`. */
const KEY_QUALIFIER =
  "api|access|secret|private|client|app|auth|master|signing|sign|encryption|encrypt|decryption|crypt|cipher|" +
  "license|licence|service|admin|account|storage|subscription|consumer|webhook|session|hmac|shared|server|write|" +
  "read|ingest|integration|management|personal|deploy|root|developer|partner|merchant|cookie|jwt|aes|otp|totp|" +
  "recovery|rest|sdk|secure";

/** Tokens that are not credentials: pagination, CSRF, device and one-time tokens, parser tokens. */
const HARMLESS_TOKEN =
  "csrf|xsrf|page|next|continuation|cancellation|cancel|sync|resume|pagination|cursor|device|push|fcm|apns|" +
  "notification|verification|verify|reset|invite|invitation|unsubscribe|confirmation|confirm|lexer|parser|parse|" +
  "idempotency|request|trace|correlation|nonce|input|output|last|first|prev|previous|current|sort|" +
  "authenticity|forgery|antiforgery|middleware";

/**
 * A secret-bearing name, anchored at its start by the caller. Lookaheads refuse harmless
 * tokens and names that say the value is public or fake; then any name characters, a
 * credential word, and an optional suffix (`_base`, `_prod`, `2`).
 */
export const SECRET_NAME = [
  // `_token` is Laravel's CSRF field.
  String.raw`(?![-.]|_token(?![\w.-]))`,
  String.raw`(?![\w.-]{0,60}(?:${HARMLESS_TOKEN})[_.-]?token(?![\w.-]))`,
  String.raw`(?![\w.-]{0,60}(?:public|publishable|example|sample|dummy|fake|mock))`,
  String.raw`(?:[\w.-]{0,60}(?:(?:${KEY_QUALIFIER})[_.-]?key|secret|token|passw(?:or)?d|passphrase|pwd|credentials?|auth)|(?:[\w.-]{0,60}[_.-]|)pass)`,
  String.raw`(?:[_.-]?(?:base|value|prod|production|dev|staging|live|local|b64|base64|hex|raw|str|string|encoded)|[_.-]?v?\d{1,2}|)`,
].join("");

/** Keywords of every rule built on SECRET_NAME: one of them is inside any matching name. */
export const SECRET_NAME_KEYWORDS = ["key", "secret", "token", "pass", "pwd", "credential", "auth"] as const;

/** Assignment operators of the languages and formats covered: `=`, `:=`, `=>`, `:`, typed declarations. */
const OPERATOR = String.raw`(?:={1,3}|:=|=>|\?\?=|\|\|=|\?=|<-|:[ \t]{0,3}(?:&'static str|&str|str|string)[ \t]{0,3}=|[ \t]{1,3}string[ \t]{0,3}=|:)`;

const OWASP_SECRETS = "https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html";
const REMEDIATION =
  "Revoke the credential where it was issued (the provider's console or API, or the system whose password it is), remove it from the code and history, issue a new one and store it in a vault, reading it at run time from the environment or a secrets manager.";

/** A value a generator or a person would produce for a secret: random tokens of a few shapes. */
function secretValue(gen: ExampleGen): string {
  return gen.pick([
    () => gen.alnum(32),
    () => gen.hex(40),
    () => gen.base64(40),
    () => `${gen.alnum(10)}${gen.pick(["!", "#", "%", "^"])}${gen.alnum(8)}`,
  ])();
}

export const assignmentRules: readonly Rule[] = [
  {
    id: "generic-secret-assignment",
    provider: "Generic",
    description:
      "Quoted literal assigned to a secret-named variable or key in code or config (JS/TS, Python, Go, Ruby, Java, C#, PHP, JSON, YAML, TOML, HCL, .env, shell, XML attributes).",
    keywords: SECRET_NAME_KEYWORDS,
    pattern: new RegExp(
      // A comma separates name and value only as the first two arguments of a call:
      // `os.Setenv("API_KEY", "...")`, `props.put("password", "...")`; not in lists.
      String.raw`(?:(?:^|[^\w.-])${SECRET_NAME}[\s'"\]]{0,3}${OPERATOR}|\([ \t]{0,2}["']${SECRET_NAME}["'][ \t]{0,2},)[ \t]{0,5}(?:[rbuf@]|)["'\x60]([^\s'"\x60\\]{8,200})["'\x60]`,
      "i",
    ),
    secretGroup: 1,
    entropy: 3,
    validate: isLikelySecretValue,
    severity: "medium",
    remediation: REMEDIATION,
    docs: OWASP_SECRETS,
    generic: true,
    examples: {
      positives: (gen) => {
        const [a, b, c, d, e] = [
          secretValue(gen),
          secretValue(gen),
          secretValue(gen),
          secretValue(gen),
          secretValue(gen),
        ];
        return [
          { text: `  "apiKey": "${a}",`, secret: a },
          { text: `SECRET_KEY = '${b}'`, secret: b },
          { text: `\tclientSecret := "${c}"`, secret: c },
          { text: `resource "x" "y" {\n  db_password = "${d}"\n}`, secret: d },
          { text: `\tos.Setenv("WEBHOOK_SECRET", "${e}")`, secret: e },
        ];
      },
      negatives: [
        'api_key = os.environ["API_KEY"]',
        '  "token_type": "Bearer",',
        'const apiKey = "<YOUR_API_KEY>";',
        'password: "********"\nsecret_name: "my-app-secret"\napi_key = "your_api_key_here"\ntoken = "{{ secret }}"\nauth = "%(key)s"',
        '__all__ = ["Credentials", "IDTokenCredentials", "ServiceAccountCredentials"]\nprivate_key: "_RSAPrivateKey",',
      ],
    },
  },
  {
    id: "generic-env-assignment",
    provider: "Generic",
    description:
      "Unquoted value of a secret-named key on its own line: .env, shell export, Dockerfile ENV, Java .properties, INI, YAML, .npmrc, HTTP headers.",
    keywords: SECRET_NAME_KEYWORDS,
    pattern: new RegExp(
      String.raw`^[ \t]{0,40}(?:-[ \t]{1,3}|export[ \t]{1,3}|set[ \t]{1,3}|env[ \t]{1,3}|arg[ \t]{1,3}|declare[ \t]{1,3}-x[ \t]{1,3}|\/\/[^\s=]{1,200}:|)${SECRET_NAME}[ \t]{0,3}(?:=|:|:=|\?=|\+=)[ \t]{0,3}([^\s'"\x60;,]{8,200})(?:[ \t]{1,5}#[^\r\n]{0,200}|[ \t]{0,5})\r?$`,
      "im",
    ),
    secretGroup: 1,
    entropy: 3,
    validate: isLikelySecretValue,
    severity: "medium",
    remediation: REMEDIATION,
    docs: OWASP_SECRETS,
    generic: true,
    examples: {
      positives: (gen) => {
        const [a, b, c, d] = [secretValue(gen), secretValue(gen), secretValue(gen), secretValue(gen)];
        return [
          { text: `NODE_ENV=production\nSESSION_SECRET=${a}\nPORT=3000`, secret: a },
          { text: `export DEPLOY_TOKEN=${b}`, secret: b },
          {
            text: `spring.datasource.url=jdbc:postgresql://db:5432/app\nspring.datasource.password=${c}`,
            secret: c,
          },
          {
            text: `services:\n  api:\n    environment:\n      - INTERNAL_AUTH_TOKEN=${d}  # rotated monthly`,
            secret: d,
          },
        ];
      },
      negatives: [
        "  token: ${{ secrets.GITHUB_TOKEN }}\nsecret_name: my-app-secret\npassword: ********\nPASSWORD=changeme",
        "password = getPassword()\napiKey: process.env.API_KEY,\nDB_PASSWORD=${DB_PASSWORD}",
        "API_KEY=your_api_key_here\nSECRET_KEY=REPLACE_ME\nclient_secret: <client-secret>\nauth_token = None",
        "keyboard_layout=us-intl-altgr\ntokenizer: bert-base-uncased\nGOOGLE_APPLICATION_CREDENTIALS=/etc/gcp/sa.json\nmax_tokens: 4096",
      ],
    },
  },
  {
    id: "generic-xml-secret-element",
    provider: "Generic",
    description:
      "Secret in an XML element named like a credential (<password>, <apiKey>, <clientSecret>), e.g. Maven settings.xml.",
    keywords: SECRET_NAME_KEYWORDS,
    pattern: new RegExp(
      String.raw`<(?:[\w-]{1,30}:|)${SECRET_NAME}(?:[ \t][^<>]{0,200}|)>[ \t]{0,3}([^<>\s]{8,200})[ \t]{0,3}<\/`,
      "i",
    ),
    secretGroup: 1,
    entropy: 3,
    validate: isLikelySecretValue,
    severity: "medium",
    remediation: REMEDIATION,
    docs: "https://maven.apache.org/guides/mini/guide-encryption.html",
    generic: true,
    examples: {
      positives: (gen) => {
        const [a, b] = [secretValue(gen), secretValue(gen)];
        return [
          {
            text: `<server>\n  <id>releases</id>\n  <username>deployer</username>\n  <password>${a}</password>\n</server>`,
            secret: a,
          },
          { text: `<cfg:ApiKey type="string">${b}</cfg:ApiKey>`, secret: b },
        ];
      },
      negatives: [
        "<password>${env.MAVEN_PASSWORD}</password>",
        "<password>{COQLCE6DU6GtcS5P=}</password>",
        "<token>REPLACE_ME</token>",
      ],
    },
  },
  {
    id: "generic-xml-secret-attribute",
    provider: "Generic",
    description:
      'Secret in a key/value XML element named like a credential: <add key="ApiKey" value="..."/>, <property name="db.password" value="..."/>, <entry key="token">...</entry>.',
    keywords: SECRET_NAME_KEYWORDS,
    pattern: new RegExp(
      String.raw`\b(?:key|name)[ \t]{0,2}=[ \t]{0,2}["']${SECRET_NAME}["'](?:\s{1,5}value[ \t]{0,2}=[ \t]{0,2}["']|[^<>]{0,100}>)([^\s'"<>]{8,200})["'<]`,
      "i",
    ),
    secretGroup: 1,
    entropy: 3,
    validate: isLikelySecretValue,
    severity: "medium",
    remediation: REMEDIATION,
    docs: "https://learn.microsoft.com/en-us/aspnet/identity/overview/features-api/best-practices-for-deploying-passwords-and-other-sensitive-data-to-aspnet-and-azure",
    generic: true,
    examples: {
      positives: (gen) => {
        const [a, b, c] = [secretValue(gen), secretValue(gen), secretValue(gen)];
        return [
          { text: `<appSettings>\n  <add key="PaymentApiKey" value="${a}" />\n</appSettings>`, secret: a },
          { text: `<property name="hibernate.connection.password" value="${b}"/>`, secret: b },
          { text: `<entry key="smtp.password">${c}</entry>`, secret: c },
        ];
      },
      negatives: [
        '<add key="ApiKey" value="REPLACE_ME" />',
        '<property name="password" value="${db.password}"/>',
        '<add key="TokenType" value="Bearer" />',
        '<input type="hidden" name="authenticity_token" value="q9Zk-2hW_eTm5rXb"><input type="hidden" name="_token" value="q9Zk-2hW_eTm5rXb">',
      ],
    },
  },
  {
    id: "generic-cli-secret-flag",
    provider: "Generic",
    description:
      "Secret passed on a command line: --password, --token, --api-key, --client-secret (also --docker-password etc.) or kubectl --from-literal=<secret-name>=value.",
    keywords: SECRET_NAME_KEYWORDS,
    pattern: new RegExp(
      String.raw`(?:^|[ \t])--(?:from-literal=${SECRET_NAME}=|(?:[a-z]{1,20}-|)(?:password|passwd|pass|token|api-key|apikey|api-token|access-token|auth-token|client-secret|secret|secret-key|access-key-secret)(?:=|[ \t]{1,3})["']?)([^\s'"\x60-][^\s'"\x60]{7,199})`,
      "im",
    ),
    secretGroup: 1,
    entropy: 3,
    validate: isLikelySecretValue,
    severity: "medium",
    remediation:
      "Revoke the credential at the service the command talks to, issue a new one and store it in a vault; pass it through an environment variable, a file or stdin (e.g. --password-stdin), since command lines end up in shell history, CI logs and `ps` output.",
    docs: OWASP_SECRETS,
    generic: true,
    examples: {
      positives: (gen) => {
        const [a, b, c] = [secretValue(gen), gen.alnum(36), secretValue(gen)];
        return [
          {
            text: `kubectl create secret docker-registry regcred --docker-server=registry.corp.lan --docker-username=ci --docker-password=${a}`,
            secret: a,
          },
          { text: `vendorcli login --api-key ${b} --region eu`, secret: b },
          { text: `kubectl create secret generic app --from-literal=db_password=${c}`, secret: c },
        ];
      },
      negatives: [
        'echo "$REGISTRY_PASSWORD" | docker login --password-stdin -u ci registry.corp.lan',
        "mycli login --token <TOKEN>",
        "mycli deploy --api-key $API_KEY --password=${PASSWORD}",
      ],
    },
  },
];

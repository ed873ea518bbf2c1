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
const KEY_QUALIFIERS = [
  ...["api", "access", "secret", "private", "client", "app", "auth", "master", "signing", "sign"],
  ...["encryption", "encrypt", "decryption", "crypt", "cipher", "license", "licence", "service", "admin"],
  ...["account", "storage", "subscription", "consumer", "webhook", "session", "hmac", "shared", "server"],
  ...["write", "read", "ingest", "integration", "management", "personal", "deploy", "root", "developer"],
  ...["partner", "merchant", "cookie", "jwt", "aes", "otp", "totp", "recovery", "rest", "sdk", "secure"],
] as const;

/** Credential words a name may end with, besides `<qualifier>key` and a `pass` segment. */
const CREDENTIAL_WORDS = [
  "secret",
  "token",
  "password",
  "passwd",
  "passphrase",
  "pwd",
  "credentials",
  "auth",
];

/** What may follow the credential word: `_base`, `_prod`, `2`, `_v1`. */
const SUFFIX_WORDS = ["base", "value", "prod", "production", "dev", "staging", "live", "local", "b64"];
const SUFFIX_CODES = ["base64", "hex", "raw", "str", "string", "encoded"];
const SUFFIX = String.raw`(?:[_.-]?(?:${[...SUFFIX_WORDS, ...SUFFIX_CODES].join("|")})|[_.-]?v?\d{1,2}|)`;

/** Tokens that are not credentials: pagination, CSRF, device and one-time tokens, parser tokens. */
const HARMLESS_TOKEN =
  "csrf|xsrf|page|next|continuation|cancellation|cancel|sync|resume|pagination|cursor|device|push|fcm|apns|" +
  "notification|verification|verify|reset|invite|invitation|unsubscribe|confirmation|confirm|lexer|parser|parse|" +
  "idempotency|request|trace|correlation|nonce|input|output|last|first|prev|previous|current|sort|" +
  "authenticity|forgery|antiforgery|middleware";

/** How many name characters may precede the credential word. */
const NAME_PREFIX = 60;

const longest = (words: readonly string[]): number => Math.max(...words.map((w) => w.length));

/**
 * The longest name secretName accepts: the prefix, the longest credential word (a
 * qualified key or a plain one, or `_pass`) and the longest suffix.
 */
const NAME_MAX =
  NAME_PREFIX +
  Math.max(longest(KEY_QUALIFIERS) + "_key".length, longest(CREDENTIAL_WORDS), "_pass".length) +
  1 +
  longest([...SUFFIX_WORDS, ...SUFFIX_CODES, "v99"]);

/**
 * A secret-bearing name, anchored at its start by the caller and always followed by a
 * character that is not a name character, so the name is a whole run of `[\w.-]`.
 * `follow` is what the caller's pattern requires right after the name (or a prefix of it):
 * a cheap lookahead checks the run and `follow` first, so that the costly checks below only
 * run on the few names that are followed by an assignment. Then lookaheads refuse harmless
 * tokens and names that say the value is public or fake; then any name characters, a
 * credential word, and an optional suffix (`_base`, `_prod`, `2`).
 */
function secretName(follow: string): string {
  return [
    String.raw`(?=[\w.-]{1,${NAME_MAX}}(?![\w.-])${follow})`,
    // `_token` is Laravel's CSRF field.
    String.raw`(?![-.]|_token(?![\w.-]))`,
    String.raw`(?![\w.-]{0,${NAME_PREFIX}}(?:${HARMLESS_TOKEN})[_.-]?token(?![\w.-]))`,
    String.raw`(?![\w.-]{0,${NAME_PREFIX}}(?:public|publishable|example|sample|dummy|fake|mock))`,
    String.raw`(?:[\w.-]{0,${NAME_PREFIX}}(?:(?:${KEY_QUALIFIERS.join("|")})[_.-]?key|secret|token|passw(?:or)?d|passphrase|pwd|credentials?|auth)|(?:[\w.-]{0,${NAME_PREFIX}}[_.-]|)pass)`,
    SUFFIX,
  ].join("");
}

/**
 * Keywords of every rule built on secretName: one of them starts the credential word of any
 * matching name. A bare `key` never qualifies a name, so only qualified keys are keywords
 * (`apikey`, `api_key`, `api.key`, `api-key`, ...); those that contain another keyword
 * (`secret_key`, `authkey`) are left out.
 */
export const SECRET_NAME_KEYWORDS: readonly string[] = (() => {
  const plain = ["secret", "token", "pass", "pwd", "credential", "auth"];
  const keys = KEY_QUALIFIERS.flatMap((q) => ["", "_", ".", "-"].map((sep) => `${q}${sep}key`));
  return [...plain, ...keys.filter((k) => !plain.some((p) => k.includes(p)))];
})();

/**
 * Windows for the rules built on secretName: a keyword starts the credential word, which
 * starts at most NAME_PREFIX (+1 for `_pass`) characters into the name; `before` and `after`
 * add what a rule's pattern allows around the name.
 */
function nameWindow(beforeName: number, afterName: number): { before: number; after: number } {
  return { before: beforeName + NAME_PREFIX + 1, after: NAME_MAX - NAME_PREFIX + afterName };
}

/** Assignment operators of the languages and formats covered: `=`, `:=`, `=>`, `:`, typed declarations. */
const OPERATOR = String.raw`(?:={1,3}|:=|=>|\?\?=|\|\|=|\?=|<-|:[ \t]{0,3}(?:&'static str|&str|str|string)[ \t]{0,3}=|[ \t]{1,3}string[ \t]{0,3}=|:)`;

/**
 * The env rule and the two XML rules share one window, the widest they need, so that the
 * engine computes their windows once (each window group costs a pass over the hits); the XML
 * patterns start with `<` or `key=`, which the regex engine skips to quickly, so the extra
 * text costs them little.
 */
const ENV_XML_WINDOW = (() => {
  const needed = [
    // env: from the line start (blanks, `//registry/path:`) to the line end (a `# comment`).
    nameWindow(40 + 2 + 200 + 1, 3 + 2 + 3 + 200 + 5 + 1 + 200 + 1),
    // `<prefix:NAME attributes> value </`
    nameWindow(1 + 31, 1 + 200 + 1 + 3 + 200 + 3 + 2),
    // `key = "NAME" value = "value"` or `key="NAME" ...>value<`
    nameWindow(4 + 2 + 1 + 2 + 1, 1 + 100 + 1 + 200 + 1),
  ];
  return {
    before: Math.max(...needed.map((w) => w.before)),
    after: Math.max(...needed.map((w) => w.after)),
  };
})();

/** The characters that end a line for `^` and `$` in a RegExp with the `m` flag. */
const LINE_BREAK = String.raw`[\n\r\u2028\u2029]`;
const NOT_LINE_BREAK = String.raw`[^\n\r\u2028\u2029]`;

/** The longest text OPERATOR matches: `: &'static str =` with the most blanks. */
const OPERATOR_MAX = 1 + 3 + "&'static str".length + 3 + 1;

/** Blanks, an optional string prefix (`r"`, `b'`, `@"`) and the quote that opens the value. */
const VALUE_OPEN = String.raw`[ \t]{0,5}(?:[rbuf@]|)["'\x60]`;
/** The start of a value the assignment rule could report: at least 8 characters, no quote. */
const VALUE_HEAD = String.raw`[^\s'"\x60\\]{8}`;

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
    // `(  "` before the name; after it `"  ,` or blanks and an operator, then the quoted value.
    window: nameWindow(4, Math.max(1 + 2 + 1, 3 + OPERATOR_MAX) + 5 + 1 + 1 + 200 + 1),
    pattern: new RegExp(
      // A comma separates name and value only as the first two arguments of a call:
      // `os.Setenv("API_KEY", "...")`, `props.put("password", "...")`; not in lists.
      // The call comes first only because the regex engine is faster that way; where one
      // matches the other cannot (after `(` comes a name character or a blank or quote).
      String.raw`(?:\([ \t]{0,2}["']${secretName(String.raw`["'][ \t]{0,2},${VALUE_OPEN}${VALUE_HEAD}`)}["'][ \t]{0,2},|(?:^|[^\w.-])${secretName(String.raw`[\s'"\]]{0,3}${OPERATOR}${VALUE_OPEN}${VALUE_HEAD}`)}[\s'"\]]{0,3}${OPERATOR})${VALUE_OPEN}([^\s'"\x60\\]{8,200})["'\x60]`,
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
    window: ENV_XML_WINDOW,
    // A line from its start to its end, as `^...$` with the `m` flag would match it, except
    // that the match takes the line break before it: the regex engine then only tries lines
    // instead of testing `^` at every position. Every alternative after the blanks starts
    // with one of `[\w/-]`; checking that first skips most lines of code at once.
    pattern: new RegExp(
      String.raw`(?:^|${LINE_BREAK})[ \t]{0,40}(?=[\w/-])(?:-[ \t]{1,3}|export[ \t]{1,3}|set[ \t]{1,3}|env[ \t]{1,3}|arg[ \t]{1,3}|declare[ \t]{1,3}-x[ \t]{1,3}|\/\/[^\s=]{1,200}:|)${secretName(String.raw`[ \t]{0,3}(?:=|:|:=|\?=|\+=)[ \t]{0,3}[^\s'"\x60;,]{8}`)}[ \t]{0,3}(?:=|:|:=|\?=|\+=)[ \t]{0,3}([^\s'"\x60;,]{8,200})(?:[ \t]{1,5}#[^\r\n]{0,200}|[ \t]{0,5})\r?(?!${NOT_LINE_BREAK})`,
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
    window: ENV_XML_WINDOW,
    pattern: new RegExp(
      String.raw`<(?:[\w-]{1,30}:|)${secretName(String.raw`(?:[ \t][^<>]{0,200}|)>[ \t]{0,3}[^<>\s]{8}`)}(?:[ \t][^<>]{0,200}|)>[ \t]{0,3}([^<>\s]{8,200})[ \t]{0,3}<\/`,
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
    window: ENV_XML_WINDOW,
    pattern: new RegExp(
      String.raw`\b(?:key|name)[ \t]{0,2}=[ \t]{0,2}["']${secretName(`["']`)}["'](?:\s{1,5}value[ \t]{0,2}=[ \t]{0,2}["']|[^<>]{0,100}>)([^\s'"<>]{8,200})["'<]`,
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
    // Each flag name below contains one of these; `-secret` sits furthest in (`--x-access-key-secret`).
    keywords: ["-pass", "-token", "-secret", "-api-key", "-apikey", "from-literal="],
    window: { before: 3 + 20 + 1 + "access-key".length, after: "from-literal=".length + NAME_MAX + 1 + 200 },
    pattern: new RegExp(
      String.raw`(?:^|[ \t])--(?:from-literal=${secretName("=")}=|(?:[a-z]{1,20}-|)(?:password|passwd|pass|token|api-key|apikey|api-token|access-token|auth-token|client-secret|secret|secret-key|access-key-secret)(?:=|[ \t]{1,3})["']?)([^\s'"\x60-][^\s'"\x60]{7,199})`,
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

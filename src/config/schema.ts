import Type, { type Static, type TSchema } from "typebox";
import { LOG_LEVELS } from "../core/logger.ts";
import { DECODER_NAMES } from "../detect/decoders/layer.ts";

/**
 * A user-defined detection rule in keywarden.toml. Field names follow gitleaks where it has
 * one (`id`, `description`, `regex`, `secretGroup`, `entropy`, `keywords`, `path`, `tags`).
 */
export const UserRuleSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, pattern: "^[a-z0-9][a-z0-9._-]*$" }),
    description: Type.String({ default: "" }),
    provider: Type.String({ default: "custom" }),
    regex: Type.String({ minLength: 1 }),
    secretGroup: Type.Integer({ minimum: 0, default: 0 }),
    entropy: Type.Number({ minimum: 0, maximum: 8, default: 0 }),
    keywords: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    path: Type.Optional(Type.String()),
    severity: Type.Union(
      [Type.Literal("critical"), Type.Literal("high"), Type.Literal("medium"), Type.Literal("low")],
      {
        default: "high",
      },
    ),
    remediation: Type.String({
      default: "Revoke the credential at its issuer, issue a new one and store it in a vault.",
    }),
    tags: Type.Array(Type.String(), { default: [] }),
  },
  { additionalProperties: false },
);

const LogLevel = Type.Union(
  LOG_LEVELS.map((l) => Type.Literal(l)),
  { default: "warn", description: "Least severe log level written to stderr." },
);

/**
 * The one configuration schema, defaults included. Options marked `secret: true` are masked
 * by `keywarden config show`.
 */
export const ConfigSchema = Type.Object(
  {
    home: Type.String({
      default: "",
      description:
        "Keywarden's data folder; empty means $XDG_DATA_HOME/keywarden or ~/.local/share/keywarden.",
    }),
    log: Type.Object(
      {
        level: LogLevel,
        format: Type.Union([Type.Literal("auto"), Type.Literal("json"), Type.Literal("pretty")], {
          default: "auto",
          description: "json for machines, pretty for people; auto is pretty on a terminal.",
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    scan: Type.Object(
      {
        maxFileSize: Type.Integer({
          minimum: 1,
          default: 100 * 1024 * 1024,
          description: "Files larger than this many bytes are skipped and reported.",
        }),
        exclude: Type.Array(Type.String(), {
          default: [],
          description: "Extra gitignore-style patterns of paths never to scan.",
        }),
        format: Type.Union(
          [Type.Literal("text"), Type.Literal("json"), Type.Literal("sarif"), Type.Literal("csv")],
          { default: "text", description: "Report format." },
        ),
        gitignore: Type.Boolean({
          default: true,
          description: "Honour .gitignore files while walking folders.",
        }),
        archives: Type.Object(
          {
            enabled: Type.Boolean({
              default: true,
              description:
                "Look inside zip, jar, tar, tar.gz, gzip, Docker image tarballs (by content, not only by name).",
            }),
            maxDepth: Type.Integer({
              minimum: 1,
              maximum: 32,
              default: 5,
              description: "Archives nested deeper than this are skipped (an archive on disk is depth 1).",
            }),
            maxTotalBytes: Type.Integer({
              minimum: 1,
              default: 2 * 1024 * 1024 * 1024,
              description:
                "Uncompressed bytes read out of one archive on disk, nested archives included; past it the rest is skipped.",
            }),
            maxRatio: Type.Number({
              minimum: 1,
              default: 100,
              description:
                "Largest compression ratio accepted for an entry or gzip stream over 1 MiB; past it the rest of that archive is skipped.",
            }),
            maxEntries: Type.Integer({
              minimum: 1,
              default: 100000,
              description:
                "Entries read out of one archive on disk, nested ones included; past it the rest is skipped.",
            }),
          },
          { default: {}, additionalProperties: false },
        ),
        jobs: Type.Integer({
          minimum: 0,
          maximum: 256,
          default: 0,
          description:
            "Worker threads running detection: 0 means one per available core; 1 scans in the main thread only.",
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    detect: Type.Object(
      {
        minConfidence: Type.Number({
          minimum: 0,
          maximum: 1,
          default: 0.12,
          description:
            "Findings below this confidence are dropped unless --all is given. The default is the classifier's threshold (docs/model.md).",
        }),
        disabledRules: Type.Array(Type.String(), {
          default: [],
          description: "Built-in rule ids to turn off.",
        }),
        rules: Type.Array(UserRuleSchema, {
          default: [],
          description: "User-defined rules ([[detect.rules]]).",
        }),
        allowlist: Type.Object(
          {
            paths: Type.Array(Type.String(), {
              default: [],
              description: "Regexes of file paths whose findings are dropped.",
            }),
            regexes: Type.Array(Type.String(), {
              default: [],
              description: "Regexes of secret values that are dropped.",
            }),
            stopwords: Type.Array(Type.String(), {
              default: [],
              description: "A finding whose secret contains one of these words is dropped.",
            }),
          },
          { default: {}, additionalProperties: false },
        ),
        decode: Type.Object(
          {
            depth: Type.Integer({
              minimum: 0,
              maximum: 3,
              default: 1,
              description:
                "Layers of encoding (base64 blobs, %XX, escapes) decoded and scanned again; 0 scans the plain text only.",
            }),
            decoders: Type.Array(Type.Union(DECODER_NAMES.map((d) => Type.Literal(d))), {
              default: [...DECODER_NAMES],
              description: `Decoders used: ${DECODER_NAMES.join(", ")}.`,
            }),
          },
          { default: {}, additionalProperties: false },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
    verify: Type.Object(
      {
        enabled: Type.Boolean({
          default: false,
          description:
            "Check each finding with one read-only call to its provider (also `scan --verify`); no request is ever sent otherwise.",
        }),
        concurrency: Type.Integer({
          minimum: 1,
          maximum: 64,
          default: 8,
          description: "Verification requests in flight at once.",
        }),
        timeoutMs: Type.Integer({
          minimum: 1,
          maximum: 600000,
          default: 10000,
          description:
            "Time limit of one verification request in milliseconds; past it the finding is unknown.",
        }),
        deadlineMs: Type.Integer({
          minimum: 1,
          maximum: 3600000,
          default: 60000,
          description:
            "Time limit of all verification in one scan in milliseconds; findings not verified by then are unknown.",
        }),
        baseUrls: Type.Object(
          {
            aws: Type.String({
              default: "",
              description: "Base URL for verifying AWS STS keys; empty means https://sts.amazonaws.com.",
            }),
            github: Type.String({
              default: "",
              description: "Base URL for verifying GitHub keys; empty means https://api.github.com.",
            }),
            gitlab: Type.String({
              default: "",
              description: "Base URL for verifying GitLab keys; empty means https://gitlab.com.",
            }),
            slack: Type.String({
              default: "",
              description: "Base URL for verifying Slack keys; empty means https://slack.com.",
            }),
            stripe: Type.String({
              default: "",
              description: "Base URL for verifying Stripe keys; empty means https://api.stripe.com.",
            }),
            openai: Type.String({
              default: "",
              description: "Base URL for verifying OpenAI keys; empty means https://api.openai.com.",
            }),
            anthropic: Type.String({
              default: "",
              description: "Base URL for verifying Anthropic keys; empty means https://api.anthropic.com.",
            }),
            sendgrid: Type.String({
              default: "",
              description: "Base URL for verifying SendGrid keys; empty means https://api.sendgrid.com.",
            }),
            twilio: Type.String({
              default: "",
              description: "Base URL for verifying Twilio keys; empty means https://api.twilio.com.",
            }),
            mailgun: Type.String({
              default: "",
              description: "Base URL for verifying Mailgun keys; empty means https://api.mailgun.net.",
            }),
            npm: Type.String({
              default: "",
              description: "Base URL for verifying npm tokens; empty means https://registry.npmjs.org.",
            }),
            huggingface: Type.String({
              default: "",
              description: "Base URL for verifying Hugging Face keys; empty means https://huggingface.co.",
            }),
            datadog: Type.String({
              default: "",
              description: "Base URL for verifying Datadog keys; empty means https://api.datadoghq.com.",
            }),
            shopify: Type.String({
              default: "",
              description:
                "Base URL for verifying Shopify tokens; empty means https://{shop}, the shop domain found near the token.",
            }),
            discord: Type.String({
              default: "",
              description: "Base URL for verifying Discord keys; empty means https://discord.com.",
            }),
          },
          { default: {}, additionalProperties: false },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
    storage: Type.Object(
      {
        url: Type.String({
          default: "",
          secret: true,
          description: "Database URL: empty for the embedded SQLite file in home, or postgres://...",
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    kms: Type.Object(
      {
        provider: Type.Union(
          [Type.Literal("local"), Type.Literal("env"), Type.Literal("pkcs11"), Type.Literal("aws-kms")],
          {
            default: "local",
            description:
              "Where the key-encryption key lives: local (a passphrase-sealed key file), env (a variable), pkcs11 (an HSM), aws-kms.",
          },
        ),
        local: Type.Object(
          {
            keyFile: Type.String({
              default: "",
              description: "The sealed key file; empty means master.key in Keywarden's home.",
            }),
            argon2: Type.Object(
              {
                memoryKiB: Type.Integer({
                  minimum: 8,
                  maximum: 4 * 1024 * 1024,
                  default: 65536,
                  description:
                    "Argon2id memory cost in KiB used when a key file is created (RFC 9106: 64 MiB).",
                }),
                iterations: Type.Integer({
                  minimum: 1,
                  maximum: 64,
                  default: 3,
                  description: "Argon2id passes.",
                }),
                parallelism: Type.Integer({
                  minimum: 1,
                  maximum: 64,
                  default: 4,
                  description: "Argon2id lanes.",
                }),
              },
              { default: {}, additionalProperties: false },
            ),
          },
          { default: {}, additionalProperties: false },
        ),
        env: Type.Object(
          {
            variable: Type.String({
              minLength: 1,
              pattern: "^[A-Za-z_][A-Za-z0-9_]*$",
              default: "KEYWARDEN_MASTER_KEY",
              description:
                "Variable holding the base64 KEK (version 1); the same name with _V2, _V3... appended holds later versions.",
            }),
          },
          { default: {}, additionalProperties: false },
        ),
        pkcs11: Type.Object(
          {
            module: Type.String({
              default: "/usr/lib/softhsm/libsofthsm2.so",
              description: "The PKCS#11 library.",
            }),
            tokenLabel: Type.String({
              default: "keywarden",
              description: "Label of the token holding the KEK.",
            }),
            pin: Type.String({ default: "", secret: true, description: "User PIN of the token." }),
            keyLabel: Type.String({
              minLength: 1,
              default: "keywarden-kek",
              description: "KEK objects on the token are labelled with this, then -v1, -v2...",
            }),
          },
          { default: {}, additionalProperties: false },
        ),
        awsKms: Type.Object(
          {
            keyId: Type.String({ default: "", description: "KMS key id, ARN or alias of KEK version 1." }),
            region: Type.String({
              default: "",
              description: "AWS region; empty means the SDK's default (AWS_REGION).",
            }),
            endpoint: Type.String({ default: "", description: "KMS endpoint URL; empty means AWS's own." }),
          },
          { default: {}, additionalProperties: false },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
    access: Type.Object(
      {
        tokenTtl: Type.Integer({
          minimum: 60,
          default: 30 * 24 * 3600,
          description: "Life of a new API token in seconds when none is asked (30 days).",
        }),
        tokenMaxTtl: Type.Integer({
          minimum: 60,
          default: 90 * 24 * 3600,
          description: "Longest life in seconds a token may be given; longer requests are refused.",
        }),
        childTokenMaxMinutes: Type.Integer({
          minimum: 1,
          maximum: 24 * 60,
          default: 60,
          description: "Longest life in minutes of a child token (CI jobs); never beyond its parent.",
        }),
        lockoutThreshold: Type.Integer({
          minimum: 1,
          default: 5,
          description: "Failed logins in a row before an account is locked.",
        }),
        lockoutBaseSeconds: Type.Integer({
          minimum: 1,
          default: 30,
          description: "First lockout in seconds; it doubles with every further failure.",
        }),
        lockoutMaxSeconds: Type.Integer({
          minimum: 1,
          default: 3600,
          description: "Longest lockout in seconds.",
        }),
        sessionIdleMinutes: Type.Integer({
          minimum: 1,
          default: 30,
          description: "A dashboard session unused this long expires.",
        }),
        sessionMaxHours: Type.Integer({
          minimum: 1,
          default: 12,
          description: "A dashboard session expires this long after login, used or not.",
        }),
        oidc: Type.Array(
          Type.Object(
            {
              identity: Type.String({ minLength: 1, description: "The machine identity a login acts as." }),
              issuer: Type.String({
                minLength: 1,
                description: "The JWT issuer (`iss`), e.g. https://token.actions.githubusercontent.com.",
              }),
              audience: Type.String({
                minLength: 1,
                description: "The audience the JWT must be for (`aud`).",
              }),
              claims: Type.Record(Type.String(), Type.String(), {
                description:
                  'Claims the JWT must carry, each matching its pattern (`*`: any run of characters), e.g. repository = "acme/payments"; a list claim matches when one item does, and a name starting with / is a JSON pointer into nested claims, e.g. "/kubernetes.io/namespace" = "payments".',
              }),
              policies: Type.Array(Type.String({ minLength: 1 }), {
                description: "Policies of the token a login gets; the identity must hold each.",
              }),
              ttlMinutes: Type.Integer({
                minimum: 1,
                maximum: 24 * 60,
                default: 15,
                description: "Life in minutes of the token a login gets.",
              }),
              jwksUrl: Type.String({
                default: "",
                description: "Where the issuer's keys are; empty: from its OIDC discovery document.",
              }),
              singleUse: Type.Boolean({
                default: false,
                description:
                  "Each JWT logs in once (a JWT copied from a job's log after use gets nothing): for platforms that issue a JWT per login, such as GitHub Actions; not for a pod's service account token or a GitLab job's id token used by several commands.",
              }),
            },
            { additionalProperties: false },
          ),
          {
            default: [],
            description:
              "OIDC trusts: a CI job's JWT from `issuer` with these claims logs in as `identity` (POST /api/v1/auth/oidc, Vault's /v1/auth/jwt/login) and gets a short-lived token.",
          },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
    server: Type.Object(
      {
        host: Type.String({
          default: "127.0.0.1",
          description: "Address `keywarden serve` listens on; 0.0.0.0 or :: for every interface.",
        }),
        port: Type.Integer({
          minimum: 0,
          maximum: 65535,
          default: 8443,
          description: "TCP port (0: any free port).",
        }),
        tlsCert: Type.String({
          default: "",
          description:
            "PEM certificate file; empty means a self-signed one generated in home on first start.",
        }),
        tlsKey: Type.String({ default: "", description: "PEM private key file of tlsCert." }),
        bodyLimit: Type.Integer({
          minimum: 1024,
          maximum: 16 * 1024 * 1024,
          default: 256 * 1024,
          description: "Largest request body in bytes; larger ones get 413.",
        }),
        rateLimit: Type.Integer({
          minimum: 1,
          default: 6000,
          description: "Requests per minute allowed from one IP address.",
        }),
        authFailureLimit: Type.Integer({
          minimum: 1,
          default: 30,
          description: "Failed authentications per minute allowed from one IP address before 429.",
        }),
        unsealRateLimit: Type.Integer({
          minimum: 1,
          default: 5,
          description:
            "Unseal attempts over HTTP (POST /api/v1/sys/unseal) per minute allowed from one IP address.",
        }),
        trustProxy: Type.Boolean({
          default: false,
          description: "Take the client address from X-Forwarded-For (only behind a proxy you run).",
        }),
        auditCheckpointSeconds: Type.Integer({
          minimum: 1,
          maximum: 86_400,
          default: 60,
          description:
            "How often a running server signs the audit log's head into the checkpoint file (entries after the last signature are chained but unsigned).",
        }),
      },
      { default: {}, additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type UserRule = Static<typeof UserRuleSchema>;

/** A schema node as seen when walking the schema generically. */
export type SchemaNode = TSchema & {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly items?: SchemaNode;
  readonly anyOf?: readonly SchemaNode[];
  readonly const?: unknown;
  readonly default?: unknown;
  readonly description?: string;
  readonly secret?: boolean;
};

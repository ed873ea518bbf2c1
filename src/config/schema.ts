import Type, { type Static, type TSchema } from "typebox";
import { LOG_LEVELS } from "../core/logger.ts";

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
      },
      { default: {}, additionalProperties: false },
    ),
    detect: Type.Object(
      {
        minConfidence: Type.Number({
          minimum: 0,
          maximum: 1,
          default: 0.5,
          description: "Findings below this confidence are dropped unless --all is given.",
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

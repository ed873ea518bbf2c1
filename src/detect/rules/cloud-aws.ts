import type { Rule } from "../rule.ts";
import { notExample } from "./cloud-shared.ts";

const IAM_REMEDIATION =
  "Deactivate then delete the key in the IAM console (Users > Security credentials) or with `aws iam update-access-key --status Inactive` and `aws iam delete-access-key`, and review CloudTrail for its use; issue a new key (or move to roles) and store it in a vault.";
const IAM_DOCS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html";
const BEDROCK_DOCS = "https://docs.aws.amazon.com/bedrock/latest/userguide/api-keys.html";

/**
 * Amazon Web Services: IAM access keys, STS session tokens and Amazon Bedrock API keys.
 *
 * @example
 *   awsRules.map((r) => r.id) // ["aws-access-key-id", ...]
 */
export const awsRules: readonly Rule[] = [
  {
    id: "aws-access-key-id",
    provider: "AWS",
    description:
      "AWS access key ID (AKIA long-term, ASIA temporary, ABIA/ACCA service keys), the public half of an IAM key pair.",
    keywords: ["akia", "asia", "abia", "acca"],
    pattern: /\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b/,
    secretGroup: 1,
    entropy: 3,
    validate: notExample,
    severity: "high",
    remediation: IAM_REMEDIATION,
    docs: IAM_DOCS,
    examples: {
      positives: (gen) => {
        const b32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        const a = `AKIA${gen.chars(b32, 16)}`;
        const b = `ASIA${gen.chars(b32, 16)}`;
        const c = `AKIA${gen.chars(b32, 16)}`;
        return [
          { text: `[default]\naws_access_key_id = ${a}`, secret: a },
          {
            text: `{"Credentials": {"AccessKeyId": "${b}", "Expiration": "2025-06-01T12:00:00Z"}}`,
            secret: b,
          },
          { text: `s3 = boto3.client("s3", aws_access_key_id="${c}")`, secret: c },
        ];
      },
      negatives: [
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        "Access key IDs begin with AKIA (long-term) or ASIA (temporary).",
        "AWS_ACCESS_KEY_ID=AKIAXXXXXXXXXXXXXXXX",
      ],
    },
  },
  {
    id: "aws-secret-access-key",
    provider: "AWS",
    description:
      "AWS secret access key (40 base64 characters) assigned to an aws_secret / SecretAccessKey name or in a Terraform aws provider block.",
    keywords: ["aws", "access_key", "accesskey", "access-key"],
    pattern:
      /(?:aws[\w.-]{0,20}secret[\w.-]{0,20}|secret[_-]?access[_-]?key|provider\s{1,3}"aws"\s{0,3}\{[^}]{0,300}?secret_key)[\s'"]{0,3}[:=]{1,2}>?[\s'"]{0,5}([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/i,
    secretGroup: 1,
    entropy: 4,
    validate: notExample,
    severity: "critical",
    remediation: IAM_REMEDIATION,
    docs: IAM_DOCS,
    examples: {
      positives: (gen) => {
        const [a, b, c] = [gen.base64(40), gen.base64(40), gen.base64(40)];
        return [
          { text: `export AWS_SECRET_ACCESS_KEY=${a}`, secret: a },
          { text: `    "SecretAccessKey": "${b}",`, secret: b },
          { text: `provider "aws" {\n  region     = "eu-west-1"\n  secret_key = "${c}"\n}`, secret: c },
        ];
      },
      negatives: [
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY}",
        'aws_secret_access_key: "<your-secret-access-key>"',
      ],
    },
  },
  {
    id: "aws-session-token",
    provider: "AWS",
    description: "AWS STS session token assigned to aws_session_token, SessionToken or X-Amz-Security-Token.",
    keywords: ["session_token", "sessiontoken", "session-token", "security-token"],
    pattern:
      /(?:aws[_-]?session[_-]?token|x-amz-security-token|"sessiontoken")[\s'"]{0,3}[:=]{1,2}>?[\s'"]{0,5}([A-Za-z0-9/+%]{100,2000}={0,2})(?![A-Za-z0-9/+%=])/i,
    window: { before: 128, after: 2200 },
    secretGroup: 1,
    entropy: 4,
    validate: notExample,
    severity: "high",
    remediation:
      "Session tokens expire on their own, but revoke early by attaching the AWSRevokeOlderSessions policy (IAM console > role > Revoke active sessions) and rotate the keys of the principal that minted it; store new credentials in a vault.",
    docs: "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_revoke-sessions.html",
    examples: {
      positives: (gen) => {
        const a = `IQoJb3JpZ2luX2Vj${gen.base64(600)}`;
        const b = `FwoGZXIvYXdzE${gen.base64(340)}`;
        const c = `IQoJb3JpZ2luX2Vj${gen.base64(700)}==`;
        return [
          { text: `export AWS_SESSION_TOKEN="${a}"`, secret: a },
          { text: `[dev]\naws_session_token = ${b}`, secret: b },
          { text: `    "SessionToken": "${c}",`, secret: c },
        ];
      },
      negatives: ["AWS_SESSION_TOKEN=${AWS_SESSION_TOKEN}", 'aws_session_token: "<temporary-session-token>"'],
    },
  },
  {
    id: "aws-bedrock-api-key",
    provider: "AWS",
    description: "Amazon Bedrock long-term API key (ABSK followed by base64).",
    keywords: ["absk"],
    pattern: /\b(ABSK[A-Za-z0-9+/]{100,300}={0,2})(?![A-Za-z0-9+/=])/,
    secretGroup: 1,
    entropy: 4,
    severity: "critical",
    remediation:
      "Delete the key in the Amazon Bedrock console (API keys) or delete the IAM user's service-specific credential with `aws iam delete-service-specific-credential`; issue a new key (prefer short-term keys) and store it in a vault.",
    docs: BEDROCK_DOCS,
    examples: {
      positives: (gen) => {
        const make = (): string =>
          "ABSK" +
          Buffer.from(`BedrockAPIKey-${gen.lowerAlnum(4)}-at-${gen.digits(12)}:${gen.base64(60)}`).toString(
            "base64",
          );
        const [a, b] = [make(), make()];
        return [
          { text: `export AWS_BEARER_TOKEN_BEDROCK=${a}`, secret: a },
          { text: `client = BedrockClient(api_key="${b}")`, secret: b },
        ];
      },
      negatives: ["AWS_BEARER_TOKEN_BEDROCK=ABSK...", "Long-term Bedrock keys start with ABSK."],
    },
  },
  {
    id: "aws-bedrock-short-term-api-key",
    provider: "AWS",
    description: "Amazon Bedrock short-term API key (bedrock-api-key- followed by a base64 presigned URL).",
    keywords: ["bedrock-api-key-"],
    pattern:
      /\b(bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/]{100,4000}={0,2})(?![A-Za-z0-9+/=])/,
    window: { before: 128, after: 4200 },
    secretGroup: 1,
    entropy: 4,
    severity: "high",
    remediation:
      "The key expires with the session that signed it (at most 12 hours); revoke that role's sessions (IAM > role > Revoke active sessions), then mint a new key and keep it in a vault.",
    docs: BEDROCK_DOCS,
    examples: {
      positives: (gen) => {
        const make = (): string => {
          const url =
            `bedrock.amazonaws.com/?Action=CallWithBearerToken&X-Amz-Algorithm=AWS4-HMAC-SHA256` +
            `&X-Amz-Credential=ASIA${gen.upperAlnum(16)}%2F20250701%2Fus-east-1%2Fbedrock%2Faws4_request` +
            `&X-Amz-Date=20250701T101500Z&X-Amz-Expires=43200&X-Amz-Security-Token=${gen.base64(400)}` +
            `&X-Amz-Signature=${gen.hex(64)}&X-Amz-SignedHeaders=host&Version=1`;
          return `bedrock-api-key-${Buffer.from(url).toString("base64")}`;
        };
        const [a, b] = [make(), make()];
        return [
          { text: `AWS_BEARER_TOKEN_BEDROCK=${a}`, secret: a },
          { text: `headers = {"Authorization": "Bearer ${b}"}`, secret: b },
        ];
      },
      negatives: ["AWS_BEARER_TOKEN_BEDROCK=bedrock-api-key-<generated-at-runtime>"],
    },
  },
];

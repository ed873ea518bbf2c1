import type { Rule } from "../rule.ts";
import type { VerifySpec } from "../verify.ts";
import { ASSIGN, assigned, b64, notExample, place } from "./shared.ts";

const IAM_REMEDIATION =
  "Deactivate then delete the key in the IAM console (Users > Security credentials) or with `aws iam update-access-key --status Inactive` and `aws iam delete-access-key`, and review CloudTrail for its use; issue a new key (or move to roles) and store it in a vault.";
const IAM_DOCS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html";
const BEDROCK_DOCS = "https://docs.aws.amazon.com/bedrock/latest/userguide/api-keys.html";
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/**
 * STS GetCallerIdentity needs no IAM permission and changes nothing: 200 with the caller's
 * ARN for a working pair; 403 InvalidClientTokenId when the key id does not exist (deleted);
 * 403 SignatureDoesNotMatch when the secret is not that key id's. `Accept: application/json`
 * makes STS answer in JSON; the body patterns accept its XML form too.
 */
const AWS_VERIFY: VerifySpec = {
  provider: "aws",
  baseUrl: "https://sts.amazonaws.com",
  method: "POST",
  path: "/",
  headers: { accept: "application/json" },
  body: {
    contentType: "application/x-www-form-urlencoded; charset=utf-8",
    text: "Action=GetCallerIdentity&Version=2011-06-15",
  },
  auth: { kind: "aws-sigv4", service: "sts", region: "us-east-1" },
  inputs: [
    // Temporary ASIA keys also need their session token; they expire on their own anyway.
    { name: "accessKeyId", label: "long-term access key id", rule: "aws-access-key-id", accept: /^AKIA/ },
  ],
  outcomes: [
    { status: [200], result: "live" },
    { status: [403], body: /InvalidClientTokenId/, result: "revoked" },
    {
      status: [403],
      body: /SignatureDoesNotMatch/,
      result: "unknown",
      reason: "secret does not match the access key id near it",
    },
  ],
  docs: "https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html",
  note: "Pairs the secret with the nearest AKIA key id in the same file.",
};

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
      positives: (gen) =>
        place(
          [`AKIA${gen.chars(BASE32, 16)}`, `ASIA${gen.chars(BASE32, 16)}`, `AKIA${gen.chars(BASE32, 16)}`],
          [
            (s) => `[default]\naws_access_key_id = ${s}`,
            (s) => `{"Credentials": {"AccessKeyId": "${s}", "Expiration": "2025-06-01T12:00:00Z"}}`,
            (s) => `s3 = boto3.client("s3", aws_access_key_id="${s}")`,
          ],
        ),
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
    pattern: assigned({
      context: String.raw`aws[\w.-]{0,20}secret|secret[_-]?access[_-]?key|provider\s{1,3}"aws"\s{0,3}\{[^}]{0,300}?secret_key`,
      value: "[A-Za-z0-9/+]{40}",
      end: "(?![A-Za-z0-9/+=])",
    }),
    secretGroup: 1,
    entropy: 4,
    validate: notExample,
    severity: "critical",
    remediation: IAM_REMEDIATION,
    docs: IAM_DOCS,
    verify: AWS_VERIFY,
    examples: {
      positives: (gen) =>
        place(
          () => gen.base64(40),
          [
            (s) => `export AWS_SECRET_ACCESS_KEY=${s}`,
            (s) => `    "SecretAccessKey": "${s}",`,
            (s) => `provider "aws" {\n  region     = "eu-west-1"\n  secret_key = "${s}"\n}`,
          ],
        ),
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
    pattern: new RegExp(
      String.raw`(?:aws[_-]?session[_-]?token|x-amz-security-token|"sessiontoken")${ASSIGN}([A-Za-z0-9/+%]{100,2000}={0,2})(?![A-Za-z0-9/+%=])`,
      "i",
    ),
    window: { before: 128, after: 2200 },
    secretGroup: 1,
    entropy: 4,
    validate: notExample,
    severity: "high",
    remediation:
      "Session tokens expire on their own, but revoke early by attaching the AWSRevokeOlderSessions policy (IAM console > role > Revoke active sessions) and rotate the keys of the principal that minted it; store new credentials in a vault.",
    docs: "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_revoke-sessions.html",
    examples: {
      positives: (gen) =>
        place(
          [
            `IQoJb3JpZ2luX2Vj${gen.base64(600)}`,
            `FwoGZXIvYXdzE${gen.base64(340)}`,
            `IQoJb3JpZ2luX2Vj${gen.base64(700)}==`,
          ],
          [
            (s) => `export AWS_SESSION_TOKEN="${s}"`,
            (s) => `[dev]\naws_session_token = ${s}`,
            (s) => `    "SessionToken": "${s}",`,
          ],
        ),
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
      positives: (gen) =>
        place(
          () => `ABSK${b64(`BedrockAPIKey-${gen.lowerAlnum(4)}-at-${gen.digits(12)}:${gen.base64(60)}`)}`,
          [(s) => `export AWS_BEARER_TOKEN_BEDROCK=${s}`, (s) => `client = BedrockClient(api_key="${s}")`],
        ),
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
          return `bedrock-api-key-${b64(url)}`;
        };
        return place(make, [
          (s) => `AWS_BEARER_TOKEN_BEDROCK=${s}`,
          (s) => `headers = {"Authorization": "Bearer ${s}"}`,
        ]);
      },
      negatives: ["AWS_BEARER_TOKEN_BEDROCK=bedrock-api-key-<generated-at-runtime>"],
    },
  },
];

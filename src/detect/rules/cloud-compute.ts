import type { Rule } from "../rule.ts";
import {
  assigned,
  assignmentExamples,
  END_BASE64,
  place,
  placeholderNegatives,
  prefixedRule,
  type TokenFamily,
  UUID,
} from "./shared.ts";

const DIGITALOCEAN: TokenFamily = {
  provider: "DigitalOcean",
  body: "[a-f0-9]{64}",
  end: String.raw`\b`,
  example: (gen) => gen.hex(64),
  entropy: 3,
};
const DIGITALOCEAN_OAUTH_REMEDIATION =
  "Revoke it with POST https://cloud.digitalocean.com/v1/oauth/revoke (or remove the application under API > Applications / Authorized applications), then reauthorize and store the new token in a vault.";
const DIGITALOCEAN_OAUTH_DOCS = "https://docs.digitalocean.com/reference/api/oauth/";

const ALIBABA_CLOUD_REMEDIATION =
  "Disable then delete the AccessKey in the RAM console (Identities > Users > user > AccessKey), check ActionTrail for its use, then create a new AccessKey (or use RAM roles and STS) and store it in a vault.";
const ALIBABA_CLOUD_DOCS = "https://www.alibabacloud.com/help/en/ram/user-guide/create-an-accesskey-pair";
const TENCENT_CLOUD_REMEDIATION =
  "Disable then delete the key in the CAM console (Access management > API Keys), check CloudAudit for its use, then create a new key (or use roles) and store it in a vault.";
const TENCENT_CLOUD_DOCS = "https://www.tencentcloud.com/document/product/598/32675";
const ORACLE_CLOUD_DOCS = "https://docs.oracle.com/en-us/iaas/Content/Identity/Tasks/managingcredentials.htm";
const SCALEWAY_REMEDIATION =
  "Delete the API key in the Scaleway console (IAM > API keys) or with `scw iam api-key delete`, then create a new one bound to a least-privilege policy and store it in a vault.";
const SCALEWAY_DOCS = "https://www.scaleway.com/en/docs/iam/how-to/create-api-keys/";

/**
 * Infrastructure clouds beyond the big three: DigitalOcean, Alibaba, Tencent, IBM, Oracle,
 * Huawei, Yandex, Linode, Vultr, Scaleway, Hetzner, OVHcloud, Backblaze.
 *
 * @example
 *   computeRules.find((r) => r.id === "digitalocean-personal-access-token")
 */
export const computeRules: readonly Rule[] = [
  prefixedRule(DIGITALOCEAN, {
    id: "digitalocean-personal-access-token",
    prefix: "dop_v1_",
    description: "DigitalOcean personal access token (dop_v1_ followed by 64 hex digits).",
    severity: "critical",
    remediation:
      "Delete the token in the DigitalOcean control panel (API > Tokens), review the account's security history, then generate a new scoped token with an expiry and store it in a vault.",
    docs: "https://docs.digitalocean.com/reference/api/create-personal-access-token/",
    lines: [
      (s) => `export DIGITALOCEAN_ACCESS_TOKEN=${s}`,
      (s) => `provider "digitalocean" {\n  token = "${s}"\n}`,
    ],
    negatives: [
      "DIGITALOCEAN_ACCESS_TOKEN=dop_v1_<token>",
      "Tokens look like dop_v1_ followed by 64 hex characters.",
    ],
  }),
  prefixedRule(DIGITALOCEAN, {
    id: "digitalocean-oauth-access-token",
    prefix: "doo_v1_",
    description: "DigitalOcean OAuth access token (doo_v1_ followed by 64 hex digits).",
    severity: "high",
    remediation: DIGITALOCEAN_OAUTH_REMEDIATION,
    docs: DIGITALOCEAN_OAUTH_DOCS,
    lines: [
      (s) => `{"access_token": "${s}", "token_type": "bearer", "expires_in": 2592000}`,
      (s) => `curl -H "Authorization: Bearer ${s}" https://api.digitalocean.com/v2/droplets`,
    ],
    negatives: ["Authorization: Bearer doo_v1_..."],
  }),
  prefixedRule(DIGITALOCEAN, {
    id: "digitalocean-oauth-refresh-token",
    prefix: "dor_v1_",
    description: "DigitalOcean OAuth refresh token (dor_v1_ followed by 64 hex digits).",
    severity: "high",
    remediation: DIGITALOCEAN_OAUTH_REMEDIATION,
    docs: DIGITALOCEAN_OAUTH_DOCS,
    lines: [(s) => `{"access_token": "...", "refresh_token": "${s}"}`, (s) => `DO_REFRESH_TOKEN=${s}`],
    negatives: ['"refresh_token": "dor_v1_<refresh-token>"'],
  }),
  {
    id: "alibaba-access-key-id",
    provider: "Alibaba Cloud",
    description: "Alibaba Cloud AccessKey ID (LTAI followed by 12 to 20 characters).",
    keywords: ["ltai"],
    pattern: /\b(LTAI[A-Za-z0-9]{12,20})\b/,
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation: ALIBABA_CLOUD_REMEDIATION,
    docs: ALIBABA_CLOUD_DOCS,
    examples: {
      positives: (gen) =>
        place(
          [`LTAI${gen.alnum(20)}`, `LTAI${gen.alnum(16)}`],
          [
            (s) => `ALIBABA_CLOUD_ACCESS_KEY_ID=${s}`,
            (s) => `config = Config(access_key_id="${s}", endpoint="ecs.cn-hangzhou.aliyuncs.com")`,
          ],
        ),
      negatives: ["ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI<your-access-key-id>", "AccessKey IDs start with LTAI."],
    },
  },
  {
    id: "alibaba-access-key-secret",
    provider: "Alibaba Cloud",
    description:
      "Alibaba Cloud AccessKey secret (30 characters) next to an alibaba / aliyun / accessKeySecret name.",
    keywords: ["alibaba", "aliyun", "alicloud", "accesskeysecret", "access_key_secret", "access-key-secret"],
    pattern: assigned({
      context: String.raw`(?:alibaba|aliyun|alicloud)[\w.-]{0,30}secret|access[_-]?key[_-]?secret`,
      value: "[A-Za-z0-9]{30}",
    }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation: ALIBABA_CLOUD_REMEDIATION,
    docs: ALIBABA_CLOUD_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => gen.alnum(30),
          [
            (s) => `ALIBABA_CLOUD_ACCESS_KEY_SECRET=${s}`,
            (s) => `  accessKeySecret: '${s}',`,
            (s) => `aliyun_secret = "${s}"`,
          ],
        ),
      negatives: placeholderNegatives("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
    },
  },
  {
    id: "tencent-cloud-secret-id",
    provider: "Tencent Cloud",
    description: "Tencent Cloud API SecretId (AKID followed by 32 characters).",
    keywords: ["akid"],
    pattern: /\b(AKID[A-Za-z0-9]{32})\b/,
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation: TENCENT_CLOUD_REMEDIATION,
    docs: TENCENT_CLOUD_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `AKID${gen.alnum(32)}`,
          [
            (s) => `TENCENTCLOUD_SECRET_ID=${s}`,
            (s) => `cred = credential.Credential("${s}", os.environ["TENCENTCLOUD_SECRET_KEY"])`,
          ],
        ),
      negatives: ["TENCENTCLOUD_SECRET_ID=AKID<secret-id>", "SecretIds start with AKID."],
    },
  },
  {
    id: "tencent-cloud-secret-key",
    provider: "Tencent Cloud",
    description: "Tencent Cloud API SecretKey (32 characters) next to a tencent / qcloud name.",
    keywords: ["tencent", "qcloud"],
    pattern: assigned({ context: "tencent|qcloud", name: "secret[_-]?key", value: "[A-Za-z0-9]{32}" }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation: TENCENT_CLOUD_REMEDIATION,
    docs: TENCENT_CLOUD_DOCS,
    examples: assignmentExamples("TENCENTCLOUD_SECRET_KEY", (gen) => gen.alnum(32)),
  },
  {
    id: "ibm-cloud-api-key",
    provider: "IBM Cloud",
    description: "IBM Cloud IAM API key (44 characters) next to an ibm / bluemix / IC_API_KEY name.",
    keywords: ["ibm", "bluemix", "ic_api"],
    pattern: assigned({
      context: String.raw`(?:ibm|bluemix)[\w.-]{0,20}api[_-]?key|\bic_api_?key`,
      value: "[A-Za-z0-9_-]{44}",
    }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Delete the key in IBM Cloud (Manage > Access (IAM) > API keys) or with `ibmcloud iam api-key-delete NAME`, check Activity Tracker for its use, then create a new key (or use a trusted profile) and store it in a vault.",
    docs: "https://cloud.ibm.com/docs/account?topic=account-userapikey",
    examples: assignmentExamples("IBMCLOUD_API_KEY", (gen) => gen.base64url(44), [
      "IC_API_KEY=${IC_API_KEY}",
    ]),
  },
  {
    id: "oracle-cloud-auth-token",
    provider: "Oracle Cloud",
    description:
      "Oracle Cloud Infrastructure auth token (20 characters) next to an oci / oracle auth_token name.",
    keywords: ["oracle", "oci"],
    pattern: assigned({
      context: "oracle|(?:^|[^A-Za-z])oci",
      name: "auth[_-]?token",
      value: String.raw`[A-Za-z0-9+()[\]:;.#_~-]{20}`,
      end: String.raw`(?=["'\s,]|$)`,
      flags: "im",
    }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the token in the OCI Console (Identity > Users > user > Auth Tokens) or with `oci iam auth-token delete`, then generate a new one and store it in a vault.",
    docs: ORACLE_CLOUD_DOCS,
    examples: {
      positives: (gen) => {
        const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+()[]:;.#_~-";
        return place(
          () => gen.chars(chars, 20),
          [(s) => `OCI_AUTH_TOKEN="${s}"`, (s) => `oracle_auth_token: '${s}'`],
        );
      },
      negatives: placeholderNegatives("OCI_AUTH_TOKEN"),
    },
  },
  {
    id: "oracle-cloud-customer-secret-key",
    provider: "Oracle Cloud",
    description:
      "Oracle Cloud customer secret key (S3-compatible, 44 base64 characters) next to an oci / oracle secret name.",
    keywords: ["oracle", "oci"],
    pattern: assigned({
      context: String.raw`(?:oracle|(?:^|[^A-Za-z])oci)[\w.-]{0,30}secret`,
      value: "[A-Za-z0-9+/]{43}=",
      end: END_BASE64,
      flags: "im",
    }),
    secretGroup: 1,
    entropy: 4,
    severity: "critical",
    remediation:
      "Delete the key in the OCI Console (Identity > Users > user > Customer Secret Keys) or with `oci iam customer-secret-key delete`, then generate a new one and store it in a vault.",
    docs: ORACLE_CLOUD_DOCS,
    examples: assignmentExamples("OCI_SECRET_ACCESS_KEY", (gen) => gen.base64Bytes(32)),
  },
  {
    id: "huawei-cloud-secret-access-key",
    provider: "Huawei Cloud",
    description: "Huawei Cloud secret access key (SK, 40 characters) next to a huawei / hwcloud name.",
    keywords: ["huawei", "hwcloud"],
    pattern: assigned({
      context: "huawei|hwcloud",
      name: "secret[_-]?(?:access[_-]?)?key|sk",
      value: "[A-Za-z0-9]{40}",
    }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Delete the access key in the Huawei Cloud console (My Credentials > Access Keys), check Cloud Trace Service for its use, then create a new key (or use agencies and temporary credentials) and store it in a vault.",
    docs: "https://support.huaweicloud.com/intl/en-us/usermanual-ca/ca_01_0003.html",
    examples: assignmentExamples("HUAWEICLOUD_SDK_SK", (gen) => gen.alnum(40)),
  },
  {
    id: "yandex-cloud-api-key",
    provider: "Yandex Cloud",
    description: "Yandex Cloud service-account API key (AQVN followed by 35 to 38 characters).",
    keywords: ["aqvn"],
    pattern: /\b(AQVN[A-Za-z0-9_-]{35,38})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the key in the Yandex Cloud console (service account > API keys) or with `yc iam api-key delete`, then create a new one and store it in a vault.",
    docs: "https://yandex.cloud/en/docs/iam/concepts/authorization/api-key",
    examples: {
      positives: (gen) =>
        place(
          [`AQVN${gen.base64url(36)}`, `AQVN${gen.base64url(38)}`],
          [(s) => `YC_API_KEY=${s}`, (s) => `headers = {"Authorization": "Api-Key ${s}"}`],
        ),
      negatives: ["Authorization: Api-Key AQVN<api-key>"],
    },
  },
  {
    id: "yandex-cloud-iam-token",
    provider: "Yandex Cloud",
    description: "Yandex Cloud IAM token (t1. followed by two base64url parts, the second 86 characters).",
    keywords: ["t1."],
    pattern: /\b(t1\.[A-Za-z0-9_-]{20,200}={0,2}\.[A-Za-z0-9_-]{86}={0,2})(?![A-Za-z0-9_=-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "medium",
    remediation:
      "IAM tokens live at most 12 hours; revoke early with `yc iam revoke-token` (or by deleting the key that issued it), then obtain a fresh token at run time instead of storing one.",
    docs: "https://yandex.cloud/en/docs/iam/concepts/authorization/iam-token",
    examples: {
      positives: (gen) =>
        place(
          () => `t1.${gen.base64url(120)}.${gen.base64url(86)}`,
          [
            (s) => `export YC_TOKEN=${s}`,
            (s) =>
              `curl -H "Authorization: Bearer ${s}" https://resource-manager.api.cloud.yandex.net/resource-manager/v1/clouds`,
          ],
        ),
      negatives: ["Authorization: Bearer t1.<iam-token>"],
    },
  },
  {
    id: "linode-personal-access-token",
    provider: "Linode (Akamai Cloud)",
    description: "Linode / Akamai Cloud personal access token (64 hex digits) next to a linode name.",
    keywords: ["linode"],
    pattern: assigned({ context: "linode", name: "token|pat|key", value: "[a-f0-9]{64}" }),
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Revoke the token in Cloud Manager (My Profile > API Tokens > Revoke) or with `linode-cli profile token-delete`, then create a new token with the least scopes and an expiry and store it in a vault.",
    docs: "https://techdocs.akamai.com/cloud-computing/docs/manage-personal-access-tokens",
    examples: assignmentExamples("LINODE_TOKEN", (gen) => gen.hex(64)),
  },
  {
    id: "vultr-api-key",
    provider: "Vultr",
    description: "Vultr API key (36 uppercase characters) next to a vultr name.",
    keywords: ["vultr"],
    pattern: assigned({ context: "vultr", name: "key|token", value: "[A-Z0-9]{36}" }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Regenerate the key in the Vultr customer portal (Account > API > Regenerate), restrict its allowed IP ranges, and store the new key in a vault.",
    docs: "https://www.vultr.com/api/",
    examples: assignmentExamples("VULTR_API_KEY", (gen) => gen.upperAlnum(36)),
  },
  {
    id: "scaleway-access-key",
    provider: "Scaleway",
    description: "Scaleway API access key (SCW followed by 17 characters), the public half of an API key.",
    keywords: ["scw"],
    pattern: /\b(SCW[A-Z0-9]{17})\b/,
    secretGroup: 1,
    entropy: 3,
    severity: "medium",
    remediation: SCALEWAY_REMEDIATION,
    docs: SCALEWAY_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `SCW${gen.upperAlnum(17)}`,
          [(s) => `SCW_ACCESS_KEY=${s}`, (s) => `profiles:\n  prod:\n    access_key: ${s}`],
        ),
      negatives: ["SCW_ACCESS_KEY=SCWXXXXXXXXXXXXXXXXX", "SCW_ACCESS_KEY=<access-key>"],
    },
  },
  {
    id: "scaleway-secret-key",
    provider: "Scaleway",
    description:
      "Scaleway API secret key (a UUID) next to a scaleway / SCW_SECRET_KEY name or after a SCW access key.",
    keywords: ["scaleway", "scw"],
    pattern: assigned({
      context: String.raw`(?:scaleway|\bscw)[\w.-]{0,20}secret|SCW[A-Z0-9]{17}[\s\S]{0,100}?secret_key`,
      value: UUID,
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation: SCALEWAY_REMEDIATION,
    docs: SCALEWAY_DOCS,
    examples: {
      positives: (gen) =>
        place(
          [gen.uuid(), gen.uuid()],
          [
            (s) => `SCW_SECRET_KEY=${s}`,
            (s) => `access_key: SCW${gen.upperAlnum(17)}\nsecret_key: ${s}\ndefault_region: fr-par`,
          ],
        ),
      negatives: [
        ...placeholderNegatives("SCW_SECRET_KEY"),
        "SCW_SECRET_KEY=00000000-0000-0000-0000-000000000000",
      ],
    },
  },
  {
    id: "hetzner-cloud-api-token",
    provider: "Hetzner",
    description: "Hetzner Cloud API token (64 characters) next to a hetzner / hcloud name.",
    keywords: ["hetzner", "hcloud"],
    pattern: assigned({ context: "hetzner|hcloud", name: "token|key", value: "[A-Za-z0-9]{64}" }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Delete the token in the Hetzner Cloud Console (project > Security > API tokens), then create a new one with only the permission it needs and store it in a vault.",
    docs: "https://docs.hetzner.com/cloud/api/getting-started/generating-api-token/",
    examples: assignmentExamples("HCLOUD_TOKEN", (gen) => gen.alnum(64)),
  },
  {
    id: "ovhcloud-application-secret",
    provider: "OVHcloud",
    description:
      "OVHcloud API application secret or consumer key (32 characters) next to an ovh name or in an [ovh-*] section.",
    keywords: ["ovh"],
    pattern: assigned({
      context: String.raw`ovh|\[ovh-[a-z]{2,4}\][\s\S]{0,200}?`,
      name: "application[_-]?secret|app[_-]?secret|consumer[_-]?key",
      value: "[A-Za-z0-9]{32}",
    }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Revoke the application and its consumer keys (DELETE /me/api/application/{id} and /me/api/credential/{id} in the OVHcloud API console), then create new credentials with restricted rights and store them in a vault.",
    docs: "https://help.ovhcloud.com/csm/en-gb-api-getting-started-ovhcloud-api?id=kb_article_view&sysparm_article=KB0042784",
    examples: {
      positives: (gen) =>
        place(
          [gen.alnum(32), gen.alnum(32)],
          [
            (s) => `OVH_APPLICATION_SECRET=${s}`,
            // Only the first secret of an [ovh-*] section is reported: the match consumes the header.
            (s) =>
              `[ovh-eu]\napplication_key=${gen.alnum(16)}\napplication_secret=${s}\nconsumer_key=<from-credential-request>`,
          ],
        ),
      negatives: placeholderNegatives("OVH_CONSUMER_KEY"),
    },
  },
  {
    id: "backblaze-b2-application-key",
    provider: "Backblaze",
    description: "Backblaze B2 application key (31 characters) next to a backblaze / B2 key name.",
    keywords: ["backblaze", "b2_", "b2-", "b2app"],
    pattern: assigned({
      context: String.raw`backblaze|\bb2`,
      name: "application[_-]?key|app[_-]?key",
      value: "[A-Za-z0-9+/]{31}",
      end: END_BASE64,
    }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Delete the key in the Backblaze web UI (App Keys) or with `b2 key delete KEY_ID`, then create a new key restricted to the bucket it needs and store it in a vault.",
    docs: "https://www.backblaze.com/docs/cloud-storage-application-keys",
    examples: assignmentExamples("B2_APPLICATION_KEY", (gen) => `K00${gen.digits(1)}${gen.alnum(27)}`),
  },
];

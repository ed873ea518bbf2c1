import type { Rule } from "../rule.ts";
import { assignmentExamples, placeholderNegatives } from "./cloud-shared.ts";

/**
 * Infrastructure clouds beyond the big three: DigitalOcean, Alibaba, Tencent, IBM, Oracle,
 * Huawei, Yandex, Linode, Vultr, Scaleway, Hetzner, OVHcloud, Backblaze.
 *
 * @example
 *   computeRules.find((r) => r.id === "digitalocean-personal-access-token")
 */
export const computeRules: readonly Rule[] = [
  {
    id: "digitalocean-personal-access-token",
    provider: "DigitalOcean",
    description: "DigitalOcean personal access token (dop_v1_ followed by 64 hex digits).",
    keywords: ["dop_v1_"],
    pattern: /\b(dop_v1_[a-f0-9]{64})\b/,
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Delete the token in the DigitalOcean control panel (API > Tokens), review the account's security history, then generate a new scoped token with an expiry and store it in a vault.",
    docs: "https://docs.digitalocean.com/reference/api/create-personal-access-token/",
    examples: {
      positives: (gen) => {
        const [a, b] = [`dop_v1_${gen.hex(64)}`, `dop_v1_${gen.hex(64)}`];
        return [
          { text: `export DIGITALOCEAN_ACCESS_TOKEN=${a}`, secret: a },
          { text: `provider "digitalocean" {\n  token = "${b}"\n}`, secret: b },
        ];
      },
      negatives: [
        "DIGITALOCEAN_ACCESS_TOKEN=dop_v1_<token>",
        "Tokens look like dop_v1_ followed by 64 hex characters.",
      ],
    },
  },
  {
    id: "digitalocean-oauth-access-token",
    provider: "DigitalOcean",
    description: "DigitalOcean OAuth access token (doo_v1_ followed by 64 hex digits).",
    keywords: ["doo_v1_"],
    pattern: /\b(doo_v1_[a-f0-9]{64})\b/,
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Revoke it with POST https://cloud.digitalocean.com/v1/oauth/revoke (or remove the application under API > Applications / Authorized applications), then reauthorize and store the new token in a vault.",
    docs: "https://docs.digitalocean.com/reference/api/oauth/",
    examples: {
      positives: (gen) => {
        const [a, b] = [`doo_v1_${gen.hex(64)}`, `doo_v1_${gen.hex(64)}`];
        return [
          { text: `{"access_token": "${a}", "token_type": "bearer", "expires_in": 2592000}`, secret: a },
          {
            text: `curl -H "Authorization: Bearer ${b}" https://api.digitalocean.com/v2/droplets`,
            secret: b,
          },
        ];
      },
      negatives: ["Authorization: Bearer doo_v1_..."],
    },
  },
  {
    id: "digitalocean-oauth-refresh-token",
    provider: "DigitalOcean",
    description: "DigitalOcean OAuth refresh token (dor_v1_ followed by 64 hex digits).",
    keywords: ["dor_v1_"],
    pattern: /\b(dor_v1_[a-f0-9]{64})\b/,
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Revoke it with POST https://cloud.digitalocean.com/v1/oauth/revoke (or remove the application under API > Applications / Authorized applications), then reauthorize and store the new token in a vault.",
    docs: "https://docs.digitalocean.com/reference/api/oauth/",
    examples: {
      positives: (gen) => {
        const [a, b] = [`dor_v1_${gen.hex(64)}`, `dor_v1_${gen.hex(64)}`];
        return [
          { text: `{"access_token": "...", "refresh_token": "${a}"}`, secret: a },
          { text: `DO_REFRESH_TOKEN=${b}`, secret: b },
        ];
      },
      negatives: ['"refresh_token": "dor_v1_<refresh-token>"'],
    },
  },
  {
    id: "alibaba-access-key-id",
    provider: "Alibaba Cloud",
    description: "Alibaba Cloud AccessKey ID (LTAI followed by 12 to 20 characters).",
    keywords: ["ltai"],
    pattern: /\b(LTAI[A-Za-z0-9]{12,20})\b/,
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Disable then delete the AccessKey in the RAM console (Identities > Users > user > AccessKey), check ActionTrail for its use, then create a new AccessKey (or use RAM roles and STS) and store it in a vault.",
    docs: "https://www.alibabacloud.com/help/en/ram/user-guide/create-an-accesskey-pair",
    examples: {
      positives: (gen) => {
        const [a, b] = [`LTAI${gen.alnum(20)}`, `LTAI${gen.alnum(16)}`];
        return [
          { text: `ALIBABA_CLOUD_ACCESS_KEY_ID=${a}`, secret: a },
          {
            text: `config = Config(access_key_id="${b}", endpoint="ecs.cn-hangzhou.aliyuncs.com")`,
            secret: b,
          },
        ];
      },
      negatives: ["ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI<your-access-key-id>", "AccessKey IDs start with LTAI."],
    },
  },
  {
    id: "alibaba-access-key-secret",
    provider: "Alibaba Cloud",
    description:
      "Alibaba Cloud AccessKey secret (30 characters) next to an alibaba / aliyun / accessKeySecret name.",
    keywords: ["alibaba", "aliyun", "alicloud", "accesskeysecret", "access_key_secret", "access-key-secret"],
    pattern:
      /(?:(?:alibaba|aliyun|alicloud)[\w.-]{0,30}secret[\w.-]{0,10}|access[_-]?key[_-]?secret)[\s'"]{0,3}[:=]{1,2}>?[\s'"]{0,5}([A-Za-z0-9]{30})(?![A-Za-z0-9])/i,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Disable then delete the AccessKey in the RAM console (Identities > Users > user > AccessKey), check ActionTrail for its use, then create a new AccessKey (or use RAM roles and STS) and store it in a vault.",
    docs: "https://www.alibabacloud.com/help/en/ram/user-guide/create-an-accesskey-pair",
    examples: {
      positives: (gen) => {
        const [a, b, c] = [gen.alnum(30), gen.alnum(30), gen.alnum(30)];
        return [
          { text: `ALIBABA_CLOUD_ACCESS_KEY_SECRET=${a}`, secret: a },
          { text: `  accessKeySecret: '${b}',`, secret: b },
          { text: `aliyun_secret = "${c}"`, secret: c },
        ];
      },
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
    remediation:
      "Disable then delete the key in the CAM console (Access management > API Keys), check CloudAudit for its use, then create a new key (or use roles) and store it in a vault.",
    docs: "https://www.tencentcloud.com/document/product/598/32675",
    examples: {
      positives: (gen) => {
        const [a, b] = [`AKID${gen.alnum(32)}`, `AKID${gen.alnum(32)}`];
        return [
          { text: `TENCENTCLOUD_SECRET_ID=${a}`, secret: a },
          { text: `cred = credential.Credential("${b}", os.environ["TENCENTCLOUD_SECRET_KEY"])`, secret: b },
        ];
      },
      negatives: ["TENCENTCLOUD_SECRET_ID=AKID<secret-id>", "SecretIds start with AKID."],
    },
  },
  {
    id: "tencent-cloud-secret-key",
    provider: "Tencent Cloud",
    description: "Tencent Cloud API SecretKey (32 characters) next to a tencent / qcloud name.",
    keywords: ["tencent", "qcloud"],
    pattern:
      /(?:tencent|qcloud)[\w.-]{0,20}secret[_-]?key[\s'"]{0,3}[:=]{1,2}>?[\s'"]{0,5}([A-Za-z0-9]{32})(?![A-Za-z0-9])/i,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Disable then delete the key in the CAM console (Access management > API Keys), check CloudAudit for its use, then create a new key (or use roles) and store it in a vault.",
    docs: "https://www.tencentcloud.com/document/product/598/32675",
    examples: {
      positives: (gen) =>
        assignmentExamples("TENCENTCLOUD_SECRET_KEY", [gen.alnum(32), gen.alnum(32), gen.alnum(32)]),
      negatives: placeholderNegatives("TENCENTCLOUD_SECRET_KEY"),
    },
  },
  {
    id: "ibm-cloud-api-key",
    provider: "IBM Cloud",
    description: "IBM Cloud IAM API key (44 characters) next to an ibm / bluemix / IC_API_KEY name.",
    keywords: ["ibm", "bluemix", "ic_api"],
    pattern:
      /(?:(?:ibm|bluemix)[\w.-]{0,20}api[_-]?key|\bic_api_?key)[\s'"]{0,3}[:=]{1,2}>?[\s'"]{0,5}([A-Za-z0-9_-]{44})(?![A-Za-z0-9_-])/i,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Delete the key in IBM Cloud (Manage > Access (IAM) > API keys) or with `ibmcloud iam api-key-delete NAME`, check Activity Tracker for its use, then create a new key (or use a trusted profile) and store it in a vault.",
    docs: "https://cloud.ibm.com/docs/account?topic=account-userapikey",
    examples: {
      positives: (gen) =>
        assignmentExamples("IBMCLOUD_API_KEY", [gen.base64url(44), gen.base64url(44), gen.base64url(44)]),
      negatives: [...placeholderNegatives("IBMCLOUD_API_KEY"), "IC_API_KEY=${IC_API_KEY}"],
    },
  },
  {
    id: "oracle-cloud-auth-token",
    provider: "Oracle Cloud",
    description:
      "Oracle Cloud Infrastructure auth token (20 characters) next to an oci / oracle auth_token name.",
    keywords: ["oracle", "oci"],
    pattern:
      /(?:oracle|(?:^|[^A-Za-z])oci)[\w.-]{0,20}auth[_-]?token[\s'"]{0,3}[:=]{1,2}>?[\s'"]{0,5}([A-Za-z0-9+()[\]:;.#_~-]{20})(?=["'\s,]|$)/im,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the token in the OCI Console (Identity > Users > user > Auth Tokens) or with `oci iam auth-token delete`, then generate a new one and store it in a vault.",
    docs: "https://docs.oracle.com/en-us/iaas/Content/Identity/Tasks/managingcredentials.htm",
    examples: {
      positives: (gen) => {
        const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+()[]:;.#_~-";
        const [a, b] = [gen.chars(chars, 20), gen.chars(chars, 20)];
        return [
          { text: `OCI_AUTH_TOKEN="${a}"`, secret: a },
          { text: `oracle_auth_token: '${b}'`, secret: b },
        ];
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
    pattern:
      /(?:oracle|(?:^|[^A-Za-z])oci)[\w.-]{0,30}secret[\w.-]{0,20}[\s'"]{0,3}[:=]{1,2}>?[\s'"]{0,5}([A-Za-z0-9+/]{43}=)(?![A-Za-z0-9+/=])/im,
    secretGroup: 1,
    entropy: 4,
    severity: "critical",
    remediation:
      "Delete the key in the OCI Console (Identity > Users > user > Customer Secret Keys) or with `oci iam customer-secret-key delete`, then generate a new one and store it in a vault.",
    docs: "https://docs.oracle.com/en-us/iaas/Content/Identity/Tasks/managingcredentials.htm",
    examples: {
      positives: (gen) =>
        assignmentExamples("OCI_SECRET_ACCESS_KEY", [gen.base64Bytes(32), gen.base64Bytes(32)]),
      negatives: placeholderNegatives("OCI_SECRET_ACCESS_KEY"),
    },
  },
  {
    id: "huawei-cloud-secret-access-key",
    provider: "Huawei Cloud",
    description: "Huawei Cloud secret access key (SK, 40 characters) next to a huawei / hwcloud name.",
    keywords: ["huawei", "hwcloud"],
    pattern:
      /(?:huawei|hwcloud)[\w.-]{0,20}(?:secret[_-]?(?:access[_-]?)?key|sk)[\s'"]{0,3}[:=]{1,2}>?[\s'"]{0,5}([A-Za-z0-9]{40})(?![A-Za-z0-9])/i,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Delete the access key in the Huawei Cloud console (My Credentials > Access Keys), check Cloud Trace Service for its use, then create a new key (or use agencies and temporary credentials) and store it in a vault.",
    docs: "https://support.huaweicloud.com/intl/en-us/usermanual-ca/ca_01_0003.html",
    examples: {
      positives: (gen) =>
        assignmentExamples("HUAWEICLOUD_SDK_SK", [gen.alnum(40), gen.alnum(40), gen.alnum(40)]),
      negatives: placeholderNegatives("HUAWEICLOUD_SDK_SK"),
    },
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
      positives: (gen) => {
        const [a, b] = [`AQVN${gen.base64url(36)}`, `AQVN${gen.base64url(38)}`];
        return [
          { text: `YC_API_KEY=${a}`, secret: a },
          { text: `headers = {"Authorization": "Api-Key ${b}"}`, secret: b },
        ];
      },
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
      positives: (gen) => {
        const make = (): string => `t1.${gen.base64url(120)}.${gen.base64url(86)}`;
        const [a, b] = [make(), make()];
        return [
          { text: `export YC_TOKEN=${a}`, secret: a },
          {
            text: `curl -H "Authorization: Bearer ${b}" https://resource-manager.api.cloud.yandex.net/resource-manager/v1/clouds`,
            secret: b,
          },
        ];
      },
      negatives: ["Authorization: Bearer t1.<iam-token>"],
    },
  },
  {
    id: "linode-personal-access-token",
    provider: "Linode (Akamai Cloud)",
    description: "Linode / Akamai Cloud personal access token (64 hex digits) next to a linode name.",
    keywords: ["linode"],
    pattern:
      /linode[\w.-]{0,20}(?:token|pat|key)[\s'"]{0,3}[:=]{1,2}>?[\s'"]{0,5}([a-f0-9]{64})(?![A-Za-z0-9])/i,
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Revoke the token in Cloud Manager (My Profile > API Tokens > Revoke) or with `linode-cli profile token-delete`, then create a new token with the least scopes and an expiry and store it in a vault.",
    docs: "https://techdocs.akamai.com/cloud-computing/docs/manage-personal-access-tokens",
    examples: {
      positives: (gen) => assignmentExamples("LINODE_TOKEN", [gen.hex(64), gen.hex(64), gen.hex(64)]),
      negatives: placeholderNegatives("LINODE_TOKEN"),
    },
  },
  {
    id: "vultr-api-key",
    provider: "Vultr",
    description: "Vultr API key (36 uppercase characters) next to a vultr name.",
    keywords: ["vultr"],
    pattern: /vultr[\w.-]{0,20}(?:key|token)[\s'"]{0,3}[:=]{1,2}>?[\s'"]{0,5}([A-Z0-9]{36})(?![A-Za-z0-9])/i,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Regenerate the key in the Vultr customer portal (Account > API > Regenerate), restrict its allowed IP ranges, and store the new key in a vault.",
    docs: "https://www.vultr.com/api/",
    examples: {
      positives: (gen) =>
        assignmentExamples("VULTR_API_KEY", [gen.upperAlnum(36), gen.upperAlnum(36), gen.upperAlnum(36)]),
      negatives: placeholderNegatives("VULTR_API_KEY"),
    },
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
    remediation:
      "Delete the API key in the Scaleway console (IAM > API keys) or with `scw iam api-key delete`, then create a new one bound to a least-privilege policy and store it in a vault.",
    docs: "https://www.scaleway.com/en/docs/iam/how-to/create-api-keys/",
    examples: {
      positives: (gen) => {
        const [a, b] = [`SCW${gen.upperAlnum(17)}`, `SCW${gen.upperAlnum(17)}`];
        return [
          { text: `SCW_ACCESS_KEY=${a}`, secret: a },
          { text: `profiles:\n  prod:\n    access_key: ${b}`, secret: b },
        ];
      },
      negatives: ["SCW_ACCESS_KEY=SCWXXXXXXXXXXXXXXXXX", "SCW_ACCESS_KEY=<access-key>"],
    },
  },
  {
    id: "scaleway-secret-key",
    provider: "Scaleway",
    description:
      "Scaleway API secret key (a UUID) next to a scaleway / SCW_SECRET_KEY name or after a SCW access key.",
    keywords: ["scaleway", "scw"],
    pattern:
      /(?:(?:scaleway|\bscw)[\w.-]{0,20}secret[\w.-]{0,10}|SCW[A-Z0-9]{17}[\s\S]{0,100}?secret_key)[\s'"]{0,3}[:=]{1,2}>?[\s'"]{0,5}([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b/i,
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Delete the API key in the Scaleway console (IAM > API keys) or with `scw iam api-key delete`, then create a new one bound to a least-privilege policy and store it in a vault.",
    docs: "https://www.scaleway.com/en/docs/iam/how-to/create-api-keys/",
    examples: {
      positives: (gen) => {
        const [a, b] = [gen.uuid(), gen.uuid()];
        return [
          { text: `SCW_SECRET_KEY=${a}`, secret: a },
          {
            text: `access_key: SCW${gen.upperAlnum(17)}\nsecret_key: ${b}\ndefault_region: fr-par`,
            secret: b,
          },
        ];
      },
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
    pattern:
      /(?:hetzner|hcloud)[\w.-]{0,20}(?:token|key)[\s'"]{0,3}[:=]{1,2}>?[\s'"]{0,5}([A-Za-z0-9]{64})(?![A-Za-z0-9])/i,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Delete the token in the Hetzner Cloud Console (project > Security > API tokens), then create a new one with only the permission it needs and store it in a vault.",
    docs: "https://docs.hetzner.com/cloud/api/getting-started/generating-api-token/",
    examples: {
      positives: (gen) => assignmentExamples("HCLOUD_TOKEN", [gen.alnum(64), gen.alnum(64), gen.alnum(64)]),
      negatives: placeholderNegatives("HCLOUD_TOKEN"),
    },
  },
  {
    id: "ovhcloud-application-secret",
    provider: "OVHcloud",
    description:
      "OVHcloud API application secret or consumer key (32 characters) next to an ovh name or in an [ovh-*] section.",
    keywords: ["ovh"],
    pattern:
      /(?:ovh[\w.-]{0,20}|\[ovh-[a-z]{2,4}\][\s\S]{0,200}?)(?:application[_-]?secret|app[_-]?secret|consumer[_-]?key)[\s'"]{0,3}[:=]{1,2}>?[\s'"]{0,5}([A-Za-z0-9]{32})(?![A-Za-z0-9])/i,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Revoke the application and its consumer keys (DELETE /me/api/application/{id} and /me/api/credential/{id} in the OVHcloud API console), then create new credentials with restricted rights and store them in a vault.",
    docs: "https://help.ovhcloud.com/csm/en-gb-api-getting-started-ovhcloud-api?id=kb_article_view&sysparm_article=KB0042784",
    examples: {
      positives: (gen) => {
        const [a, b] = [gen.alnum(32), gen.alnum(32)];
        return [
          { text: `OVH_APPLICATION_SECRET=${a}`, secret: a },
          // Only the first secret of an [ovh-*] section is reported: the match consumes the header.
          {
            text: `[ovh-eu]\napplication_key=${gen.alnum(16)}\napplication_secret=${b}\nconsumer_key=<from-credential-request>`,
            secret: b,
          },
        ];
      },
      negatives: placeholderNegatives("OVH_CONSUMER_KEY"),
    },
  },
  {
    id: "backblaze-b2-application-key",
    provider: "Backblaze",
    description: "Backblaze B2 application key (31 characters) next to a backblaze / B2 key name.",
    keywords: ["backblaze", "b2_", "b2-", "b2app"],
    pattern:
      /(?:backblaze|\bb2)[\w.-]{0,20}(?:application[_-]?key|app[_-]?key)[\s'"]{0,3}[:=]{1,2}>?[\s'"]{0,5}([A-Za-z0-9+/]{31})(?![A-Za-z0-9+/=])/i,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Delete the key in the Backblaze web UI (App Keys) or with `b2 key delete KEY_ID`, then create a new key restricted to the bucket it needs and store it in a vault.",
    docs: "https://www.backblaze.com/docs/cloud-storage-application-keys",
    examples: {
      positives: (gen) =>
        assignmentExamples("B2_APPLICATION_KEY", [
          `K00${gen.digits(1)}${gen.alnum(27)}`,
          `K00${gen.digits(1)}${gen.alnum(27)}`,
        ]),
      negatives: placeholderNegatives("B2_APPLICATION_KEY"),
    },
  },
];

import type { Rule } from "../rule.ts";
import { ASSIGN, assigned, assignmentExamples, notPublicKey, place, placeholderNegatives } from "./shared.ts";

/** SHA-256 of the Azurite development storage key, published in Microsoft's docs. */
const AZURITE_KEY_SHA256 = "0011cc25eb4320717494d2703e8cba85743e71b500283c21c8b88147992f9059";
/** SHA-256 of the Azure Cosmos DB emulator key, published in Microsoft's docs. */
const COSMOS_EMULATOR_KEY_SHA256 = "aa6547439583c3a275d4542a0df6c1ad6a863971be9f2a2220f027cc02aef615";

const BASE32_LOWER = "abcdefghijklmnopqrstuvwxyz234567";
const ENTRA_SECRET_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_~.-";

const AZURE_DEVOPS_REMEDIATION =
  "Revoke the token in Azure DevOps (User settings > Personal access tokens > Revoke; organization admins can use the PAT revocation API), then create a new token with the narrowest scopes and a short expiry and store it in a vault.";
const AZURE_DEVOPS_DOCS =
  "https://learn.microsoft.com/en-us/azure/devops/organizations/accounts/use-personal-access-tokens-to-authenticate";

/**
 * Microsoft Azure and Azure DevOps: storage and Cosmos DB keys, SAS tokens, Service Bus /
 * Event Hubs / IoT Hub connection strings, Entra ID client secrets, AI services keys, PATs.
 *
 * @example
 *   azureRules.filter((r) => r.provider === "Azure DevOps")
 */
export const azureRules: readonly Rule[] = [
  {
    id: "azure-storage-account-key",
    provider: "Azure",
    description:
      "Azure Storage account key (88 base64 characters) in a connection string after AccountName, or in an AZURE_STORAGE_KEY-style variable.",
    keywords: ["accountkey=", "azure_storage", "azure-storage", "azurestorage"],
    pattern: new RegExp(
      String.raw`(?:AccountName=[A-Za-z0-9]{3,24};\s?AccountKey=|azure[_-]?storage[_-]?(?:account[_-]?)?(?:access[_-]?)?key${ASSIGN})([A-Za-z0-9+/]{86}==)(?![A-Za-z0-9+/=])`,
      "i",
    ),
    secretGroup: 1,
    entropy: 4,
    validate: notPublicKey([AZURITE_KEY_SHA256]),
    severity: "critical",
    remediation:
      "Rotate the key in the Azure portal (Storage account > Security + networking > Access keys > Rotate key) or with `az storage account keys renew --key key1`, after moving clients to the other key; prefer Microsoft Entra ID auth and store any new key in a vault.",
    docs: "https://learn.microsoft.com/en-us/azure/storage/common/storage-account-keys-manage",
    examples: {
      positives: (gen) => {
        const [a, b, c] = [gen.base64Bytes(64), gen.base64Bytes(64), gen.base64Bytes(64)];
        const acct = `st${gen.lowerAlnum(10)}`;
        return place(
          [a, b, c],
          [
            (s) =>
              `AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=https;AccountName=${acct};AccountKey=${s};EndpointSuffix=core.windows.net"`,
            (s) =>
              `  "ConnectionStrings": { "Blob": "DefaultEndpointsProtocol=https;AccountName=${acct};AccountKey=${s};EndpointSuffix=core.windows.net" }`,
            (s) => `export AZURE_STORAGE_KEY=${s}`,
          ],
        );
      },
      negatives: [
        "AZURE_STORAGE_CONNECTION_STRING=UseDevelopmentStorage=true",
        "DefaultEndpointsProtocol=https;AccountName=myaccount;AccountKey=<account-key>;EndpointSuffix=core.windows.net",
        ...placeholderNegatives("AZURE_STORAGE_KEY"),
      ],
    },
  },
  {
    id: "azure-cosmos-db-key",
    provider: "Azure",
    description:
      "Azure Cosmos DB account key in an AccountEndpoint=...documents.azure.com connection string or a COSMOS_KEY-style variable.",
    keywords: ["documents.azure.com", "cosmos"],
    pattern: new RegExp(
      String.raw`(?:AccountEndpoint=https://[a-z0-9-]{3,50}\.documents\.azure\.com(?::443)?/?;\s?AccountKey=|cosmos[\w.-]{0,20}key${ASSIGN})([A-Za-z0-9+/]{86}==)(?![A-Za-z0-9+/=])`,
      "i",
    ),
    secretGroup: 1,
    entropy: 4,
    validate: notPublicKey([COSMOS_EMULATOR_KEY_SHA256]),
    severity: "critical",
    remediation:
      "Regenerate the key in the Azure portal (Cosmos DB account > Keys > Regenerate) or with `az cosmosdb keys regenerate --key-kind primary`, after moving clients to the other key; prefer Entra ID RBAC and store any new key in a vault.",
    docs: "https://learn.microsoft.com/en-us/azure/cosmos-db/secure-access-to-data",
    examples: {
      positives: (gen) =>
        place(
          [gen.base64Bytes(64), gen.base64Bytes(64)],
          [
            (s) =>
              `COSMOS_CONNECTION_STRING="AccountEndpoint=https://orders-${gen.lowerAlnum(6)}.documents.azure.com:443/;AccountKey=${s};"`,
            (s) => `cosmos_key: "${s}"`,
          ],
        ),
      negatives: [
        "AccountEndpoint=https://localhost:8081/;AccountKey=<emulator-key>",
        ...placeholderNegatives("COSMOS_KEY"),
      ],
    },
  },
  {
    id: "azure-sas-token",
    provider: "Azure",
    description:
      "Azure shared access signature: the sig= value of a SAS that carries sv= and se= parameters.",
    keywords: ["sig="],
    pattern:
      /\b(?:sv=\d{4}-\d{2}-\d{2}[^\s"'<>]{0,300}?&se=\d{4}-\d{2}-\d{2}|se=\d{4}-\d{2}-\d{2}[^\s"'<>]{0,300}?&sv=\d{4}-\d{2}-\d{2})[^\s"'<>]{0,300}?&sig=([A-Za-z0-9%+/]{40,100}={0,2})(?![A-Za-z0-9%+/=])/,
    // The pattern starts at sv= or se=, up to ~900 characters before the sig= keyword.
    window: { before: 1000, after: 512 },
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "A SAS stays valid until it expires: revoke it by rotating the account key that signed it, revoking user delegation keys (`az storage account revoke-delegation-keys`) or changing the stored access policy it names; then issue a short-lived SAS and keep it in a vault.",
    docs: "https://learn.microsoft.com/en-us/azure/storage/common/storage-sas-overview",
    examples: {
      positives: (gen) => {
        const sig = (): string => encodeURIComponent(gen.base64Bytes(32));
        const [a, b, c] = [sig(), sig(), sig()];
        const acct = `st${gen.lowerAlnum(10)}`;
        return place(
          [a, b, c],
          [
            (s) =>
              `curl -o db.bak "https://${acct}.blob.core.windows.net/backups/db.bak?sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2026-01-01T00:00:00Z&st=2025-01-01T00:00:00Z&spr=https&sig=${s}"`,
            (s) =>
              `Blob SAS URL: https://${acct}.blob.core.windows.net/reports/q3.pdf?sp=r&st=2025-06-01T08:00:00Z&se=2025-06-30T16:00:00Z&spr=https&sv=2022-11-02&sr=b&sig=${s}`,
            (s) =>
              `AZURE_SAS_TOKEN="sv=2021-08-06&ss=bfqt&srt=co&sp=rwdlacupitfx&se=2025-12-31T23:59:59Z&spr=https&sig=${s}"`,
          ],
        );
      },
      negatives: [
        "https://account.blob.core.windows.net/container/blob?sv=2022-11-02&se=2025-01-01&sig=<signature>",
        "?sv=2022-11-02&se=2025-01-01T00:00:00Z&sig=REDACTED",
      ],
    },
  },
  {
    id: "azure-service-bus-connection-string",
    provider: "Azure",
    description:
      "Azure Service Bus, Event Hubs or Relay connection string (Endpoint=sb://...servicebus...) with its SharedAccessKey.",
    keywords: ["servicebus."],
    pattern:
      /Endpoint=sb:\/\/[a-z0-9-]{1,60}\.servicebus\.(?:windows\.net|chinacloudapi\.cn|usgovcloudapi\.net|cloudapi\.de)\/?;\s?SharedAccessKeyName=[^;\s"']{1,64};\s?SharedAccessKey=([A-Za-z0-9+/]{43}=)(?![A-Za-z0-9+/=])/i,
    secretGroup: 1,
    entropy: 4,
    severity: "critical",
    remediation:
      "Regenerate the key of that shared access policy (namespace or entity > Shared access policies > Regenerate, or `az servicebus namespace authorization-rule keys renew` / `az eventhubs ...`), prefer Entra ID auth, and store the new connection string in a vault.",
    docs: "https://learn.microsoft.com/en-us/azure/service-bus-messaging/service-bus-sas",
    examples: {
      positives: (gen) => {
        const [a, b] = [gen.base64Bytes(32), gen.base64Bytes(32)];
        const ns = `orders-${gen.lowerAlnum(6)}`;
        return place(
          [a, b],
          [
            (s) =>
              `SERVICEBUS_CONNECTION="Endpoint=sb://${ns}.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${s}"`,
            (s) =>
              `    "EventHub": "Endpoint=sb://${ns}.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=${s};EntityPath=telemetry"`,
          ],
        );
      },
      negatives: [
        "Endpoint=sb://<namespace>.servicebus.windows.net/;SharedAccessKeyName=<key-name>;SharedAccessKey=<key>",
      ],
    },
  },
  {
    id: "azure-iot-hub-connection-string",
    provider: "Azure",
    description: "Azure IoT Hub connection string (HostName=...azure-devices.net) with its SharedAccessKey.",
    keywords: ["azure-devices.net"],
    pattern:
      /HostName=[a-z0-9-]{1,60}\.azure-devices\.net;[^\s"']{1,300}?SharedAccessKey=([A-Za-z0-9+/]{43}=)(?![A-Za-z0-9+/=])/i,
    secretGroup: 1,
    entropy: 4,
    severity: "high",
    remediation:
      "Regenerate the key (IoT hub > Shared access policies, or Devices > device > Regenerate keys; `az iot hub policy renew-key` / `az iot hub device-identity renew-key`), update the devices, and store the new key in a vault.",
    docs: "https://learn.microsoft.com/en-us/azure/iot-hub/authenticate-authorize-sas",
    examples: {
      positives: (gen) => {
        const [a, b] = [gen.base64Bytes(32), gen.base64Bytes(32)];
        const hub = `plant-${gen.lowerAlnum(5)}`;
        return place(
          [a, b],
          [
            (s) =>
              `IOTHUB_DEVICE_CONNECTION_STRING="HostName=${hub}.azure-devices.net;DeviceId=sensor-01;SharedAccessKey=${s}"`,
            (s) =>
              `conn = "HostName=${hub}.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=${s}"`,
          ],
        );
      },
      negatives: ["HostName=<hub>.azure-devices.net;DeviceId=<device>;SharedAccessKey=<key>"],
    },
  },
  {
    id: "azure-entra-client-secret",
    provider: "Azure",
    description:
      "Microsoft Entra ID (Azure AD) application client secret (40 characters with Q~ after the fourth).",
    keywords: ["q~"],
    pattern: /(?:^|[^A-Za-z0-9_~.-])([A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{34})(?![A-Za-z0-9_~.-])/m,
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Delete the secret in the Microsoft Entra admin center (App registrations > app > Certificates & secrets) or with `az ad app credential delete --id APP_ID --key-id KEY_ID`, review the service principal's sign-in logs, then add a new secret (or a certificate / federated credential) and store it in a vault.",
    docs: "https://learn.microsoft.com/en-us/entra/identity-platform/how-to-add-credentials",
    examples: {
      positives: (gen) => {
        const make = (): string =>
          `${gen.chars(ENTRA_SECRET_CHARS, 3)}${gen.digits(1)}Q~${gen.chars(ENTRA_SECRET_CHARS, 34)}`;
        return place(
          [make(), make(), make()],
          [
            (s) => `AZURE_CLIENT_SECRET=${s}`,
            (s) => `  "AzureAd": { "ClientId": "${gen.uuid()}", "ClientSecret": "${s}" }`,
            (s) => `cred = ClientSecretCredential(TENANT_ID, CLIENT_ID, "${s}")`,
          ],
        );
      },
      negatives: ["AZURE_CLIENT_SECRET=${AZURE_CLIENT_SECRET}", 'ClientSecret: "<app-client-secret>"'],
    },
  },
  {
    id: "azure-ai-services-key",
    provider: "Azure",
    description:
      "Azure AI services key (Azure OpenAI, Cognitive Services, Speech, ...) or API Management subscription key next to its variable or header name.",
    keywords: ["ocp-apim-subscription-key", "azure"],
    pattern: assigned({
      context: String.raw`ocp-apim-subscription-key|azure[_-]?(?:openai|cognitive[_-]?services?|ai[_-]?services?|speech|translator|language|vision)[\w.-]{0,20}key`,
      value: "[a-f0-9]{32}|[A-Za-z0-9]{84}",
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Regenerate the key in the Azure portal (resource > Keys and Endpoint > Regenerate Key 1/2) or with `az cognitiveservices account keys regenerate`, after moving clients to the other key; prefer Entra ID auth and store any new key in a vault.",
    docs: "https://learn.microsoft.com/en-us/azure/ai-services/rotate-keys",
    examples: {
      positives: (gen) =>
        place(
          () => gen.hex(32),
          [
            (s) => `AZURE_OPENAI_API_KEY=${s}`,
            (s) =>
              `curl -H "Ocp-Apim-Subscription-Key: ${s}" "https://westeurope.api.cognitive.microsoft.com/vision/v3.2/analyze"`,
          ],
        ),
      negatives: [
        ...placeholderNegatives("AZURE_OPENAI_API_KEY"),
        "Ocp-Apim-Subscription-Key: {subscription-key}",
      ],
    },
  },
  {
    id: "azure-devops-pat",
    provider: "Azure DevOps",
    description:
      "Azure DevOps personal access token, legacy 52-character base32 format next to an azure / devops / vsts name.",
    keywords: ["azure", "devops", "vsts", "azdo"],
    pattern: assigned({ context: "azure|devops|vsts|azdo", value: "[a-z2-7]{52}" }),
    secretGroup: 1,
    entropy: 3,
    // The `i` flag is for the variable name only; the token itself is lowercase base32.
    validate: (secret) => /^[a-z2-7]{52}$/.test(secret),
    severity: "critical",
    remediation: AZURE_DEVOPS_REMEDIATION,
    docs: AZURE_DEVOPS_DOCS,
    examples: assignmentExamples("AZURE_DEVOPS_EXT_PAT", (gen) => gen.chars(BASE32_LOWER, 52)),
  },
  {
    id: "azure-devops-pat-v2",
    provider: "Azure DevOps",
    description:
      "Azure DevOps personal access token, 84-character format with the AZDO signature at position 76.",
    keywords: ["azdo"],
    pattern: /\b([A-Za-z0-9]{76}AZDO[A-Za-z0-9]{4})\b/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation: AZURE_DEVOPS_REMEDIATION,
    docs: AZURE_DEVOPS_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `${gen.alnum(52)}JQQJ9${gen.alnum(19)}AZDO${gen.alnum(4)}`,
          [
            (s) => `echo ${s} | az devops login --organization https://dev.azure.com/contoso`,
            (s) => `SYSTEM_ACCESSTOKEN: "${s}"`,
          ],
        ),
      negatives: [
        "New Azure DevOps PATs are 84 characters and contain AZDO.",
        "AZURE_DEVOPS_PAT=<84-char-AZDO-token>",
      ],
    },
  },
];

import type { Rule } from "../rule.ts";
import { place } from "./shared.ts";

/**
 * Google Cloud and Firebase: API keys, service-account key files, OAuth client secrets and
 * the legacy FCM server key.
 *
 * @example
 *   googleRules.find((r) => r.id === "gcp-api-key")
 */
export const googleRules: readonly Rule[] = [
  {
    id: "gcp-api-key",
    provider: "Google Cloud",
    description: "Google Cloud / Firebase API key (AIza followed by 35 characters).",
    keywords: ["aiza"],
    pattern: /\b(AIza[0-9A-Za-z_-]{35})(?![0-9A-Za-z_-])/,
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Regenerate or delete the key in Google Cloud console > APIs & Services > Credentials (or `gcloud services api-keys delete`), then issue a new key restricted to the APIs and apps that need it and store it in a vault.",
    docs: "https://cloud.google.com/docs/authentication/api-keys",
    examples: {
      positives: (gen) =>
        place(
          () => `AIza${gen.base64url(35)}`,
          [
            (s) => `const firebaseConfig = { apiKey: "${s}", projectId: "demo-shop" };`,
            (s) => `GOOGLE_MAPS_API_KEY=${s}`,
            (s) => `curl "https://maps.googleapis.com/maps/api/geocode/json?address=Paris&key=${s}"`,
          ],
        ),
      negatives: [
        "Google API keys start with AIza and are 39 characters long.",
        'GOOGLE_API_KEY="AIza<your-key>"',
        "key=AIzaSyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
      ],
    },
  },
  {
    id: "gcp-service-account-key",
    provider: "Google Cloud",
    description:
      'Google Cloud service-account key file ("type": "service_account"); reports the private_key_id, which names the key to delete (the PEM block itself is left to the private-key rule).',
    keywords: ["service_account"],
    pattern:
      /\\?["']type\\?["']\s{0,3}:\s{0,3}\\?["']service_account\\?["'][\s\S]{0,400}?\\?["']private_key_id\\?["']\s{0,3}:\s{0,3}\\?["']([a-f0-9]{40})\\?["']/,
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Delete the key with `gcloud iam service-accounts keys delete KEY_ID --iam-account=SA_EMAIL` (or IAM > Service accounts > Keys in the console) and check Cloud Audit Logs for its use; prefer Workload Identity Federation, or issue a new key and store it in a vault.",
    docs: "https://cloud.google.com/iam/docs/keys-create-delete",
    examples: {
      positives: (gen) => {
        const [a, b] = [gen.hex(40), gen.hex(40)];
        const project = `shop-${gen.lowerAlnum(6)}`;
        return place(
          [a, b],
          [
            (s) =>
              `{\n  "type": "service_account",\n  "project_id": "${project}",\n  "private_key_id": "${s}",\n` +
              `  "client_email": "deployer@${project}.iam.gserviceaccount.com",\n  "client_id": "${gen.digits(21)}"\n}`,
            (s) =>
              `GOOGLE_CREDENTIALS="{\\"type\\":\\"service_account\\",\\"project_id\\":\\"${project}\\",\\"private_key_id\\":\\"${s}\\"}"`,
          ],
        );
      },
      negatives: [
        '{"type": "service_account", "project_id": "my-project", "private_key_id": "<key-id>"}',
        '{"type": "authorized_user", "client_id": "example.apps.googleusercontent.com"}',
      ],
    },
  },
  {
    id: "gcp-oauth-client-secret",
    provider: "Google Cloud",
    description: "Google OAuth 2.0 client secret (GOCSPX- followed by 28 characters).",
    keywords: ["gocspx-"],
    pattern: /\b(GOCSPX-[A-Za-z0-9_-]{28})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "In Google Cloud console > APIs & Services > Credentials, open the OAuth client, add a new secret, switch the app to it, then disable and delete the leaked secret; store the new one in a vault.",
    docs: "https://support.google.com/cloud/answer/6158849",
    examples: {
      positives: (gen) =>
        place(
          [`GOCSPX-${gen.base64url(28)}`, `GOCSPX-${gen.base64url(28)}`],
          [
            (s) => `GOOGLE_CLIENT_SECRET=${s}`,
            (s) =>
              `{"web":{"client_id":"${gen.digits(12)}-${gen.lowerAlnum(32)}.apps.googleusercontent.com","client_secret":"${s}"}}`,
          ],
        ),
      negatives: ["GOOGLE_CLIENT_SECRET=GOCSPX-<client-secret>", "Client secrets now start with GOCSPX-."],
    },
  },
  {
    id: "firebase-cloud-messaging-server-key",
    provider: "Firebase",
    description: "Firebase Cloud Messaging legacy server key (AAAA...:APA91b...).",
    keywords: ["apa91b"],
    pattern: /\b(AAAA[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{134})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the legacy server key in Firebase console > Project settings > Cloud Messaging (or in Google Cloud console > Credentials), migrate to the FCM HTTP v1 API with a service account, and keep its credentials in a vault.",
    docs: "https://firebase.google.com/docs/cloud-messaging/migrate-v1",
    examples: {
      positives: (gen) =>
        place(
          () => `AAAA${gen.base64url(7)}:APA91b${gen.base64url(134)}`,
          [
            (s) => `FCM_SERVER_KEY=${s}`,
            (s) => `headers: { Authorization: "key=${s}", "Content-Type": "application/json" }`,
          ],
        ),
      negatives: ["Authorization: key=AAAA...:APA91b...", "FCM_SERVER_KEY=${FCM_SERVER_KEY}"],
    },
  },
];

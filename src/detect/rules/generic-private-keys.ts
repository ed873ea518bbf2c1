import { shannonEntropy } from "../entropy.ts";
import type { ExampleGen, PositiveExample, Rule } from "../rule.ts";

/*
 * Private keys in PEM, OpenPGP armor and PuTTY formats. The whole block is the secret, so
 * the window reaches far after the header. Bodies may be wrapped with real newlines, with
 * spaces (a key flattened into an env var) or with literal `\n` escapes (a key inside a JSON
 * string, as in a service-account file).
 */

const WINDOW = { before: 64, after: 12_000 } as const;
/** Base64 with whitespace and the escapes `\n`, `\r` of a JSON or shell string. */
const BODY = String.raw`[A-Za-z0-9+/=\s\\]{64,10000}`;
const OWASP_KEYS = "https://cheatsheetseries.owasp.org/cheatsheets/Key_Management_Cheat_Sheet.html";

/**
 * The base64 payload of a key block: BEGIN/END markers, `Name: value` header lines and the
 * armor checksum removed, escapes and whitespace dropped. Undefined when anything else is left.
 */
function blockPayload(block: string): string | undefined {
  const lines = block
    .replace(/\\[nr]/g, "\n")
    .replace(/-----(?:BEGIN|END) [A-Z0-9 ]{1,60}-----/g, "\n")
    .split(/\r?\n/);
  let payload = "";
  for (const raw of lines) {
    const line = raw.trim();
    if (/^[A-Za-z][\w-]{0,40}: /.test(line)) continue;
    if (/^=[A-Za-z0-9+/]{4}$/.test(line)) continue; // OpenPGP armor checksum
    payload += line.replace(/\s/g, "");
  }
  return /^[A-Za-z0-9+/]{64,12000}={0,2}$/.test(payload) ? payload : undefined;
}

/** A block whose payload is real base64 with the spread of random bytes (not `AAAA...`). */
function validBlock(block: string): boolean {
  const payload = blockPayload(block);
  return payload !== undefined && shannonEntropy(payload) >= 4.5;
}

/** The base64 body of `bytes` random bytes, wrapped at 64 columns. */
function body(gen: ExampleGen, bytes: number): string[] {
  const b64 = gen.base64Bytes(bytes);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return lines;
}

/** A file, a JSON string with `\n` escapes and a YAML block scalar holding the same kind of key. */
function pemPositives(gen: ExampleGen, label: string, bytes: number): PositiveExample[] {
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  const file = [begin, ...body(gen, bytes), end].join("\n");
  const escaped = [begin, ...body(gen, bytes), end].join("\\n");
  const yaml = [begin, ...body(gen, bytes), end].join("\n    ");
  return [
    { text: `${file}\n`, secret: file },
    {
      text: `{"type": "service_account", "private_key": "${escaped}\\n", "client_email": "svc@proj.iam.gserviceaccount.com"}`,
      secret: escaped,
    },
    { text: `tls:\n  key: |\n    ${yaml}\n  cert: cert.pem`, secret: yaml },
  ];
}

function pemRule(
  id: string,
  label: string,
  keyword: string,
  what: string,
  bytes: number,
  remediation: string,
  docs: string,
): Rule {
  return {
    id,
    provider: "Private key",
    description: `${what} private key block (-----BEGIN ${label}-----).`,
    keywords: [keyword],
    pattern: new RegExp(`-----BEGIN ${label}-----${BODY}-----END ${label}-----`),
    secretGroup: 0,
    entropy: 4,
    validate: validBlock,
    severity: "critical",
    remediation,
    docs,
    window: WINDOW,
    examples: {
      positives: (gen) => pemPositives(gen, label, bytes),
      negatives: [
        `-----BEGIN ${label}-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC...\n-----END ${label}-----`,
        `Paste the file that starts with -----BEGIN ${label}----- into the field below.`,
        `-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA${"A".repeat(40)}\n-----END PUBLIC KEY-----`,
      ],
    },
  };
}

const X509_REMEDIATION =
  "Treat the key as compromised: revoke every certificate issued for it (ask the CA, e.g. `certbot revoke --reason keycompromise`), remove it from the repository history, generate a new key pair and store the private key in a vault.";

export const privateKeyRules: readonly Rule[] = [
  pemRule(
    "private-key-rsa",
    "RSA PRIVATE KEY",
    "rsa private key",
    "PKCS#1 RSA",
    1190,
    X509_REMEDIATION,
    "https://letsencrypt.org/docs/revoking/",
  ),
  pemRule(
    "private-key-ec",
    "EC PRIVATE KEY",
    "ec private key",
    "SEC1 elliptic-curve",
    121,
    X509_REMEDIATION,
    "https://letsencrypt.org/docs/revoking/",
  ),
  pemRule(
    "private-key-dsa",
    "DSA PRIVATE KEY",
    "dsa private key",
    "DSA",
    444,
    "Treat the key as compromised: remove its public half from every authorized_keys file and trust store, revoke any certificate issued for it, purge it from the repository history, then generate a modern (Ed25519 or ECDSA) key pair and store the private key in a vault.",
    OWASP_KEYS,
  ),
  pemRule(
    "private-key-openssh",
    "OPENSSH PRIVATE KEY",
    "openssh private key",
    "OpenSSH",
    399,
    "Remove the matching public key from every authorized_keys file and from GitHub/GitLab deploy keys and user SSH keys, purge the key from the repository history, generate a new pair with `ssh-keygen -t ed25519` and store the private key in a vault.",
    "https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/reviewing-your-ssh-keys",
  ),
  pemRule(
    "private-key-pkcs8",
    "PRIVATE KEY",
    "begin private key",
    "Unencrypted PKCS#8",
    1218,
    "Treat the key as compromised: revoke certificates issued for it and, for a cloud service-account key, delete the key in the provider console (e.g. `gcloud iam service-accounts keys delete`), then issue a new key and store it in a vault.",
    "https://cloud.google.com/iam/docs/keys-create-delete",
  ),
  {
    id: "private-key-encrypted",
    provider: "Private key",
    description:
      "Passphrase-encrypted private key block (PKCS#8 ENCRYPTED PRIVATE KEY, or PEM with Proc-Type: 4,ENCRYPTED).",
    keywords: ["encrypted private key", "proc-type: 4,encrypted"],
    pattern: new RegExp(
      String.raw`-----BEGIN ENCRYPTED PRIVATE KEY-----${BODY}-----END ENCRYPTED PRIVATE KEY-----|-----BEGIN (?:RSA|EC|DSA) PRIVATE KEY-----(?:\s|\\[rn]){1,4}Proc-Type: 4,ENCRYPTED(?:\s|\\[rn]){1,4}DEK-Info: [A-Z0-9-]{3,30},[A-Fa-f0-9]{16,64}${BODY}-----END (?:RSA|EC|DSA) PRIVATE KEY-----`,
    ),
    secretGroup: 0,
    entropy: 4,
    validate: validBlock,
    severity: "medium",
    remediation:
      "The key is protected only by its passphrase, which may be weak or leaked too: revoke certificates issued for it, remove it from the repository history, generate a new key pair and store the key and its passphrase in a vault.",
    docs: OWASP_KEYS,
    window: WINDOW,
    examples: {
      positives: (gen) => {
        const pkcs8 = [
          "-----BEGIN ENCRYPTED PRIVATE KEY-----",
          ...body(gen, 1298),
          "-----END ENCRYPTED PRIVATE KEY-----",
        ].join("\n");
        const legacy = [
          "-----BEGIN RSA PRIVATE KEY-----",
          "Proc-Type: 4,ENCRYPTED",
          `DEK-Info: AES-256-CBC,${gen.hexUpper(32)}`,
          "",
          ...body(gen, 1192),
          "-----END RSA PRIVATE KEY-----",
        ].join("\n");
        return [
          { text: `${pkcs8}\n`, secret: pkcs8 },
          { text: `# server.key\n${legacy}\n`, secret: legacy },
        ];
      },
      negatives: [
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI...\n-----END ENCRYPTED PRIVATE KEY-----",
        "openssl pkcs8 -topk8 -v2 aes-256-cbc writes an -----BEGIN ENCRYPTED PRIVATE KEY----- block",
      ],
    },
  },
  {
    id: "private-key-pgp",
    provider: "Private key",
    description: "OpenPGP armored private key block (-----BEGIN PGP PRIVATE KEY BLOCK-----).",
    keywords: ["pgp private key block"],
    // Armor headers (Version:, Comment:) and the =XXXX checksum line sit inside; no dashes do.
    pattern: /-----BEGIN PGP PRIVATE KEY BLOCK-----[^-]{64,12000}-----END PGP PRIVATE KEY BLOCK-----/,
    secretGroup: 0,
    entropy: 4,
    validate: validBlock,
    severity: "critical",
    remediation:
      "Publish the key's revocation certificate (`gpg --gen-revoke` or the one GnuPG stored under openpgp-revocs.d) to the keyservers, purge the key from the repository history, generate a new key pair and store it in a vault.",
    docs: "https://www.gnupg.org/documentation/manuals/gnupg/OpenPGP-Key-Management.html",
    window: { before: 64, after: 14_000 },
    examples: {
      positives: (gen) => {
        const block = (sep: string): string =>
          [
            "-----BEGIN PGP PRIVATE KEY BLOCK-----",
            "",
            ...body(gen, 1800),
            `=${gen.base64(4)}`,
            "-----END PGP PRIVATE KEY BLOCK-----",
          ].join(sep);
        const file = block("\n");
        const escaped = block("\\n");
        return [
          { text: `${file}\n`, secret: file },
          { text: `{"signing_key": "${escaped}"}`, secret: escaped },
        ];
      },
      negatives: [
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQdGBF...\n-----END PGP PRIVATE KEY BLOCK-----",
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBGA" +
          "A".repeat(70) +
          "\n-----END PGP PUBLIC KEY BLOCK-----",
      ],
    },
  },
  {
    id: "private-key-putty",
    provider: "Private key",
    description: "PuTTY private key file (PuTTY-User-Key-File-2 or -3, with its Private-Lines).",
    keywords: ["putty-user-key-file-"],
    pattern:
      /PuTTY-User-Key-File-[23]: [\w@.-]{3,40}[\s\S]{0,3000}Private-Lines: \d{1,3}(?:\s|\\[rn]){1,2}[A-Za-z0-9+/=\s\\]{64,8000}Private-MAC: [0-9a-f]{40,64}/,
    secretGroup: 0,
    entropy: 4,
    validate: (block) => {
      const lines = /Private-Lines: \d{1,3}([\s\S]{64,10000})Private-MAC:/.exec(block)?.[1];
      const payload = lines?.replace(/\\[nr]|\s/g, "");
      return (
        payload !== undefined &&
        /^[A-Za-z0-9+/]{64,8000}={0,2}$/.test(payload) &&
        shannonEntropy(payload) >= 4.5
      );
    },
    severity: "high",
    remediation:
      "Remove the matching public key from every authorized_keys file and service it was registered with, purge the .ppk from the repository history, generate a new pair with PuTTYgen and store the private key in a vault.",
    docs: "https://the.earth.li/~sgtatham/putty/latest/htmldoc/Chapter8.html",
    window: WINDOW,
    examples: {
      positives: (gen) => {
        const pub = body(gen, 279);
        const priv = body(gen, 660);
        const ppk = [
          "PuTTY-User-Key-File-3: ssh-rsa",
          "Encryption: none",
          `Comment: rsa-key-2024${gen.digits(4)}`,
          `Public-Lines: ${pub.length}`,
          ...pub,
          `Private-Lines: ${priv.length}`,
          ...priv,
          `Private-MAC: ${gen.hex(64)}`,
        ].join("\r\n");
        return [{ text: `${ppk}\r\n`, secret: ppk }];
      },
      negatives: [
        "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: demo\nPublic-Lines: 2\n...\nPrivate-Lines: 1\n...\nPrivate-MAC: ...",
        "PuTTYgen saves files that start with PuTTY-User-Key-File-3: and contain Private-Lines:",
      ],
    },
  },
];

import { formatToken, isValidToken } from "../../core/token-format.ts";
import type { Rule } from "../rule.ts";
import { place } from "./shared.ts";

/**
 * Keywarden's own API tokens, told from look-alikes by their CRC32 checksum.
 *
 * @example
 *   keywardenRules.map((r) => r.id) // ["keywarden-api-token"]
 */
export const keywardenRules: readonly Rule[] = [
  {
    id: "keywarden-api-token",
    provider: "Keywarden",
    description: "Keywarden API token (kw_svc_, kw_usr_, kw_cld_) with a valid CRC32 checksum.",
    keywords: ["kw_svc_", "kw_usr_", "kw_cld_"],
    pattern: /\b(kw_(?:svc|usr|cld)_[0-9A-Za-z]{43}_[0-9A-Za-z]{6})\b/,
    secretGroup: 1,
    entropy: 3,
    validate: isValidToken,
    checksummed: true,
    severity: "critical",
    remediation:
      'Revoke the token at once by its text, with its children: `keywarden token revoke --stdin` (on the server, or logged in to it), or POST /api/v1/tokens/revoke with {"token": ...} from anywhere (holding it is enough). Then issue a new one with the least scope the app needs and update the app\'s KEYWARDEN_TOKEN; in CI, prefer an OIDC login (KEYWARDEN_OIDC_IDENTITY), which stores no token at all.',
    docs: "https://github.com/keywarden/keywarden/blob/main/README.md#run-a-server-and-give-an-app-a-token",
    examples: {
      positives: (gen) =>
        place(
          [formatToken("svc", gen.alnum(43)), formatToken("cld", gen.alnum(43))],
          [(s) => `export KEYWARDEN_TOKEN=${s}`, (s) => `  token: "${s}"`],
        ),
      negatives: [
        "KEYWARDEN_TOKEN=kw_svc_<your-token-here>",
        // Right shape, wrong checksum.
        "kw_svc_0000000000000000000000000000000000000000000_AAAAAA",
      ],
    },
  },
];

import { createHash } from "node:crypto";
import type { ExampleGen, PositiveExample, Validator } from "../rule.ts";

/**
 * Rejects the documentation key family (AWS's `AKIAIOSFODNN7EXAMPLE`, `...EXAMPLEKEY`):
 * those are published on purpose and are not leaks.
 *
 * @example
 *   notExample("AKIAIOSFODNN7EXAMPLE") // false
 */
export const notExample: Validator = (secret) => !/example/i.test(secret);

/**
 * A validator that rejects keys whose SHA-256 (hex) is in `hashes`: well-known public
 * development keys (Azurite, the Cosmos DB emulator) that ship in vendor documentation.
 * Only their hashes live here, so the repository holds no key-shaped literal.
 *
 * @example
 *   const v = notPublicKey(["0011cc25..."]); v(key)
 */
export function notPublicKey(hashes: readonly string[]): Validator {
  const known = new Set(hashes);
  return (secret) => !known.has(createHash("sha256").update(secret).digest("hex"));
}

/**
 * Three realistic assignment contexts (.env line, YAML, JSON with a camelCase key) for a
 * secret whose rule keys on the variable name; one example per secret given.
 *
 * @example
 *   assignmentExamples("VULTR_API_KEY", [gen.upperAlnum(36)])
 */
export function assignmentExamples(name: string, secrets: readonly string[]): PositiveExample[] {
  const lower = name.toLowerCase();
  const camel = lower.replace(/[_-]([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
  const forms = [
    (s: string) => `${name}=${s}`,
    (s: string) => `  ${lower}: "${s}"`,
    (s: string) => `{ "${camel}": "${s}", "timeout": 30 }`,
  ];
  return secrets.map((secret, i) => ({ text: forms[i % forms.length]!(secret), secret }));
}

/**
 * Placeholder lines for a variable name: an environment reference and a template hole.
 *
 * @example
 *   placeholderNegatives("VULTR_API_KEY") // ["VULTR_API_KEY=${VULTR_API_KEY}", ...]
 */
export function placeholderNegatives(name: string): string[] {
  const lower = name.toLowerCase();
  return [`${name}=\${${name}}`, `${lower}: "<your-${lower.replace(/_/g, "-")}-here>"`];
}

/**
 * A structurally valid, unsigned-looking JWT built from the generator (for formats that are
 * JWTs behind a provider-specific variable name).
 *
 * @example
 *   fakeJwt(gen, { iss: "temporal" })
 */
export function fakeJwt(gen: ExampleGen, claims: Record<string, string | number>): string {
  const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString("base64url");
  const header = part({ alg: "ES256", kid: gen.alnum(12), typ: "JWT" });
  const payload = part({ ...claims, jti: gen.uuid(), iat: gen.int(1_700_000_000, 1_760_000_000) });
  return `${header}.${payload}.${gen.base64url(86)}`;
}

const BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const BECH32_GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function bech32Polymod(values: readonly number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= BECH32_GEN[i]!;
  }
  return chk;
}

function hrpExpand(hrp: string): number[] {
  const codes = Array.from({ length: hrp.length }, (_, i) => hrp.charCodeAt(i));
  return [...codes.map((c) => c >>> 5), 0, ...codes.map((c) => c & 31)];
}

/**
 * Verifies a bech32 (BIP 173, not bech32m) checksum, case-insensitively, without the
 * 90-character limit (age identities are longer than Bitcoin addresses' limit allows).
 *
 * @example
 *   bech32Valid(ageSecretKey) // true for a key from age-keygen
 */
export function bech32Valid(value: string): boolean {
  const lower = value.toLowerCase();
  const sep = lower.lastIndexOf("1");
  if (sep < 1 || lower.length - sep - 1 < 6) return false;
  const data = Array.from({ length: lower.length - sep - 1 }, (_, i) =>
    BECH32.indexOf(lower.charAt(sep + 1 + i)),
  );
  if (data.some((d) => d < 0)) return false;
  return bech32Polymod([...hrpExpand(lower.slice(0, sep)), ...data]) === 1;
}

/**
 * Encodes bytes as lowercase bech32 with the given human-readable part.
 *
 * @example
 *   bech32Encode("age-secret-key-", bytes).toUpperCase()
 */
export function bech32Encode(hrp: string, bytes: readonly number[]): string {
  const data: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      data.push((acc >>> bits) & 31);
    }
  }
  if (bits > 0) data.push((acc << (5 - bits)) & 31);
  const mod = bech32Polymod([...hrpExpand(hrp), ...data, 0, 0, 0, 0, 0, 0]) ^ 1;
  const checksum = [0, 1, 2, 3, 4, 5].map((i) => (mod >>> (5 * (5 - i))) & 31);
  return `${hrp}1${[...data, ...checksum].map((d) => BECH32[d]).join("")}`;
}

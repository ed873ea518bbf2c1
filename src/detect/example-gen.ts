import type { ExampleGen } from "./rule.ts";

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX = "0123456789abcdef";
const B64 = ALNUM + "+/";
const B64URL = ALNUM + "_-";

/**
 * A deterministic generator (xorshift128+ seeded by a string), so rule examples are the
 * same on every run and no literal key-shaped string lives in the repository.
 *
 * @example
 *   const gen = createExampleGen("github-pat-classic"); gen.alnum(36);
 */
export function createExampleGen(seed: string): ExampleGen {
  // FNV-1a of the seed into two 32-bit halves of the state.
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < seed.length; i++) {
    h1 = Math.imul(h1 ^ seed.charCodeAt(i), 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ seed.charCodeAt(i), 0x5bd1e995) >>> 0;
  }
  let s0 = h1 | 1;
  let s1 = h2 | 2;
  const next = (): number => {
    // xorshift64 split over two 32-bit words (Marsaglia), good enough for examples.
    let x = s0;
    const y = s1;
    s0 = y;
    x ^= x << 23;
    x ^= x >>> 17;
    x ^= y ^ (y >>> 26);
    s1 = x >>> 0;
    return ((s0 + s1) >>> 0) / 2 ** 32;
  };
  const chars = (alphabet: string, n: number): string => {
    let out = "";
    for (let i = 0; i < n; i++) out += alphabet.charAt(Math.floor(next() * alphabet.length));
    return out;
  };
  const gen: ExampleGen = {
    chars,
    alnum: (n) => chars(ALNUM, n),
    hex: (n) => chars(HEX, n),
    hexUpper: (n) => chars(HEX.toUpperCase(), n),
    upperAlnum: (n) => chars(ALNUM.slice(0, 26) + "0123456789", n),
    lowerAlnum: (n) => chars(ALNUM.slice(26), n),
    digits: (n) => chars("0123456789", n),
    base64: (n) => chars(B64, n),
    base64url: (n) => chars(B64URL, n),
    base64Bytes: (bytes) => {
      const b = Buffer.alloc(bytes);
      for (let i = 0; i < bytes; i++) b[i] = Math.floor(next() * 256);
      return b.toString("base64");
    },
    pick: <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)]!,
    uuid: () => {
      const h = chars(HEX, 32);
      const variant = "89ab"[Math.floor(next() * 4)]!;
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
    },
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
  };
  return gen;
}

/** What a document is, decided from its first bytes (and its name for notebooks). */
export type ContainerKind = "zip" | "gzip" | "tar" | "notebook";

/** Formats recognised only to say why they are skipped. */
const UNSUPPORTED: readonly (readonly [string, Buffer])[] = [
  ["bzip2", Buffer.from("BZh")],
  ["xz", Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])],
  ["zstd", Buffer.from([0x28, 0xb5, 0x2f, 0xfd])],
  ["7z", Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c])],
  ["rar", Buffer.from("Rar!\x1a\x07")],
];

/** Enough leading bytes to recognise every kind (a tar header is 512 bytes). */
export const SNIFF_BYTES = 512;

/**
 * True when the first 512 bytes are a tar header: its checksum field matches the header's
 * byte sum, which also accepts pre-POSIX tars without the `ustar` magic.
 *
 * @example
 *   looksLikeTar(firstBlockOfTar) // true
 */
export function looksLikeTar(head: Buffer): boolean {
  if (head.length < 512) return false;
  const field = head
    .subarray(148, 156)
    .toString("latin1")
    .replace(/[\0 ]+$/g, "")
    .trim();
  if (!/^[0-7]{1,7}$/.test(field)) return false;
  const expected = parseInt(field, 8);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : head[i]!;
  return sum === expected && head[0] !== 0;
}

/**
 * The container kind of a document from its first bytes (at least SNIFF_BYTES when it has
 * them): zip (local header or empty archive), gzip, tar, or a Jupyter notebook (by name
 * and a JSON object). Undefined for anything else.
 *
 * @example
 *   sniffContainer(Buffer.from("PK\x03\x04..."), "lib.jar") // "zip"
 */
export function sniffContainer(head: Buffer, name: string): ContainerKind | undefined {
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b) {
    const sig = head.readUInt32LE(0);
    if (sig === 0x04034b50 || sig === 0x06054b50 || sig === 0x08074b50) return "zip";
  }
  if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return "gzip";
  if (looksLikeTar(head)) return "tar";
  if (/\.ipynb$/i.test(name) && /^\s*\{/.test(head.subarray(0, 64).toString("latin1"))) return "notebook";
  return undefined;
}

/**
 * The name of a compressed format Keywarden cannot open (bzip2, xz, zstd, 7z, rar), to give
 * a better skip reason than "binary content".
 *
 * @example
 *   unsupportedArchive(Buffer.from("BZh91AY")) // "bzip2"
 */
export function unsupportedArchive(head: Buffer): string | undefined {
  for (const [name, magic] of UNSUPPORTED) {
    if (head.length >= magic.length && head.subarray(0, magic.length).equals(magic)) return name;
  }
  return undefined;
}

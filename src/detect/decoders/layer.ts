/**
 * What every decoder returns: one decoded piece of a text and the way back from a span of
 * the decoded text to the span of the input that encodes it.
 */

/**
 * The decoders, in the order they are tried.
 *
 * @example
 *   DECODER_NAMES.includes("base64") // true
 */
export const DECODER_NAMES = ["base64", "base64url", "hex", "url", "json", "backslash"] as const;

/**
 * One kind of encoding that the scan can see through.
 *
 * @example
 *   const d: DecoderName = "url";
 */
export type DecoderName = (typeof DECODER_NAMES)[number];

/**
 * One decoded piece of an input text.
 *
 * @example
 *   const [s, e] = layer.toInput(3, 10); // offsets into the input that encode decoded[3, 10)
 */
export interface DecodedLayer {
  readonly decoder: DecoderName;
  readonly text: string;
  /** The encoded piece's span in the input: [start, end). */
  readonly start: number;
  readonly end: number;
  /** Maps a span of `text` to the smallest span of the input that encodes it. */
  toInput(start: number, end: number): readonly [number, number];
}

/**
 * A span mapper for decoders that turn each input position run into whole characters
 * (escape sequences): `origin[i]` is the input offset where decoded character i's encoding
 * starts, and `origin[text.length]` the end of the last one.
 *
 * @example
 *   const toInput = originMapper(origin); toInput(0, 2) // [origin[0], origin[2]]
 */
export function originMapper(origin: Int32Array): (start: number, end: number) => readonly [number, number] {
  return (start, end) => [origin[start]!, origin[end]!];
}

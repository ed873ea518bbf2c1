/** What the vault accepts as a secret value: small enough to check before any write. */

/** The largest value the vault stores, in bytes of UTF-8. */
export const MAX_VALUE_BYTES = 64 * 1024;

/**
 * Why a value (its UTF-8 bytes) cannot be stored, or undefined when it can: so that a batch
 * (an import) can be checked whole before anything of it is written.
 *
 * @example
 *   valueProblem(new Uint8Array(0)) // "it is empty"
 */
export function valueProblem(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return "it is empty";
  if (bytes.length > MAX_VALUE_BYTES) return `it is ${bytes.length} bytes, more than ${MAX_VALUE_BYTES}`;
  return undefined;
}

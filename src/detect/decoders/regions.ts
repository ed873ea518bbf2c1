/**
 * Escape-style encodings (URL %XX, JSON and backslash escapes) change a few characters in
 * place, so they are decoded in regions: a window of context around each cluster of escapes,
 * not the whole text. A secret that no escape touches is found by the plain scan already.
 */

/**
 * Context kept on each side of an escape: enough for a rule's key name and value.
 *
 * @example
 *   escapeRegions(text, [p]) // [p - CONTEXT, p + CONTEXT] on one long line
 */
export const CONTEXT = 256;
/**
 * A region is never longer than this; a denser cluster is cut into several.
 *
 * @example
 *   escapeRegions(text, positions).every((v, i, a) => i % 2 === 0 || v - a[i - 1]! <= MAX_REGION + 2 * CONTEXT)
 */
export const MAX_REGION = 64 * 1024;

/**
 * Groups escape positions (increasing) into regions [start, end, start, end, ...]: escapes
 * less than CONTEXT apart share a region, which reaches CONTEXT characters further on each
 * side but stops at a line break there. Linear in the text: each character is looked at a bounded number of times.
 *
 * @example
 *   escapeRegions("a\\nb", [1]) // [0, 4]
 */
export function escapeRegions(text: string, positions: readonly number[]): number[] {
  const out: number[] = [];
  let first = -1;
  let last = -1;
  for (const p of positions) {
    if (first >= 0 && p - last < CONTEXT && p - first < MAX_REGION) {
      last = p;
      continue;
    }
    if (first >= 0) out.push(regionStart(text, first), regionEnd(text, last));
    first = p;
    last = p;
  }
  if (first >= 0) out.push(regionStart(text, first), regionEnd(text, last));
  return out;
}

// Bounded loops, not lastIndexOf/indexOf: in a one-line file (a source map, minified code)
// those would run to the far end of the text for every escape.
function regionStart(text: string, p: number): number {
  const limit = Math.max(0, p - CONTEXT);
  for (let i = p; i > limit; i--) if (text.charCodeAt(i - 1) === 10) return i;
  return limit;
}

function regionEnd(text: string, p: number): number {
  const limit = Math.min(text.length, p + CONTEXT);
  for (let i = p; i < limit; i++) if (text.charCodeAt(i) === 10) return i;
  return limit;
}

/**
 * The value of one hex digit, or -1.
 *
 * @example
 *   hexValue("f".charCodeAt(0)) // 15
 */
export function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Text from what was scanned (file names, commit authors, found values) printed on a
 * terminal. A scanned repository is untrusted input: a file named with escape sequences
 * could erase or rewrite the lines above it (hiding a finding from whoever reads the
 * report), set the window title or write the clipboard (OSC 52); bidirectional controls
 * make a name read differently from what it is ("Trojan Source", CVE-2021-42574).
 */

/** C0 controls, DEL, C1 controls, and the Unicode bidirectional formatting characters. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` with every control and bidirectional formatting character shown as an escape
 * (`\x1b`, `\u202e`), so that what is printed is what is there.
 *
 * @example
 *   forTerminal("a\x1b[2Kb.env") // "a\\x1b[2Kb.env"
 */
export function forTerminal(text: string): string {
  return text.replace(UNSAFE, (ch) => {
    const code = ch.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

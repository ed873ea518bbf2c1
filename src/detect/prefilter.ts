/**
 * The keyword prefilter: one Aho-Corasick pass over the text finds every occurrence of every
 * rule keyword, ASCII case-insensitively, so that rule patterns run only near them.
 *
 * The automaton is a full DFA over 128 ASCII codes: a code point above 127 sends it back to
 * the root, since keywords are ASCII. Transitions live in one Int32Array for speed.
 */

const ALPHABET = 128;

export interface KeywordAutomaton {
  readonly keywords: readonly string[];
  /** Calls `onHit(keywordIndex, start)` for every occurrence, in text order of end position. */
  scan(text: string, onHit: (keyword: number, start: number) => void): void;
}

/**
 * The UTF-16 code units of `text` in a typed array, copied natively. Over a whole text the
 * automaton reads each unit once, and a typed array read costs a fraction of `charCodeAt`,
 * which V8 compiles for every kind of string it has met (sequential one- and two-byte,
 * external, sliced), not just the kind at hand.
 */
function codeUnits(text: string): Uint16Array {
  const units = new Uint16Array(text.length);
  Buffer.from(units.buffer, 0, units.byteLength).write(text, "utf16le");
  return units;
}

/**
 * Builds the automaton. Keywords are matched lowercase; they must be non-empty ASCII.
 *
 * @example
 *   buildAutomaton(["ghp_", "akia"]).scan("x=AKIA...", (k, at) => hits.push([k, at]));
 */
export function buildAutomaton(keywords: readonly string[]): KeywordAutomaton {
  const lowered = keywords.map((k) => k.toLowerCase());
  for (const k of lowered) {
    if (k.length === 0 || !/^[\x20-\x7e]+$/.test(k))
      throw new Error(`keyword must be printable ASCII: ${JSON.stringify(k)}`);
  }
  // Trie as growable arrays first.
  const children: Map<number, number>[] = [new Map<number, number>()];
  const outputs: number[][] = [[]];
  for (let ki = 0; ki < lowered.length; ki++) {
    const k = lowered[ki]!;
    let s = 0;
    for (let i = 0; i < k.length; i++) {
      const c = k.charCodeAt(i);
      let next = children[s]!.get(c);
      if (next === undefined) {
        next = children.length;
        children.push(new Map<number, number>());
        outputs.push([]);
        children[s]!.set(c, next);
      }
      s = next;
    }
    outputs[s]!.push(ki);
  }
  const states = children.length;
  const delta = new Int32Array(states * ALPHABET);
  const fail = new Int32Array(states);
  const queue: number[] = [];
  for (let c = 0; c < ALPHABET; c++) {
    const next = children[0]!.get(c);
    if (next !== undefined) {
      delta[c] = next;
      fail[next] = 0;
      queue.push(next);
    }
  }
  for (let qi = 0; qi < queue.length; qi++) {
    const s = queue[qi]!;
    const f = fail[s]!;
    outputs[s]!.push(...outputs[f]!);
    // A character without a child goes where the failure state's does: copy that row whole
    // (thousands of states times 128 codes), then set the children over it.
    delta.copyWithin(s * ALPHABET, f * ALPHABET, f * ALPHABET + ALPHABET);
    for (const [c, next] of [...children[s]!].sort((a, b) => a[0] - b[0])) {
      fail[next] = delta[f * ALPHABET + c]!;
      delta[s * ALPHABET + c] = next;
      queue.push(next);
    }
  }
  // Upper-case ASCII letters take the lower-case transitions.
  for (let s = 0; s < states; s++) {
    for (let c = 65; c <= 90; c++) delta[s * ALPHABET + c] = delta[s * ALPHABET + c + 32]!;
  }
  // The hot loop reads one table: each entry is the next state's row offset (state * 128),
  // with bit 0 set when that state ends a keyword. Row offsets are multiples of 128, so the
  // flag never collides with them.
  const table = new Int32Array(states * ALPHABET);
  for (let i = 0; i < table.length; i++) {
    const next = delta[i]!;
    table[i] = next * ALPHABET + (outputs[next]!.length > 0 ? 1 : 0);
  }
  const outputList: Int32Array[] = outputs.map((o) => Int32Array.from(o));
  const lengths = Int32Array.from(lowered.map((k) => k.length));

  return {
    keywords: lowered,
    scan(text, onHit) {
      let v = 0;
      const n = text.length;
      const units = codeUnits(text);
      for (let i = 0; i < n; i++) {
        const c = units[i]!;
        v = c < ALPHABET ? table[(v & ~1) + c]! : 0;
        if ((v & 1) !== 0) {
          const out = outputList[v >> 7]!;
          for (let j = 0; j < out.length; j++) {
            const k = out[j]!;
            onHit(k, i + 1 - lengths[k]!);
          }
        }
      }
    },
  };
}

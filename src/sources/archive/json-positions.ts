/** A JSON value with where it starts and ends in the source text. */
export type PositionedJson =
  | {
      readonly type: "object";
      readonly start: number;
      readonly end: number;
      readonly entries: ReadonlyMap<string, PositionedJson>;
    }
  | {
      readonly type: "array";
      readonly start: number;
      readonly end: number;
      readonly items: readonly PositionedJson[];
    }
  | { readonly type: "string"; readonly start: number; readonly end: number; readonly value: string }
  | { readonly type: "scalar"; readonly start: number; readonly end: number };

const MAX_DEPTH = 256;

/**
 * Parses JSON keeping each value's offsets, so a finding in a notebook's cell can point at
 * the line of the `.ipynb` file an editor shows. Throws a SyntaxError on malformed input.
 * Strings are decoded by JSON.parse on their own slice, so escapes follow the standard.
 *
 * @example
 *   const doc = parsePositioned('{"a": ["x"]}'); // doc.type === "object"
 */
export function parsePositioned(text: string): PositionedJson {
  let i = 0;
  const ws = (): void => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at offset ${i}`);
  };
  const str = (): { value: string; start: number; end: number } => {
    const start = i;
    i++;
    for (;;) {
      const q = text.indexOf('"', i);
      if (q < 0) fail("unterminated string");
      let bs = 0;
      for (let k = q - 1; k >= start && text.charCodeAt(k) === 0x5c; k--) bs++;
      i = q + 1;
      if (bs % 2 === 0) break;
    }
    return { value: JSON.parse(text.slice(start, i)) as string, start, end: i };
  };
  const value = (depth: number): PositionedJson => {
    if (depth > MAX_DEPTH) fail("nesting too deep");
    ws();
    const start = i;
    const c = text[i];
    if (c === "{") {
      i++;
      const entries = new Map<string, PositionedJson>();
      ws();
      if (text[i] === "}") return { type: "object", start, end: ++i, entries };
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a key");
        const key = str().value;
        ws();
        if (text[i++] !== ":") fail("expected ':'");
        entries.set(key, value(depth + 1));
        ws();
        const d = text[i++];
        if (d === "}") return { type: "object", start, end: i, entries };
        if (d !== ",") fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const items: PositionedJson[] = [];
      ws();
      if (text[i] === "]") return { type: "array", start, end: ++i, items };
      for (;;) {
        items.push(value(depth + 1));
        ws();
        const d = text[i++];
        if (d === "]") return { type: "array", start, end: i, items };
        if (d !== ",") fail("expected ',' or ']'");
      }
    }
    if (c === '"') return { type: "string", ...str() };
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 64));
    if (m === null) fail("unexpected token");
    i += m![0].length;
    return { type: "scalar", start, end: i };
  };
  const root = value(0);
  ws();
  if (i !== text.length) fail("trailing data");
  return root;
}

/**
 * Maps offsets of one text to 1-based lines and columns by binary search over line starts.
 *
 * @example
 *   const at = lineLocator("a\nbc"); at(3) // { line: 2, column: 2 }
 */
export function lineLocator(text: string): (offset: number) => { line: number; column: number } {
  const starts = [0];
  for (let k = text.indexOf("\n"); k >= 0; k = text.indexOf("\n", k + 1)) starts.push(k + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo]! + 1 };
  };
}

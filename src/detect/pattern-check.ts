/**
 * Static checks that a rule pattern is bounded, so that a user rule can never hang a scan:
 * no `*`, `+` or `{n,}` anywhere, and no quantified group containing another quantifier
 * with a maximum above one (star height one). Backreferences and lookbehind are refused too.
 */

interface Frame {
  /** The group contains a variable quantifier with a maximum above one. */
  repeated: boolean;
}

/**
 * Returns why the pattern source is unsafe, or undefined when it is bounded.
 *
 * @example
 *   checkBoundedPattern("ghp_[A-Za-z0-9]{36}") // undefined
 *   checkBoundedPattern("(a+)+")               // "unbounded quantifier '+' at 2"
 */
export function checkBoundedPattern(source: string): string | undefined {
  const stack: Frame[] = [{ repeated: false }];
  let i = 0;
  // What the last atom was, for deciding what a quantifier applies to.
  let lastAtomWasGroup = false;
  let lastGroupRepeated = false;
  while (i < source.length) {
    const c = source[i]!;
    if (c === "\\") {
      const next = source[i + 1];
      if (next !== undefined && /[1-9k]/.test(next)) return `backreference at ${i}`;
      i += 2;
      lastAtomWasGroup = false;
      continue;
    }
    if (c === "[") {
      i++;
      if (source[i] === "^") i++;
      if (source[i] === "]") i++;
      while (i < source.length && source[i] !== "]") i += source[i] === "\\" ? 2 : 1;
      i++;
      lastAtomWasGroup = false;
      continue;
    }
    if (c === "(") {
      if (source.startsWith("(?<=", i) || source.startsWith("(?<!", i)) return `lookbehind at ${i}`;
      stack.push({ repeated: false });
      i += source.startsWith("(?", i) && !source.startsWith("(?<", i) ? 3 : 1;
      if (source.startsWith("(?<", i - 1) || source[i - 1] === "<") {
        // Named group: skip the name.
        const close = source.indexOf(">", i);
        if (close > 0) i = close + 1;
      }
      lastAtomWasGroup = false;
      continue;
    }
    if (c === ")") {
      const frame = stack.pop();
      if (frame === undefined || stack.length === 0) return `unbalanced ')' at ${i}`;
      lastAtomWasGroup = true;
      lastGroupRepeated = frame.repeated;
      if (frame.repeated) stack[stack.length - 1]!.repeated = true;
      i++;
      continue;
    }
    if (c === "*" || c === "+") return `unbounded quantifier '${c}' at ${i}`;
    if (c === "?" || c === "{") {
      let min = 0;
      let max = 1;
      let end = i + 1;
      if (c === "{") {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i));
        if (m === null) {
          i++;
          lastAtomWasGroup = false;
          continue;
        }
        if (m[2] !== undefined && m[3] === "") return `unbounded quantifier '${m[0]}' at ${i}`;
        min = Number(m[1]);
        max = m[2] === undefined ? min : Number(m[3]);
        end = i + m[0].length;
      }
      if (source[end] === "?" || source[end] === "+") end++;
      if (max > 1 && lastAtomWasGroup && lastGroupRepeated) return `nested quantifier at ${i}`;
      // Only a variable count makes matching ambiguous: `{4}` inside a repeated group is fine.
      if (max > 1 && min !== max) stack[stack.length - 1]!.repeated = true;
      if (max > 1 && lastAtomWasGroup && min !== max) stack[stack.length - 1]!.repeated = true;
      lastAtomWasGroup = false;
      i = end;
      continue;
    }
    lastAtomWasGroup = false;
    i++;
  }
  if (stack.length !== 1) return "unbalanced '('";
  return undefined;
}

import { shannonEntropy } from "./entropy.ts";
import { checkBoundedPattern } from "./pattern-check.ts";
import { buildAutomaton, type KeywordAutomaton } from "./prefilter.ts";
import type { Rule } from "./rule.ts";

/** A secret found in a text, by character offsets into that text. */
export interface Match {
  readonly rule: Rule;
  /** The secret's span: [start, end). */
  readonly start: number;
  readonly end: number;
  readonly secret: string;
  /** The whole pattern match's span, which includes any context the pattern required. */
  readonly matchStart: number;
  readonly matchEnd: number;
  readonly entropy: number;
}

interface CompiledRule {
  readonly rule: Rule;
  readonly regex: RegExp;
  readonly before: number;
  readonly after: number;
}

/** The rules prepared for scanning: one automaton over every keyword. */
export interface Catalogue {
  readonly rules: readonly Rule[];
  readonly automaton: KeywordAutomaton;
  /** The longest `window.after` of any rule: how much overlap chunked scans need. */
  readonly maxWindow: number;
  /** @internal keyword index -> compiled rules using it */
  readonly byKeyword: readonly (readonly CompiledRule[])[];
}

const DEFAULT_WINDOW = { before: 128, after: 512 };
/** How far a window may be widened to reach a line boundary. */
const LINE_SNAP_LIMIT = 1024;

/**
 * Compiles rules into a catalogue. Throws when a rule's pattern is unbounded or invalid,
 * with the rule id in the message.
 *
 * @example
 *   const catalogue = compileCatalogue(BUILTIN_RULES);
 */
export function compileCatalogue(rules: readonly Rule[]): Catalogue {
  const keywordIndex = new Map<string, number>();
  const byKeyword: CompiledRule[][] = [];
  let maxWindow = DEFAULT_WINDOW.after;
  for (const rule of rules) {
    const problem = checkBoundedPattern(rule.pattern.source);
    if (problem !== undefined) throw new Error(`rule ${rule.id}: pattern is not bounded: ${problem}`);
    if (rule.keywords.length === 0) throw new Error(`rule ${rule.id}: at least one keyword is required`);
    const flags = "gd" + rule.pattern.flags.replace(/[^imsu]/g, "");
    const window = rule.window ?? DEFAULT_WINDOW;
    maxWindow = Math.max(maxWindow, window.after + window.before);
    const compiled: CompiledRule = {
      rule,
      regex: new RegExp(rule.pattern.source, flags),
      before: window.before,
      after: window.after,
    };
    for (const raw of new Set(rule.keywords.map((k) => k.toLowerCase()))) {
      let idx = keywordIndex.get(raw);
      if (idx === undefined) {
        idx = byKeyword.length;
        keywordIndex.set(raw, idx);
        byKeyword.push([]);
      }
      byKeyword[idx]!.push(compiled);
    }
  }
  return {
    rules,
    automaton: buildAutomaton([...keywordIndex.keys()]),
    maxWindow: maxWindow + 2 * LINE_SNAP_LIMIT,
    byKeyword,
  };
}

function snapStart(text: string, pos: number): number {
  const limit = Math.max(0, pos - LINE_SNAP_LIMIT);
  for (let i = pos; i > limit; i--) {
    const c = text.charCodeAt(i - 1);
    if (c === 10) return i;
  }
  // No newline near: back up to whitespace so a token is not cut in half.
  for (let i = pos; i > limit; i--) {
    const c = text.charCodeAt(i - 1);
    if (c === 32 || c === 9 || c === 13) return i;
  }
  return limit;
}

function snapEnd(text: string, pos: number): number {
  const limit = Math.min(text.length, pos + LINE_SNAP_LIMIT);
  for (let i = pos; i < limit; i++) if (text.charCodeAt(i) === 10) return i;
  for (let i = pos; i < limit; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 13) return i;
  }
  return limit;
}

/**
 * Finds every secret in `text`: keyword prefilter, then each triggered rule's pattern over
 * merged windows around its keyword hits, then entropy and validator checks. The same
 * secret found twice by one rule at one offset is reported once; a generic rule's match
 * that overlaps a provider rule's match is dropped.
 *
 * @example
 *   scanText('token = "ghp_..."', catalogue) // [{ rule, start, end, secret, ... }]
 */
export function scanText(text: string, catalogue: Catalogue): Match[] {
  // Windows per compiled rule, merged while collecting: hits arrive in increasing order.
  const windows = new Map<CompiledRule, number[]>();
  catalogue.automaton.scan(text, (keyword, at) => {
    for (const cr of catalogue.byKeyword[keyword]!) {
      const start = Math.max(0, at - cr.before);
      const end = Math.min(text.length, at + cr.after);
      let list = windows.get(cr);
      if (list === undefined) {
        list = [];
        windows.set(cr, list);
      }
      const n = list.length;
      if (n > 0 && start <= list[n - 1]!) {
        if (end > list[n - 1]!) list[n - 1] = end;
      } else list.push(start, end);
    }
  });

  const matches: Match[] = [];
  for (const [cr, list] of windows) {
    let scannedTo = 0;
    for (let w = 0; w < list.length; w += 2) {
      const ws = Math.max(scannedTo, snapStart(text, list[w]!));
      const we = snapEnd(text, list[w + 1]!);
      if (we <= ws) continue;
      scannedTo = we;
      collectRuleMatches(text, ws, we, cr, matches);
    }
  }
  return dedupe(matches);
}

function collectRuleMatches(text: string, ws: number, we: number, cr: CompiledRule, out: Match[]): void {
  const { rule, regex } = cr;
  const slice = text.slice(ws, we);
  regex.lastIndex = 0;
  for (let m = regex.exec(slice); m !== null; m = regex.exec(slice)) {
    if (m[0].length === 0) {
      regex.lastIndex++;
      continue;
    }
    const span = m.indices?.[rule.secretGroup];
    const secret = m[rule.secretGroup];
    if (span === undefined || secret === undefined || secret.length === 0) continue;
    const entropy = shannonEntropy(secret);
    if (entropy < rule.entropy) continue;
    if (rule.validate !== undefined && !rule.validate(secret)) continue;
    out.push({
      rule,
      start: ws + span[0],
      end: ws + span[1],
      secret,
      matchStart: ws + m.index,
      matchEnd: ws + m.index + m[0].length,
      entropy,
    });
  }
}

function dedupe(matches: Match[]): Match[] {
  if (matches.length < 2) return matches;
  matches.sort((a, b) => a.start - b.start || b.end - a.end);
  const seen = new Set<string>();
  const specific = matches.filter((m) => m.rule.generic !== true);
  const out: Match[] = [];
  for (const m of matches) {
    const key = `${m.rule.id}\u0000${m.start}\u0000${m.secret}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (m.rule.generic === true && specific.some((s) => s.start < m.end && m.start < s.end)) continue;
    out.push(m);
  }
  return out;
}

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
}

/** Rules that share keywords and window size share their windows: computed once per text. */
interface WindowGroup {
  readonly keywords: readonly number[];
  readonly before: number;
  readonly after: number;
  readonly rules: readonly CompiledRule[];
}

/** The rules prepared for scanning: one automaton over every keyword. */
export interface Catalogue {
  readonly rules: readonly Rule[];
  readonly automaton: KeywordAutomaton;
  /** The longest window of any rule: how much overlap chunked scans need. */
  readonly maxWindow: number;
  /** @internal rules grouped by keyword set and window */
  readonly groups: readonly WindowGroup[];
  /** @internal keyword index -> groups using it */
  readonly groupsByKeyword: readonly (readonly number[])[];
  /**
   * @internal keyword index -> the distance under which its next occurrence adds nothing to
   * the windows (see `collapsingHits`)
   */
  readonly keywordSteps: Int32Array;
}

const DEFAULT_WINDOW = { before: 128, after: 512 };
/** How far a window may be widened to reach a line start or end, or a token boundary. */
const SNAP_LIMIT = 256;

/**
 * Compiles rules into a catalogue. Throws when a rule's pattern is unbounded or invalid,
 * with the rule id in the message.
 *
 * @example
 *   const catalogue = compileCatalogue(BUILTIN_RULES);
 */
export function compileCatalogue(rules: readonly Rule[]): Catalogue {
  const keywordIndex = new Map<string, number>();
  const groupIndex = new Map<string, number>();
  const groups: { keywords: number[]; before: number; after: number; rules: CompiledRule[] }[] = [];
  let maxWindow = DEFAULT_WINDOW.after + DEFAULT_WINDOW.before;
  for (const rule of rules) {
    const problem = checkBoundedPattern(rule.pattern.source);
    if (problem !== undefined) throw new Error(`rule ${rule.id}: pattern is not bounded: ${problem}`);
    if (rule.keywords.length === 0) throw new Error(`rule ${rule.id}: at least one keyword is required`);
    const flags = "gd" + rule.pattern.flags.replace(/[^imsu]/g, "");
    const window = rule.window ?? DEFAULT_WINDOW;
    maxWindow = Math.max(maxWindow, window.after + window.before);
    const keywords = [...new Set(rule.keywords.map((k) => k.toLowerCase()))].sort().map((k) => {
      let idx = keywordIndex.get(k);
      if (idx === undefined) {
        idx = keywordIndex.size;
        keywordIndex.set(k, idx);
      }
      return idx;
    });
    const key = `${keywords.join(",")}/${window.before}/${window.after}`;
    let g = groupIndex.get(key);
    if (g === undefined) {
      g = groups.length;
      groupIndex.set(key, g);
      groups.push({ keywords, before: window.before, after: window.after, rules: [] });
    }
    groups[g]!.rules.push({ rule, regex: new RegExp(rule.pattern.source, flags) });
  }
  const groupsByKeyword: number[][] = Array.from({ length: keywordIndex.size }, () => []);
  groups.forEach((g, gi) => {
    for (const k of g.keywords) groupsByKeyword[k]!.push(gi);
  });
  const keywords = [...keywordIndex.keys()];
  // Occurrences closer than the keyword's length overlap (a run of "a" holds "aaaa…a" at
  // every position); closer than half the narrowest window using it, their windows merge.
  const keywordSteps = Int32Array.from(keywords, (k, i) =>
    Math.max(
      1,
      Math.min(k.length, ...groupsByKeyword[i]!.map((gi) => (groups[gi]!.before + groups[gi]!.after) >> 1)),
    ),
  );
  return {
    rules,
    automaton: buildAutomaton(keywords),
    maxWindow: maxWindow + 2 * SNAP_LIMIT,
    groups,
    groupsByKeyword,
    keywordSteps,
  };
}

/** Characters a token is made of: a window never starts or ends inside a run of them. */
function isTokenChar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) ||
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    c === 95 ||
    c === 45 ||
    c === 43 ||
    c === 47 ||
    c === 61 ||
    c === 46
  );
}

/** Moves a window start back to the line start, or else a token boundary, within SNAP_LIMIT. */
function snapStart(text: string, pos: number): number {
  const limit = Math.max(0, pos - SNAP_LIMIT);
  let boundary = -1;
  for (let i = pos; i > limit; i--) {
    const c = text.charCodeAt(i - 1);
    if (c === 10) return i;
    if (boundary < 0 && !isTokenChar(c)) boundary = i;
  }
  return limit === 0 ? 0 : boundary >= 0 ? boundary : limit;
}

/** Moves a window end forward to the line end, or else a token boundary, within SNAP_LIMIT. */
function snapEnd(text: string, pos: number): number {
  const limit = Math.min(text.length, pos + SNAP_LIMIT);
  let boundary = -1;
  for (let i = pos; i < limit; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) return i;
    if (boundary < 0 && !isTokenChar(c)) boundary = i;
  }
  return limit === text.length ? limit : boundary >= 0 ? boundary : limit;
}

/**
 * Finds every secret in `text`: keyword prefilter, then each triggered rule's pattern over
 * merged windows around its keyword hits, then entropy and validator checks. The same
 * secret found twice by one rule at one offset is reported once; a generic rule's match
 * that overlaps a provider rule's match is dropped. `keywordStarts`, when given, receives
 * the start of every keyword occurrence (keyword by keyword, not sorted), so a caller can
 * reuse the prefilter's pass (the decoders do).
 *
 * @example
 *   scanText('token = "ghp_..."', catalogue) // [{ rule, start, end, secret, ... }]
 */
export function scanText(text: string, catalogue: Catalogue, keywordStarts?: number[]): Match[] {
  const hits = collapsingHits(text, catalogue);
  if (hits.size === 0) return [];
  // Copied after the pass, so the per-hit callback stays as lean as in a plain scan.
  if (keywordStarts !== undefined)
    for (const list of hits.values()) for (const at of list) keywordStarts.push(at);

  const triggered = new Set<number>();
  for (const k of hits.keys()) for (const g of catalogue.groupsByKeyword[k]!) triggered.add(g);

  const matches: Match[] = [];
  for (const gi of triggered) {
    const group = catalogue.groups[gi]!;
    const windows = groupWindows(text, group, hits);
    for (const cr of group.rules) {
      for (let w = 0; w < windows.length; w += 2)
        collectRuleMatches(text, windows[w]!, windows[w + 1]!, cr, matches);
    }
  }
  return dedupe(matches);
}

/**
 * Hit positions per keyword, in increasing order, with runs of overlapping occurrences
 * thinned out. A run of "A" (base64 of zero bytes, a padded fixture) holds an occurrence
 * of the keyword "aaaaaaaaaaaaaaaaaaaa" at every position: recording each cost 8 MB of text
 * 3 s and 500 MB. Within a run, an occurrence is recorded when it lies at least the
 * keyword's step (`keywordSteps`) past the last one recorded, and the run's last occurrence
 * always: so consecutive recorded hits are less than twice the step apart, their windows
 * overlap, and the merged windows are exactly those of every occurrence.
 */
function collapsingHits(text: string, catalogue: Catalogue): Map<number, number[]> {
  const hits = new Map<number, number[]>();
  const steps = catalogue.keywordSteps;
  // Per keyword, the last position recorded for good, and whether the list's last entry is
  // instead a provisional one (the run's latest occurrence), overwritten while the run goes
  // on. Made at the first hit that continues a list: most texts never need them.
  let anchors: Int32Array | undefined;
  let provisional: Uint8Array | undefined;
  catalogue.automaton.scan(text, (keyword, at) => {
    const list = hits.get(keyword);
    if (list === undefined) {
      hits.set(keyword, [at]);
      return;
    }
    if (anchors === undefined) {
      anchors = new Int32Array(steps.length).fill(-1);
      provisional = new Uint8Array(steps.length);
    }
    const anchor = anchors[keyword]! < 0 ? list[0]! : anchors[keyword]!;
    if (at - anchor < steps[keyword]!) {
      if (provisional![keyword] === 1) list[list.length - 1] = at;
      else {
        list.push(at);
        provisional![keyword] = 1;
      }
      return;
    }
    provisional![keyword] = 0;
    list.push(at);
    anchors[keyword] = at;
  });
  return hits;
}

/** Merged, snapped windows [start, end, start, end, ...] around a group's keyword hits. */
function groupWindows(text: string, group: WindowGroup, hits: ReadonlyMap<number, number[]>): number[] {
  let positions: number[] = [];
  let lists = 0;
  for (const k of group.keywords) {
    const list = hits.get(k);
    if (list === undefined) continue;
    positions = lists === 0 ? list : positions.concat(list);
    lists++;
  }
  if (lists > 1) positions.sort((a, b) => a - b);
  const out: number[] = [];
  for (const at of positions) {
    const start = at - group.before;
    const end = at + group.after;
    const n = out.length;
    if (n > 0 && start <= out[n - 1]!) {
      if (end > out[n - 1]!) out[n - 1] = end;
    } else out.push(start, end);
  }
  // Snap after merging, and merge again where snapping made neighbours touch.
  const snapped: number[] = [];
  for (let i = 0; i < out.length; i += 2) {
    const ws = snapStart(text, Math.max(0, out[i]!));
    const we = snapEnd(text, Math.min(text.length, out[i + 1]!));
    const n = snapped.length;
    if (n > 0 && ws <= snapped[n - 1]!) snapped[n - 1] = Math.max(we, snapped[n - 1]!);
    else snapped.push(ws, we);
  }
  return snapped;
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

import type { Match } from "../engine.ts";
import { cloudRules } from "../rules/cloud.ts";
import { devtoolsRules } from "../rules/devtools.ts";
import { genericRules } from "../rules/generic.ts";
import { keywardenRules } from "../rules/keywarden.ts";
import { saasRules } from "../rules/saas.ts";

/**
 * Feature extraction for the candidate classifier. Everything here runs once per candidate
 * (a match the engine already accepted), never per byte of input, and looks at a bounded
 * slice of the text around the match, so its cost does not grow with the chunk size.
 * Changing a feature changes the model's input: bump FEATURE_VERSION and retrain
 * (`npm run ml:data && npm run ml:train`).
 */

/** Where the candidate was found. `path` is as the source reports it (relative or absolute). */
export interface CandidateContext {
  readonly text: string;
  readonly path: string;
}

/** A candidate's features: dense values (FEATURE_NAMES order) and hashed sparse indices. */
export interface Features {
  readonly dense: Float64Array;
  /** Indices in [0, HASH_BUCKETS), each with value 1; may repeat. */
  readonly sparse: readonly number[];
}

/**
 * Bumped whenever a feature's meaning changes: a model trained on another version is refused.
 *
 * @example
 *   if (model.featureVersion !== FEATURE_VERSION) throw new Error("retrain");
 */
export const FEATURE_VERSION = 1;
/**
 * Size of the hashed sparse feature space (rule id, key name words, path words, value shape).
 *
 * @example
 *   new Array<number>(HASH_BUCKETS).fill(0) // one weight per bucket
 */
export const HASH_BUCKETS = 4096;

/**
 * The rule families of the built-in catalogue; user rules are "custom".
 *
 * @example
 *   FAMILIES.indexOf(ruleFamily(rule.id))
 */
export const FAMILIES = ["cloud", "devtools", "saas", "keywarden", "generic", "custom"] as const;
export type Family = (typeof FAMILIES)[number];

let familyById: Map<string, Family> | undefined;

/**
 * The family of a rule id: which part of the built-in catalogue defines it.
 *
 * @example
 *   ruleFamily("aws-access-key-id") // "cloud"
 */
export function ruleFamily(ruleId: string): Family {
  if (familyById === undefined) {
    familyById = new Map();
    const parts: [Family, readonly { id: string }[]][] = [
      ["cloud", cloudRules],
      ["devtools", devtoolsRules],
      ["saas", saasRules],
      ["keywarden", keywardenRules],
      ["generic", genericRules],
    ];
    for (const [family, rules] of parts) for (const r of rules) familyById.set(r.id, family);
  }
  return familyById.get(ruleId) ?? "custom";
}

const PLACEHOLDER =
  /example|sample|placeholder|your[_-]?|[_-]here|changeme|change_me|dummy|fake|redacted|xxxx|\*\*\*|<[^>]{0,40}>|\$\{|\{\{|%\(|lorem|foobar|insert|replace|todo/i;
const TEST_MODE = /(?:^|[_-])test[_-]|_test$|^test/i;
const KEY_NAME = /key|secret|token|passw|pwd|auth|credential|private|signing|api/i;
const FAKE_NAME = /public|publishable|example|sample|test|mock|fake|dummy|stub|fixture|demo/i;
const TEST_WORDS =
  /\b(?:test|tests|testing|spec|mock|mocks|mocked|stub|stubs|fake|fixture|fixtures|assert|expect|should|describe|it\(|jest|mocha|pytest|unittest|tap)\b/i;
const DOC_WORDS =
  /\b(?:example|examples|e\.g\.|sample|placeholder|documentation|docs|tutorial|replace|your|for instance|such as|demo|readme)\b/i;
const ENV_LOOKUP = /process\.env|os\.environ|getenv|ENV\[|System\.getenv|\$\{\{\s*secrets\./;
const HASH_WORDS =
  /integrity|sha1|sha256|sha384|sha512|checksum|hash|digest|fingerprint|etag|commit|md5|uuid|nonce/i;
const LOCAL_WORDS = /localhost|127\.0\.0\.1|example\.(?:com|org|net)|\.test\b|\.local\b|\.invalid\b/i;
const COMMENT = /(?:^|\s)(?:\/\/|#|\/\*|\*|<!--|--|;|%|rem\s)/i;

const CODE_EXT = new Set(
  "js mjs cjs jsx ts mts cts tsx py rb go java kt kts scala cs php rs swift c cc cpp h hpp m sh bash zsh ps1 pl lua r dart ex exs clj groovy gradle vue svelte".split(
    " ",
  ),
);
const CONFIG_EXT = new Set(
  "env yml yaml json json5 toml ini cfg conf properties xml tf tfvars hcl plist npmrc pypirc netrc config cnf".split(
    " ",
  ),
);
const DOC_EXT = new Set("md markdown rst txt adoc html htm tex org rdoc pod 1 3 5 8".split(" "));
const LOG_EXT = new Set(["log", "out", "err", "jsonl", "ndjson"]);

/** Common English and identifier words: letters of a value covered by them suggest a name, not a key. */
const WORDS = new Set(
  (
    "able about access account action active add address admin after agent alert all allow alpha also amazon " +
    "android angular answer apache api app apple application apply archive area array auth author auto back " +
    "backend base basic batch before begin best beta big bin binary bit blob block blue body book bool boot " +
    "both box branch bucket buffer build bundle business button byte cache call callback can card case cert " +
    "change channel char chart check child class clean clear click client clone close cloud cluster code " +
    "color column command comment commit common company compare config connect console const content context " +
    "control cookie copy core count country create credential cross current custom customer dark data date " +
    "debug default define delete demo deploy desktop detail dev device dialog digest direct disable display " +
    "docker document domain done double down download draft drive driver drop dummy dynamic each edge edit " +
    "element email empty enable encode end engine enter entry env error event example exchange exec exist " +
    "export express extension external face factory false feature fetch field file filter final first fix " +
    "flag float flow folder font foot form format frame free from front full function game gateway general " +
    "generate get github global google graph green group guard guest handle handler hash head header health " +
    "hello help hidden history home hook host html http icon image import index info init inner input insert " +
    "install instance integer internal invalid item java job join json just keep kernel key kind label lambda " +
    "language last layer layout left length level library light limit line link list live load local lock " +
    "log login long lookup main manager map mark master match max media member memory menu merge message " +
    "meta method middle min mobile mock mode model module monitor more mount move name native network never " +
    "new next node none normal note null number object offset old only open option order origin output owner " +
    "package page panel param parent parse part pass password patch path pattern payment peer per phone " +
    "pipeline plain platform plugin point policy pool port post power prefix press preview primary print " +
    "private process product profile project promise property protocol provider proxy public pull push query " +
    "queue quick random range read ready record redirect reduce ref region register release remote remove " +
    "render replace reply report request require reset resolve resource response rest result return right " +
    "role root route row rule run runtime safe sample save scale schema scope screen script search second " +
    "secret section secure select self send server service session set setting setup share shell short show " +
    "sign simple single site size slack slot small socket sort source space spec split stack stage standard " +
    "start state static status step storage store stream string style sub submit success super support " +
    "switch sync system table tag target task team template temp test text theme thread time title token " +
    "tool top total trace track transfer transform tree trigger true type update upload url user util valid " +
    "value version view virtual visible wait watch web window word work worker world wrapper write yes zone"
  ).split(" "),
);

/** FNV-1a over a string, as an index into the hashed feature space. */
function bucket(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0) % HASH_BUCKETS;
}

/** 0 upper, 1 lower, 2 digit, 3 other. */
function charClass(c: number): number {
  if (c >= 65 && c <= 90) return 0;
  if (c >= 97 && c <= 122) return 1;
  if (c >= 48 && c <= 57) return 2;
  return 3;
}

const SHAPE = "Aa9.";

/** Fraction of the value's letters that belong to dictionary words of four or more letters. */
function wordCoverage(lower: string): number {
  let covered = 0;
  let letters = 0;
  let i = 0;
  while (i < lower.length) {
    const c = lower.charCodeAt(i);
    if (c < 97 || c > 122) {
      i++;
      continue;
    }
    let j = i;
    while (j < lower.length && lower.charCodeAt(j) >= 97 && lower.charCodeAt(j) <= 122) j++;
    letters += j - i;
    // Greedy longest-word cover of the letter run.
    let k = i;
    while (k < j) {
      let hit = 0;
      for (let len = Math.min(12, j - k); len >= 4; len--) {
        if (WORDS.has(lower.slice(k, k + len))) {
          hit = len;
          break;
        }
      }
      if (hit > 0) {
        covered += hit;
        k += hit;
      } else k++;
    }
    i = j;
  }
  return letters === 0 ? 0 : covered / letters;
}

/** Splits an identifier into lowercase words: `clientSecret_v2` -> client, secret, v2. */
function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 1);
}

/**
 * The path with everything up to an installed package's root removed
 * (`.../node_modules/@scope/pkg/lib/x.js` -> `lib/x.js`), so where a package is installed
 * says nothing; the model judges the file as it is inside its own project.
 *
 * @example
 *   packageRelativePath("node_modules/a/test/x.js") // "test/x.js"
 */
export function packageRelativePath(path: string): string {
  const p = path.replace(/\\/g, "/");
  const idx = p.lastIndexOf("node_modules/");
  if (idx < 0) return p;
  const rest = p.slice(idx + "node_modules/".length).split("/");
  return rest.slice(rest[0]?.startsWith("@") === true ? 2 : 1).join("/");
}

/**
 * The names of the dense features, in order: docs/model.md lists the most informative.
 *
 * @example
 *   FEATURE_NAMES[0] // "value.log2_length"
 */
export const FEATURE_NAMES: readonly string[] = [
  "value.log2_length",
  "value.entropy",
  "value.entropy_ratio",
  "value.upper_frac",
  "value.lower_frac",
  "value.digit_frac",
  "value.other_frac",
  "value.classes",
  "value.class_transitions",
  "value.longest_run",
  "value.sequential_runs",
  "value.word_coverage",
  "value.placeholder",
  "value.test_mode",
  "value.hex_only",
  "value.uuid",
  "value.padding",
  "value.vowel_frac",
  "value.unique_char_frac",
  "value.unique_bigram_frac",
  "value.path_like",
  "value.has_example",
  "ctx.quote_before",
  "ctx.quote_after",
  "ctx.operator_before",
  "ctx.key_name",
  "ctx.fake_name",
  "ctx.comment",
  "ctx.test_words",
  "ctx.doc_words",
  "ctx.log2_line_length",
  "ctx.minified_line",
  "ctx.env_lookup",
  "ctx.url",
  "ctx.hash_words",
  "ctx.local_words",
  "ctx.data_uri",
  "ctx.code_fence",
  "path.test",
  "path.fixture",
  "path.example",
  "path.docs",
  "path.vendor",
  "path.ext_code",
  "path.ext_config",
  "path.ext_doc",
  "path.ext_notebook",
  "path.ext_log",
  "path.ext_generated",
  "path.ext_other",
  "path.dotenv",
  "rule.generic",
  "rule.validator",
  "rule.severity_critical",
  "rule.severity_high",
  "rule.severity_medium",
  "rule.severity_low",
  "rule.entropy_floor",
  "rule.entropy_margin",
  ...FAMILIES.map((f) => `rule.family_${f}`),
];

const b = (v: boolean): number => (v ? 1 : 0);

/**
 * Computes a candidate's features from the match, the text it was found in and the path.
 *
 * @example
 *   const f = extractFeatures(match, { text: chunk.text, path: chunk.path });
 *   f.dense.length === FEATURE_NAMES.length // true
 */
export function extractFeatures(match: Match, ctx: CandidateContext): Features {
  const { text } = ctx;
  const value = match.secret.length > 400 ? match.secret.slice(0, 400) : match.secret;
  const n = Math.max(1, value.length);
  const lower = value.toLowerCase();
  const d = new Float64Array(FEATURE_NAMES.length);
  const sparse: number[] = [];
  let k = 0;

  // The value.
  const counts = [0, 0, 0, 0];
  let transitions = 0;
  let run = 1;
  let longest = 1;
  let sequential = 0;
  let vowels = 0;
  let prevClass = -1;
  const chars = new Set<number>();
  const bigrams = new Set<number>();
  let shape = "";
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const cls = charClass(c);
    counts[cls]!++;
    shape += SHAPE.charAt(cls);
    if (prevClass >= 0 && cls !== prevClass) transitions++;
    prevClass = cls;
    chars.add(c);
    if (i > 0) {
      const p = value.charCodeAt(i - 1);
      bigrams.add(p * 65536 + c);
      run = c === p ? run + 1 : 1;
      if (run > longest) longest = run;
      if (i > 1 && c - p === 1 && p - value.charCodeAt(i - 2) === 1) sequential++;
    }
    if (cls === 1 && "aeiou".includes(value[i]!)) vowels++;
    else if (cls === 0 && "AEIOU".includes(value[i]!)) vowels++;
  }
  const letters = counts[0]! + counts[1]!;
  const classes = counts.filter((x) => x > 0).length;
  d[k++] = Math.log2(n) / 8;
  d[k++] = match.entropy / 6;
  d[k++] = n > 1 ? match.entropy / Math.log2(Math.min(n, 64)) : 0;
  d[k++] = counts[0]! / n;
  d[k++] = counts[1]! / n;
  d[k++] = counts[2]! / n;
  d[k++] = counts[3]! / n;
  d[k++] = classes / 4;
  d[k++] = transitions / n;
  d[k++] = longest / n;
  d[k++] = Math.min(1, sequential / 4);
  d[k++] = wordCoverage(lower);
  d[k++] = b(PLACEHOLDER.test(value));
  d[k++] = b(TEST_MODE.test(value));
  d[k++] = b(/^[0-9a-f]+$/i.test(value));
  d[k++] = b(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i.test(value));
  d[k++] = b(value.endsWith("="));
  d[k++] = letters === 0 ? 0 : vowels / letters;
  d[k++] = chars.size / n;
  d[k++] = value.length > 1 ? bigrams.size / (value.length - 1) : 0;
  d[k++] = b(/[/.]/.test(value) && /[a-z]{3,}[/.][a-z]{3,}/i.test(value));
  d[k++] = b(lower.includes("example"));
  for (let i = 0; i + 4 <= shape.length && i < 64; i++) sparse.push(bucket("s:" + shape.slice(i, i + 4)));

  // The context: the line around the match, at most a few hundred characters each way.
  const lineStart = Math.max(text.lastIndexOf("\n", match.start - 1) + 1, match.start - 300);
  let lineEnd = text.indexOf("\n", match.end);
  if (lineEnd < 0 || lineEnd > match.end + 300) lineEnd = Math.min(text.length, match.end + 300);
  const before = text.slice(Math.max(lineStart, match.start - 120), match.start);
  const after = text.slice(match.end, Math.min(lineEnd, match.end + 40));
  const near = text.slice(Math.max(0, match.start - 400), Math.min(text.length, match.end + 400));
  const lineBefore = text.slice(lineStart, match.start);
  let lineLength = lineEnd - lineStart;
  if (lineEnd === match.end + 300 || lineStart === match.start - 300) lineLength = 10_000;
  const nameMatch =
    /([A-Za-z_$@][\w$.-]{0,60})["'\]]?\s{0,3}(?:=>|:=|==?|:|,)\s{0,3}(?:[rbuf@]?["'`])?\s{0,3}$/.exec(before);
  const name = nameMatch?.[1] ?? /([A-Za-z_][\w-]{1,60})[^\w]{0,12}$/.exec(before)?.[1] ?? "";
  const q = before.charCodeAt(before.length - 1);
  d[k++] = b(q === 34 || q === 39 || q === 96);
  const qa = after.charCodeAt(0);
  d[k++] = b(qa === 34 || qa === 39 || qa === 96);
  d[k++] = b(nameMatch !== null);
  d[k++] = b(KEY_NAME.test(name));
  d[k++] = b(FAKE_NAME.test(name));
  d[k++] = b(COMMENT.test(lineBefore.slice(0, 200)));
  d[k++] = b(TEST_WORDS.test(near));
  d[k++] = b(DOC_WORDS.test(near));
  d[k++] = Math.log2(1 + lineLength) / 14;
  d[k++] = b(lineLength > 1000);
  d[k++] = b(ENV_LOOKUP.test(near));
  d[k++] = b(before.includes("://"));
  d[k++] = b(HASH_WORDS.test(before.slice(-60)));
  d[k++] = b(LOCAL_WORDS.test(near));
  d[k++] = b(/data:[\w/+.-]{1,60};base64,/.test(before));
  d[k++] = b(near.includes("```"));
  for (const w of nameWords(name)) sparse.push(bucket("n:" + w));
  const ctxWords =
    lineBefore
      .slice(-80)
      .toLowerCase()
      .match(/[a-z]{3,}/g) ?? [];
  for (const w of ctxWords.slice(-6)) sparse.push(bucket("w:" + w));

  // The path, relative to an installed package's root.
  const path = packageRelativePath(ctx.path).toLowerCase();
  const slash = path.lastIndexOf("/");
  const file = path.slice(slash + 1);
  const dot = file.lastIndexOf(".");
  const ext = dot > 0 ? file.slice(dot + 1) : file.startsWith(".") ? file.slice(1) : "";
  const segs = `/${path}`;
  d[k++] = b(
    /\/(?:test|tests|__tests__|spec|specs|e2e|testing|testdata|test-data|__mocks__)\//.test(segs) ||
      /[._-](?:test|spec)\.[a-z]+$/.test(file),
  );
  d[k++] = b(/\/(?:fixtures?|mocks?|stubs?|fake|fakes|snapshots?|__snapshots__)\//.test(segs));
  d[k++] = b(
    /\/(?:examples?|samples?|demos?|sandbox|playground)\//.test(segs) || /example|sample/.test(file),
  );
  d[k++] = b(
    /\/(?:docs?|documentation|man|guide|guides|wiki)\//.test(segs) ||
      /^(?:readme|changelog|history|contributing)/.test(file),
  );
  d[k++] = b(
    /\/(?:vendor|third_party|third-party|dist|build|out|bundle|lib\/vendor)\//.test(segs) ||
      /\.min\.[a-z]+$/.test(file),
  );
  const isDotenv = file === ".env" || file.startsWith(".env.") || file.endsWith(".env");
  const generated = /\.(?:min\.js|map|d\.ts|lock)$|^(?:package-lock\.json|yarn\.lock|pnpm-lock\.yaml)$/.test(
    file,
  );
  d[k++] = b(!generated && CODE_EXT.has(ext));
  d[k++] = b(!generated && (CONFIG_EXT.has(ext) || isDotenv));
  d[k++] = b(DOC_EXT.has(ext));
  d[k++] = b(ext === "ipynb");
  d[k++] = b(LOG_EXT.has(ext));
  d[k++] = b(generated);
  d[k++] = b(
    !generated &&
      !CODE_EXT.has(ext) &&
      !CONFIG_EXT.has(ext) &&
      !DOC_EXT.has(ext) &&
      !LOG_EXT.has(ext) &&
      ext !== "ipynb" &&
      !isDotenv,
  );
  d[k++] = b(isDotenv);
  sparse.push(bucket("e:" + ext));
  for (const seg of path.split("/").slice(-4, -1)) sparse.push(bucket("p:" + seg));

  // The rule.
  const { rule } = match;
  const family = ruleFamily(rule.id);
  d[k++] = b(rule.generic === true);
  d[k++] = b(rule.validate !== undefined);
  d[k++] = b(rule.severity === "critical");
  d[k++] = b(rule.severity === "high");
  d[k++] = b(rule.severity === "medium");
  d[k++] = b(rule.severity === "low");
  d[k++] = rule.entropy / 6;
  d[k++] = Math.max(-1, Math.min(1, (match.entropy - (rule.entropy > 0 ? rule.entropy : 3)) / 3));
  for (const f of FAMILIES) d[k++] = b(f === family);
  sparse.push(bucket("r:" + rule.id));
  return { dense: d, sparse };
}

import { createHash } from "node:crypto";

/**
 * Value checks shared by the generic rules (assignments, URIs, headers, CLI flags). A
 * generic rule only knows that a value sits where a secret usually sits, so these checks
 * decide whether the value is a literal secret rather than a placeholder, a template, a
 * reference to somewhere else (an env var, a config path, a function call), a word or a
 * documentation example. Precision matters more than recall here: provider rules catch the
 * well-formed keys.
 */

/** Whole values (lowercased) that are never a real secret. */
const NON_SECRETS = new Set([
  "null",
  "none",
  "nil",
  "undefined",
  "true",
  "false",
  "empty",
  "n/a",
  "required",
  "optional",
  "tbd",
]);

/** Substrings that mark a placeholder, a masked value, documentation or a demo credential. */
const PLACEHOLDER_FRAGMENT =
  /example|sample|placeholder|your|change_?me|change-me|replace|redacted|dummy|fake|insert|lorem|foobar|todo|fixme|not_?real|not-real|here|\*\*\*|\.\.\.|___|•|passw|secret|api[_-]?key/i;

/** The longer fragments, also looked for with leetspeak undone (`P@ssw0rd`, `s3cr3t`). */
const LEET_FRAGMENT = /passw|secret|example|sample|change_?me|placeholder|dummy|redacted|replace/;

/** Templates and references: `${X}`, `{{ x }}`, `%(x)s`, `<x>`, `$X`, `#{x}`, `ENC[...]`, `vault:...`. */
const TEMPLATE =
  /\$\{[\w.:-]{1,80}|\$\([\w .:-]{1,80}|\{\{|\}\}|\{%|%\}|%\([\w.-]{1,40}\)[sd]|#\{[\w.:-]{1,80}\}|@\{[\w.:-]{1,80}\}|<[\w .:/-]{1,80}>|^<|>$|^\$[A-Za-z_]\w{0,80}$|^\$\d[a-z]?\$|^%\w[\w.]{0,80}%$|^@\w[\w.]{0,80}@$|^__\w{1,80}__$|^[!*&:?][A-Za-z_][\w.-]{0,80}$|^\{.{0,200}\}$|^\[.{0,200}\]$|^\(.{0,200}\)$|^ENC[[(]|^(?:vault|op|sm|gcpsm|awssm|ref\+\w{1,20}|secret|arn|env|file|keychain):/i;

/** An expression rather than a literal: a call, an index, a static member, an env lookup. */
const EXPRESSION =
  /^(?:new\s)?[A-Za-z_$][\w$.]{0,120}[([][\w$.()[\],:=*]{0,200}$|::|->|[<>=!~]=\s?\d|^(?:process\.env|os\.environ|os\.getenv|System\.getenv|ENV\b)/;

/** A dotted path of identifiers (`config.db.password`, `secrets.TOKEN`, `Enum.CLIENT_AUTH`). */
const DOTTED_PATH = /^[A-Za-z_$][\w$]{0,60}(?:\.[A-Za-z_$][\w$]{0,60}){1,10}$/;

/** Identifiers and type names: camelCase, PascalCase (with acronyms), snake_case, UPPER_SNAKE, kebab-case, word + digits. */
const IDENTIFIER = [
  /^[a-z]{1,40}\d{0,3}(?:[A-Z][a-z]{2,40}\d{0,3}){1,8}$/,
  /^[A-Z]{0,6}\d{0,2}(?:[A-Z][a-z]{1,40}\d{0,3}){1,8}[A-Z]{0,6}$/,
  /^[a-z]{1,40}\d{0,4}(?:[_-](?:[a-z]{1,40}\d{0,4}|\d{1,4})){1,10}$/,
  /^[A-Z]{1,40}\d{0,4}(?:[_-](?:[A-Z]{1,40}\d{0,4}|\d{1,4})){1,10}$/,
  /^[A-Za-z][a-z]{1,40}[_-]?\d{1,6}$/,
];

/** Numbers, dates, versions, phone numbers, IPs and host:port pairs. */
const NUMERIC = /^(?:[\d\s.:,/+-]{1,200}|0x[0-9a-f]{1,16}|\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?)$/i;

const PATH =
  /^(?:\.{1,2}[\\/]|~[\\/]|[A-Za-z]:[\\/]|\\\\)|^\/[^A-Z+=]{0,200}$|^\/.{1,200}\/[gimsuy]{0,6}$|\.(?:pem|key|crt|cer|der|p8|p12|pfx|jks|keystore|json|ya?ml|toml|txt|env|ini|conf|cfg|xml|properties|ppk|pub|gpg|asc|js|ts|py|rb|go|java|sh)$/i;
/** A lowercase relative path (`secret/data/app`); base64 with slashes has mixed case. */
const LOWER_PATH = /^[a-z0-9_.-]{1,60}(?:\/[a-z0-9_.-]{1,60}){1,20}\/?$/;
const URL_OR_EMAIL = /:\/\/|^www\.|^[^@\s]{1,100}@[^@\s]{1,100}\.[a-z]{2,10}$/i;
/**
 * `/Users/me/app`, `/var/lib/App Data/x`: two or more slash-separated segments, one of them
 * a lowercase word, no `+` or `=` (base64 that starts with a slash has neither property).
 */
function isAbsolutePath(value: string): boolean {
  if (!/^\/[\w.@ -]{1,60}(?:\/[\w.@ -]{1,60}){1,30}\/?$/.test(value)) return false;
  return value.split("/").some((seg) => /^[a-z]{2,20}$/.test(seg));
}

/** A form body or query string (`token=abc&token_type_hint=...`). */
const QUERY = /&[a-z][a-z_]{1,39}=/;

/** A character repeated five times in a row, or a keyboard/alphabet/digit run. */
const RUN = /(.)\1{4}|01234|12345|23456|34567|45678|56789|98765|abcde|bcdef|qwert|asdfg/i;

/**
 * SHA-256 prefixes of well-known documentation credentials (RFC 6749/6750 and RFC 5849
 * examples), kept hashed so that the repository holds no key-shaped literal.
 */
const KNOWN_EXAMPLES = new Set([
  "6c96130f130ab0d6d158397e24d2bcc1",
  "00cf4c781dc37003f7c7dd7d4c9a6ef1",
  "a35b81a7d7927b70ec99270dd2362b88",
  "53f5da0aaa93d64cd5772c554cbf940f",
  "ca7459e2b26776de081b9a07e40227fd",
  "b8e148545b13c78bc74da2f1a7275dd7",
  "9e309cccd311ea64d04133daf7760f71",
  "80f8b7c904d4a43f3b7036db73247daa",
  "2ff8b0fb93aca981c78f1e94355c298c",
  "8d567eb88afff34f31ab97fbb2731e58",
  "9d03b692e941d5ace207a9f804883443",
  "4c20e6f5cc11b93731e74cbe20739821",
  "bb9b1163338b2a51495834ad5c654204",
  "649e1f5c769e718ba10d1a702a36499a",
  "cb87c87e4a138d9a72259d2a01bab156",
  "c20fbc2b96183894fb46187909d02afb",
  "5435a2f13f1e85e32fed9f30d49e0971",
  "b87dad10a32a2d81aa2e36e31e258b36",
]);

/**
 * Whether the value is a well-known documentation credential (RFC examples).
 *
 * @example
 *   isKnownExample(valueFromRfc6749) // true
 */
export function isKnownExample(value: string): boolean {
  return KNOWN_EXAMPLES.has(createHash("sha256").update(value).digest("hex").slice(0, 32));
}

/**
 * Words that make up default, demo and test credentials; a value whose letters split
 * entirely into these words (`SuperSecret123!`, `p@ssw0rd`, `admin`, `test-api-key-1`) is
 * not worth a finding.
 */
const WEAK_WORDS = new Set(
  (
    "password passwd passwrd pass pwd pw psswrd secret secrets key keys token tokens api apikey access auth " +
    "admin administrator root toor guest user users username login logon test tests testing tester demo dev " +
    "develop development prod production staging stage local localhost default example sample changeme change " +
    "me my mine your our the it is in on to of and for this that as letmein let welcome qwerty asdf abc xyz foo " +
    "bar baz qux quux foobar foobared hello world super top very long short strong secure safe mysql postgres " +
    "postgresql pg redis mongo mongodb rabbit rabbitmq amqp smtp mail db database app application service server " +
    "client private public master dummy fake mock placeholder value values string here insert put replace todo " +
    "new old temp tmp random scott tiger oracle sa sys system mariadb maria docker kube kubernetes jenkins gitlab " +
    "github web site shadow backup sql data base hunter monkey dragon sunshine princess football iloveyou trustno " +
    "one two three four five six seven eight nine ten zero pa ss word wd sec ret cret session invalid valid wrong " +
    "bad good dummy no not none null empty blank missing unknown novalue"
  ).split(" "),
);
const LONGEST_WEAK_WORD = Math.max(...[...WEAK_WORDS].map((w) => w.length));

const LEET: Readonly<Record<string, string>> = {
  "0": "o",
  "1": "i",
  "3": "e",
  "4": "a",
  "5": "s",
  "7": "t",
  "8": "b",
  "@": "a",
  $: "s",
  "!": "i",
};

function splitsIntoWeakWords(letters: string, shortest = 1): boolean {
  if (letters.length === 0) return true;
  const ok = new Uint8Array(letters.length + 1);
  ok[0] = 1;
  for (let end = 1; end <= letters.length; end++) {
    for (let len = 1; len <= Math.min(LONGEST_WEAK_WORD, end); len++) {
      const word = letters.slice(end - len, end);
      if (len >= shortest && ok[end - len] === 1 && (len > 1 ? WEAK_WORDS.has(word) : word === "a")) {
        ok[end] = 1;
        break;
      }
    }
  }
  return ok[letters.length] === 1;
}

/**
 * True when the value is made only of default/demo words, digits and punctuation, read
 * both as written and with leetspeak undone (`Passw0rd!`, `s3cr3t`, `admin123`), or when a
 * run of six or more letters in it is (`VERYLONGSECRETxyz`, `asn1_NOVALUE`).
 *
 * @example
 *   isWeakWordValue("SuperSecret123!") // true
 *   isWeakWordValue("k8Xq2LmP9vT4")    // false
 */
export function isWeakWordValue(value: string): boolean {
  const lower = value.toLowerCase();
  if (splitsIntoWeakWords(lower.replace(/[^a-z]/g, ""))) return true;
  const unleet = lower.replace(/[0134578@$!]/g, (c) => LEET[c] ?? c).replace(/[^a-z]/g, "");
  if (splitsIntoWeakWords(unleet)) return true;
  for (const run of value.match(/[A-Z]{6,}|[a-z]{6,}/g) ?? [])
    if (splitsIntoWeakWords(run.toLowerCase(), 3)) return true;
  return false;
}

/**
 * Keyboard mashing (`askfjh234as9sd8`): lowercase and digits, with at least 80% of the
 * letters from the home row, which random text (about a third) and hex do not show.
 */
function isKeyboardMash(value: string): boolean {
  if (!/^[a-z0-9]{6,24}$/.test(value) || /^[0-9a-f]{1,200}$/.test(value)) return false;
  const letters = value.replace(/[^a-z]/g, "");
  if (letters.length < 6) return false;
  const home = letters.replace(/[^asdfghjkl]/g, "").length;
  return home / letters.length >= 0.8;
}

/**
 * An identifier: snake, kebab or upper snake case, a word plus digits, or a camel/Pascal
 * case name whose words read like words (mostly three letters or longer, each with a vowel
 * and no run of five consonants): `InterpolationInJSX`, `AWSAccessKeyId`, not `YQkPdYleuoma97Yj`.
 */
function isIdentifier(value: string): boolean {
  if (IDENTIFIER.slice(2).some((re) => re.test(value))) return true;
  if (/^[A-Z][a-z]{2,40}$/.test(value)) return true;
  if (!IDENTIFIER.slice(0, 2).some((re) => re.test(value))) return false;
  const words = value.match(/[A-Z]?[a-z]+|[A-Z]+(?![a-z])/g) ?? [];
  const short = words.filter((w) => w.length <= 2).length;
  // Short random strings often split into camel-case "words": demand more of them.
  if ((value.length < 12 ? short > 0 : short * 3 > words.length) || !words.some((w) => w.length >= 4))
    return false;
  return words.every(
    (w) => w.length < 3 || /^[A-Z]+$/.test(w) || (/[aeiouy]/i.test(w) && !/[^aeiouy]{5}/i.test(w)),
  );
}

/** Decodes standard base64 when the value is base64 of printable ASCII text. */
function decodedBase64(value: string): Buffer | undefined {
  if (value.length < 8 || value.length % 4 !== 0 || !/^[A-Za-z0-9+/]{4,400}={0,2}$/.test(value))
    return undefined;
  return Buffer.from(value, "base64");
}

/** Bytes counting up or down by a constant step (`AAECAwQF...` is 00 01 02 03 ...). */
function isArithmetic(bytes: Buffer): boolean {
  if (bytes.length < 8) return false;
  const step = (bytes[1]! - bytes[0]! + 256) % 256;
  for (let i = 2; i < bytes.length; i++) if ((bytes[i]! - bytes[i - 1]! + 256) % 256 !== step) return false;
  return true;
}

function isPlaceholderText(value: string): boolean {
  return (
    NON_SECRETS.has(value.toLowerCase()) ||
    PLACEHOLDER_FRAGMENT.test(value) ||
    LEET_FRAGMENT.test(value.toLowerCase().replace(/[0134578@$!]/g, (c) => LEET[c] ?? c)) ||
    /xxx|XXX|%[sv](?!\w)/.test(value) ||
    TEMPLATE.test(value) ||
    RUN.test(value)
  );
}

/** No digits and letters of a single case: a word or a phrase, not a generated secret. */
function isOneCaseWords(value: string): boolean {
  return !/\d/.test(value) && (!/[A-Z]/.test(value) || !/[a-z]/.test(value));
}

/**
 * Whether a password (from a URI, a connection string, a `.netrc`, basic auth) is a real one
 * rather than a placeholder, a template, a default word (`guest`, `postgres`, `changeme`),
 * an identifier, keyboard mashing or a value of one case with no digits.
 *
 * @example
 *   isLikelyPassword("guest")          // false
 *   isLikelyPassword("${DB_PASSWORD}") // false
 *   isLikelyPassword("q7Vd2kLx9")      // true
 */
export function isLikelyPassword(raw: string): boolean {
  let value = raw;
  if (/%[0-9A-Fa-f]{2}/.test(value)) {
    try {
      value = decodeURIComponent(value);
    } catch {
      // Not valid percent-encoding: judge it as written.
    }
  }
  if (isPlaceholderText(value) || isKnownExample(raw)) return false;
  // `##invalid-password##`, `_RSAPrivateKey`, `?InterpolationInJSX`: judge the inside too.
  const core = value.replace(/^[^A-Za-z0-9]{1,4}/, "").replace(/[^A-Za-z0-9]{1,4}$/, "");
  for (const v of new Set([value, core])) {
    if (isOneCaseWords(v) || NUMERIC.test(v) || isIdentifier(v)) return false;
  }
  return !isWeakWordValue(value) && !isKeyboardMash(value);
}

/**
 * Whether a value assigned to a secret-named variable is a literal secret: not a placeholder,
 * template, reference (env lookup, dotted config path, call), file path, URL, query string,
 * word, identifier, number, demo value or documentation example, and not base64 of one.
 *
 * @example
 *   isLikelySecretValue("os.environ[")         // false
 *   isLikelySecretValue("my-app-secret")       // false
 *   isLikelySecretValue("9fK2mQx7LpV3nR8tZ1")  // true
 */
export function isLikelySecretValue(value: string): boolean {
  if (!isLikelyPassword(value)) return false;
  if (
    EXPRESSION.test(value) ||
    PATH.test(value) ||
    LOWER_PATH.test(value) ||
    URL_OR_EMAIL.test(value) ||
    QUERY.test(value)
  )
    return false;
  if (isAbsolutePath(value)) return false;
  // A JWT is reported by jwt-token, once, rather than by every generic rule around it.
  if (/^eyJ[\w-]{4,2000}\.eyJ/.test(value)) return false;
  // A dotted path unless one segment looks generated (long, mixed case and digits).
  const trimmed = value.replace(/[^A-Za-z0-9]{1,4}$/, "");
  if (
    DOTTED_PATH.test(trimmed) &&
    !trimmed.split(".").some((s) => s.length >= 16 && /\d/.test(s) && /[a-z]/.test(s) && /[A-Z]/.test(s))
  ) {
    return false;
  }
  // `user:password` (docker `auth`, `.pgpass`-like values): the password decides.
  const colon = /^[^:]{1,100}:([^:]{1,200})$/.exec(value);
  if (colon !== null && !/^base64:/i.test(value) && !isLikelyPassword(colon[1]!)) return false;
  const bytes = decodedBase64(value);
  if (bytes !== undefined) {
    if (isArithmetic(bytes)) return false;
    const text = bytes.toString("latin1");
    if (/^[\x20-\x7e]{4,300}$/.test(text)) {
      const inner = text.includes(":") ? text.slice(text.indexOf(":") + 1) : text;
      if (isPlaceholderText(text) || isWeakWordValue(inner) || isOneCaseWords(inner)) return false;
    }
  }
  return true;
}

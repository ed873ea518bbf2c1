import { spawn, spawnSync } from "node:child_process";
import { closeSync, openSync, readSync } from "node:fs";
import { KeywardenError } from "../core/errors.ts";
import { decodeText, ENCODING_SNIFF_BYTES, sniffEncoding } from "./text-decode.ts";
import type { CommitInfo, Source, SourceItem, TextChunk } from "./source.ts";

export interface GitSourceOptions {
  /** The repository folder (a work tree or a bare repository). */
  readonly repo: string;
  /** Only commits after this revision (`REV..`). */
  readonly since?: string | undefined;
  /** Only commits reachable from this branch or ref; all refs by default. */
  readonly branch?: string | undefined;
  /** At most this many commits, newest first. */
  readonly maxCommits?: number | undefined;
  /** Explicit revisions (for a pre-receive hook: new commits not yet on any ref); overrides the above. */
  readonly revisions?: readonly string[] | undefined;
  /** Blobs larger than this are skipped. */
  readonly maxFileSize: number;
  /** Called for conditions worth a warning that do not stop the scan (shallow clone). */
  readonly onWarning?: (message: string) => void;
}

const OID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;
const ZERO_OID = /^0+$/;

/** Runs git in `repo`; throws only when it cannot be started. */
function spawnGit(repo: string, args: readonly string[], input?: string) {
  const r = spawnSync("git", ["-C", repo, ...args], { input, maxBuffer: 1024 * 1024 * 1024 });
  if (r.error !== undefined) throw new KeywardenError("KW_ERR_GIT_FAILED", { reason: r.error.message });
  return r;
}

/** git's output as bytes; undefined when git fails (an object that does not exist). */
function gitBytes(repo: string, args: readonly string[]): Buffer | undefined {
  const r = spawnGit(repo, args);
  return r.status === 0 ? r.stdout : undefined;
}

/** git's output as text; throws KW_ERR_GIT_FAILED with git's first line of complaint. */
function git(repo: string, args: readonly string[], input?: string): string {
  const r = spawnGit(repo, args, input);
  if (r.status !== 0)
    throw new KeywardenError("KW_ERR_GIT_FAILED", {
      reason: `${args[0] ?? ""}: ${r.stderr.toString("utf8").trim().split("\n")[0] ?? ""}`,
    });
  return r.stdout.toString("utf8");
}

/**
 * The rev-list arguments for the options: all refs, a branch, or a range. A branch comes from
 * the user (often a CI variable), so it follows `--end-of-options`: `--branch=--output=FILE`
 * would otherwise be an option to git log, which wrote the log to FILE and scanned nothing.
 * Explicit revisions are object ids (pushedRevisions checks them).
 */
function revisionArgs(o: GitSourceOptions): string[] {
  if (o.revisions !== undefined) return [...o.revisions];
  const args = o.maxCommits === undefined ? [] : [`--max-count=${o.maxCommits}`];
  if (o.branch === undefined) args.push("--all");
  else args.push("--end-of-options", o.branch);
  if (o.since !== undefined) args.push(`^${o.since}`);
  return args;
}

interface BlobRef {
  readonly path: string;
  readonly commit: CommitInfo;
}

/**
 * Reads commit metadata and the blobs each commit added or changed, oldest commit first, so
 * each distinct blob is attributed to the first commit (and path) that introduced it.
 */
function collect(o: GitSourceOptions): {
  commits: CommitInfo[];
  messages: Map<string, string>;
  blobs: Map<string, BlobRef>;
} {
  const rev = revisionArgs(o);
  // %x1f separates fields; -z separates records, so messages may hold any newline.
  const log = git(o.repo, ["log", "--reverse", "--format=%H%x1f%an%x1f%ae%x1f%aI%x1f%B", "-z", ...rev, "--"]);
  const commits: CommitInfo[] = [];
  const messages = new Map<string, string>();
  const byId = new Map<string, CommitInfo>();
  for (const record of log.split("\0")) {
    if (record.trim() === "") continue;
    const [commit, author, email, date, message] = record.replace(/^\n/, "").split("\x1f");
    if (commit === undefined || !OID.test(commit)) continue;
    const info: CommitInfo = { commit, author: author ?? "", email: email ?? "", date: date ?? "" };
    commits.push(info);
    byId.set(commit, info);
    messages.set(commit, message ?? "");
  }
  const blobs = new Map<string, BlobRef>();
  if (commits.length === 0) return { commits, messages, blobs };
  const tree = git(
    o.repo,
    ["diff-tree", "--stdin", "-r", "--root", "--no-renames", "--no-abbrev", "-z", "-m"],
    commits.map((c) => c.commit).join("\n") + "\n",
  );
  const tokens = tree.split("\0");
  let current: CommitInfo | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (OID.test(t)) {
      current = byId.get(t);
      continue;
    }
    if (!t.startsWith(":")) continue;
    const path = tokens[++i] ?? "";
    // ":<old mode> <new mode> <old oid> <new oid> <status>"
    const fields = t.slice(1).split(" ");
    const newMode = fields[1] ?? "";
    const newOid = fields[3] ?? "";
    if (current === undefined || ZERO_OID.test(newOid) || newMode.startsWith("16")) continue; // deletion or submodule
    if (!blobs.has(newOid)) blobs.set(newOid, { path, commit: current });
  }
  return { commits, messages, blobs };
}

/**
 * Every commit reachable from all refs (or a branch, range or explicit list): each distinct
 * blob once, attributed to the commit and path that introduced it, and each commit message.
 * Uses the git binary (log, diff-tree, cat-file --batch). A shallow clone is a warning; a
 * missing object is reported as skipped and the rest is still scanned.
 *
 * @example
 *   gitSource({ repo: ".", maxFileSize: 10_000_000 })
 */
export function gitSource(o: GitSourceOptions): Source {
  return {
    async *items(): AsyncIterable<SourceItem> {
      if (git(o.repo, ["rev-parse", "--is-shallow-repository"]).trim() === "true") {
        o.onWarning?.(
          "shallow clone: commits before the shallow boundary are not scanned (git fetch --unshallow to include them)",
        );
      }
      const { commits, messages, blobs } = collect(o);
      for (const c of commits) {
        const text = messages.get(c.commit) ?? "";
        if (text.trim() === "") continue;
        yield {
          kind: "chunk",
          chunk: chunkOf(`${c.commit.slice(0, 12)}:(commit message)`, text, Buffer.byteLength(text), c),
        };
      }
      yield* readBlobs(o, blobs);
    },
  };
}

function chunkOf(path: string, text: string, bytes: number, commit: CommitInfo): TextChunk {
  return { path, text, line: 1, column: 1, ownedTo: text.length, bytes, first: true, commit };
}

/**
 * The contents of the blobs `names` name (object ids, or `:path` and `HEAD:path` as bytes,
 * since a path need not be UTF-8), streamed out of one `git cat-file --batch`, in the order
 * asked; undefined where there is no such blob.
 */
async function* catFileBatch(
  repo: string,
  names: readonly (string | Buffer)[],
): AsyncIterable<Buffer | undefined> {
  if (names.length === 0) return;
  const child = spawn("git", ["-C", repo, "cat-file", "--batch"], { stdio: ["pipe", "pipe", "pipe"] });
  child.stdin.on("error", () => undefined);
  child.stdin.end(Buffer.concat(names.flatMap((n) => [Buffer.from(n), Buffer.from("\n")])));
  const exited = new Promise<number>((resolve) =>
    child.on("close", (code) => {
      resolve(code ?? 0);
    }),
  );
  let buf: Buffer = Buffer.alloc(0);
  // State: waiting for a header, or collecting `need` bytes of the current blob.
  let need = -1;
  let parts: Buffer[] = [];
  let have = 0;
  for await (const data of child.stdout as AsyncIterable<Buffer>) {
    buf = buf.length === 0 ? data : Buffer.concat([buf, data]);
    for (;;) {
      if (need < 0) {
        const nl = buf.indexOf(10);
        if (nl < 0) break;
        const header = buf.subarray(0, nl).toString("latin1");
        buf = buf.subarray(nl + 1);
        const m = /^(\S+) (\S+) (\d+)$/.exec(header);
        if (m === null) {
          // "<name> missing" (or ambiguous): no content follows.
          yield undefined;
          continue;
        }
        need = Number(m[3]) + 1; // content and a trailing newline
        parts = [];
        have = 0;
        continue;
      }
      const take = Math.min(need - have, buf.length);
      if (take === 0) break;
      parts.push(buf.subarray(0, take));
      have += take;
      buf = buf.subarray(take);
      if (have < need) break;
      need = -1;
      const content = Buffer.concat(parts).subarray(0, have - 1);
      parts = [];
      yield content;
    }
  }
  const code = await exited;
  if (code !== 0) throw new KeywardenError("KW_ERR_GIT_FAILED", { reason: `cat-file exited with ${code}` });
}

/** The blobs a history scan found, as chunks or skipped entries, in the order collected. */
async function* readBlobs(o: GitSourceOptions, blobs: Map<string, BlobRef>): AsyncIterable<SourceItem> {
  const refs = [...blobs.values()];
  let index = 0;
  for await (const content of catFileBatch(o.repo, [...blobs.keys()])) {
    const ref = refs[index++]!;
    if (content === undefined) {
      yield {
        kind: "skipped",
        skipped: { path: `${ref.commit.commit.slice(0, 12)}:${ref.path}`, reason: "missing object" },
      };
      continue;
    }
    const item = blobItem(ref, content, o.maxFileSize);
    if (item !== undefined) yield item;
  }
}

function blobItem(ref: BlobRef, content: Buffer, maxFileSize: number): SourceItem | undefined {
  const path = ref.path;
  if (content.length === 0) return undefined;
  if (content.length > maxFileSize) {
    return {
      kind: "skipped",
      skipped: {
        path: `${ref.commit.commit.slice(0, 12)}:${path}`,
        reason: `larger than scan.maxFileSize (${content.length} bytes)`,
      },
    };
  }
  const encoding = sniffEncoding(content);
  if (encoding === "binary") return undefined;
  return {
    kind: "chunk",
    chunk: chunkOf(path, decodeText(content, encoding).text, content.length, ref.commit),
  };
}

/**
 * Only what is about to be committed: the lines added in the index (`git diff --cached
 * -U0`), one chunk per hunk at its line in the new file. Fast on any repository size since
 * git computes the diff of the staged files alone.
 *
 * @example
 *   stagedSource({ repo: "." })
 */
export function stagedSource(o: { repo: string }): Source {
  return {
    async *items(): AsyncIterable<SourceItem> {
      const diff = git(o.repo, [
        "diff",
        "--cached",
        "-U0",
        "--no-color",
        "--no-ext-diff",
        "--no-renames",
        "--diff-filter=ACMRT",
        "--src-prefix=a/",
        "--dst-prefix=b/",
      ]);
      let path = "";
      let line = 0;
      let added: string[] = [];
      let first = true;
      const flush = function* (): Generator<SourceItem> {
        if (added.length === 0 || path === "") return;
        yield addedLines(path, added, line, first);
        first = false;
        added = [];
      };
      for (const l of diff.split("\n")) {
        if (l.startsWith("+++ ")) {
          yield* flush();
          path = l === "+++ /dev/null" ? "" : unquote(l.slice(4)).replace(/^b\//, "");
          first = true;
        } else if (l.startsWith("@@")) {
          yield* flush();
          const m = /\+(\d+)/.exec(l);
          line = m === null ? 1 : Number(m[1]);
        } else if (l.startsWith("+")) {
          added.push(l.slice(1));
        } else if (l.startsWith("Binary files")) {
          added = [];
        }
      }
      yield* flush();
      yield* stagedUtf16(o.repo);
    },
  };
}

/**
 * Staged files that git diffs as binary but are UTF-16 text (git sees their NUL bytes):
 * the lines of the staged version that the committed version does not have, one chunk per
 * run of such lines at its line. Names are kept as git's bytes (a name need not be UTF-8)
 * and blobs are read by name through `git cat-file --batch`, whose input is bytes too.
 */
async function* stagedUtf16(repo: string): AsyncIterable<SourceItem> {
  const names = (args: readonly string[]) =>
    splitNul(gitBytes(repo, args) ?? Buffer.alloc(0)).filter((n) => n.length > 0);
  // A binary file's counts are "-": "-\t-\tpath", the path from the top of the work tree.
  const binaries = names(["diff", "--cached", "--numstat", "-z", "--no-renames", "--diff-filter=ACMRT"])
    .filter((e) => e.subarray(0, 4).toString("latin1") === "-\t-\t")
    .map((e) => e.subarray(4));
  if (binaries.length === 0) return;
  const top = git(repo, ["rev-parse", "--show-toplevel"]).trim();
  // Files changed in the work tree since they were staged (one git process for all).
  const changed = new Set(
    names(["diff", "--name-only", "-z", "--no-renames"]).map((n) => n.toString("latin1")),
  );
  // Staged binaries are mostly images and the like: the work tree's copy, where it is still
  // what was staged, tells them apart without reading the index. One that reads as UTF-16
  // there, or changed since staging, or is gone or unreadable, is read from the index, with
  // its committed version, all in one cat-file. (Its input is one name a line: a name
  // holding one is left.)
  const candidates = binaries.filter(
    (name) =>
      !name.includes(10) &&
      (changed.has(name.toString("latin1")) || mayBeUtf16(Buffer.concat([Buffer.from(`${top}/`), name]))),
  );
  const blobs = catFileBatch(
    repo,
    candidates.flatMap((name) => [
      Buffer.concat([Buffer.from(":"), name]),
      Buffer.concat([Buffer.from("HEAD:"), name]),
    ]),
  )[Symbol.asyncIterator]();
  const next = async (): Promise<Buffer | undefined> => {
    const r = await blobs.next();
    return r.done === true ? undefined : r.value;
  };
  for (const name of candidates) {
    const staged = await next();
    const before = await next();
    if (staged === undefined) continue;
    const encoding = sniffEncoding(staged);
    if (encoding === "binary" || encoding === "utf8") continue;
    const path = name.toString("utf8");
    const old = new Map<string, number>();
    if (before !== undefined && sniffEncoding(before) === encoding) {
      for (const l of decodeText(before, encoding).text.split("\n")) old.set(l, (old.get(l) ?? 0) + 1);
    }
    const lines = decodeText(staged, encoding).text.split("\n");
    let first = true;
    for (let i = 0; i < lines.length;) {
      const kept = old.get(lines[i]!) ?? 0;
      if (kept > 0) {
        old.set(lines[i]!, kept - 1);
        i++;
        continue;
      }
      const start = i;
      while (i < lines.length && (old.get(lines[i]!) ?? 0) === 0) i++;
      const run = lines.slice(start, i);
      if (run.every((l) => l.trim() === "")) continue;
      yield addedLines(path, run, start + 1, first);
      first = false;
    }
  }
  // To its end, so that cat-file's exit is checked.
  while ((await blobs.next()).done !== true);
}

/** `bytes` split at each NUL. */
function splitNul(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (let at = bytes.indexOf(0); at !== -1; at = bytes.indexOf(0, from)) {
    out.push(bytes.subarray(from, at));
    from = at + 1;
  }
  out.push(bytes.subarray(from));
  return out;
}

/** Lines added to a staged file, starting at line `line` of it, as one chunk. */
function addedLines(path: string, added: readonly string[], line: number, first: boolean): SourceItem {
  const text = added.join("\n") + "\n";
  return {
    kind: "chunk",
    chunk: { path, text, line, column: 1, ownedTo: text.length, bytes: Buffer.byteLength(text), first },
  };
}

/** Whether `file`'s first bytes read as UTF-16; true when it cannot be read. */
function mayBeUtf16(file: string | Buffer): boolean {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return true;
  }
  try {
    const head = Buffer.alloc(ENCODING_SNIFF_BYTES);
    const encoding = sniffEncoding(head.subarray(0, readSync(fd, head, 0, head.length, 0)));
    return encoding === "utf16le" || encoding === "utf16be";
  } catch {
    return true;
  } finally {
    closeSync(fd);
  }
}

/** git quotes unusual paths C-style: "b/t\303\251st.txt". */
function unquote(p: string): string {
  if (!p.startsWith('"')) return p;
  const bytes: number[] = [];
  const body = p.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== "\\") {
      bytes.push(...Buffer.from(c));
      continue;
    }
    const next = body[++i]!;
    if (/[0-7]/.test(next)) {
      bytes.push(parseInt(body.slice(i, i + 3), 8));
      i += 2;
    } else
      bytes.push(({ n: 10, t: 9, '"': 34, "\\": 92 } as Record<string, number>)[next] ?? next.charCodeAt(0));
  }
  return Buffer.from(bytes).toString("utf8");
}

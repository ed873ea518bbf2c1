import {
  type Dirent,
  closeSync,
  existsSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  statSync,
} from "node:fs";
import { isUtf8 } from "node:buffer";
import { join, relative, resolve, sep } from "node:path";
import ignore, { type Ignore } from "ignore";
import { DEFAULT_ARCHIVE_OPTIONS, type ArchiveOptions } from "./archive/limits.ts";
import { SNIFF_BYTES, sniffContainer, type ContainerKind } from "./archive/sniff.ts";
import type { Source, SourceItem, TextChunk } from "./source.ts";
import { TextChunker } from "./text-chunker.ts";
import { decodeText, sniffEncoding } from "./text-decode.ts";

export interface FileSourceOptions {
  /** Files and folders to scan. */
  readonly paths: readonly string[];
  /** Base for relative display paths. */
  readonly cwd: string;
  /** Files larger than this are skipped. */
  readonly maxFileSize: number;
  /** Honour .gitignore files. `.keywardenignore` files are always honoured. */
  readonly gitignore: boolean;
  /** Extra gitignore-style patterns, relative to each scanned folder. */
  readonly exclude: readonly string[];
  /** Chunk size for large files in bytes. */
  readonly chunkSize?: number;
  /** Overlap between chunks in characters: at least the catalogue's largest window. */
  readonly overlap: number;
  /** Archive handling and zip-bomb limits (`scan.archives`); the schema's defaults when absent. */
  readonly archives?: ArchiveOptions;
}

/**
 * A path on disk: a string, or the raw bytes of one that is not valid UTF-8 (a name Linux
 * allows and a string cannot hold: decoding would put U+FFFD in it and lose the file).
 */
type FsPath = string | Buffer;

/** A container file found by the walk, opened asynchronously by `items()`. */
interface ContainerFound {
  readonly kind: "container";
  readonly abs: FsPath;
  readonly path: string;
  readonly container: ContainerKind;
}

type WalkItem = SourceItem | ContainerFound;

const DEFAULT_CHUNK = 8 * 1024 * 1024;
const IGNORE_FILES = [".gitignore", ".keywardenignore"];
const ALWAYS_SKIPPED_DIRS = new Set([".git", ".hg", ".svn"]);

interface IgnoreScope {
  readonly dir: string;
  readonly matcher: Ignore;
}

/**
 * Files and folders on disk. Walks iteratively (10,000 nested folders are fine), honours
 * .gitignore and .keywardenignore, never follows a symbolic link out of the scanned tree,
 * skips binaries by content and files over the size cap, and streams large files in
 * overlapping chunks. Everything not scanned is reported as skipped with a reason.
 *
 * Archives (zip, jar, tar, tar.gz, gzip, Docker image tarballs), recognised by their first
 * bytes whatever their name, are scanned inside (see src/sources/archive/container.ts);
 * their own size is bounded by `scan.archives` limits rather than maxFileSize. Notebooks
 * (`.ipynb`) are scanned cell by cell.
 *
 * @example
 *   for await (const item of fileSource({ paths: ["."], cwd, maxFileSize, gitignore: true, exclude: [], overlap }).items())
 */
export function fileSource(options: FileSourceOptions): Source {
  return {
    // Sync I/O inside an async iterable: per-file promises cost more than they save here.
    async *items(): AsyncIterable<SourceItem> {
      const ctx = {
        archives: options.archives ?? DEFAULT_ARCHIVE_OPTIONS,
        maxFileSize: options.maxFileSize,
        overlap: options.overlap,
        chunkSize: options.chunkSize ?? DEFAULT_CHUNK,
        exclude: options.exclude,
      };
      for (const p of options.paths) {
        const abs = resolve(options.cwd, p);
        for (const item of walk(abs, options)) {
          if (item.kind !== "container") {
            yield item;
            continue;
          }
          // The archive readers (yauzl, tar-stream) load at the first archive, not at start-up.
          const { containerFileItems } = await import("./archive/container.ts");
          yield* containerFileItems(item.abs, item.path, item.container, ctx);
        }
      }
    },
  };
}

/** `abs` as text: a name that is not UTF-8 shows its invalid bytes as U+FFFD. */
function pathText(abs: FsPath): string {
  return typeof abs === "string" ? abs : abs.toString("utf8");
}

/** The folder's entries, with raw names (Buffers) for those that are not valid UTF-8. */
function listFolder(dir: FsPath): { name: FsPath; text: string; entry: Dirent }[] {
  const entries = readdirSync(dir, { withFileTypes: true });
  if (typeof dir === "string" && !entries.some((e) => e.name.includes("\uFFFD")))
    return entries.map((e) => ({ name: e.name, text: e.name, entry: e }));
  return readdirSync(dir, { withFileTypes: true, encoding: "buffer" }).map((e) => {
    const text = e.name.toString("utf8");
    return { name: isUtf8(e.name) ? text : e.name, text, entry: e as unknown as Dirent };
  });
}

function childPath(dir: FsPath, name: FsPath): FsPath {
  if (typeof dir === "string" && typeof name === "string") return join(dir, name);
  return Buffer.concat([Buffer.from(dir), Buffer.from(sep), Buffer.from(name)]);
}

function display(abs: FsPath, cwd: string): string {
  const text = pathText(abs);
  const rel = relative(cwd, text);
  return rel === "" ? "." : rel.startsWith("..") ? text : rel.split(sep).join("/");
}

function* walk(rootPath: string, options: FileSourceOptions): Generator<WalkItem> {
  let rootStat;
  try {
    rootStat = statSync(rootPath);
  } catch (e) {
    yield { kind: "skipped", skipped: { path: display(rootPath, options.cwd), reason: describeError(e) } };
    return;
  }
  if (!rootStat.isDirectory()) {
    yield* readFile(rootPath, display(rootPath, options.cwd), options);
    return;
  }
  const rootReal = realpathSync(rootPath);
  const base = ignore().add(options.exclude);
  // Explicit stack of [folder, scopes in force]: no recursion, so depth is unbounded.
  const stack: [FsPath, readonly IgnoreScope[]][] = [[rootPath, [{ dir: rootPath, matcher: base }]]];
  while (stack.length > 0) {
    const [dir, parentScopes] = stack.pop()!;
    let entries;
    try {
      entries = listFolder(dir);
    } catch (e) {
      yield { kind: "skipped", skipped: { path: display(dir, options.cwd), reason: describeError(e) } };
      continue;
    }
    let scopes = parentScopes;
    for (const name of IGNORE_FILES) {
      if (name === ".gitignore" && !options.gitignore) continue;
      if (!entries.some((e) => e.text === name && e.entry.isFile())) continue;
      try {
        const matcher = ignore().add(readFileSync(childPath(dir, name), "utf8"));
        scopes = [...scopes, { dir: pathText(dir), matcher }];
      } catch {
        // An unreadable ignore file ignores nothing; the file itself is reported when read.
      }
    }
    entries.sort((a, b) => (a.text < b.text ? 1 : a.text > b.text ? -1 : 0));
    const subdirs: FsPath[] = [];
    const files: FsPath[] = [];
    for (const { name, text, entry: e } of entries) {
      const abs = childPath(dir, name);
      const isDir = e.isDirectory();
      if (isDir && ALWAYS_SKIPPED_DIRS.has(text)) continue;
      if (isIgnored(pathText(abs), isDir, scopes)) continue;
      if (e.isSymbolicLink()) {
        const target = resolveLink(abs);
        if (target === undefined) {
          yield {
            kind: "skipped",
            skipped: { path: display(abs, options.cwd), reason: "broken symbolic link" },
          };
        } else if (target !== rootReal && !target.startsWith(rootReal + sep)) {
          yield {
            kind: "skipped",
            skipped: { path: display(abs, options.cwd), reason: "symbolic link out of the scanned tree" },
          };
        } else if (statSync(abs).isFile()) {
          files.push(abs);
        }
        // A link to a folder inside the tree is reached through the folder itself.
        continue;
      }
      if (isDir) subdirs.push(abs);
      else if (e.isFile()) files.push(abs);
      // A FIFO would block the walk, a device never end: named, not read.
      else
        yield { kind: "skipped", skipped: { path: display(abs, options.cwd), reason: "not a regular file" } };
    }
    for (const f of files.reverse()) yield* readFile(f, display(f, options.cwd), options);
    for (const d of subdirs) stack.push([d, scopes]);
  }
}

function isIgnored(abs: string, isDir: boolean, scopes: readonly IgnoreScope[]): boolean {
  for (const s of scopes) {
    const rel = relative(s.dir, abs).split(sep).join("/");
    if (rel === "" || rel.startsWith("..")) continue;
    if (s.matcher.ignores(isDir ? `${rel}/` : rel)) return true;
  }
  return false;
}

function resolveLink(abs: FsPath): string | undefined {
  try {
    return existsSync(abs) ? realpathSync(abs) : undefined;
  } catch {
    return undefined;
  }
}

function describeError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "ENOENT") return "not found";
  if (code === "ELOOP") return "symbolic link loop";
  return `unreadable (${code ?? "error"})`;
}

function* readFile(abs: FsPath, path: string, options: FileSourceOptions): Generator<WalkItem> {
  let fd: number;
  let size: number;
  try {
    const st = lstatSync(abs);
    if (!st.isFile() && !st.isSymbolicLink()) {
      yield { kind: "skipped", skipped: { path, reason: "not a regular file" } };
      return;
    }
    if (st.size > options.maxFileSize) {
      // An archive is bounded by scan.archives limits instead: look at its first bytes.
      const container = bigContainer(abs, path, options);
      if (container !== undefined) {
        yield container;
        return;
      }
      yield {
        kind: "skipped",
        skipped: { path, reason: `larger than scan.maxFileSize (${st.size} > ${options.maxFileSize} bytes)` },
      };
      return;
    }
    fd = openSync(abs, "r");
    size = st.size;
  } catch (e) {
    yield { kind: "skipped", skipped: { path, reason: describeError(e) } };
    return;
  }
  try {
    yield* readOpenFile(fd, path, size, options, abs);
  } catch (e) {
    yield { kind: "skipped", skipped: { path, reason: describeError(e) } };
  } finally {
    closeSync(fd);
  }
}

function archivesOn(options: FileSourceOptions): boolean {
  return (options.archives ?? DEFAULT_ARCHIVE_OPTIONS).enabled;
}

function bigContainer(abs: FsPath, path: string, options: FileSourceOptions): ContainerFound | undefined {
  if (!archivesOn(options)) return undefined;
  let fd: number | undefined;
  try {
    fd = openSync(abs, "r");
    const head = Buffer.alloc(SNIFF_BYTES);
    const n = readSync(fd, head, 0, head.length, 0);
    const container = sniffContainer(head.subarray(0, n), path);
    return container === undefined || container === "notebook"
      ? undefined
      : { kind: "container", abs, path, container };
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function* readOpenFile(
  fd: number,
  path: string,
  size: number,
  options: FileSourceOptions,
  abs: FsPath,
): Generator<WalkItem> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK;
  // One byte more than the size seen, so a file that grew since is noticed and streamed.
  let block = Buffer.allocUnsafe(Math.min(chunkSize, size + 1));
  let n = readSync(fd, block, 0, block.length, null);
  if (n === 0) return;
  const head = block.subarray(0, n);
  const container = sniffContainer(head, path);
  if (container === "notebook" || (container !== undefined && archivesOn(options))) {
    // Opened after this file's descriptor is closed, by items().
    yield { kind: "container", abs, path, container };
    return;
  }
  const encoding = sniffEncoding(head);
  if (encoding === "binary") {
    yield { kind: "skipped", skipped: { path, reason: "binary content" } };
    return;
  }
  if (n < block.length) {
    // Whole file in one block: the common case.
    const { text, latin1 } = decodeText(head, encoding);
    if (latin1) yield { kind: "skipped", skipped: { path, reason: "invalid UTF-8: scanned as Latin-1" } };
    yield { kind: "chunk", chunk: single(path, text, n) };
    return;
  }
  const chunker = new TextChunker(path, options.overlap, encoding);
  while (n > 0) {
    yield { kind: "chunk", chunk: chunker.push(block.subarray(0, n)) };
    if (block.length < chunkSize) block = Buffer.allocUnsafe(chunkSize);
    n = readSync(fd, block, 0, block.length, null);
  }
  const last = chunker.end();
  if (last !== undefined) yield { kind: "chunk", chunk: last };
}

function single(path: string, text: string, bytes: number): TextChunk {
  return { path, text, line: 1, column: 1, ownedTo: text.length, bytes, first: true };
}

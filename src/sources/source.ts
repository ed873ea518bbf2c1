/**
 * The `Source` contract: where text comes from. A source yields chunks of text with their
 * location, and says what it skipped and why.
 */

/** A piece of one document. Large documents arrive in overlapping chunks. */
export interface TextChunk {
  /** Display path of the document (a file path, `-` for stdin, `archive.zip!inner/file`). */
  readonly path: string;
  readonly text: string;
  /** 1-based line of `text[0]` in the document. */
  readonly line: number;
  /** 1-based column of `text[0]` in its line. */
  readonly column: number;
  /**
   * This chunk reports the matches that start before this index; the rest belong to the
   * next chunk, which repeats this chunk's tail. `text.length` for the last chunk.
   */
  readonly ownedTo: number;
  /** Byte size of the new content this chunk brings (for statistics). */
  readonly bytes: number;
  /** True for the first chunk of a document. */
  readonly first: boolean;
  /** Where in version control the document came from, for history scans. */
  readonly commit?: CommitInfo;
}

/** The commit that introduced a document (a blob, or the commit's own message). */
export interface CommitInfo {
  readonly commit: string;
  readonly author: string;
  readonly email: string;
  /** ISO 8601 author date. */
  readonly date: string;
}

export interface SkippedItem {
  readonly path: string;
  readonly reason: string;
}

export type SourceItem =
  | { readonly kind: "chunk"; readonly chunk: TextChunk }
  | { readonly kind: "skipped"; readonly skipped: SkippedItem };

/** @example for await (const item of source.items()) { ... } */
export interface Source {
  items(): AsyncIterable<SourceItem>;
}

import type { Config } from "../../config/schema.ts";
import { ConfigSchema } from "../../config/schema.ts";

/** The `[scan.archives]` section of the config: what to open and the zip-bomb limits. */
export type ArchiveOptions = Readonly<Config["scan"]["archives"]>;

/** The name of a limit, as written in the config (`scan.archives.<name>`). */
export type ArchiveLimit = "maxDepth" | "maxTotalBytes" | "maxRatio" | "maxEntries";

/**
 * Compression ratios are only checked past this many uncompressed bytes: a small entry of
 * spaces compresses 500:1 and is harmless, a bomb needs volume to hurt.
 */
export const RATIO_FLOOR = 1024 * 1024;

/**
 * The schema's defaults for `[scan.archives]`, so callers that pass no options (library
 * users, tests) get the same limits as the CLI.
 *
 * @example
 *   DEFAULT_ARCHIVE_OPTIONS.maxDepth // 5
 */
export const DEFAULT_ARCHIVE_OPTIONS: ArchiveOptions = Object.freeze(
  Object.fromEntries(
    Object.entries(ConfigSchema.properties.scan.properties.archives.properties).map(([k, v]) => [
      k,
      (v as unknown as { default: unknown }).default,
    ]),
  ) as unknown as ArchiveOptions,
);

/**
 * A limit was reached. `scope: "top"` limits (total bytes, entry count) are budgets of the
 * archive on disk and end all of it; `scope: "archive"` (ratio) ends the archive whose
 * stream or entry is suspicious, and its parents carry on.
 *
 * @example
 *   throw new ArchiveLimitError("maxRatio", "archive", "x.zip!zeros.bin", "ratio 1030 > 100");
 */
export class ArchiveLimitError extends Error {
  constructor(
    readonly limit: ArchiveLimit,
    readonly scope: "top" | "archive",
    readonly at: string,
    readonly detail: string,
  ) {
    super(`scan.archives.${limit} reached at ${at} (${detail})`);
    this.name = "ArchiveLimitError";
  }
}

/**
 * What one archive on disk has spent of its limits, shared by all nested levels.
 *
 * @example
 *   const budget = new ArchiveBudget(DEFAULT_ARCHIVE_OPTIONS); budget.entry("a.zip!x");
 */
export class ArchiveBudget {
  #bytes = 0;
  #entries = 0;

  constructor(readonly options: ArchiveOptions) {}

  /** Counts one entry of any nested level. */
  entry(at: string): void {
    this.#entries++;
    if (this.#entries > this.options.maxEntries) {
      throw new ArchiveLimitError("maxEntries", "top", at, `more than ${this.options.maxEntries} entries`);
    }
  }

  /** Counts uncompressed bytes of a leaf (a file that is not itself an archive). */
  bytes(n: number, at: string): void {
    this.#bytes += n;
    if (this.#bytes > this.options.maxTotalBytes) {
      throw new ArchiveLimitError(
        "maxTotalBytes",
        "top",
        at,
        `more than ${this.options.maxTotalBytes} uncompressed bytes`,
      );
    }
  }

  /** Checks an entry's or stream's ratio once it is past RATIO_FLOOR bytes. */
  ratio(uncompressed: number, compressed: number, at: string): void {
    if (uncompressed <= RATIO_FLOOR) return;
    const ratio = uncompressed / Math.max(compressed, 1);
    if (ratio > this.options.maxRatio) {
      throw new ArchiveLimitError(
        "maxRatio",
        "archive",
        at,
        `compression ratio over ${Math.floor(ratio)}:1 > ${this.options.maxRatio}:1`,
      );
    }
  }
}

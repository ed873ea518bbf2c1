/**
 * The audit hash chain, pure: the canonical form of an entry, its hash, and the check of a
 * whole chain that says which entries were modified, inserted, deleted, reordered or
 * truncated. NOTES.md beside this file explains the design and its limits.
 */
import { hash } from "node:crypto";
import type { AuditRow } from "../../storage/repos/audit-repo.ts";

export const GENESIS = "0".repeat(64);
const CHAIN_VERSION = "keywarden-audit-v1";

/** The fields an entry's hash covers: every column but the hash itself. */
export type ChainFields = Omit<AuditRow, "hash">;

/**
 * The canonical form: a JSON array in a fixed order, so no two entries share one.
 *
 * @example
 *   canonicalEntry(row) // '["keywarden-audit-v1",1,"aud_...",...]'
 */
export function canonicalEntry(e: ChainFields): string {
  return JSON.stringify([
    CHAIN_VERSION,
    e.seq,
    e.id,
    e.at,
    e.actor,
    e.action,
    e.path,
    e.version,
    e.result,
    e.source,
    e.request_id,
    e.detail,
    e.prev_hash,
  ]);
}

/**
 * SHA-256 (hex) of the canonical form.
 *
 * @example
 *   const hash = entryHash({ ...fields, prev_hash: head.hash });
 */
export function entryHash(e: ChainFields): string {
  return hash("sha256", canonicalEntry(e), "hex");
}

export type IssueKind = "modified" | "inserted" | "deleted" | "reordered" | "truncated" | "checkpoint";

/** One problem `verify` found; `seq` is where it shows. */
export interface ChainIssue {
  readonly kind: IssueKind;
  readonly seq: number | undefined;
  readonly message: string;
}

/** The signed head a checkpoint vouches for. */
export interface CheckpointHead {
  readonly seq: number;
  readonly hash: string;
}

/** How far from its position a genuine entry is looked for when its hash fails there. */
const MOVE_WINDOW = 16;

/**
 * Checks a chain given in `seq` order against itself, the database's head row and a
 * verified checkpoint (if any). Returns every issue, in order.
 *
 * @example
 *   const issues = checkChain(rows, head, checkpoint);
 */
export function checkChain(
  rows: readonly AuditRow[],
  head: CheckpointHead,
  checkpoint: CheckpointHead | undefined,
): ChainIssue[] {
  const issues: ChainIssue[] = [];
  const add = (kind: IssueKind, seq: number | undefined, message: string): void => {
    issues.push({ kind, seq, message });
  };
  const seqs = new Set(rows.map((r) => r.seq));
  const hashAt = new Map(rows.map((r, i) => [r.hash, i]));
  // A genuine entry found at another position: the seq its hash was made for.
  const originalSeq = rows.map((r) => {
    if (entryHash(r) === r.hash) return r.seq;
    for (let d = 1; d <= MOVE_WINDOW; d++) {
      for (const s of [r.seq - d, r.seq + d]) if (s >= 1 && entryHash({ ...r, seq: s }) === r.hash) return s;
    }
    return undefined;
  });
  const inserted = new Set<number>();

  let expectedSeq = 1;
  let prevHash = GENESIS;
  rows.forEach((r, i) => {
    const original = originalSeq[i];
    if (r.seq > expectedSeq && original === r.seq) {
      const last = r.seq - 1;
      add(
        "deleted",
        expectedSeq,
        `entr${last === expectedSeq ? `y ${expectedSeq} is` : `ies ${expectedSeq}-${last} are`} missing`,
      );
    }
    if (original === undefined) {
      if (!inserted.has(r.seq))
        add("modified", r.seq, `entry ${r.seq} was modified: its content does not match its hash`);
    } else if (original !== r.seq) {
      // A renumbered run reports once, at its first entry.
      const prevShift =
        i > 0 && originalSeq[i - 1] !== undefined ? originalSeq[i - 1]! - rows[i - 1]!.seq : 0;
      const shift = original - r.seq;
      const swapped = seqs.has(original) && originalSeq[rows.findIndex((x) => x.seq === original)] === r.seq;
      if (swapped)
        add(
          "reordered",
          r.seq,
          `entry ${r.seq} holds entry ${original}: entries ${Math.min(r.seq, original)} and ${Math.max(r.seq, original)} were swapped`,
        );
      else if (shift === prevShift) {
        // same run as the entry before
      } else if (original > r.seq)
        add("deleted", r.seq, `entry ${original} was renumbered to ${r.seq}: entries before it were deleted`);
      else
        add(
          "inserted",
          r.seq,
          `entry ${original} was renumbered to ${r.seq}: entries were inserted before it`,
        );
    } else if (r.prev_hash !== prevHash && (i === 0 || originalSeq[i - 1] === rows[i - 1]!.seq)) {
      // (A link broken by a moved entry before this one is already explained by that move.)
      const j = hashAt.get(r.prev_hash);
      if (j !== undefined && j === i - 2) {
        const forged = rows[i - 1]!.seq;
        inserted.add(forged);
        // The forged entry may already have been reported as modified; it was inserted.
        const k = issues.findIndex((x) => x.seq === forged && x.kind === "modified");
        if (k >= 0) issues.splice(k, 1);
        add("inserted", forged, `entry ${forged} was inserted: entry ${r.seq} links past it`);
      } else if (j !== undefined && j > i) {
        add("reordered", r.seq, `entry ${r.seq} links to a later entry: entries were reordered`);
      } else if (i > 0 && r.seq === expectedSeq && originalSeq[i - 1] === rows[i - 1]!.seq) {
        add(
          "modified",
          rows[i - 1]!.seq,
          `entry ${rows[i - 1]!.seq} was rewritten: entry ${r.seq} no longer links to it`,
        );
      } else if (r.seq === expectedSeq) {
        add("modified", r.seq, `entry ${r.seq} does not link to the entry before it`);
      }
    }
    prevHash = r.hash;
    expectedSeq = r.seq + 1;
  });

  const last = rows.at(-1);
  const lastSeq = last?.seq ?? 0;
  if (head.seq > lastSeq)
    add(
      "truncated",
      lastSeq + 1,
      `entries ${lastSeq + 1}-${head.seq} are missing: the log ends before its recorded head`,
    );
  else if (head.seq < lastSeq)
    add(
      "inserted",
      head.seq + 1,
      `entries ${head.seq + 1}-${lastSeq} were added behind the log's back: its recorded head is ${head.seq}`,
    );
  else if (last !== undefined && head.hash !== last.hash)
    add("modified", lastSeq, `the recorded head does not match entry ${lastSeq}`);

  if (checkpoint !== undefined && checkpoint.seq > 0) {
    const at = rows.find((r) => r.seq === checkpoint.seq);
    if (checkpoint.seq > lastSeq) {
      add(
        "truncated",
        lastSeq + 1,
        `entries ${lastSeq + 1}-${checkpoint.seq} are missing: the signed checkpoint covers up to ${checkpoint.seq}`,
      );
    } else if (at === undefined) {
      add(
        "deleted",
        checkpoint.seq,
        `entry ${checkpoint.seq}, which the signed checkpoint names, is missing`,
      );
    } else if (at.hash !== checkpoint.hash) {
      add(
        "modified",
        checkpoint.seq,
        `the chain up to entry ${checkpoint.seq} was rewritten: it no longer matches the signed checkpoint`,
      );
    }
  }
  return issues;
}

/**
 * The audit log: every vault operation, unseal and KEK operation, successful or not,
 * appended to a hash chain in the database, with a signed checkpoint of the head kept in a
 * file apart from it. Entries never hold a secret value. See NOTES.md.
 */
import type { Clock } from "../../core/clock.ts";
import { newId } from "../../core/ids.ts";
import { KeywardenError } from "../../core/errors.ts";
import type { KeyProvider } from "../../kms/key-provider.ts";
import type { Storage } from "../../storage/database.ts";
import {
  claimAuditSeqs,
  insertAuditRows,
  queryAudit,
  readAuditHead,
  setAuditHead,
  type AuditQuery,
  type AuditRow,
  appendAuditGroup,
  indexAuditPaths,
} from "../../storage/repos/audit-repo.ts";
import { touchSecrets } from "../../storage/repos/secret-repo.ts";
import type { Executor } from "../../storage/repos/executor.ts";
import { metaKey } from "../vault/meta-keys.ts";
import { checkChain, entryHash, type ChainIssue } from "./audit-chain.ts";
import { readCheckpoint, writeCheckpoint, type Checkpoint } from "./checkpoint.ts";

/** Who is acting, from where, in which request: attached to every entry. */
export interface RequestContext {
  /** `cli:<os user>`, or a principal id once the server authenticates. */
  readonly actor: string;
  /** `cli`, or `ip=... ua=...` for HTTP. */
  readonly source: string;
  readonly requestId: string;
}

export type AuditResult = "ok" | "denied" | "failed";

/** One entry to append: who (the context) and what (the event). */
export interface AuditItem {
  readonly ctx: RequestContext;
  readonly event: AuditEvent;
}

/** What happened; never a secret value. */
export interface AuditEvent {
  /** `secret.read`, `secret.write`, `vault.unseal`, `kek.rotate`, ... */
  readonly action: string;
  readonly path?: string | undefined;
  readonly version?: number | undefined;
  readonly result: AuditResult;
  /** An error code or a short note (`from v3`, `via run`). Never a value. */
  readonly detail?: string | undefined;
}

/** One entry as read back. */
export interface AuditEntry {
  readonly seq: number;
  readonly id: string;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly path: string | null;
  readonly version: number | null;
  readonly result: string;
  readonly source: string;
  readonly requestId: string;
  readonly detail: string | null;
  readonly hash: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly entries: number;
  readonly head: { readonly seq: number; readonly hash: string };
  /** The valid checkpoint used, if any. */
  readonly checkpoint: Checkpoint | undefined;
  /** Entries after the checkpoint: chained, but not yet covered by a signature. */
  readonly unsignedTail: number;
  readonly issues: readonly ChainIssue[];
}

export interface AuditDeps {
  readonly storage: Storage;
  readonly kms: KeyProvider;
  readonly clock: Clock;
  /** The checkpoint file, in home: `<home>/audit-checkpoint.json`. */
  readonly checkpointFile: string;
}

function toEntry(r: AuditRow): AuditEntry {
  return {
    seq: r.seq,
    id: r.id,
    at: r.at,
    actor: r.actor,
    action: r.action,
    path: r.path,
    version: r.version,
    result: r.result,
    source: r.source,
    requestId: r.request_id,
    detail: r.detail,
    hash: r.hash,
  };
}

const PAGE = 5000;

/**
 * Entries a server appends before it fills the path index (`indexPaths`). Until then a
 * query by path reads them from the log directly: a larger batch writes fewer index pages
 * per entry, a smaller one keeps that tail and the filling transaction short (4,096 entries
 * over 100 paths: a few milliseconds on the writer thread, about twice a second at 10,000
 * reads/s).
 */
export const PATH_INDEX_BATCH = 4096;

/**
 * @example
 *   const audit = createAuditService({ storage, kms, clock, checkpointFile: join(home, "audit-checkpoint.json") });
 *   await audit.record(ctx, { action: "vault.unseal", result: "ok" });
 */
export function createAuditService(deps: AuditDeps) {
  const { storage, kms, clock } = deps;
  let checkpointKey: Uint8Array | undefined;

  async function key(): Promise<Uint8Array> {
    checkpointKey ??= await metaKey(storage.db, kms, clock, "audit-checkpoint-key");
    return checkpointKey;
  }

  /**
   * Appends inside the caller's transaction, so the entry commits with what it records.
   * Concurrent appenders queue on the head row.
   */
  async function append(trx: Executor, ctx: RequestContext, event: AuditEvent): Promise<AuditEntry> {
    return (await appendMany(trx, [{ ctx, event }]))[0]!;
  }

  /**
   * Appends several entries, in order, inside the caller's transaction: one claim of the
   * head, one multi-row insert, one head update (what a group commit needs). `touch` sets
   * `last_read_at` of the secrets read in the same transaction.
   */
  async function appendMany(
    trx: Executor,
    items: readonly AuditItem[],
    touch?: { readonly ids: readonly string[]; readonly at: string },
  ): Promise<AuditEntry[]> {
    if (items.length === 0) {
      if (touch !== undefined) await touchSecrets(trx, touch.ids, touch.at);
      return [];
    }
    const { first, prevHash } = await claimAuditSeqs(trx, items.length);
    const rows = chain(first, prevHash, items);
    if (touch !== undefined) await touchSecrets(trx, touch.ids, touch.at);
    await insertAuditRows(trx, rows);
    await setAuditHead(trx, rows.at(-1)!.hash);
    return rows.map(toEntry);
  }

  /** The rows for `items`, chained from `prevHash`, numbered from `first`. */
  function chain(first: number, prevHash: string, items: readonly AuditItem[]): AuditRow[] {
    const rows: AuditRow[] = [];
    const atText = clock.now().toISOString();
    let prev = prevHash;
    for (let i = 0; i < items.length; i++) {
      const { ctx, event } = items[i]!;
      const row = {
        seq: first + i,
        id: newId("audit", clock),
        at: atText,
        actor: ctx.actor,
        action: event.action,
        path: event.path ?? null,
        version: event.version ?? null,
        result: event.result,
        source: ctx.source,
        request_id: ctx.requestId,
        detail: event.detail ?? null,
        prev_hash: prev,
        hash: "",
      };
      // Hashed over every field but the hash (canonicalEntry), then filled in.
      row.hash = entryHash(row);
      rows.push(row);
      prev = row.hash;
    }
    return rows;
  }

  /** The head this process's group appends last wrote (see `appendGroup`). */
  let lastHead: { seq: number; hash: string } | undefined;
  /** Where the path index stood when this process last filled it, and a fill in flight. */
  let pathsIndexed = 0;
  let indexing: Promise<number> | undefined;

  /**
   * Fills the path index up to the log's head (audit-repo.ts `indexAuditPaths`): by a
   * server every PATH_INDEX_BATCH entries, off the reads' path; by a command as it closes.
   * A fill already running is joined.
   */
  function indexPaths(): Promise<number> {
    indexing ??= indexAuditPaths(storage)
      .then((through) => {
        pathsIndexed = Math.max(pathsIndexed, through);
        return through;
      })
      .finally(() => {
        indexing = undefined;
      });
    return indexing;
  }

  /** After appends up to `seq`: fills the index once a batch is waiting (errors: the next batch tries again). */
  function indexPathsWhenDue(seq: number): void {
    if (indexing === undefined && seq - pathsIndexed >= PATH_INDEX_BATCH) indexPaths().catch(() => undefined);
  }

  /**
   * Appends a group in a commit of its own (a group commit of reads), touching
   * `last_read_at` of the secrets read. While nothing else has written to the log since
   * this process's last group, the group is chained onto the head it remembers with a
   * compare-and-set (one statement on PostgreSQL: `appendAuditGroup`); otherwise it takes
   * the head the locked way. Called one group at a time (the vault's group runner).
   */
  async function appendGroup(
    items: readonly AuditItem[],
    touch: { readonly ids: readonly string[]; readonly at: string },
  ): Promise<void> {
    if (items.length === 0) return;
    if (lastHead !== undefined) {
      const rows = chain(lastHead.seq + 1, lastHead.hash, items);
      if (await appendAuditGroup(storage, lastHead, rows, touch)) {
        lastHead = { seq: rows.at(-1)!.seq, hash: rows.at(-1)!.hash };
        indexPathsWhenDue(lastHead.seq);
        return;
      }
    }
    const entries = await storage.db.transaction().execute((trx) => appendMany(trx, items, touch));
    const last = entries.at(-1)!;
    lastHead = { seq: last.seq, hash: last.hash };
    indexPathsWhenDue(lastHead.seq);
  }

  /** Appends in a transaction of its own. */
  function record(ctx: RequestContext, event: AuditEvent): Promise<AuditEntry> {
    return storage.db.transaction().execute((trx) => append(trx, ctx, event));
  }

  /**
   * Entries matching the filters, oldest first. `since` is any time Date.parse reads; it is
   * compared as the ISO text the log keeps, so anything else is refused (as text, a typo such as
   * "7dd" sorts after every entry and would match none, silently).
   */
  async function query(q: AuditQuery): Promise<AuditEntry[]> {
    if (q.since === undefined) return (await queryAudit(storage.db, q)).map(toEntry);
    const t = Date.parse(q.since);
    if (Number.isNaN(t))
      throw new KeywardenError("KW_ERR_USAGE", {
        reason: `since ${q.since.slice(0, 64)} is not a time: use ISO 8601, like 2026-01-31T12:00:00Z`,
      });
    return (await queryAudit(storage.db, { ...q, since: new Date(t).toISOString() })).map(toEntry);
  }

  /**
   * Signs the current head into the checkpoint file (needs the key provider unsealed).
   * Skips when the file already covers the head. A file that does not verify is evidence
   * (of tampering, or of a truncation it would no longer show once replaced): it is kept,
   * and KW_ERR_AUDIT_CHECKPOINT_INVALID thrown, until someone moves it away on purpose.
   */
  async function checkpoint(): Promise<Checkpoint> {
    const k = await key();
    const head = await readAuditHead(storage.db);
    const existing = readCheckpoint(deps.checkpointFile, k);
    if (existing.state === "invalid")
      throw new KeywardenError("KW_ERR_AUDIT_CHECKPOINT_INVALID", {
        file: deps.checkpointFile,
        reason: existing.reason,
      });
    if (existing.state === "valid" && existing.checkpoint.seq >= head.seq) return existing.checkpoint;
    const c: Checkpoint = { seq: head.seq, hash: head.hash, at: clock.now().toISOString() };
    writeCheckpoint(deps.checkpointFile, k, c);
    return c;
  }

  /** Checks the whole chain, the head row and the checkpoint; says what is wrong and where. */
  async function verify(): Promise<VerifyReport> {
    const k = await key();
    const rows: AuditRow[] = [];
    for (;;) {
      const page = await queryAudit(storage.db, { afterSeq: rows.at(-1)?.seq ?? 0, limit: PAGE });
      rows.push(...page);
      if (page.length < PAGE) break;
    }
    const head = await readAuditHead(storage.db);
    const cp = readCheckpoint(deps.checkpointFile, k);
    const checkpointHead = cp.state === "valid" ? cp.checkpoint : undefined;
    const issues = checkChain(rows, head, checkpointHead);
    if (cp.state === "invalid")
      issues.unshift({
        kind: "checkpoint",
        seq: undefined,
        message: `the checkpoint file ${deps.checkpointFile} is not valid: ${cp.reason}`,
      });
    const lastSeq = rows.at(-1)?.seq ?? 0;
    return {
      ok: issues.length === 0,
      entries: rows.length,
      head,
      checkpoint: checkpointHead,
      unsignedTail: Math.max(0, lastSeq - (checkpointHead?.seq ?? 0)),
      issues,
    };
  }

  function close(): void {
    checkpointKey?.fill(0);
    checkpointKey = undefined;
  }

  return { append, appendMany, appendGroup, record, query, checkpoint, verify, indexPaths, close };
}

export type AuditService = ReturnType<typeof createAuditService>;

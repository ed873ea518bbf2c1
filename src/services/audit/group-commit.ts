/**
 * Group commit: callers submit work that must be committed before they go on (a read's
 * audit entry before its value is returned); work submitted while a transaction is running
 * is committed together in the next one. When idle, a submission is committed at once, so
 * a lone caller waits no longer than with its own transaction; under load, one commit (one
 * fsync on SQLite, one round trip of COMMIT on PostgreSQL) serves many callers.
 */
import type { Kysely, Transaction } from "kysely";
import type { Database } from "../../storage/schema.ts";

/** How many jobs one transaction takes at most (keeps statements and lock times bounded). */
export const DEFAULT_MAX_GROUP = 256;

export interface GroupCommitter<J, R> {
  /** Resolves with the group's result once the transaction holding `job` has committed. */
  submit(job: J): Promise<R>;
}

interface Waiting<J, R> {
  readonly job: J;
  readonly resolve: (r: R) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * One transaction at a time runs `apply` over every job waiting. If the transaction fails,
 * every job of that group is rejected with its error (nothing of it was committed).
 *
 * @example
 *   const reads = groupCommitter(db, async (trx, jobs) => { await audit.appendMany(trx, jobs); });
 *   await reads.submit({ ctx, event }); // committed
 */
export function groupCommitter<J, R>(
  db: Kysely<Database>,
  apply: (trx: Transaction<Database>, jobs: readonly J[]) => Promise<R>,
  maxGroup: number = DEFAULT_MAX_GROUP,
): GroupCommitter<J, R> {
  return groupRunner((jobs) => db.transaction().execute((trx) => apply(trx, jobs)), maxGroup);
}

/**
 * One `commit` at a time over every job waiting; `commit` makes its own transaction (or
 * single statement) and must commit all of the group or none of it. If it fails, every job
 * of that group is rejected with its error.
 *
 * @example
 *   const reads = groupRunner((jobs) => audit.appendGroup(jobs, touch));
 */
export function groupRunner<J, R>(
  commit: (jobs: readonly J[]) => Promise<R>,
  maxGroup: number = DEFAULT_MAX_GROUP,
): GroupCommitter<J, R> {
  const queue: Waiting<J, R>[] = [];
  let running = false;
  // A function, not an inline test: the queue grows across the await below.
  const idle = (): boolean => queue.length === 0;

  async function drain(): Promise<void> {
    try {
      for (;;) {
        if (idle()) {
          // After a commit, give the callers it released (and those that waited on the
          // database behind it) one turn of the event loop to submit again and join the
          // next group, instead of each starting a group of one.
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (idle()) return;
        }
        const group = queue.splice(0, maxGroup);
        try {
          const r = await commit(group.map((w) => w.job));
          for (const w of group) w.resolve(r);
        } catch (e) {
          for (const w of group) w.reject(e);
        }
      }
    } finally {
      running = false;
    }
  }

  return {
    submit(job) {
      return new Promise<R>((resolve, reject) => {
        queue.push({ job, resolve, reject });
        if (!running) {
          // Started after the current task, so jobs submitted together start one group.
          running = true;
          queueMicrotask(() => void drain());
        }
      });
    },
  };
}

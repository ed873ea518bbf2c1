/**
 * Group commit: callers submit work that must be committed before they go on (a read's
 * audit entry before its value is returned); work submitted in one turn of the event loop,
 * or while a transaction is running, is committed together. A lone caller waits one turn
 * of an idle loop (microseconds) more than with its own transaction; under load, one commit
 * (one fsync on SQLite, one round trip of COMMIT on PostgreSQL) serves many callers.
 */
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
 * Groups waiting jobs and runs `commit` over each group; `commit` makes its own transaction
 * (or single statement) and must commit all of the group or none of it. If it fails, every
 * job of that group is rejected with its error.
 *
 * Up to `maxInFlight` groups run at once: with 2, the next group forms and commits while
 * the last one waits for its fsync (the database's lock still orders the commits). Jobs are
 * collected until the event loop has taken in what arrived (one setImmediate), so that
 * groups stay large. Starting a lone job at once instead made every request of a turn a
 * group of its own whenever commits finish within the turn (SQLite with synchronous=NORMAL:
 * 3,466 audited reads/s and 280 µs of CPU each; collected, 13,992/s and 69 µs; with FULL
 * 93 µs to 82 µs; `npm run bench -- server`).
 *
 * @example
 *   const reads = groupRunner((jobs) => audit.appendGroup(jobs, touch), DEFAULT_MAX_GROUP, 2);
 */
export function groupRunner<J, R>(
  commit: (jobs: readonly J[]) => Promise<R>,
  maxGroup: number = DEFAULT_MAX_GROUP,
  maxInFlight = 1,
): GroupCommitter<J, R> {
  const queue: Waiting<J, R>[] = [];
  let inFlight = 0;
  let scheduled = false;

  function pump(): void {
    scheduled = false;
    while (queue.length > 0 && inFlight < maxInFlight) {
      const group = queue.splice(0, maxGroup);
      inFlight++;
      commit(group.map((w) => w.job))
        .then(
          (r) => {
            for (const w of group) w.resolve(r);
          },
          (e: unknown) => {
            for (const w of group) w.reject(e);
          },
        )
        .finally(() => {
          inFlight--;
          later();
        });
    }
  }

  /**
   * After a commit (or while one runs), give the callers it released, and those that
   * arrived meanwhile, one turn of the event loop to join the next group.
   */
  function later(): void {
    if (scheduled || queue.length === 0) return;
    scheduled = true;
    setImmediate(pump);
  }

  return {
    submit(job) {
      return new Promise<R>((resolve, reject) => {
        queue.push({ job, resolve, reject });
        later();
      });
    },
  };
}

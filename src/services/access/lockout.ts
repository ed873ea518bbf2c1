/**
 * Login lockout with exponential backoff: after `threshold` failures in a row an account
 * is locked for `baseSeconds`, and every further failure doubles the lock, up to
 * `maxSeconds`. A success resets the count. Pure, so that it is tested with any clock.
 */

export interface LockoutPolicy {
  readonly threshold: number;
  readonly baseSeconds: number;
  readonly maxSeconds: number;
}

/**
 * Seconds of lockout after the `failures`-th failure in a row (0: not locked).
 *
 * @example
 *   lockoutSeconds(5, { threshold: 5, baseSeconds: 30, maxSeconds: 3600 }) // 30
 *   lockoutSeconds(7, { threshold: 5, baseSeconds: 30, maxSeconds: 3600 }) // 120
 */
export function lockoutSeconds(failures: number, policy: LockoutPolicy): number {
  if (failures < policy.threshold) return 0;
  const doublings = Math.min(failures - policy.threshold, 40);
  return Math.min(policy.maxSeconds, policy.baseSeconds * 2 ** doublings);
}

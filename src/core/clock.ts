/**
 * Time, injected so that expiry, rotation and audit logic can be tested at any instant.
 *
 * @example
 *   const clock: Clock = systemClock; clock.now().toISOString();
 */
export interface Clock {
  now(): Date;
  /** Milliseconds from a monotonic origin, for durations only. */
  monotonicMs(): number;
}

export const systemClock: Clock = Object.freeze({
  now: () => new Date(),
  monotonicMs: () => performance.now(),
});

import type { Clock } from "../../src/core/clock.ts";

/** A clock stopped at `iso`; `advance` moves it. */
export function fixedClock(iso: string): Clock & { advance(ms: number): void } {
  let t = new Date(iso).getTime();
  let mono = 0;
  return {
    now: () => new Date(t),
    monotonicMs: () => mono,
    advance(ms: number) {
      t += ms;
      mono += ms;
    },
  };
}

/**
 * One part of `npm run bench`: scan throughput today; git history, vault and server later.
 * A part prints its own figures and returns normally when a target is missed: a bench is a
 * measurement, not a test. It throws only when it could not measure at all.
 *
 * @example
 *   export const scanBench: BenchPart = { name: "scan", description: "...", run: () => { ... } };
 */
export interface BenchPart {
  /** What `npm run bench -- <name>` selects. */
  readonly name: string;
  readonly description: string;
  readonly run: () => void | Promise<void>;
}

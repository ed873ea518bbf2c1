/**
 * Request loggers made only when something is logged. Fastify gives every request a child
 * of the server's logger (bound to its request id); with pino's redaction on, making one
 * costs about as much as a whole bare request does (measured: about 4% of a secret read's
 * CPU). Most requests log nothing at the configured level, so the child is made on the
 * first call at an enabled level, and never otherwise.
 */
import type { FastifyBaseLogger } from "fastify";

/** pino's loggers (the server's is one) answer this; Fastify's type does not declare it. */
type Leveled = FastifyBaseLogger & { isLevelEnabled(level: string): boolean };

type Level = "trace" | "debug" | "info" | "warn" | "error" | "fatal";
const LEVELS: readonly Level[] = ["trace", "debug", "info", "warn", "error", "fatal"];

/**
 * A child logger of `parent` made lazily (see the file comment). A child asked for its own
 * level is made at once.
 *
 * @example
 *   Fastify({ loggerInstance: logger, childLoggerFactory: lazyChildLogger });
 */
export function lazyChildLogger(
  parent: FastifyBaseLogger,
  bindings: Record<string, unknown>,
  opts: { level?: string },
): FastifyBaseLogger {
  if (opts.level !== undefined || typeof (parent as Partial<Leveled>).isLevelEnabled !== "function")
    return parent.child(bindings, opts);
  const base = parent as Leveled;
  let real: FastifyBaseLogger | undefined;
  const get = (): FastifyBaseLogger => (real ??= base.child(bindings, opts));
  const lazy = {
    child: (b: Record<string, unknown>, o?: Record<string, unknown>) => get().child(b, o),
    silent: () => undefined,
    get level() {
      return (real ?? parent).level;
    },
    set level(level: string) {
      get().level = level;
    },
    isLevelEnabled: (level: string) => ((real ?? base) as Leveled).isLevelEnabled(level),
  } as Record<string, unknown>;
  for (const level of LEVELS)
    lazy[level] = (...args: unknown[]) => {
      if (real === undefined && !base.isLevelEnabled(level)) return;
      const child = get();
      Reflect.apply(child[level], child, args);
    };
  return lazy as unknown as FastifyBaseLogger;
}

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

/**
 * The lazy child: one small object per request, its methods on the prototype (closures per
 * request cost more than the logging they guard).
 */
class LazyChild {
  #real: FastifyBaseLogger | undefined;
  readonly #base: Leveled;
  readonly #bindings: Record<string, unknown>;
  readonly #opts: { level?: string };

  constructor(base: Leveled, bindings: Record<string, unknown>, opts: { level?: string }) {
    this.#base = base;
    this.#bindings = bindings;
    this.#opts = opts;
  }

  #get(): FastifyBaseLogger {
    return (this.#real ??= this.#base.child(this.#bindings, this.#opts));
  }

  #log(level: Level, args: unknown[]): void {
    if (this.#real === undefined && !this.#base.isLevelEnabled(level)) return;
    const child = this.#get();
    Reflect.apply(child[level], child, args);
  }

  child(bindings: Record<string, unknown>, opts?: Record<string, unknown>): FastifyBaseLogger {
    return this.#get().child(bindings, opts);
  }

  silent(): void {
    // Nothing to log.
  }

  get level(): string {
    return (this.#real ?? this.#base).level;
  }

  set level(level: string) {
    this.#get().level = level;
  }

  isLevelEnabled(level: string): boolean {
    return ((this.#real ?? this.#base) as Leveled).isLevelEnabled(level);
  }

  trace(...args: unknown[]): void {
    this.#log("trace", args);
  }

  debug(...args: unknown[]): void {
    this.#log("debug", args);
  }

  info(...args: unknown[]): void {
    this.#log("info", args);
  }

  warn(...args: unknown[]): void {
    this.#log("warn", args);
  }

  error(...args: unknown[]): void {
    this.#log("error", args);
  }

  fatal(...args: unknown[]): void {
    this.#log("fatal", args);
  }
}

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
  return new LazyChild(parent as Leveled, bindings, opts);
}

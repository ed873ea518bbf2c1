import { inspect } from "node:util";
import { maskSecret } from "./redact.ts";

const REDACTED = "[Secret]";

/**
 * A secret value that cannot leak by accident: string conversion, JSON and util.inspect
 * all print a placeholder. `reveal()` is the one way to the plaintext, and is easy to grep.
 *
 * @example
 *   const s = new Secret("sk_live_..."); `${s}` // "[Secret]"; s.reveal() // "sk_live_..."
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The plaintext. Call it only where the value must leave the process (a request, a child's env). */
  reveal(): string {
    return this.#value;
  }

  /** The display mask: first 4 and last 2 characters of a long value. */
  masked(): string {
    return maskSecret(this.#value);
  }

  get length(): number {
    return this.#value.length;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }
}

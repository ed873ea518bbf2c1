/**
 * A value or an expected failure, for functions whose failure is part of their contract.
 *
 * @example
 *   const r = parsePort("80"); if (!r.ok) return r; use(r.value);
 */
export type Result<T, E = Error> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

/** @example ok(42) */
export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });

/** @example err(new KeywardenError("KW_ERR_USAGE", { reason: "no path" })) */
export const err = <E>(error: E): Result<never, E> => ({ ok: false, error });

/** Returns the value or throws the error: for call sites where failure is a bug. */
export function unwrap<T, E>(r: Result<T, E>): T {
  if (r.ok) return r.value;
  throw r.error instanceof Error ? r.error : new Error(String(r.error));
}

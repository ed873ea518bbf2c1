/**
 * TOTP (RFC 6238) second factor through the `otpauth` package: 30-second steps, 6 digits,
 * HMAC-SHA-1 (what authenticator apps accept), one step of clock drift either way. A code
 * is accepted at most once: the caller stores the step it matched and passes it back as
 * `lastStep`, and only later steps are accepted.
 */
import { randomBytes } from "node:crypto";
import { Secret, TOTP } from "otpauth";

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** 160 bits, RFC 4226's recommended secret length for HMAC-SHA-1. */
export const TOTP_SECRET_BYTES = 20;

export type TotpAlgorithm = "SHA1" | "SHA256" | "SHA512";

export interface TotpOptions {
  readonly algorithm?: TotpAlgorithm;
  readonly digits?: number;
  readonly period?: number;
}

/** A fresh random TOTP secret. @example const secret = newTotpSecret(); */
export function newTotpSecret(): Uint8Array {
  return new Uint8Array(randomBytes(TOTP_SECRET_BYTES));
}

function secretOf(bytes: Uint8Array): Secret {
  return new Secret({ buffer: Uint8Array.from(bytes).buffer });
}

/**
 * The code for a time (milliseconds since the epoch).
 *
 * @example
 *   totpCode(secret, Date.now()) // "492039"
 */
export function totpCode(secret: Uint8Array, atMs: number, options: TotpOptions = {}): string {
  return TOTP.generate({
    secret: secretOf(secret),
    algorithm: options.algorithm ?? "SHA1",
    digits: options.digits ?? TOTP_DIGITS,
    period: options.period ?? TOTP_PERIOD_SECONDS,
    timestamp: atMs,
  });
}

/**
 * The time step a valid code belongs to (within one step of `atMs`), or undefined when the
 * code is wrong or its step is not after `lastStep` (a replay). The comparison inside
 * `otpauth` is constant-time.
 *
 * @example
 *   const step = verifyTotp(secret, "492039", clock.now().getTime(), row.totp_last_step);
 */
export function verifyTotp(
  secret: Uint8Array,
  code: string,
  atMs: number,
  lastStep: number | null,
  options: TotpOptions = {},
): number | undefined {
  const digits = options.digits ?? TOTP_DIGITS;
  const period = options.period ?? TOTP_PERIOD_SECONDS;
  if (!new RegExp(`^\\d{${digits}}$`).test(code)) return undefined;
  const delta = TOTP.validate({
    token: code,
    secret: secretOf(secret),
    algorithm: options.algorithm ?? "SHA1",
    digits,
    period,
    timestamp: atMs,
    window: 1,
  });
  if (delta === null) return undefined;
  const step = Math.floor(atMs / 1000 / period) + delta;
  if (lastStep !== null && step <= lastStep) return undefined;
  return step;
}

/**
 * The `otpauth://` URI an authenticator app scans (shown once, at enrolment).
 *
 * @example
 *   totpUri(secret, "alice") // "otpauth://totp/Keywarden:alice?issuer=Keywarden&secret=...&algorithm=SHA1&digits=6&period=30"
 */
export function totpUri(secret: Uint8Array, account: string): string {
  return new TOTP({
    issuer: "Keywarden",
    label: account,
    secret: secretOf(secret),
    algorithm: "SHA1",
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
  }).toString();
}

/**
 * Secret paths: `project/environment/NAME`. NAME is a valid environment variable name, so
 * that `keywarden run` and `export` can use it as one.
 */
import { KeywardenError } from "../../core/errors.ts";
import { keyLookalike, maskKeys } from "../../detect/mask.ts";

export interface SecretPath {
  readonly project: string;
  readonly environment: string;
  readonly name: string;
  /** The canonical `project/environment/NAME`. */
  readonly path: string;
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** A path as it may appear in an error or the audit log: printable, short, any key in it masked. */
export function displayPath(raw: string): string {
  const printable = maskKeys(raw).replace(/[^\x20-\x7e]/g, "?");
  return printable.length > 200 ? `${printable.slice(0, 200)}...` : printable;
}

/**
 * Parses and checks a secret path.
 *
 * @example
 *   parseSecretPath("payments/prod/STRIPE_SECRET_KEY").name // "STRIPE_SECRET_KEY"
 */
export function parseSecretPath(raw: string): SecretPath {
  const parts = raw.split("/");
  if (parts.length !== 3) throw invalidPath(raw, "it must have three parts, project/environment/NAME");
  const [project, environment, name] = parts as [string, string, string];
  if (!SEGMENT.test(project))
    throw invalidPath(raw, "the project must be 1-64 letters, digits, '.', '_' or '-'");
  if (!SEGMENT.test(environment))
    throw invalidPath(raw, "the environment must be 1-64 letters, digits, '.', '_' or '-'");
  if (!NAME.test(name))
    throw invalidPath(
      raw,
      "NAME must be an environment variable name (letters, digits, '_'; not starting with a digit)",
    );
  return { project, environment, name, path: raw };
}

/** The error for a path that does not parse (a function, not a closure made on every read). */
function invalidPath(raw: string, reason: string): KeywardenError {
  return new KeywardenError("KW_ERR_VAULT_PATH_INVALID", { path: displayPath(raw), reason });
}

/**
 * Refuses a path to write to that holds what looks like a key (a value pasted where its name
 * goes): it would be kept in the clear as the secret's path, in the audit log and in logs.
 *
 * @example
 *   refuseKeyInPath(parseSecretPath("billing/prod/STRIPE_KEY")); // passes
 */
export function refuseKeyInPath(p: SecretPath): void {
  const key = keyLookalike(p.path);
  if (key !== undefined)
    throw new KeywardenError("KW_ERR_VAULT_PATH_INVALID", {
      path: displayPath(p.path),
      reason: `it holds what looks like ${key}; a secret's value goes in the request body or on stdin, never in its path`,
    });
}

/**
 * Parses `project/environment` (the argument of run, export and import).
 *
 * @example
 *   parseEnvironmentPath("payments/prod") // { project: "payments", environment: "prod" }
 */
export function parseEnvironmentPath(raw: string): { project: string; environment: string; path: string } {
  const trimmed = raw.replace(/\/+$/, "");
  const parts = trimmed.split("/");
  if (parts.length !== 2 || !SEGMENT.test(parts[0]!) || !SEGMENT.test(parts[1]!)) {
    throw new KeywardenError("KW_ERR_VAULT_PATH_INVALID", {
      path: displayPath(raw),
      reason: "an environment is project/environment, for example payments/prod",
    });
  }
  return { project: parts[0]!, environment: parts[1]!, path: trimmed };
}

/**
 * Checks a project name (the first segment of a secret path).
 *
 * @example
 *   parseProject("payments") // "payments"
 */
export function parseProject(raw: string): string {
  if (!SEGMENT.test(raw))
    throw new KeywardenError("KW_ERR_VAULT_PATH_INVALID", {
      path: displayPath(raw),
      reason: "a project is 1-64 letters, digits, '.', '_' or '-'",
    });
  return raw;
}

import { randomBytes } from "node:crypto";

/** A random value shaped like an API key, built at run time (never a literal in the repo). */
export function makeKey(prefix = "sk"): string {
  return `${prefix}_${randomBytes(18).toString("base64url")}`;
}

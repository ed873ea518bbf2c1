/**
 * The signed checkpoint of the audit chain's head, kept in a file in home, apart from the
 * database: `{ format, formatVersion, seq, hash, at, mac }` where mac is HMAC-SHA-256 under
 * the vault's audit checkpoint key over the canonical JSON of the other fields.
 */
import { readFileSync } from "node:fs";
import { KeywardenError } from "../../core/errors.ts";
import { constantTimeEqual, hmacSha256 } from "../../crypto/kdf.ts";
import { writeFileAtomic } from "../../kms/atomic-file.ts";

const FORMAT = "keywarden-audit-checkpoint";
const FORMAT_VERSION = 1;

export interface Checkpoint {
  readonly seq: number;
  readonly hash: string;
  readonly at: string;
}

function signedBytes(c: Checkpoint): Uint8Array {
  return new TextEncoder().encode(JSON.stringify([FORMAT, FORMAT_VERSION, c.seq, c.hash, c.at]));
}

/**
 * Writes a checkpoint atomically (0600).
 *
 * @example
 *   writeCheckpoint(file, key, { seq: 42, hash, at: clock.now().toISOString() });
 */
export function writeCheckpoint(file: string, key: Uint8Array, c: Checkpoint): void {
  const mac = Buffer.from(hmacSha256(key, signedBytes(c))).toString("hex");
  const body =
    JSON.stringify(
      { format: FORMAT, formatVersion: FORMAT_VERSION, seq: c.seq, hash: c.hash, at: c.at, mac },
      null,
      2,
    ) + "\n";
  try {
    writeFileAtomic(file, new TextEncoder().encode(body), { exclusive: false });
  } catch (e) {
    throw new KeywardenError(
      "KW_ERR_AUDIT_CHECKPOINT",
      { operation: "write", file, reason: (e as NodeJS.ErrnoException).code ?? String(e) },
      { cause: e },
    );
  }
}

/** What reading a checkpoint file gave. */
export type CheckpointRead =
  | { readonly state: "absent" }
  | { readonly state: "invalid"; readonly reason: string }
  | { readonly state: "valid"; readonly checkpoint: Checkpoint };

/**
 * Reads and authenticates a checkpoint. A missing file is "absent"; a malformed one or one
 * whose MAC fails is "invalid" (tampered, or from another vault).
 *
 * @example
 *   const r = readCheckpoint(file, key); if (r.state === "valid") use(r.checkpoint.seq);
 */
export function readCheckpoint(file: string, key: Uint8Array): CheckpointRead {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { state: "absent" };
    throw new KeywardenError(
      "KW_ERR_AUDIT_CHECKPOINT",
      { operation: "read", file, reason: (e as NodeJS.ErrnoException).code ?? String(e) },
      { cause: e },
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { state: "invalid", reason: "not JSON" };
  }
  if (typeof raw !== "object" || raw === null)
    return { state: "invalid", reason: "not a Keywarden audit checkpoint" };
  const o = raw as Record<string, unknown>;
  if (o.format !== FORMAT || o.formatVersion !== FORMAT_VERSION) {
    return { state: "invalid", reason: "not a Keywarden audit checkpoint" };
  }
  if (
    !Number.isSafeInteger(o.seq) ||
    typeof o.hash !== "string" ||
    typeof o.at !== "string" ||
    typeof o.mac !== "string"
  ) {
    return { state: "invalid", reason: "malformed fields" };
  }
  const c: Checkpoint = { seq: o.seq as number, hash: o.hash, at: o.at };
  const expected = hmacSha256(key, signedBytes(c));
  if (!/^[0-9a-f]{64}$/.test(o.mac) || !constantTimeEqual(expected, Buffer.from(o.mac, "hex"))) {
    return { state: "invalid", reason: "its signature does not verify (modified, or from another vault)" };
  }
  return { state: "valid", checkpoint: c };
}

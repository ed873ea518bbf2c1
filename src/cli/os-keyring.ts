/**
 * The OS keyring for the `keywarden login` token: the freedesktop Secret Service (GNOME
 * Keyring, KWallet, KeePassXC) through libsecret's `secret-tool`, over the D-Bus session bus.
 *
 * Invariants:
 * - The token crosses to `secret-tool` on stdin only (argv is readable by every local user
 *   in /proc); it comes back on stdout.
 * - An item is identified by `service=keywarden`, `server=<origin>` and `home=<Keywarden
 *   home>`, so two homes logged in to one server keep separate tokens.
 * - Every call has a deadline (a locked keyring may wait on an unlock prompt, a stopped
 *   daemon never answers): past it the child is killed and the caller gets a reason.
 * - A reason never holds the token: it is secret-tool's own error line, or ours.
 *
 * Only Linux/BSD desktops are covered. macOS Keychain (`security`) and Windows Credential
 * Manager have no code here and are not tested here; there the token goes to the 0600 file.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import type { Secret } from "../core/secret.ts";
import type { CliIO } from "./io.ts";

export const KEYRING_ENV = "KEYWARDEN_KEYRING";
export const KEYRING_TIMEOUT_ENV = "KEYWARDEN_KEYRING_TIMEOUT_MS";
/** Long enough for a person to answer an unlock prompt, short enough not to look hung. */
export const DEFAULT_KEYRING_TIMEOUT_MS = 20_000;
const SERVICE = "keywarden";

/** Whether a keyring can be tried at all, and if not, why not (for the user). */
export type KeyringStatus = { readonly usable: true } | { readonly usable: false; readonly reason: string };

/** The result of one keyring call: `missing` is a clean "no such item". */
export type KeyringOutcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly missing: boolean; readonly reason: string };

/** Which item holds a token: one per server and Keywarden home. */
export interface KeyringItem {
  readonly server: string;
  readonly home: string;
}

function onPath(env: CliIO["env"], name: string): boolean {
  return (env.PATH ?? "").split(delimiter).some((d) => d !== "" && existsSync(join(d, name)));
}

/**
 * Whether the Secret Service may be tried: not turned off with KEYWARDEN_KEYRING=off, a
 * D-Bus session address, and `secret-tool` installed. Whether a service answers on that
 * bus is only known by calling it.
 *
 * @example
 *   keyringStatus({ PATH: "/usr/bin" }) // { usable: false, reason: "no D-Bus session ..." }
 */
export function keyringStatus(env: CliIO["env"]): KeyringStatus {
  if (env[KEYRING_ENV] === "off") return { usable: false, reason: `${KEYRING_ENV}=off` };
  if ((env.DBUS_SESSION_BUS_ADDRESS ?? "") === "")
    return { usable: false, reason: "no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)" };
  if (!onPath(env, "secret-tool"))
    return { usable: false, reason: "secret-tool is not installed (Debian/Ubuntu: libsecret-tools)" };
  return { usable: true };
}

function timeoutMs(env: CliIO["env"]): number {
  const n = Number(env[KEYRING_TIMEOUT_ENV]);
  return Number.isSafeInteger(n) && n > 0 ? n : DEFAULT_KEYRING_TIMEOUT_MS;
}

function attributes(item: KeyringItem): string[] {
  return ["service", SERVICE, "server", item.server, "home", item.home];
}

/** One line of secret-tool's stderr, without its prefix; it never echoes the secret. */
function firstLine(stderr: string): string {
  const line = stderr
    .split("\n")
    .map((l) => l.replace(/^secret-tool:\s*/, "").trim())
    .find((l) => l !== "");
  return line === undefined ? "" : line.slice(0, 200);
}

interface ToolRun {
  readonly ok: boolean;
  /** Exit 1 with nothing on stderr: no matching item, or (lookup, clear) a locked one. */
  readonly missing: boolean;
  readonly stdout: string;
  readonly reason: string;
}

function secretTool(env: CliIO["env"], args: readonly string[], input = ""): ToolRun {
  const ms = timeoutMs(env);
  const childEnv: Record<string, string | undefined> = { ...env };
  delete childEnv.KEYWARDEN_TOKEN;
  const r = spawnSync("secret-tool", args, {
    input,
    env: childEnv,
    encoding: "utf8",
    timeout: ms,
    killSignal: "SIGKILL",
    maxBuffer: 1024 * 1024,
  });
  const failure: NodeJS.ErrnoException | undefined = r.error;
  const code = failure?.code;
  if (code === "ETIMEDOUT")
    return {
      ok: false,
      missing: false,
      stdout: "",
      reason: `no answer from the Secret Service within ${ms / 1000} s (locked, waiting on a prompt, or hung)`,
    };
  if (r.error !== undefined)
    return {
      ok: false,
      missing: false,
      stdout: "",
      reason: `secret-tool failed to run (${code ?? "error"})`,
    };
  const err = firstLine(r.stderr);
  if (r.status === 0) return { ok: true, missing: false, stdout: r.stdout, reason: "" };
  return {
    ok: false,
    missing: r.status === 1 && err === "",
    stdout: "",
    reason: err !== "" ? err : `secret-tool exited with ${r.status ?? r.signal ?? "?"}`,
  };
}

/**
 * Stores (or replaces) the token of one server and home; the token goes on stdin.
 *
 * @example
 *   const r = keyringStore(io.env, { server, home }, token); if (!r.ok) useFile(r.reason);
 */
export function keyringStore(env: CliIO["env"], item: KeyringItem, token: Secret): KeyringOutcome<true> {
  // secret-tool reads the whole of stdin as the secret when stdin is not a terminal.
  const r = secretTool(
    env,
    ["store", "--label", `Keywarden token for ${item.server}`, ...attributes(item)],
    token.reveal(),
  );
  return r.ok ? { ok: true, value: true } : { ok: false, missing: false, reason: r.reason };
}

/**
 * The stored token of one server and home; `missing` when the keyring answered that it has
 * none.
 *
 * @example
 *   const r = keyringLookup(io.env, { server, home }); if (r.ok) use(r.value);
 */
export function keyringLookup(env: CliIO["env"], item: KeyringItem): KeyringOutcome<string> {
  const r = secretTool(env, ["lookup", ...attributes(item)]);
  if (r.ok && r.stdout.trim() !== "") return { ok: true, value: r.stdout.trim() };
  if (!r.ok && !r.missing) return { ok: false, missing: false, reason: r.reason };
  // `lookup` says nothing both when there is no item and when it is locked and was not
  // unlocked; `search` lists a locked item (without its secret).
  const listed = secretTool(env, ["search", ...attributes(item)]);
  if (!listed.ok) return { ok: false, missing: false, reason: listed.reason };
  return /^\[\//m.test(listed.stdout)
    ? { ok: false, missing: false, reason: "the keyring is locked (and no unlock prompt was answered)" }
    : { ok: false, missing: true, reason: "the keyring has no such item" };
}

/**
 * Removes the token of one server and home, and checks that it is gone: `secret-tool clear`
 * exits 1 both for "nothing to clear" and for a locked item, so the lookup after it decides.
 *
 * @example
 *   const r = keyringClear(io.env, { server, home }); if (!r.ok) throw ...(r.reason);
 */
export function keyringClear(env: CliIO["env"], item: KeyringItem): KeyringOutcome<true> {
  const cleared = secretTool(env, ["clear", ...attributes(item)]);
  if (!cleared.ok && !cleared.missing) return { ok: false, missing: false, reason: cleared.reason };
  const after = keyringLookup(env, item);
  if (after.ok) return { ok: false, missing: false, reason: "the keyring kept the item" };
  return after.missing ? { ok: true, value: true } : { ok: false, missing: false, reason: after.reason };
}

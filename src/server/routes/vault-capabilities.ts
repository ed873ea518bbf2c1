/**
 * Vault's capabilities of a path (`vault token capabilities secret/data/payments/prod/KEY`,
 * POST /v1/sys/capabilities-self): what Keywarden's policies allow, said in Vault's words for
 * the KV v2 paths Vault clients use. The Vault API's routes check these Keywarden
 * capabilities, so the answer is what they would allow:
 *
 * | Vault path              | Vault capability    | Keywarden capability on the secret path |
 * | ----------------------- | ------------------- | ---------------------------------------- |
 * | `<mount>/data/P`        | read                | read                                     |
 * |                         | create, update      | write                                    |
 * |                         | patch               | read and write                           |
 * |                         | delete              | delete                                   |
 * | `<mount>/metadata/P`    | read                | list (a version history)                 |
 * |                         | list                | list on everything under `P/` (a folder) |
 * |                         | create, update      | write (custom metadata)                  |
 * |                         | delete              | destroy (everything, for good)           |
 * | `<mount>/delete/P`, `<mount>/undelete/P` | update | delete                              |
 * | `<mount>/destroy/P`     | update              | destroy                                  |
 *
 * Any other path, and one where nothing is allowed, is `["deny"]`, as Vault says it.
 */
import type { Capability } from "../../services/access/access-types.ts";

/** What a Keywarden capability check answers (the access service's `can` and `canList`). */
export interface CapabilityCheck {
  can(capability: Capability, path: string): Promise<boolean>;
  /** `list` on every secret under `prefix` (a folder). */
  canList(prefix: string): Promise<boolean>;
}

const KV_PATH = /^([A-Za-z0-9_-]{1,64})\/(data|metadata|delete|undelete|destroy)\/(.+)$/;

/**
 * The Vault capabilities `check` allows on Vault path `vaultPath`, in Vault's order.
 *
 * @example
 *   await vaultCapabilities("secret/data/payments/prod/KEY", check) // ["read"]
 */
export async function vaultCapabilities(vaultPath: string, check: CapabilityCheck): Promise<string[]> {
  const m = KV_PATH.exec(vaultPath.replace(/^\/+/, "").replace(/\/+$/, ""));
  if (m === null) return ["deny"];
  const [, , kind, path] = m as unknown as [string, string, string, string];
  const caps: string[] = [];
  const when = async (ok: Promise<boolean>, ...names: string[]) => {
    if (await ok) caps.push(...names);
  };
  switch (kind) {
    case "data": {
      const [write, read] = await Promise.all([check.can("write", path), check.can("read", path)]);
      if (write) caps.push("create", "update");
      if (read) caps.push("read");
      // A merge patch reads the current version, then writes the next.
      if (write && read) caps.push("patch");
      await when(check.can("delete", path), "delete");
      break;
    }
    case "metadata":
      await when(check.can("write", path), "create", "update");
      await when(check.can("list", path), "read");
      await when(check.canList(`${path}/`), "list");
      await when(check.can("destroy", path), "delete");
      break;
    case "delete":
    case "undelete":
      await when(check.can("delete", path), "update");
      break;
    default:
      await when(check.can("destroy", path), "update");
  }
  return caps.length === 0 ? ["deny"] : [...new Set(caps)].sort();
}

import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { CliIO } from "./io.ts";

/**
 * Keywarden's home: `--home` / KEYWARDEN_HOME (the `home` config key), else
 * `$XDG_DATA_HOME/keywarden`, else `~/.local/share/keywarden`.
 *
 * @example
 *   resolveHome("", { HOME: "/home/me" }, "/work") // "/home/me/.local/share/keywarden"
 */
export function resolveHome(configured: string, env: CliIO["env"], cwd: string): string {
  if (configured !== "") return resolve(cwd, configured);
  const xdg = env.XDG_DATA_HOME;
  if (xdg !== undefined && xdg !== "" && xdg.startsWith("/")) return join(xdg, "keywarden");
  const home = env.HOME !== undefined && env.HOME !== "" ? env.HOME : homedir();
  return join(home, ".local", "share", "keywarden");
}

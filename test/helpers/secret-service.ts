/**
 * A real, headless freedesktop Secret Service for tests: a private D-Bus session bus
 * (dbus-daemon with its own config: no service activation, so nothing else starts on it)
 * and gnome-keyring-daemon on it, its "login" keyring created and unlocked with a random
 * password read on stdin. Everything lives in a temporary folder (HOME and XDG_* point
 * there), so the user's own keyring is never touched. Debian: dbus, gnome-keyring,
 * libsecret-tools.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import type { TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

const TOOLS = ["dbus-daemon", "dbus-send", "gnome-keyring-daemon", "secret-tool"] as const;
const LOGIN_COLLECTION = "/org/freedesktop/secrets/collection/login";

export interface SecretService {
  /** The environment a client needs: the bus address (and a private HOME). */
  readonly env: Record<string, string>;
  /** `secret-tool lookup` of these attributes: the secret, or undefined when there is none. */
  lookup(attributes: Record<string, string>): string | undefined;
  /** Locks the login keyring, as a screen lock or a timeout would. */
  lock(): void;
  /** Freezes the daemon (SIGSTOP): it holds its bus name but never answers. Returns resume. */
  freeze(): () => void;
}

/** Why the Secret Service cannot be started here (a missing tool), or undefined. */
export function secretServiceMissing(): string | undefined {
  const dirs = (process.env.PATH ?? "").split(delimiter).filter((d) => d !== "");
  const missing = TOOLS.filter((tool) => !dirs.some((d) => existsSync(join(d, tool))));
  return missing.length === 0
    ? undefined
    : `${missing.join(", ")} not installed (Debian: dbus gnome-keyring libsecret-tools)`;
}

const busConfig = (socket: string): string => `<!DOCTYPE busconfig PUBLIC
 "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGCONT");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts a private bus and gnome-keyring-daemon for this test; both stop when it ends.
 *
 * @example
 *   const missing = secretServiceMissing(); if (missing) return t.skip(missing);
 *   const ss = await startSecretService(t);
 *   runCli(["login", ...], { env: { ...ss.env, KEYWARDEN_HOME: home } });
 */
export async function startSecretService(t: TestContext): Promise<SecretService> {
  const dir = mkdtempSync(join(tmpdir(), "kw-keyring-"));
  const children: ChildProcess[] = [];
  t.after(async () => {
    for (const c of children.reverse()) await stopChild(c);
    rmSync(dir, { recursive: true, force: true });
  });
  const home = join(dir, "home");
  const runtime = join(dir, "run");
  mkdirSync(home, { mode: 0o700 });
  mkdirSync(runtime, { mode: 0o700 });
  const config = join(dir, "bus.conf");
  writeFileSync(config, busConfig(join(dir, "bus")));
  const baseEnv = {
    PATH: process.env.PATH ?? "",
    HOME: home,
    XDG_RUNTIME_DIR: runtime,
    XDG_DATA_HOME: join(home, "data"),
    XDG_CONFIG_HOME: join(home, "config"),
    XDG_CACHE_HOME: join(home, "cache"),
  };

  const bus = spawn("dbus-daemon", [`--config-file=${config}`, "--nofork", "--print-address=1"], {
    env: baseEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(bus);
  let printed = "";
  bus.stdout.on("data", (d: Buffer) => (printed += d.toString()));
  bus.stderr.resume();
  for (let i = 0; i < 100 && !printed.includes("\n"); i++) await sleep(50);
  const address = printed.split("\n")[0]!.trim();
  if (address === "") throw new Error("dbus-daemon printed no address");
  const env = { ...baseEnv, DBUS_SESSION_BUS_ADDRESS: address };

  const daemon = spawn("gnome-keyring-daemon", ["--foreground", "--unlock", "--components=secrets"], {
    env,
    stdio: ["pipe", "ignore", "pipe"],
  });
  children.push(daemon);
  let daemonErr = "";
  daemon.stderr.on("data", (d: Buffer) => (daemonErr += d.toString()));
  // The login keyring's password, on stdin as a PAM module would give it.
  daemon.stdin.end(randomBytes(12).toString("hex"));

  const dbusSend = (...args: string[]) =>
    spawnSync("dbus-send", ["--session", "--print-reply", ...args], {
      env,
      encoding: "utf8",
      timeout: 5000,
    });
  // Ready when the daemon owns the service's name; this bus activates nothing, so polling
  // cannot start another daemon.
  for (let i = 0; ; i++) {
    const r = dbusSend(
      "--dest=org.freedesktop.DBus",
      "/org/freedesktop/DBus",
      "org.freedesktop.DBus.NameHasOwner",
      "string:org.freedesktop.secrets",
    );
    if (r.stdout.includes("boolean true")) break;
    if (i > 100 || daemon.exitCode !== null)
      throw new Error(`gnome-keyring-daemon did not come up: ${daemonErr}`);
    await sleep(50);
  }

  return {
    env,
    lookup(attributes) {
      const r = spawnSync("secret-tool", ["lookup", ...Object.entries(attributes).flat()], {
        env,
        encoding: "utf8",
        timeout: 10_000,
      });
      if (r.status === 1 && r.stderr === "") return undefined;
      if (r.status !== 0) throw new Error(`secret-tool lookup failed: ${r.stderr}`);
      return r.stdout;
    },
    lock() {
      const r = dbusSend(
        "--dest=org.freedesktop.secrets",
        "/org/freedesktop/secrets",
        "org.freedesktop.Secret.Service.Lock",
        `array:objpath:${LOGIN_COLLECTION}`,
      );
      if (r.status !== 0) throw new Error(`locking the keyring failed: ${r.stderr}`);
    },
    freeze() {
      daemon.kill("SIGSTOP");
      return () => daemon.kill("SIGCONT");
    },
  };
}

import { spawn, type ChildProcess } from "node:child_process";
import { constants } from "node:os";
import type { Command } from "commander";
import { KeywardenError } from "../../core/errors.ts";
import type { CliIO } from "../io.ts";
import { OIDC_TOKEN_ENV } from "../ci-oidc.ts";
import { TOKEN_ENV } from "../remote-login.ts";
import { withBackend } from "../vault-backend.ts";
import { PASSPHRASE_ENV, withPassphraseOption, type VaultFlags } from "../vault-context.ts";

const FORWARDED: readonly NodeJS.Signals[] = [
  "SIGINT",
  "SIGTERM",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
  "SIGWINCH",
];

/**
 * The child's environment: ours without the vault's or the server's credentials, plus the
 * secrets. A value with a NUL byte cannot be passed: KW_ERR_RUN_ENV names its variable.
 */
export function childEnv(
  env: CliIO["env"],
  secrets: readonly { name: string; value: string }[],
  kekVariable: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  const kekVars = new RegExp(`^${kekVariable}(_V\\d+)?$`);
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || k === PASSPHRASE_ENV || k === TOKEN_ENV || k === OIDC_TOKEN_ENV || kekVars.test(k))
      continue;
    out[k] = v;
  }
  for (const s of secrets) {
    // Node would refuse it later with the value in its message.
    if (s.value.includes("\0"))
      throw new KeywardenError("KW_ERR_RUN_ENV", { name: s.name, reason: "its value has a NUL byte" });
    out[s.name] = s.value;
  }
  return out;
}

/** A failure to start the command, as the error that says what to do. */
function spawnError(file: string, env: Record<string, string>, e: NodeJS.ErrnoException): KeywardenError {
  if (e.code === "E2BIG") {
    let bytes = 0;
    for (const [k, v] of Object.entries(env)) bytes += Buffer.byteLength(k) + Buffer.byteLength(v) + 2;
    return new KeywardenError("KW_ERR_RUN_ENV_TOO_LARGE", {
      count: Object.keys(env).length,
      bytes,
    });
  }
  return new KeywardenError("KW_ERR_RUN_FAILED", { command: file, reason: e.code ?? e.message });
}

/** `keywarden run --env project/environment -- CMD ARGS` */
export function registerRun(program: Command, io: CliIO, setExit: (code: number) => void): void {
  withPassphraseOption(
    program
      .command("run")
      .description("run a command with an environment's secrets as environment variables")
      .requiredOption("--env <project/environment>", "whose secrets to inject, like payments/prod")
      .argument("<command...>", "the command and its arguments, after --")
      .addHelpText(
        "after",
        `
The command's exit code is passed through (128+N when killed by signal N), and signals
sent to keywarden are forwarded to it. The vault passphrase is not passed on.

Examples:
  keywarden run --env payments/prod -- node server.js
  keywarden run --env app/dev -- sh -c 'echo $DATABASE_URL'`,
      ),
  ).action(async (command: string[], flags: VaultFlags & { env: string }, cmd: Command) => {
    const { env } = await withBackend(io, cmd, flags, { unsealed: true }, async (vault, ctx) => {
      const secrets = await vault.readEnvironment(flags.env, "run");
      return {
        env: childEnv(
          io.env,
          secrets.map((s) => ({ name: s.name, value: s.value.reveal() })),
          ctx.loaded.config.kms.env.variable,
        ),
      };
    });
    const [file, ...args] = command as [string, ...string[]];
    const code = await new Promise<number>((resolve, reject) => {
      // Listen before spawning: from the moment the command exists, a signal must not kill
      // us with the default action and leave the command running without its parent. JS
      // handlers only run on a later tick, when `child` is set.
      const forward = (signal: NodeJS.Signals): void => {
        child.kill(signal);
      };
      for (const s of FORWARDED) process.on(s, forward);
      const cleanup = (): void => {
        for (const s of FORWARDED) process.removeListener(s, forward);
      };
      let child: ChildProcess;
      try {
        child = spawn(file, args, { stdio: "inherit", env, cwd: io.cwd });
      } catch (e) {
        // Some failures are thrown at once rather than emitted (E2BIG: the environment is
        // larger than the system lets a new process take).
        cleanup();
        reject(spawnError(file, env, e as NodeJS.ErrnoException));
        return;
      }
      child.on("error", (e: NodeJS.ErrnoException) => {
        cleanup();
        reject(spawnError(file, env, e));
      });
      child.on("exit", (exitCode, signal) => {
        cleanup();
        resolve(exitCode ?? 128 + (signal === null ? 0 : constants.signals[signal]));
      });
    });
    setExit(code);
  });
}

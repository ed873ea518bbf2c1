import { Command, CommanderError, Option } from "commander";
import { EXIT, isKeywardenError, KeywardenError } from "../core/errors.ts";
import { unquoted } from "../core/redact.ts";
import { LOG_LEVELS } from "../core/logger.ts";
import { storageUnavailable } from "../storage/unavailable.ts";
import { registerBaseline } from "./commands/baseline.ts";
import { registerConfig } from "./commands/config.ts";
import { registerHook } from "./commands/hook.ts";
import { registerRules } from "./commands/rules.ts";
import { registerScan } from "./commands/scan.ts";
import { registerAudit } from "./commands/audit.ts";
import { registerExport } from "./commands/export.ts";
import { registerInit } from "./commands/init.ts";
import { registerKek } from "./commands/kek.ts";
import { registerRun } from "./commands/run.ts";
import { registerSecrets } from "./commands/secrets.ts";
import { registerPolicy, registerRole } from "./commands/policy.ts";
import { registerToken } from "./commands/token.ts";
import { registerOidc } from "./commands/oidc.ts";
import { registerMachine, registerUser } from "./commands/user.ts";
import { registerServe } from "./commands/serve.ts";
import { registerLogin } from "./commands/login.ts";
import { packageVersion, type CliIO } from "./io.ts";

const EXAMPLES = `
Version:
  keywarden --version                     print the version (-V)

Examples:
  keywarden scan                          find leaked keys in the current folder
  keywarden scan --format sarif -o out.sarif
  cat chat-export.json | keywarden scan -
  keywarden baseline create               accept today's findings, report only new ones
  keywarden config show                   effective configuration and where each value came from

Exit codes: 0 clean, 1 findings, 2 usage or fatal error.`;

function buildProgram(io: CliIO, setExit: (code: number) => void): Command {
  const program = new Command("keywarden")
    .description("Find leaked API keys, protect the ones you use, and respond when one leaks.")
    .helpOption("-h, --help", "show help")
    .option("-c, --config <file>", "config file (default: keywarden.toml found walking up from here)")
    .addOption(new Option("--log-level <level>", "log level on stderr").choices([...LOG_LEVELS]))
    .option("--home <dir>", "Keywarden's data folder")
    .option("--no-color", "never print colours")
    .showSuggestionAfterError(true)
    .addHelpText("after", EXAMPLES)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      // Commander's errors are rewritten into our one-line form in run().
      writeErr: () => undefined,
    });
  registerScan(program, io, setExit);
  registerBaseline(program, io, setExit);
  registerRules(program, io, setExit);
  registerConfig(program, io, setExit);
  registerHook(program, io, setExit);
  registerInit(program, io, setExit);
  registerSecrets(program, io, setExit);
  registerRun(program, io, setExit);
  registerExport(program, io, setExit);
  registerAudit(program, io, setExit);
  registerKek(program, io, setExit);
  registerUser(program, io, setExit);
  registerMachine(program, io, setExit);
  registerToken(program, io, setExit);
  registerOidc(program, io, setExit);
  registerPolicy(program, io, setExit);
  registerRole(program, io, setExit);
  registerServe(program, io, setExit);
  registerLogin(program, io, setExit);
  for (const sub of program.commands) {
    sub.exitOverride().configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: () => undefined });
    for (const leaf of sub.commands)
      leaf.exitOverride().configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: () => undefined });
  }
  return program;
}

const HELP_CODES = new Set(["commander.helpDisplayed", "commander.version", "commander.help"]);

/**
 * Runs the CLI and returns its exit code: 0 clean, 1 findings, 2 usage or fatal error.
 * Errors are printed to stderr on one line with a hint; no stack unless --log-level debug.
 *
 * @example
 *   process.exitCode = await run(process.argv.slice(2), { stdout: process.stdout, ... });
 */
export async function run(argv: readonly string[], io: CliIO): Promise<number> {
  // Handled here rather than as a root option, which commander would also match after a
  // subcommand and so steal `secrets get PATH --version 2`.
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
    io.stdout.write(`${packageVersion()}\n`);
    return EXIT.OK;
  }
  let code: number = EXIT.OK;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (HELP_CODES.has(e.code)) return EXIT.OK;
      // "(outputHelp)" is commander's marker for a bare command group with no subcommand.
      if (e.code === "commander.executeSubCommandAsync" || e.message === "(outputHelp)") return EXIT.USAGE;
      const message = e.message.replace(/^error:\s*/, "").replace(/\s*\n\s*/g, " ");
      io.stderr.write(`keywarden: ${message} (see keywarden --help)\n`);
      return EXIT.USAGE;
    }
    if (isKeywardenError(e)) {
      io.stderr.write(`keywarden: error ${e.code}: ${e.message}. ${e.hint}\n`);
      return e.exitCode;
    }
    // A database that cannot serve (full, busy, gone) is the user's to fix, not a bug.
    const unavailable = storageUnavailable(e);
    if (unavailable !== undefined) {
      const ke = new KeywardenError("KW_ERR_STORAGE_UNAVAILABLE", { reason: unavailable }, { cause: e });
      io.stderr.write(`keywarden: error ${ke.code}: ${ke.message}. ${ke.hint}\n`);
      return ke.exitCode;
    }
    const err = e as Error;
    // Node's argument checks quote the value they refused, which may be a secret.
    io.stderr.write(`keywarden: internal error: ${unquoted(err.message)}\n`);
    if (argv.includes("debug") || argv.includes("trace")) io.stderr.write(`${err.stack ?? ""}\n`);
    return EXIT.USAGE;
  }
}

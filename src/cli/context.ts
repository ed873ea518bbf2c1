import type { Command } from "commander";
import { loadConfig, type LoadedConfig } from "../config/load.ts";
import { createLogger, type Logger } from "../core/logger.ts";
import type { CliIO } from "./io.ts";

/** Options every command accepts, declared on the root program. */
export interface GlobalOptions {
  readonly config?: string;
  readonly logLevel?: string;
  readonly home?: string;
  readonly color?: boolean;
}

export interface CommandContext {
  readonly io: CliIO;
  readonly loaded: LoadedConfig;
  readonly logger: Logger;
  readonly globals: GlobalOptions;
}

/**
 * Loads the config with the global flags and the command's own flag overrides (by dotted
 * config key), and makes the logger. Commands call it first.
 *
 * @example
 *   const ctx = commandContext(io, cmd, { "scan.format": opts.format });
 */
export function commandContext(io: CliIO, cmd: Command, flags: Record<string, unknown> = {}): CommandContext {
  const globals = cmd.optsWithGlobals<GlobalOptions>();
  const loaded = loadConfig({
    cwd: io.cwd,
    env: io.env,
    configFile: globals.config,
    flags: { "log.level": globals.logLevel, home: globals.home, ...flags },
  });
  const logger = createLogger({
    level: loaded.config.log.level,
    format: loaded.config.log.format,
    stream: io.stderr,
  });
  return { io, loaded, logger, globals };
}

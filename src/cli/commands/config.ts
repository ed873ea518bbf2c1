import type { Command } from "commander";
import { describeConfig } from "../../config/load.ts";
import { EXIT } from "../../core/errors.ts";
import { commandContext } from "../context.ts";
import type { CliIO } from "../io.ts";

/** `keywarden config show` */
export function registerConfig(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const config = program.command("config").description("inspect the effective configuration");
  config
    .command("show")
    .description("print every option's effective value (secrets masked) and where it came from")
    .option("--json", "print JSON")
    .addHelpText("after", "\nExample:\n  KEYWARDEN_LOG_LEVEL=debug keywarden config show")
    .action((flags: { json?: boolean }, cmd: Command) => {
      const ctx = commandContext(io, cmd);
      const rows = describeConfig(ctx.loaded);
      if (flags.json === true) {
        io.stdout.write(JSON.stringify({ file: ctx.loaded.file ?? null, options: rows }, null, 2) + "\n");
      } else {
        io.stdout.write(`# config file: ${ctx.loaded.file ?? "(none found)"}\n`);
        const width = Math.max(...rows.map((r) => r.key.length + JSON.stringify(r.value).length + 3));
        for (const r of rows) {
          const left = `${r.key} = ${JSON.stringify(r.value)}`;
          io.stdout.write(`${left.padEnd(width)}  # ${r.source}\n`);
        }
      }
      setExit(EXIT.OK);
    });
}

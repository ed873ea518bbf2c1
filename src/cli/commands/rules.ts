import type { Command } from "commander";
import { EXIT } from "../../core/errors.ts";
import { forTerminal } from "../../core/terminal.ts";
import { catalogueFor } from "../../services/scan/scan-service.ts";
import { commandContext } from "../context.ts";
import type { CliIO } from "../io.ts";

/** `keywarden rules list` */
export function registerRules(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const rules = program.command("rules").description("list the detection rules in force");
  rules
    .command("list")
    .description("print each rule's id, provider, severity and description")
    .option("--json", "print JSON")
    .addHelpText("after", "\nExample:\n  keywarden rules list | grep -i stripe")
    .action((flags: { json?: boolean }, cmd: Command) => {
      const ctx = commandContext(io, cmd);
      const list = catalogueFor(ctx.loaded.config).rules;
      if (flags.json === true) {
        const rows = list.map((r) => ({
          id: r.id,
          provider: r.provider,
          severity: r.severity,
          description: r.description,
          docs: r.docs,
        }));
        io.stdout.write(JSON.stringify(rows, null, 2) + "\n");
      } else {
        // User rules come from keywarden.toml, which a cloned repository may carry.
        for (const r of list)
          io.stdout.write(
            `${forTerminal(`${r.id.padEnd(40)} ${r.provider.padEnd(22)} ${r.severity.padEnd(8)} ${r.description}`)}\n`,
          );
        io.stdout.write(`${list.length} rules, ${new Set(list.map((r) => r.provider)).size} providers\n`);
      }
      setExit(EXIT.OK);
    });
}

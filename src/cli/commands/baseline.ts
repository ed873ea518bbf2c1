import { join } from "node:path";
import type { Command } from "commander";
import { EXIT } from "../../core/errors.ts";
import { BASELINE_FILE, writeBaseline } from "../../services/scan/baseline.ts";
import { commandContext } from "../context.ts";
import type { CliIO } from "../io.ts";
import { runScan } from "./scan.ts";

/** `keywarden baseline create [PATH]` */
export function registerBaseline(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const baseline = program
    .command("baseline")
    .description("record current findings so that later scans report only new ones");
  baseline
    .command("create")
    .description(`scan PATH and write its findings' fingerprints to ${BASELINE_FILE}`)
    .argument("[path]", "folder to scan", ".")
    .option("-o, --output <file>", "where to write the baseline", BASELINE_FILE)
    .addHelpText(
      "after",
      `\nExample:\n  keywarden baseline create && keywarden scan --baseline ${BASELINE_FILE}`,
    )
    .action(async (path: string, flags: { output: string }, cmd: Command) => {
      const ctx = commandContext(io, cmd);
      const result = await runScan(ctx, [path], { all: true });
      const file = join(io.cwd, flags.output);
      writeBaseline(file, result.findings, new Date());
      io.stdout.write(`wrote ${flags.output}: ${result.findings.length} fingerprints, no secrets\n`);
      setExit(EXIT.OK);
    });
}

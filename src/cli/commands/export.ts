import { readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { Option, type Command } from "commander";
import { EXIT, KeywardenError } from "../../core/errors.ts";
import { Secret } from "../../core/secret.ts";
import { writeSecretText } from "../../kms/atomic-file.ts";
import { parseEnvironmentPath, parseSecretPath, refuseKeyInPath } from "../../services/vault/secret-path.ts";
import { valueProblem } from "../../services/vault/secret-value.ts";
import type { CliIO } from "../io.ts";
import { decodeInput } from "../prompt.ts";
import { withBackend } from "../vault-backend.ts";
import { withPassphraseOption, type VaultFlags } from "../vault-context.ts";
import { runScan } from "./scan.ts";

export const EXPORT_FORMATS = ["dotenv", "json", "yaml"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Writes exported secrets to `file` (see writeSecretText). */
function writeExport(file: string, text: string): void {
  try {
    writeSecretText(file, text);
  } catch (e) {
    throw new KeywardenError(
      "KW_ERR_EXPORT_OUTPUT",
      { file, reason: (e as NodeJS.ErrnoException).code ?? "error" },
      { cause: e },
    );
  }
}

function dotenvQuote(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\$/g, "\\$").replace(/\n/g, "\\n").replace(/\r/g, "\\r")}"`;
}

/**
 * Renders name/value pairs as a .env file, JSON object or YAML mapping.
 *
 * @example
 *   renderExport([{ name: "A", value: "x" }], "dotenv") // 'A="x"\n'
 */
export function renderExport(
  entries: readonly { name: string; value: string }[],
  format: ExportFormat,
): string {
  switch (format) {
    case "dotenv":
      return entries.map((e) => `${e.name}=${dotenvQuote(e.value)}\n`).join("");
    case "json":
      return JSON.stringify(Object.fromEntries(entries.map((e) => [e.name, e.value])), null, 2) + "\n";
    case "yaml":
      // A JSON string is a valid YAML double-quoted scalar.
      return entries.map((e) => `${e.name}: ${JSON.stringify(e.value)}\n`).join("");
  }
}

/** A quoted value's closing quote at the end of its line (a comment may follow). */
const CLOSED = {
  '"': /^"((?:[^"\\]|\\[\s\S])*)"\s*(#.*)?$/,
  "'": /^'([^']*)'\s*(#.*)?$/,
} as const;

/**
 * Parses a .env file: `NAME=value`, `export NAME=value`, single or double quotes (double
 * quotes understand \n, \", \\ and \$), `#` comments. A quoted value may span lines, as
 * dotenv reads a PEM key:
 * `KEY="-----BEGIN ...` on one line, `...-----"` on a later one. Throws KW_ERR_VAULT_INPUT
 * with the line.
 *
 * @example
 *   parseDotenv('A=1\nexport B="two words"\n') // [{ name: "A", value: "1" }, { name: "B", value: "two words" }]
 */
export function parseDotenv(text: string, file: string): { name: string; value: string; line: number }[] {
  const out: { name: string; value: string; line: number }[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const first = i;
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (m === null)
      throw new KeywardenError("KW_ERR_VAULT_INPUT", {
        what: `${file}:${i + 1}`,
        reason: "expected NAME=value",
      });
    let raw = m[2]!;
    let value: string;
    const quote = raw[0];
    if (quote === '"' || quote === "'") {
      // Until a line ends the quote: the lines between are the value's, as they are.
      let end = CLOSED[quote].exec(raw);
      while (end === null && i + 1 < lines.length) {
        raw = `${raw}\n${lines[++i]!}`;
        end = CLOSED[quote].exec(raw);
      }
      if (end === null)
        throw new KeywardenError("KW_ERR_VAULT_INPUT", {
          what: `${file}:${first + 1}`,
          reason: `unterminated ${quote === '"' ? "double" : "single"} quote`,
        });
      value =
        quote === "'"
          ? end[1]!
          : end[1]!.replace(/\\(.)/g, (_, c: string) =>
              c === "n" ? "\n" : c === "r" ? "\r" : c === "t" ? "\t" : c,
            );
    } else {
      value = raw.replace(/\s+#.*$/, "").trim();
    }
    out.push({ name: m[1]!, value, line: first + 1 });
  }
  return out;
}

/** `keywarden export` and `keywarden import`. */
export function registerExport(program: Command, io: CliIO, setExit: (code: number) => void): void {
  withPassphraseOption(
    program
      .command("export")
      .description("print an environment's secrets as dotenv, JSON or YAML")
      .argument("<environment>", "project/environment, like payments/prod")
      .addOption(
        new Option("--format <format>", "output format").choices([...EXPORT_FORMATS]).default("dotenv"),
      )
      .option("-o, --output <file>", "write to a new 0600 file (replacing any file there) instead of stdout")
      .addHelpText(
        "after",
        "\nExamples:\n  keywarden export payments/prod --format json\n  keywarden export app/dev -o .env.local",
      ),
  ).action(
    async (
      environment: string,
      flags: VaultFlags & { format: ExportFormat; output?: string },
      cmd: Command,
    ) => {
      const text = await withBackend(io, cmd, flags, { unsealed: true }, async (vault) => {
        const secrets = await vault.readEnvironment(environment, "export");
        return renderExport(
          secrets.map((s) => ({ name: s.name, value: s.value.reveal() })),
          flags.format,
        );
      });
      if (flags.output !== undefined) writeExport(resolve(io.cwd, flags.output), text);
      else io.stdout.write(text);
      setExit(EXIT.OK);
    },
  );

  withPassphraseOption(
    program
      .command("import")
      .description("store every NAME=value of a .env file in an environment, then check the file")
      .argument("<file>", "a .env file")
      .requiredOption("--to <environment>", "project/environment, like payments/prod")
      .addHelpText("after", "\nExamples:\n  keywarden import .env --to app/dev && shred -u .env"),
  ).action(async (file: string, flags: VaultFlags & { to: string }, cmd: Command) => {
    const path = resolve(io.cwd, file);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw new KeywardenError("KW_ERR_VAULT_INPUT", {
        what: path,
        reason: (e as NodeJS.ErrnoException).code ?? "error",
      });
    }
    // A .env made by PowerShell 5's `>` is UTF-16: read as what it is, not as UTF-8.
    const text = decodeInput(bytes, file);
    const parsed = parseDotenv(text, file);
    const environment = parseEnvironmentPath(flags.to).path;
    // An empty value (`NAME=`, a placeholder) is left out and said so; anything else wrong
    // with a name or a value stops the import before anything of it is written.
    const entries = parsed.filter((e) => e.value !== "");
    for (const e of parsed.filter((x) => x.value === ""))
      io.stderr.write(`skipped ${e.name} (${file}:${e.line}): its value is empty\n`);
    for (const e of entries) {
      const p = parseSecretPath(`${environment}/${e.name}`);
      refuseKeyInPath(p);
      const problem = valueProblem(new TextEncoder().encode(e.value));
      if (problem !== undefined)
        throw new KeywardenError("KW_ERR_VAULT_VALUE_INVALID", { path: p.path, reason: problem });
    }
    const scanned = await withBackend(io, cmd, flags, { unsealed: true }, async (vault, ctx) => {
      for (const e of entries) {
        const r = await vault.set(`${environment}/${e.name}`, new Secret(e.value));
        io.stdout.write(
          `stored ${r.path} version ${r.version}${r.provider === null ? "" : ` (${r.provider})`}\n`,
        );
      }
      return runScan(ctx, [path], { all: true });
    });
    const findings = scanned.findings.length;
    io.stdout.write(
      `imported ${entries.length} secret${entries.length === 1 ? "" : "s"} into ${environment}\n`,
    );
    io.stderr.write(
      `${basename(file)} still holds ${entries.length} secret${entries.length === 1 ? "" : "s"} in plaintext` +
        ` (keywarden scan finds ${findings} leaked key${findings === 1 ? "" : "s"} in it): delete it now, for example \`shred -u ${file}\`,` +
        ` and use \`keywarden run --env ${environment} -- CMD\` instead.\n`,
    );
    setExit(EXIT.OK);
  });
}

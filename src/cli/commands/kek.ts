import { Option, type Command } from "commander";
import { EXIT, KeywardenError } from "../../core/errors.ts";
import type { KekStatus, RetireResult } from "../../services/vault/kek-service.ts";
import type { CliIO } from "../io.ts";
import { withPassphraseOption, withVault, type VaultFlags } from "../vault-context.ts";

interface RotateFlags extends VaultFlags {
  retire?: boolean;
  batchSize?: string;
}

const versionList = (vs: readonly number[]): string => vs.map((v) => `v${v}`).join(", ");

function statusText(s: KekStatus): string {
  const lines = [
    `key provider: ${s.kind}, ${s.description}`,
    `current KEK version: v${s.currentVersion}`,
    "",
    "version  data keys  vault keys  state",
  ];
  for (const v of s.versions) {
    const state = !v.available
      ? "MISSING at the provider: keys it wraps cannot be read"
      : v.current
        ? "current"
        : v.dataKeys + v.vaultKeys > 0
          ? "older, in use"
          : "older, unused (can be retired)";
    lines.push(
      `${`v${v.version}`.padEnd(7)}  ${String(v.dataKeys).padStart(9)}  ${String(v.vaultKeys).padStart(10)}  ${state}`,
    );
  }
  if (s.unfinished)
    lines.push(
      "",
      `A rotation to v${s.currentVersion} is unfinished: run \`keywarden kek rotate\` to finish it.`,
    );
  return lines.join("\n") + "\n";
}

function retireText(r: RetireResult): string {
  const lines: string[] = [];
  if (r.retired.length > 0) lines.push(`retired ${versionList(r.retired)}`);
  for (const k of r.kept) lines.push(`kept v${k.version}: ${k.reason}`);
  return lines.length === 0 ? "no older KEK version to retire\n" : lines.join("\n") + "\n";
}

function parseBatchSize(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new KeywardenError("KW_ERR_USAGE", { reason: "--batch-size takes a positive integer" });
  return n;
}

/** `keywarden kek status|rotate|retire`. */
export function registerKek(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const kek = program
    .command("kek")
    .description("the key-encryption key: versions, rotation, retirement")
    .addHelpText(
      "after",
      `
Examples:
  keywarden kek status                 versions and how many keys each wraps
  keywarden kek rotate                 new KEK version; every data key re-wrapped (no secret decrypted)
  keywarden kek rotate --retire        ... then retire the versions nothing uses any more
  keywarden kek retire                 retire unused older versions later (after backups expire)

An interrupted rotation is finished by running \`keywarden kek rotate\` again.`,
    );

  withPassphraseOption(
    kek
      .command("status")
      .description("the provider, its KEK versions and how many keys each wraps")
      .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text")),
  ).action(async (flags: VaultFlags & { format: string }, cmd: Command) => {
    const s = await withVault(io, cmd, flags, { unsealed: false }, ({ kw, request }) =>
      kw.kek.status(request),
    );
    io.stdout.write(flags.format === "json" ? JSON.stringify(s) + "\n" : statusText(s));
    setExit(EXIT.OK);
  });

  withPassphraseOption(
    kek
      .command("rotate")
      .description(
        "make a new KEK version and re-wrap every data key under it, or finish an interrupted rotation",
      )
      .option(
        "--retire",
        "then retire older versions nothing uses (backups taken before cannot be opened afterwards)",
      )
      .addOption(new Option("--batch-size <n>", "data keys re-wrapped per transaction").hideHelp()),
  ).action(async (flags: RotateFlags, cmd: Command) => {
    const batchSize = parseBatchSize(flags.batchSize);
    const r = await withVault(io, cmd, flags, { unsealed: true }, ({ kw, request }) =>
      kw.kek.rotate(request, { batchSize, retire: flags.retire === true }),
    );
    const lines = [
      r.resumed
        ? `finished the interrupted rotation to KEK version v${r.version}`
        : `rotated the KEK to version v${r.version}`,
      `re-wrapped ${r.dataKeys} data keys and ${r.vaultKeys} vault keys; no secret was decrypted`,
    ];
    if (r.left > 0)
      lines.push(
        `${r.left} keys are still on an older version (written meanwhile): run \`keywarden kek rotate\` again`,
      );
    if (r.retired.length > 0) lines.push(`retired ${versionList(r.retired)}`);
    const kept = r.kept.map((k) => k.version);
    if (kept.length > 0)
      lines.push(
        flags.retire === true
          ? r.kept.map((k) => `kept v${k.version}: ${k.reason}`).join("\n")
          : `older versions kept: ${versionList(kept)} (retire them with \`keywarden kek retire\` once no backup needs them)`,
      );
    io.stdout.write(lines.join("\n") + "\n");
    setExit(EXIT.OK);
  });

  withPassphraseOption(
    kek.command("retire").description("retire every older KEK version that no key uses any more"),
  ).action(async (flags: VaultFlags, cmd: Command) => {
    const r = await withVault(io, cmd, flags, { unsealed: true }, ({ kw, request }) =>
      kw.kek.retire(request),
    );
    io.stdout.write(retireText(r));
    setExit(EXIT.OK);
  });
}

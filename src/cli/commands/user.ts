/**
 * `keywarden user add|list|disable|enable|passwd|totp` and `keywarden machine
 * add|list|disable|enable`: identities in the local vault's database, managed by the
 * local operator. Thin: each calls the access service.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Option, type Command } from "commander";
import { KeywardenError } from "../../core/errors.ts";
import { Secret } from "../../core/secret.ts";
import type { IdentityInfo } from "../../services/access/access-service.ts";
import type { CliIO } from "../io.ts";
import { canPrompt, promptHidden } from "../prompt.ts";
import { withPassphraseOption, withVault, type VaultFlags } from "../vault-context.ts";

/** Commander's collector for a repeatable option. @example .option("--role <name>", "...", collect, []) */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function identityTable(rows: readonly IdentityInfo[]): string {
  if (rows.length === 0) return "no identities\n";
  const lines = rows.map((r) =>
    [
      r.name.padEnd(24),
      r.kind.padEnd(8),
      (r.disabled ? "disabled" : "active").padEnd(9),
      (r.kind === "user" ? (r.totp ? "totp" : "-") : "").padEnd(5),
      r.roles.join(",") || "-",
    ].join(" "),
  );
  return `${"NAME".padEnd(24)} ${"KIND".padEnd(8)} ${"STATE".padEnd(9)} ${"2FA".padEnd(5)} ROLES\n${lines.join("\n")}\n`;
}

async function readPassword(io: CliIO, file: string | undefined): Promise<Secret> {
  if (file !== undefined) {
    const path = resolve(io.cwd, file);
    try {
      return new Secret(readFileSync(path, "utf8").replace(/\r?\n$/, ""));
    } catch (e) {
      throw new KeywardenError("KW_ERR_VAULT_INPUT", {
        what: `password file ${path}`,
        reason: (e as NodeJS.ErrnoException).code ?? "error",
      });
    }
  }
  if (!canPrompt(io))
    throw new KeywardenError("KW_ERR_USAGE", {
      reason: "give --password-file, or run on a terminal to type it",
    });
  const first = await promptHidden(io, "Password: ");
  if ((await promptHidden(io, "Repeat the password: ")) !== first)
    throw new KeywardenError("KW_ERR_USAGE", { reason: "the two passwords differ" });
  return new Secret(first);
}

interface ListFlags extends VaultFlags {
  format: string;
}

function registerIdentityCommands(program: Command, io: CliIO, kind: "user" | "machine"): Command {
  const group = program
    .command(kind)
    .description(
      kind === "user"
        ? "people who log in to the server: add, list, disable, password, TOTP"
        : "machine identities (apps, CI) that use API tokens: add, list, disable",
    );

  const add = group
    .command("add <name>")
    .description(kind === "user" ? "add a user with a password" : "add a machine identity")
    .option("--role <role>", "bind a role (repeatable)", collect, []);
  if (kind === "user") add.option("--password-file <file>", "read the password from a file (else prompt)");
  withPassphraseOption(add).action(
    async (name: string, flags: VaultFlags & { role: string[]; passwordFile?: string }, cmd: Command) => {
      const info = await withVault(io, cmd, flags, { unsealed: false }, async ({ kw, request }) =>
        kind === "user"
          ? kw.access.addUser(request, "operator", {
              name,
              password: await readPassword(io, flags.passwordFile),
              roles: flags.role,
            })
          : kw.access.addMachine(request, "operator", { name, roles: flags.role }),
      );
      io.stdout.write(`added ${kind} ${info.name} (${info.id})\n`);
    },
  );

  withPassphraseOption(
    group
      .command("list")
      .description(`list ${kind === "user" ? "users" : "machine identities"}`)
      .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text")),
  ).action(async (flags: ListFlags, cmd: Command) => {
    const rows = await withVault(io, cmd, flags, { unsealed: false }, ({ kw, request }) =>
      kw.access.listIdentities(request, "operator", kind),
    );
    io.stdout.write(flags.format === "json" ? `${JSON.stringify(rows, null, 2)}\n` : identityTable(rows));
  });

  for (const disabled of [true, false]) {
    withPassphraseOption(
      group
        .command(`${disabled ? "disable" : "enable"} <name>`)
        .description(
          disabled
            ? "disable it and revoke every token and session it holds, at once"
            : "enable it again (revoked tokens stay revoked)",
        ),
    ).action(async (name: string, flags: VaultFlags, cmd: Command) => {
      await withVault(io, cmd, flags, { unsealed: false }, ({ kw, request }) =>
        kw.access.setDisabled(request, "operator", name, disabled),
      );
      io.stdout.write(`${disabled ? "disabled" : "enabled"} ${kind} ${name}\n`);
    });
  }
  return group;
}

/** `keywarden user ...`. */
export function registerUser(program: Command, io: CliIO, _setExit: (code: number) => void): void {
  const user = registerIdentityCommands(program, io, "user");
  withPassphraseOption(
    user
      .command("passwd <name>")
      .description("set a user's password (ends their dashboard sessions)")
      .option("--password-file <file>", "read the password from a file (else prompt)"),
  ).action(async (name: string, flags: VaultFlags & { passwordFile?: string }, cmd: Command) => {
    await withVault(io, cmd, flags, { unsealed: false }, async ({ kw, request }) =>
      kw.access.setPassword(request, "operator", name, await readPassword(io, flags.passwordFile)),
    );
    io.stdout.write(`password of ${name} changed\n`);
  });
  withPassphraseOption(
    user
      .command("totp <name>")
      .description("enrol a TOTP second factor; prints the otpauth:// URI once, for an authenticator app"),
  ).action(async (name: string, flags: VaultFlags, cmd: Command) => {
    const { uri } = await withVault(io, cmd, flags, { unsealed: true }, ({ kw, request }) =>
      kw.access.enrollTotp(request, "operator", name),
    );
    io.stdout.write(`${uri.reveal()}\n`);
    io.stderr.write("Scan this URI (as a QR code) with an authenticator app now: it is not shown again.\n");
  });
}

/** `keywarden machine ...`. */
export function registerMachine(program: Command, io: CliIO, _setExit: (code: number) => void): void {
  registerIdentityCommands(program, io, "machine");
}

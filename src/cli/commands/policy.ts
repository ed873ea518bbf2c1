/**
 * `keywarden policy put|show|list|rm` and `keywarden role put|list|rm|bind|unbind`.
 * A policy comes from a TOML or JSON file (`[[rules]]` with path, capabilities, effect) or
 * from --allow / --deny flags (`GLOB:cap,cap`).
 */
import { readFileSync } from "node:fs";
import { extname, resolve } from "node:path";
import { Option, type Command } from "commander";
import { parse as parseToml } from "smol-toml";
import { KeywardenError } from "../../core/errors.ts";
import { parseFailure } from "../../core/redact.ts";
import type { Policy } from "../../services/access/access-types.ts";
import type { CliIO } from "../io.ts";
import { withPassphraseOption, withVault, type VaultFlags } from "../vault-context.ts";
import { collect } from "./user.ts";

/**
 * The rules of a policy file: TOML (`[[rules]]`) by extension, JSON otherwise (an object
 * with `rules`, or an array of rules). Checked later by the access service.
 *
 * @example
 *   rulesFromFile("/etc/keywarden/payments-read.toml")
 */
export function rulesFromFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new KeywardenError("KW_ERR_VAULT_INPUT", {
      what: `policy file ${file}`,
      reason: (e as NodeJS.ErrnoException).code ?? "error",
    });
  }
  let doc: unknown;
  const toml = extname(file).toLowerCase() === ".toml";
  try {
    doc = toml ? parseToml(text) : JSON.parse(text);
  } catch (e) {
    throw new KeywardenError("KW_ERR_ACCESS_INVALID", {
      what: `policy file ${file}`,
      reason: parseFailure(e, toml ? "TOML" : "JSON"),
    });
  }
  if (Array.isArray(doc)) return doc;
  if (typeof doc === "object" && doc !== null && "rules" in doc) return doc.rules;
  throw new KeywardenError("KW_ERR_ACCESS_INVALID", {
    what: `policy file ${file}`,
    reason: "it has no rules",
  });
}

/**
 * A rule from a flag: `GLOB:cap,cap` (the last ':' separates them).
 *
 * @example
 *   ruleFromFlag("payments/prod/*:read,list", "allow") // { path: "payments/prod/*", capabilities: ["read", "list"], effect: "allow" }
 */
export function ruleFromFlag(text: string, effect: "allow" | "deny"): unknown {
  const at = text.lastIndexOf(":");
  if (at <= 0)
    throw new KeywardenError("KW_ERR_USAGE", {
      reason: `--${effect} takes GLOB:capability[,capability], like 'payments/prod/*:read,list'`,
    });
  return {
    path: text.slice(0, at),
    capabilities: text
      .slice(at + 1)
      .split(",")
      .map((c) => c.trim())
      .filter((c) => c !== ""),
    effect,
  };
}

function policyText(p: Policy): string {
  const rules = p.rules.map(
    (r) => `  ${r.effect.padEnd(5)} ${r.path.padEnd(32)} ${r.capabilities.join(",")}`,
  );
  return `${p.name} (${p.id})\n${rules.join("\n")}\n`;
}

interface PutFlags extends VaultFlags {
  file?: string;
  allow: string[];
  deny: string[];
}

/** `keywarden policy ...`. */
export function registerPolicy(program: Command, io: CliIO, _setExit: (code: number) => void): void {
  const policy = program
    .command("policy")
    .description("policies: path globs with capabilities; default deny, explicit deny wins")
    .addHelpText(
      "after",
      `
Globs: * matches within one path segment, ** across segments (payments/prod/*, payments/**).
Capabilities: read, write, list, delete, destroy, rotate, revoke, audit, admin.

Examples:
  keywarden policy put payments-read --allow 'payments/prod/*:read,list' --deny 'payments/prod/ROOT_*:read'
  keywarden policy put payments-read --file payments-read.toml
      # [[rules]]
      # path = "payments/prod/*"
      # capabilities = ["read", "list"]`,
    );

  withPassphraseOption(
    policy
      .command("put <name>")
      .description("create or replace a policy")
      .option("--file <file>", "rules from a TOML or JSON file")
      .option("--allow <rule>", "GLOB:cap,cap allowed (repeatable)", collect, [])
      .option("--deny <rule>", "GLOB:cap,cap denied, winning over allows (repeatable)", collect, []),
  ).action(async (name: string, flags: PutFlags, cmd: Command) => {
    const fromFlags = [
      ...flags.allow.map((r) => ruleFromFlag(r, "allow")),
      ...flags.deny.map((r) => ruleFromFlag(r, "deny")),
    ];
    if ((flags.file === undefined) === (fromFlags.length === 0))
      throw new KeywardenError("KW_ERR_USAGE", { reason: "give either --file or --allow/--deny rules" });
    const rules = flags.file === undefined ? fromFlags : rulesFromFile(resolve(io.cwd, flags.file));
    const stored = await withVault(io, cmd, flags, { unsealed: false }, ({ kw, request }) =>
      kw.access.putPolicy(request, "operator", name, rules),
    );
    io.stdout.write(policyText(stored));
  });

  withPassphraseOption(policy.command("show <name>").description("print a policy's rules")).action(
    async (name: string, flags: VaultFlags, cmd: Command) => {
      const p = await withVault(io, cmd, flags, { unsealed: false }, ({ kw, request }) =>
        kw.access.getPolicy(request, "operator", name),
      );
      io.stdout.write(policyText(p));
    },
  );

  withPassphraseOption(
    policy
      .command("list")
      .description("list policies and their rules")
      .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text")),
  ).action(async (flags: VaultFlags & { format: string }, cmd: Command) => {
    const rows = await withVault(io, cmd, flags, { unsealed: false }, ({ kw, request }) =>
      kw.access.listPolicies(request, "operator"),
    );
    if (flags.format === "json") io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    else io.stdout.write(rows.length === 0 ? "no policies\n" : rows.map(policyText).join(""));
  });

  withPassphraseOption(
    policy.command("rm <name>").description("delete a policy (and remove it from roles)"),
  ).action(async (name: string, flags: VaultFlags, cmd: Command) => {
    await withVault(io, cmd, flags, { unsealed: false }, ({ kw, request }) =>
      kw.access.deletePolicy(request, "operator", name),
    );
    io.stdout.write(`deleted policy ${name}\n`);
  });
}

/** `keywarden role ...`. */
export function registerRole(program: Command, io: CliIO, _setExit: (code: number) => void): void {
  const role = program.command("role").description("roles group policies; bind them to users and machines");

  withPassphraseOption(
    role
      .command("put <name>")
      .description("create a role or replace its policies")
      .option("--policy <name>", "a policy of the role (repeatable)", collect, []),
  ).action(async (name: string, flags: VaultFlags & { policy: string[] }, cmd: Command) => {
    const r = await withVault(io, cmd, flags, { unsealed: false }, ({ kw, request }) =>
      kw.access.putRole(request, "operator", name, flags.policy),
    );
    io.stdout.write(`role ${r.name}: ${r.policies.join(",") || "(no policies)"}\n`);
  });

  withPassphraseOption(
    role
      .command("list")
      .description("list roles and their policies")
      .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text")),
  ).action(async (flags: VaultFlags & { format: string }, cmd: Command) => {
    const rows = await withVault(io, cmd, flags, { unsealed: false }, ({ kw, request }) =>
      kw.access.listRoles(request, "operator"),
    );
    if (flags.format === "json") io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    else
      io.stdout.write(
        rows.length === 0
          ? "no roles\n"
          : rows.map((r) => `${r.name.padEnd(24)} ${r.policies.join(",") || "-"}`).join("\n") + "\n",
      );
  });

  withPassphraseOption(role.command("rm <name>").description("delete a role and its bindings")).action(
    async (name: string, flags: VaultFlags, cmd: Command) => {
      await withVault(io, cmd, flags, { unsealed: false }, ({ kw, request }) =>
        kw.access.deleteRole(request, "operator", name),
      );
      io.stdout.write(`deleted role ${name}\n`);
    },
  );

  for (const bind of [true, false]) {
    withPassphraseOption(
      role
        .command(`${bind ? "bind" : "unbind"} <role> <identity>`)
        .description(
          bind ? "give an identity a role" : "take a role from an identity (its tokens lose it at once)",
        ),
    ).action(async (roleName: string, identity: string, flags: VaultFlags, cmd: Command) => {
      await withVault(io, cmd, flags, { unsealed: false }, ({ kw, request }) =>
        bind
          ? kw.access.bindRole(request, "operator", roleName, identity)
          : kw.access.unbindRole(request, "operator", roleName, identity),
      );
      io.stdout.write(`${bind ? "bound" : "unbound"} role ${roleName} ${bind ? "to" : "from"} ${identity}\n`);
    });
  }
}

/**
 * `keywarden token create|list|revoke`: API tokens for users and machine identities. The
 * token is printed once, on stdout alone (so `$(keywarden token create ...)` captures just
 * it); only its hash is stored. On the local vault as its operator, or, logged in to a
 * server (or with KEYWARDEN_ADDR), there as the logged-in token: its own identity's tokens, or
 * an identity's it administers.
 */
import { Option, type Command } from "commander";
import { KeywardenError } from "../../core/errors.ts";
import { Secret } from "../../core/secret.ts";
import type { TokenInfo } from "../../services/access/access-service.ts";
import type { CliIO } from "../io.ts";
import { readAll } from "../prompt.ts";
import { withLocalOrRemote } from "../vault-backend.ts";
import { withPassphraseOption, type VaultFlags } from "../vault-context.ts";
import { parseDuration } from "./secrets.ts";
import { collect } from "./user.ts";

interface CreateFlags extends VaultFlags {
  identity: string;
  policy: string[];
  ttl?: string;
  allowIp: string[];
  description?: string;
  format: string;
}

/** What the table shows of a token: the local record or the server's. */
type TokenRecord = Pick<TokenInfo, "id" | "expiresAt" | "revokedAt" | "description"> & {
  readonly kind: string;
  readonly policies: readonly string[];
  readonly allowIps: readonly string[];
};

function tokenTable(rows: readonly TokenRecord[], now: string): string {
  if (rows.length === 0) return "no tokens\n";
  const state = (t: TokenRecord): string =>
    t.revokedAt !== null ? "revoked" : t.expiresAt <= now ? "expired" : "active";
  const lines = rows.map((t) => {
    const cols = [t.id.padEnd(30), t.kind.padEnd(4), state(t).padEnd(8), t.expiresAt.padEnd(24)];
    let line = `${cols.join(" ")} ${t.policies.join(",") || "-"}`;
    if (t.allowIps.length > 0) line += ` ip=${t.allowIps.join(",")}`;
    if (t.description !== "") line += `  ${t.description}`;
    return line;
  });
  return `${"ID".padEnd(30)} ${"KIND".padEnd(4)} ${"STATE".padEnd(8)} ${"EXPIRES".padEnd(24)} POLICIES\n${lines.join("\n")}\n`;
}

/** `keywarden token ...`. */
export function registerToken(program: Command, io: CliIO, _setExit: (code: number) => void): void {
  const token = program
    .command("token")
    .description("API tokens: create (shown once), list, revoke")
    .addHelpText(
      "after",
      `
Examples:
  keywarden machine add payments-api
  keywarden policy put payments-read --allow 'payments/prod/*:read,list'
  keywarden role put payments-reader --policy payments-read
  keywarden role bind payments-reader payments-api
  keywarden token create --identity payments-api --policy payments-read --ttl 30d --allow-ip 10.0.0.0/8

A token gets exactly the policies named (each held by the identity through a role), lives
access.tokenTtl by default (at most access.tokenMaxTtl), and is printed once.`,
    );

  withPassphraseOption(
    token
      .command("create")
      .description("create a token and print it once")
      .requiredOption("--identity <name>", "the user or machine identity it acts as")
      .option("--policy <name>", "a policy it may use (repeatable; least privilege: only these)", collect, [])
      .option("--ttl <duration>", "life, like 30d, 12h or 3600 (default access.tokenTtl)")
      .option("--allow-ip <cidr>", "only from this address or network (repeatable)", collect, [])
      .option("--description <text>", "what it is for")
      .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text")),
  ).action(async (flags: CreateFlags, cmd: Command) => {
    const input = {
      identity: flags.identity,
      policies: flags.policy,
      ttlSeconds: flags.ttl === undefined ? undefined : parseDuration(flags.ttl),
      allowIps: flags.allowIp,
      description: flags.description,
    };
    const issued = await withLocalOrRemote<{ token: string; info: TokenRecord }>(
      io,
      cmd,
      flags,
      { unsealed: false },
      async ({ kw, request }) => {
        const made = await kw.access.createToken(request, "operator", input);
        return { token: made.token.reveal(), info: made.info };
      },
      // On a server, as the logged-in token: its own identity, or one it administers.
      async (client) => {
        const made = await client.tokens.create({
          identity: input.identity,
          policies: input.policies,
          ...(input.ttlSeconds === undefined ? {} : { ttlSeconds: input.ttlSeconds }),
          allowIps: input.allowIps,
          ...(input.description === undefined ? {} : { description: input.description }),
        });
        return { token: made.token, info: made.info };
      },
    );
    if (flags.format === "json") {
      io.stdout.write(`${JSON.stringify({ token: issued.token, ...issued.info }, null, 2)}\n`);
      return;
    }
    io.stdout.write(`${issued.token}\n`);
    io.stderr.write(
      `token ${issued.info.id} for ${flags.identity}, expires ${issued.info.expiresAt}, policies ${issued.info.policies.join(",") || "(none)"}\n` +
        "Store it now: it is not shown again.\n",
    );
  });

  withPassphraseOption(
    token
      .command("list")
      .description("list tokens (never their text)")
      .option("--identity <name>", "only this identity's")
      .option("--active", "only tokens neither revoked nor expired")
      .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text")),
  ).action(
    async (flags: VaultFlags & { identity?: string; active?: boolean; format: string }, cmd: Command) => {
      const opts = {
        ...(flags.identity === undefined ? {} : { identity: flags.identity }),
        active: flags.active === true,
      };
      const rows = await withLocalOrRemote<readonly TokenRecord[]>(
        io,
        cmd,
        flags,
        { unsealed: false },
        ({ kw, request }) => kw.access.listTokens(request, "operator", opts),
        (client) => client.tokens.list(opts),
      );
      io.stdout.write(
        flags.format === "json"
          ? `${JSON.stringify(rows, null, 2)}\n`
          : tokenTable(rows, new Date().toISOString()),
      );
    },
  );

  withPassphraseOption(
    token
      .command("revoke [id]")
      .description("revoke a token (tok_...) and its child tokens, at once")
      .option("--stdin", "read the token's text from stdin instead (a leaked token: no id at hand)"),
  ).action(async (id: string | undefined, flags: VaultFlags & { stdin?: boolean }, cmd: Command) => {
    if ((id === undefined) === (flags.stdin !== true))
      throw new KeywardenError("KW_ERR_USAGE", {
        reason: "give the token's id (tok_...), or --stdin with its text on stdin",
      });
    // Read before the vault opens: the passphrase prompt must not take the token's place.
    const text = flags.stdin === true ? new Secret((await readAll(io.stdin)).trim()) : undefined;
    const r = await withLocalOrRemote(
      io,
      cmd,
      flags,
      { unsealed: false },
      async ({ kw, request }) =>
        text === undefined
          ? { id: id!, revoked: await kw.access.revokeToken(request, "operator", id!) }
          : kw.access.revokeTokenValue(request, text),
      async (client) =>
        text === undefined
          ? { id: id!, revoked: await client.tokens.revoke(id!) }
          : client.tokens.revokeText(text.reveal()),
    );
    io.stdout.write(
      r.revoked === 0
        ? `${r.id} was already revoked\n`
        : `revoked ${r.id}${r.revoked > 1 ? ` and ${r.revoked - 1} child token(s)` : ""}\n`,
    );
  });
}

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Option, type Command } from "commander";
import { EXIT, KeywardenError } from "../../core/errors.ts";
import { Secret } from "../../core/secret.ts";
import { forTerminal } from "../../core/terminal.ts";
import type { MetadataPatch, SecretSummary } from "../../services/vault/vault-service.ts";
import type { CliIO } from "../io.ts";
import { canPrompt, decodeInput, promptHidden, readAll } from "../prompt.ts";
import { withBackend } from "../vault-backend.ts";
import { withPassphraseOption, type VaultFlags } from "../vault-context.ts";

const UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/**
 * Parses a duration like `90d`, `12h`, `30m`, `2w` or plain seconds.
 *
 * @example
 *   parseDuration("90d") // 7776000
 */
export function parseDuration(text: string): number {
  const m = /^(\d{1,9})([smhdw]?)$/.exec(text.trim());
  if (m === null || Number(m[1]) === 0) {
    throw new KeywardenError("KW_ERR_USAGE", {
      reason: `${text} is not a duration: use a number with s, m, h, d or w, like 90d`,
    });
  }
  return Number(m[1]) * (UNITS[m[2] === "" ? "s" : m[2]!] ?? 1);
}

/** Seconds as the largest whole unit: 7776000 → "90d". */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [
    ["w", 604800],
    ["d", 86400],
    ["h", 3600],
    ["m", 60],
  ] as const) {
    if (seconds >= size) return `${Math.floor(seconds / size)}${unit}`;
  }
  return `${seconds}s`;
}

function parseVersion(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new KeywardenError("KW_ERR_USAGE", { reason: `${flag} takes a version number` });
  return n;
}

interface SetFlags extends VaultFlags {
  fromFile?: string;
  valueFromArgv?: boolean;
  cas?: string;
  owner?: string;
  consumer?: string[];
  tag?: string[];
  expires?: string;
  maxAge?: string;
}

interface MetaFlags extends SetFlags {
  customMetadata?: string[];
  removeCustomMetadata?: string[];
}

/** The custom metadata options of `secrets set` and `secrets meta`. */
function withCustomMetadataOptions(cmd: Command): Command {
  return cmd
    .option("--custom-metadata <key=value...>", "set custom metadata pairs (what Vault clients see)")
    .option("--remove-custom-metadata <key...>", "remove custom metadata keys");
}

/**
 * The custom metadata change `secrets set` or `meta` asks for: `key=value` pairs set, keys
 * removed (null), as a merge; undefined when it asks none.
 */
function customMetadataFrom(flags: MetaFlags): Record<string, string | null> | undefined {
  if (flags.customMetadata === undefined && flags.removeCustomMetadata === undefined) return undefined;
  const change = new Map<string, string | null>();
  for (const pair of flags.customMetadata ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0)
      throw new KeywardenError("KW_ERR_USAGE", {
        reason: "--custom-metadata takes key=value pairs, like team=payments",
      });
    change.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  for (const key of flags.removeCustomMetadata ?? []) change.set(key, null);
  return Object.fromEntries(change);
}

/** The metadata change the flags ask for, custom metadata included; undefined when none. */
function metadataFrom(flags: MetaFlags): MetadataPatch | undefined {
  const patch: { -readonly [K in keyof MetadataPatch]: MetadataPatch[K] } = {};
  const custom = customMetadataFrom(flags);
  if (custom !== undefined) patch.customMetadata = custom;
  if (flags.owner !== undefined) patch.owner = flags.owner === "" ? null : flags.owner;
  if (flags.consumer !== undefined) patch.consumers = flags.consumer;
  if (flags.tag !== undefined) patch.tags = flags.tag;
  if (flags.expires !== undefined) patch.expiresAt = flags.expires === "" ? null : flags.expires;
  if (flags.maxAge !== undefined)
    patch.maxAgeSeconds = flags.maxAge === "" ? null : parseDuration(flags.maxAge);
  return Object.keys(patch).length === 0 ? undefined : patch;
}

/** The value to store, from argv (only with --value-from-argv), a file, a prompt or stdin. */
async function readValue(
  io: CliIO,
  path: string,
  argv: string | undefined,
  flags: SetFlags,
): Promise<Secret> {
  if (argv !== undefined) {
    if (flags.valueFromArgv !== true) {
      throw new KeywardenError("KW_ERR_USAGE", {
        reason:
          "refusing a value on the command line (it lands in shell history and process lists): pipe it on stdin, use --from-file, or add --value-from-argv",
      });
    }
    return new Secret(argv);
  }
  if (flags.fromFile !== undefined) {
    const file = resolve(io.cwd, flags.fromFile);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new KeywardenError("KW_ERR_VAULT_INPUT", {
        what: file,
        reason: (e as NodeJS.ErrnoException).code ?? "error",
      });
    }
    return new Secret(decodeInput(bytes, file));
  }
  if (canPrompt(io)) return new Secret(await promptHidden(io, `Value for ${path}: `));
  // One trailing newline is what `echo` adds, not part of the value.
  return new Secret((await readAll(io.stdin)).replace(/\r?\n$/, ""));
}

function flagsOf(s: SecretSummary): string {
  const out: string[] = [];
  if (s.deletedAt !== null) out.push("deleted");
  if (s.expired) out.push("EXPIRED");
  if (s.stale) out.push(`STALE (max age ${formatDuration(s.maxAgeSeconds ?? 0)})`);
  return out.join(", ");
}

/** Rows as aligned columns; every cell through forTerminal (metadata is any client's text). */
function table(cells: readonly (readonly string[])[]): string {
  const rows = cells.map((r) => r.map(forTerminal));
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

const formatOption = (): Option =>
  new Option("--format <format>", "output format").choices(["text", "json"]).default("text");

/** `keywarden secrets set|get|list|history|rm|restore|destroy`. */
export function registerSecrets(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const secrets = program
    .command("secrets")
    .description("store and read secrets in the vault (paths are project/environment/NAME)")
    .addHelpText(
      "after",
      `
Examples:
  printf %s "$KEY" | keywarden secrets set payments/prod/STRIPE_SECRET_KEY --max-age 90d
  keywarden secrets set payments/prod/TLS_KEY --from-file key.pem
  keywarden secrets get payments/prod/STRIPE_SECRET_KEY
  keywarden secrets list payments/
  keywarden secrets history payments/prod/STRIPE_SECRET_KEY
  keywarden secrets get payments/prod/STRIPE_SECRET_KEY 2       version 2
  keywarden secrets restore payments/prod/STRIPE_SECRET_KEY 3   version 3's value becomes current
  keywarden secrets destroy payments/prod/STRIPE_SECRET_KEY 1   version 1 can never be read again`,
    );

  withPassphraseOption(
    withCustomMetadataOptions(
      secrets
        .command("set")
        .description("store a new version of a secret (value from stdin, --from-file, or a prompt)")
        .argument("<path>", "project/environment/NAME")
        .argument("[value]", "the value itself: refused unless --value-from-argv")
        .option("--from-file <file>", "read the value from a file (kept exactly)")
        .option("--value-from-argv", "accept the value as an argument (it lands in shell history)")
        .option("--cas <version>", "write only if the secret is at this version (0: must not exist)")
        .option("--owner <who>", "who owns it")
        .option("--consumer <app...>", "apps that use it")
        .option("--tag <tag...>", "tags")
        .option("--expires <date>", "ISO date after which it counts as expired")
        .option("--max-age <duration>", "rotation policy: replace within this long (90d, 12h)"),
    ),
  ).action(async (path: string, argv: string | undefined, flags: MetaFlags, cmd: Command) => {
    // The flags first: a usage error should not come after the value was typed.
    const cas = parseVersion(flags.cas, "--cas");
    const metadata = metadataFrom(flags);
    const value = await readValue(io, path, argv, flags);
    await withBackend(io, cmd, flags, { unsealed: true }, async (vault) => {
      const r = await vault.set(path, value, { cas, metadata });
      const detected = r.provider === null ? "" : ` (${r.provider}, ${r.kind ?? ""})`;
      io.stdout.write(`stored ${r.path} version ${r.version}${detected}\n`);
    });
    setExit(EXIT.OK);
  });

  withPassphraseOption(
    secrets
      .command("get")
      .description("print a secret's value (the current version, or VERSION)")
      .argument("<path>", "project/environment/NAME")
      .argument("[version]", "a specific version (default: the current one)")
      .option("--version <n>", "a specific version (same as the VERSION argument)")
      .addOption(
        new Option("--format <format>", "raw value, or JSON with path and version")
          .choices(["raw", "json"])
          .default("raw"),
      ),
  ).action(
    async (
      path: string,
      versionArg: string | undefined,
      flags: VaultFlags & { format: string; version?: string },
      cmd: Command,
    ) => {
      const version = parseVersion(flags.version ?? versionArg, "VERSION");
      await withBackend(io, cmd, flags, { unsealed: true }, async (vault) => {
        const r = await vault.get(path, { version });
        if (flags.format === "json")
          io.stdout.write(
            JSON.stringify({ path: r.path, version: r.version, value: r.value.reveal() }) + "\n",
          );
        else io.stdout.write(r.value.reveal() + (io.stdout.isTTY === true ? "\n" : ""));
      });
      setExit(EXIT.OK);
    },
  );

  withPassphraseOption(
    secrets
      .command("list")
      .description("list secrets with their age; flags those past their maximum age or expiry")
      .argument("[prefix]", "only paths starting with this", "")
      .option("--deleted", "include deleted secrets")
      .addOption(formatOption()),
  ).action(
    async (prefix: string, flags: VaultFlags & { deleted?: boolean; format: string }, cmd: Command) => {
      const list = await withBackend(io, cmd, flags, { unsealed: true }, (vault) =>
        vault.list(prefix, { includeDeleted: flags.deleted === true }),
      );
      if (flags.format === "json") {
        io.stdout.write(JSON.stringify(list, null, 2) + "\n");
      } else if (list.length === 0) {
        io.stdout.write("no secrets\n");
      } else {
        const rows = list.map((s) => [
          s.path,
          `v${s.currentVersion}`,
          s.ageSeconds === null ? "-" : formatDuration(s.ageSeconds),
          s.provider ?? "-",
          s.owner ?? "-",
          flagsOf(s),
        ]);
        io.stdout.write(table([["PATH", "VERSION", "AGE", "PROVIDER", "OWNER", "FLAGS"], ...rows]));
      }
      setExit(EXIT.OK);
    },
  );

  withPassphraseOption(
    secrets
      .command("history")
      .description("list the versions of a secret")
      .argument("<path>", "project/environment/NAME")
      .addOption(formatOption()),
  ).action(async (path: string, flags: VaultFlags & { format: string }, cmd: Command) => {
    const versions = await withBackend(io, cmd, flags, { unsealed: true }, (vault) => vault.history(path));
    if (flags.format === "json") io.stdout.write(JSON.stringify(versions, null, 2) + "\n");
    else {
      const rows = versions.map((v) => [
        `v${v.version}${v.current ? " *" : ""}`,
        v.createdAt,
        v.createdBy,
        [
          v.restoredFrom === null ? "" : `restored from v${v.restoredFrom}`,
          v.destroyedAt === null ? "" : `destroyed ${v.destroyedAt}`,
        ]
          .filter((x) => x !== "")
          .join(", "),
      ]);
      io.stdout.write(table([["VERSION", "CREATED", "BY", "NOTE"], ...rows]));
    }
    setExit(EXIT.OK);
  });

  withPassphraseOption(
    secrets
      .command("rm")
      .description("delete a secret (soft: `secrets restore PATH` brings it back)")
      .argument("<path>", "project/environment/NAME"),
  ).action(async (path: string, flags: VaultFlags, cmd: Command) => {
    await withBackend(io, cmd, flags, { unsealed: true }, (vault) => vault.remove(path));
    io.stdout.write(`deleted ${path} (undo: keywarden secrets restore ${path})\n`);
    setExit(EXIT.OK);
  });

  withPassphraseOption(
    secrets
      .command("restore")
      .description("undelete a secret, or make VERSION's value current as a new version")
      .argument("<path>", "project/environment/NAME")
      .argument("[version]", "the version whose value becomes current (default: just undelete)")
      .option("--cas <version>", "restore only if the secret is at this version"),
  ).action(
    async (
      path: string,
      versionArg: string | undefined,
      flags: VaultFlags & { cas?: string },
      cmd: Command,
    ) => {
      const version = parseVersion(versionArg, "VERSION");
      const cas = parseVersion(flags.cas, "--cas");
      await withBackend(io, cmd, flags, { unsealed: true }, async (vault) => {
        if (version === undefined) {
          await vault.undelete(path);
          io.stdout.write(`undeleted ${path}\n`);
        } else {
          const r = await vault.restore(path, version, { cas });
          io.stdout.write(`restored ${path} version ${version} as version ${r.version}\n`);
        }
      });
      setExit(EXIT.OK);
    },
  );

  withPassphraseOption(
    secrets
      .command("destroy")
      .description("destroy one version for good: its data key is deleted, nothing can decrypt it again")
      .argument("<path>", "project/environment/NAME")
      .argument("<version>", "the version to destroy"),
  ).action(async (path: string, versionArg: string, flags: VaultFlags, cmd: Command) => {
    const version = parseVersion(versionArg, "VERSION")!;
    await withBackend(io, cmd, flags, { unsealed: true }, (vault) => vault.destroy(path, version));
    io.stdout.write(`destroyed version ${version} of ${path}\n`);
    setExit(EXIT.OK);
  });

  withPassphraseOption(
    withCustomMetadataOptions(
      secrets
        .command("meta")
        .description("change a secret's metadata without writing a new value")
        .argument("<path>", "project/environment/NAME")
        .option("--owner <who>", "who owns it ('' clears)")
        .option("--consumer <app...>", "apps that use it")
        .option("--tag <tag...>", "tags")
        .option("--expires <date>", "ISO date after which it counts as expired ('' clears)")
        .option("--max-age <duration>", "rotation policy, like 90d ('' clears)"),
    ),
  ).action(async (path: string, flags: MetaFlags, cmd: Command) => {
    const patch = metadataFrom(flags);
    if (patch === undefined)
      throw new KeywardenError("KW_ERR_USAGE", {
        reason:
          "give at least one of --owner, --consumer, --tag, --expires, --max-age, --custom-metadata, --remove-custom-metadata",
      });
    const meta = await withBackend(io, cmd, flags, { unsealed: true }, (vault) =>
      vault.updateMetadata(path, patch),
    );
    io.stdout.write(JSON.stringify(meta, null, 2) + "\n");
    setExit(EXIT.OK);
  });
}

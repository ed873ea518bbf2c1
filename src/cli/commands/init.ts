import { existsSync, mkdirSync, rmSync } from "node:fs";
import type { Command } from "commander";
import { systemClock } from "../../core/clock.ts";
import { EXIT, KeywardenError } from "../../core/errors.ts";
import type { Keywarden } from "../../app.ts";
import type { Secret } from "../../core/secret.ts";
import { commandContext } from "../context.ts";
import { resolveHome } from "../home.ts";
import type { CliIO } from "../io.ts";
import {
  cliRequestContext,
  openVault,
  passphraseFrom,
  PASSPHRASE_ENV,
  withPassphraseOption,
  type VaultFlags,
} from "../vault-context.ts";
import type { UnsealServerFlags } from "./unseal-server.ts";

/** The shortest vault passphrase `init` accepts (user passwords have the same floor). */
const MIN_PASSPHRASE_CHARS = 12;

/** `keywarden init`, `keywarden unseal` and `keywarden migrate`. */
export function registerInit(program: Command, io: CliIO, setExit: (code: number) => void): void {
  withPassphraseOption(
    program
      .command("init")
      .description("create the vault: home folder, database and a passphrase-sealed key file")
      .addHelpText(
        "after",
        `
The passphrase comes from --passphrase-file, ${PASSPHRASE_ENV}, or a prompt on a terminal.
Keep it and a backup of the key file: without them the secrets cannot be read.

Examples:
  keywarden init
  KEYWARDEN_HOME=/srv/keywarden keywarden init --passphrase-file /run/secrets/kw-pass`,
      ),
  ).action(async (flags: VaultFlags, cmd: Command) => {
    const cc = commandContext(io, cmd);
    const { config } = cc.loaded;
    const home = resolveHome(config.home, io.env, io.cwd);
    // Loaded here, not at start-up: only vault commands need storage and key providers.
    const [{ createKeywarden }, { initLocalKeyFile, localKeyFilePath }] = await Promise.all([
      import("../../app.ts"),
      import("../../kms/index.ts"),
    ]);
    mkdirSync(home, { recursive: true, mode: 0o700 });
    const lines = [`Initialised a Keywarden vault in ${home}`];
    let madeKeyFile: string | undefined;
    // Read once: a passphrase file may be a pipe (/dev/stdin) that a second read finds empty.
    let unsealWith: Secret | undefined;
    if (config.kms.provider === "local") {
      const keyFile = localKeyFilePath(config, home);
      if (existsSync(keyFile)) throw new KeywardenError("KW_ERR_KMS_KEY_FILE_EXISTS", { file: keyFile });
      const passphrase = await passphraseFrom(io, flags, { confirm: true });
      if (passphrase === undefined) {
        throw new KeywardenError("KW_ERR_USAGE", {
          reason: `init needs a passphrase: set ${PASSPHRASE_ENV}, pass --passphrase-file, or run it on a terminal`,
        });
      }
      // The passphrase alone stands between a copied key file and every secret.
      if (Array.from(passphrase.reveal()).length < MIN_PASSPHRASE_CHARS)
        throw new KeywardenError("KW_ERR_USAGE", {
          reason: `the vault passphrase must be at least ${MIN_PASSPHRASE_CHARS} characters: it alone protects the key file (a few words will do)`,
        });
      await initLocalKeyFile(keyFile, passphrase, config.kms.local.argon2);
      madeKeyFile = keyFile;
      unsealWith = passphrase;
      lines.push(`  key file: ${keyFile} (sealed by your passphrase; back it up)`);
    } else {
      lines.push(`  key provider: ${config.kms.provider}`);
    }
    let kw: Keywarden;
    try {
      kw = await createKeywarden({ config, home, env: io.env, clock: systemClock, logger: cc.logger });
    } catch (e) {
      // The database could not be opened or set up (a permission, a wrong URL): nothing is
      // wrapped by the new key yet, so it goes, and init can simply be run again.
      if (madeKeyFile !== undefined) {
        rmSync(madeKeyFile, { force: true });
        io.stderr.write(
          `keywarden: removed the new key file ${madeKeyFile} (nothing uses it yet); run \`keywarden init\` again once the database is fixed\n`,
        );
      }
      throw e;
    }
    try {
      const request = cliRequestContext(io);
      const passphrase = kw.sealed() ? (unsealWith ?? (await passphraseFrom(io, flags))) : undefined;
      if (passphrase !== undefined) await kw.unseal(request, passphrase);
      await kw.audit.record(request, { action: "vault.init", result: "ok", detail: config.kms.provider });
      lines.push(`  database: ${kw.storage.description}`);
    } finally {
      await kw.close();
    }
    lines.push("", 'Next: printf %s "$VALUE" | keywarden secrets set payments/prod/STRIPE_SECRET_KEY');
    io.stdout.write(lines.join("\n") + "\n");
    setExit(EXIT.OK);
  });

  withPassphraseOption(
    program
      .command("unseal")
      .description(
        "check the vault passphrase (each command unseals with it), or unseal a running server with --server; audited",
      )
      .option("--server <url>", "unseal this server (started sealed) over HTTPS; no token needed")
      .option("--ca-file <file>", "with --server: trust this PEM certificate or CA")
      .option("--fingerprint <sha256>", "with --server: trust exactly the certificate with this SHA-256")
      .addHelpText(
        "after",
        `\nExamples:\n  keywarden unseal\n  ${PASSPHRASE_ENV}=... keywarden unseal\n  keywarden unseal --server https://127.0.0.1:8443 --fingerprint AB:CD:...`,
      ),
  ).action(async (flags: UnsealServerFlags, cmd: Command) => {
    if (flags.server !== undefined) {
      const { unsealServer } = await import("./unseal-server.ts");
      io.stdout.write(await unsealServer(io, cmd, flags));
      setExit(EXIT.OK);
      return;
    }
    const s = await openVault(io, cmd, flags, { unsealed: true });
    try {
      const status = await s.kw.kms.status();
      io.stdout.write(`unsealed: ${status.description}, KEK version ${status.currentVersion}\n`);
    } finally {
      await s.kw.close();
    }
    setExit(EXIT.OK);
  });

  program
    .command("migrate")
    .description("bring the database schema up to date (also done by every vault command)")
    .action(async (_flags: unknown, cmd: Command) => {
      const cc = commandContext(io, cmd);
      const home = resolveHome(cc.loaded.config.home, io.env, io.cwd);
      const [{ openStorage }, { migrateToLatest }] = await Promise.all([
        import("../../storage/database.ts"),
        import("../../storage/migrations.ts"),
      ]);
      const storage = await openStorage({ url: cc.loaded.config.storage.url, home });
      try {
        const r = await migrateToLatest(storage.db, storage.caps);
        io.stdout.write(
          `${storage.description}: ${r.applied.length === 0 ? "up to date" : `applied ${r.applied.join(", ")}`} (${r.current.length} migrations)\n`,
        );
      } finally {
        await storage.close();
      }
      setExit(EXIT.OK);
    });
}

/**
 * `keywarden serve`: the vault over HTTPS (see src/server). Unseals at start with
 * --passphrase-file or KEYWARDEN_PASSPHRASE when the key provider needs it; otherwise, or
 * with --sealed, the server starts sealed: /readyz answers 503 until an operator unseals
 * it over HTTP (`keywarden unseal --server URL`, POST /api/v1/sys/unseal). Stops
 * gracefully on SIGTERM and SIGINT.
 */
import type { Command } from "commander";
import { systemClock } from "../../core/clock.ts";
import { EXIT, KeywardenError } from "../../core/errors.ts";
import { commandContext } from "../context.ts";
import { resolveHome } from "../home.ts";
import type { CliIO } from "../io.ts";
import {
  cliRequestContext,
  passphraseFrom,
  vaultExists,
  withPassphraseOption,
  type VaultFlags,
} from "../vault-context.ts";

interface ServeFlags extends VaultFlags {
  host?: string;
  port?: string;
  database?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecureHttp?: boolean;
  sealed?: boolean;
}

function portOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new KeywardenError("KW_ERR_USAGE", { reason: `--port ${text} is not a TCP port` });
  return n;
}

async function serve(
  io: CliIO,
  cmd: Command,
  flags: ServeFlags,
  setExit: (code: number) => void,
): Promise<void> {
  const cc = commandContext(io, cmd, {
    "server.host": flags.host,
    "server.port": portOf(flags.port),
    "storage.url": flags.database,
    "server.tlsCert": flags.tlsCert,
    "server.tlsKey": flags.tlsKey,
  });
  const { config } = cc.loaded;
  const home = resolveHome(config.home, io.env, io.cwd);
  if (!(await vaultExists(cc, home))) throw new KeywardenError("KW_ERR_VAULT_NOT_INITIALIZED", { home });
  // Storage and services load only for commands that use them, not on every start-up.
  const { createKeywarden } = await import("../../app.ts");
  const kw = await createKeywarden({
    config,
    home,
    env: io.env,
    clock: systemClock,
    logger: cc.logger,
    accessControl: true,
  });
  let stopped: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  try {
    if (flags.sealed === true && !kw.sealed())
      cc.logger.warn(
        { provider: kw.kms.kind },
        "--sealed has no effect: this key provider has no passphrase",
      );
    else if (flags.sealed === true)
      cc.logger.info("started sealed (--sealed): unseal over HTTP with `keywarden unseal --server URL`");
    else if (kw.sealed()) {
      const passphrase = await passphraseFrom(io, flags);
      if (passphrase === undefined)
        cc.logger.warn(
          "the vault is sealed: /readyz answers 503 until it is unsealed (`keywarden unseal --server URL`)",
        );
      else await kw.unseal(cliRequestContext(io), passphrase);
    }
    // Fastify and its plugins load only for `serve`, not on every command's start-up.
    const { startServer } = await import("../../server/listen.ts");
    const server = await startServer({
      keywarden: kw,
      access: kw.access,
      config,
      logger: cc.logger,
      home,
      insecureHttp: flags.insecureHttp,
    });
    const stop = (signal: NodeJS.Signals): void => {
      cc.logger.info({ signal }, "stopping: finishing requests in flight");
      server.close().then(stopped, (e: unknown) => {
        cc.logger.error({ err: e }, "error while stopping");
        setExit(EXIT.USAGE);
        stopped();
      });
    };
    // Before the announcement: a supervisor may stop the server as soon as it reads it.
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
    // One write, so a reader sees the address and the fingerprint together.
    io.stdout.write(
      `keywarden listening on ${server.url}\n` +
        (server.fingerprint === undefined
          ? ""
          : `certificate SHA-256 ${server.fingerprint}${server.generatedCertificate ? " (self-signed, generated now)" : ""}\n`),
    );
    await done;
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
  } finally {
    await kw.close();
  }
  io.stdout.write("keywarden stopped\n");
}

/**
 * @example
 *   keywarden serve --port 8443 --database postgres://kw@db/keywarden
 */
export function registerServe(program: Command, io: CliIO, setExit: (code: number) => void): void {
  withPassphraseOption(
    program
      .command("serve")
      .description("serve the vault over HTTPS (REST API /api/v1 and Vault KV v2 under /v1)")
      .option("--host <address>", "address to listen on (server.host, default 127.0.0.1)")
      .option("--port <port>", "TCP port (server.port, default 8443; 0 for any free port)")
      .option("--database <url>", "postgres://... to serve from PostgreSQL (storage.url)")
      .option("--tls-cert <file>", "PEM certificate (default: self-signed, generated in home)")
      .option("--tls-key <file>", "PEM private key of --tls-cert")
      .option("--insecure-http", "serve plain HTTP; only allowed on a loopback address")
      .option(
        "--sealed",
        "start sealed even when a passphrase is at hand; unseal later over HTTP (`keywarden unseal --server URL`)",
      ),
  ).action((flags: ServeFlags, cmd: Command) => serve(io, cmd, flags, setExit));
}

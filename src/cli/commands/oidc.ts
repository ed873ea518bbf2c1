/**
 * `keywarden oidc check IDENTITY`: what each OIDC trust of IDENTITY (access.oidc in the
 * config, as the server has it) says of a CI job's JWT given on stdin, without logging in:
 * its claims (which a trust binds), then per trust "ok" or the check that failed. For setting
 * trusts up, since a platform's claims (a pull request's ref, an environment's sub) are where
 * trusts go wrong. The JWT is never printed; its claims are not secrets.
 */
import type { Command } from "commander";
import { EXIT, KeywardenError } from "../../core/errors.ts";
import { forTerminal } from "../../core/terminal.ts";
import { explainJwt } from "../../services/access/oidc.ts";
import { commandContext } from "../context.ts";
import type { CliIO } from "../io.ts";
import { readAll } from "../prompt.ts";

/** A claim's value as one line: strings, numbers and booleans; others by their kind. */
function shown(v: unknown): string {
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return forTerminal(String(v));
  return Array.isArray(v) ? "(a list)" : "(an object)";
}

/** `keywarden oidc ...`. */
export function registerOidc(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const oidc = program.command("oidc").description("OIDC trusts of CI jobs (access.oidc): check a JWT");
  oidc
    .command("check <identity>")
    .description(
      "check a CI job's JWT (on stdin) against the identity's trusts in the config, without logging in; exit 1 when none accepts it",
    )
    .action(async (identity: string, _flags: unknown, cmd: Command) => {
      const cc = commandContext(io, cmd);
      const trusts = cc.loaded.config.access.oidc;
      if (!trusts.some((t) => t.identity === identity))
        throw new KeywardenError("KW_ERR_USAGE", {
          reason: `no trust in access.oidc names the identity ${identity}`,
        });
      const jwt = (await readAll(io.stdin)).trim();
      const { claims, checks } = await explainJwt(trusts, identity, jwt);
      const lines: string[] = [];
      if (claims !== undefined) {
        const when = (s: unknown) => (typeof s === "number" ? new Date(s * 1000).toISOString() : "-");
        lines.push(
          `JWT of ${shown(claims.iss)} for ${shown(claims.aud)}, issued ${when(claims.iat)}, expires ${when(claims.exp)}`,
        );
        for (const name of Object.keys(claims).sort())
          if (!["iss", "aud", "iat", "exp", "nbf", "jti"].includes(name))
            lines.push(`  ${forTerminal(name)} = ${shown(claims[name])}`);
      }
      for (const c of checks)
        lines.push(
          `access.oidc[${c.index}] (${c.trust.issuer}): ${c.refused === undefined ? "ok" : c.refused}`,
        );
      io.stdout.write(`${lines.join("\n")}\n`);
      setExit(checks.some((c) => c.refused === undefined) ? EXIT.OK : EXIT.FINDINGS);
    });
}

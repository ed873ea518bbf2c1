import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so";

export interface SoftHsmToken {
  readonly module: string;
  readonly tokenLabel: string;
  readonly pin: string;
  readonly dir: string;
  remove(): void;
}

/**
 * A fresh SoftHSM2 token in a temporary folder. Points SOFTHSM2_CONF (read by the library at
 * C_Initialize) at it, so call it before the first PKCS#11 provider of the test process opens.
 * PINs are random per run.
 */
export function createSoftHsmToken(label = "kw-test"): SoftHsmToken {
  const dir = mkdtempSync(join(tmpdir(), "kw-softhsm-"));
  const tokens = join(dir, "tokens");
  mkdirSync(tokens);
  const conf = join(dir, "softhsm2.conf");
  writeFileSync(
    conf,
    `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
  );
  process.env.SOFTHSM2_CONF = conf;
  const pin = randomBytes(6).toString("hex");
  const soPin = randomBytes(6).toString("hex");
  execFileSync(
    "softhsm2-util",
    ["--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", soPin],
    {
      env: { ...process.env, SOFTHSM2_CONF: conf },
      stdio: "pipe",
    },
  );
  return {
    module: SOFTHSM_MODULE,
    tokenLabel: label,
    pin,
    dir,
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

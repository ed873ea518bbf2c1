import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test, type TestContext } from "node:test";
import { formatToken } from "../../src/core/token-format.ts";
import { BIN, CHEAP_ARGON2_ENV, type CliRun, runCli } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";

const PASSPHRASE = "e2e passphrase, not a real one";

interface Vault {
  readonly dir: string;
  readonly home: string;
  kw(args: string[], options?: { input?: string; env?: Record<string, string> }): CliRun;
}

function vault(t: TestContext): Vault {
  const dir = tempDir(t);
  const home = join(dir, "home");
  const env = { KEYWARDEN_HOME: home, KEYWARDEN_PASSPHRASE: PASSPHRASE, ...CHEAP_ARGON2_ENV };
  const v: Vault = {
    dir,
    home,
    kw: (args, options = {}) =>
      runCli(args, { cwd: dir, input: options.input ?? "", env: { ...env, ...options.env } }),
  };
  const init = v.kw(["init"]);
  assert.equal(init.code, 0, init.stderr);
  return v;
}

function allFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? allFiles(join(dir, e.name)) : [join(dir, e.name)],
  );
}

test("init refuses a short passphrase, and reads a piped passphrase file once", (t) => {
  const dir = tempDir(t);
  const home = join(dir, "home");
  const short = runCli(["init"], {
    cwd: dir,
    env: { KEYWARDEN_HOME: home, KEYWARDEN_PASSPHRASE: "hunter2", ...CHEAP_ARGON2_ENV },
  });
  assert.equal(short.code, 2);
  assert.match(short.stderr, /the vault passphrase must be at least 12 characters/);
  assert.equal(existsSync(join(home, "master.key")), false);
  // /dev/stdin is empty the second time it is read: init used to read it again to unseal.
  // Through a shell pipe (Node gives a child a socket, which /dev/stdin cannot reopen).
  const piped = spawnSync(
    "sh",
    ["-c", 'printf %s "$PASS" | "$0" "$@"', process.execPath, BIN, "init", "--passphrase-file", "/dev/stdin"],
    {
      cwd: dir,
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", KEYWARDEN_HOME: home, PASS: PASSPHRASE, ...CHEAP_ARGON2_ENV },
    },
  );
  assert.equal(piped.status, 0, piped.stderr);
  const list = runCli(["secrets", "list"], {
    cwd: dir,
    env: { KEYWARDEN_HOME: home, KEYWARDEN_PASSPHRASE: PASSPHRASE, ...CHEAP_ARGON2_ENV },
  });
  assert.equal(list.code, 0, list.stderr);
});

test("an init whose database cannot be set up leaves no key file behind, so it can simply be run again", (t) => {
  const dir = tempDir(t);
  const home = join(dir, "home");
  const env = { KEYWARDEN_HOME: home, KEYWARDEN_PASSPHRASE: PASSPHRASE, ...CHEAP_ARGON2_ENV };
  mkdirSync(home, { mode: 0o700 });
  writeFileSync(join(home, "keywarden.db"), "not a database\n");
  const failed = runCli(["init"], { cwd: dir, env });
  assert.equal(failed.code, 2);
  assert.match(failed.stderr, /KW_ERR_STORAGE_DAMAGED/);
  assert.match(failed.stderr, /removed the new key file .*master\.key \(nothing uses it yet\)/);
  assert.equal(existsSync(join(home, "master.key")), false);
  rmSync(join(home, "keywarden.db"));
  const again = runCli(["init"], { cwd: dir, env });
  assert.equal(again.code, 0, again.stderr);
});

test("a home or a file in it open to other users is warned about, and the command still runs", (t) => {
  const v = vault(t);
  const list = () => v.kw(["secrets", "list"], { env: { KEYWARDEN_LOG_FORMAT: "json" } });
  assert.doesNotMatch(list().stderr, /other users/, "init makes them 0700 and 0600");
  chmodSync(v.home, 0o755);
  chmodSync(join(v.home, "master.key"), 0o640);
  const r = list();
  assert.equal(r.code, 0, r.stderr);
  const warned = r.stderr
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { file: string; mode: string; msg: string });
  assert.deepEqual(
    warned.map((w) => [w.file, w.mode, w.msg]),
    [
      [v.home, "755", "other users may read or change this: chmod 700 it"],
      [join(v.home, "master.key"), "640", "other users may read or change this: chmod 600 it"],
    ],
  );
});

test("init, set, get, list, history, rm, restore, destroy through the built CLI", (t) => {
  const v = vault(t);
  assert.equal(statSync(v.home).mode & 0o777, 0o700);
  for (const f of allFiles(v.home)) assert.equal(statSync(f).mode & 0o777, 0o600, f);
  const again = v.kw(["init"]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /KW_ERR_KMS_KEY_FILE_EXISTS/);

  const token = formatToken("svc");
  const set = v.kw(["secrets", "set", "payments/prod/API_TOKEN", "--owner", "team-pay", "--max-age", "90d"], {
    input: `${token}\n`,
  });
  assert.equal(set.code, 0, set.stderr);
  assert.equal(set.stdout, "stored payments/prod/API_TOKEN version 1 (Keywarden, keywarden-api-token)\n");
  assert.equal(v.kw(["secrets", "get", "payments/prod/API_TOKEN"]).stdout, token);

  const refused = v.kw(["secrets", "set", "payments/prod/ARGV", "from-argv-value"]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /refusing a value on the command line/);
  assert.ok(!refused.stderr.includes("from-argv-value"));
  assert.equal(
    v.kw(["secrets", "set", "payments/prod/ARGV", "from-argv-value", "--value-from-argv"]).code,
    0,
  );

  writeFileSync(join(v.dir, "cert.pem"), "line one\nline two\n");
  assert.equal(v.kw(["secrets", "set", "payments/prod/CERT", "--from-file", "cert.pem"]).code, 0);
  assert.equal(v.kw(["secrets", "get", "payments/prod/CERT"]).stdout, "line one\nline two\n");
  assert.equal(v.kw(["secrets", "set", "payments/prod/CERT", "--cas", "0"], { input: "x" }).code, 1);
  assert.equal(v.kw(["secrets", "set", "payments/prod/CERT", "--cas", "1"], { input: "second" }).code, 0);
  assert.equal(v.kw(["secrets", "get", "payments/prod/CERT", "1"]).stdout, "line one\nline two\n");
  assert.equal(
    v.kw(["secrets", "set", "payments/prod/OLD", "--expires", "2020-01-01"], { input: "old value" }).code,
    0,
  );

  const list = v.kw(["secrets", "list", "payments/"]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /payments\/prod\/API_TOKEN\s+v1\s+\d+s\s+Keywarden\s+team-pay/);
  assert.match(list.stdout, /payments\/prod\/OLD .*EXPIRED/);
  assert.ok(!list.stdout.includes(token));
  const history = JSON.parse(
    v.kw(["secrets", "history", "payments/prod/CERT", "--format", "json"]).stdout,
  ) as { version: number }[];
  assert.deepEqual(
    history.map((h) => h.version),
    [1, 2],
  );

  assert.equal(v.kw(["secrets", "rm", "payments/prod/CERT"]).code, 0);
  const gone = v.kw(["secrets", "get", "payments/prod/CERT"]);
  assert.equal(gone.code, 2);
  assert.match(gone.stderr, /KW_ERR_VAULT_DELETED/);
  assert.equal(v.kw(["secrets", "restore", "payments/prod/CERT"]).code, 0);
  assert.equal(
    v.kw(["secrets", "restore", "payments/prod/CERT", "1"]).stdout,
    "restored payments/prod/CERT version 1 as version 3\n",
  );
  assert.equal(v.kw(["secrets", "destroy", "payments/prod/CERT", "2"]).code, 0);
  assert.match(v.kw(["secrets", "get", "payments/prod/CERT", "2"]).stderr, /KW_ERR_VAULT_VERSION_DESTROYED/);

  const wrong = v.kw(["secrets", "get", "payments/prod/API_TOKEN"], {
    env: { KEYWARDEN_PASSPHRASE: "wrong" },
  });
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /KW_ERR_KMS_WRONG_PASSPHRASE/);
  assert.equal(wrong.stdout, "");
  const sealed = v.kw(["secrets", "get", "payments/prod/API_TOKEN"], { env: { KEYWARDEN_PASSPHRASE: "" } });
  assert.match(sealed.stderr, /KW_ERR_KMS_SEALED/);
  writeFileSync(join(v.dir, "pass.txt"), `${PASSPHRASE}\n`);
  const fromFile = v.kw(["secrets", "get", "payments/prod/API_TOKEN", "--passphrase-file", "pass.txt"], {
    env: { KEYWARDEN_PASSPHRASE: "" },
  });
  assert.equal(fromFile.stdout, token);
  const log = v.kw(["audit", "log", "--action", "vault.unseal", "--format", "json"]);
  const results = log.stdout
    .trim()
    .split("\n")
    .map((l) => (JSON.parse(l) as { result: string }).result);
  assert.ok(results.includes("denied"));

  const verify = v.kw(["audit", "verify"]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  assert.match(verify.stdout, /^audit log intact: \d+ entries/);
  const db = new DatabaseSync(join(v.home, "keywarden.db"));
  db.prepare("update audit_log set actor = 'cli:mallory' where seq = 5").run();
  db.close();
  const tampered = v.kw(["audit", "verify"]);
  assert.equal(tampered.code, 1);
  assert.match(tampered.stdout, /modified: entry 5 was modified/);
});

test("run injects an environment, keeps the passphrase out and passes the exit code; export and import round-trip", (t) => {
  const v = vault(t);
  const tricky = 'a "quoted" $HOME \\ value\nwith a second line';
  assert.equal(v.kw(["secrets", "set", "app/dev/TRICKY"], { input: `${tricky}\n` }).code, 0);
  assert.equal(v.kw(["secrets", "set", "app/dev/PLAIN"], { input: "plain" }).code, 0);
  const run = v.kw([
    "run",
    "--env",
    "app/dev",
    "--",
    "sh",
    "-c",
    'printf "%s|%s|%s" "$PLAIN" "$KEYWARDEN_PASSPHRASE" "$TRICKY"; exit 7',
  ]);
  assert.equal(run.code, 7, run.stderr);
  assert.equal(run.stdout, `plain||${tricky}`);
  const missing = v.kw(["run", "--env", "app/dev", "--", "no-such-command-here"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /KW_ERR_RUN_FAILED/);

  const json = JSON.parse(v.kw(["export", "app/dev", "--format", "json"]).stdout) as Record<string, string>;
  assert.deepEqual(json, { PLAIN: "plain", TRICKY: tricky });
  assert.equal(
    v.kw(["export", "app/dev", "--format", "yaml"]).stdout,
    `PLAIN: "plain"\nTRICKY: ${JSON.stringify(tricky)}\n`,
  );
  const dotenv = v.kw(["export", "app/dev", "--format", "dotenv"]).stdout;
  // -o makes a 0600 file, even over one that others could read; a folder it cannot write is named.
  const shared = join(v.dir, "shared.env");
  writeFileSync(shared, "OLD=1\n", { mode: 0o644 });
  chmodSync(shared, 0o644);
  assert.equal(v.kw(["export", "app/dev", "-o", "shared.env"]).code, 0);
  assert.equal(statSync(shared).mode & 0o777, 0o600);
  assert.equal(readFileSync(shared, "utf8"), dotenv);
  const unwritable = v.kw(["export", "app/dev", "-o", "shared.env/x.env"]);
  assert.equal(unwritable.code, 2);
  assert.match(
    unwritable.stderr,
    /KW_ERR_EXPORT_OUTPUT: cannot write the export to \S*shared\.env\/x\.env: ENOTDIR/,
  );
  const missingFolder = v.kw(["export", "app/dev", "-o", "no-such-folder/x.env"]);
  assert.match(missingFolder.stderr, /KW_ERR_EXPORT_OUTPUT: .*: ENOENT/);
  assert.equal(existsSync(join(v.dir, "no-such-folder")), false, "no folder was made");
  const token = formatToken("usr");
  writeFileSync(join(v.dir, "app.env"), `${dotenv}# comment\nexport API_TOKEN='${token}'\n`);
  const imported = v.kw(["import", "app.env", "--to", "app/staging"]);
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, /imported 3 secrets into app\/staging/);
  assert.match(
    imported.stderr,
    /app\.env still holds 3 secrets in plaintext \(keywarden scan finds 1 leaked key in it\): delete it now/,
  );
  // A value the vault refuses stops the import before anything is written; an empty one is skipped.
  writeFileSync(join(v.dir, "partial.env"), `GOOD=1\nEMPTY=\nHUGE=${"x".repeat(70_000)}\n`);
  const refused = v.kw(["import", "partial.env", "--to", "app/partial"]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /KW_ERR_VAULT_VALUE_INVALID: invalid value for secret app\/partial\/HUGE/);
  assert.deepEqual(JSON.parse(v.kw(["export", "app/partial", "--format", "json"]).stdout), {});
  // So does a key pasted where a NAME goes (it would be kept in the clear as the path).
  const keyAsName = formatToken("svc");
  writeFileSync(join(v.dir, "partial.env"), `GOOD=1\n${keyAsName}=x\n`);
  const keyRefused = v.kw(["import", "partial.env", "--to", "app/partial"]);
  assert.equal(keyRefused.code, 2);
  assert.match(keyRefused.stderr, /KW_ERR_VAULT_PATH_INVALID: .*looks like a Keywarden key/);
  assert.ok(!keyRefused.stderr.includes(keyAsName));
  assert.deepEqual(JSON.parse(v.kw(["export", "app/partial", "--format", "json"]).stdout), {});
  writeFileSync(join(v.dir, "partial.env"), "GOOD=1\nEMPTY=\n");
  const skipped = v.kw(["import", "partial.env", "--to", "app/partial"]);
  assert.equal(skipped.code, 0, skipped.stderr);
  assert.match(skipped.stderr, /skipped EMPTY \(partial\.env:2\): its value is empty/);
  assert.deepEqual(JSON.parse(v.kw(["export", "app/partial", "--format", "json"]).stdout), { GOOD: "1" });
  assert.deepEqual(JSON.parse(v.kw(["export", "app/staging", "--format", "json"]).stdout), {
    API_TOKEN: token,
    PLAIN: "plain",
    TRICKY: tricky,
  });

  // A .env written by PowerShell 5's `>` is UTF-16LE with a byte order mark and CRLF lines.
  const windowsToken = formatToken("svc");
  writeFileSync(
    join(v.dir, "windows.env"),
    Buffer.from(`\uFEFFDB_PASSWORD=caf\u00e9-latte-42\r\nAPI_TOKEN=${windowsToken}\r\n`, "utf16le"),
  );
  const fromWindows = v.kw(["import", "windows.env", "--to", "app/windows"]);
  assert.equal(fromWindows.code, 0, fromWindows.stderr);
  // Both values are found: the scan reads the file as UTF-16 too.
  assert.match(fromWindows.stderr, /keywarden scan finds 2 leaked keys in it/);
  assert.deepEqual(JSON.parse(v.kw(["export", "app/windows", "--format", "json"]).stdout), {
    API_TOKEN: windowsToken,
    DB_PASSWORD: "caf\u00e9-latte-42",
  });
  // Latin-1 is refused, not stored with U+FFFD in place of its accents.
  writeFileSync(join(v.dir, "latin1.env"), Buffer.from("GREETING=ol\u00e9 se\u00f1or\n", "latin1"));
  const latin1 = v.kw(["import", "latin1.env", "--to", "app/latin1"]);
  assert.equal(latin1.code, 2);
  assert.match(
    latin1.stderr,
    /KW_ERR_VAULT_INPUT: cannot read latin1\.env: it is not UTF-8 text; convert it first/,
  );
  assert.deepEqual(JSON.parse(v.kw(["export", "app/latin1", "--format", "json"]).stdout), {});

  writeFileSync(join(v.dir, "leak.txt"), `deploy with ${token}\n`);
  const scan = v.kw(["scan", "--vault", "--format", "json", "leak.txt"]);
  assert.equal(scan.code, 1, scan.stderr);
  const report = JSON.parse(scan.stdout) as { findings: { vault?: { path: string; version: number }[] }[] };
  assert.deepEqual(report.findings[0]?.vault, [{ path: "app/staging/API_TOKEN", version: 1 }]);
});

test("run with an environment larger than the system allows says so, instead of 'internal error'", (t) => {
  const v = vault(t);
  for (const name of ["A", "B", "C"])
    assert.equal(v.kw(["secrets", "set", `big/env/${name}`], { input: name.repeat(60_000) }).code, 0);
  // ulimit -s 512 caps a new process's arguments and environment at 128 KiB; these are 180 KB.
  const r = spawnSync(
    "sh",
    ["-c", 'ulimit -s 512 && exec "$0" "$@"', process.execPath, BIN, "run", "--env", "big/env", "--", "true"],
    {
      cwd: v.dir,
      encoding: "utf8",
      env: {
        PATH: process.env.PATH ?? "",
        KEYWARDEN_HOME: v.home,
        KEYWARDEN_PASSPHRASE: PASSPHRASE,
        ...CHEAP_ARGON2_ENV,
      },
    },
  );
  assert.equal(r.status, 2, r.stderr);
  assert.match(
    r.stderr,
    /KW_ERR_RUN_ENV_TOO_LARGE: the environment \(\d+ variables, \d+ bytes\) is larger than/,
  );
  assert.doesNotMatch(r.stderr, /internal error|AAAA/);
});

test("run forwards a signal to the command and returns its exit code", async (t) => {
  const v = vault(t);
  assert.equal(v.kw(["secrets", "set", "app/dev/X"], { input: "x" }).code, 0);
  const child = spawn(
    process.execPath,
    [
      BIN,
      "run",
      "--env",
      "app/dev",
      "--",
      "sh",
      "-c",
      'trap "exit 42" TERM; echo ready; while :; do sleep 0.05; done',
    ],
    {
      cwd: v.dir,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: v.dir,
        KEYWARDEN_HOME: v.home,
        KEYWARDEN_PASSPHRASE: PASSPHRASE,
        ...CHEAP_ARGON2_ENV,
      },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so a failed test still ends the command it started.
      detached: true,
    },
  );
  t.after(() => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  });
  await new Promise<void>((resolve) => {
    child.stdout.on("data", (d: Buffer) => {
      if (d.toString().includes("ready")) resolve();
    });
  });
  child.kill("SIGTERM");
  const code = await new Promise<number | null>((resolve) =>
    child.on("exit", (c) => {
      resolve(c);
    }),
  );
  assert.equal(code, 42);
});

test("no secret value is stored in plaintext under home, and scanning home finds nothing", (t) => {
  const v = vault(t);
  const values = [formatToken("svc"), formatToken("usr"), `password-${"x".repeat(8)}-unique-marker`];
  values.forEach((value, i) => {
    assert.equal(v.kw(["secrets", "set", `app/prod/S${i}`], { input: value }).code, 0);
    assert.equal(v.kw(["secrets", "get", `app/prod/S${i}`]).stdout, value);
  });
  assert.equal(v.kw(["run", "--env", "app/prod", "--", "true"]).code, 0);
  assert.equal(v.kw(["secrets", "destroy", "app/prod/S0", "1"]).code, 0);
  const files = allFiles(v.home);
  assert.ok(files.length >= 3);
  for (const f of files) {
    const bytes = readFileSync(f);
    for (const value of values) {
      for (const form of [
        Buffer.from(value),
        Buffer.from(value, "utf16le"),
        Buffer.from(Buffer.from(value).toString("base64")),
      ]) {
        assert.ok(!bytes.includes(form), `${f} holds a secret value`);
      }
    }
  }
  const scan = runCli(["scan", "--no-gitignore", v.home], { cwd: v.dir });
  assert.equal(scan.code, 0, scan.stdout);
});

test("secrets set stores text as given: UTF-16 decoded, binary and non-UTF-8 refused, never stored changed", (t) => {
  const v = vault(t);
  const value = "p\u00e4ssw\u00f6rd-\u2603-42";
  writeFileSync(join(v.dir, "utf16.txt"), Buffer.from(`\uFEFF${value}`, "utf16le"));
  assert.equal(v.kw(["secrets", "set", "app/dev/A", "--from-file", "utf16.txt"]).code, 0);
  assert.equal(v.kw(["secrets", "get", "app/dev/A"]).stdout, value);
  writeFileSync(join(v.dir, "latin1.txt"), Buffer.from("caf\u00e9", "latin1"));
  writeFileSync(
    join(v.dir, "keystore.p12"),
    Buffer.from([0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x03, 0x30, 0x00]),
  );
  for (const [file, reason] of [
    ["latin1.txt", /it is not UTF-8 text/],
    ["keystore.p12", /it holds NUL bytes \(binary data.*base64/],
  ] as const) {
    const r = v.kw(["secrets", "set", "app/dev/B", "--from-file", file]);
    assert.equal(r.code, 2, file);
    assert.match(r.stderr, reason);
  }
  const piped = v.kw(["secrets", "set", "app/dev/B"], { input: "caf\u00e9\u0000" });
  assert.equal(piped.code, 2);
  assert.match(piped.stderr, /KW_ERR_VAULT_INPUT: cannot read stdin: it holds NUL bytes/);
  assert.equal(v.kw(["secrets", "get", "app/dev/B"]).code, 2, "nothing was stored");
});

test("secrets list shows metadata from any client with its control characters escaped", (t) => {
  const v = vault(t);
  assert.equal(v.kw(["secrets", "set", "app/dev/A"], { input: "value-1234567" }).code, 0);
  // An owner that would write the clipboard (OSC 52) and erase the line on a terminal.
  const owner = "team\x1b]52;c;aGk=\x07\x1b[2K";
  assert.equal(v.kw(["secrets", "meta", "app/dev/A", "--owner", owner]).code, 0);
  const list = v.kw(["secrets", "list", "app/dev"]);
  assert.equal(list.code, 0, list.stderr);
  assert.ok(!list.stdout.includes("\x1b"), JSON.stringify(list.stdout));
  assert.ok(list.stdout.includes("team\\x1b]52;c;aGk=\\x07\\x1b[2K"), list.stdout);
  // JSON keeps the value as it is (JSON escapes it).
  const json = v.kw(["secrets", "list", "app/dev", "--format", "json"]);
  assert.ok(json.stdout.includes("team\\u001b]52"), json.stdout);
});

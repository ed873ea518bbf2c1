#!/usr/bin/env node
// Keywarden needs Node.js 22 or later (node:sqlite, the compile cache). An older Node would fail
// at the first import that names something it lacks, with a SyntaxError that says nothing of
// the version: say it here, before importing anything else.
const NEEDED_MAJOR = 22;
if (Number(process.versions.node.split(".")[0]) < NEEDED_MAJOR) {
  process.stderr.write(
    `keywarden: needs Node.js ${NEEDED_MAJOR} or later (24 LTS recommended); ` +
      `${process.execPath} is ${process.version}. Run it with a newer node, or through npx in a ` +
      `project that installs one (the 'node' package).\n`,
  );
  process.exit(2);
}
const { enableCompileCache } = await import("node:module");

// A password in a URL on the command line (`serve --database postgres://user:pass@db/kw`) is
// readable by every local user in the process list: show it masked there from now on (Node
// rewrites /proc/<pid>/cmdline), and say how to keep it off the command line altogether.
const { redactUrl } = await import("../core/redact.ts");
const args = process.argv.slice(2);
const shown = args.map((a) => {
  const eq = a.startsWith("--") ? a.indexOf("=") : -1;
  return eq < 0 ? redactUrl(a) : `${a.slice(0, eq + 1)}${redactUrl(a.slice(eq + 1))}`;
});
if (shown.some((a, i) => a !== args[i])) {
  process.title = ["keywarden", ...shown].join(" ");
  process.stderr.write(
    "keywarden: a URL on the command line holds a password, which other local users can read in the " +
      "process list while the command starts; set it in KEYWARDEN_STORAGE_URL or keywarden.toml instead\n",
  );
}

// Caches compiled code between runs (Node 22.1+): a third less start-up time for short scans.
enableCompileCache();
const { run } = await import("./main.ts");

// `keywarden ... | head` closes the pipe early: that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
}

process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
});

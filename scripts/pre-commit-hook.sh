#!/bin/sh
# The pre-commit framework's entry for Keywarden (see .pre-commit-hooks.yaml): runs
# `keywarden scan --staged` on a Node.js >= 22, even where the `node` first on PATH is older
# (Debian 12 ships Node 20, and `keywarden` starts with `#!/usr/bin/env node`).
#
# Node is looked for in this order:
#   1. $KEYWARDEN_NODE, if set;
#   2. the folder of the `keywarden` command: `npm install -g` puts it beside the node that ran
#      npm (nvm, n, volta, the official tarball), so that is the Node it was installed for;
#   3. `node` and `nodejs` on PATH.
set -u

MIN_MAJOR=22

if ! kw=$(command -v keywarden); then
  echo "keywarden: the keywarden command is not installed." >&2
  echo "  Install it with Node.js >= $MIN_MAJOR: npm install -g keywarden" >&2
  exit 2
fi

major() { # prints the major version of the node at $1, or nothing
  "$1" -e 'console.log(process.versions.node.split(".")[0])' 2>/dev/null
}

found=""
seen=""
for candidate in "${KEYWARDEN_NODE:-}" "$(dirname "$kw")/node" "$(command -v node || true)" "$(command -v nodejs || true)"; do
  [ -n "$candidate" ] && [ -x "$candidate" ] || continue
  v=$(major "$candidate")
  seen="$seen $candidate${v:+ (v$v)}"
  if [ -n "$v" ] && [ "$v" -ge "$MIN_MAJOR" ] 2>/dev/null; then
    found=$candidate
    break
  fi
done

if [ -z "$found" ]; then
  echo "keywarden: needs Node.js >= $MIN_MAJOR; found:${seen:- no node at all}." >&2
  echo "  Install Node.js $MIN_MAJOR or newer, or point KEYWARDEN_NODE at its node binary." >&2
  exit 2
fi

# `keywarden` (a JS file with `#!/usr/bin/env node`, or a package manager's shell shim) takes
# the first node on PATH: make it the one found.
PATH="$(dirname "$found"):$PATH"
export PATH
exec keywarden scan --staged --no-color "$@"

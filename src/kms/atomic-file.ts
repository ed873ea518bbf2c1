/**
 * Crash-safe small-file writes for key material: the data goes to a temporary file in the
 * same folder (0600), is fsynced, then renamed (or hard-linked, to refuse overwriting) into
 * place, and the folder is fsynced. A reader sees the old file or the new one, never a mix.
 */
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `data` to `path` atomically with mode 0600, creating the folder (0700) if needed
 * unless `createFolder` is false (then a missing folder is an ENOENT error). With
 * `exclusive`, an existing file is never replaced and the call throws an EEXIST error.
 *
 * @example
 *   writeFileAtomic("/home/u/.local/share/keywarden/master.key", bytes, { exclusive: true });
 */
export function writeFileAtomic(
  path: string,
  data: Uint8Array,
  options: { exclusive: boolean; createFolder?: boolean },
): void {
  const dir = dirname(path);
  if (options.createFolder !== false) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const fd = openSync(tmp, "wx", 0o600);
  try {
    try {
      let written = 0;
      while (written < data.length) written += writeSync(fd, data, written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // link() fails with EEXIST instead of replacing, which makes "create, never overwrite" atomic.
    if (options.exclusive) linkSync(tmp, path);
    else renameSync(tmp, path);
    fsyncDir(dir);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Writes `text` to `path` as a new 0600 file replacing any file there (written in place, an
 * existing file would keep its mode, which may let others read it); makes no folder, so a
 * typo in the folder fails. For output that holds secrets: exports, reports with them shown.
 *
 * @example
 *   writeSecretText(".env.local", dotenv);
 */
export function writeSecretText(path: string, text: string): void {
  writeFileAtomic(path, new TextEncoder().encode(text), { exclusive: false, createFolder: false });
}

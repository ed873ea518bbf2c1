/**
 * Where a worker thread's entry module is, seen from the module that starts it: beside that
 * module when running from src/ (tsx) or from tsc's dist/; in the bundled CLI that module
 * sits in dist/cli/chunks/ and the entry is dist/cli/NAME.js (scripts/bundle-cli.ts builds
 * the entries and checks that layout).
 *
 * @example
 *   new Worker(workerEntry(import.meta.url, "scan-worker"));
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export function workerEntry(moduleUrl: string, name: string): URL {
  if (moduleUrl.endsWith(".ts")) return new URL(`./${name}.ts`, moduleUrl);
  const sibling = new URL(`./${name}.js`, moduleUrl);
  if (existsSync(fileURLToPath(sibling))) return sibling;
  return new URL(`../${name}.js`, moduleUrl);
}

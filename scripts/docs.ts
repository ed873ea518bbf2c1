/**
 * Regenerates the generated docs (docs/errors.md, docs/rules.md, docs/config.md).
 * With --check, writes nothing and exits 1 when a file on disk differs from what would be
 * generated, naming it.
 */
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { renderConfigDoc, renderErrorsDoc, renderRulesDoc } from "./docs-render.ts";

const root = join(import.meta.dirname, "..");
const docs: Record<string, string> = {
  "docs/errors.md": renderErrorsDoc(),
  "docs/rules.md": renderRulesDoc(),
  "docs/config.md": renderConfigDoc(),
};

const check = process.argv.includes("--check");
let stale = 0;
for (const [rel, content] of Object.entries(docs)) {
  const file = join(root, rel);
  const current = existsSync(file) ? readFileSync(file, "utf8") : undefined;
  if (current === content) continue;
  if (check) {
    console.error(`${rel} is out of date: run \`npm run docs\` and commit the result`);
    stale++;
  } else {
    writeFileSync(file, content);
    console.log(`wrote ${rel}`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;

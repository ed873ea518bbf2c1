import { ERRORS } from "../src/core/errors.ts";
import { listOptions } from "../src/config/load.ts";
import { BUILTIN_RULES } from "../src/detect/rules/index.ts";

const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** docs/errors.md: every catalogue code with its message, HTTP status, exit code and hint. */
export function renderErrorsDoc(): string {
  const rows = Object.entries(ERRORS).map(
    ([code, e]) => `| \`${code}\` | ${cell(e.message)} | ${e.http} | ${e.exit} | ${cell(e.hint)} |`,
  );
  return [
    "# Error codes",
    "",
    "Generated from src/core/errors.ts by `npm run docs`; do not edit by hand.",
    'Every expected failure carries one of these codes, in CLI messages (`error KW_ERR_...: ...`) and in HTTP error bodies (`{ "error": { "code", "message", "requestId" } }`).',
    "",
    "| code | message | HTTP | exit | what to do |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
    "",
  ].join("\n");
}

/** docs/rules.md: the detection catalogue. */
export function renderRulesDoc(): string {
  const providers = new Set(BUILTIN_RULES.map((r) => r.provider));
  const rows = [...BUILTIN_RULES]
    .sort((a, b) => a.provider.localeCompare(b.provider) || a.id.localeCompare(b.id))
    .map(
      (r) =>
        `| \`${r.id}\` | ${cell(r.provider)} | ${r.severity} | ${cell(r.description)} | ${cell(r.remediation)} [docs](${r.docs}) |`,
    );
  return [
    "# Detection rules",
    "",
    "Generated from src/detect/rules/ by `npm run docs`; do not edit by hand.",
    "",
    `${BUILTIN_RULES.length} rules across ${providers.size} providers.`,
    "",
    "| rule | provider | severity | what it matches | how to revoke and rotate |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
    "",
  ].join("\n");
}

/** docs/config.md: every option with its env variable, default and description. */
export function renderConfigDoc(): string {
  const rows = listOptions().map((o) => {
    const def = JSON.stringify(o.schema.default ?? null);
    return `| \`${o.key}\` | \`${o.env}\` | \`${cell(def)}\` | ${cell(o.schema.description ?? "")} |`;
  });
  return [
    "# Configuration",
    "",
    "Generated from src/config/schema.ts by `npm run docs`; do not edit by hand.",
    "",
    "Precedence: defaults < `keywarden.toml` (found by walking up from the working folder, or `--config FILE`) < `KEYWARDEN_*` environment variables < command-line flags. `keywarden config show` prints the effective value of every option and where it came from.",
    "",
    "| key | environment variable | default | description |",
    "| --- | --- | --- | --- |",
    ...rows,
    "",
  ].join("\n");
}

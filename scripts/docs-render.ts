import { ERRORS } from "../src/core/errors.ts";
import { listOptions } from "../src/config/load.ts";
import { BUILTIN_RULES } from "../src/detect/rules/index.ts";
import type { VerifySpec } from "../src/detect/verify.ts";

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
        `| \`${r.id}\` | ${cell(r.provider)} | ${r.severity} | ${cell(r.description)} | ${cell(r.remediation)} [docs](${r.docs}) | ${r.verify === undefined ? "" : `\`${r.verify.method} ${cell(r.verify.path)}\``} |`,
    );
  return [
    "# Detection rules",
    "",
    "Generated from src/detect/rules/ by `npm run docs`; do not edit by hand.",
    "",
    `${BUILTIN_RULES.length} rules across ${providers.size} providers.`,
    "",
    "| rule | provider | severity | what it matches | how to revoke and rotate | live check (`--verify`) |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
    ...renderVerifiers(),
  ].join("\n");
}

function authOf(spec: VerifySpec): string {
  const a = spec.auth;
  switch (a.kind) {
    case "bearer":
      return `\`Authorization: ${a.scheme ?? "Bearer"} <key>\``;
    case "header":
      return `\`${a.name}: <key>\``;
    case "basic":
      return `basic auth \`${a.username.replace("{secret}", "<key>")}:${a.password.replace("{secret}", "<key>")}\``;
    case "aws-sigv4":
      return `SigV4 (${a.service}, ${a.region}) with the paired key id`;
  }
}

/** The "Live verification" section of docs/rules.md: one row per provider call. */
function renderVerifiers(): string[] {
  const byProvider = new Map<string, { spec: VerifySpec; rules: string[] }>();
  for (const r of BUILTIN_RULES) {
    if (r.verify === undefined) continue;
    const entry = byProvider.get(r.verify.provider) ?? { spec: r.verify, rules: [] };
    entry.rules.push(`\`${r.id}\``);
    byProvider.set(r.verify.provider, entry);
  }
  const rows = [...byProvider].map(([provider, { spec, rules }]) => {
    const reading = spec.outcomes
      .map(
        (o) =>
          `${o.status.join("/")}${o.json === undefined ? "" : ` ${o.json.path}=${o.json.oneOf.map(String).join("|")}`}${o.body === undefined ? "" : ` body ~ /${o.body.source}/`} → ${o.result}`,
      )
      .join("; ");
    return `| ${provider} | \`${spec.method} ${cell(spec.baseUrl + spec.path)}\` | ${authOf(spec)} | ${cell(reading)}; anything else → unknown | ${rules.join(", ")} | ${cell(spec.note ?? "")} [docs](${spec.docs}) |`;
  });
  return [
    "## Live verification",
    "",
    "Only with `keywarden scan --verify` (or `verify.enabled = true`): each finding of these rules is checked with the one read-only request below and marked `live`, `revoked` or `unknown` (with a reason). Base URLs can be changed per provider in `[verify.baseUrls]`. 429 is retried once after Retry-After when it fits in `verify.deadlineMs`; timeouts, 5xx and network errors are `unknown`.",
    "",
    "| provider | request | credential | reading | rules | notes |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
  ];
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

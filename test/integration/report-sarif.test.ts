import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import AjvModule from "ajv-draft-04";
import FormatsModule from "ajv-formats";
import { test } from "node:test";
import { loadConfig } from "../../src/config/load.ts";
import { systemClock } from "../../src/core/clock.ts";
import { formatToken } from "../../src/core/token-format.ts";
import { streamSource } from "../../src/sources/stream-source.ts";
import { renderReport } from "../../src/services/scan/report.ts";
import { createScanService } from "../../src/services/scan/scan-service.ts";
import { Readable } from "node:stream";

const require = createRequire(import.meta.url);
// Both packages are CommonJS: the default import is module.exports, whose .default is the export.
const Ajv = AjvModule.default;
const addFormats = FormatsModule.default;
// The official SARIF 2.1.0 schema, as shipped by Microsoft's SARIF tooling.
const schemaPath = require.resolve("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json");

test("SARIF output validates against the official 2.1.0 schema and carries rules and fingerprints", async () => {
  const { config } = loadConfig({ cwd: "/", env: {} });
  const scanner = createScanService({ config, clock: systemClock });
  const tokens = [formatToken("svc"), formatToken("cld")];
  const input = `first ${tokens[0]!}\nsecond line: "${tokens[1]!}"\n`;
  const result = await scanner.scan({
    sources: [
      streamSource(Readable.from([Buffer.from(input)]), "chat/export.json", scanner.catalogue.maxWindow),
    ],
  });
  assert.equal(result.findings.length, 2);
  const text = renderReport(result, {
    format: "sarif",
    showSecrets: false,
    color: false,
    toolVersion: "0.1.0",
  });
  for (const t of tokens) assert.ok(!text.includes(t));
  const sarif = JSON.parse(text) as {
    runs: {
      tool: { driver: { rules: { id: string; helpUri: string }[] } };
      results: {
        ruleId: string;
        partialFingerprints: Record<string, string>;
        locations: { physicalLocation: { region: { startLine: number } } }[];
      }[];
    }[];
  };
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, "utf8")) as object);
  assert.ok(validate(sarif), JSON.stringify(validate.errors, null, 2));
  const run = sarif.runs[0]!;
  assert.deepEqual(
    run.tool.driver.rules.map((r) => r.id),
    ["keywarden-api-token"],
  );
  assert.deepEqual(
    run.results.map((r) => r.locations[0]!.physicalLocation.region.startLine),
    [1, 2],
  );
  assert.match(run.results[0]!.partialFingerprints["keywarden/v1"]!, /^[0-9a-f]{32}$/);

  // A broken document must fail validation: the check can fail.
  const broken = structuredClone(sarif) as { version?: string };
  broken.version = "9.9";
  assert.equal(validate(broken), false);
});

test("SARIF artifact URIs encode what a URI reserves: a '#' or '?' in a file name is not a fragment or query", async () => {
  const { config } = loadConfig({ cwd: "/", env: {} });
  const scanner = createScanService({ config, clock: systemClock });
  const names = ["notes/issue #12?.md", "a b/c:d%e.env", "app.zip!conf/x&y=z.env"];
  const result = await scanner.scan({
    sources: names.map((name) =>
      streamSource(
        Readable.from([Buffer.from(`${formatToken("svc")}\n`)]),
        name,
        scanner.catalogue.maxWindow,
      ),
    ),
  });
  const sarif = JSON.parse(
    renderReport(result, { format: "sarif", showSecrets: false, color: false, toolVersion: "0.1.0" }),
  ) as {
    runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[];
  };
  const uris = sarif.runs[0]!.results.map((r) => r.locations[0]!.physicalLocation.artifactLocation.uri);
  assert.deepEqual(uris.sort(), [
    "a%20b/c%3Ad%25e.env",
    "app.zip!conf/x%26y%3Dz.env",
    "notes/issue%20%2312%3F.md",
  ]);
  // Each decodes back to its file, segment by segment.
  assert.deepEqual(uris.map((u) => u.split("/").map(decodeURIComponent).join("/")).sort(), [...names].sort());
});

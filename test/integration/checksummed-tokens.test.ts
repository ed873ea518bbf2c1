/**
 * A token whose checksum is valid is reported whatever its random part happens to spell:
 * about one random Keywarden token in 2,000 contains a word like "todo" or "fake", which the
 * classifier reads as a placeholder, and such tokens were dropped below the confidence
 * threshold (and the SARIF test flaked on them).
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import { loadConfig } from "../../src/config/load.ts";
import { systemClock } from "../../src/core/clock.ts";
import { formatToken, TOKEN_RANDOM_LENGTH } from "../../src/core/token-format.ts";
import { streamSource } from "../../src/sources/stream-source.ts";
import { createScanService } from "../../src/services/scan/scan-service.ts";

/** A random part of the right length with `word` in it (the rest is fixed filler). */
const spelling = (word: string): string =>
  `${word}${"Q7mZ2xK9vR4pL8".repeat(4)}`.slice(0, TOKEN_RANDOM_LENGTH);

test("a token with a valid checksum is reported even when its random part spells a placeholder word", async () => {
  const { config } = loadConfig({ cwd: "/", env: {} });
  const scanner = createScanService({ config, clock: systemClock });
  const tokens = ["TODO", "fake", "example", "Dummy", "xxxx"].map((w) => formatToken("svc", spelling(w)));
  const text = tokens.map((t, i) => `line ${i}: export KEYWARDEN_TOKEN=${t}\n`).join("");
  const result = await scanner.scan({
    sources: [streamSource(Readable.from([Buffer.from(text)]), "deploy.sh", scanner.catalogue.maxWindow)],
  });
  assert.deepEqual(
    result.findings.map((f) => [f.rule, f.secret.reveal()]),
    tokens.map((t) => ["keywarden-api-token", t]),
  );
  // The same shape with a wrong checksum is not a token at all.
  const broken = `${tokens[0]!.slice(0, -1)}${tokens[0]!.endsWith("a") ? "b" : "a"}`;
  const none = await scanner.scan({
    sources: [
      streamSource(
        Readable.from([Buffer.from(`KEYWARDEN_TOKEN=${broken}\n`)]),
        "x",
        scanner.catalogue.maxWindow,
      ),
    ],
  });
  assert.deepEqual(
    none.findings.filter((f) => f.rule === "keywarden-api-token"),
    [],
  );
});

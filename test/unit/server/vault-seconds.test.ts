/**
 * Vault durations as `vault token create`, Terraform's provider and node-vault send them.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { vaultSeconds } from "../../../src/server/routes/vault-token-routes.ts";

test("whole seconds, digits, and Go's h/m/s forms read as seconds", () => {
  const cases: [string | number, number][] = [
    [1200, 1200],
    ["1200", 1200],
    ["1200s", 1200],
    ["20m", 1200],
    ["1h", 3600],
    ["1h30m", 5400],
    ["1h0m0s", 3600],
    ["2m30s", 150],
    [0, 0],
    ["0s", 0],
  ];
  for (const [input, seconds] of cases) assert.equal(vaultSeconds(input), seconds, String(input));
});

test("anything else is not a duration", () => {
  for (const input of ["", "soon", "1d", "1.5h", "-1", "1m1h", "1h 30m", "30ms", " 20m", -5, 1.5, 2 ** 60])
    assert.equal(vaultSeconds(input), undefined, String(input));
});

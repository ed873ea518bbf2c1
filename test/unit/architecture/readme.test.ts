import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

const root = join(import.meta.dirname, "../../..");

test("the README's Quick start is exactly two commands: scan on the embedded default, then npm test", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const block = /## Quick start\n\n```sh\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, "Quick start code block");
  const commands = block[1]!.split("\n").filter((l) => l.trim() !== "");
  assert.equal(commands.length, 2);
  assert.match(commands[0]!, /^npm ci && npx keywarden scan\b/);
  assert.equal(commands[1], "npm test");
});

test(".ci/run runs the README's test command, read from the README itself", () => {
  const ci = readFileSync(join(root, ".ci/run"), "utf8");
  assert.match(ci, /README\.md/);
  assert.match(ci, /eval "\$TEST_CMD"/);
  assert.match(ci, /npm ci/);
});

test("every npm script runs on Node 24 from the node devDependency", () => {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    engines: { node: string };
    devDependencies: Record<string, string>;
  };
  assert.equal(pkg.engines.node, ">=22");
  assert.match(pkg.devDependencies.node!, /^\^?24\./);
  // The test runner itself is started by npm, so this is the version scripts get.
  assert.match(process.version, /^v24\./);
});

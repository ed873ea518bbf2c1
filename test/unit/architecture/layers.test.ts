import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve, dirname } from "node:path";
import { test } from "node:test";
import { findLayerViolations, layerOf } from "../../helpers/layers.ts";

const root = resolve(import.meta.dirname, "../../..");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.(ts|tsx)$/.test(e.name) ? [p] : [];
  });
}

test("no module imports a higher layer", () => {
  const files = sourceFiles(join(root, "src")).map((f) => ({
    path: relative(root, f),
    text: readFileSync(f, "utf8"),
  }));
  assert.ok(files.length > 10);
  const violations = findLayerViolations(files, (from, spec) =>
    relative(root, resolve(dirname(join(root, from)), spec)),
  );
  assert.deepEqual(violations, []);
});

test("every source folder has a layer", () => {
  for (const f of sourceFiles(join(root, "src"))) {
    assert.notEqual(layerOf(relative(root, f)), undefined, `${relative(root, f)} is in no layer`);
  }
});

test("the checker catches a wrong-way import", () => {
  const violations = findLayerViolations(
    [
      {
        path: "src/core/ids.ts",
        text: 'import { x } from "../services/vault-service.ts";\nimport y from "node:fs";',
      },
    ],
    (from, spec) => relative(root, resolve(dirname(join(root, from)), spec)),
  );
  assert.deepEqual(violations, ["src/core/ids.ts (L0) imports src/services/vault-service.ts (L3)"]);
});

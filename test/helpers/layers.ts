/** The layers of ../shared/ARCHITECTURE.md: a module may import its own layer or lower ones. */
const LAYERS: readonly [prefix: string, layer: number][] = [
  ["src/core/", 0],
  ["src/config/", 1],
  ["src/detect/", 1],
  ["src/crypto/", 1],
  ["src/storage/", 2],
  ["src/sources/", 2],
  ["src/kms/", 2],
  ["src/services/", 3],
  ["src/app.ts", 3],
  ["src/index.ts", 3],
  ["src/server/", 4],
  ["src/cli/", 4],
  // The typed HTTP client (`keywarden/client`): a face of the project like the CLI; imports no service.
  ["src/client/", 4],
  ["src/web/", 4],
];

export function layerOf(path: string): number | undefined {
  return LAYERS.find(([prefix]) => path === prefix || path.startsWith(prefix))?.[1];
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

/**
 * Lists "from (Ln) imports to (Lm)" for every relative import that points to a higher layer.
 * `resolveSpec` turns a relative specifier into a repository-relative path.
 */
export function findLayerViolations(
  files: readonly { path: string; text: string }[],
  resolveSpec: (from: string, spec: string) => string,
): string[] {
  const out: string[] = [];
  for (const f of files) {
    const from = layerOf(f.path);
    if (from === undefined) continue;
    for (const m of f.text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2]!;
      if (!spec.startsWith(".")) continue;
      const target = resolveSpec(f.path, spec);
      const to = layerOf(target);
      if (to !== undefined && to > from) out.push(`${f.path} (L${from}) imports ${target} (L${to})`);
    }
  }
  return out;
}

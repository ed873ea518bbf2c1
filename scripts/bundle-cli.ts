// Bundles the CLI into one file over tsc's dist/cli/bin.js. Loading ~1,200 small ES modules
// (typebox alone is ~680) cost a third of a short scan's time: 0.30 s start-up became 0.19 s.
// The library entry points (dist/index.js, dist/detect/) stay unbundled for importers.
// Native addons stay external: they load from node_modules as built there.
import { chmodSync } from "node:fs";
import { build } from "esbuild";

await build({
  // bin.ts enables the compile cache, then imports main: splitting puts main in its own
  // chunk, so the cache covers the whole bundle and not only the few lines of bin.
  entryPoints: { bin: "src/cli/bin.ts" },
  outdir: "dist/cli",
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  sourcemap: true,
  external: ["pkcs11js", "@node-rs/argon2", "pg-native"],
  // CommonJS dependencies call require(); give the ES module bundle one.
  banner: {
    js: "import { createRequire as __kwCreateRequire } from 'node:module'; const require = __kwCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
});
chmodSync("dist/cli/bin.js", 0o755);

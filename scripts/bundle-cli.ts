// Bundles the CLI into one file over tsc's dist/cli/bin.js. Loading ~1,200 small ES modules
// (typebox alone is ~680) cost a third of a short scan's time: 0.30 s start-up became 0.19 s.
// The library entry points (dist/index.js, dist/detect/) stay unbundled for importers.
// Native addons stay external: they load from node_modules as built there.
import { chmodSync, rmSync } from "node:fs";
import { build } from "esbuild";

// Chunk names carry a content hash: without this, every rebuild would leave the old ones behind.
rmSync("dist/cli/chunks", { recursive: true, force: true });

const result = await build({
  // bin.ts enables the compile cache, then imports main: splitting puts main in its own
  // chunk, so the cache covers the whole bundle and not only the few lines of bin.
  // scan-worker is the entry of `scan --jobs` worker threads; it shares chunks with main.
  entryPoints: { bin: "src/cli/bin.ts", "scan-worker": "src/services/scan/scan-worker.ts" },
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
  metafile: true,
});
chmodSync("dist/cli/bin.js", 0o755);

// worker-pool.ts finds the worker at ../scan-worker.js from the chunk it is bundled into.
const pool = Object.entries(result.metafile.outputs).find(([, o]) =>
  Object.keys(o.inputs).some((i) => i.endsWith("src/services/scan/worker-pool.ts")),
);
if (pool === undefined || !/^dist\/cli\/chunks\/[^/]+\.js$/.test(pool[0]))
  throw new Error(
    `worker-pool.ts must be bundled into dist/cli/chunks/, found in ${pool?.[0] ?? "no output"}`,
  );
if (!("dist/cli/scan-worker.js" in result.metafile.outputs))
  throw new Error("the bundle has no dist/cli/scan-worker.js");

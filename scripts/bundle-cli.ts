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
  // sqlite-script-worker is the entry of the SQLite writer thread of `serve`.
  entryPoints: {
    bin: "src/cli/bin.ts",
    "scan-worker": "src/services/scan/scan-worker.ts",
    "sqlite-script-worker": "src/storage/sqlite-script-worker.ts",
  },
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

// Modules that start worker threads find the entries at ../NAME.js from the chunk they are
// bundled into (core/worker-entry.ts).
for (const [starter, entry] of [
  ["src/services/scan/worker-pool.ts", "scan-worker"],
  ["src/storage/sqlite-script.ts", "sqlite-script-worker"],
] as const) {
  const chunk = Object.entries(result.metafile.outputs).find(([, o]) =>
    Object.keys(o.inputs).some((i) => i.endsWith(starter)),
  );
  if (chunk === undefined || !/^dist\/cli\/chunks\/[^/]+\.js$/.test(chunk[0]))
    throw new Error(
      `${starter} must be bundled into dist/cli/chunks/, found in ${chunk?.[0] ?? "no output"}`,
    );
  if (!(`dist/cli/${entry}.js` in result.metafile.outputs))
    throw new Error(`the bundle has no dist/cli/${entry}.js`);
}

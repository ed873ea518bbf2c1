/**
 * `npm run bench [-- PART ...]`: runs the named bench parts, or all of them.
 * Add a part by writing bench/<name>-bench.ts exporting a BenchPart and listing it below.
 */
import type { BenchPart } from "./bench-part.ts";
import { historyBench } from "./history-bench.ts";
import { scanBench, scanJobsBench } from "./scan-bench.ts";
import { serverBench } from "./server-bench.ts";
import { vaultBench } from "./vault-bench.ts";

const PARTS: readonly BenchPart[] = [scanBench, scanJobsBench, historyBench, vaultBench, serverBench];

function usage(): string {
  const lines = ["usage: npm run bench [-- PART ...]", "", "parts (all when none is named):"];
  for (const p of PARTS) lines.push(`  ${p.name.padEnd(10)} ${p.description}`);
  return lines.join("\n");
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes("-h") || argv.includes("--help")) {
    console.log(usage());
    return 0;
  }
  const unknown = argv.filter((a) => !PARTS.some((p) => p.name === a));
  if (unknown.length > 0) {
    console.error(`unknown bench part: ${unknown.join(", ")}\n\n${usage()}`);
    return 2;
  }
  const selected = argv.length === 0 ? PARTS : PARTS.filter((p) => argv.includes(p.name));
  for (const part of selected) {
    console.log(`\n== bench: ${part.name} ==`);
    await part.run();
  }
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  console.error(`bench failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 2;
}

import type { DeepReadonly } from "../../config/load.ts";
import type { Config } from "../../config/schema.ts";
import { builtinCatalogue } from "../../detect/catalogue.ts";
import { detectInText, type DetectedMatch } from "../../detect/decode.ts";
import { compileCatalogue, type Catalogue } from "../../detect/engine.ts";
import { BUILTIN_RULES } from "../../detect/rules/index.ts";
import { compileUserRule } from "../../detect/user-rules.ts";

/**
 * Builds the catalogue the config asks for: built-in rules less `detect.disabledRules`,
 * plus `[[detect.rules]]`. Throws KW_ERR_RULE_INVALID for a bad user rule. Scan workers call
 * it too, so it stays in this light module (no reports, verification or classifier).
 *
 * @example
 *   const catalogue = catalogueFor(config);
 */
export function catalogueFor(config: DeepReadonly<Config>): Catalogue {
  const { disabledRules, rules } = config.detect;
  if (disabledRules.length === 0 && rules.length === 0) return builtinCatalogue();
  const disabled = new Set(disabledRules);
  return compileCatalogue([
    ...BUILTIN_RULES.filter((r) => !disabled.has(r.id)),
    ...rules.map((u) => compileUserRule(u as Parameters<typeof compileUserRule>[0])),
  ]);
}

/** Finds the matches of one chunk's text. */
export type ChunkDetector = (text: string) => DetectedMatch[];

/**
 * The one per-chunk detection call of a scan. The scan service calls it in the main thread
 * and each scan worker calls it in its own thread: keeping the call in one place is what
 * makes `--jobs 1` and `--jobs N` find the same matches.
 *
 * @example
 *   const detect = chunkDetector(config, catalogueFor(config));
 *   const matches = detect(chunk.text);
 */
export function chunkDetector(config: DeepReadonly<Config>, catalogue: Catalogue): ChunkDetector {
  // Plain data, so the same options reach the workers through the config.
  const decode = { depth: config.detect.decode.depth, decoders: [...config.detect.decode.decoders] };
  return (text) => detectInText(text, catalogue, decode);
}

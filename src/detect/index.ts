/**
 * The pure detection engine: rules, the keyword prefilter and matching over strings.
 *
 * @example
 *   import { builtinCatalogue, scanText } from "keywarden/detect";
 *   scanText(text, builtinCatalogue());
 */
export { compileCatalogue, scanText, type Catalogue, type Match } from "./engine.ts";
export {
  detectInText,
  DECODER_NAMES,
  DEFAULT_DECODE_OPTIONS,
  MAX_DECODE_DEPTH,
  type DecodeOptions,
  type DecoderName,
  type DetectedMatch,
} from "./decode.ts";
export { builtinCatalogue } from "./catalogue.ts";
export { BUILTIN_RULES } from "./rules/index.ts";
export type { Rule, Severity, PositiveExample, ExampleGen } from "./rule.ts";
export { shannonEntropy } from "./entropy.ts";

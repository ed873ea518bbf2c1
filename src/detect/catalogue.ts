import { compileCatalogue, type Catalogue } from "./engine.ts";
import { BUILTIN_RULES } from "./rules/index.ts";

let builtin: Catalogue | undefined;

/**
 * The compiled built-in catalogue, built once per process.
 *
 * @example
 *   scanText(text, builtinCatalogue());
 */
export function builtinCatalogue(): Catalogue {
  builtin ??= compileCatalogue(BUILTIN_RULES);
  return builtin;
}

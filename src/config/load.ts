import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parse as parseToml, TomlError } from "smol-toml";
import Value from "typebox/value";
import { KeywardenError } from "../core/errors.ts";
import { redactUrl } from "../core/redact.ts";
import { ConfigSchema, type Config, type SchemaNode } from "./schema.ts";

export const CONFIG_FILE_NAME = "keywarden.toml";
export const ENV_PREFIX = "KEYWARDEN_";

/** Where one effective value came from. */
export type ValueSource =
  | { readonly kind: "default" }
  | { readonly kind: "file"; readonly file: string; readonly line: number }
  | { readonly kind: "env"; readonly name: string }
  | { readonly kind: "flag"; readonly name: string };

export interface LoadedConfig {
  readonly config: DeepReadonly<Config>;
  /** The keywarden.toml that was read, if any. */
  readonly file: string | undefined;
  /** Source of each leaf option, by dotted key. */
  readonly sources: ReadonlyMap<string, ValueSource>;
}

export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

export interface LoadOptions {
  /** Folder to start the upward search for keywarden.toml from. */
  readonly cwd: string;
  /** The environment to read KEYWARDEN_* variables from (pass process.env from the CLI). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** An explicit file (`--config`); no search then. */
  readonly configFile?: string | undefined;
  /** Flag values by dotted key, highest precedence. */
  readonly flags?: Readonly<Record<string, unknown>>;
}

/** A leaf option of the schema: a value users set as a whole. */
export interface OptionInfo {
  readonly key: string;
  readonly env: string;
  readonly schema: SchemaNode;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function envName(key: string): string {
  return (
    ENV_PREFIX +
    key
      .replace(/\./g, "_")
      .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
      .toUpperCase()
  );
}

/**
 * Every leaf option with its env variable name, in schema order.
 *
 * @example
 *   listOptions().find((o) => o.key === "scan.maxFileSize")?.env // "KEYWARDEN_SCAN_MAX_FILE_SIZE"
 */
export function listOptions(): readonly OptionInfo[] {
  const out: OptionInfo[] = [];
  const walk = (node: SchemaNode, prefix: string): void => {
    for (const [name, child] of Object.entries(node.properties ?? {})) {
      const key = prefix === "" ? name : `${prefix}.${name}`;
      if (child.type === "object" && child.properties !== undefined) walk(child, key);
      else out.push({ key, env: envName(key), schema: child });
    }
  };
  walk(ConfigSchema, "");
  return out;
}

/** Walks up from `start` to the filesystem root looking for keywarden.toml. */
export function findConfigFile(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    const candidate = join(dir, CONFIG_FILE_NAME);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

const TABLE_HEADER = /^\s*\[(\[)?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$/;
const KEY_LINE = /^\s*([A-Za-z0-9_."'-]+?)\s*=/;

function splitTomlKey(raw: string): string[] {
  return raw.split(".").map((p) => p.trim().replace(/^["']|["']$/g, ""));
}

/**
 * The 1-based line where a dotted key (array indexes as numbers) is set in TOML text, or 0.
 * Arrays of tables count their `[[...]]` headers to find the index.
 */
export function locateKey(text: string, path: readonly (string | number)[]): number {
  const lines = text.split(/\r?\n/);
  let table: string[] = [];
  const arrayCounts = new Map<string, number>();
  let best = 0;
  const target = path.map(String);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const header = TABLE_HEADER.exec(line);
    if (header !== null) {
      const parts = splitTomlKey(header[2]!);
      if (header[1] === "[") {
        const name = parts.join(".");
        const index = arrayCounts.get(name) ?? 0;
        arrayCounts.set(name, index + 1);
        table = [...parts, String(index)];
      } else {
        table = parts;
      }
      if (target.join(".").startsWith(table.join(".")) && best === 0 && table.length === target.length)
        best = i + 1;
      continue;
    }
    const kv = KEY_LINE.exec(line);
    if (kv === null) continue;
    const full = [...table, ...splitTomlKey(kv[1]!)];
    const fullKey = full.join(".");
    const targetKey = target.join(".");
    if (fullKey === targetKey) return i + 1;
    if (targetKey.startsWith(fullKey + ".") && best === 0) best = i + 1;
  }
  return best;
}

function getAt(obj: unknown, path: readonly string[]): unknown {
  let cur = obj;
  for (const p of path) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

function setAt(obj: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let cur = obj;
  for (const p of path.slice(0, -1)) {
    const next = cur[p];
    if (!isPlainObject(next)) {
      const created: Record<string, unknown> = {};
      cur[p] = created;
      cur = created;
    } else cur = next;
  }
  cur[path[path.length - 1]!] = value;
}

function primitiveTypes(node: SchemaNode): string[] {
  if (node.anyOf !== undefined) return node.anyOf.flatMap(primitiveTypes);
  if (node.const !== undefined) return [typeof node.const];
  if (node.type === undefined) return [];
  return Array.isArray(node.type) ? [...(node.type as string[])] : [node.type as string];
}

function coerce(raw: string, node: SchemaNode): unknown {
  const types = primitiveTypes(node);
  if (types.includes("array")) {
    const itemTypes = node.items === undefined ? [] : primitiveTypes(node.items);
    if (itemTypes.includes("object") || raw.trimStart().startsWith("[")) {
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        return raw;
      }
    }
    return raw === "" ? [] : raw.split(",").map((s) => s.trim());
  }
  if (types.includes("integer") || types.includes("number")) {
    const n = Number(raw);
    return raw.trim() === "" || Number.isNaN(n) ? raw : n;
  }
  if (types.includes("boolean")) {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    return raw;
  }
  return raw;
}

function describeSource(source: ValueSource | undefined): string {
  if (source === undefined) return "default";
  switch (source.kind) {
    case "default":
      return "default";
    case "file":
      return `${source.file}:${source.line}`;
    case "env":
      return `env ${source.name}`;
    case "flag":
      return `flag ${source.name}`;
  }
}

function checkUnknownKeys(
  value: unknown,
  node: SchemaNode,
  path: string[],
  report: (path: string[]) => void,
): void {
  if (node.type === "object" && node.properties !== undefined && isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      const child = node.properties[k];
      if (child === undefined) report([...path, k]);
      else checkUnknownKeys(v, child, [...path, k], report);
    }
  } else if (node.type === "array" && node.items !== undefined && Array.isArray(value)) {
    value.forEach((item, i) => {
      checkUnknownKeys(item, node.items!, [...path, String(i)], report);
    });
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}

/**
 * Loads the effective configuration: defaults < keywarden.toml < KEYWARDEN_* env < flags.
 * Errors name the key and where its value came from (file and line, env var or flag).
 * The result is deep-frozen; pass it in, never read it from a global.
 *
 * @example
 *   const { config } = loadConfig({ cwd: process.cwd(), env: process.env });
 */
export function loadConfig(options: LoadOptions): LoadedConfig {
  const sources = new Map<string, ValueSource>();
  const leaves = listOptions();
  let merged = Value.Default(ConfigSchema, {}) as Record<string, unknown>;
  for (const o of leaves) sources.set(o.key, { kind: "default" });

  const file =
    options.configFile !== undefined ? resolve(options.cwd, options.configFile) : findConfigFile(options.cwd);
  if (options.configFile !== undefined && (file === undefined || !existsSync(file))) {
    throw new KeywardenError("KW_ERR_CONFIG_NOT_FOUND", { file: options.configFile });
  }
  let text = "";
  if (file !== undefined) {
    text = readFileSync(file, "utf8");
    let parsed: Record<string, unknown>;
    try {
      parsed = parseToml(text);
    } catch (e) {
      if (e instanceof TomlError) {
        const reason = e.message.split("\n")[0]!.replace(/^Invalid TOML document:\s*/, "");
        throw new KeywardenError("KW_ERR_CONFIG_PARSE", { file, line: e.line, column: e.column, reason });
      }
      throw e;
    }
    // smol-toml gives TOML dates as Date objects; the schema has none, so stringify for validation messages.
    checkUnknownKeys(parsed, ConfigSchema, [], (path) => {
      throw new KeywardenError("KW_ERR_CONFIG_UNKNOWN_KEY", {
        key: path.join("."),
        where: `${file}:${locateKey(text, path)}`,
      });
    });
    merged = deepMerge(merged, parsed);
    for (const o of leaves) {
      if (getAt(parsed, o.key.split(".")) !== undefined) {
        sources.set(o.key, { kind: "file", file, line: locateKey(text, o.key.split(".")) });
      }
    }
  }

  for (const o of leaves) {
    const raw = options.env[o.env];
    if (raw === undefined) continue;
    setAt(merged, o.key.split("."), coerce(raw, o.schema));
    sources.set(o.key, { kind: "env", name: o.env });
  }

  for (const [key, value] of Object.entries(options.flags ?? {})) {
    if (value === undefined) continue;
    const o = leaves.find((l) => l.key === key);
    if (o === undefined) throw new Error(`flag maps to unknown config key ${key}`);
    setAt(merged, key.split("."), typeof value === "string" ? coerce(value, o.schema) : value);
    sources.set(key, {
      kind: "flag",
      name: `--${key
        .split(".")
        .pop()!
        .replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
    });
  }

  // Fill defaults inside array items (user rules) after the layers are merged.
  merged = Value.Default(ConfigSchema, merged) as Record<string, unknown>;
  const first = Value.Errors(ConfigSchema, merged).find((e) => e.keyword !== "boolean");
  if (first !== undefined) {
    const path = first.instancePath.split("/").filter((p) => p !== "");
    const leafKey = leaves
      .map((l) => l.key)
      .find((k) => path.join(".") === k || path.join(".").startsWith(k + "."));
    const source = leafKey === undefined ? undefined : sources.get(leafKey);
    const where =
      source?.kind === "file"
        ? `${source.file}:${locateKey(text, path) || source.line}`
        : describeSource(source);
    throw new KeywardenError("KW_ERR_CONFIG_INVALID", {
      key: path.join(".") || "(root)",
      where,
      reason: first.message,
    });
  }

  return Object.freeze({
    config: deepFreeze(merged) as unknown as DeepReadonly<Config>,
    file,
    sources,
  });
}

/**
 * The effective configuration as `key = value  # source` lines, secrets masked.
 *
 * @example
 *   describeConfig(loadConfig({ cwd, env })) // ["home = \"\"  # default", ...]
 */
export function describeConfig(loaded: LoadedConfig): { key: string; value: unknown; source: string }[] {
  return listOptions().map((o) => {
    let value = getAt(loaded.config, o.key.split("."));
    if (o.schema.secret === true && typeof value === "string" && value !== "") {
      value = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? redactUrl(value) : "****";
    }
    return { key: o.key, value, source: describeSource(loaded.sources.get(o.key)) };
  });
}

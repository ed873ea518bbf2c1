import type { SourceItem } from "../source.ts";
import type { ByteReader } from "./byte-reader.ts";
import type { Level } from "./container.ts";
import { ArchiveBudget } from "./limits.ts";
import { looksLikeTar } from "./sniff.ts";

/** The readers of container.ts, passed in to keep the import graph one-way. */
export interface TarReaders {
  readonly tarItems: (
    lv: Level,
    path: string,
    input: ByteReader,
    visit?: (name: string, reader: ByteReader, size: number) => AsyncGenerator<SourceItem>,
  ) => AsyncGenerator<SourceItem>;
  readonly entryItems: (
    lv: Level,
    path: string,
    name: string,
    reader: ByteReader,
    declaredSize: number | undefined,
  ) => AsyncGenerator<SourceItem>;
}

/** Entries of a `docker save` tarball that can hold the image's metadata (JSON, small). */
const METADATA_MAX = 4 * 1024 * 1024;
const FIRST_ENTRY =
  /^(?:\.\/)?(?:blobs\/|[0-9a-f]{64}(?:\/|\.json$)|manifest\.json$|index\.json$|oci-layout$|repositories$)/;

interface ManifestEntry {
  readonly Config?: unknown;
  readonly RepoTags?: unknown;
  readonly Layers?: unknown;
}

interface ImageConfig {
  readonly config?: {
    readonly Env?: unknown;
    readonly Cmd?: unknown;
    readonly Entrypoint?: unknown;
    readonly Labels?: unknown;
    readonly OnBuild?: unknown;
    readonly Healthcheck?: { readonly Test?: unknown };
  };
  readonly history?: unknown;
}

/**
 * True when the first tar entry is named as `docker save` names its entries (legacy
 * `<64 hex>/...` folders, OCI `blobs/`, or the metadata files). Cheap: one header is read.
 * Closes `reader`.
 *
 * @example
 *   if (await isDockerCandidate(open())) ...
 */
export async function isDockerCandidate(reader: ByteReader): Promise<boolean> {
  try {
    return looksLikeDockerSave(await reader.peek(512));
  } catch {
    return false;
  } finally {
    await reader.close();
  }
}

/**
 * The synchronous half of isDockerCandidate: judges the first tar header in `head`.
 *
 * @example
 *   looksLikeDockerSave(firstTarBlock) // true for "blobs/" or "<64 hex>/"
 */
export function looksLikeDockerSave(head: Buffer): boolean {
  if (!looksLikeTar(head)) return false;
  const field = (from: number, to: number): string => {
    const raw = head.subarray(from, to);
    const nul = raw.indexOf(0);
    return raw.subarray(0, nul < 0 ? raw.length : nul).toString("utf8");
  };
  const prefix = head.subarray(257, 262).toString("latin1") === "ustar" ? field(345, 500) : "";
  const name = prefix === "" ? field(0, 100) : `${prefix}/${field(0, 100)}`;
  // A per-file PAX header first (long names) carries no name we can judge: pass one decides.
  return FIRST_ENTRY.test(name) || head[156] === 0x78;
}

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : typeof v === "string" ? [v] : [];

/**
 * The image config as Dockerfile-like lines, the places keys hide: one `ENV` line per
 * variable, `LABEL key=value`, `ENTRYPOINT`, `CMD`, `ONBUILD`, `HEALTHCHECK`, then one
 * `HISTORY <created_by>` line per build step (and `COMMENT <comment>` when present).
 * Findings in it are reported at `<image>!config` with the line of this rendering.
 *
 * @example
 *   renderImageConfig({ config: { Env: ["A=1"] } }) // "ENV A=1\n"
 */
export function renderImageConfig(cfg: ImageConfig): string {
  const lines: string[] = [];
  const c = cfg.config ?? {};
  for (const e of strings(c.Env)) lines.push(`ENV ${e}`);
  if (c.Labels !== null && typeof c.Labels === "object") {
    for (const [k, v] of Object.entries(c.Labels as Record<string, unknown>)) {
      if (typeof v === "string") lines.push(`LABEL ${k}=${v}`);
    }
  }
  if (c.Entrypoint !== undefined && c.Entrypoint !== null)
    lines.push(`ENTRYPOINT ${JSON.stringify(c.Entrypoint)}`);
  if (c.Cmd !== undefined && c.Cmd !== null) lines.push(`CMD ${JSON.stringify(c.Cmd)}`);
  for (const o of strings(c.OnBuild)) lines.push(`ONBUILD ${o}`);
  if (c.Healthcheck?.Test !== undefined) lines.push(`HEALTHCHECK ${JSON.stringify(c.Healthcheck.Test)}`);
  if (Array.isArray(cfg.history)) {
    for (const h of cfg.history as { created_by?: unknown; comment?: unknown }[]) {
      if (typeof h.created_by === "string") lines.push(`HISTORY ${h.created_by}`);
      if (typeof h.comment === "string" && h.comment !== "") lines.push(`COMMENT ${h.comment}`);
    }
  }
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}

function parseJson(buf: Buffer | undefined): unknown {
  if (buf === undefined) return undefined;
  try {
    return JSON.parse(buf.toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

/** `blobs/sha256/<hex>` or `<hex>/layer.tar` to the first 12 hex digits of the digest or id. */
function shortId(name: string): string {
  const m = /([0-9a-f]{12})[0-9a-f]*(?:\/layer\.tar|\.json)?$/.exec(name);
  return m?.[1] ?? name.replace(/[^A-Za-z0-9._-]/g, "_");
}

/**
 * A `docker save` tarball (legacy layout with `manifest.json` and `<id>/layer.tar`, or the
 * OCI layout with `blobs/sha256/...`), scanned as an image. Two passes over the tarball
 * (`open` reopens it): the first keeps the small JSON metadata, the second streams each
 * layer once.
 *
 * Paths: `image.tar!<repo:tag>!config` for the image config (see renderImageConfig) and
 * `image.tar!<repo:tag>!layer-<first 12 hex of the layer id>!etc/app/.env` for a file in a
 * layer; an image without a tag is named `image-<12 hex of its config digest>`. A layer
 * shared by several images is scanned once, under the first. Whiteout files (`.wh.*`) are
 * ignored. A tarball without a usable manifest.json is scanned as a plain tar.
 *
 * @example
 *   yield* dockerImageItems(level, "image.tar", () => new ByteReader(createReadStream(abs)), readers);
 */
export async function* dockerImageItems(
  lv: Level,
  path: string,
  open: () => ByteReader,
  readers: TarReaders,
): AsyncGenerator<SourceItem> {
  const meta = new Map<string, Buffer>();
  // Pass one spends its own budget: the bytes are read again, and counted, in pass two.
  const scout: Level = { ...lv, budget: new ArchiveBudget(lv.ctx.archives) };
  const first = open();
  let broken = false;
  try {
    for await (const item of readers.tarItems(scout, path, first, async function* (name, reader, size) {
      if (
        size > METADATA_MAX ||
        !(name.endsWith(".json") || name.startsWith("blobs/") || name === "repositories")
      )
        return;
      const head = await reader.peek(1);
      if (head[0] !== 0x7b && head[0] !== 0x5b) return;
      const buf = await reader.readAll(METADATA_MAX);
      if (buf !== undefined) meta.set(name, buf);
      yield* [];
    })) {
      if (item.kind === "skipped") broken = true;
    }
  } finally {
    await first.close();
  }
  const manifest = parseJson(meta.get("manifest.json"));
  const images = Array.isArray(manifest) ? (manifest as ManifestEntry[]) : [];
  const layerNames = new Map<string, string>();
  const configNames = new Set<string>();
  const configItems: SourceItem[] = [];
  for (const img of images) {
    const config = typeof img.Config === "string" ? img.Config : undefined;
    const tag = strings(img.RepoTags)[0] ?? `image-${config === undefined ? "unknown" : shortId(config)}`;
    const imagePath = `${path}!${tag}`;
    if (config !== undefined) {
      configNames.add(config);
      const cfg = parseJson(meta.get(config));
      if (cfg !== null && typeof cfg === "object") {
        const text = renderImageConfig(cfg);
        const bytes = meta.get(config)!.length;
        const chunk = {
          path: `${imagePath}!config`,
          text,
          line: 1,
          column: 1,
          ownedTo: text.length,
          bytes,
          first: true,
        };
        configItems.push({ kind: "chunk", chunk });
      } else
        configItems.push({
          kind: "skipped",
          skipped: { path: `${imagePath}!config`, reason: "image config missing or not JSON" },
        });
    }
    for (const layer of strings(img.Layers)) {
      if (!layerNames.has(layer)) layerNames.set(layer, `${imagePath}!layer-${shortId(layer)}`);
    }
  }
  const second = open();
  try {
    if (images.length === 0 || broken) {
      // Not an image after all (or unreadable): a plain tar, which also reports the damage.
      yield* readers.tarItems(lv, path, second);
      return;
    }
    yield* configItems;
    const metadata = (name: string): boolean =>
      configNames.has(name) ||
      meta.has(name) ||
      name === "oci-layout" ||
      /^[0-9a-f]{64}\/(?:json|VERSION)$/.test(name);
    yield* readers.tarItems(lv, path, second, async function* (name, reader, size) {
      const layerPath = layerNames.get(name);
      if (layerPath === undefined) {
        if (!metadata(name)) yield* readers.entryItems(lv, `${path}!${name}`, name, reader, size);
        return;
      }
      // A layer is a tar, or a tar.gz in some OCI layouts: entryItems opens either, one level down.
      yield* readers.entryItems(lv, layerPath, name, reader, size);
    });
  } finally {
    await second.close();
  }
}

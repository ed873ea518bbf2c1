/**
 * A short-lived, in-memory cache of unwrapped data keys, so that a hot secret read by many
 * requests is unwrapped by the key provider once per TTL instead of once per read (with a
 * remote KMS or an HSM an unwrap is a network call or a device operation). The security
 * cost and its bounds are in NOTES.md beside this file ("Data key cache").
 */
import type { KeyObject } from "node:crypto";

/** How long an unwrapped data key stays cached after it was unwrapped. */
export const DATA_KEY_TTL_MS = 30_000;
/** At most this many keys are cached; the oldest is dropped first. */
export const DATA_KEY_CACHE_SIZE = 1024;

interface Entry {
  readonly key: KeyObject;
  readonly expires: number;
}

export interface DataKeyCache {
  /** The cached key for `id`, if it is younger than the TTL. */
  get(id: string): KeyObject | undefined;
  set(id: string, key: KeyObject): void;
  /** Drops every key (sealing, closing). */
  clear(): void;
  readonly size: number;
}

/**
 * Keys are KeyObjects: their bytes live in native memory only, never in the JavaScript
 * heap, and are freed when the object is collected after eviction (node:crypto offers no
 * way to zero them earlier). The id must name everything the key was unwrapped for (version
 * row, KEK version, wrapped blob, binding), so that a changed row never hits a stale entry.
 *
 * @example
 *   const cache = dataKeyCache(() => Date.now());
 *   cache.set(id, keyObjectOf(dataKey)); dataKey.fill(0);
 *   const k = cache.get(id);
 */
export function dataKeyCache(
  now: () => number,
  ttlMs: number = DATA_KEY_TTL_MS,
  maxSize: number = DATA_KEY_CACHE_SIZE,
): DataKeyCache {
  const entries = new Map<string, Entry>();
  return {
    get(id) {
      const e = entries.get(id);
      if (e === undefined) return undefined;
      if (now() < e.expires) return e.key;
      entries.delete(id);
      return undefined;
    },
    set(id, key) {
      if (ttlMs <= 0 || maxSize <= 0) return;
      entries.delete(id);
      // Map order is insertion order: the first key is the oldest.
      while (entries.size >= maxSize) entries.delete(entries.keys().next().value!);
      entries.set(id, { key, expires: now() + ttlMs });
    },
    clear() {
      entries.clear();
    },
    get size() {
      return entries.size;
    },
  };
}

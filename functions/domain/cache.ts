/**
 * The warm container's caches (users, group members): bounded, least recently used first out,
 * entries expiring a fixed time after they were stored. lru-cache does the bookkeeping; this
 * adds the one policy of ours, `getOrLoad`, which never caches a miss. A container serves one
 * request at a time and lives minutes, and nothing is coherent across containers, which is
 * why entries live seconds or minutes, not hours (unless they can never change).
 */
import { LRUCache } from 'lru-cache';

export interface TtlCacheOptions {
  /** How long an entry is served after it was stored. */
  ttlMs: number;
  /** Bound on entries; the least recently used one goes first. */
  maxEntries: number;
  /** Milliseconds on any monotonic scale; injectable so tests control time. */
  clock?: () => number;
}

export class TtlCache<K extends {}, V extends {}> {
  private readonly entries: LRUCache<K, V>;

  constructor(options: TtlCacheOptions) {
    if (!(options.ttlMs > 0)) throw new RangeError('ttlMs must be positive');
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    this.entries = new LRUCache<K, V>({
      max: options.maxEntries,
      ttl: options.ttlMs,
      // Read the clock on every check (the default reuses a reading for a millisecond or more).
      ttlResolution: 0,
      ...(options.clock ? { perf: { now: options.clock } } : {}),
    });
  }

  /** The live value for `key`, or undefined when absent or expired. */
  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  /** Stores `value` for the cache's TTL, or for `ttlMs` when given. */
  set(key: K, value: V, ttlMs?: number): void {
    this.entries.set(key, value, ttlMs === undefined ? undefined : { ttl: ttlMs });
  }

  /**
   * The cached value, or the loader's, which is stored when it is not undefined. Misses are
   * not cached: a user who registers a moment after a failed lookup must not wait a TTL.
   */
  async getOrLoad(key: K, load: (key: K) => Promise<V | undefined>): Promise<V | undefined> {
    const cached = this.entries.get(key);
    if (cached !== undefined) return cached;
    const loaded = await load(key);
    // The loader may have stored it already, with a TTL of its own.
    if (loaded !== undefined && !this.entries.has(key)) this.entries.set(key, loaded);
    return loaded;
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  /** Entries held, expired ones included until they are next touched. */
  get size(): number {
    return this.entries.size;
  }
}

/**
 * A tiny in-memory TTL cache for a warm Lambda container. A container serves one request at
 * a time and lives minutes, so a Map with expiry and a size bound is all it takes; there is
 * no cross-container coherence, which is why entries live seconds, not hours.
 */

export interface TtlCacheOptions {
  /** How long an entry is served after it was stored. */
  ttlMs: number;
  /** Bound on entries; the least recently used one goes first. */
  maxEntries: number;
  /** Milliseconds since the epoch; injectable so tests control time. */
  clock?: () => number;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
}

/** A bounded, least-recently-used map whose entries expire `ttlMs` after they were set. */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, Entry<V>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly clock: () => number;

  constructor(options: TtlCacheOptions) {
    if (!(options.ttlMs > 0)) throw new RangeError('ttlMs must be positive');
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    this.ttlMs = options.ttlMs;
    this.maxEntries = options.maxEntries;
    this.clock = options.clock ?? Date.now;
  }

  /** The live value for `key`, or undefined when absent or expired. */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.clock()) {
      this.entries.delete(key);
      return undefined;
    }
    // Re-inserting moves the key to the end of the Map's order: the most recently used.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.clock() + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      // A Map iterates in insertion order, so the first key is the least recently used.
      const oldest = this.entries.keys().next().value as K;
      this.entries.delete(oldest);
    }
  }

  /**
   * The cached value, or the loader's, which is stored when it is not undefined. Misses are
   * not cached: a user who registers a moment after a failed lookup must not wait a TTL.
   */
  async getOrLoad(key: K, load: (key: K) => Promise<V | undefined>): Promise<V | undefined> {
    const cached = this.get(key);
    if (cached !== undefined) return cached;
    const loaded = await load(key);
    if (loaded !== undefined) this.set(key, loaded);
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

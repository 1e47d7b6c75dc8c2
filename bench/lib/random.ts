/**
 * Seeded randomness for the soak, the fuzz and anything else that draws: one small PRNG
 * (mulberry32) so that a run is repeated by giving its seed back, and the seed a run prints.
 */

/** A generator of numbers in [0, 1) from `seed` (any 32-bit integer). */
export function seededRandom(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A second, independent stream of the same seed (one per simulated person, say). */
export function derivedSeed(seed: number, index: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) | 0;
}

/** A fresh seed when none was given (printed by the run, so it can be given back). */
export function newSeed(): number {
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}

/** One of `items`, or undefined when there are none. */
export function pickWith<T>(random: () => number, items: readonly T[]): T | undefined {
  return items[Math.floor(random() * items.length)];
}

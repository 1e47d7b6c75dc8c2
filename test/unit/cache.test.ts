import { TtlCache } from '../../functions/domain/cache';
import { createCachedUserDirectory } from '../../functions/domain/user-directory';
import type { User } from '../../functions/data/users-repository';

function manualClock(start = 1_000_000) {
  let now = start;
  return { clock: () => now, advance: (ms: number) => void (now += ms) };
}

describe('TtlCache', () => {
  it('serves an entry until its TTL has passed, then forgets it', () => {
    // Prepare
    const time = manualClock();
    const cache = new TtlCache<string, number>({ ttlMs: 60_000, maxEntries: 10, clock: time.clock });
    cache.set('a', 1);

    // Act
    time.advance(60_000);
    const beforeExpiry = cache.get('a');
    time.advance(1);
    const atExpiry = cache.get('a');

    // Assess
    expect(beforeExpiry).toBe(1);
    expect(atExpiry).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('evicts the least recently used entry beyond maxEntries', () => {
    // Prepare
    const cache = new TtlCache<string, number>({ ttlMs: 60_000, maxEntries: 2, clock: manualClock().clock });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.get('a');

    // Act
    cache.set('c', 3);

    // Assess
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
  });

  it('restarts the TTL when an entry is set again', () => {
    // Prepare
    const time = manualClock();
    const cache = new TtlCache<string, number>({ ttlMs: 1000, maxEntries: 10, clock: time.clock });
    cache.set('a', 1);
    time.advance(900);

    // Act
    cache.set('a', 2);
    time.advance(900);

    // Assess
    expect(cache.get('a')).toBe(2);
  });

  it('loads a miss once, serves the hit after, and does not cache undefined', async () => {
    // Prepare
    const time = manualClock();
    const cache = new TtlCache<string, string>({ ttlMs: 1000, maxEntries: 10, clock: time.clock });
    const load = jest.fn(async (key: string) => (key === 'known' ? `value of ${key}` : undefined));

    // Act
    const first = await cache.getOrLoad('known', load);
    const second = await cache.getOrLoad('known', load);
    const missing1 = await cache.getOrLoad('unknown', load);
    const missing2 = await cache.getOrLoad('unknown', load);
    time.advance(1001);
    const afterExpiry = await cache.getOrLoad('known', load);

    // Assess
    expect([first, second, afterExpiry]).toEqual(['value of known', 'value of known', 'value of known']);
    expect([missing1, missing2]).toEqual([undefined, undefined]);
    expect(load.mock.calls.map(([key]) => key)).toEqual(['known', 'unknown', 'unknown', 'known']);
  });

  it('refuses a non-positive TTL or size', () => {
    // Prepare
    const build = (ttlMs: number, maxEntries: number) => () => new TtlCache({ ttlMs, maxEntries });

    // Act / Assess
    expect(build(0, 1)).toThrow(RangeError);
    expect(build(1, 0)).toThrow(RangeError);
    expect(build(1, 1.5)).toThrow(RangeError);
  });
});

describe('createCachedUserDirectory', () => {
  const londo: User = { uuid: 'u-londo', display_name: 'Londo Mollari', handle: 'londo', cognito_user_id: 'sub-londo' };

  it('answers repeated lookups by sub and by handle from one query within the TTL', async () => {
    // Prepare
    const time = manualClock();
    const users = {
      findByCognitoUserId: jest.fn(async (sub: string) => (sub === londo.cognito_user_id ? londo : undefined)),
      findByHandle: jest.fn(async (handle: string) => (handle === londo.handle ? londo : undefined)),
    };
    const directory = createCachedUserDirectory(users, { ttlMs: 60_000, clock: time.clock });

    // Act
    const bySub = await directory.findByCognitoUserId('sub-londo');
    const byHandle = await directory.findByHandle('londo');
    time.advance(60_001);
    const afterTtl = await directory.findByHandle('londo');

    // Assess
    expect(bySub).toEqual(londo);
    expect(byHandle).toEqual(londo);
    expect(afterTtl).toEqual(londo);
    expect(users.findByCognitoUserId).toHaveBeenCalledTimes(1);
    // The handle lookup was served by the entry the sub lookup stored, until it expired.
    expect(users.findByHandle).toHaveBeenCalledTimes(1);
  });

  it('asks again for a sub that had no user, so a user registered since is found at once', async () => {
    // Prepare
    let registered = false;
    const users = {
      findByCognitoUserId: jest.fn(async () => (registered ? londo : undefined)),
      findByHandle: jest.fn(async () => undefined),
    };
    const directory = createCachedUserDirectory(users);

    // Act
    const before = await directory.findByCognitoUserId('sub-londo');
    registered = true;
    const after = await directory.findByCognitoUserId('sub-londo');

    // Assess
    expect(before).toBeUndefined();
    expect(after).toEqual(londo);
  });
});

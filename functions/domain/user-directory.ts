/**
 * The users the API needs (the caller by Cognito `sub`, the other party by handle), read
 * from PostgreSQL and kept for a short while in the warm container: every request resolves
 * its caller, and a conversation's requests come in bursts.
 */
import { TtlCache } from './cache';
import type { User, UsersRepository } from '../data/users-repository';

/** Who the API can look up; the port the domain depends on. */
export interface UserDirectory {
  findByCognitoUserId(sub: string): Promise<User | undefined>;
  findByHandle(handle: string): Promise<User | undefined>;
}

export interface CachedUserDirectoryOptions {
  /** A renamed user shows the old name at most this long (default 60 s). */
  ttlMs?: number;
  /** Per lookup kind (default 1000); a user row is a few hundred bytes. */
  maxEntries?: number;
  clock?: () => number;
}

/**
 * Cached lookups over the users repository. Found users are cached under both keys they
 * answer to; misses are not cached (see {@link TtlCache.getOrLoad}).
 */
export function createCachedUserDirectory(
  users: Pick<UsersRepository, 'findByCognitoUserId' | 'findByHandle'>,
  options: CachedUserDirectoryOptions = {},
): UserDirectory {
  const cacheOptions = { ttlMs: options.ttlMs ?? 60_000, maxEntries: options.maxEntries ?? 1000, clock: options.clock };
  const bySub = new TtlCache<string, User>(cacheOptions);
  const byHandle = new TtlCache<string, User>(cacheOptions);

  function remember(user: User | undefined): User | undefined {
    if (user === undefined) return undefined;
    byHandle.set(user.handle, user);
    if (user.cognito_user_id) bySub.set(user.cognito_user_id, user);
    return user;
  }

  return {
    findByCognitoUserId: (sub) => bySub.getOrLoad(sub, async (key) => remember(await users.findByCognitoUserId(key))),
    findByHandle: (handle) => byHandle.getOrLoad(handle, async (key) => remember(await users.findByHandle(key))),
  };
}

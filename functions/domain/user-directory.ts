/**
 * The users the API needs (the caller by Cognito `sub`, the other party by handle), in three
 * places, each asked only when the one before misses:
 *
 * 1. the warm container's cache (a request resolves its caller, and requests come in bursts);
 * 2. the user directory in DynamoDB, a copy of what the API needs of each user, written on
 *    every PostgreSQL hit: a new container finds the caller with one GetItem;
 * 3. PostgreSQL itself, over a connection opened for the query and closed after it.
 *
 * PostgreSQL caps how many connections there are, and Lambda scales to far more containers
 * than that: with the directory in front, a traffic spike's new containers do not go to
 * PostgreSQL at all, and those that do hold no connection afterwards. A user is copied for
 * {@link DIRECTORY_TTL_SECONDS}, and a container keeps one no longer than its copy answers, so
 * a change in PostgreSQL shows within that time. Misses are cached nowhere: a user who signs up
 * a moment after a failed lookup is found at once.
 */
import { DIRECTORY_TTL_SECONDS } from '../data/model';
import type { DirectoryEntry } from '../data/directory-repository';
import type { User } from '../data/users-repository';
import { TtlCache } from './cache';

/** Who the API can look up; the port the domain depends on. */
export interface UserDirectory {
  findByCognitoUserId(sub: string): Promise<User | undefined>;
  findByHandle(handle: string): Promise<User | undefined>;
}

/** The source of truth (PostgreSQL's users table). */
export type UserSource = UserDirectory;

/** The copy in DynamoDB (`data/directory-repository.ts`). */
interface DirectoryCopy {
  bySub(sub: string): Promise<DirectoryEntry | undefined>;
  byHandle(handle: string): Promise<DirectoryEntry | undefined>;
  remember(user: User): Promise<void>;
}

export interface CachedUserDirectoryOptions {
  /** A renamed user shows the old name at most this long (default {@link DIRECTORY_TTL_SECONDS}). */
  ttlMs?: number;
  /** Per lookup kind (default 1000); a user is a few hundred bytes. */
  maxEntries?: number;
  clock?: () => number;
  /** The copy between the cache and the source; absent, the source is asked on every miss. */
  copy?: DirectoryCopy;
  /** Told when the copy could not be read or written: the lookup goes on without it. */
  onCopyError?: (error: unknown) => void;
}

/** Cached lookups over the source (and its copy), found users cached under both keys. */
export function createCachedUserDirectory(source: UserSource, options: CachedUserDirectoryOptions = {}): UserDirectory {
  const ttlMs = options.ttlMs ?? DIRECTORY_TTL_SECONDS * 1000;
  const clock = options.clock ?? Date.now;
  const cacheOptions = { ttlMs, maxEntries: options.maxEntries ?? 1000, clock };
  const bySub = new TtlCache<string, User>(cacheOptions);
  const byHandle = new TtlCache<string, User>(cacheOptions);
  const { copy } = options;
  const onCopyError = options.onCopyError ?? (() => {});

  /** Caches a user under both keys, no longer than the copy it came from answers. */
  function remember(user: User, expiresAtMs?: number): User {
    const ttl = expiresAtMs === undefined ? undefined : Math.max(1, Math.min(ttlMs, expiresAtMs - clock()));
    byHandle.set(user.handle, user, ttl);
    if (user.cognito_user_id) bySub.set(user.cognito_user_id, user, ttl);
    return user;
  }

  async function lookUp(
    fromCopy: (() => Promise<DirectoryEntry | undefined>) | undefined,
    fromSource: () => Promise<User | undefined>,
  ): Promise<User | undefined> {
    if (fromCopy) {
      const entry = await fromCopy().catch((error: unknown) => void onCopyError(error));
      if (entry) return remember(entry.user, entry.expiresAtMs);
    }
    const user = await fromSource();
    if (user === undefined) return undefined;
    if (copy) await copy.remember(user).catch(onCopyError);
    return remember(user);
  }

  return {
    findByCognitoUserId: (sub) => bySub.getOrLoad(sub, () => lookUp(copy && (() => copy.bySub(sub)), () => source.findByCognitoUserId(sub))),
    findByHandle: (handle) => byHandle.getOrLoad(handle, () => lookUp(copy && (() => copy.byHandle(handle)), () => source.findByHandle(handle))),
  };
}

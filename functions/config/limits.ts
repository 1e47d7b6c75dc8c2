/**
 * Per-user limits, so one user cannot degrade the others: how many messages a user may POST
 * in a window, and how many WebSockets a user may hold open. One definition, read by the
 * deployment (`CRUDDUR_*` settings, docs/deploy.md) and by `npm start` alike, and passed to
 * the functions in their environment.
 */
import { ConfigurationError } from '../errors';

export interface PostRateLimit {
  /** Messages a user may POST in one window. */
  limit: number;
  /** The window's length; windows start at multiples of it (epoch time). */
  windowSeconds: number;
}

export interface UserLimits {
  posts: PostRateLimit;
  /** Open WebSockets per user; the next one is refused (429) until one closes. */
  connectionsPerUser: number;
}

/**
 * 20 messages in 10 s: faster than anyone types (a pasted burst included), slow enough that
 * one flooding token costs the table a write a second per user at most beyond that. 10
 * WebSockets: tabs and devices of one person.
 */
export const DEFAULT_USER_LIMITS: UserLimits = { posts: { limit: 20, windowSeconds: 10 }, connectionsPerUser: 10 };

/** The settings' names: for the deployment and `npm start` (`CRUDDUR_*`), and in the functions' environment. */
export const LIMIT_SETTINGS = {
  posts: { setting: 'CRUDDUR_POST_RATE_LIMIT', functionVariable: 'POST_RATE_LIMIT' },
  connectionsPerUser: { setting: 'CRUDDUR_WEBSOCKET_CONNECTIONS_PER_USER', functionVariable: 'WEBSOCKET_CONNECTIONS_PER_USER' },
} as const;

/** `20/10s`: a count per a window in seconds. @throws ConfigurationError otherwise. */
export function parsePostRateLimit(raw: string, name: string): PostRateLimit {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*s?\s*$/.exec(raw);
  const limit = Number(match?.[1]);
  const windowSeconds = Number(match?.[2]);
  if (!match || limit < 1 || limit > 100_000 || windowSeconds < 1 || windowSeconds > 3600) {
    throw new ConfigurationError(`${name} must be <messages>/<seconds>s, e.g. 20/10s (1 to 100000 messages in 1 to 3600 s), got "${raw}"`);
  }
  return { limit, windowSeconds };
}

export const formatPostRateLimit = (posts: PostRateLimit) => `${posts.limit}/${posts.windowSeconds}s`;

function parseConnections(raw: string, name: string): number {
  const count = Number(raw.trim());
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw new ConfigurationError(`${name} must be a whole number from 1 to 1000, got "${raw}"`);
  return count;
}

const given = (env: NodeJS.ProcessEnv, name: string) => (env[name]?.trim() ? env[name] : undefined);

/** The limits `env` gives under these names (`setting` or `functionVariable`), the defaults where unset. @throws ConfigurationError for a malformed one. */
function userLimitsFrom(env: NodeJS.ProcessEnv, names: 'setting' | 'functionVariable'): UserLimits {
  const postsName = LIMIT_SETTINGS.posts[names];
  const connectionsName = LIMIT_SETTINGS.connectionsPerUser[names];
  const posts = given(env, postsName);
  const connections = given(env, connectionsName);
  return {
    posts: posts === undefined ? DEFAULT_USER_LIMITS.posts : parsePostRateLimit(posts, postsName),
    connectionsPerUser: connections === undefined ? DEFAULT_USER_LIMITS.connectionsPerUser : parseConnections(connections, connectionsName),
  };
}

/** The limits the `CRUDDUR_*` settings ask for (the deployment, `npm start`). */
export const userLimitsFromSettings = (env: NodeJS.ProcessEnv = process.env) => userLimitsFrom(env, 'setting');

/** A function's limits, from the environment the deployment (or the emulator) gave it. */
export const userLimitsFromFunctionEnv = (env: NodeJS.ProcessEnv = process.env) => userLimitsFrom(env, 'functionVariable');

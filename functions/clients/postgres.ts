/**
 * The users database client. Apart from the SDK clients, so that functions without
 * `usersDatabase` (the stream consumers) do not bundle `pg`.
 *
 * One connection per query, closed right after it (the operator scripts, the tests and the
 * benchmarks, ordinary processes, use a pool: `postgres-pool.ts`). Lambda freezes a container between invocations, and a pool's idle timer
 *   never fires in a frozen container: each warm container would hold its connection for its
 *   whole life, and a traffic spike's containers would take every connection the database
 *   has. The functions ask PostgreSQL only when the user directory in DynamoDB misses
 *   (`domain/user-directory.ts`), so a connection per query costs little, and none is held.
 */
import type pg from 'pg';
import { UsersDatabaseBusyError } from '../errors';

/** What a users repository needs of PostgreSQL: `pg.Pool` has it, and so has the short-lived client. */
export interface Queryable {
  query<Row extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<{ rows: Row[] }>;
}

/** Failures that say "no connection for you now", not "broken": retried, then a 503. */
const BUSY_CODES = new Set([
  '53300', // too_many_connections (also "remaining connection slots are reserved")
  '57P03', // cannot_connect_now: the server is starting or shutting down
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
]);
/** The server refused the password: perhaps the secret was rotated since it was read. */
const AUTHENTICATION_FAILED = '28P01';

export interface ShortLivedPostgresOptions {
  /** The connection string; `fresh` asks for it afresh (not from a cache), after a refused login. */
  connectionString: (options?: { fresh?: boolean }) => Promise<string>;
  /** Connections tried in all before the database counts as busy (default 3). */
  attempts?: number;
  /** Pause before the second attempt, doubling (default 100 ms; jittered). */
  baseDelayMs?: number;
  /** False once too little time is left to try again. */
  canRetry?: () => boolean;
  connectionTimeoutMillis?: number;
}

const isBusy = (error: unknown) => {
  const code = (error as { code?: unknown }).code;
  return (
    (typeof code === 'string' && BUSY_CODES.has(code)) ||
    /timeout exceeded when trying to connect|Connection terminated unexpectedly/i.test((error as Error).message ?? '')
  );
};

/**
 * One connection per query: connect, query, close, whatever happens. A database at its
 * connection limit is tried again a few times (its connections come and go in milliseconds),
 * then answered as {@link UsersDatabaseBusyError} (503 with Retry-After), never as a fault.
 */
export function createShortLivedPostgres(options: ShortLivedPostgresOptions): Queryable {
  const attempts = options.attempts ?? 3;
  const baseDelayMs = options.baseDelayMs ?? 100;
  const canRetry = options.canRetry ?? (() => true);
  return {
    async query<Row extends pg.QueryResultRow>(text: string, values?: unknown[]) {
      // Loaded on the first miss of the user directory: a container that never misses never loads it.
      const { default: pgModule } = await import('pg');
      let fresh = false;
      for (let attempt = 1; ; attempt += 1) {
        const client = new pgModule.Client({
          connectionString: await options.connectionString({ fresh }),
          connectionTimeoutMillis: options.connectionTimeoutMillis ?? 3000,
        });
        // A connection dropped under the client must not crash the process: the query fails instead.
        client.on('error', () => {});
        try {
          await client.connect();
          const result = await client.query<Row>(text, values);
          return { rows: result.rows };
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          if (code === AUTHENTICATION_FAILED && !fresh) {
            fresh = true;
            continue;
          }
          if (!isBusy(error)) throw error;
          if (attempt >= attempts || !canRetry()) throw new UsersDatabaseBusyError('The users database has no connection to spare', { cause: error });
          await new Promise((resolve) => setTimeout(resolve, Math.random() * baseDelayMs * 2 ** (attempt - 1)));
        } finally {
          await client.end().catch(() => {});
        }
      }
    },
  };
}

/**
 * The users database client. Apart from the SDK clients, so that functions without
 * `usersDatabase` (the stream consumer) do not bundle `pg`.
 */
import pg from 'pg';

/** A `pg` pool; small, because a Lambda container serves one request at a time. */
export function createPgPool(connectionString: string, max = 4): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30000 });
  // An idle client that loses its connection (a frozen Lambda container, a restarted
  // server) emits 'error' on the pool; unheard, that would crash the process. The pool
  // drops the client and the next query connects afresh.
  pool.on('error', () => {});
  return pool;
}

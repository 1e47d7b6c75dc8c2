/**
 * A `pg` pool, for the callers that are ordinary processes: the operator scripts, the tests,
 * the benchmarks. The Lambda functions use one connection per query instead (`postgres.ts`
 * says why).
 */
import pg from 'pg';

/** A small pool: each of these processes asks little of the database at a time. */
export function createPgPool(connectionString: string, max = 4): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30000 });
  // An idle client that loses its connection (a restarted server) emits 'error' on the pool;
  // unheard, that would crash the process. The pool drops the client and the next query connects afresh.
  pool.on('error', () => {});
  return pool;
}

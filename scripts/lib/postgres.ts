/** A `pg` pool of the target's users database for the span of one piece of work. */
import type { Pool } from 'pg';
import { createPgPool } from '../../functions/clients/postgres-pool';
import { databaseUrlOf, type Targets } from './targets';

export async function withPool<T>(targets: Targets, work: (pool: Pool) => Promise<T>): Promise<T> {
  const pool = createPgPool(databaseUrlOf(targets), 2);
  try {
    return await work(pool);
  } finally {
    await pool.end();
  }
}

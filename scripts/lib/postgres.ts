/** A `pg` pool for scripts, pointed by `--prod`. */
import type { Pool } from 'pg';
import { createPgPool } from '../../functions/commons/clients';
import { postgresUrl } from './targets';

export async function withPool<T>(prod: boolean, work: (pool: Pool) => Promise<T>): Promise<T> {
  const pool = createPgPool(postgresUrl(prod), 2);
  try {
    return await work(pool);
  } finally {
    await pool.end();
  }
}

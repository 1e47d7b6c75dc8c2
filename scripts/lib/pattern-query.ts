/** What the pattern-query scripts share: repositories with capacity reporting, and readable lines. */
import { reportConsumedCapacity, totalUnits } from './capacity';
import { createPgPool } from '../../functions/clients/postgres-pool';
import { NotFoundError } from '../../functions/errors';
import { createMessagesRepository } from '../../functions/data/messages-repository';
import { createUsersRepository, type User } from '../../functions/data/users-repository';
import type { Output } from './cli';
import { databaseUrlOf, documentClientOf, type Targets } from './targets';

export const DEFAULT_HANDLE = 'andrewbrown';

/** Runs `work` with both repositories and prints the capacity its DynamoDB requests consumed. */
export async function withRepositories<T>(
  targets: Targets,
  out: Output,
  work: (repos: { messages: ReturnType<typeof createMessagesRepository>; userByHandle(handle: string): Promise<User> }) => Promise<T>,
): Promise<T> {
  const client = documentClientOf(targets);
  const pool = createPgPool(databaseUrlOf(targets), 1);
  const consumed: string[] = [];
  reportConsumedCapacity(client, (entry) => consumed.push(`${entry.command}: ${totalUnits(entry)} capacity units`));
  try {
    const users = createUsersRepository(pool);
    const result = await work({
      messages: createMessagesRepository(client, { tableName: targets.tableName }),
      async userByHandle(handle) {
        const user = await users.findByHandle(handle);
        if (!user) throw new NotFoundError(`No user with handle "${handle}" in PostgreSQL`);
        return user;
      },
    });
    out.log('');
    for (const line of consumed) out.log(`Consumed capacity, ${line}`);
    return result;
  } finally {
    client.destroy();
    await pool.end();
  }
}

/** A timestamp in the reader's time, or as it is when it is none (an unmigrated item has none). */
export function localTime(iso: string | undefined): string {
  const date = new Date(iso ?? '');
  return Number.isNaN(date.getTime()) ? String(iso ?? '(no time)') : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function parseLimit(raw: string | undefined, fallback = 20): number {
  if (raw === undefined) return fallback;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new Error('--limit must be an integer from 1 to 100');
  return limit;
}

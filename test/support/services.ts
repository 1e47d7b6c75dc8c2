/** What an integration suite needs of the services global-setup started. */
import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Pool } from 'pg';
import { createPgPool } from '../../functions/clients/postgres-pool';
import { localDocumentClient } from '../../local/aws';
import { localEndpoints, localPorts } from '../../local/services/registry';
import { ensureTable } from '../../scripts/lib/table';
import { applyUsersSchema } from '../../scripts/lib/users-schema';

/** The ports of the services global-setup started (it hands them to the workers in the environment). */
export function servicePorts() {
  if (!process.env.DYNAMODB_PORT) throw new Error('Integration tests need the services of test/support/global-setup.ts');
  return localPorts(process.env);
}

export function endpoints() {
  return localEndpoints(servicePorts());
}

/** A short unique suffix for names a suite creates (tables, handles, pools). */
export function unique(prefix = ''): string {
  return `${prefix}${randomUUID().replace(/-/g, '').slice(0, 10)}`;
}

export interface TestTable {
  tableName: string;
  client: DynamoDBDocumentClient;
  drop(): Promise<void>;
}

/** A fresh messages table of the real schema, in DynamoDB Local. */
export async function createTestTable(): Promise<TestTable> {
  const tableName = unique('cruddur-messages-test-');
  const client = localDocumentClient(endpoints().dynamodb);
  await ensureTable(client as unknown as DynamoDBClient, tableName);
  return {
    tableName,
    client,
    async drop() {
      await client.send(new DeleteTableCommand({ TableName: tableName }));
      client.destroy();
    },
  };
}

/** A pool on the shared PostgreSQL with the users schema applied. */
export async function createTestPool(): Promise<Pool> {
  const pool = createPgPool(endpoints().postgres);
  await applyUsersSchema(pool);
  return pool;
}

/** Inserts users with unique handles and returns them. */
export async function insertUsers(pool: Pool, count: number, prefix = 'user') {
  const users: { uuid: string; handle: string; display_name: string; email: string }[] = [];
  for (let index = 0; index < count; index += 1) {
    const handle = unique(`${prefix}${index}_`);
    const display_name = `Test ${prefix} ${index}`;
    const result = await pool.query<{ uuid: string }>(
      'INSERT INTO public.users (display_name, handle, email) VALUES ($1, $2, $3) RETURNING uuid::text AS uuid',
      [display_name, handle, `${handle}@example.test`],
    );
    users.push({ uuid: result.rows[0]!.uuid, handle, display_name, email: `${handle}@example.test` });
  }
  return users;
}

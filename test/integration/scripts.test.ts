/** The observable effect of every script, run as its CLI runs it, against the real local services. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { DeleteTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createOriginalMessages, createOriginalTable } from '../../bench/lib/original';
import type { Pool } from 'pg';
import { localDocumentClient } from '../../local/aws';
import { DEFAULT_TABLE_NAME, GROUP_SK_INDEX } from '../../functions/data/model';
import * as dbSchemaLoad from '../../scripts/db/schema-load';
import * as dbSeed from '../../scripts/db/seed';
import * as updateCognitoUserIds from '../../scripts/db/update-cognito-user-ids';
import * as drop from '../../scripts/ddb/drop';
import * as getConversation from '../../scripts/ddb/get-conversation';
import * as listConversations from '../../scripts/ddb/list-conversations';
import * as listTables from '../../scripts/ddb/list-tables';
import * as scan from '../../scripts/ddb/scan';
import * as schemaLoad from '../../scripts/ddb/schema-load';
import * as seed from '../../scripts/ddb/seed';
import { createCognitoClient, ensureLocalPool, ensurePoolUser } from '../../scripts/lib/cognito';
import { SEED_USERS } from '../../scripts/lib/seed-users';
import { SEED_CONVERSATIONS } from '../../scripts/lib/seed-conversations';
import { getFreePort } from '../../local/services/process';
import { runScriptInProcess } from '../support/script-runner';
import { createTestPool, endpoints, insertUsers, unique } from '../support/services';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');

describe('DynamoDB scripts', () => {
  const tableName = unique('cruddur-messages-scripts-');
  const env = { TABLE_NAME: tableName };
  const lowLevel = () => localDocumentClient(endpoints().dynamodb) as unknown as DynamoDBClient;

  beforeAll(async () => {
    // ddb:seed needs the seed users in PostgreSQL.
    expect((await runScriptInProcess(dbSchemaLoad)).code).toBe(0);
    expect((await runScriptInProcess(dbSeed)).code).toBe(0);
  });

  it('ddb:schema-load creates table, GSI and stream, and reports an existing table with exit 0', async () => {
    // Act
    const first = await runScriptInProcess(schemaLoad, [], env);
    const second = await runScriptInProcess(schemaLoad, [], env);

    // Assess
    expect(first).toMatchObject({ code: 0 });
    expect(first.stdout[0]).toMatch(/^Created table /);
    expect(second).toMatchObject({ code: 0 });
    expect(second.stdout[0]).toMatch(/already exists/);
    const client = lowLevel();
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    client.destroy();
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(Table?.GlobalSecondaryIndexes?.[0]).toMatchObject({
      IndexName: GROUP_SK_INDEX,
      KeySchema: [
        { AttributeName: 'message_group_uuid', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    });
    expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_IMAGE' });
  });

  it('ddb:seed writes both conversations once; a re-run adds nothing', async () => {
    // Act
    const first = await runScriptInProcess(seed, [], env);
    const before = await runScriptInProcess(scan, [], env);
    const second = await runScriptInProcess(seed, [], env);
    const after = await runScriptInProcess(scan, [], env);

    // Assess
    expect(first.code).toBe(0);
    expect(first.stdout.join('\n')).toMatch(/andrewbrown and bayko: 52 messages in group/);
    expect(second.stdout.join('\n')).toMatch(/andrewbrown and bayko: already have a group, skipped/);
    const messages = SEED_CONVERSATIONS.reduce((sum, conversation) => sum + conversation.lines.length, 0);
    // Per conversation: a pair item, a group item and two summaries besides the messages.
    expect(before.stdout).toHaveLength(messages + 4 * SEED_CONVERSATIONS.length);
    expect(after.stdout).toEqual(before.stdout);
    expect(before.stderr.at(-1)).toBe(`${before.stdout.length} items`);
  });

  it('ddb:seed skips a pair that has a conversation written by the original (no pair item), and seeds the others', async () => {
    // Prepare: the original's seed wrote andrewbrown and bayko's conversation into a table of its format.
    const originalTable = unique('cruddur-messages-original-seed-');
    const client = localDocumentClient(endpoints().dynamodb);
    const database = await createTestPool();
    try {
      await createOriginalTable(client, originalTable);
      const rows = (
        await database.query<{ uuid: string; handle: string; display_name: string }>(
          "SELECT uuid::text AS uuid, handle, display_name FROM public.users WHERE handle IN ('andrewbrown', 'bayko') ORDER BY handle",
        )
      ).rows;
      const [andrew, bayko] = rows.map((row) => ({ user_uuid: row.uuid, handle: row.handle, display_name: row.display_name }));
      const groupUuid = await createOriginalMessages(client, originalTable).seedConversation(andrew!, bayko!, ['one', 'two'], Date.now() - 60_000);

      // Act
      const seeded = await runScriptInProcess(seed, [], { TABLE_NAME: originalTable });

      // Assess
      expect(seeded.code).toBe(0);
      expect(seeded.stdout.join('\n')).toContain(`andrewbrown and bayko: already have a group, skipped (group ${groupUuid})`);
      expect(seeded.stdout.join('\n')).toMatch(/andrewbrown and londo: 6 messages in group/);
    } finally {
      await client.send(new DeleteTableCommand({ TableName: originalTable }));
      client.destroy();
      await database.end();
    }
  });

  it('ddb:list-conversations and ddb:get-conversation print the pattern queries readably with the capacity used', async () => {
    // Act
    const list = await runScriptInProcess(listConversations, ['andrewbrown'], env);
    const groupUuid = /([0-9a-f-]{36})\s+@bayko/.exec(list.stdout.join('\n'))?.[1];
    const conversation = await runScriptInProcess(getConversation, [groupUuid!, '--limit', '5'], env);

    // Assess
    expect(list.code).toBe(0);
    expect(list.stdout[0]).toBe('Conversations of @andrewbrown (2):');
    expect(list.stdout.join('\n')).toMatch(/@londo .* Very well\. Consider this message a diplomatic triumph\./);
    expect(list.stdout.join('\n')).toMatch(/Consumed capacity, QueryCommand: [\d.]+ capacity units/);
    expect(conversation.code).toBe(0);
    expect(conversation.stdout[0]).toBe(`Conversation ${groupUuid} between @andrewbrown and @bayko (latest 5):`);
    expect(conversation.stdout.slice(1, 6).map((line) => line.trim().split(/\s+/)[0])).toEqual(['@bayko', '@andrewbrown', '@bayko', '@andrewbrown', '@bayko']);
    expect(conversation.stdout[5]).toMatch(/Shipping it\. Talk tomorrow!$/);
  });

  it('ddb:get-conversation explains an unknown group', async () => {
    // Act
    const result = await runScriptInProcess(getConversation, ['00000000-0000-4000-8000-000000000000'], env);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toEqual(['ddb:get-conversation: No message group 00000000-0000-4000-8000-000000000000']);
  });

  it('ddb:list-tables lists the table, ddb:drop --yes deletes it, and a second drop says so', async () => {
    // Act
    const tables = await runScriptInProcess(listTables, [], env);
    const dropped = await runScriptInProcess(drop, ['--yes'], env);
    const again = await runScriptInProcess(drop, ['--yes'], env);
    const tablesAfter = await runScriptInProcess(listTables, [], env);

    // Assess
    expect(tables.stdout).toContain(tableName);
    expect(dropped).toMatchObject({ code: 0 });
    expect(again.stdout).toEqual([`Table ${tableName} does not exist: nothing to drop`]);
    expect(tablesAfter.stdout).not.toContain(tableName);
  });

  it('ddb:drop refuses without --yes when there is no terminal to ask', async () => {
    // Act
    const result = await runScriptInProcess(drop, [], { TABLE_NAME: DEFAULT_TABLE_NAME });

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr[0]).toMatch(/pass --yes/);
  });

  it('a script run from the command line explains that DynamoDB Local is not running, and exits 1', async () => {
    // Prepare
    const port = await getFreePort();

    // Act
    const failure = await run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/ddb/list-tables.ts')], {
      cwd: ROOT,
      env: { ...process.env, DYNAMODB_PORT: String(port) },
    }).catch((error: { code: number; stderr: string }) => error);

    // Assess
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr.trim()).toBe(
      `ddb:list-tables: DynamoDB Local is not running at http://localhost:${port}: start it with npm start`,
    );
  });
});

describe('PostgreSQL scripts', () => {
  let pool: Pool;
  beforeAll(async () => {
    pool = await createTestPool();
  });
  afterAll(() => pool.end());

  it('db:schema-load is idempotent and db:seed inserts the seed users once', async () => {
    // Act
    const schema = [await runScriptInProcess(dbSchemaLoad), await runScriptInProcess(dbSchemaLoad)];
    await runScriptInProcess(dbSeed);
    const again = await runScriptInProcess(dbSeed);

    // Assess
    expect(schema.map((run) => run.code)).toEqual([0, 0]);
    expect(schema[1]!.stdout).toEqual(['Table public.users already exists: indexes checked']);
    expect(again.stdout).toEqual(['Seed users already present: nothing inserted']);
    const rows = await pool.query('SELECT handle, display_name FROM public.users WHERE handle = ANY($1) ORDER BY handle', [
      SEED_USERS.map((user) => user.handle),
    ]);
    expect(rows.rows).toEqual([
      { handle: 'andrewbrown', display_name: 'Andrew Brown' },
      { handle: 'bayko', display_name: 'Andrew Bayko' },
      { handle: 'londo', display_name: 'Londo Mollari' },
    ]);
  });

  it('db:update-cognito-user-ids follows PaginationToken past 60 pool users (defect 8) and names the unmatched', async () => {
    // Prepare: 65 pool users, 63 of whom have a users row.
    const cognito = createCognitoClient(endpoints().cognito);
    const { userPoolId } = await ensureLocalPool(cognito, unique('pool-'));
    const users = await insertUsers(pool, 63, 'pooled');
    const strangers = [unique('stranger_a'), unique('stranger_b')];
    for (const user of users) await ensurePoolUser(cognito, userPoolId, user, 'Passw0rd!');
    for (const handle of strangers) await ensurePoolUser(cognito, userPoolId, { handle, email: `${handle}@example.test`, display_name: handle }, 'Passw0rd!');
    cognito.destroy();

    // Act
    const result = await runScriptInProcess(updateCognitoUserIds, [], { COGNITO_USER_POOL_ID: userPoolId });

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Read 60 users from pool ${userPoolId}...`);
    expect(result.stdout).toContain(`Read 65 users from pool ${userPoolId}...`);
    expect(result.stdout).toContain('Updated cognito_user_id of 63 users (65 users in the pool).');
    expect(result.stdout).toContain(`Pool users with no matching handle in PostgreSQL (2): ${[...strangers].sort().join(', ')}`);
    const stored = await pool.query<{ n: string }>('SELECT count(*) AS n FROM public.users WHERE handle = ANY($1) AND cognito_user_id IS NOT NULL', [
      users.map((user) => user.handle),
    ]);
    expect(Number(stored.rows[0]!.n)).toBe(63);
  });

  it('db:update-cognito-user-ids with --prod asks for the pool id instead of guessing', async () => {
    // Act
    const result = await runScriptInProcess(updateCognitoUserIds, ['--prod'], { COGNITO_USER_POOL_ID: undefined });

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr[0]).toMatch(/Set COGNITO_USER_POOL_ID/);
  });
});

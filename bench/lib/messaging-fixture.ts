/**
 * The data the API and cold-start benchmarks read and write: a fresh messages table of the
 * real schema and fresh users in PostgreSQL, so they share the run's services with the other
 * benchmarks without touching their data. The caller has a conversation with each of
 * `groups` people (so pattern B fills a default page of 20 and has a next one), and the
 * first conversation has `messagesInFirstGroup` messages (so pattern A fills its page too).
 */
import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { queryPages } from '../../functions/data/query-pages';
import type { Pool } from 'pg';
import { createPgPool } from '../../functions/clients/postgres-pool';
import { localDocumentClient } from '../../local/aws';
import { createMessagesRepository, type MessagesRepository } from '../../functions/data/messages-repository';
import { keys, type MessageGroupSummaryItem, type MessageItem, type Participant } from '../../functions/data/model';
import { ensureTable } from '../../scripts/lib/table';
import { applyUsersSchema } from '../../scripts/lib/users-schema';

interface FixtureUser extends Participant {
  /** The `cognito_user_id` the API resolves the caller by. */
  sub: string;
}

export interface MessagingFixture {
  tableName: string;
  documentClient: DynamoDBDocumentClient;
  pool: Pool;
  repository: MessagesRepository;
  caller: FixtureUser;
  /** The caller's conversation with the most messages, and the other person in it. */
  group: { uuid: string; other: Participant; lastMessage: MessageItem };
  /** Points the caller's row at another `sub` (the API benchmark uses the local pool's). */
  setCallerSub(sub: string): Promise<void>;
  /**
   * A second caller whose conversation list is the caller's as it was stored before read
   * state (each summary without `unread_count` and `last_read_at`): the baseline of pattern B.
   */
  createTwinBeforeReadState(): Promise<FixtureUser & { setSub(sub: string): Promise<void> }>;
  /** Drops the table and the users. */
  remove(): Promise<void>;
}

export interface FixtureOptions {
  dynamodbUrl: string;
  databaseUrl: string;
  /** Distinguishes this benchmark's table and handles from others'. */
  label: string;
  groups?: number;
  messagesInFirstGroup?: number;
}

export async function createMessagingFixture(options: FixtureOptions): Promise<MessagingFixture> {
  const id = randomUUID().replace(/-/g, '').slice(0, 8);
  const tableName = `cruddur-messages-bench-${options.label}-${id}`;
  const documentClient = localDocumentClient(options.dynamodbUrl);
  const pool = createPgPool(options.databaseUrl, 1);
  await ensureTable(documentClient as unknown as DynamoDBClient, tableName);
  await applyUsersSchema(pool);
  const repository = createMessagesRepository(documentClient, { tableName });

  const handles: string[] = [];
  async function insertUser(name: string, sub: string | null): Promise<FixtureUser> {
    const handle = `bench_${options.label.replace(/\W/g, '_')}_${id}_${name}`;
    const display_name = `Bench ${options.label} ${name}`;
    const result = await pool.query<{ uuid: string }>(
      'INSERT INTO public.users (display_name, handle, email, cognito_user_id) VALUES ($1, $2, $3, $4) RETURNING uuid::text AS uuid',
      [display_name, handle, `${handle}@example.test`, sub],
    );
    handles.push(handle);
    return { user_uuid: result.rows[0]!.uuid, display_name, handle, sub: sub ?? '' };
  }

  const caller = await insertUser('caller', randomUUID());
  let group: MessagingFixture['group'] | undefined;
  for (let index = 0; index < (options.groups ?? 21); index += 1) {
    const other = await insertUser(`friend${index}`, null);
    const created = await repository.createMessageInNewGroup(caller, other, `Hello friend ${index}`);
    group ??= { uuid: created.messageGroupUuid, other, lastMessage: created.item };
  }
  if (group === undefined) throw new Error('the fixture needs at least one group');
  for (let index = 0; index < (options.messagesInFirstGroup ?? 21); index += 1) {
    const sender = index % 2 === 0 ? caller : group.other;
    group.lastMessage = (await repository.createMessage(group.uuid, sender, `Message ${index} of a long conversation`)).item;
  }

  return {
    tableName,
    documentClient,
    pool,
    repository,
    caller,
    group,
    async setCallerSub(sub) {
      await pool.query('UPDATE public.users SET cognito_user_id = $1 WHERE uuid = $2', [sub, caller.user_uuid]);
      caller.sub = sub;
    },
    async createTwinBeforeReadState() {
      const twin = await insertUser('twin', randomUUID());
      const summaries: MessageGroupSummaryItem[] = [];
      for await (const page of queryPages<MessageGroupSummaryItem>(documentClient, {
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.groupSummaryPartition(caller.user_uuid) },
      }))
        summaries.push(...page);
      for (const { unread_count: _unread, last_read_at: _readAt, ...before } of summaries) {
        await documentClient.send(new PutCommand({ TableName: tableName, Item: { ...before, pk: keys.groupSummaryPartition(twin.user_uuid) } }));
      }
      return {
        ...twin,
        async setSub(sub: string) {
          await pool.query('UPDATE public.users SET cognito_user_id = $1 WHERE uuid = $2', [sub, twin.user_uuid]);
          twin.sub = sub;
        },
      };
    },
    async remove() {
      await documentClient.send(new DeleteTableCommand({ TableName: tableName }));
      await pool.query('DELETE FROM public.users WHERE handle = ANY($1::text[])', [handles]);
      documentClient.destroy();
      await pool.end();
    },
  };
}

/**
 * `npm run ddb:migrate` on a table written by a port of the original's writers
 * (bench/lib/original.ts: its schema-load, its seed, `create_message_group` as one
 * BatchWriteItem of three items, `create_message`, and its stream lambda's delete-then-put),
 * with several groups for one pair, a group the old lambda left with one summary, naive
 * timestamps, an orphan message and a user PostgreSQL does not know. Then: killed halfway and
 * run again, run once more (nothing to do), and patterns A to E over HTTP on the result.
 */
import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, UpdateTableCommand, UpdateTimeToLiveCommand, waitUntilTableExists, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { Pool } from 'pg';
import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { streamFunctionNamed } from '../../functions/catalog';
import { createMessagesRepository } from '../../functions/data/messages-repository';
import { KeyPrefix, messagesTableSchema, type Participant } from '../../functions/data/model';
import { createMessaging } from '../../functions/domain/conversations';
import { createCachedUserDirectory } from '../../functions/domain/user-directory';
import { createUsersRepository } from '../../functions/data/users-repository';
import { createMessageStreamHandler } from '../../functions/message-stream/index';
import { Logger } from '@aws-lambda-powertools/logger';
import { localDocumentClient } from '../../local/aws';
import type { RunningGateway } from '../../local/gateway/server';
import { startMessagingGateway } from '../support/gateway';
import { lambdaContext } from '../../local/lambda';
import { openStreamTail } from '../../local/streams/shard-reader';
import { createCognitoClient, ensureLocalPool, ensurePoolUser, signIn, type LocalPool } from '../../scripts/lib/cognito';
import { executeMigration, MigrationStoppedError, planMigration } from '../../scripts/lib/migration';
import * as migrate from '../../scripts/ddb/migrate';
import * as schemaLoad from '../../scripts/ddb/schema-load';
import { createOriginalMessages, createOriginalTable, pythonIsoFormat } from '../../bench/lib/original';
import { readTableSnapshot, checkSoak } from '../../bench/soak/check';
import { runScriptInProcess } from '../support/script-runner';
import { createTestPool, endpoints, insertUsers, unique } from '../support/services';
import { payloadOf } from '../support/tokens';
import { fetchInContract } from '../support/openapi';

jest.setTimeout(300_000);

const PASSWORD = 'Migrate-test-1!';
const DAY = 86_400_000;

interface Person extends Participant {
  accessToken?: string;
}

let client: DynamoDBDocumentClient;
let database: Pool;
let cognito: CognitoIdentityProviderClient;
let pool: LocalPool;
const tableName = unique('cruddur-messages-original-');
const env = { TABLE_NAME: tableName };
let alice: Person;
let bob: Person;
let carol: Person;
let dave: Person;
/** Not in PostgreSQL: the original's users table lost them, or never had them. */
let eve: Person;
const groups = {} as Record<'seed' | 'carolFirst' | 'carolSecond' | 'oneSummary' | 'naive' | 'orphan', string>;

/** The original's stream lambda, run on a message it wrote (its input was that message's INSERT record). */
function insertRecordOf(item: Record<string, unknown>): DynamoDBRecord {
  const image = Object.fromEntries(Object.entries(item).map(([name, value]) => [name, { S: String(value) }]));
  return { eventName: 'INSERT', dynamodb: { Keys: { pk: { S: String(item.pk) }, sk: { S: String(item.sk) } }, NewImage: image } };
}

async function lastMessageOf(groupUuid: string): Promise<Record<string, unknown>> {
  const items = (await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }))).Items ?? [];
  return items.filter((item) => item.pk === `${KeyPrefix.message}${groupUuid}`).sort((a, b) => (String(a.sk) < String(b.sk) ? 1 : -1))[0]!;
}

async function scanAll(): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return items.sort((a, b) => (`${a.pk}|${a.sk}` < `${b.pk}|${b.sk}` ? -1 : 1));
}

beforeAll(async () => {
  client = localDocumentClient(endpoints().dynamodb);
  database = await createTestPool();
  cognito = createCognitoClient(endpoints().cognito);
  pool = await ensureLocalPool(cognito, unique('migrate-pool-'));
  const rows = await insertUsers(database, 4, 'orig');
  [alice, bob, carol, dave] = rows.map((row): Person => ({ user_uuid: row.uuid, display_name: row.display_name, handle: row.handle })) as [
    Person,
    Person,
    Person,
    Person,
  ];
  eve = { user_uuid: randomUUID(), display_name: 'Eve Unknown', handle: unique('eve_') };

  // ---- the original writes its table, days ago ----
  await createOriginalTable(client, tableName);
  const now = Date.now();
  let clock = now - 10 * DAY;
  const original = createOriginalMessages(client, tableName, { timestamp: () => pythonIsoFormat((clock += 61_000), 777) });
  const lambda = async (groupUuid: string) => original.updateGroupsForRecord(insertRecordOf(await lastMessageOf(groupUuid)));

  // Its seed: alice and bob, six lines a minute apart from 9 days ago.
  groups.seed = await original.seedConversation(alice, bob, ['hi bob', 'hi alice', 'how are you?', 'fine', 'good', 'bye'], now - 9 * DAY);
  // Pattern D twice for alice and carol: the original made a new group each time (defect 6).
  groups.carolFirst = await original.createMessageGroup(alice, carol, 'carol, first group');
  await lambda(groups.carolFirst);
  groups.carolSecond = await original.createMessageGroup(carol, alice, 'alice, a second group');
  await lambda(groups.carolSecond);
  // Pattern C into the first group, later: the pair's newest message is there.
  await original.createMessage(groups.carolFirst, carol, 'back in the first group');
  await lambda(groups.carolFirst);
  // bob and dave: the old lambda crashed between delete and put, and left one summary.
  groups.oneSummary = await original.createMessageGroup(bob, dave, 'hello dave');
  await client.send(
    new DeleteCommand({ TableName: tableName, Key: { pk: `${KeyPrefix.groupSummary}${dave.user_uuid}`, sk: (await lastMessageOf(groups.oneSummary)).sk } }),
  );
  // dave and eve, with naive timestamps (a later branch of the original wrote them).
  const naive = createOriginalMessages(client, tableName, { timestamp: () => pythonIsoFormat((clock += 61_000), 5, 'naive') });
  groups.naive = await naive.createMessageGroup(dave, eve, 'eve, naive times');
  await naive.createMessage(groups.naive, eve, 'naive reply');
  // An orphan: a message of a group nobody's summary names, from one sender.
  groups.orphan = randomUUID();
  await client.send(
    new PutCommand({
      TableName: tableName,
      Item: {
        pk: `${KeyPrefix.message}${groups.orphan}`,
        sk: pythonIsoFormat(clock, 9),
        message_uuid: randomUUID(),
        message: 'lost',
        user_uuid: alice.user_uuid,
        user_display_name: alice.display_name,
        user_handle: alice.handle,
      },
    }),
  );
});

afterAll(async () => {
  await client.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined);
  client?.destroy();
  await database?.end();
  cognito?.destroy();
});

describe("ddb:schema-load on the original's table", () => {
  it('reports the missing stream with the command that enables it, then the missing time to live as a note, then the table as ready', async () => {
    // Act
    const before = await runScriptInProcess(schemaLoad, [], env);
    await client.send(new UpdateTableCommand({ TableName: tableName, StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' } }));
    await waitUntilTableExists({ client: client as unknown as DynamoDBClient, maxWaitTime: 60 }, { TableName: tableName });
    const streaming = await runScriptInProcess(schemaLoad, [], env);
    await client.send(
      new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { Enabled: true, AttributeName: messagesTableSchema.timeToLiveAttribute } }),
    );
    const after = await runScriptInProcess(schemaLoad, [], env);

    // Assess
    expect(before.code).toBe(1);
    expect(before.stdout.join('\n')).toMatch(/problem: it has no stream/);
    expect(before.stdout.join('\n')).toContain(`update-table --table-name ${tableName} --stream-specification StreamEnabled=true,StreamViewType=NEW_IMAGE`);
    // The original never had a time to live: the table works without one (expired keys are ignored).
    expect(streaming.code).toBe(0);
    expect(streaming.stdout[0]).toMatch(/and works, but differs from the model:$/);
    expect(streaming.stdout.join('\n')).toContain(
      `update-time-to-live --table-name ${tableName} --time-to-live-specification Enabled=true,AttributeName=${messagesTableSchema.timeToLiveAttribute}`,
    );
    expect(after.code).toBe(0);
    expect(after.stdout[0]).toMatch(/matches the model: ready$/);
  });
});

describe('ddb:migrate', () => {
  let firstReport: string;

  it('refuses while original-format items are newer than --quiet-minutes (the writers still seem to run)', async () => {
    // Act: every item is within the last 15 days.
    const refused = await runScriptInProcess(migrate, ['--quiet-minutes', String(15 * 24 * 60)], env);

    // Assess
    expect(refused.code).toBe(1);
    expect(refused.stderr.join('\n')).toMatch(/original writers .* still seem to run/);
    expect((await scanAll()).some((item) => String(item.pk).startsWith(KeyPrefix.group))).toBe(false);
  });

  it('plans without writing on --dry-run', async () => {
    // Prepare
    const before = await scanAll();

    // Act
    const dry = await runScriptInProcess(migrate, ['--dry-run'], env);

    // Assess
    expect(dry.stdout.join('\n')).toMatch(/^Plan:$/m);
    expect(await scanAll()).toEqual(before);
  });

  it('resumes after being killed halfway, and reports what it did and what it could not place', async () => {
    // Prepare: a run stopped after three writes (two groups and a pair item, say).
    const users = new Map(
      [alice, bob, carol, dave].map((person) => [person.user_uuid, { uuid: person.user_uuid, handle: person.handle, display_name: person.display_name }]),
    );
    const plan = planMigration(await scanAll(), users, { naiveOffset: '+00:00', now: Date.now() });
    await expect(executeMigration(client, tableName, plan, { stopAfterWrites: 3 })).rejects.toBeInstanceOf(MigrationStoppedError);

    // Act
    const run = await runScriptInProcess(migrate, [], env);
    firstReport = run.stdout.join('\n');

    // Assess: one item could not be placed, so the exit code is 1, with the reason and the advice.
    expect(run.code).toBe(1);
    expect(firstReport).toMatch(/groups +\d+ migrated, [1-9]\d* already migrated/);
    expect(firstReport).toMatch(/pairs with several groups 1: both people keep every group/);
    expect(firstReport).toContain(`${groups.carolFirst}, ${groups.carolSecond} (the pair item names ${groups.carolFirst})`);
    expect(firstReport).toMatch(new RegExp(`users unknown to PostgreSQL 1:[^]*@${eve.handle} \\(${eve.user_uuid}\\)`));
    expect(firstReport).toMatch(/could not place +1 item\(s\)/);
    // The orphan is reported, and left exactly as it was (its original key).
    expect(firstReport).toMatch(new RegExp(`MSG#${groups.orphan} / \\d{4}-\\d\\d-\\d\\dT[\\d:.]+\\+00:00: `));
    expect(firstReport).toMatch(/an orphan message: no summary names its group, and its messages have 1 sender\(s\), not 2; the other person cannot be known/);
  });

  it('leaves a table that holds every invariant: a group and a pair item per conversation, two summaries at the newest message, messages re-keyed', async () => {
    // Act
    const snapshot = await readTableSnapshot(client, tableName);
    const violations = checkSoak({ sent: [], unexpected: [], snapshot });

    // Assess: several groups for alice and carol are allowed (both stay readable); nothing else is wrong.
    expect(violations.filter((violation) => violation.kind !== 'two-groups-for-pair' && !violation.detail.includes(groups.orphan))).toEqual([]);
    expect(snapshot.groups).toHaveLength(5);
    expect(snapshot.pairs).toHaveLength(4);
    expect(snapshot.summaries).toHaveLength(10);
    for (const message of snapshot.messages.filter((item) => !item.pk.endsWith(groups.orphan))) {
      expect(message).toMatchObject({
        sk: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z#[0-9a-f-]{36}$/),
        created_at: expect.stringMatching(/Z$/),
      });
    }
    // The naive timestamps were taken as UTC.
    const naive = snapshot.messages.filter((item) => item.pk === `${KeyPrefix.message}${groups.naive}`);
    expect(naive).toHaveLength(2);
    // The seed's summaries showed "this is a filler message" at the seed's start: now they show its last line.
    const seedGroup = snapshot.groups.find((group) => group.pk === `${KeyPrefix.group}${groups.seed}`)!;
    expect(seedGroup.last_message).toBe('bye');
  });

  it('changes nothing when run again', async () => {
    // Prepare
    const before = await scanAll();

    // Act
    const again = await runScriptInProcess(migrate, [], env);

    // Assess
    expect(again.stdout.join('\n')).toMatch(/groups +0 migrated, 5 already migrated/);
    expect(again.stdout.join('\n')).toMatch(/messages touched +0 re-keyed/);
    expect(again.stdout.join('\n')).toMatch(/0 pair item\(s\) written/);
    expect(await scanAll()).toEqual(before);
  });
});

describe('the migrated table over HTTP', () => {
  let gateway: RunningGateway;
  const handlerLog: string[] = [];

  beforeAll(async () => {
    const messaging = createMessaging({
      messages: createMessagesRepository(client, { tableName }),
      users: createCachedUserDirectory(createUsersRepository(database)),
    });
    gateway = await startMessagingGateway({ messaging, pool, log: (line) => handlerLog.push(line) });
    // The people sign in, and db:update-cognito-user-ids links them.
    for (const person of [alice, bob, carol, dave]) {
      const user = { handle: person.handle, email: `${person.handle}@example.test`, display_name: person.display_name };
      await ensurePoolUser(cognito, pool.userPoolId, user, PASSWORD);
      person.accessToken = (await signIn(cognito, pool.clientId, person.handle, PASSWORD)).accessToken;
      await database.query('UPDATE public.users SET cognito_user_id = $1 WHERE uuid = $2', [payloadOf(person.accessToken).sub, person.user_uuid]);
    }
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  const api = async <T>(person: Person, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const response = await fetchInContract(`${gateway.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${person.accessToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as T };
  };
  type Entry = { uuid: string; handle: string; message: string; created_at: string };

  it('lists old conversations with created_at (B), reads them (A), appends to one (C), continues the newest by handle (D), and moves the summaries (E)', async () => {
    // B: alice sees her three conversations, each with an ISO created_at luxon can read.
    const listed = await api<Entry[]>(alice, 'GET', '/api/message_groups');
    expect(listed.status).toBe(200);
    expect(listed.body.map((entry) => entry.uuid).sort()).toEqual([groups.seed, groups.carolFirst, groups.carolSecond].sort());
    for (const entry of listed.body) expect(entry.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    // A: the seed conversation, oldest first; and the older of alice's two groups with carol stays readable for both.
    const seed = await api<Entry[]>(bob, 'GET', `/api/messages/${groups.seed}`);
    expect(seed.body.map((entry) => entry.message)).toEqual(['hi bob', 'hi alice', 'how are you?', 'fine', 'good', 'bye']);
    expect((await api<Entry[]>(carol, 'GET', `/api/messages/${groups.carolSecond}`)).status).toBe(200);
    expect((await api<Entry[]>(dave, 'GET', `/api/messages/${groups.oneSummary}`)).body.map((entry) => entry.message)).toEqual(['hello dave']);

    // C into the seed group; D from carol to alice goes to the pair's newest group, not a third one.
    const c = await api<{ message_group_uuid: string }>(bob, 'POST', '/api/messages', { message: 'after the migration', message_group_uuid: groups.seed });
    const d = await api<{ message_group_uuid: string }>(carol, 'POST', '/api/messages', { message: 'by handle', handle: alice.handle });
    expect([c.status, d.status]).toEqual([200, 200]);
    expect(d.body.message_group_uuid).toBe(groups.carolFirst);

    // E: our stream function over what the table's stream holds since it was enabled.
    const tail = await openStreamTail(client, tableName);
    const records = await tail.readNew();
    tail.close();
    const handler = createMessageStreamHandler({
      summaryMover: (retry) => createMessagesRepository(client, { tableName, retry }),
      logger: new Logger({ serviceName: 'migrate-test', logLevel: 'SILENT' }),
    });
    const response = await handler({ Records: records }, lambdaContext(streamFunctionNamed('message-stream')));
    expect(response).toEqual({ batchItemFailures: [] });

    const aliceAfter = await api<Entry[]>(alice, 'GET', '/api/message_groups');
    expect(aliceAfter.body.find((entry) => entry.uuid === groups.seed)?.message).toBe('after the migration');
    expect(aliceAfter.body[0]).toMatchObject({ uuid: groups.carolFirst, message: 'by handle' });
    expect((await api<Entry[]>(bob, 'GET', '/api/message_groups')).body.find((entry) => entry.uuid === groups.seed)?.message).toBe('after the migration');
  });
});

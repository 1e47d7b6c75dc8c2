/**
 * Pattern E against DynamoDB Local, on the records its stream really emitted: pattern D
 * transactions, big batches, replays, out-of-order delivery and a failing group. After
 * each case every group's summaries must show its newest message, once per participant,
 * and the DynamoDB requests the consumer sent are counted and asserted.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { DeleteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import { MESSAGE_STREAM_SOURCE } from '../../functions/catalog';
import { localDocumentClient } from '../../local/aws';
import { createMessagesRepository, type MessagesRepository } from '../../functions/data/messages-repository';
import { createTableAdmin, type TableAdmin } from '../../scripts/lib/table-admin';
import { keys, type MessageGroupItem, type MessageGroupSummaryItem, type MessageItem, type Participant } from '../../functions/data/model';
import { timestampOfKey } from '../../functions/data/model';
import { filterEvents } from '../../local/streams/filter';
import { createMessageStreamHandler } from '../../functions/message-stream/index';
import { createTestTable, endpoints, type TestTable } from '../support/services';
import { injectTransactionFaults } from '../support/transaction-faults';
import { openStreamTail, type StreamTail } from '../../local/streams/shard-reader';

jest.setTimeout(180_000);

// ---- request counting and fault injection on the consumer's client ----

type RequestCounts = Record<string, number>;

/** Counts every `send` of the client by operation (`GetItem`, `TransactWriteItems`, ...). */
function countRequests(client: DynamoDBDocumentClient) {
  let counts: RequestCounts = {};
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      counts[operation] = (counts[operation] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'testRequestCounter' },
  );
  return {
    /** The counts since the last call, then starts over. */
    take(): RequestCounts {
      const taken = counts;
      counts = {};
      return taken;
    },
  };
}

// ---- fixture ----

function participant(name: string): Participant {
  const suffix = randomUUID().slice(0, 8);
  return { user_uuid: randomUUID(), display_name: `${name} ${suffix}`, handle: `${name}_${suffix}` };
}

const lambdaContext = {
  awsRequestId: 'integration',
  functionName: 'cruddur-test-message-stream',
  getRemainingTimeInMillis: () => 60_000,
} as Context;

interface Fixture {
  table: TestTable;
  reader: StreamTail;
  /** Writes messages as the API does (patterns C and D), on an uncounted client. */
  writer: MessagesRepository;
  admin: TableAdmin;
  /** The members of each group the test created. */
  members: Map<string, [Participant, Participant]>;
  /** Messages written per group, to check that nothing is lost. */
  written: Map<string, number>;
  requests: ReturnType<typeof countRequests>;
  faults: ReturnType<typeof injectTransactionFaults>;
  logger: Logger;
  deliver(records: readonly DynamoDBRecord[]): Promise<{ response: DynamoDBBatchResponse; requests: RequestCounts }>;
  createGroup(sender: Participant, recipient: Participant, text: string): Promise<string>;
  sendMessage(groupUuid: string, text: string): Promise<void>;
  close(): Promise<void>;
}

async function openFixture(): Promise<Fixture> {
  const table = await createTestTable();
  const reader = await openStreamTail(table.client, table.tableName);
  const writer = createMessagesRepository(table.client, { tableName: table.tableName });
  // The consumer gets its own client, so only its requests are counted.
  const consumerClient = localDocumentClient(endpoints().dynamodb);
  const requests = countRequests(consumerClient);
  const faults = injectTransactionFaults(consumerClient);
  const logger = new Logger({ serviceName: 'message-stream-test', logLevel: 'SILENT' });
  const handler = createMessageStreamHandler({
    summaryMover: (retry) => createMessagesRepository(consumerClient, { tableName: table.tableName, retry }),
    logger,
  });
  const members = new Map<string, [Participant, Participant]>();
  const written = new Map<string, number>();
  return {
    table,
    reader,
    writer,
    admin: createTableAdmin(table.client, table.tableName),
    members,
    written,
    requests,
    faults,
    logger,
    async deliver(records) {
      requests.take();
      const response = await handler({ Records: [...records] }, lambdaContext);
      return { response, requests: requests.take() };
    },
    async createGroup(sender, recipient, text) {
      const created = await writer.createMessageInNewGroup(sender, recipient, text);
      if (created.groupCreated) members.set(created.messageGroupUuid, [sender, recipient]);
      written.set(created.messageGroupUuid, (written.get(created.messageGroupUuid) ?? 0) + 1);
      return created.messageGroupUuid;
    },
    async sendMessage(groupUuid, text) {
      const [sender] = members.get(groupUuid)!;
      await writer.createMessage(groupUuid, sender, text);
      written.set(groupUuid, (written.get(groupUuid) ?? 0) + 1);
    },
    async close() {
      reader.close();
      consumerClient.destroy();
      await table.drop();
    },
  };
}

/** `count` groups between one hub user and `count` others, so the hub owns a summary of each. */
async function createGroups(fixture: Fixture, count: number): Promise<string[]> {
  const hub = participant('hub');
  // Distinct pairs: created at once (DynamoDB Local answers each request in milliseconds; in turn they add up).
  return Promise.all(Array.from({ length: count }, (_, index) => fixture.createGroup(hub, participant(`peer${index}`), `hello ${index}`)));
}

/** `perGroup` messages to each group, round-robin, so every group's messages are spread over the batch. */
async function sendRoundRobin(fixture: Fixture, groups: readonly string[], perGroup: number): Promise<void> {
  // Each round after the one before (a group's messages in order); the groups of a round at once.
  for (let round = 0; round < perGroup; round += 1) {
    await Promise.all(groups.map((groupUuid) => fixture.sendMessage(groupUuid, `message ${round} to ${groupUuid}`)));
  }
}

const failuresOf = (records: readonly DynamoDBRecord[]) => records.map((record) => ({ itemIdentifier: record.dynamodb!.SequenceNumber! }));

const groupOfRecord = (record: DynamoDBRecord) => record.dynamodb!.Keys!.pk!.S!.replace(/^MSG#/, '');

// ---- the invariant checked after every case ----

async function queryAll<T>(client: DynamoDBDocumentClient, tableName: string, pk: string): Promise<T[]> {
  const output = await client.send(
    new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true }),
  );
  expect(output.LastEvaluatedKey).toBeUndefined();
  return (output.Items ?? []) as T[];
}

/**
 * The group item and both participants' summaries show `expected` (by default the group's
 * newest message), there is exactly one summary per participant, and every message
 * written is still there.
 */
async function expectSummariesAt(fixture: Fixture, groupUuid: string, expected?: { sk: string; message: string }): Promise<void> {
  const { client, tableName } = fixture.table;
  const messages = await queryAll<MessageItem>(client, tableName, keys.messagePartition(groupUuid));
  expect({ groupUuid, messages: messages.length }).toEqual({ groupUuid, messages: fixture.written.get(groupUuid) });
  const newest = messages[messages.length - 1]!;
  const shown = expected ?? { sk: newest.sk, message: newest.message };

  const [group] = await queryAll<MessageGroupItem>(client, tableName, keys.group(groupUuid).pk);
  expect({ groupUuid, sk: group!.last_message_sk, message: group!.last_message }).toEqual({ groupUuid, ...shown });

  const [a, b] = fixture.members.get(groupUuid)!;
  for (const [owner, other] of [
    [a, b],
    [b, a],
  ] as const) {
    const summaries = (await queryAll<MessageGroupSummaryItem>(client, tableName, keys.groupSummaryPartition(owner.user_uuid))).filter(
      (summary) => summary.message_group_uuid === groupUuid,
    );
    expect(summaries.map(({ sk, message, user_uuid }) => ({ sk, message, user_uuid }))).toEqual([
      { sk: keys.groupSummary(owner.user_uuid, timestampOfKey(shown.sk), groupUuid).sk, message: shown.message, user_uuid: other.user_uuid },
    ]);
  }
  // And through the index, as the original's consumer looked them up: two, no more.
  expect(await fixture.admin.listSummariesOfGroup(groupUuid)).toHaveLength(2);
}

async function expectAllSummariesAtNewest(fixture: Fixture): Promise<void> {
  for (const groupUuid of fixture.members.keys()) await expectSummariesAt(fixture, groupUuid);
}

// ---- cases ----

describe('message-stream consumer on DynamoDB Local stream records', () => {
  let fixture: Fixture;

  beforeEach(async () => {
    fixture = await openFixture();
  });

  afterEach(async () => {
    await fixture.close();
  });

  it('(a) handles pattern D transactions: several records per batch, only the messages count', async () => {
    // Prepare
    const [alice, bob, carol] = [participant('alice'), participant('bob'), participant('carol')];
    const first = await fixture.createGroup(alice, bob, 'hi bob');
    await fixture.createGroup(alice, carol, 'hi carol');
    await fixture.sendMessage(first, 'and again');
    const records = await fixture.reader.readNew();

    // Act
    const { response, requests } = await fixture.deliver(records);

    // Assess
    // Two transactions of five items each (pair, group, two summaries, message) and one message.
    expect(records.map((record) => record.dynamodb!.Keys!.pk!.S!.split('#')[0])).toEqual([
      'PAIR',
      'GROUP',
      'GRP',
      'GRP',
      'MSG',
      'PAIR',
      'GROUP',
      'GRP',
      'GRP',
      'MSG',
      'MSG',
    ]);
    // The deployed filter hands Lambda the three messages only; the handler copes with either.
    expect(filterEvents(MESSAGE_STREAM_SOURCE.filterPatterns, records).map(groupOfRecord)).toEqual([records[4]!, records[9]!, records[10]!].map(groupOfRecord));
    expect(response).toEqual({ batchItemFailures: [] });
    // Each group read and counted once; only the group with a message after its D transaction written.
    expect(requests).toEqual({ GetItem: 2, Query: 2, TransactWriteItems: 1 });
    await expectAllSummariesAtNewest(fixture);
  });

  it('(b) coalesces 100 messages across 10 groups into one move per group', async () => {
    // Prepare
    const groups = await createGroups(fixture, 10);
    const creation = await fixture.reader.readNew();
    const created = await fixture.deliver(creation);
    await sendRoundRobin(fixture, groups, 10);
    const records = await fixture.reader.readNew();

    // Act
    const { response, requests } = await fixture.deliver(records);

    // Assess
    expect(creation).toHaveLength(50);
    expect(created).toEqual({ response: { batchItemFailures: [] }, requests: { GetItem: 10, Query: 10 } });
    expect(records).toHaveLength(100);
    expect(records.length).toBeLessThanOrEqual(MESSAGE_STREAM_SOURCE.batchSize);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(requests).toEqual({ GetItem: 10, Query: 10, TransactWriteItems: 10 });
    await expectAllSummariesAtNewest(fixture);
  });

  it('(c) changes nothing when the same batch is delivered twice', async () => {
    // Prepare
    const groups = await createGroups(fixture, 10);
    await fixture.deliver(await fixture.reader.readNew());
    await sendRoundRobin(fixture, groups, 10);
    const records = await fixture.reader.readNew();
    const first = await fixture.deliver(records);
    const before = await Promise.all(groups.map((groupUuid) => fixture.admin.listSummariesOfGroup(groupUuid)));

    // Act
    const replay = await fixture.deliver(records);

    // Assess
    expect(first.requests).toEqual({ GetItem: 10, Query: 10, TransactWriteItems: 10 });
    // A replay counts again (it cannot tell itself from a late message) and writes nothing.
    expect(replay).toEqual({ response: { batchItemFailures: [] }, requests: { GetItem: 10, Query: 10 } });
    const after = await Promise.all(groups.map((groupUuid) => fixture.admin.listSummariesOfGroup(groupUuid)));
    expect(after).toEqual(before);
    await expectAllSummariesAtNewest(fixture);
  });

  it('(d) keeps the newest message when records arrive out of order', async () => {
    // Prepare
    const groups = await createGroups(fixture, 3);
    await fixture.deliver(await fixture.reader.readNew());
    await sendRoundRobin(fixture, groups, 10);
    const records = await fixture.reader.readNew();
    const older = records.slice(0, 15).reverse();
    const newer = records.slice(15).reverse();

    // Act
    const newerFirst = await fixture.deliver(newer);
    const olderAfter = await fixture.deliver(older);

    // Assess
    expect(newerFirst).toEqual({ response: { batchItemFailures: [] }, requests: { GetItem: 3, Query: 3, TransactWriteItems: 3 } });
    // Every group already shows a newer message: the older batch is read and left alone.
    expect(olderAfter).toEqual({ response: { batchItemFailures: [] }, requests: { GetItem: 3, Query: 3 } });
    await expectAllSummariesAtNewest(fixture);
  });

  it("(e) reports exactly a failing group's records and applies the other groups", async () => {
    // Prepare
    const groups = await createGroups(fixture, 10);
    await fixture.deliver(await fixture.reader.readNew());
    const before = await fixture.writer.getGroup(groups[3]!);
    await sendRoundRobin(fixture, groups, 10);
    const records = await fixture.reader.readNew();
    const failing = groups[3]!;
    fixture.faults.failGroup(failing);
    const errors = jest.spyOn(fixture.logger, 'error');

    // Act
    const { response, requests } = await fixture.deliver(records);

    // Assess
    const failingRecords = records.filter((record) => groupOfRecord(record) === failing);
    expect(failingRecords).toHaveLength(10);
    expect(response.batchItemFailures).toEqual(failuresOf(failingRecords));
    // Nine groups moved with one read, one count and one write each; the failing one tried six times
    // (the repository's conflict retries), re-reading its group before each attempt.
    expect(requests).toEqual({ GetItem: 9 + 6, Query: 9 + 6, TransactWriteItems: 9 + 6 });
    expect(errors).toHaveBeenCalledWith('Group summaries not moved', expect.objectContaining({ groupUuid: failing, records: 10 }));
    for (const groupUuid of groups) {
      if (groupUuid === failing) await expectSummariesAt(fixture, groupUuid, { sk: before!.last_message_sk, message: before!.last_message });
      else await expectSummariesAt(fixture, groupUuid);
    }

    // Act: the fault clears and Lambda redelivers from the lowest failed sequence number.
    fixture.faults.clear();
    const lowest = records.findIndex((record) => record.dynamodb!.SequenceNumber === response.batchItemFailures[0]!.itemIdentifier);
    const retried = await fixture.deliver(records.slice(lowest));

    // Assess: the failed group is moved now; the others cost one read and one count each, and no write.
    expect(retried).toEqual({ response: { batchItemFailures: [] }, requests: { GetItem: 10, Query: 10, TransactWriteItems: 1 } });
    await expectAllSummariesAtNewest(fixture);
  });

  it('(e) records the messages of a group whose group item is missing at once, without retrying them, and applies the others', async () => {
    // Prepare
    const groups = await createGroups(fixture, 10);
    await fixture.deliver(await fixture.reader.readNew());
    await sendRoundRobin(fixture, groups, 10);
    const broken = groups[7]!;
    await fixture.table.client.send(new DeleteCommand({ TableName: fixture.table.tableName, Key: keys.group(broken) }));
    const records = (await fixture.reader.readNew()).filter((record) => record.eventName === 'INSERT');
    const errors = jest.spyOn(fixture.logger, 'error');

    // Act
    const { response, requests } = await fixture.deliver(records);

    // Assess: no retry can apply them, so none is asked for; one line names all ten.
    expect(records).toHaveLength(100);
    expect(response.batchItemFailures).toEqual([]);
    const brokenRecords = records.filter((record) => groupOfRecord(record) === broken);
    expect(errors).toHaveBeenCalledWith(
      'Stream records cannot be applied',
      expect.objectContaining({ groupUuid: broken, records: 10, sequenceNumbers: brokenRecords.map((record) => record.dynamodb!.SequenceNumber) }),
    );
    errors.mockRestore();
    // A missing group costs one read.
    expect(requests).toEqual({ GetItem: 10, Query: 9, TransactWriteItems: 9 });
    for (const groupUuid of groups) if (groupUuid !== broken) await expectSummariesAt(fixture, groupUuid);
  });

  it('(e) retries a transient conflict within the invocation and reports nothing', async () => {
    // Prepare
    const groups = await createGroups(fixture, 10);
    await fixture.deliver(await fixture.reader.readNew());
    await sendRoundRobin(fixture, groups, 10);
    const records = await fixture.reader.readNew();
    fixture.faults.failGroup(groups[0]!, 1);

    // Act
    const { response, requests } = await fixture.deliver(records);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(requests).toEqual({ GetItem: 10 + 1, Query: 10 + 1, TransactWriteItems: 10 + 1 });
    await expectAllSummariesAtNewest(fixture);
  });
});

describe('the deployed handler export', () => {
  const saved = { ...process.env };
  let table: TestTable;

  beforeEach(async () => {
    table = await createTestTable();
  });

  afterEach(async () => {
    process.env = { ...saved };
    await table.drop();
  });

  it("runs on environment configuration alone (TABLE_NAME and the SDK's AWS_ENDPOINT_URL_DYNAMODB)", async () => {
    // Prepare
    const reader = await openStreamTail(table.client, table.tableName);
    const writer = createMessagesRepository(table.client, { tableName: table.tableName });
    const [alice, bob] = [participant('alice'), participant('bob')];
    const created = await writer.createMessageInNewGroup(alice, bob, 'first');
    const latest = await writer.createMessage(created.messageGroupUuid, bob, 'second');
    Object.assign(process.env, {
      TABLE_NAME: table.tableName,
      AWS_ENDPOINT_URL_DYNAMODB: endpoints().dynamodb,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    let handler: typeof import('../../functions/message-stream/index').handler = undefined as never;
    jest.isolateModules(() => {
      handler = require('../../functions/message-stream/index').handler;
    });
    const records = await reader.readNew();
    reader.close();

    // Act
    const response = await handler({ Records: [...records] }, lambdaContext);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const group = await writer.getGroup(created.messageGroupUuid);
    expect(group?.last_message_sk).toBe(latest.item.sk);
    const page = await writer.listMessageGroups(alice.user_uuid, { limit: 10 });
    expect(page.items.map((view) => view.message)).toEqual(['second']);
  });
});

/**
 * Read markers and unread counts against DynamoDB Local, with pattern E applied from the
 * records its stream really emitted: counts per member through moves, marking read (to the
 * newest, to a message, never back, twice), and exactness under concurrent messages and reads,
 * replayed batches, a message whose key is older than one already applied, and a consumer that
 * fails mid-batch. After each case the invariant is recomputed from the table
 * (bench/lib/read-state-check.ts): any drift fails.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { DeleteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, DynamoDBRecord } from 'aws-lambda';
import { seededRandom, pickWith } from '../../bench/lib/random';
import { readStateDrift } from '../../bench/lib/read-state-check';
import { createMessagesRepository, type MessagesRepository } from '../../functions/data/messages-repository';
import { keys, type MessageItem, type Participant, type ReceiptItem } from '../../functions/data/model';
import { createMessageStreamHandler } from '../../functions/message-stream/index';
import { localDocumentClient } from '../../local/aws';
import { openStreamTail, type StreamTail } from '../../local/streams/shard-reader';
import { createTestTable, endpoints, type TestTable } from '../support/services';
import { injectTransactionFaults } from '../support/transaction-faults';

jest.setTimeout(180_000);

const SEED = Number(process.env.READ_STATE_SEED ?? 20261204);

function participant(name: string): Participant {
  const suffix = randomUUID().slice(0, 8);
  return { user_uuid: randomUUID(), display_name: `${name} ${suffix}`, handle: `${name}_${suffix}` };
}

const lambdaContext = { awsRequestId: 'integration', functionName: 'cruddur-test-message-stream', getRemainingTimeInMillis: () => 60_000 } as Context;

let table: TestTable;
let reader: StreamTail;
let repository: MessagesRepository;
let consumerClient: ReturnType<typeof localDocumentClient>;
/** The consumer's transactions on chosen groups fail as a conflict would (the consumer "crashing" mid-batch). */
let faults: ReturnType<typeof injectTransactionFaults>;
let consume: (records: DynamoDBRecord[]) => Promise<string[]>;

beforeAll(async () => {
  table = await createTestTable();
  reader = await openStreamTail(table.client, table.tableName);
  // Strictly increasing milliseconds, so a sequence of sends has keys in that order.
  let last = 0;
  repository = createMessagesRepository(table.client, { tableName: table.tableName, clock: () => (last = Math.max(Date.now(), last + 1)) });
  consumerClient = localDocumentClient(endpoints().dynamodb);
  faults = injectTransactionFaults(consumerClient);
  const handler = createMessageStreamHandler({
    summaryMover: (retry) => createMessagesRepository(consumerClient, { tableName: table.tableName, retry: { ...retry, attempts: 2 } }),
    logger: new Logger({ serviceName: 'read-state-test', logLevel: 'SILENT' }),
  });
  consume = async (records) => {
    const response = await handler({ Records: records }, lambdaContext);
    return response.batchItemFailures.map((failure) => failure.itemIdentifier);
  };
});

afterAll(async () => {
  reader?.close();
  consumerClient?.destroy();
  await table?.drop();
});

/** Applies every new stream record as the mapping would: failed records (and those after them) again, until none fail. */
async function drain(): Promise<void> {
  let records = (await reader.readNew()).filter((record) => record.dynamodb?.Keys?.pk?.S?.startsWith('MSG#'));
  for (let attempt = 0; records.length > 0; attempt += 1) {
    if (attempt > 10) throw new Error('The consumer kept failing');
    const failed = await consume(records);
    if (failed.length === 0) return;
    const lowest = records.findIndex((record) => failed.includes(record.dynamodb!.SequenceNumber!));
    records = records.slice(lowest);
  }
}

async function expectNoDrift(groupUuid: string) {
  const { violations } = await readStateDrift(table.client, table.tableName, groupUuid);
  expect(violations).toEqual([]);
}

const unreadOf = async (owner: Participant, groupUuid: string) =>
  (await repository.listMessageGroups(owner.user_uuid, { limit: 100 })).items.find((view) => view.uuid === groupUuid);

async function receiptsOf(groupUuid: string): Promise<ReceiptItem[]> {
  const output = await table.client.send(
    new QueryCommand({ TableName: table.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `RECEIPT#${groupUuid}` } }),
  );
  return (output.Items ?? []) as ReceiptItem[];
}

describe('unread counts', () => {
  it("count the other person's messages after each member's marker, as the summaries move", async () => {
    // Prepare
    const [alice, bob] = [participant('alice'), participant('bob')];
    const { messageGroupUuid: group } = await repository.createMessageInNewGroup(alice, bob, 'hi bob');
    for (const text of ['one', 'two', 'three']) await repository.createMessage(group, alice, text);
    await repository.createMessage(group, bob, 'hi alice');

    // Act
    await drain();

    // Assess
    expect(await unreadOf(bob, group)).toMatchObject({ unread_count: 4, last_read_at: null, message: 'hi alice' });
    expect(await unreadOf(alice, group)).toMatchObject({ unread_count: 1, last_read_at: null });
    expect(await repository.unreadTotals(bob.user_uuid)).toEqual({ conversations: 1, messages: 4 });
    await expectNoDrift(group);
  });
});

describe('read markers', () => {
  it('move to a message or the newest, never back, and a second mark writes nothing', async () => {
    // Prepare
    const [alice, bob] = [participant('alice'), participant('bob')];
    const { messageGroupUuid: group } = await repository.createMessageInNewGroup(alice, bob, 'first');
    const sent: MessageItem[] = [];
    for (const text of ['second', 'third', 'fourth']) sent.push((await repository.createMessage(group, alice, text)).item);
    await drain();

    // Act
    const toSecond = await repository.markRead(group, bob, sent[0]!.message_uuid);
    const backToFirst = await repository.markRead(group, bob, (await repository.listMessages(group, { limit: 10 })).items[0]!.uuid);
    const afterSecond = await unreadOf(bob, group);
    const toNewest = await repository.markRead(group, bob);
    const again = await repository.markRead(group, bob);

    // Assess
    expect(toSecond).toMatchObject({ message_group_uuid: group, read_up_to: sent[0]!.message_uuid, unread_count: 2 });
    expect(backToFirst).toEqual(toSecond);
    expect(afterSecond).toMatchObject({ unread_count: 2, last_read_at: toSecond.read_at });
    expect(toNewest).toMatchObject({ read_up_to: sent[2]!.message_uuid, unread_count: 0 });
    expect(again).toEqual(toNewest);
    expect(await unreadOf(bob, group)).toMatchObject({ unread_count: 0, last_read_at: toNewest.read_at });
    expect(await repository.unreadTotals(bob.user_uuid)).toEqual({ conversations: 0, messages: 0 });
    // One receipt per move of the marker, naming both members for the push.
    const receipts = await receiptsOf(group);
    expect(receipts.map((receipt) => receipt.read_up_to).sort()).toEqual([sent[0]!.message_uuid, sent[2]!.message_uuid].sort());
    expect(receipts[0]).toMatchObject({ reader_uuid: bob.user_uuid, reader_handle: bob.handle, member_uuids: [alice.user_uuid, bob.user_uuid] });
    await expectNoDrift(group);
  });

  it('to a message not yet applied by the stream consumer: nothing unread now, and still nothing after it is applied', async () => {
    // Prepare
    const [alice, bob] = [participant('alice'), participant('bob')];
    const { messageGroupUuid: group } = await repository.createMessageInNewGroup(alice, bob, 'first');
    await drain();
    await repository.createMessage(group, alice, 'not applied yet');

    // Act
    const marked = await repository.markRead(group, bob);
    await drain();

    // Assess
    expect(marked.unread_count).toBe(0);
    expect(await unreadOf(bob, group)).toMatchObject({ unread_count: 0, message: 'not applied yet' });
    await expectNoDrift(group);
  });

  it('tries again when the consumer moves the summaries between its read of the group and its write (answered 503 before)', async () => {
    // Prepare: the summaries show the first message; a second is stored, not yet applied.
    const [alice, bob] = [participant('alice'), participant('bob')];
    const { messageGroupUuid: group } = await repository.createMessageInNewGroup(alice, bob, 'first');
    await drain();
    await repository.createMessage(group, alice, 'second');
    // A reader whose first transaction leaves only once the consumer has moved the group and the summaries to the second.
    const client = localDocumentClient(endpoints().dynamodb);
    let movedUnderIt = false;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'TransactWriteItemsCommand' && !movedUnderIt) {
          movedUnderIt = true;
          await drain();
        }
        return next(args);
      },
      { step: 'initialize' },
    );
    const marking = createMessagesRepository(client, { tableName: table.tableName });

    try {
      // Act
      const marked = await marking.markRead(group, bob);

      // Assess
      expect(movedUnderIt).toBe(true);
      expect(marked.unread_count).toBe(0);
      expect(await unreadOf(bob, group)).toMatchObject({ unread_count: 0, message: 'second' });
      await expectNoDrift(group);
    } finally {
      client.destroy();
    }
  });

  it('refuses to write when a summary is missing where the unchanged group item says it is (a broken table, not a busy one)', async () => {
    // Prepare: bob's summary deleted under an applied group.
    const [alice, bob] = [participant('alice'), participant('bob')];
    const { messageGroupUuid: group } = await repository.createMessageInNewGroup(alice, bob, 'only');
    await drain();
    const summary = (
      await table.client.send(
        new QueryCommand({
          TableName: table.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': keys.groupSummaryPartition(bob.user_uuid) },
        }),
      )
    ).Items![0]!;
    await table.client.send(new DeleteCommand({ TableName: table.tableName, Key: { pk: summary.pk, sk: summary.sk } }));

    // Act / Assess
    await expect(repository.markRead(group, bob)).rejects.toMatchObject({ name: 'WriteNotAppliedError' });
    expect(await receiptsOf(group)).toEqual([]);
  });

  it('refuses a message of another conversation', async () => {
    // Prepare
    const [alice, bob, carol] = [participant('alice'), participant('bob'), participant('carol')];
    const { messageGroupUuid: group } = await repository.createMessageInNewGroup(alice, bob, 'for bob');
    const elsewhere = await repository.createMessageInNewGroup(alice, carol, 'for carol');

    // Act / Assess
    await expect(repository.markRead(group, bob, elsewhere.item.message_uuid)).rejects.toMatchObject({ name: 'NotFoundError' });
  });
});

describe('exact counts', () => {
  it(`equal what the messages and markers say after concurrent messages and reads, replays and a failing consumer (seed ${SEED})`, async () => {
    // Prepare: 4 conversations; the seed decides who sends and who reads, in rounds of concurrent requests.
    const random = seededRandom(SEED);
    const pairs = Array.from({ length: 4 }, () => [participant('a'), participant('b')] as const);
    const groups = await Promise.all(pairs.map(async ([a, b]) => (await repository.createMessageInNewGroup(a, b, 'hello')).messageGroupUuid));
    const replayed: DynamoDBRecord[] = [];

    // Act
    for (let round = 0; round < 8; round += 1) {
      await Promise.all(
        groups.flatMap((group, index) => {
          const [a, b] = pairs[index]!;
          return Array.from({ length: 3 }, () => {
            const who = pickWith(random, [a, b])!;
            return random() < 0.7 ? repository.createMessage(group, who, `round ${round}`) : repository.markRead(group, who);
          });
        }),
      );
      const records = (await reader.readNew()).filter((record) => record.dynamodb?.Keys?.pk?.S?.startsWith('MSG#'));
      // A crash: one group's writes fail in this round's first delivery, so its records come again.
      if (round === 3) faults.failGroup(groups[1]!);
      let failed = await consume(records);
      faults.clear();
      while (failed.length > 0) {
        const lowest = records.findIndex((record) => failed.includes(record.dynamodb!.SequenceNumber!));
        failed = await consume(records.slice(lowest));
      }
      // Duplicates: this round's records delivered again, and an earlier round's.
      replayed.push(...records);
      await consume(records);
      if (round % 3 === 2) await consume(replayed.slice(0, 20));
    }
    // A read racing a message.
    await Promise.all([repository.createMessage(groups[0]!, pairs[0]![0], 'racing a read'), repository.markRead(groups[0]!, pairs[0]![1])]);
    await drain();

    // Assess
    for (const group of groups) await expectNoDrift(group);
  });

  it('count a message whose key is older than one already applied (two writers, one clock behind)', async () => {
    // Prepare: writers whose clocks say T, T + 10 s and, after both, T + 5 s.
    const [alice, bob] = [participant('alice'), participant('bob')];
    const at = (ms: number) => createMessagesRepository(table.client, { tableName: table.tableName, clock: () => Date.parse('2026-12-01T10:00:00.000Z') + ms });
    const { messageGroupUuid: group } = await at(0).createMessageInNewGroup(alice, bob, 'at T');
    await at(10_000).createMessage(group, alice, 'at T + 10 s');
    await drain();

    // Act
    await at(5_000).createMessage(group, alice, 'at T + 5 s, written last');
    await drain();

    // Assess
    expect(await unreadOf(bob, group)).toMatchObject({ unread_count: 3, message: 'at T + 10 s' });
    await expectNoDrift(group);
  });
});

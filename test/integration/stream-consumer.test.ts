/**
 * The local stream consumer against DynamoDB Local's real stream: filtering, partial batch
 * failures, bisection, retries, dead letters, record age, checkpoints across restarts and
 * a re-created table. The handler is injected (recording, failing on cue), except in the
 * test that runs the real message-stream handler end to end.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { DeleteTableCommand, waitUntilTableNotExists, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { streamFunctionNamed, MESSAGE_STREAM_SOURCE, type StreamSource } from '../../functions/catalog';
import { createMessagesRepository } from '../../functions/data/messages-repository';
import { keys, type MessageGroupSummaryItem, type Participant } from '../../functions/data/model';
import { createMessageStreamHandler } from '../../functions/message-stream/index';
import { ensureTable } from '../../scripts/lib/table';
import { createStreamConsumer, type StreamConsumer, type StreamConsumerOptions, type StreamHandler } from '../../local/streams/consumer';
import { createTestTable, endpoints, type TestTable } from '../support/services';
import { openStreamTail } from '../../local/streams/shard-reader';

jest.setTimeout(300_000);

/** The catalog's settings, without the batching window (a test polls instead of waiting). */
const SOURCE: StreamSource = { ...MESSAGE_STREAM_SOURCE, maximumBatchingWindowInSeconds: 0 };

interface Files {
  dir: string;
  checkpointFile: string;
  deadLetterFile: string;
}

function tempFiles(): Files {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cruddur-consumer-'));
  return { dir, checkpointFile: path.join(dir, 'checkpoint.json'), deadLetterFile: path.join(dir, 'dead-letters.jsonl') };
}

const textOf = (record: DynamoDBRecord) => record.dynamodb?.NewImage?.message?.S ?? `(${record.eventName} ${record.dynamodb?.Keys?.pk?.S})`;

/** A handler that records each batch's message texts and answers with `respond` (or throws from it). */
function recordingHandler(respond: (records: DynamoDBRecord[], call: number) => DynamoDBBatchResponse | void = () => undefined) {
  const batches: string[][] = [];
  const handler: StreamHandler = async (event: DynamoDBStreamEvent) => {
    batches.push(event.Records.map(textOf));
    return respond(event.Records, batches.length);
  };
  return { handler, batches };
}

const sequenceOf = (record: DynamoDBRecord) => record.dynamodb!.SequenceNumber!;
const failing = (records: DynamoDBRecord[], texts: readonly string[]) => ({
  batchItemFailures: records.filter((record) => texts.includes(textOf(record))).map((record) => ({ itemIdentifier: sequenceOf(record) })),
});

async function drain(consumer: StreamConsumer, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await consumer.pollOnce();
    const status = consumer.status();
    if (status.caughtUp && status.shards.every((shard) => shard.retrying === undefined)) return status;
    if (Date.now() > deadline) throw new Error(`The consumer did not catch up: ${JSON.stringify(status)}`);
  }
}

describe('local stream consumer', () => {
  let table: TestTable;
  let files: Files;
  const consumers: StreamConsumer[] = [];

  function consumer(handler: StreamHandler, overrides: Partial<StreamConsumerOptions> = {}): StreamConsumer {
    const created = createStreamConsumer({
      dynamodbUrl: endpoints().dynamodb,
      tableName: table.tableName,
      handler,
      fn: streamFunctionNamed('message-stream'),
      source: SOURCE,
      checkpointFile: files.checkpointFile,
      deadLetterFile: files.deadLetterFile,
      retryDelayMs: () => 0,
      log: () => {},
      ...overrides,
    });
    consumers.push(created);
    return created;
  }

  /** Puts a message item as the API writes one (one INSERT record in the stream). */
  async function putMessage(text: string, groupUuid = randomUUID()): Promise<void> {
    const createdAt = new Date().toISOString();
    const messageUuid = randomUUID();
    await table.client.send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          ...keys.message(groupUuid, createdAt, messageUuid),
          message_uuid: messageUuid,
          message: text,
          user_uuid: randomUUID(),
          user_display_name: 'Test Sender',
          user_handle: 'sender',
          created_at: createdAt,
        },
      }),
    );
  }

  async function putMessages(texts: readonly string[]): Promise<void> {
    for (const text of texts) await putMessage(text);
  }

  /** The sequence number of the stream's newest record, read independently of the consumer. */
  async function lastSequenceNumber(): Promise<string> {
    const reader = await openStreamTail(table.client, table.tableName);
    try {
      const records = await reader.readNew();
      return records[records.length - 1]!.dynamodb!.SequenceNumber!;
    } finally {
      reader.close();
    }
  }

  const checkpoint = () => JSON.parse(readFileSync(files.checkpointFile, 'utf8')) as { streamArn: string; shards: Record<string, { sequenceNumber?: string }> };
  const deadLetters = () =>
    existsSync(files.deadLetterFile)
      ? readFileSync(files.deadLetterFile, 'utf8')
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as { reason: string; attempts?: number; record: DynamoDBRecord })
      : [];

  beforeEach(async () => {
    table = await createTestTable();
    files = tempFiles();
  });

  afterEach(async () => {
    for (const created of consumers.splice(0)) await created.stop();
    await table.drop();
    rmSync(files.dir, { recursive: true, force: true });
  });

  it('delivers only what the catalog filter patterns match (message INSERTs), in order, and checkpoints past the rest', async () => {
    // Prepare: messages, a summary item, and a MODIFY of a message, all in the stream.
    const groupUuid = randomUUID();
    await putMessage('first', groupUuid);
    await table.client.send(
      new PutCommand({ TableName: table.tableName, Item: { pk: 'GRP#someone', sk: 'x', message_group_uuid: groupUuid, message: 'summary' } }),
    );
    await putMessage('second', groupUuid);
    const [messageKey] = (
      await table.client.send(
        new QueryCommand({
          TableName: table.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': keys.messagePartition(groupUuid) },
        }),
      )
    ).Items!;
    await table.client.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { pk: messageKey!.pk, sk: messageKey!.sk },
        UpdateExpression: 'SET edited = :t',
        ExpressionAttributeValues: { ':t': true },
      }),
    );
    const { handler, batches } = recordingHandler();

    // Act
    await drain(consumer(handler));

    // Assess
    expect(batches).toEqual([['first', 'second']]);
    // The MODIFY is the stream's last record: filtered out, yet processed.
    expect(Object.values(checkpoint().shards).map((shard) => shard.sequenceNumber)).toEqual([await lastSequenceNumber()]);
    expect(deadLetters()).toEqual([]);
  });

  it("runs the real message-stream handler: both participants' summaries move to the newest message", async () => {
    // Prepare
    const writer = createMessagesRepository(table.client, { tableName: table.tableName });
    const alice: Participant = { user_uuid: randomUUID(), display_name: 'Alice', handle: 'alice' };
    const bob: Participant = { user_uuid: randomUUID(), display_name: 'Bob', handle: 'bob' };
    const created = await writer.createMessageInNewGroup(alice, bob, 'hello bob');
    await writer.createMessage(created.messageGroupUuid, bob, 'hello alice');
    await writer.createMessage(created.messageGroupUuid, alice, 'newest words');
    const handler = createMessageStreamHandler({
      summaryMover: (retry) => createMessagesRepository(table.client, { tableName: table.tableName, retry }),
      logger: new Logger({ serviceName: 'consumer-test', logLevel: 'SILENT' }),
    });

    // Act
    await drain(consumer(handler as StreamHandler));

    // Assess
    for (const owner of [alice, bob]) {
      const { Items } = await table.client.send(
        new QueryCommand({
          TableName: table.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': keys.groupSummaryPartition(owner.user_uuid) },
          ConsistentRead: true,
        }),
      );
      expect((Items as MessageGroupSummaryItem[]).map((item) => item.message)).toEqual(['newest words']);
    }
  });

  it('re-delivers from the lowest failed sequence number of batchItemFailures, never the records before it', async () => {
    // Prepare
    await putMessages(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    const { handler, batches } = recordingHandler((records, call) => (call === 1 ? failing(records, ['m3', 'm5']) : undefined));

    // Act
    await drain(consumer(handler));

    // Assess
    expect(batches).toEqual([
      ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'],
      ['m3', 'm4', 'm5', 'm6'],
    ]);
    expect(deadLetters()).toEqual([]);
    expect(Object.values(checkpoint().shards)[0]!.sequenceNumber).toBe(await lastSequenceNumber());
  });

  it('bisects a batch whose function throws down to the poison record, retries it maximumRetryAttempts times, dead-letters it and moves on', async () => {
    // Prepare
    await putMessages(['m1', 'm2', 'm3', 'm4', 'poison', 'm6', 'm7', 'm8']);
    const { handler, batches } = recordingHandler((records) => {
      if (records.some((record) => textOf(record) === 'poison')) throw new Error('cannot handle poison');
    });

    // Act
    const status = await drain(consumer(handler));

    // Assess: halves of the failing batch, then the poison alone 1 + 5 times, then the rest.
    expect(batches.map((batch) => batch.length)).toEqual([8, 4, 4, 2, 1, 1, 1, 1, 1, 1, 3]);
    expect(batches.filter((batch) => batch.length === 1)).toEqual(Array(1 + SOURCE.maximumRetryAttempts).fill(['poison']));
    expect(batches[batches.length - 1]).toEqual(['m6', 'm7', 'm8']);
    const letters = deadLetters();
    expect(letters.map((letter) => [textOf(letter.record), letter.reason, letter.attempts])).toEqual([
      ['poison', 'retries-exhausted', 1 + SOURCE.maximumRetryAttempts],
    ]);
    // The dead letter holds the record as Lambda delivered it, ready to replay.
    expect(letters[0]!.record).toMatchObject({ eventName: 'INSERT', eventSourceARN: status.streamArn, dynamodb: { NewImage: { message: { S: 'poison' } } } });
    expect(Object.values(checkpoint().shards)[0]!.sequenceNumber).toBe(await lastSequenceNumber());
  });

  it('after the retries of reported failures, dead-letters only the records still failing; the others are done', async () => {
    // Prepare
    await putMessages(['m1', 'bad', 'm3', 'm4', 'm5']);
    const { handler, batches } = recordingHandler((records) => failing(records, ['bad']));

    // Act
    await drain(consumer(handler));

    // Assess
    expect(batches).toEqual([['m1', 'bad', 'm3', 'm4', 'm5'], ...Array(SOURCE.maximumRetryAttempts).fill(['bad', 'm3', 'm4', 'm5'])]);
    expect(deadLetters().map((letter) => textOf(letter.record))).toEqual(['bad']);
    expect(Object.values(checkpoint().shards)[0]!.sequenceNumber).toBe(await lastSequenceNumber());
  });

  it('dead-letters records older than maximumRecordAgeInSeconds without delivering them', async () => {
    // Prepare: the consumer's clock two hours ahead of the records.
    await putMessages(['stale1', 'stale2']);
    const { handler, batches } = recordingHandler();

    // Act
    await drain(consumer(handler, { now: () => Date.now() + 2 * 3600 * 1000 }));

    // Assess
    expect(batches).toEqual([]);
    expect(deadLetters().map((letter) => [textOf(letter.record), letter.reason])).toEqual([
      ['stale1', 'maximum-record-age-exceeded'],
      ['stale2', 'maximum-record-age-exceeded'],
    ]);
  });

  it('a restarted consumer resumes after its checkpoint: nothing delivered twice, nothing lost', async () => {
    // Prepare: a first consumer processes three messages and stops.
    await putMessages(['a1', 'a2', 'a3']);
    const first = recordingHandler();
    const before = consumer(first.handler);
    await drain(before);
    await before.stop();
    await putMessages(['b1', 'b2']);

    // Act: a second one on the same checkpoint file, and one on a fresh file.
    const second = recordingHandler();
    await drain(consumer(second.handler));
    const fresh = recordingHandler();
    const freshFiles = tempFiles();
    await drain(consumer(fresh.handler, { checkpointFile: freshFiles.checkpointFile, deadLetterFile: freshFiles.deadLetterFile }));
    rmSync(freshFiles.dir, { recursive: true, force: true });

    // Assess
    expect(first.batches).toEqual([['a1', 'a2', 'a3']]);
    expect(second.batches).toEqual([['b1', 'b2']]);
    // Without a checkpoint, the catalog's TRIM_HORIZON starts at the stream's beginning.
    expect(fresh.batches).toEqual([['a1', 'a2', 'a3', 'b1', 'b2']]);
  });

  it('follows a re-created table to its new stream, from the beginning', async () => {
    // Prepare
    await putMessages(['old']);
    const { handler, batches } = recordingHandler();
    const running = consumer(handler);
    await drain(running);
    const oldArn = running.status().streamArn;
    const lowLevel = table.client as unknown as DynamoDBClient;
    await lowLevel.send(new DeleteTableCommand({ TableName: table.tableName }));
    await waitUntilTableNotExists({ client: lowLevel, maxWaitTime: 60 }, { TableName: table.tableName });
    await ensureTable(lowLevel, table.tableName);
    await putMessages(['new1', 'new2']);

    // Act: polled until its once-a-second look at the table finds the new stream (the test
    // drives the consumer: nothing polls it otherwise).
    for (const deadline = Date.now() + 30_000; running.status().streamArn === oldArn && Date.now() < deadline; ) {
      await running.pollOnce();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const status = await drain(running);

    // Assess
    expect(status.streamArn).not.toBe(oldArn);
    expect(batches).toEqual([['old'], ['new1', 'new2']]);
    expect(checkpoint().streamArn).toBe(status.streamArn);
  });
});

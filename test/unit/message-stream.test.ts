import { Logger } from '@aws-lambda-powertools/logger';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBRecord } from 'aws-lambda';
import type { NewestMessage, SummaryMoveResult } from '../../functions/data/messages-repository';
import { buildGroupItem, buildMessageItem, type Participant } from '../../functions/data/model';
import type { RetryOptions } from '../../functions/data/retry';
import { createMessageStreamHandler, TIME_RESERVE_MS } from '../../functions/message-stream/index';
import { collectNewestMessages, UnreportableFailureError, type SummaryMover, UNPLACEABLE_MESSAGE } from '../../functions/message-stream/summaries';

// ---- factories ----

const alice: Participant = { user_uuid: 'a', display_name: 'Alice', handle: 'alice' };
const bob: Participant = { user_uuid: 'b', display_name: 'Bob', handle: 'bob' };

let nextSequenceNumber = 1;

type Image = NonNullable<DynamoDBRecord['dynamodb']>['NewImage'];

/** A stream record as Lambda delivers it, for an item. */
function itemRecord(item: Record<string, unknown>, eventName: 'INSERT' | 'MODIFY' | 'REMOVE' = 'INSERT', sequenceNumber?: string): DynamoDBRecord {
  const image = marshall(item, { removeUndefinedValues: true }) as Image;
  return {
    eventID: `event-${nextSequenceNumber}`,
    eventName,
    eventSource: 'aws:dynamodb',
    dynamodb: {
      Keys: marshall({ pk: item.pk, sk: item.sk }) as Image,
      NewImage: eventName === 'REMOVE' ? undefined : image,
      SequenceNumber: sequenceNumber ?? String(nextSequenceNumber++).padStart(21, '0'),
      StreamViewType: 'NEW_IMAGE',
    },
  };
}

/** A new message in `group` at second `second` of a fixed minute. */
function messageRecord(group: string, second: number, text = `${group} at ${second}`, sequenceNumber?: string): DynamoDBRecord {
  const createdAt = `2026-03-01T10:00:${String(second).padStart(2, '0')}.000Z`;
  const item = buildMessageItem({ groupUuid: group, messageUuid: `m-${nextSequenceNumber}`, sender: alice, text, createdAt });
  return itemRecord(item as unknown as Record<string, unknown>, 'INSERT', sequenceNumber);
}

const sequenceNumbers = (records: DynamoDBRecord[]) => records.map((record) => record.dynamodb!.SequenceNumber!);

/** A repository double recording moves; `behaviour` decides each move's outcome. */
function fakeMover(behaviour: (groupUuid: string, newest: NewestMessage, call: number) => Promise<SummaryMoveResult> = async () => 'moved') {
  const moves: { groupUuid: string; newest: NewestMessage }[] = [];
  const retryOptions: RetryOptions[] = [];
  const mover: SummaryMover = {
    moveGroupSummary: (groupUuid, newest) => {
      moves.push({ groupUuid, newest });
      return behaviour(groupUuid, newest, moves.length);
    },
  };
  return {
    moves,
    retryOptions,
    summaryMover: (retry: RetryOptions) => {
      retryOptions.push(retry);
      return mover;
    },
  };
}

function lambdaContext(remainingMs: () => number = () => 60_000): Context {
  return {
    awsRequestId: 'request-1',
    functionName: 'cruddur-test-message-stream',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:cruddur-test-message-stream',
    memoryLimitInMB: '256',
    logGroupName: '/aws/lambda/cruddur-test-message-stream',
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function silentLogger(): Logger {
  return new Logger({ serviceName: 'message-stream-test', logLevel: 'SILENT' });
}

// ---- tests ----

describe('collectNewestMessages', () => {
  it('keeps only the message of a pattern D transaction', () => {
    // Prepare
    const message = buildMessageItem({ groupUuid: 'g', messageUuid: 'm', sender: alice, text: 'hi', createdAt: '2026-03-01T10:00:00.000Z' });
    const group = buildGroupItem({ groupUuid: 'g', members: [alice, bob], lastMessageSk: message.sk, lastMessage: 'hi', createdAt: message.created_at });
    const records = [
      itemRecord({ pk: 'PAIR#a#b', sk: 'PAIR', group_uuid: 'g' }),
      itemRecord(group as unknown as Record<string, unknown>),
      itemRecord({ pk: 'GRP#a', sk: `${message.created_at}#g`, message_group_uuid: 'g', message: 'hi' }),
      itemRecord({ pk: 'GRP#b', sk: `${message.created_at}#g`, message_group_uuid: 'g', message: 'hi' }),
      itemRecord(message as unknown as Record<string, unknown>),
    ];

    // Act
    const { groups, skipped } = collectNewestMessages(records);

    // Assess
    expect(groups).toEqual([
      {
        groupUuid: 'g',
        newest: { sk: message.sk, message: 'hi' },
        oldestSk: message.sk,
        sequenceNumbers: [records[4]!.dynamodb!.SequenceNumber],
        keys: [{ pk: message.pk, sk: message.sk }],
        unidentifiedRecords: 0,
      },
    ]);
    expect(skipped.map((record) => record.reason)).toEqual(['not-a-message', 'not-a-message', 'not-a-message', 'not-a-message']);
  });

  it('picks the newest message of each group by sort key, whatever the record order', () => {
    // Prepare
    const records = [messageRecord('g1', 30), messageRecord('g2', 5), messageRecord('g1', 45), messageRecord('g1', 10), messageRecord('g2', 1)];

    // Act
    const { groups } = collectNewestMessages(records);

    // Assess
    expect(groups.map((group) => [group.groupUuid, group.newest.message, group.sequenceNumbers.length])).toEqual([
      ['g1', 'g1 at 45', 3],
      ['g2', 'g2 at 5', 2],
    ]);
  });

  it('skips modified and removed messages, records without a new image and malformed message items', () => {
    // Prepare
    const message = buildMessageItem({
      groupUuid: 'g',
      messageUuid: 'm',
      sender: alice,
      text: 'hi',
      createdAt: '2026-03-01T10:00:00.000Z',
    }) as unknown as Record<string, unknown>;
    const withoutImage = itemRecord(message);
    delete withoutImage.dynamodb!.NewImage;
    const records = [
      itemRecord(message, 'MODIFY'),
      itemRecord(message, 'REMOVE'),
      withoutImage,
      itemRecord({ pk: 'MSG#g', sk: '2026-03-01T10:00:00.000Z#x' }),
      { eventName: 'INSERT', dynamodb: { SequenceNumber: '99', NewImage: { pk: { X: 'not a DynamoDB type' } } } } as unknown as DynamoDBRecord,
    ];

    // Act
    const { groups, skipped } = collectNewestMessages(records);

    // Assess
    expect(groups).toEqual([]);
    expect(skipped.map((record) => record.reason)).toEqual(['not-an-insert', 'not-an-insert', 'no-new-image', 'malformed-image', 'malformed-image']);
  });
});

describe('messageStreamHandler', () => {
  it('moves each group once, to its newest message, for a batch of many messages', async () => {
    // Prepare
    const records = Array.from({ length: 100 }, (_, index) => messageRecord(`g${index % 10}`, index % 60));
    const fake = fakeMover();
    const handler = createMessageStreamHandler({ summaryMover: fake.summaryMover, logger: silentLogger() });

    // Act
    const response = await handler({ Records: records }, lambdaContext());

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(fake.moves).toHaveLength(10);
    const expected = collectNewestMessages(records).groups.map(({ groupUuid, newest }) => ({ groupUuid, newest }));
    expect(new Set(fake.moves.map((move) => move.groupUuid)).size).toBe(10);
    expect(fake.moves).toEqual(expect.arrayContaining(expected));
    // g0 has records 0, 10, ..., 90, at seconds 0, 10, 20, 30, 40, 50, 0, 10, 20, 30: the newest is not the last.
    expect(fake.moves.find((move) => move.groupUuid === 'g0')!.newest.message).toBe('g0 at 50');
  });

  it('reports every record of a failed group and nothing else, and still moves the other groups', async () => {
    // Prepare
    const records = [messageRecord('ok1', 1), messageRecord('bad', 2), messageRecord('ok2', 3), messageRecord('bad', 4), messageRecord('ok1', 5)];
    const fake = fakeMover(async (groupUuid) => {
      if (groupUuid === 'bad') throw new Error('DynamoDB is unreachable');
      return 'moved';
    });
    const logger = silentLogger();
    const errors = jest.spyOn(logger, 'error');
    const handler = createMessageStreamHandler({ summaryMover: fake.summaryMover, logger });

    // Act
    const response = await handler({ Records: records }, lambdaContext());

    // Assess
    expect(response.batchItemFailures).toEqual(sequenceNumbers([records[1]!, records[3]!]).map((itemIdentifier) => ({ itemIdentifier })));
    expect(fake.moves.map((move) => move.groupUuid).sort()).toEqual(['bad', 'ok1', 'ok2']);
    expect(errors).toHaveBeenCalledWith('Group summaries not moved', expect.objectContaining({ groupUuid: 'bad', records: 2 }));
  });

  it('records the messages of a group without a group item at once, with their keys, and does not retry them', async () => {
    // Prepare: an original's table, not yet migrated, has groups without a group item.
    const records = [messageRecord('ok', 1), messageRecord('unmigrated', 2), messageRecord('unmigrated', 3)];
    const fake = fakeMover(async (groupUuid) => (groupUuid === 'unmigrated' ? 'no-group' : 'moved'));
    const logger = silentLogger();
    const errors = jest.spyOn(logger, 'error');
    const handler = createMessageStreamHandler({ summaryMover: fake.summaryMover, logger });

    // Act
    const response = await handler({ Records: records }, lambdaContext());

    // Assess: nothing to retry, and one line that names every record and what to do.
    expect(response).toEqual({ batchItemFailures: [] });
    expect(errors).toHaveBeenCalledTimes(1);
    expect(errors).toHaveBeenCalledWith(UNPLACEABLE_MESSAGE, {
      reason: 'no-group-item',
      groupUuid: 'unmigrated',
      records: 2,
      keys: [records[1]!, records[2]!].map((record) => ({ pk: record.dynamodb!.Keys!.pk!.S, sk: record.dynamodb!.Keys!.sk!.S })),
      sequenceNumbers: sequenceNumbers([records[1]!, records[2]!]),
      fix: 'npm run ddb:migrate',
    });
  });

  it('answers an empty batch with no failures and no moves', async () => {
    // Prepare
    const fake = fakeMover();
    const handler = createMessageStreamHandler({ summaryMover: fake.summaryMover, logger: silentLogger() });

    // Act
    const response = await handler({ Records: [] }, lambdaContext());

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(fake.moves).toEqual([]);
  });

  it('logs and skips a record without a new image instead of crashing', async () => {
    // Prepare
    const broken = messageRecord('g', 1);
    delete broken.dynamodb!.NewImage;
    const fake = fakeMover();
    const logger = silentLogger();
    const warnings = jest.spyOn(logger, 'warn');
    const handler = createMessageStreamHandler({ summaryMover: fake.summaryMover, logger });

    // Act
    const response = await handler({ Records: [broken, messageRecord('h', 2)] }, lambdaContext());

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(fake.moves.map((move) => move.groupUuid)).toEqual(['h']);
    expect(warnings).toHaveBeenCalledWith(
      'Stream record skipped',
      expect.objectContaining({ reason: 'no-new-image', sequenceNumber: broken.dynamodb!.SequenceNumber }),
    );
  });

  it('retries throttling the SDK gave up on, then succeeds', async () => {
    // Prepare
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' });
    const fake = fakeMover(async (_group, _newest, call) => {
      if (call === 1) throw throttled;
      return 'moved';
    });
    const handler = createMessageStreamHandler({ summaryMover: fake.summaryMover, logger: silentLogger() });

    // Act
    const response = await handler({ Records: [messageRecord('g', 1)] }, lambdaContext());

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(fake.moves).toHaveLength(2);
  });

  it('does not retry errors a retry cannot fix', async () => {
    // Prepare
    const fake = fakeMover(async () => {
      throw new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: [{ Code: 'ValidationError' }] });
    });
    const record = messageRecord('g', 1);
    const handler = createMessageStreamHandler({ summaryMover: fake.summaryMover, logger: silentLogger() });

    // Act
    const response = await handler({ Records: [record] }, lambdaContext());

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: record.dynamodb!.SequenceNumber }]);
    expect(fake.moves).toHaveLength(1);
  });

  it("gives the repository a retry budget bounded by the invocation's remaining time", async () => {
    // Prepare
    let remaining = 60_000;
    const fake = fakeMover();
    const handler = createMessageStreamHandler({ summaryMover: fake.summaryMover, logger: silentLogger() });
    await handler(
      { Records: [messageRecord('g', 1)] },
      lambdaContext(() => remaining),
    );
    const canRetry = fake.retryOptions[0]!.canRetry!;

    // Act
    const early = canRetry();
    remaining = TIME_RESERVE_MS - 1;
    const late = canRetry();

    // Assess
    expect(early).toBe(true);
    expect(late).toBe(false);
  });

  it('reports groups it had no time left to start, without calling the repository', async () => {
    // Prepare
    const records = [messageRecord('g1', 1), messageRecord('g2', 2)];
    const fake = fakeMover();
    const handler = createMessageStreamHandler({ summaryMover: fake.summaryMover, logger: silentLogger() });

    // Act
    const response = await handler(
      { Records: records },
      lambdaContext(() => TIME_RESERVE_MS - 1),
    );

    // Assess
    expect(response.batchItemFailures).toEqual(sequenceNumbers(records).map((itemIdentifier) => ({ itemIdentifier })));
    expect(fake.moves).toEqual([]);
  });

  it('stops retrying throttling when time runs short and reports the group', async () => {
    // Prepare
    let remaining = 60_000;
    const fake = fakeMover(async () => {
      remaining = 1000;
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    });
    const record = messageRecord('g', 1);
    const handler = createMessageStreamHandler({ summaryMover: fake.summaryMover, logger: silentLogger() });

    // Act
    const response = await handler(
      { Records: [record] },
      lambdaContext(() => remaining),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: record.dynamodb!.SequenceNumber }]);
    expect(fake.moves).toHaveLength(1);
  });

  it('fails the whole batch when a failed group has a record Lambda cannot be told about', async () => {
    // Prepare
    const unidentified = messageRecord('g', 1);
    delete unidentified.dynamodb!.SequenceNumber;
    const fake = fakeMover(async () => {
      throw new Error('boom');
    });
    const handler = createMessageStreamHandler({ summaryMover: fake.summaryMover, logger: silentLogger() });

    // Act
    const outcome = handler({ Records: [unidentified] }, lambdaContext());

    // Assess
    await expect(outcome).rejects.toThrow(UnreportableFailureError);
  });
});

describe('the message-stream module', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('can be imported without TABLE_NAME or credentials (clients are created on first use)', () => {
    // Prepare
    delete process.env.TABLE_NAME;

    // Act
    const load = () => jest.isolateModules(() => require('../../functions/message-stream/index'));

    // Assess
    expect(load).not.toThrow();
  });

  it('names the missing TABLE_NAME when invoked without it', async () => {
    // Prepare
    delete process.env.TABLE_NAME;
    let handler: typeof import('../../functions/message-stream/index').handler = undefined as never;
    jest.isolateModules(() => {
      handler = require('../../functions/message-stream/index').handler;
    });

    // Act
    const outcome = handler({ Records: [messageRecord('g', 1)] }, lambdaContext());

    // Assess
    await expect(outcome).rejects.toThrow(/TABLE_NAME/);
  });
});

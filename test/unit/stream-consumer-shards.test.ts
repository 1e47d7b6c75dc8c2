/**
 * The stream consumer's shard handling: parent before child, shards appearing later,
 * resuming with finished shards, expired iterators and trimmed checkpoints.
 *
 * DynamoDB Local kept one shard per stream in every run we made (also across restarts),
 * and cannot be made to split, close or trim one, so these cases run on a scripted
 * Streams API that follows the AWS contract (DescribeStream shard lineage,
 * GetShardIterator types, NextShardIterator absent at the end of a closed shard, the
 * ExpiredIterator and TrimmedDataAccess errors). No network; the real-stream behaviour
 * is tested in stream-consumer.test.ts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, type _Record as StreamsRecord } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { streamFunctionNamed, MESSAGE_STREAM_SOURCE } from '../../functions/catalog';
import { createStreamConsumer, type StreamConsumer, type StreamConsumerOptions, type StreamHandler } from '../../local/streams/consumer';

interface ScriptedShard {
  id: string;
  parent?: string;
  records: StreamsRecord[];
  closed: boolean;
  /** Records with sequence numbers at or below this were trimmed (24-hour retention). */
  trimmedThrough?: number;
}

const awsError = (name: string, message: string) => Object.assign(new Error(message), { name });

/** A Streams API (and DescribeTable) over scripted shards. */
class ScriptedStream {
  readonly arn = 'arn:aws:dynamodb:ddblocal:000000000000:table/scripted/stream/2026-01-01T00:00:00.000';
  readonly shards: ScriptedShard[] = [];
  /** GetRecords calls, by shard, in order. */
  readonly reads: string[] = [];
  expireNextIterator = false;
  /** The next GetRecords fails with this error (the iterator can never be read again). */
  failNextRead?: string;
  /** The records' ApproximateCreationDateTime. */
  clock: () => number = Date.now;
  private sequence = 0;

  shard(id: string, parent?: string): ScriptedShard {
    const shard: ScriptedShard = { id, parent, records: [], closed: false };
    this.shards.push(shard);
    return shard;
  }

  write(shard: ScriptedShard, ...texts: string[]): void {
    for (const text of texts) {
      this.sequence += 1;
      shard.records.push({
        eventID: `event-${this.sequence}`,
        eventName: 'INSERT',
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: 'ddblocal',
        dynamodb: {
          ApproximateCreationDateTime: new Date(this.clock()),
          Keys: { pk: { S: 'MSG#group' }, sk: { S: `sk-${this.sequence}` } },
          NewImage: { pk: { S: 'MSG#group' }, sk: { S: `sk-${this.sequence}` }, message: { S: text } },
          SequenceNumber: String(this.sequence).padStart(21, '0'),
          SizeBytes: 100,
          StreamViewType: 'NEW_IMAGE',
        },
      });
    }
  }

  readonly client = {
    send: async (command: unknown): Promise<unknown> => {
      if (command instanceof DescribeTableCommand) return { Table: { LatestStreamArn: this.arn, StreamSpecification: { StreamEnabled: true } } };
      if (command instanceof DescribeStreamCommand) {
        return {
          StreamDescription: {
            StreamArn: this.arn,
            Shards: this.shards.map((shard) => ({
              ShardId: shard.id,
              ParentShardId: shard.parent,
              SequenceNumberRange: {
                StartingSequenceNumber: shard.records[0]?.dynamodb?.SequenceNumber,
                EndingSequenceNumber: shard.closed ? shard.records[shard.records.length - 1]?.dynamodb?.SequenceNumber : undefined,
              },
            })),
          },
        };
      }
      if (command instanceof GetShardIteratorCommand) {
        const { ShardId, ShardIteratorType, SequenceNumber } = command.input;
        const shard = this.shards.find((candidate) => candidate.id === ShardId)!;
        const oldest = shard.records.findIndex((record) => Number(record.dynamodb!.SequenceNumber) > (shard.trimmedThrough ?? 0));
        if (ShardIteratorType === 'AFTER_SEQUENCE_NUMBER') {
          if (Number(SequenceNumber) < (shard.trimmedThrough ?? 0)) throw awsError('TrimmedDataAccessException', 'trimmed');
          return { ShardIterator: `${shard.id}|${shard.records.findIndex((record) => record.dynamodb!.SequenceNumber === SequenceNumber) + 1}` };
        }
        return { ShardIterator: `${shard.id}|${ShardIteratorType === 'LATEST' ? shard.records.length : Math.max(0, oldest)}` };
      }
      if (command instanceof GetRecordsCommand) {
        if (this.expireNextIterator) {
          this.expireNextIterator = false;
          throw awsError('ExpiredIteratorException', 'expired');
        }
        if (this.failNextRead) {
          const name = this.failNextRead;
          this.failNextRead = undefined;
          throw awsError(name, 'The operation attempted to read past the oldest stream record in a shard.');
        }
        const [shardId, position] = command.input.ShardIterator!.split('|') as [string, string];
        const shard = this.shards.find((candidate) => candidate.id === shardId)!;
        this.reads.push(shardId);
        const from = Number(position);
        const records = shard.records.slice(from, from + (command.input.Limit ?? 1000));
        const next = from + records.length;
        return { Records: records, NextShardIterator: shard.closed && next >= shard.records.length ? undefined : `${shard.id}|${next}` };
      }
      throw new Error(`Unexpected command ${(command as object).constructor.name}`);
    },
  };
}

describe('local stream consumer: shards', () => {
  let dir: string;
  let stream: ScriptedStream;
  let clock: number;
  const consumers: StreamConsumer[] = [];

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cruddur-shards-'));
    stream = new ScriptedStream();
    clock = Date.now();
    stream.clock = () => clock;
  });

  afterEach(async () => {
    for (const created of consumers.splice(0)) await created.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function recording() {
    const batches: string[][] = [];
    const handler: StreamHandler = async (event: DynamoDBStreamEvent) => {
      batches.push(event.Records.map((record) => record.dynamodb!.NewImage!.message!.S!));
    };
    return { handler, batches };
  }

  function consumer(handler: StreamHandler, overrides: Partial<StreamConsumerOptions> = {}): StreamConsumer {
    const created = createStreamConsumer({
      dynamodbUrl: 'http://scripted.invalid',
      tableName: 'scripted',
      handler,
      fn: streamFunctionNamed('message-stream'),
      source: { ...MESSAGE_STREAM_SOURCE, maximumBatchingWindowInSeconds: 0 },
      checkpointFile: path.join(dir, 'checkpoint.json'),
      deadLetterFile: path.join(dir, 'dead-letters.jsonl'),
      retryDelayMs: () => 0,
      log: () => {},
      // Each poll a second later, so shards are looked up every poll.
      now: () => clock,
      clients: { dynamodb: stream.client as never, streams: stream.client as never },
      ...overrides,
    });
    consumers.push(created);
    return created;
  }

  async function drain(target: StreamConsumer) {
    for (let poll = 0; poll < 50; poll += 1) {
      clock += 1001;
      await target.pollOnce();
      if (target.status().caughtUp) return target.status();
    }
    throw new Error(`Not caught up: ${JSON.stringify(target.status())}`);
  }

  const checkpoint = () =>
    JSON.parse(readFileSync(path.join(dir, 'checkpoint.json'), 'utf8')) as { shards: Record<string, { sequenceNumber?: string; finished?: boolean }> };

  it('refuses, before reading anything, a filter pattern Lambda would refuse, naming the function and the field', () => {
    // Act & Assess
    expect(() => consumer(recording().handler, { source: { ...MESSAGE_STREAM_SOURCE, filterPatterns: [{ eventName: [{ wildcard: 'IN*' }] }] } })).toThrow(
      'stream function message-stream: Filter pattern 1 of 1: Filter pattern field "eventName": "wildcard" is not an operator Lambda\'s filter rules accept (known: equals-ignore-case, prefix, suffix, anything-but, numeric, exists); "wildcard" is EventBridge-only',
    );
    expect(stream.reads).toEqual([]);
  });

  it('reads a closed parent to its end before its child, then marks it finished', async () => {
    // Prepare
    const parent = stream.shard('shard-parent');
    stream.write(parent, 'p1', 'p2', 'p3');
    parent.closed = true;
    const child = stream.shard('shard-child', parent.id);
    stream.write(child, 'c1', 'c2');
    const { handler, batches } = recording();

    // Act
    await drain(consumer(handler));

    // Assess
    expect(batches).toEqual([
      ['p1', 'p2', 'p3'],
      ['c1', 'c2'],
    ]);
    expect(stream.reads.indexOf('shard-child')).toBeGreaterThan(stream.reads.lastIndexOf('shard-parent'));
    expect(checkpoint().shards).toEqual({
      'shard-parent': { sequenceNumber: '000000000000000000003', finished: true },
      'shard-child': { sequenceNumber: '000000000000000000005' },
    });
  });

  it('finds a shard that appears later and reads it once its parent closes', async () => {
    // Prepare
    const first = stream.shard('shard-1');
    stream.write(first, 'm1');
    const { handler, batches } = recording();
    const running = consumer(handler);
    await drain(running);

    // Act: the shard closes after one more record; its child takes over.
    stream.write(first, 'm2');
    first.closed = true;
    const second = stream.shard('shard-2', first.id);
    stream.write(second, 'm3');
    await drain(running);

    // Assess
    expect(batches).toEqual([['m1'], ['m2'], ['m3']]);
    expect(checkpoint().shards['shard-1']).toEqual({ sequenceNumber: '000000000000000000002', finished: true });
  });

  it('resumes from the checkpoint after a restart: finished shards stay done, open ones continue after their checkpoint', async () => {
    // Prepare
    const parent = stream.shard('shard-parent');
    stream.write(parent, 'p1');
    parent.closed = true;
    const child = stream.shard('shard-child', parent.id);
    stream.write(child, 'c1');
    const before = consumer(recording().handler);
    await drain(before);
    await before.stop();
    stream.write(child, 'c2', 'c3');

    // Act
    const after = recording();
    await drain(consumer(after.handler));

    // Assess
    expect(after.batches).toEqual([['c2', 'c3']]);
  });

  it('replaces an expired iterator after the last fetched record: nothing lost, nothing repeated', async () => {
    // Prepare
    const shard = stream.shard('shard-1');
    stream.write(shard, 'm1', 'm2');
    const { handler, batches } = recording();
    const running = consumer(handler);
    await drain(running);
    stream.write(shard, 'm3');
    stream.expireNextIterator = true;

    // Act
    await drain(running);

    // Assess
    expect(batches).toEqual([['m1', 'm2'], ['m3']]);
  });

  it('continues at the oldest record left when the checkpoint was trimmed from the stream', async () => {
    // Prepare
    const shard = stream.shard('shard-1');
    stream.write(shard, 'm1');
    const before = consumer(recording().handler);
    await drain(before);
    await before.stop();
    stream.write(shard, 'm2', 'm3', 'm4');
    shard.trimmedThrough = 2;
    const lines: string[] = [];

    // Act
    const after = recording();
    await drain(consumer(after.handler, { log: (line) => lines.push(line) }));

    // Assess: m2 is gone with the trim, and the log says so.
    expect(after.batches).toEqual([['m3', 'm4']]);
    expect(lines.join('\n')).toMatch(/trimmed from the stream/);
  });

  it('replaces an iterator GetRecords answers TrimmedDataAccessException for, and reports what was trimmed: it never sticks', async () => {
    // Prepare: DynamoDB Local has answered a GetRecords so right after "reading from LATEST".
    const shard = stream.shard('shard-1');
    stream.write(shard, 'm1');
    const { handler, batches } = recording();
    const running = consumer(handler);
    await drain(running);
    stream.write(shard, 'm2', 'm3');
    stream.failNextRead = 'TrimmedDataAccessException';

    // Act
    await drain(running);

    // Assess: a new iterator after m1, nothing lost or repeated, and the trim reported as a dead letter.
    expect(batches).toEqual([['m1'], ['m2', 'm3']]);
    const deadLetters = readFileSync(path.join(dir, 'dead-letters.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(deadLetters).toEqual([expect.objectContaining({ reason: 'records-trimmed', shardId: 'shard-1', afterSequenceNumber: '000000000000000000001' })]);
  });

  it("retries without end with maximumRetryAttempts -1 (AWS's default), until the function succeeds", async () => {
    // Prepare: the function fails seven times, then succeeds.
    const shard = stream.shard('shard-1');
    stream.write(shard, 'm1');
    let failures = 7;
    const delivered: string[][] = [];
    const handler: StreamHandler = async (event) => {
      if (failures-- > 0) throw new Error('not yet');
      delivered.push(event.Records.map((record) => record.dynamodb!.NewImage!.message!.S!));
    };

    // Act
    const status = await drain(
      consumer(handler, { source: { ...MESSAGE_STREAM_SOURCE, maximumBatchingWindowInSeconds: 0, maximumRetryAttempts: -1, maximumRecordAgeInSeconds: -1 } }),
    );

    // Assess
    expect(delivered).toEqual([['m1']]);
    expect(status.deadLettered).toBe(0);
    expect(status.invocations).toBe(8);
  });

  it('ends a retry with the records it was retrying once they are given up for their age: the next batch is whole again', async () => {
    // Prepare: a batch of two fails and is retried (no bisection), then both outlive the maximum record age.
    const shard = stream.shard('shard-1');
    stream.write(shard, 'old1', 'old2');
    const source = {
      ...MESSAGE_STREAM_SOURCE,
      batchSize: 3,
      maximumBatchingWindowInSeconds: 0,
      bisectBatchOnFunctionError: false,
      maximumRetryAttempts: 50,
      maximumRecordAgeInSeconds: 60,
    };
    const batches: string[][] = [];
    const handler: StreamHandler = async (event) => {
      const texts = event.Records.map((record) => record.dynamodb!.NewImage!.message!.S!);
      batches.push(texts);
      if (texts.some((text) => text.startsWith('old'))) throw new Error('poison');
    };
    const running = consumer(handler, { source, retryDelayMs: () => 60_000 });
    clock += 1001;
    await running.pollOnce();
    expect(running.status().shards[0]!.retrying).toEqual({ attempts: 1, from: '000000000000000000001' });

    // Act: two minutes later the retried records are too old; three new ones arrive.
    clock += 121_000;
    await running.pollOnce();
    stream.write(shard, 'new1', 'new2', 'new3');
    const status = await drain(running);

    // Assess: the retry ended with them, and the new records go out as one batch of three.
    expect(status.shards[0]!.retrying).toBeUndefined();
    expect(batches.at(-1)).toEqual(['new1', 'new2', 'new3']);
    expect(status.deadLettered).toBe(2);
  });

  it('starts at LATEST by passing over what the shard holds, so a trimmed iterator later loses nothing written since', async () => {
    // Prepare: history before the mapping exists; then it starts (LATEST), and a message arrives.
    const shard = stream.shard('shard-1');
    stream.write(shard, 'before1', 'before2');
    const { handler, batches } = recording();
    const running = consumer(handler, { source: { ...MESSAGE_STREAM_SOURCE, startingPosition: 'LATEST', maximumBatchingWindowInSeconds: 0 } });
    await drain(running);
    stream.write(shard, 'after1');
    // DynamoDB Local has answered so right after a LATEST start.
    stream.failNextRead = 'TrimmedDataAccessException';
    stream.write(shard, 'after2');

    // Act
    await drain(running);

    // Assess: nothing from before, everything from after, and the start is where a restart resumes.
    expect(batches.flat()).toEqual(['after1', 'after2']);
    expect(checkpoint().shards['shard-1']!.sequenceNumber).toBe('000000000000000000004');
  });
});

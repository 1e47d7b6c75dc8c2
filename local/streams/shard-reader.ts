/**
 * Reading a DynamoDB stream (DynamoDB Local's): the table's stream, its shards, iterators and
 * records, and the conversion of a record into the shape Lambda delivers. The local event
 * source mapping (`consumer.ts`) reads through it, and so do the tests and benchmarks that
 * feed a handler what the table really emitted (`openStreamTail`).
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamsRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';

export type { StreamsRecord };

/** The client calls this module makes (a real client, or a scripted one in tests). */
export type StreamsApi = Pick<DynamoDBStreamsClient, 'send'>;

export interface ShardDescription {
  shardId: string;
  parentShardId?: string;
  /** DescribeStream showed an ending sequence number: nothing more will be written to it. */
  closed: boolean;
}

/** Where an iterator starts. */
export type StreamPosition = { type: 'TRIM_HORIZON' | 'LATEST' } | { type: 'AFTER_SEQUENCE_NUMBER'; sequenceNumber: string };

/** The table has no stream, or it is disabled. */
class NoStreamError extends Error {
  override readonly name = 'NoStreamError';
}

/** The ARN of the table's current stream. @throws NoStreamError */
export async function latestStreamArn(dynamodb: Pick<DynamoDBClient, 'send'>, tableName: string): Promise<string> {
  const table = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
  const latest = table.Table?.LatestStreamArn;
  if (latest === undefined || table.Table?.StreamSpecification?.StreamEnabled === false) throw new NoStreamError(`table ${tableName} has no stream enabled`);
  return latest;
}

/** Every shard of the stream, following DescribeStream's pages. */
export async function listShards(streams: StreamsApi, streamArn: string): Promise<ShardDescription[]> {
  const shards: ShardDescription[] = [];
  let exclusiveStartShardId: string | undefined;
  do {
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: exclusiveStartShardId }));
    for (const shard of StreamDescription?.Shards ?? []) {
      if (shard.ShardId === undefined) continue;
      shards.push({ shardId: shard.ShardId, parentShardId: shard.ParentShardId, closed: shard.SequenceNumberRange?.EndingSequenceNumber !== undefined });
    }
    exclusiveStartShardId = StreamDescription?.LastEvaluatedShardId;
  } while (exclusiveStartShardId !== undefined);
  return shards;
}

/** An iterator of `shardId` at `position`; undefined when the shard has nothing more to give. */
export async function shardIterator(streams: StreamsApi, streamArn: string, shardId: string, position: StreamPosition): Promise<string | undefined> {
  const output = await streams.send(
    new GetShardIteratorCommand({
      StreamArn: streamArn,
      ShardId: shardId,
      ShardIteratorType: position.type,
      ...(position.type === 'AFTER_SEQUENCE_NUMBER' ? { SequenceNumber: position.sequenceNumber } : {}),
    }),
  );
  return output.ShardIterator;
}

/** One GetRecords: the records and the next iterator (undefined once a closed shard is read to its end). */
export async function readRecords(streams: StreamsApi, iterator: string, limit = 1000): Promise<{ records: StreamsRecord[]; next?: string }> {
  const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
  return { records: page.Records ?? [], next: page.NextShardIterator };
}

/** Sequence numbers are decimal strings of any length: compared as numbers. */
export function compareSequenceNumbers(a: string, b: string): number {
  const [x, y] = [BigInt(a), BigInt(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Lambda's shape of a Streams API record: epoch seconds, plus `eventSourceARN`. */
export function toLambdaRecord(record: StreamsRecord, streamArn: string): DynamoDBRecord {
  const stream = record.dynamodb ?? {};
  const created = stream.ApproximateCreationDateTime;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion,
    eventSource: record.eventSource,
    awsRegion: record.awsRegion,
    eventSourceARN: streamArn,
    dynamodb: {
      ...(created === undefined ? {} : { ApproximateCreationDateTime: Math.floor(created.getTime() / 1000) }),
      Keys: stream.Keys as NonNullable<DynamoDBRecord['dynamodb']>['Keys'],
      ...(stream.NewImage ? { NewImage: stream.NewImage as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'] } : {}),
      ...(stream.OldImage ? { OldImage: stream.OldImage as NonNullable<DynamoDBRecord['dynamodb']>['OldImage'] } : {}),
      SequenceNumber: stream.SequenceNumber,
      SizeBytes: stream.SizeBytes,
      StreamViewType: stream.StreamViewType,
    },
  };
}

/** The records a table emitted since the previous call, unfiltered, as Lambda delivers them. */
export interface StreamTail {
  streamArn: string;
  /** Every record written since the previous call (since the table was created, the first time), oldest first. */
  readNew(): Promise<DynamoDBRecord[]>;
  close(): void;
}

/**
 * Opens the stream of `tableName` at TRIM_HORIZON, for tests and benchmarks that hand a
 * handler real records (one per item of a transaction, real sequence numbers). Pass the
 * table's client: the stream client reuses its endpoint, region and credentials.
 */
export async function openStreamTail(client: DynamoDBDocumentClient, tableName: string): Promise<StreamTail> {
  const streamArn = await latestStreamArn(client, tableName);
  const streams = new DynamoDBStreamsClient({
    endpoint: await client.config.endpoint?.(),
    region: await client.config.region(),
    credentials: await client.config.credentials(),
  });
  /** Where reading continues, per shard; undefined once a closed shard is drained. */
  const iterators = new Map<string, string | undefined>();

  async function readShard(shardId: string): Promise<StreamsRecord[]> {
    const records: StreamsRecord[] = [];
    let iterator = iterators.get(shardId);
    // An open shard hands out a next iterator forever; an empty page means "caught up".
    while (iterator !== undefined) {
      const page = await readRecords(streams, iterator);
      records.push(...page.records);
      iterator = page.next;
      if (page.records.length === 0 && iterator !== undefined) break;
    }
    iterators.set(shardId, iterator);
    return records;
  }

  return {
    streamArn,
    async readNew() {
      for (const shard of await listShards(streams, streamArn)) {
        if (!iterators.has(shard.shardId)) iterators.set(shard.shardId, await shardIterator(streams, streamArn, shard.shardId, { type: 'TRIM_HORIZON' }));
      }
      const records: StreamsRecord[] = [];
      for (const shardId of iterators.keys()) records.push(...(await readShard(shardId)));
      return records
        .sort((a, b) => compareSequenceNumbers(a.dynamodb?.SequenceNumber ?? '0', b.dynamodb?.SequenceNumber ?? '0'))
        .map((record) => toLambdaRecord(record, streamArn));
    },
    close: () => streams.destroy(),
  };
}

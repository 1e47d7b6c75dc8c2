/**
 * Reads a table's DynamoDB stream (DynamoDB Local's, in the tests) and hands the records
 * over in the shape Lambda delivers them, so stream-consumer tests run on what the table
 * really emitted (one record per item of a transaction, real sequence numbers) rather
 * than on hand-written events.
 */
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamsRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
// The runtime's conversion, so the tests feed the handler what the local consumer delivers.
import { toLambdaRecord } from '../../scripts/local/stream-consumer';

export interface StreamReader {
  streamArn: string;
  /**
   * Every record written since the previous call (since the table was created, the first
   * time), oldest first, as Lambda would deliver them, unfiltered.
   */
  readNew(): Promise<DynamoDBRecord[]>;
  close(): void;
}

/**
 * Opens the stream of `tableName` at TRIM_HORIZON. Pass the table's client: the stream
 * client reuses its endpoint, region and credentials.
 */
export async function openStreamReader(client: DynamoDBDocumentClient, tableName: string): Promise<StreamReader> {
  const table = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const streamArn = table.Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`Table ${tableName} has no stream`);
  const streams = new DynamoDBStreamsClient({
    endpoint: await client.config.endpoint?.(),
    region: await client.config.region(),
    credentials: await client.config.credentials(),
  });

  /** Where reading continues, per shard; undefined once a closed shard is drained. */
  const iterators = new Map<string, string | undefined>();

  async function discoverShards(): Promise<void> {
    let exclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: exclusiveStartShardId }));
      for (const shard of StreamDescription?.Shards ?? []) {
        if (shard.ShardId === undefined || iterators.has(shard.ShardId)) continue;
        const { ShardIterator } = await streams.send(
          new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
        );
        iterators.set(shard.ShardId, ShardIterator);
      }
      exclusiveStartShardId = StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId !== undefined);
  }

  async function readShard(shardId: string): Promise<StreamsRecord[]> {
    const records: StreamsRecord[] = [];
    let iterator = iterators.get(shardId);
    // An open shard hands out a next iterator forever; an empty page means "caught up".
    while (iterator !== undefined) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
      const fetched = page.Records ?? [];
      records.push(...fetched);
      iterator = page.NextShardIterator;
      if (fetched.length === 0 && iterator !== undefined) break;
    }
    iterators.set(shardId, iterator);
    return records;
  }

  return {
    streamArn,
    async readNew() {
      await discoverShards();
      const records: StreamsRecord[] = [];
      for (const shardId of iterators.keys()) records.push(...(await readShard(shardId)));
      return records.sort(bySequenceNumber).map((record) => toLambdaRecord(record, streamArn));
    },
    close: () => streams.destroy(),
  };
}

/** Lambda's event for a batch of records. */
export function streamEvent(records: readonly DynamoDBRecord[]): DynamoDBStreamEvent {
  return { Records: [...records] };
}

function bySequenceNumber(a: StreamsRecord, b: StreamsRecord): number {
  const [x, y] = [BigInt(a.dynamodb?.SequenceNumber ?? 0), BigInt(b.dynamodb?.SequenceNumber ?? 0)];
  return x < y ? -1 : x > y ? 1 : 0;
}

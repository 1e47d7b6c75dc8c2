/**
 * Replaying the records a stream function gave up on, once the cause is fixed.
 *
 * Deployed, the event source mapping sends a failed batch's *metadata* to the function's
 * on-failure queue: the shard and the sequence range, not the records, which the stream keeps
 * for 24 hours. {@link redriveQueue} reads each queue message, fetches its records from the
 * stream while they are still there, filters them as the mapping does, invokes the function
 * with the event the mapping would send, and deletes the message only when the function
 * accepted every record. A batch whose records are gone is reported and its message kept.
 *
 * Locally, the consumer wrote the records themselves to its dead-letter file:
 * {@link redriveDeadLetters} replays them with the function's handler and removes the lines
 * of the records it accepted.
 */
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { GetRecordsCommand, GetShardIteratorCommand, type DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { StreamFunction } from '../../functions/catalog';
import { readDeadLetterLines, removeDeadLetterLines } from '../../local/streams/dead-letters';
import { filterEvents } from '../../local/streams/filter';
import { compareSequenceNumbers, toLambdaRecord } from '../../local/streams/shard-reader';

/** What one replay did, for the report and the exit code. */
export interface RedriveReport {
  /** Batches (queue messages) or dead-letter records found. */
  found: number;
  /** Replayed and accepted by the function: removed. */
  replayed: number;
  /** Replayed, but the function failed them again: kept. */
  failedAgain: number;
  /** Past the stream's retention (or never recorded): kept, for a person to look at. */
  unavailable: number;
}

const emptyReport = (): RedriveReport => ({ found: 0, replayed: 0, failedAgain: 0, unavailable: 0 });

/** The sequence numbers the function did not accept, from its answer (all, when it threw). */
function failedSequenceNumbers(records: readonly DynamoDBRecord[], answer: DynamoDBBatchResponse | void | undefined): Set<string> {
  const failures = answer?.batchItemFailures ?? [];
  if (failures.length === 0) return new Set();
  // Lambda retries from the lowest failed identifier: everything from there on counts as failed.
  const lowest = failures.map((failure) => failure.itemIdentifier).sort(compareSequenceNumbers)[0]!;
  return new Set(
    records.flatMap((record) => {
      const sequence = record.dynamodb?.SequenceNumber;
      return sequence !== undefined && compareSequenceNumbers(sequence, lowest) >= 0 ? [sequence] : [];
    }),
  );
}

/** Records in stream order, in events of at most `batchSize`. */
function batches(records: readonly DynamoDBRecord[], batchSize: number): DynamoDBRecord[][] {
  const ordered = [...records].sort((a, b) => compareSequenceNumbers(a.dynamodb?.SequenceNumber ?? '0', b.dynamodb?.SequenceNumber ?? '0'));
  const result: DynamoDBRecord[][] = [];
  for (let start = 0; start < ordered.length; start += batchSize) result.push(ordered.slice(start, start + batchSize));
  return result;
}

export interface LocalRedriveOptions {
  fn: StreamFunction;
  deadLetterFile: string;
  /** The function's handler, as `npm start` runs it. */
  invoke: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;
  dryRun: boolean;
  log: (line: string) => void;
}

/** Replays a local dead-letter file. */
export async function redriveDeadLetters(options: LocalRedriveOptions): Promise<RedriveReport> {
  const report = emptyReport();
  const lines = readDeadLetterLines(options.deadLetterFile);
  report.found = lines.length;
  const replayable = lines.filter(({ letter }) => letter.record !== undefined);
  for (const { letter } of lines.filter(({ letter }) => letter.record === undefined)) {
    report.unavailable += 1;
    options.log(`  kept: ${letter.reason} in ${letter.shardId ?? 'a shard'} (no record to replay: it left the stream before it was read)`);
  }
  if (options.dryRun) {
    for (const { letter } of replayable) {
      const keys = letter.record!.dynamodb?.Keys;
      options.log(
        `  would replay ${letter.record!.dynamodb?.SequenceNumber} (${keys?.pk?.S} / ${keys?.sk?.S}), dead-lettered ${letter.deadLetteredAt ?? ''} for ${letter.reason}`,
      );
    }
    return report;
  }
  const lineOf = new Map(replayable.map(({ line, letter }) => [letter.record!.dynamodb?.SequenceNumber ?? line, line]));
  const accepted = new Set<string>();
  for (const batch of batches(
    replayable.map(({ letter }) => letter.record!),
    options.fn.source.batchSize,
  )) {
    let failed: Set<string>;
    try {
      failed = failedSequenceNumbers(batch, await options.invoke({ Records: batch }));
    } catch (error) {
      options.log(`  ${batch.length} record(s) failed again: ${(error as Error).message}`);
      report.failedAgain += batch.length;
      continue;
    }
    for (const record of batch) {
      const sequence = record.dynamodb?.SequenceNumber ?? '';
      if (failed.has(sequence)) report.failedAgain += 1;
      else {
        report.replayed += 1;
        accepted.add(lineOf.get(sequence)!);
      }
    }
  }
  removeDeadLetterLines(options.deadLetterFile, accepted);
  return report;
}

/** The metadata Lambda sends to an on-failure destination for a DynamoDB stream batch. */
interface StreamFailureRecord {
  DDBStreamBatchInfo?: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    batchSize?: number;
    streamArn: string;
  };
}

export interface QueueRedriveOptions {
  sqs: SQSClient;
  streams: DynamoDBStreamsClient;
  lambda: LambdaClient;
  queueUrl: string;
  /** The deployed function's name. */
  functionName: string;
  fn: StreamFunction;
  dryRun: boolean;
  log: (line: string) => void;
  /** GetRecords calls per batch before giving up on reaching its end (default 50). */
  maxReads?: number;
}

/** The batch's records from the stream, or why they cannot be had. */
async function fetchBatch(
  streams: DynamoDBStreamsClient,
  info: NonNullable<StreamFailureRecord['DDBStreamBatchInfo']>,
  maxReads: number,
): Promise<{ records: DynamoDBRecord[] } | { unavailable: string }> {
  let iterator: string | undefined;
  try {
    ({ ShardIterator: iterator } = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: info.streamArn,
        ShardId: info.shardId,
        ShardIteratorType: 'AT_SEQUENCE_NUMBER',
        SequenceNumber: info.startSequenceNumber,
      }),
    ));
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'TrimmedDataAccessException' || name === 'ResourceNotFoundException') {
      return { unavailable: `${name}: the records left the stream (it keeps them 24 hours)` };
    }
    throw error;
  }
  const records: DynamoDBRecord[] = [];
  for (let reads = 0; iterator !== undefined && reads < maxReads; reads += 1) {
    const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
    for (const record of page.Records ?? []) {
      const sequence = record.dynamodb?.SequenceNumber ?? '0';
      if (compareSequenceNumbers(sequence, info.endSequenceNumber) > 0) return { records };
      records.push(toLambdaRecord(record, info.streamArn));
    }
    if (records.length > 0 && compareSequenceNumbers(records.at(-1)!.dynamodb!.SequenceNumber!, info.endSequenceNumber) >= 0) return { records };
    iterator = page.NextShardIterator;
  }
  if (records.length === 0 || records[0]!.dynamodb?.SequenceNumber !== info.startSequenceNumber) {
    return { unavailable: 'the batch could not be read back from the stream' };
  }
  return { records };
}

/** Replays an on-failure queue. Messages are deleted only once the function accepted all their records. */
export async function redriveQueue(options: QueueRedriveOptions): Promise<RedriveReport> {
  const report = emptyReport();
  const seen = new Set<string>();
  for (;;) {
    const received = await options.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: options.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 300 }),
    );
    const messages = (received.Messages ?? []).filter((message) => !seen.has(message.MessageId ?? ''));
    if (messages.length === 0) return report;
    for (const message of messages) {
      seen.add(message.MessageId ?? '');
      report.found += 1;
      // Back in the queue at once for anyone else, unless it is deleted below.
      const release = () =>
        options.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: options.queueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }));
      const info = (JSON.parse(message.Body ?? '{}') as StreamFailureRecord).DDBStreamBatchInfo;
      if (!info) {
        options.log(`  kept ${message.MessageId}: not a stream batch's failure record`);
        report.unavailable += 1;
        await release();
        continue;
      }
      const range = `${info.shardId} ${info.startSequenceNumber}..${info.endSequenceNumber}`;
      const fetched = await fetchBatch(options.streams, info, options.maxReads ?? 50);
      if ('unavailable' in fetched) {
        options.log(`  kept ${range}: ${fetched.unavailable}`);
        report.unavailable += 1;
        await release();
        continue;
      }
      // As the mapping would: only the records its filter lets through reach the function.
      const records = filterEvents(options.fn.source.filterPatterns, fetched.records);
      if (options.dryRun) {
        options.log(`  would replay ${range}: ${fetched.records.length} record(s), ${records.length} through the filter`);
        await release();
        continue;
      }
      const accepted = records.length === 0 || (await invokeAll(options, records, range));
      if (accepted) {
        await options.sqs.send(new DeleteMessageCommand({ QueueUrl: options.queueUrl, ReceiptHandle: message.ReceiptHandle }));
        report.replayed += 1;
        options.log(`  replayed ${range}: ${records.length} record(s), message deleted`);
      } else {
        report.failedAgain += 1;
        await release();
      }
    }
  }
}

/** Invokes the function with the records, a batch at a time; true when it accepted every one. */
async function invokeAll(options: QueueRedriveOptions, records: DynamoDBRecord[], range: string): Promise<boolean> {
  for (const batch of batches(records, options.fn.source.batchSize)) {
    const output = await options.lambda.send(
      new InvokeCommand({ FunctionName: options.functionName, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify({ Records: batch })) }),
    );
    const payload = output.Payload ? Buffer.from(output.Payload).toString('utf8') : '';
    if (output.FunctionError) {
      options.log(`  kept ${range}: the function failed (${output.FunctionError}): ${payload.slice(0, 300)}`);
      return false;
    }
    const failed = failedSequenceNumbers(batch, payload ? (JSON.parse(payload) as DynamoDBBatchResponse) : undefined);
    if (failed.size > 0) {
      options.log(`  kept ${range}: the function failed ${failed.size} record(s) again`);
      return false;
    }
  }
  return true;
}

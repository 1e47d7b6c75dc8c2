/**
 * The local event source mapping: reads the messages table's DynamoDB stream (DynamoDB
 * Local's) and invokes the stream function in this process as Lambda would, with the
 * catalog's `MESSAGE_STREAM_SOURCE` (filter patterns, batch size, batching window, starting
 * position, retries, bisection, maximum record age) and `ReportBatchItemFailures`.
 *
 * Per shard, in order:
 * - Records not matching the filter patterns are never delivered, and count as processed.
 * - A batch is delivered when it is full, when its oldest record waited the batching
 *   window, or when a closed shard has nothing more to give.
 * - `batchItemFailures`: everything before the lowest failed sequence number is done;
 *   the batch is delivered again from there ("bisected at the returned sequence number").
 * - A thrown error or timeout: the batch is split in half and the first half retried
 *   (bisection does not use up retries); a single record, or any batch when bisection
 *   is off, counts a retry.
 * - After `maximumRetryAttempts` retries of the same first record, the records that still
 *   fail are appended to the dead-letter file (JSON lines) and the shard moves on. Records
 *   older than `maximumRecordAgeInSeconds` go there too, undelivered.
 * - After each batch the shard's checkpoint (the last fully processed sequence number) is
 *   written to the checkpoint file, so a restart resumes after it: nothing is lost, and
 *   nothing already applied is delivered again.
 * - Shards: new ones are found with DescribeStream; a child is read once its parent is
 *   drained; a closed, drained shard is marked finished. A new stream (the table was
 *   re-created) starts over at the starting position.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamsRecord,
  type Shard,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { MESSAGE_STREAM_SOURCE, STREAM_FUNCTIONS, type StreamFunction, type StreamSource } from '../../functions/catalog';
import { matchesAnyFilterPattern } from '../../functions/message-stream/filter';
import { invokeFunction, lambdaContext, LOCAL_REGION } from './runtime-lambda';

export type StreamHandler = (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse | void | undefined>;

export interface StreamConsumerOptions {
  /** DynamoDB Local's URL. */
  dynamodbUrl: string;
  tableName: string;
  handler: StreamHandler;
  /** The function definition (context, timeout); by default the catalog's `message-stream`. */
  fn?: StreamFunction;
  /** The event source settings; by default the function's (`MESSAGE_STREAM_SOURCE`). */
  source?: StreamSource;
  checkpointFile: string;
  deadLetterFile: string;
  /** Pause between polls of the stream. */
  pollIntervalMs?: number;
  /** Pause before retry `attempt` (1-based) of a failed batch. */
  retryDelayMs?: (attempt: number) => number;
  log?: (line: string) => void;
  now?: () => number;
  /** Injected clients (tests); by default created for `dynamodbUrl`. */
  clients?: { dynamodb: Pick<DynamoDBClient, 'send'>; streams: Pick<DynamoDBStreamsClient, 'send'> };
}

/** What {@link StreamConsumer.status} reports. */
export interface StreamConsumerStatus {
  streamArn?: string;
  shards: { shardId: string; checkpoint?: string; finished: boolean; buffered: number; retrying?: { attempts: number; from: string } }[];
  /** Every known shard is read to its end and nothing fetched waits for delivery. */
  caughtUp: boolean;
  invocations: number;
  deadLettered: number;
}

export interface StreamConsumer {
  /** Polls every `pollIntervalMs` until {@link stop}; resolves after the first poll. */
  start(): Promise<void>;
  /** One poll: find shards, fetch, deliver what is due. For tests driving the consumer. */
  pollOnce(): Promise<void>;
  /** Stops polling after the batch in flight, with its checkpoint written. */
  stop(): Promise<void>;
  status(): StreamConsumerStatus;
}

/** The checkpoint file: one stream's shards. */
interface CheckpointFile {
  version: 1;
  tableName: string;
  streamArn: string;
  shards: Record<string, { sequenceNumber?: string; finished?: boolean }>;
}

interface Entry {
  record: StreamsRecord;
  sequenceNumber: string;
  /** Delivered to the function (matches the filter patterns and is not too old). */
  deliver: boolean;
}

interface RetryState {
  /** The first record of the batch being retried. */
  from: string;
  /** Failed deliveries starting at `from` that counted as retries. */
  failures: number;
  /** Most matching records the next batch may hold (a bisected batch holds fewer). */
  limit: number;
  notBefore: number;
}

interface ShardState {
  shardId: string;
  parentShardId?: string;
  /** DescribeStream showed an ending sequence number. */
  closed: boolean;
  iterator?: string;
  /** Whether an iterator was ever obtained (undefined iterator afterwards: the shard is read to its end). */
  opened: boolean;
  /** Last sequence number fetched, to get a fresh iterator after an expired one. */
  lastFetched?: string;
  checkpoint?: string;
  finished: boolean;
  buffer: Entry[];
  /** When the oldest buffered deliverable record was fetched (the batching window's start). */
  waitingSince?: number;
  retry?: RetryState;
  /** The last GetRecords of an open shard returned nothing. */
  idle: boolean;
}

const compareSequence = (a: string, b: string) => {
  const [x, y] = [BigInt(a), BigInt(b)];
  return x < y ? -1 : x > y ? 1 : 0;
};

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

const errorName = (error: unknown) => (error as { name?: string } | undefined)?.name ?? '';

/** Default pause before retry `attempt`: 0.25 s, doubling, at most 4 s. */
export const defaultRetryDelayMs = (attempt: number) => Math.min(4000, 250 * 2 ** (attempt - 1));

const MAX_BUFFERED_PER_SHARD = 10_000;
const DESCRIBE_EVERY_MS = 1000;

export function createStreamConsumer(options: StreamConsumerOptions): StreamConsumer {
  const fn = options.fn ?? STREAM_FUNCTIONS.find((candidate) => candidate.name === 'message-stream')!;
  const source = options.source ?? fn.source ?? MESSAGE_STREAM_SOURCE;
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const retryDelayMs = options.retryDelayMs ?? defaultRetryDelayMs;
  const log = options.log ?? ((line: string) => console.log(line));
  const now = options.now ?? Date.now;
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const ownClients = options.clients === undefined;
  const dynamodb = options.clients?.dynamodb ?? new DynamoDBClient({ endpoint: options.dynamodbUrl, region: LOCAL_REGION, credentials });
  const streams = options.clients?.streams ?? new DynamoDBStreamsClient({ endpoint: options.dynamodbUrl, region: LOCAL_REGION, credentials });
  const label = `stream ${fn.name}`;

  let streamArn: string | undefined;
  /** Whether the checkpoint file knew this stream when it was opened (else: the starting position applies). */
  let resumed = false;
  const shards = new Map<string, ShardState>();
  let lastDescribe = 0;
  let invocations = 0;
  let deadLettered = 0;
  let lastProblem: string | undefined;

  // ---- checkpoint and dead letters ----

  function readCheckpointFile(): CheckpointFile | undefined {
    if (!existsSync(options.checkpointFile)) return undefined;
    try {
      const parsed = JSON.parse(readFileSync(options.checkpointFile, 'utf8')) as CheckpointFile;
      return parsed.version === 1 && typeof parsed.shards === 'object' ? parsed : undefined;
    } catch {
      log(`${label}: ignoring unreadable checkpoint ${options.checkpointFile}`);
      return undefined;
    }
  }

  function writeCheckpointFile(): void {
    if (streamArn === undefined) return;
    const file: CheckpointFile = { version: 1, tableName: options.tableName, streamArn, shards: {} };
    for (const shard of shards.values()) {
      if (shard.checkpoint !== undefined || shard.finished) {
        file.shards[shard.shardId] = { ...(shard.checkpoint ? { sequenceNumber: shard.checkpoint } : {}), ...(shard.finished ? { finished: true } : {}) };
      }
    }
    mkdirSync(path.dirname(options.checkpointFile), { recursive: true });
    // Write-then-rename: a crash mid-write leaves the previous checkpoint, never half a file.
    const temporary = `${options.checkpointFile}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(file, null, 2)}\n`);
    renameSync(temporary, options.checkpointFile);
  }

  function deadLetter(shard: ShardState, entries: readonly Entry[], reason: string, detail: Record<string, unknown>): void {
    if (entries.length === 0) return;
    mkdirSync(path.dirname(options.deadLetterFile), { recursive: true });
    const at = new Date(now()).toISOString();
    const lines = entries.map((entry) =>
      JSON.stringify({ deadLetteredAt: at, reason, functionName: fn.name, streamArn, shardId: shard.shardId, ...detail, record: toLambdaRecord(entry.record, streamArn!) }),
    );
    appendFileSync(options.deadLetterFile, `${lines.join('\n')}\n`);
    deadLettered += entries.length;
    log(`${label}: ${entries.length} record(s) written to ${options.deadLetterFile} (${reason})`);
  }

  /** Removes the first `count` entries of the buffer as done and moves the checkpoint past them. */
  function complete(shard: ShardState, count: number): void {
    if (count <= 0) return;
    const done = shard.buffer.splice(0, count);
    shard.checkpoint = done[done.length - 1]!.sequenceNumber;
    if (shard.buffer.every((entry) => !entry.deliver)) shard.waitingSince = undefined;
    writeCheckpointFile();
  }

  // ---- shards ----

  async function resolveStream(): Promise<boolean> {
    const table = await dynamodb.send(new DescribeTableCommand({ TableName: options.tableName }));
    const latest = table.Table?.LatestStreamArn;
    if (latest === undefined || table.Table?.StreamSpecification?.StreamEnabled === false) {
      throw new Error(`table ${options.tableName} has no stream enabled`);
    }
    if (latest === streamArn) return false;
    const saved = readCheckpointFile();
    const previous = streamArn;
    streamArn = latest;
    shards.clear();
    resumed = saved?.streamArn === latest;
    if (resumed) {
      for (const [shardId, state] of Object.entries(saved!.shards)) {
        shards.set(shardId, newShard(shardId, undefined, { checkpoint: state.sequenceNumber, finished: state.finished === true }));
      }
      log(`${label}: resuming ${latest} from the checkpoint in ${options.checkpointFile}`);
    } else {
      log(`${label}: reading ${latest} from ${source.startingPosition}${previous ? ` (the stream changed from ${previous})` : ''}`);
    }
    return true;
  }

  function newShard(shardId: string, parentShardId: string | undefined, saved: { checkpoint?: string; finished?: boolean } = {}): ShardState {
    return { shardId, parentShardId, closed: false, opened: false, checkpoint: saved.checkpoint, finished: saved.finished ?? false, buffer: [], idle: false };
  }

  async function describeShards(): Promise<void> {
    const described: Shard[] = [];
    let exclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: exclusiveStartShardId }));
      described.push(...(StreamDescription?.Shards ?? []));
      exclusiveStartShardId = StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId !== undefined);
    const firstSight = [...shards.values()].every((shard) => !shard.opened) && !resumed;
    for (const shard of described) {
      if (shard.ShardId === undefined) continue;
      let state = shards.get(shard.ShardId);
      if (state === undefined) {
        state = newShard(shard.ShardId, shard.ParentShardId);
        // LATEST on a brand-new mapping: closed shards hold only the past; skip them.
        if (firstSight && source.startingPosition === 'LATEST' && shard.SequenceNumberRange?.EndingSequenceNumber !== undefined) state.finished = true;
        shards.set(shard.ShardId, state);
      }
      state.parentShardId ??= shard.ParentShardId;
      state.closed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
    }
    // Shards trimmed from the stream (24 h retention) and finished are forgotten.
    const present = new Set(described.map((shard) => shard.ShardId));
    for (const [shardId, state] of shards) if (!present.has(shardId) && state.finished && state.buffer.length === 0) shards.delete(shardId);
  }

  /** A child waits until its parent, when still known, is drained (Lambda keeps that order). */
  const readable = (shard: ShardState) => {
    if (shard.finished) return false;
    const parent = shard.parentShardId === undefined ? undefined : shards.get(shard.parentShardId);
    return parent === undefined || parent.finished;
  };

  async function iteratorFor(shard: ShardState): Promise<string | undefined> {
    const after = shard.lastFetched ?? shard.checkpoint;
    let type: ShardIteratorType = after !== undefined ? 'AFTER_SEQUENCE_NUMBER' : resumed || shard.parentShardId !== undefined ? 'TRIM_HORIZON' : source.startingPosition;
    try {
      const output = await streams.send(
        new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.shardId, ShardIteratorType: type, ...(type === 'AFTER_SEQUENCE_NUMBER' ? { SequenceNumber: after } : {}) }),
      );
      return output.ShardIterator;
    } catch (error) {
      if (errorName(error) !== 'TrimmedDataAccessException') throw error;
      // The checkpoint fell out of the 24-hour retention: what was between is gone.
      log(`${label}: records after ${after} in ${shard.shardId} were trimmed from the stream; continuing at the oldest record left`);
      type = 'TRIM_HORIZON';
      return (await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.shardId, ShardIteratorType: type }))).ShardIterator;
    }
  }

  async function fetch(shard: ShardState): Promise<void> {
    if (shard.buffer.length >= MAX_BUFFERED_PER_SHARD) return;
    if (!shard.opened) {
      shard.iterator = await iteratorFor(shard);
      shard.opened = true;
    }
    if (shard.iterator === undefined) return;
    let page;
    try {
      page = await streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 1000 }));
    } catch (error) {
      if (errorName(error) !== 'ExpiredIteratorException') throw error;
      shard.iterator = await iteratorFor(shard);
      // Unknown until read with the new iterator.
      shard.idle = false;
      return;
    }
    const records = page.Records ?? [];
    shard.iterator = page.NextShardIterator;
    shard.idle = records.length === 0;
    const fetchedAt = now();
    for (const record of records) {
      const sequenceNumber = record.dynamodb?.SequenceNumber;
      if (sequenceNumber === undefined) continue;
      const lambdaRecord = toLambdaRecord(record, streamArn!);
      const deliver = matchesAnyFilterPattern(source.filterPatterns, lambdaRecord);
      shard.buffer.push({ record, sequenceNumber, deliver });
      shard.lastFetched = sequenceNumber;
      if (deliver) shard.waitingSince ??= fetchedAt;
    }
  }

  // ---- delivery ----

  const tooOld = (entry: Entry) => {
    const created = entry.record.dynamodb?.ApproximateCreationDateTime;
    // Stream timestamps are rounded down to the minute: allow for it.
    return source.maximumRecordAgeInSeconds >= 0 && created !== undefined && now() - created.getTime() > (source.maximumRecordAgeInSeconds + 60) * 1000;
  };

  /** Delivers what is due on one shard; returns when it must wait (window, retry delay) or the buffer is empty. */
  async function deliver(shard: ShardState): Promise<void> {
    for (;;) {
      // Leading records that are never delivered are done as they are.
      let skip = 0;
      while (skip < shard.buffer.length && !shard.buffer[skip]!.deliver) skip += 1;
      complete(shard, skip);
      if (shard.buffer.length === 0) return;

      const expired = shard.buffer.filter((entry) => entry.deliver && tooOld(entry));
      if (expired.length > 0) {
        deadLetter(shard, expired, 'maximum-record-age-exceeded', { maximumRecordAgeInSeconds: source.maximumRecordAgeInSeconds });
        for (const entry of expired) entry.deliver = false;
        continue;
      }

      const retry = shard.retry;
      if (retry !== undefined && now() < retry.notBefore) return;
      const limit = retry?.limit ?? source.batchSize;
      // The batch: up to `limit` deliverable records, with the skipped ones among them.
      let end = 0;
      let count = 0;
      for (; end < shard.buffer.length && count < limit; end += 1) if (shard.buffer[end]!.deliver) count += 1;
      const drained = shard.iterator === undefined && shard.opened;
      const windowOver = shard.waitingSince !== undefined && now() - shard.waitingSince >= source.maximumBatchingWindowInSeconds * 1000;
      if (retry === undefined && count < source.batchSize && !windowOver && !drained) return;

      const span = shard.buffer.slice(0, end);
      const batch = span.filter((entry) => entry.deliver);
      await invokeBatch(shard, span, batch);
    }
  }

  async function invokeBatch(shard: ShardState, span: Entry[], batch: Entry[]): Promise<void> {
    const first = batch[0]!.sequenceNumber;
    const last = batch[batch.length - 1]!.sequenceNumber;
    const event: DynamoDBStreamEvent = { Records: batch.map((entry) => toLambdaRecord(entry.record, streamArn!)) };
    const began = now();
    const range = `${batch.length} record(s), seq ${BigInt(first)}${batch.length > 1 ? `-${BigInt(last)}` : ''}`;
    let response: DynamoDBBatchResponse | void | undefined;
    let failure: unknown;
    invocations += 1;
    try {
      response = await invokeFunction<DynamoDBStreamEvent, DynamoDBBatchResponse | void | undefined>(fn, options.handler, event, lambdaContext(fn));
    } catch (error) {
      failure = error;
    }
    const took = `${now() - began} ms`;

    let failed: string[] = [];
    if (failure === undefined && response && Array.isArray(response.batchItemFailures) && response.batchItemFailures.length > 0) {
      const inBatch = new Set(batch.map((entry) => entry.sequenceNumber));
      const identifiers = response.batchItemFailures.map((failureItem) => failureItem?.itemIdentifier);
      // As Lambda: an identifier that is empty or not in the batch fails the whole batch.
      if (identifiers.some((identifier) => typeof identifier !== 'string' || !inBatch.has(identifier))) {
        failure = new Error(`batchItemFailures named records not in the batch: ${JSON.stringify(identifiers)}`);
      } else {
        failed = [...new Set(identifiers as string[])].sort(compareSequence);
      }
    }

    if (failure === undefined && failed.length === 0) {
      log(`${label}: ${range} -> ok in ${took}`);
      shard.retry = undefined;
      complete(shard, span.length);
      return;
    }

    if (failure === undefined) {
      // Partial failure: done up to the lowest failed record; the rest is delivered again.
      const lowest = failed[0]!;
      const lowestIndex = span.findIndex((entry) => entry.sequenceNumber === lowest);
      const failures = shard.retry?.from === lowest ? shard.retry.failures + 1 : 1;
      if (failures > source.maximumRetryAttempts) {
        log(`${label}: ${range} -> ${failed.length} failed again after ${source.maximumRetryAttempts} retries in ${took}; giving up on them`);
        const failedSet = new Set(failed);
        deadLetter(shard, span.filter((entry) => failedSet.has(entry.sequenceNumber)), 'retries-exhausted', {
          attempts: failures,
          error: 'reported in batchItemFailures',
        });
        shard.retry = undefined;
        complete(shard, span.length);
        return;
      }
      complete(shard, lowestIndex);
      const remaining = span.slice(lowestIndex).filter((entry) => entry.deliver).length;
      shard.retry = { from: lowest, failures, limit: remaining, notBefore: now() + retryDelayMs(failures) };
      log(`${label}: ${range} -> ${failed.length} failed in ${took}; retry ${failures}/${source.maximumRetryAttempts} from seq ${BigInt(lowest)}`);
      return;
    }

    // The function failed as a whole (threw, timed out, or answered nonsense).
    const message = failure instanceof Error ? `${failure.name}: ${failure.message}` : String(failure);
    if (source.bisectBatchOnFunctionError && batch.length > 1) {
      const half = Math.ceil(batch.length / 2);
      shard.retry = { from: first, failures: shard.retry?.from === first ? shard.retry.failures : 0, limit: half, notBefore: now() };
      log(`${label}: ${range} -> error in ${took} (${message}); bisecting: retrying the first ${half}`);
      return;
    }
    const failures = shard.retry?.from === first ? shard.retry.failures + 1 : 1;
    if (failures > source.maximumRetryAttempts) {
      log(`${label}: ${range} -> error in ${took} (${message}) after ${source.maximumRetryAttempts} retries; giving up on them`);
      deadLetter(shard, batch, 'retries-exhausted', { attempts: failures, error: message });
      shard.retry = undefined;
      complete(shard, span.length);
      return;
    }
    shard.retry = { from: first, failures, limit: batch.length, notBefore: now() + retryDelayMs(failures) };
    log(`${label}: ${range} -> error in ${took} (${message}); retry ${failures}/${source.maximumRetryAttempts}`);
  }

  // ---- polling ----

  async function pollOnce(): Promise<void> {
    try {
      // The table and its shards are looked at about once a second; records every poll.
      if (streamArn === undefined || now() - lastDescribe >= DESCRIBE_EVERY_MS) {
        await resolveStream();
        await describeShards();
        lastDescribe = now();
      }
      for (const shard of shards.values()) {
        if (!readable(shard)) continue;
        await fetch(shard);
        await deliver(shard);
        // Closed, read to its end, all delivered: its children may start.
        if (shard.opened && shard.iterator === undefined && shard.buffer.length === 0 && !shard.finished) {
          shard.finished = true;
          writeCheckpointFile();
        }
      }
      if (lastProblem !== undefined) log(`${label}: reading again`);
      lastProblem = undefined;
    } catch (error) {
      const problem = `${errorName(error) || 'Error'}: ${(error as Error).message}`;
      // Once per kind of trouble, not every 250 ms.
      if (problem !== lastProblem) log(`${label}: cannot read the stream (${problem}); retrying`);
      lastProblem = problem;
      if (errorName(error) === 'ResourceNotFoundException') streamArn = undefined;
    }
  }

  /**
   * The pause before the next poll: the poll interval, or less when a batching window or a
   * retry delay ends sooner, so waiting records go out on time rather than up to a poll late.
   */
  function nextPollDelay(): number {
    let delay = pollIntervalMs;
    if (lastProblem !== undefined) return delay;
    for (const shard of shards.values()) {
      if (shard.retry !== undefined) delay = Math.min(delay, shard.retry.notBefore - now());
      else if (shard.waitingSince !== undefined) delay = Math.min(delay, shard.waitingSince + source.maximumBatchingWindowInSeconds * 1000 - now());
    }
    return Math.max(10, delay);
  }

  let running = false;
  let stopped = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let polling: Promise<void> = Promise.resolve();
  /** One poll at a time, whoever asks (the loop, a test, stop()). */
  const pollSerially = () => (polling = polling.then(pollOnce));

  return {
    async start() {
      if (running) return;
      running = true;
      await pollSerially();
      loop = (async () => {
        while (running) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, nextPollDelay());
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          if (running) await pollSerially();
        }
      })();
    },
    pollOnce: pollSerially,
    async stop() {
      if (stopped) return;
      stopped = true;
      running = false;
      wake?.();
      await loop;
      await polling;
      writeCheckpointFile();
      if (ownClients) {
        (dynamodb as DynamoDBClient).destroy();
        (streams as DynamoDBStreamsClient).destroy();
      }
    },
    status() {
      const list = [...shards.values()].map((shard) => ({
        shardId: shard.shardId,
        checkpoint: shard.checkpoint,
        finished: shard.finished,
        buffered: shard.buffer.length,
        ...(shard.retry ? { retrying: { attempts: shard.retry.failures, from: shard.retry.from } } : {}),
      }));
      const caughtUp =
        streamArn !== undefined &&
        [...shards.values()].every((shard) => shard.finished || (shard.opened && shard.buffer.length === 0 && (shard.idle || shard.iterator === undefined)));
      return { streamArn, shards: list, caughtUp, invocations, deadLettered };
    },
  };
}

/**
 * The local event source mapping of one stream function: reads the messages table's stream
 * (DynamoDB Local's) and invokes the function in this process as Lambda would, with the
 * settings of its catalog entry (filter patterns, batch size, batching window, starting
 * position, retries, bisection, maximum record age, `ReportBatchItemFailures`).
 *
 * It puts three parts together: the stream is read through `shard-reader.ts`, progress is
 * kept by `checkpoint-store.ts`, and every rule of delivery (when a batch goes out, what a
 * failure means, when to give up) is a pure function of `delivery-policy.ts`. What stays
 * here is the state of each shard and the order of things:
 *
 * - After each batch the shard's checkpoint (the last fully processed sequence number) is
 *   saved, so a restart resumes after it: nothing is lost, and nothing already applied is
 *   delivered again. A new stream (the table was re-created) starts over at the starting
 *   position.
 * - Records given up on are appended to the dead-letter file (JSON lines), the local
 *   counterpart of the deployed mapping's on-failure destination.
 * - Shards: new ones are found with DescribeStream about once a second; a child is read
 *   once its parent is drained; a closed, drained shard is marked finished.
 * - An iterator that can no longer be read (expired, or pointing at records trimmed from the
 *   stream) is replaced by one after the last record fetched; what was trimmed is reported in
 *   the dead letters, as the deployed mapping's on-failure destination would get it.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { StreamFunction, StreamSource } from '../../functions/catalog';
import { localClientConfig } from '../aws';
import { invokeFunction, lambdaContext } from '../lambda';
import { createCheckpointStore, type Checkpoint } from './checkpoint-store';
import {
  decide,
  defaultRetryDelayMs,
  isTooOld,
  leadingUndelivered,
  nextBatchEnd,
  nextDueAt,
  outcomeOf,
  retryAfterExpiry,
  retryLimitText,
  type PendingRecord,
  type RetryState,
} from './delivery-policy';
import { InvalidFilterPatternError, matchesAnyFilterPattern, validateFilterPatterns } from './filter';
import {
  latestStreamArn,
  listShards,
  readRecords,
  shardIterator,
  toLambdaRecord,
  type StreamPosition,
  type StreamsApi,
  type StreamsRecord,
} from './shard-reader';

export { defaultRetryDelayMs };

export type StreamHandler = (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse | void | undefined>;

export interface StreamConsumerOptions {
  /** DynamoDB Local's URL. */
  dynamodbUrl: string;
  tableName: string;
  handler: StreamHandler;
  /** The function's catalog entry (its name, timeout, memory and stream source). */
  fn: StreamFunction;
  /** The event source settings; by default the function's. */
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
  clients?: { dynamodb: Pick<DynamoDBClient, 'send'>; streams: StreamsApi };
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

interface Entry extends PendingRecord {
  record: StreamsRecord;
}

interface ShardState {
  shardId: string;
  parentShardId?: string;
  closed: boolean;
  iterator?: string;
  /** Whether an iterator was ever obtained (undefined iterator afterwards: the shard is read to its end). */
  opened: boolean;
  /** Last sequence number fetched, to get a fresh iterator after an expired one. */
  lastFetched?: string;
  checkpoint?: string;
  finished: boolean;
  buffer: Entry[];
  waitingSince?: number;
  retry?: RetryState;
  /** The last GetRecords of an open shard returned nothing. */
  idle: boolean;
  /**
   * LATEST, emulated: the shard is read from its oldest record to its end without delivering
   * anything, so the consumer knows where "latest" was (the last record it passed over, or the
   * shard's start when it was empty) and never needs a LATEST iterator again. DynamoDB Local
   * has answered GetRecords on a fresh LATEST iterator with TrimmedDataAccessException, and a
   * second LATEST iterator would skip what was written in between.
   */
  skipping?: boolean;
  /** Nothing fetched yet, and what the shard holds is all to be delivered (it was empty at LATEST). */
  fromItsStart?: boolean;
}

const errorName = (error: unknown) => (error as { name?: string } | undefined)?.name ?? '';

/** GetRecords errors no retry of the same iterator can cure (the Streams API reference's list). */
const DEAD_ITERATOR_ERRORS = new Set(['ExpiredIteratorException', 'TrimmedDataAccessException']);

const MAX_BUFFERED_PER_SHARD = 10_000;
const DESCRIBE_EVERY_MS = 1000;

export function createStreamConsumer(options: StreamConsumerOptions): StreamConsumer {
  const { fn } = options;
  const source = options.source ?? fn.source;
  // As Lambda does when the mapping is created: a pattern it would refuse stops the start.
  try {
    validateFilterPatterns(source.filterPatterns);
  } catch (error) {
    throw new InvalidFilterPatternError(`stream function ${fn.name}: ${(error as Error).message}`);
  }
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const retryDelayMs = options.retryDelayMs ?? defaultRetryDelayMs;
  const log = options.log ?? ((line: string) => console.log(line));
  const now = options.now ?? Date.now;
  const ownClients = options.clients === undefined;
  const dynamodb = options.clients?.dynamodb ?? new DynamoDBClient(localClientConfig(options.dynamodbUrl));
  const streams = options.clients?.streams ?? new DynamoDBStreamsClient(localClientConfig(options.dynamodbUrl));
  const label = `stream ${fn.name}`;
  const checkpoints = createCheckpointStore(options.checkpointFile, options.tableName, (file) => log(`${label}: ignoring unreadable checkpoint ${file}`));

  let streamArn: string | undefined;
  /** Whether the checkpoint file knew this stream when it was opened (else: the starting position applies). */
  let resumed = false;
  const shards = new Map<string, ShardState>();
  let lastDescribe = 0;
  let invocations = 0;
  let deadLettered = 0;
  let lastProblem: string | undefined;

  // ---- checkpoint and dead letters ----

  function saveCheckpoint(): void {
    if (streamArn === undefined) return;
    const checkpoint: Checkpoint = { streamArn, shards: {} };
    for (const shard of shards.values()) {
      if (shard.checkpoint !== undefined || shard.finished) {
        checkpoint.shards[shard.shardId] = { ...(shard.checkpoint ? { sequenceNumber: shard.checkpoint } : {}), ...(shard.finished ? { finished: true } : {}) };
      }
    }
    checkpoints.save(checkpoint);
  }

  /** Records gone from the stream before they were read: no record to write, only where they were. */
  function reportTrimmed(shard: ShardState, after: string | undefined): void {
    mkdirSync(path.dirname(options.deadLetterFile), { recursive: true });
    const line = {
      deadLetteredAt: new Date(now()).toISOString(),
      reason: 'records-trimmed',
      functionName: fn.name,
      streamArn,
      shardId: shard.shardId,
      afterSequenceNumber: after ?? null,
    };
    appendFileSync(options.deadLetterFile, `${JSON.stringify(line)}\n`);
    log(
      `${label}: records of ${shard.shardId} after ${after ?? 'the starting position'} were trimmed from the stream before they were read; reported in ${options.deadLetterFile}`,
    );
  }

  function deadLetter(shard: ShardState, entries: readonly Entry[], reason: string, detail: Record<string, unknown>): void {
    if (entries.length === 0) return;
    mkdirSync(path.dirname(options.deadLetterFile), { recursive: true });
    const at = new Date(now()).toISOString();
    const lines = entries.map((entry) =>
      JSON.stringify({
        deadLetteredAt: at,
        reason,
        functionName: fn.name,
        streamArn,
        shardId: shard.shardId,
        ...detail,
        record: toLambdaRecord(entry.record, streamArn!),
      }),
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
    saveCheckpoint();
  }

  // ---- shards ----

  async function resolveStream(): Promise<void> {
    const latest = await latestStreamArn(dynamodb, options.tableName);
    if (latest === streamArn) return;
    const saved = checkpoints.load();
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
  }

  function newShard(shardId: string, parentShardId: string | undefined, saved: { checkpoint?: string; finished?: boolean } = {}): ShardState {
    return { shardId, parentShardId, closed: false, opened: false, checkpoint: saved.checkpoint, finished: saved.finished ?? false, buffer: [], idle: false };
  }

  async function describeShards(): Promise<void> {
    const described = await listShards(streams, streamArn!);
    const firstSight = [...shards.values()].every((shard) => !shard.opened) && !resumed;
    for (const shard of described) {
      let state = shards.get(shard.shardId);
      if (state === undefined) {
        state = newShard(shard.shardId, shard.parentShardId);
        // LATEST on a brand-new mapping: closed shards hold only the past; skip them.
        if (firstSight && source.startingPosition === 'LATEST' && shard.closed) state.finished = true;
        shards.set(shard.shardId, state);
      }
      state.parentShardId ??= shard.parentShardId;
      state.closed = shard.closed;
    }
    // Shards trimmed from the stream (24 h retention) and finished are forgotten.
    const present = new Set(described.map((shard) => shard.shardId));
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
    const fromStart = resumed || shard.parentShardId !== undefined || shard.fromItsStart === true || source.startingPosition === 'TRIM_HORIZON';
    // LATEST is reached by passing over what the shard holds now (see ShardState.skipping).
    if (after === undefined && !fromStart) shard.skipping = true;
    const position: StreamPosition = after !== undefined ? { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: after } : { type: 'TRIM_HORIZON' };
    try {
      return await shardIterator(streams, streamArn!, shard.shardId, position);
    } catch (error) {
      if (errorName(error) !== 'TrimmedDataAccessException') throw error;
      // The checkpoint fell out of the 24-hour retention: what was between is gone.
      reportTrimmed(shard, after);
      log(`${label}: continuing ${shard.shardId} at the oldest record left`);
      return shardIterator(streams, streamArn!, shard.shardId, { type: 'TRIM_HORIZON' });
    }
  }

  async function fetch(shard: ShardState): Promise<void> {
    if (shard.buffer.length >= MAX_BUFFERED_PER_SHARD) return;
    if (!shard.opened) {
      shard.iterator = await iteratorFor(shard);
      shard.opened = true;
    }
    if (shard.iterator === undefined) return;
    let page: Awaited<ReturnType<typeof readRecords>>;
    try {
      page = await readRecords(streams, shard.iterator);
    } catch (error) {
      if (!DEAD_ITERATOR_ERRORS.has(errorName(error))) throw error;
      // Retrying this iterator would fail forever: a new one after the last record fetched (or
      // at the starting position when nothing was fetched yet).
      if (errorName(error) === 'TrimmedDataAccessException') reportTrimmed(shard, shard.lastFetched ?? shard.checkpoint);
      shard.iterator = await iteratorFor(shard);
      // Unknown until read with the new iterator.
      shard.idle = false;
      return;
    }
    shard.iterator = page.next;
    shard.idle = page.records.length === 0;
    if (shard.skipping) {
      // Passing over what was there before the mapping started; an empty page is its end.
      const last = page.records.at(-1)?.dynamodb?.SequenceNumber;
      if (last !== undefined) shard.lastFetched = last;
      if (page.records.length === 0 || page.next === undefined) {
        shard.skipping = false;
        if (shard.lastFetched === undefined) shard.fromItsStart = true;
        else {
          shard.checkpoint = shard.lastFetched;
          saveCheckpoint();
        }
      } else shard.idle = false;
      return;
    }
    const fetchedAt = now();
    for (const record of page.records) {
      const sequenceNumber = record.dynamodb?.SequenceNumber;
      if (sequenceNumber === undefined) continue;
      const deliver = matchesAnyFilterPattern(source.filterPatterns, toLambdaRecord(record, streamArn!));
      shard.buffer.push({ record, sequenceNumber, deliver, createdAtMs: record.dynamodb?.ApproximateCreationDateTime?.getTime() });
      shard.lastFetched = sequenceNumber;
      if (deliver) shard.waitingSince ??= fetchedAt;
    }
  }

  // ---- delivery ----

  /** Delivers what is due on one shard; returns when it must wait (window, retry delay) or the buffer is empty. */
  async function deliver(shard: ShardState): Promise<void> {
    for (;;) {
      // Leading records that are never delivered are done as they are.
      complete(shard, leadingUndelivered(shard.buffer));
      if (shard.buffer.length === 0) return;

      const expired = shard.buffer.filter((entry) => entry.deliver && isTooOld(entry, source, now()));
      if (expired.length > 0) {
        deadLetter(shard, expired, 'maximum-record-age-exceeded', { maximumRecordAgeInSeconds: source.maximumRecordAgeInSeconds });
        for (const entry of expired) entry.deliver = false;
        shard.retry = retryAfterExpiry(shard.retry, shard.buffer);
        continue;
      }

      const drained = shard.iterator === undefined && shard.opened;
      const end = nextBatchEnd(shard.buffer, source, { retry: shard.retry, waitingSince: shard.waitingSince, drained }, now());
      if (end === undefined) return;
      await invokeBatch(shard, shard.buffer.slice(0, end));
    }
  }

  async function invokeBatch(shard: ShardState, span: Entry[]): Promise<void> {
    const batch = span.filter((entry) => entry.deliver);
    const [first, last] = [batch[0]!.sequenceNumber, batch[batch.length - 1]!.sequenceNumber];
    const event: DynamoDBStreamEvent = { Records: batch.map((entry) => toLambdaRecord(entry.record, streamArn!)) };
    const began = now();
    const range = `${batch.length} record(s), seq ${BigInt(first)}${batch.length > 1 ? `-${BigInt(last)}` : ''}`;
    let response: unknown;
    let thrown: unknown;
    invocations += 1;
    try {
      response = await invokeFunction(fn, options.handler, event, lambdaContext(fn));
    } catch (error) {
      thrown = error ?? new Error('undefined was thrown');
    }
    const took = `${now() - began} ms`;
    const batchSequenceNumbers = batch.map((entry) => entry.sequenceNumber);
    const outcome = outcomeOf(response, thrown, batchSequenceNumbers);
    const decision = decide({
      source,
      span: span.map((entry) => entry.sequenceNumber),
      batch: batchSequenceNumbers,
      retry: shard.retry,
      outcome,
      now: now(),
      retryDelayMs,
    });
    const error = outcome.kind === 'error' ? outcome.message : undefined;

    switch (decision.kind) {
      case 'done':
        log(`${label}: ${range} -> ok in ${took}`);
        shard.retry = undefined;
        complete(shard, span.length);
        return;
      case 'retry-from':
        complete(shard, decision.completeBefore);
        shard.retry = decision.retry;
        log(
          `${label}: ${range} -> ${decision.failed} failed in ${took}; retry ${decision.retry.failures}/${retryLimitText(source)} from seq ${BigInt(decision.retry.from)}`,
        );
        return;
      case 'bisect':
        shard.retry = decision.retry;
        log(`${label}: ${range} -> error in ${took} (${error}); bisecting: retrying the first ${decision.retry.limit}`);
        return;
      case 'retry':
        shard.retry = decision.retry;
        log(`${label}: ${range} -> error in ${took} (${error}); retry ${decision.retry.failures}/${retryLimitText(source)}`);
        return;
      case 'give-up': {
        const what = error === undefined ? `${decision.deadLetters.length} failed again` : `error in ${took} (${error})`;
        log(`${label}: ${range} -> ${what} after ${source.maximumRetryAttempts} retries${error === undefined ? ` in ${took}` : ''}; giving up on them`);
        const given = new Set(decision.deadLetters);
        deadLetter(
          shard,
          span.filter((entry) => given.has(entry.sequenceNumber)),
          'retries-exhausted',
          { attempts: decision.attempts, error: decision.error },
        );
        shard.retry = undefined;
        complete(shard, span.length);
      }
    }
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
          saveCheckpoint();
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
      const due = nextDueAt(source, shard);
      if (due !== undefined) delay = Math.min(delay, due - now());
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
      saveCheckpoint();
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

/**
 * The rules of a Lambda event source mapping for a DynamoDB stream, as pure functions of a
 * shard's buffered records, its retry state and an invocation's outcome, so each rule is
 * unit-tested without a stream (`test/unit/delivery-policy.test.ts`); `consumer.ts` applies
 * what they decide. The rules, as Lambda documents them:
 *
 * - Records not matching the filter patterns are never delivered, and count as processed.
 * - A batch goes out when it is full, when its oldest record waited the batching window, or
 *   when a closed shard has nothing more to give.
 * - `batchItemFailures`: everything before the lowest failed sequence number is done; the
 *   batch is delivered again from there. An identifier that is empty or not in the batch
 *   fails the whole batch.
 * - A thrown error or timeout: the batch is split in half and the first half retried
 *   (bisection does not use up retries); a single record, or any batch when bisection is
 *   off, counts a retry.
 * - After `maximumRetryAttempts` retries of the same first record, the records that still
 *   fail are given up on (dead letters) and the shard moves on; -1 (AWS's default) retries
 *   until the record expires. Records older than `maximumRecordAgeInSeconds` are given up on
 *   undelivered (-1: never), and a retry of them ends with them.
 */
import type { StreamSource } from '../../functions/catalog';
import { compareSequenceNumbers } from './shard-reader';

/** A record fetched from a shard and not yet processed. */
export interface PendingRecord {
  sequenceNumber: string;
  /** Matches the filter patterns and is not given up on: it goes to the function. */
  deliver: boolean;
  /** The stream's ApproximateCreationDateTime, in epoch milliseconds. */
  createdAtMs?: number;
}

/** A failed batch being delivered again. */
export interface RetryState {
  /** The first record of the batch being retried. */
  from: string;
  /** Failed deliveries starting at `from` that counted as retries. */
  failures: number;
  /** Most matching records the next batch may hold (a bisected batch holds fewer). */
  limit: number;
  /** Not before this time (epoch ms). */
  notBefore: number;
}

/** What the function's invocation came to. */
export type Outcome = { kind: 'ok' } | { kind: 'partial'; failed: string[] } | { kind: 'error'; message: string };

/** What to do after an invocation. Counts and indexes refer to the span the batch was taken from. */
export type Decision =
  /** The whole span is processed. */
  | { kind: 'done' }
  /** Records before `completeBefore` are processed; the rest is delivered again after the delay. */
  | { kind: 'retry-from'; completeBefore: number; failed: number; retry: RetryState }
  /** The function failed as a whole: the first half of the batch is delivered again at once. */
  | { kind: 'bisect'; retry: RetryState }
  /** The function failed as a whole: the batch is delivered again after the delay. */
  | { kind: 'retry'; retry: RetryState }
  /** Retries are spent: `deadLetters` are given up on and the whole span is processed. */
  | { kind: 'give-up'; deadLetters: string[]; attempts: number; error: string };

/** How many leading records are never delivered (they are processed as they are). */
export function leadingUndelivered(buffer: readonly PendingRecord[]): number {
  let count = 0;
  while (count < buffer.length && !buffer[count]!.deliver) count += 1;
  return count;
}

/**
 * Whether a record is past the maximum record age. Stream timestamps are rounded down to
 * the minute, so a minute is allowed for it.
 */
export function isTooOld(record: PendingRecord, source: Pick<StreamSource, 'maximumRecordAgeInSeconds'>, now: number): boolean {
  return source.maximumRecordAgeInSeconds >= 0 && record.createdAtMs !== undefined && now - record.createdAtMs > (source.maximumRecordAgeInSeconds + 60) * 1000;
}

export interface ShardTiming {
  retry?: RetryState;
  /** When the oldest waiting deliverable record was fetched (the batching window's start). */
  waitingSince?: number;
  /** The shard is closed and read to its end: nothing more will come to fill a batch. */
  drained: boolean;
}

/**
 * The next batch: the end of the span it is taken from (deliverable records with the
 * undelivered ones among them), or undefined when the shard must wait (for a full batch,
 * the batching window, or a retry's delay).
 */
export function nextBatchEnd(
  buffer: readonly PendingRecord[],
  source: Pick<StreamSource, 'batchSize' | 'maximumBatchingWindowInSeconds'>,
  timing: ShardTiming,
  now: number,
): number | undefined {
  const { retry } = timing;
  if (retry !== undefined && now < retry.notBefore) return undefined;
  const limit = retry?.limit ?? source.batchSize;
  let end = 0;
  let count = 0;
  for (; end < buffer.length && count < limit; end += 1) if (buffer[end]!.deliver) count += 1;
  if (count === 0) return undefined;
  const windowOver = timing.waitingSince !== undefined && now - timing.waitingSince >= source.maximumBatchingWindowInSeconds * 1000;
  if (retry === undefined && count < source.batchSize && !windowOver && !timing.drained) return undefined;
  return end;
}

/** When the shard next has something to do: the retry's time or the batching window's end. */
export function nextDueAt(
  source: Pick<StreamSource, 'maximumBatchingWindowInSeconds'>,
  timing: Pick<ShardTiming, 'retry' | 'waitingSince'>,
): number | undefined {
  if (timing.retry !== undefined) return timing.retry.notBefore;
  if (timing.waitingSince !== undefined) return timing.waitingSince + source.maximumBatchingWindowInSeconds * 1000;
  return undefined;
}

/** The meaning of an invocation: what it returned, or what it threw. */
export function outcomeOf(response: unknown, thrown: unknown, batch: readonly string[]): Outcome {
  if (thrown !== undefined) return { kind: 'error', message: thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown) };
  const failures = (response as { batchItemFailures?: unknown } | null | undefined)?.batchItemFailures;
  if (!Array.isArray(failures) || failures.length === 0) return { kind: 'ok' };
  const inBatch = new Set(batch);
  const identifiers = failures.map((failure) => (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier);
  // As Lambda: an identifier that is empty or not in the batch fails the whole batch.
  if (identifiers.some((identifier) => typeof identifier !== 'string' || !inBatch.has(identifier))) {
    return { kind: 'error', message: `Error: batchItemFailures named records not in the batch: ${JSON.stringify(identifiers)}` };
  }
  return { kind: 'partial', failed: [...new Set(identifiers as string[])].sort(compareSequenceNumbers) };
}

export interface DecisionInput {
  source: Pick<StreamSource, 'maximumRetryAttempts' | 'bisectBatchOnFunctionError'>;
  /** Sequence numbers of the span the batch was taken from, in order. */
  span: readonly string[];
  /** Sequence numbers of the records delivered, in order (a subsequence of `span`). */
  batch: readonly string[];
  retry?: RetryState;
  outcome: Outcome;
  now: number;
  /** The pause before retry `attempt` (1-based). */
  retryDelayMs: (attempt: number) => number;
}

/** Whether `failures` retries are more than the source allows; -1 allows any number (until the record expires). */
function retriesExhausted(source: Pick<StreamSource, 'maximumRetryAttempts'>, failures: number): boolean {
  return source.maximumRetryAttempts >= 0 && failures > source.maximumRetryAttempts;
}

/** The retry limit as a log line shows it. */
export function retryLimitText(source: Pick<StreamSource, 'maximumRetryAttempts'>): string {
  return source.maximumRetryAttempts < 0 ? 'unlimited' : String(source.maximumRetryAttempts);
}

/**
 * The retry state once records were given up on for their age: it ends when the record it
 * retries from is no longer to be delivered (what follows is a new batch, with the batch size
 * and batching window again).
 */
export function retryAfterExpiry(retry: RetryState | undefined, buffer: readonly PendingRecord[]): RetryState | undefined {
  if (retry === undefined) return undefined;
  const from = buffer.find((entry) => entry.sequenceNumber === retry.from);
  return from?.deliver ? retry : undefined;
}

/** What to do after an invocation. */
export function decide(input: DecisionInput): Decision {
  const { source, span, batch, retry, outcome, now } = input;
  if (outcome.kind === 'ok') return { kind: 'done' };

  if (outcome.kind === 'partial') {
    const lowest = outcome.failed[0]!;
    const failures = retry?.from === lowest ? retry.failures + 1 : 1;
    if (retriesExhausted(source, failures)) return { kind: 'give-up', deadLetters: outcome.failed, attempts: failures, error: 'reported in batchItemFailures' };
    const completeBefore = span.indexOf(lowest);
    const remaining = batch.filter((sequenceNumber) => compareSequenceNumbers(sequenceNumber, lowest) >= 0).length;
    return {
      kind: 'retry-from',
      completeBefore,
      failed: outcome.failed.length,
      retry: { from: lowest, failures, limit: remaining, notBefore: now + input.retryDelayMs(failures) },
    };
  }

  const first = batch[0]!;
  if (source.bisectBatchOnFunctionError && batch.length > 1) {
    return { kind: 'bisect', retry: { from: first, failures: retry?.from === first ? retry.failures : 0, limit: Math.ceil(batch.length / 2), notBefore: now } };
  }
  const failures = retry?.from === first ? retry.failures + 1 : 1;
  if (retriesExhausted(source, failures)) return { kind: 'give-up', deadLetters: [...batch], attempts: failures, error: outcome.message };
  return { kind: 'retry', retry: { from: first, failures, limit: batch.length, notBefore: now + input.retryDelayMs(failures) } };
}

/** Default pause before retry `attempt`: 0.25 s, doubling, at most 4 s. */
export const defaultRetryDelayMs = (attempt: number) => Math.min(4000, 250 * 2 ** (attempt - 1));

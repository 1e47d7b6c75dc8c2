/**
 * The event source mapping's rules (local/streams/delivery-policy.ts) as pure functions:
 * when a batch goes out, what an invocation's answer means, and what happens after it.
 */
import { MESSAGE_STREAM_SOURCE, type StreamSource } from '../../functions/catalog';
import {
  decide,
  defaultRetryDelayMs,
  isTooOld,
  leadingUndelivered,
  nextBatchEnd,
  nextDueAt,
  outcomeOf,
  retryAfterExpiry,
  type PendingRecord,
  type RetryState,
} from '../../local/streams/delivery-policy';

const SOURCE: StreamSource = { ...MESSAGE_STREAM_SOURCE, batchSize: 3, maximumBatchingWindowInSeconds: 1, maximumRetryAttempts: 2 };
const NOW = 1_000_000;

/** Records `1..n`, every one delivered unless its number is in `skipped`. */
function records(count: number, skipped: number[] = []): PendingRecord[] {
  return Array.from({ length: count }, (_, index) => ({ sequenceNumber: String(index + 1), deliver: !skipped.includes(index + 1) }));
}

const retryDelayMs = (attempt: number) => attempt * 100;

describe('leadingUndelivered', () => {
  it('counts the records before the first one that goes to the function', () => {
    expect(leadingUndelivered(records(5, [1, 2, 4]))).toBe(2);
    expect(leadingUndelivered(records(2))).toBe(0);
    expect(leadingUndelivered(records(2, [1, 2]))).toBe(2);
    expect(leadingUndelivered([])).toBe(0);
  });
});

describe('isTooOld', () => {
  const source = { maximumRecordAgeInSeconds: 3600 };

  it('gives a record the maximum age plus the minute its timestamp was rounded down by', () => {
    expect(isTooOld({ sequenceNumber: '1', deliver: true, createdAtMs: NOW - 3660_000 }, source, NOW)).toBe(false);
    expect(isTooOld({ sequenceNumber: '1', deliver: true, createdAtMs: NOW - 3661_000 }, source, NOW)).toBe(true);
  });

  it('never expires a record without a timestamp, or any record when the age is unlimited (-1)', () => {
    expect(isTooOld({ sequenceNumber: '1', deliver: true }, source, NOW)).toBe(false);
    expect(isTooOld({ sequenceNumber: '1', deliver: true, createdAtMs: 0 }, { maximumRecordAgeInSeconds: -1 }, NOW)).toBe(false);
  });
});

describe('nextBatchEnd', () => {
  it('sends a full batch at once, spanning the undelivered records among it', () => {
    // Records 2 and 4 are filtered out: the batch of three is 1, 3, 5, spanning five records.
    expect(nextBatchEnd(records(6, [2, 4]), SOURCE, { waitingSince: NOW, drained: false }, NOW)).toBe(5);
  });

  it('waits for the batching window while the batch is not full', () => {
    expect(nextBatchEnd(records(2), SOURCE, { waitingSince: NOW - 999, drained: false }, NOW)).toBeUndefined();
    expect(nextBatchEnd(records(2), SOURCE, { waitingSince: NOW - 1000, drained: false }, NOW)).toBe(2);
  });

  it('does not wait when a closed shard has nothing more to give', () => {
    expect(nextBatchEnd(records(1), SOURCE, { waitingSince: NOW, drained: true }, NOW)).toBe(1);
  });

  it('holds a retry until its time, then sends at most its limit without waiting for the window', () => {
    const retry: RetryState = { from: '1', failures: 1, limit: 2, notBefore: NOW + 50 };
    expect(nextBatchEnd(records(3), SOURCE, { retry, waitingSince: NOW, drained: false }, NOW)).toBeUndefined();
    expect(nextBatchEnd(records(3), SOURCE, { retry, waitingSince: NOW, drained: false }, NOW + 50)).toBe(2);
  });

  it('has nothing to send when nothing is deliverable', () => {
    expect(nextBatchEnd([], SOURCE, { drained: true }, NOW)).toBeUndefined();
    expect(nextBatchEnd(records(2, [1, 2]), SOURCE, { drained: true }, NOW)).toBeUndefined();
  });
});

describe('nextDueAt', () => {
  it('is the retry time, else the end of the batching window, else nothing', () => {
    expect(nextDueAt(SOURCE, { retry: { from: '1', failures: 1, limit: 1, notBefore: NOW + 5 }, waitingSince: NOW })).toBe(NOW + 5);
    expect(nextDueAt(SOURCE, { waitingSince: NOW })).toBe(NOW + 1000);
    expect(nextDueAt(SOURCE, {})).toBeUndefined();
  });
});

describe('outcomeOf', () => {
  const batch = ['10', '11', '12'];

  it('takes no answer, an empty list or any other value as success', () => {
    expect(outcomeOf(undefined, undefined, batch)).toEqual({ kind: 'ok' });
    expect(outcomeOf({ batchItemFailures: [] }, undefined, batch)).toEqual({ kind: 'ok' });
    expect(outcomeOf('fine', undefined, batch)).toEqual({ kind: 'ok' });
  });

  it('reads batchItemFailures as the failed records, sorted as numbers and without repeats', () => {
    const response = { batchItemFailures: [{ itemIdentifier: '12' }, { itemIdentifier: '11' }, { itemIdentifier: '12' }] };
    expect(outcomeOf(response, undefined, batch)).toEqual({ kind: 'partial', failed: ['11', '12'] });
  });

  it('fails the whole batch for an identifier that is empty or not in the batch, as Lambda does', () => {
    expect(outcomeOf({ batchItemFailures: [{ itemIdentifier: '99' }] }, undefined, batch)).toMatchObject({ kind: 'error' });
    expect(outcomeOf({ batchItemFailures: [{ itemIdentifier: '' }] }, undefined, batch)).toMatchObject({ kind: 'error' });
    expect(outcomeOf({ batchItemFailures: [{}] }, undefined, batch)).toMatchObject({ kind: 'error' });
  });

  it('takes a thrown error as an error with its name and message', () => {
    expect(outcomeOf(undefined, new TypeError('boom'), batch)).toEqual({ kind: 'error', message: 'TypeError: boom' });
  });
});

describe('decide', () => {
  const base = { source: SOURCE, span: ['1', '2', '3', '4'], batch: ['1', '3', '4'], now: NOW, retryDelayMs };

  it('completes the span on success', () => {
    expect(decide({ ...base, outcome: { kind: 'ok' } })).toEqual({ kind: 'done' });
  });

  it('on a partial failure completes what precedes the lowest failed record and retries the rest after the delay', () => {
    // Act
    const decision = decide({ ...base, outcome: { kind: 'partial', failed: ['3', '4'] } });

    // Assess: records 1 and 2 are done; 3 and 4 go again, as the first retry.
    expect(decision).toEqual({ kind: 'retry-from', completeBefore: 2, failed: 2, retry: { from: '3', failures: 1, limit: 2, notBefore: NOW + 100 } });
  });

  it('counts retries from the same record and gives up on the failed records after the maximum', () => {
    const retry: RetryState = { from: '3', failures: 2, limit: 2, notBefore: NOW };
    expect(decide({ ...base, retry, outcome: { kind: 'partial', failed: ['3'] } })).toEqual({
      kind: 'give-up',
      deadLetters: ['3'],
      attempts: 3,
      error: 'reported in batchItemFailures',
    });
    // A failure from another record starts counting afresh.
    expect(decide({ ...base, retry, outcome: { kind: 'partial', failed: ['4'] } })).toMatchObject({ kind: 'retry-from', retry: { from: '4', failures: 1 } });
  });

  it('bisects a failed batch of several records at once, without using up a retry', () => {
    const retry: RetryState = { from: '1', failures: 1, limit: 3, notBefore: NOW };
    expect(decide({ ...base, retry, outcome: { kind: 'error', message: 'Error: x' } })).toEqual({
      kind: 'bisect',
      retry: { from: '1', failures: 1, limit: 2, notBefore: NOW },
    });
  });

  it('retries a failed single record after the delay, and gives up on it after the maximum', () => {
    const single = { ...base, span: ['3'], batch: ['3'] };
    expect(decide({ ...single, outcome: { kind: 'error', message: 'Error: x' } })).toEqual({
      kind: 'retry',
      retry: { from: '3', failures: 1, limit: 1, notBefore: NOW + 100 },
    });
    const retry: RetryState = { from: '3', failures: 2, limit: 1, notBefore: NOW };
    expect(decide({ ...single, retry, outcome: { kind: 'error', message: 'Error: x' } })).toEqual({
      kind: 'give-up',
      deadLetters: ['3'],
      attempts: 3,
      error: 'Error: x',
    });
  });

  it('never gives up with maximumRetryAttempts -1 (AWS: retry until the record expires)', () => {
    const unlimited = { ...base, source: { ...SOURCE, maximumRetryAttempts: -1 }, span: ['3'], batch: ['3'] };
    const retry: RetryState = { from: '3', failures: 10_000, limit: 1, notBefore: NOW };
    expect(decide({ ...unlimited, retry, outcome: { kind: 'error', message: 'Error: x' } })).toMatchObject({ kind: 'retry', retry: { failures: 10_001 } });
    expect(decide({ ...unlimited, retry, outcome: { kind: 'partial', failed: ['3'] } })).toMatchObject({ kind: 'retry-from', retry: { failures: 10_001 } });
  });

  it('retries a whole failed batch when bisection is off', () => {
    const source = { ...SOURCE, bisectBatchOnFunctionError: false };
    expect(decide({ ...base, source, outcome: { kind: 'error', message: 'Error: x' } })).toEqual({
      kind: 'retry',
      retry: { from: '1', failures: 1, limit: 3, notBefore: NOW + 100 },
    });
  });
});

describe('retryAfterExpiry', () => {
  it('ends the retry when the record it retries from is given up for its age, and keeps it otherwise', () => {
    const retry: RetryState = { from: '2', failures: 1, limit: 2, notBefore: NOW };
    const buffer = records(4, []);
    expect(retryAfterExpiry(retry, buffer)).toBe(retry);
    expect(
      retryAfterExpiry(
        retry,
        buffer.map((entry) => (entry.sequenceNumber === '2' ? { ...entry, deliver: false } : entry)),
      ),
    ).toBeUndefined();
    expect(retryAfterExpiry(undefined, buffer)).toBeUndefined();
  });
});

describe('defaultRetryDelayMs', () => {
  it('starts at a quarter second and doubles up to four seconds', () => {
    expect([1, 2, 3, 4, 5, 6].map(defaultRetryDelayMs)).toEqual([250, 500, 1000, 2000, 4000, 4000]);
  });
});

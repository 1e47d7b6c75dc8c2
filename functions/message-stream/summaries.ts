/**
 * Pattern E over one batch of stream records: find each group's newest new message and
 * move the group's summaries to it, once per group, reporting failed groups as partial
 * batch failures.
 *
 * Why not Powertools' `BatchProcessor`: it handles one record at a time, while the point
 * here is to coalesce a group's records into one move (100 messages to one group cost three
 * requests, not three hundred) and to fail a group's records together. The response keeps
 * its semantics: `{ batchItemFailures: [{ itemIdentifier: SequenceNumber }] }`.
 */
import { BUSINESS_METRICS, count as countMetric } from '../observability/metrics';
import type { Logger } from '@aws-lambda-powertools/logger';
import pLimit from 'p-limit';
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import type { NewestMessage, SummaryMoveResult } from '../data/messages-repository';
import { readStreamRecord, type SkipReason } from '../data/stream-records';
import { isThrottlingError, withRetries, type RetryOptions } from '../data/retry';

/** What this module needs of the messages repository (pattern E's one write). */
export interface SummaryMover {
  moveGroupSummary(groupUuid: string, newest: NewestMessage, oldestSk: string): Promise<SummaryMoveResult>;
}

/** The structured logger's methods used here. */
export type BatchLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** The new messages of one group in a batch. */
export interface GroupBatch {
  groupUuid: string;
  /** The newest by sort key, whatever order the records came in. */
  newest: NewestMessage;
  /** The oldest key among them: one not newer than the group's last says the counts must be taken again. */
  oldestSk: string;
  /** Every record of the group: a failed move reports all of them, and nothing else. */
  sequenceNumbers: string[];
  /** The table keys of those messages, for the log when they can never be applied. */
  keys: { pk: string; sk: string }[];
  /** Records without a sequence number (never sent by Lambda, but they cannot be reported). */
  unidentifiedRecords: number;
}

export interface SkippedRecord {
  sequenceNumber?: string;
  eventName?: string;
  reason: SkipReason;
}

/**
 * Groups the batch's new messages by group (readStreamRecord says which records are new
 * messages: the group, pair and summary items of a pattern D transaction arrive in the same
 * batch as its message, and messages never change).
 */
export function collectNewestMessages(records: readonly DynamoDBRecord[]): { groups: GroupBatch[]; skipped: SkippedRecord[] } {
  const groups = new Map<string, GroupBatch>();
  const skipped: SkippedRecord[] = [];
  for (const record of records) {
    const reading = readStreamRecord(record);
    if (reading.kind === 'skipped') {
      skipped.push({ sequenceNumber: reading.sequenceNumber, eventName: reading.eventName, reason: reading.reason });
      continue;
    }
    const { groupUuid, item, sequenceNumber } = reading;
    const batch = groups.get(groupUuid) ?? {
      groupUuid,
      newest: { sk: item.sk, message: item.message },
      oldestSk: item.sk,
      sequenceNumbers: [],
      keys: [],
      unidentifiedRecords: 0,
    };
    if (item.sk > batch.newest.sk) batch.newest = { sk: item.sk, message: item.message };
    if (item.sk < batch.oldestSk) batch.oldestSk = item.sk;
    batch.keys.push({ pk: item.pk, sk: item.sk });
    if (sequenceNumber === undefined) batch.unidentifiedRecords += 1;
    else batch.sequenceNumbers.push(sequenceNumber);
    groups.set(groupUuid, batch);
  }
  return { groups: [...groups.values()], skipped };
}

type GroupOutcome =
  | { groupUuid: string; status: SummaryMoveResult }
  | { groupUuid: string; status: 'failed'; error: unknown }
  | { groupUuid: string; status: 'not-started' };

export interface MoveOptions {
  /** Groups moved at once. Each move is independent of the others, so they may overlap. */
  concurrency?: number;
  /** False once too little time is left to start (or retry) a move. */
  hasTime?: () => boolean;
  /** Retries of throttling errors the SDK gave up on; `canRetry` defaults to `hasTime`. */
  retry?: RetryOptions;
}

const DEFAULT_CONCURRENCY = 8;

/**
 * Moves each group's summaries to its newest message, a few groups at a time; a failed
 * group does not stop the others. Groups not started before time ran out are reported too,
 * so they are retried rather than lost to a timeout that would fail the whole batch.
 */
async function moveGroupSummaries(groups: readonly GroupBatch[], mover: SummaryMover, options: MoveOptions = {}): Promise<GroupOutcome[]> {
  const hasTime = options.hasTime ?? (() => true);
  const retry: RetryOptions = { canRetry: hasTime, ...options.retry };
  const limit = pLimit(Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY));
  return Promise.all(
    groups.map(({ groupUuid, newest, oldestSk }) =>
      limit(async (): Promise<GroupOutcome> => {
        if (!hasTime()) return { groupUuid, status: 'not-started' };
        try {
          // Throttling that outlived the SDK's retries is retried here; conflicts and throttling
          // inside a transaction (TransactionCanceledException) are moveGroupSummary's own.
          return { groupUuid, status: await withRetries(() => mover.moveGroupSummary(groupUuid, newest, oldestSk), isThrottlingError, retry) };
        } catch (error) {
          return { groupUuid, status: 'failed', error };
        }
      }),
    ),
  );
}

/**
 * The log message of records that can never be applied (their group has no group item): the
 * deployed stack counts these lines with a metric filter, and the soak looks for them.
 */
export const UNPLACEABLE_MESSAGE = 'Stream records cannot be applied';

/** Thrown when a failed group has a record Lambda could not be told about. */
export class UnreportableFailureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreportableFailureError';
  }
}

/**
 * Pattern E for one batch: every record is looked at, each group costs one move to its
 * newest message, and the records of failed groups come back as `batchItemFailures`.
 *
 * Lambda resumes a stream from the lowest failed sequence number, so records after it,
 * including other groups' successes, are delivered again; the move is idempotent, so that
 * costs one read per group and no write.
 * @throws UnreportableFailureError when a failed group has a record without a sequence
 * number: failing the whole batch is the only way to get it retried.
 */
export async function processStreamRecords(
  records: readonly DynamoDBRecord[],
  mover: SummaryMover,
  logger: BatchLogger,
  options: MoveOptions = {},
): Promise<DynamoDBBatchResponse> {
  const { groups, skipped } = collectNewestMessages(records);
  for (const record of skipped) {
    if (record.reason === 'no-new-image' || record.reason === 'malformed-image') {
      logger.warn('Stream record skipped', { ...record });
    } else {
      logger.debug('Stream record skipped', { ...record });
    }
  }

  const outcomes = await moveGroupSummaries(groups, mover, options);
  const failures: DynamoDBBatchResponse['batchItemFailures'] = [];
  outcomes.forEach((outcome, index) => {
    const group = groups[index]!;
    if (outcome.status === 'no-group') {
      // No retry can ever apply these (a table written by the original, not yet migrated, or a
      // stray write): they are recorded here, at once, and the batch moves on instead of
      // holding up the shard for its retries. docs/reliability.md says where to find them.
      logger.error(UNPLACEABLE_MESSAGE, {
        reason: 'no-group-item',
        groupUuid: group.groupUuid,
        records: group.keys.length,
        keys: group.keys,
        sequenceNumbers: group.sequenceNumbers,
        fix: 'npm run ddb:migrate',
      });
      return;
    }
    if (outcome.status !== 'failed' && outcome.status !== 'not-started') return;
    if (outcome.status === 'failed') {
      logger.error('Group summaries not moved', { groupUuid: group.groupUuid, records: group.sequenceNumbers.length, error: outcome.error });
    } else {
      logger.warn('Group summaries not moved: too little time left', { groupUuid: group.groupUuid, records: group.sequenceNumbers.length });
    }
    if (group.unidentifiedRecords > 0) {
      throw new UnreportableFailureError(`Group ${group.groupUuid} failed and ${group.unidentifiedRecords} of its records have no sequence number`);
    }
    failures.push(...group.sequenceNumbers.map((itemIdentifier) => ({ itemIdentifier })));
  });

  const count = (status: GroupOutcome['status']) => outcomes.filter((outcome) => outcome.status === status).length;
  logger.info('Stream batch processed', {
    records: records.length,
    skippedRecords: skipped.length,
    groups: groups.length,
    moved: count('moved'),
    recounted: count('recounted'),
    unchanged: count('unchanged'),
    noGroup: count('no-group'),
    failed: count('failed'),
    notStarted: count('not-started'),
    failedRecords: failures.length,
  });
  countMetric(BUSINESS_METRICS.summariesMoved, 2 * count('moved'));
  return { batchItemFailures: failures };
}

/**
 * Retries with capped exponential backoff and full jitter for the DynamoDB errors the SDK
 * does not retry on its own: transaction conflicts (a TransactionCanceledException whose
 * reasons are only conflicts or throttling) and unprocessed batch items.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Stop retrying when this returns false (e.g. the Lambda's remaining time runs out). */
  canRetry?: () => boolean;
}

const RETRYABLE_CANCELLATION_CODES = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded']);

/** True for a transaction cancelled only by conflicts or throttling, which a retry can fix. */
export function isRetryableTransactionCancellation(error: unknown): boolean {
  if (!(error instanceof TransactionCanceledException)) return false;
  const codes = (error.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None').filter((code) => code !== 'None');
  return codes.length > 0 && codes.every((code) => RETRYABLE_CANCELLATION_CODES.has(code));
}

/** The codes of a cancelled transaction, in the order of its actions (`None` for those that passed). */
export function cancellationCodes(error: unknown): string[] {
  return error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None') : [];
}

const THROTTLING_ERRORS = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded']);

/** True for DynamoDB's throttling errors (by the time the code sees one, the SDK's retries are spent). */
export function isThrottlingError(error: unknown): boolean {
  return error instanceof Error && THROTTLING_ERRORS.has(error.name);
}

/**
 * True for failures that say "busy, try again later" rather than "broken": throttling, a
 * request that timed out (the SDK names socket timeouts TimeoutError), and a transaction
 * cancelled only by conflicts or throttling.
 */
export function isTransientDynamoDbError(error: unknown): boolean {
  return isThrottlingError(error) || (error instanceof Error && error.name === 'TimeoutError') || isRetryableTransactionCancellation(error);
}

export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number): number {
  return Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
}

/** Runs `operation`, retrying while `isRetryable(error)` holds and attempts remain. */
export async function withRetries<T>(
  operation: () => Promise<T>,
  isRetryable: (error: unknown) => boolean,
  { attempts = 6, baseDelayMs = 25, maxDelayMs = 1000, canRetry = () => true }: RetryOptions = {},
): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await operation();
    } catch (error) {
      if (attempt + 1 >= attempts || !isRetryable(error) || !canRetry()) throw error;
      await sleep(backoffDelay(attempt, baseDelayMs, maxDelayMs));
    }
  }
}

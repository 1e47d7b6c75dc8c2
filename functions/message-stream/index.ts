/**
 * Pattern E: the consumer of the messages table's stream. Moves both participants' group
 * summaries to each group's newest message, and reports the records of groups it could not
 * move as partial batch failures (the event source mapping in functions/catalog.ts sets
 * `ReportBatchItemFailures`).
 */
import { publishingMetrics } from '../observability/metrics';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { createMessagesRepository } from '../data/messages-repository';
import type { RetryOptions } from '../data/retry';
import { sharedDocumentClient } from '../clients/dynamodb';
import { functionConfig } from '../config/function-config';
import { logger, withInvocationContext } from '../observability/logger';
import { processStreamRecords, type SummaryMover } from './summaries';

export interface MessageStreamDeps {
  /** The repository for one invocation; `retry.canRetry` stops retries when time runs short. */
  summaryMover: (retry: RetryOptions) => SummaryMover;
  logger: Logger;
}

/**
 * Time kept back from the invocation's budget: enough for the longest backoff (1 s) and
 * one more round trip, so a slow group is reported as failed instead of timing out the
 * whole batch (a timeout retries every record, bisecting).
 */
export const TIME_RESERVE_MS = 3000;

/** The handler over injected dependencies (tests pass their own repository and logger). */
export function createMessageStreamHandler(deps: MessageStreamDeps) {
  return withInvocationContext(
    deps.logger,
    publishingMetrics(async function messageStreamHandler(event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> {
      const hasTime = () => context.getRemainingTimeInMillis() > TIME_RESERVE_MS;
      return processStreamRecords(event.Records ?? [], deps.summaryMover({ canRetry: hasTime }), deps.logger, { hasTime });
    }),
  );
}

// The configuration and the client are read on first use, so importing this module (as the
// unit tests do, for the factory) needs neither TABLE_NAME nor AWS credentials.
const defaultDeps: MessageStreamDeps = {
  summaryMover: (retry) => createMessagesRepository(sharedDocumentClient(), { tableName: functionConfig().tableName, retry }),
  logger,
};

export const handler = createMessageStreamHandler(defaultDeps);

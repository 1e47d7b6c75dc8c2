/**
 * Pattern E: the consumer of the messages table's stream. Moves both participants' group
 * summaries to each group's newest message, and reports the records of groups it could not
 * move as partial batch failures (the event source mapping in functions/catalog.ts sets
 * `ReportBatchItemFailures`).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { createDocumentClient } from '../commons/clients';
import { getStringFromEnv } from '../commons/env';
import { createMessagesRepository } from '../commons/messages-repository';
import type { RetryOptions } from '../commons/retry';
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
  return async function messageStreamHandler(event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> {
    deps.logger.addContext(context);
    const hasTime = () => context.getRemainingTimeInMillis() > TIME_RESERVE_MS;
    return processStreamRecords(event.Records ?? [], deps.summaryMover({ canRetry: hasTime }), deps.logger, { hasTime });
  };
}

// Created on first use, then kept for the container's life: importing this module (as the
// unit tests do, for the factory) must not need TABLE_NAME or AWS credentials. The endpoint
// of local runs comes from the SDK's own AWS_ENDPOINT_URL_DYNAMODB.
let documentClient: DynamoDBDocumentClient | undefined;
let tableName: string | undefined;

const defaultDeps: MessageStreamDeps = {
  summaryMover: (retry) => {
    tableName ??= getStringFromEnv('TABLE_NAME');
    documentClient ??= createDocumentClient();
    return createMessagesRepository(documentClient, { tableName, retry });
  },
  logger: new Logger({ serviceName: 'message-stream' }),
};

export const handler = createMessageStreamHandler(defaultDeps);

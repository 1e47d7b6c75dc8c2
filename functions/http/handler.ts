/**
 * The HTTP edge of the API functions: the one JSON response helper, the one place errors
 * become responses, and the wrapper every HTTP handler is made with. Clients get a JSON body
 * with a clear message, never a stack trace or an SDK message; faults (5xx) are logged as
 * structured JSON with the request ids.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { NEXT_CURSOR_HEADER } from '../catalog';
import type { Page } from '../data/messages-repository';
import { isTransientDynamoDbError } from '../data/retry';
import { AppError, ServiceBusyError } from '../errors';
import { logger as defaultLogger, withInvocationContext } from '../observability/logger';
import type { HttpEvent } from './request';

export type HttpResult = APIGatewayProxyStructuredResultV2;

/** The one way a response is made: JSON, never cached (every answer is someone's private data). */
export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/** A page as the Cruddur frontend expects it (a bare array), with the next cursor in a header. */
export function pageResponse<T>(page: Page<T>): HttpResult {
  return jsonResponse(200, page.items, page.nextCursor === undefined ? {} : { [NEXT_CURSOR_HEADER]: page.nextCursor });
}

/** Stands in for an error that is none of ours, so every answer comes from an {@link AppError}. */
class InternalError extends AppError {
  readonly status = 500;
  readonly code = 'internal_error';
  override readonly name: string = 'InternalError';
}

/**
 * The one mapping of errors to responses: an {@link AppError} answers with its own status,
 * body and headers; DynamoDB still busy after the SDK's retries is a 503 the client may
 * retry; anything else is a 500 that shows nothing of itself.
 */
export function errorResponse(error: unknown, requestId?: string): { response: HttpResult; fault: boolean } {
  const known =
    error instanceof AppError
      ? error
      : isTransientDynamoDbError(error)
        ? new ServiceBusyError('DynamoDB is busy', { cause: error })
        : new InternalError('Unexpected error', { cause: error });
  return { response: jsonResponse(known.status, known.body(requestId), known.headers()), fault: known.fault };
}

export type LambdaHttpHandler = (event: HttpEvent, context?: Context) => Promise<HttpResult>;

export interface HttpHandlerOptions {
  logger?: Logger;
}

/**
 * Wraps an operation into a Lambda handler: every thrown error goes through
 * {@link errorResponse}; faults are logged with the API Gateway and Lambda request ids.
 */
export function httpHandler(operation: (event: HttpEvent) => Promise<HttpResult>, options: HttpHandlerOptions = {}): LambdaHttpHandler {
  const log = options.logger ?? defaultLogger;
  return withInvocationContext(log, async (event: HttpEvent, _context?: Context) => {
    const requestId = event.requestContext?.requestId;
    log.appendKeys({ request_id: requestId, route: event.routeKey });
    try {
      return await operation(event);
    } catch (error) {
      const { response, fault } = errorResponse(error, requestId);
      if (fault) log.error('Request failed', { status: response.statusCode, error: error as Error });
      return response;
    }
  });
}

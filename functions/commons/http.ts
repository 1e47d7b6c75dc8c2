/**
 * The HTTP edge of the API functions (API Gateway HTTP API, payload 2.0): reading requests,
 * the one JSON response helper, and the one place typed errors become status codes. Clients
 * get a JSON body with a clear message, never a stack trace or an SDK message; real faults
 * (5xx) are logged as structured JSON with the request id.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { InvalidCursorError, NotFoundError, ServiceUnavailableError, ValidationError, WriteNotAppliedError } from './errors';
import type { Page } from './messages-repository';
import { isTransientDynamoDbError } from './retry';
import { UnregisteredCallerError, type PageQuery } from './messaging';
import { ValidationCode } from './validation';
import { NEXT_CURSOR_HEADER } from '../catalog';

export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type HttpResult = APIGatewayProxyStructuredResultV2;

/** Largest accepted request body, decoded: a 1024-character message is at most 4 KiB of UTF-8. */
export const MAX_BODY_BYTES = 16 * 1024;

/** The response header carrying the next page's cursor; absent on the last page. */
export { NEXT_CURSOR_HEADER };

/** No token, or one without a subject: 401. */
export class UnauthenticatedError extends Error {
  constructor(message = 'Sign in first: the request carries no valid access token') {
    super(message);
    this.name = 'UnauthenticatedError';
  }
}

/** A body that is not a JSON object: 400. */
export class BadRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadRequestError';
  }
}

/** A body over {@link MAX_BODY_BYTES}: 413. */
export class PayloadTooLargeError extends Error {
  constructor(limitBytes: number) {
    super(`The request body is larger than ${limitBytes} bytes`);
    this.name = 'PayloadTooLargeError';
  }
}

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

/**
 * The caller's Cognito `sub`, from the claims API Gateway's JWT authorizer verified. Nothing
 * else identifies a caller: a client-sent `X-Cognito-Username` header is ignored (defect 10).
 * @throws UnauthenticatedError when there are no claims or no subject.
 */
export function callerSub(event: HttpEvent): string {
  // Typed as always present, but absent when a route is (mis)configured without the authorizer.
  const sub = (event.requestContext as Partial<HttpEvent['requestContext']>).authorizer?.jwt?.claims?.sub;
  if (typeof sub !== 'string' || sub.trim() === '') throw new UnauthenticatedError();
  return sub;
}

/**
 * The request body as a JSON object, base64-decoded when API Gateway encoded it.
 * @throws PayloadTooLargeError over `maxBytes`; BadRequestError when missing, malformed or not an object.
 */
export function jsonObjectBody(event: HttpEvent, maxBytes = MAX_BODY_BYTES): Record<string, unknown> {
  if (event.body === undefined || event.body === null || event.body === '') throw new BadRequestError('The request needs a JSON object body');
  // Base64 takes 4 characters per 3 bytes: refuse an oversized body before decoding it.
  if (event.isBase64Encoded && event.body.length > Math.ceil(maxBytes / 3) * 4 + 4) throw new PayloadTooLargeError(maxBytes);
  const bytes = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (bytes.length > maxBytes) throw new PayloadTooLargeError(maxBytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new BadRequestError('The request body is not valid JSON (UTF-8)');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BadRequestError('The request body must be a JSON object');
  return parsed as Record<string, unknown>;
}

/**
 * A path parameter, percent-decoded (HTTP APIs pass some encoded, e.g. `%40handle`).
 * A malformed escape is returned as sent, for validation to refuse.
 */
export function pathParameter(event: HttpEvent, name: string): string | undefined {
  const raw = event.pathParameters?.[name];
  if (raw === undefined) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** `?limit=` and `?cursor=`, unvalidated. */
export function pageQuery(event: HttpEvent): PageQuery {
  const query = event.queryStringParameters ?? {};
  return { limit: query.limit, cursor: query.cursor };
}

interface ErrorMapping {
  response: HttpResult;
  /** A real fault (5xx): logged with its details, which the response never shows. */
  fault: boolean;
}

function errorBody(error: string, message: string, extra: Record<string, string> = {}) {
  return { error, message, ...extra };
}

/** The one mapping of errors to responses. */
export function errorResponse(error: unknown, requestId?: string): ErrorMapping {
  const clientError = (statusCode: number, body: unknown, headers?: Record<string, string>): ErrorMapping => ({
    response: jsonResponse(statusCode, body, headers),
    fault: false,
  });
  // The original answered validation failures with a bare array of codes; the frontend reads it.
  if (error instanceof ValidationError) return clientError(422, error.codes);
  if (error instanceof InvalidCursorError) return clientError(422, [ValidationCode.cursorInvalid]);
  if (error instanceof UnauthenticatedError) return clientError(401, errorBody('unauthorized', error.message), { 'WWW-Authenticate': 'Bearer' });
  if (error instanceof UnregisteredCallerError) return clientError(403, errorBody('forbidden', error.message));
  if (error instanceof NotFoundError) return clientError(404, errorBody('not_found', error.message));
  if (error instanceof BadRequestError) return clientError(400, errorBody('bad_request', error.message));
  if (error instanceof PayloadTooLargeError) return clientError(413, errorBody('payload_too_large', error.message));

  const reference: Record<string, string> = requestId === undefined ? {} : { request_id: requestId };
  // DynamoDB still busy after the retries: the client may try again later. (A write that may
  // have landed anyway was checked before it got here: see writeOnce in messages-repository.ts.)
  if (error instanceof WriteNotAppliedError || error instanceof ServiceUnavailableError || isTransientDynamoDbError(error)) {
    return {
      response: jsonResponse(503, errorBody('service_unavailable', 'The service is busy and nothing was saved; try again in a moment', reference), { 'Retry-After': '1' }),
      fault: true,
    };
  }
  return { response: jsonResponse(500, errorBody('internal_error', 'Something went wrong on our side', reference)), fault: true };
}

/** The structured logger of the API functions (level from `POWERTOOLS_LOG_LEVEL`). */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'cruddur-messaging' });

export type LambdaHttpHandler = (event: HttpEvent, context?: Context) => Promise<HttpResult>;

export interface HttpHandlerOptions {
  logger?: Logger;
}

/**
 * Wraps an operation into a Lambda handler: every thrown error goes through
 * {@link errorResponse}; faults are logged with the API Gateway and Lambda request ids.
 */
export function httpHandler(operation: (event: HttpEvent) => Promise<HttpResult>, options: HttpHandlerOptions = {}): LambdaHttpHandler {
  const log = options.logger ?? logger;
  return async (event, context) => {
    const requestId = event.requestContext?.requestId;
    log.resetKeys();
    if (context !== undefined) log.addContext(context);
    log.appendKeys({ request_id: requestId, route: event.routeKey });
    try {
      return await operation(event);
    } catch (error) {
      const { response, fault } = errorResponse(error, requestId);
      if (fault) log.error('Request failed', { status: response.statusCode, error: error as Error });
      return response;
    }
  };
}

/**
 * Reading an API Gateway HTTP API request (payload 2.0): who is calling, the JSON body, path
 * and query parameters. Anything malformed becomes one of the typed errors of `../errors`.
 */
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import type { PageQuery } from '../domain/messaging';
import { BadRequestError, PayloadTooLargeError, UnauthenticatedError } from '../errors';

export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;

/** Largest accepted request body, decoded: a 1024-character message is at most 4 KiB of UTF-8. */
export const MAX_BODY_BYTES = 16 * 1024;

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

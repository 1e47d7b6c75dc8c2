/**
 * Reading an API Gateway HTTP API request (payload 2.0): who is calling, the JSON body, path
 * and query parameters. Anything malformed becomes one of the typed errors of `../errors`.
 */
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import type { PageQuery } from '../domain/conversations';
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
  const claims = (event.requestContext as Partial<HttpEvent['requestContext']>).authorizer?.jwt?.claims;
  const sub = claims?.sub;
  if (typeof sub !== 'string' || sub.trim() === '') throw new UnauthenticatedError();
  // API Gateway's JWT authorizer checks issuer, audience and expiry, not the kind of token: an
  // ID token of the app client would pass it where a route's scopes were removed.
  if (claims?.token_use !== 'access') throw new UnauthenticatedError('Send an access token: ID tokens (and other tokens) are not accepted');
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

/** {@link jsonObjectBody}, or undefined when the request has no body. */
export function optionalJsonObjectBody(event: HttpEvent): Record<string, unknown> | undefined {
  return event.body === undefined || event.body === null || event.body === '' ? undefined : jsonObjectBody(event);
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

/** The longest Idempotency-Key accepted (Stripe's limit; the draft sets none). */
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/**
 * The `Idempotency-Key` header of the IETF draft (draft-ietf-httpapi-idempotency-key-header),
 * or undefined without one. The draft makes it a structured-field string (`"8e03978e-..."`);
 * many clients send it bare, which is taken too.
 * @throws BadRequestError unless it is 1 to 255 printable characters (repeated headers arrive
 * joined with a comma and a space, and are refused too).
 */
export function idempotencyKey(event: HttpEvent): string | undefined {
  const raw = event.headers?.['idempotency-key'];
  if (raw === undefined) return undefined;
  const key = /^"(.*)"$/.exec(raw.trim())?.[1] ?? raw.trim();
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key) || /["\\,]/.test(key)) {
    throw new BadRequestError(
      `The Idempotency-Key header must be one value of 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable characters, without spaces, quotes or commas`,
    );
  }
  return key;
}

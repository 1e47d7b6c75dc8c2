/**
 * The event API Gateway (HTTP API, payload format 2.0) sends a route's function, built from
 * the request as received: headers, cookies, query, body encoding, the authorizer's claims
 * and the request context. Pure functions; the local gateway and `npm run invoke` use them.
 */
import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import type { HttpFunction } from '../../functions/catalog';
import { LOCAL_ACCOUNT_ID } from '../aws';
import { routeKeyOf, splitUrl, type RouteMatch } from './routes';

export type HttpApiEvent = APIGatewayProxyEventV2WithJWTAuthorizer;

/** A request as the gateway received it. */
export interface RawRequest {
  method: string;
  /** Path and query as sent, e.g. `/api/messages/abc?limit=5`. */
  url: string;
  /** Node's header lists: names lower-cased, repeated headers as arrays. */
  headers: Record<string, string | string[] | undefined>;
  /** Name, value, name, value... as sent (Node keeps only the first of some repeated headers above). */
  rawHeaders?: string[];
  body: Buffer;
  sourceIp: string;
}

/** An API Gateway request id, e.g. `dGVzdGlkMTIzNDU=`-like (14 characters). */
export function gatewayRequestId(): string {
  return randomBytes(10).toString('base64').slice(0, 14).replace(/\+/g, 'A').replace(/\//g, 'B');
}

/** `12/Mar/2020:19:03:58 +0000`, API Gateway's `requestContext.time`. */
export function gatewayTime(epochMs: number): string {
  const date = new Date(epochMs);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** Verified token claims as the JWT authorizer passes them: every value a string. */
export function claimsAsStrings(payload: Record<string, unknown>): Record<string, string> {
  const claims: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload)) {
    if (value === undefined || value === null) continue;
    // API Gateway flattens arrays to `[a b]` and numbers to their digits.
    if (Array.isArray(value)) claims[name] = `[${value.join(' ')}]`;
    else if (typeof value === 'object') claims[name] = JSON.stringify(value);
    else claims[name] = String(value);
  }
  return claims;
}

/** The scopes of an access token (its space-separated `scope` claim). */
export function scopesOf(payload: Record<string, unknown>): string[] | null {
  return typeof payload.scope === 'string' && payload.scope.trim() !== '' ? payload.scope.trim().split(/\s+/) : null;
}

const TEXT_CONTENT_TYPE = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+(json|xml))/i;

/**
 * The event's body: text for textual content types (and bodies without one) when they are
 * valid UTF-8, base64 otherwise, with `isBase64Encoded` saying which.
 */
function eventBody(body: Buffer, contentType: string | undefined): { body?: string; isBase64Encoded: boolean } {
  if (body.length === 0) return { isBase64Encoded: false };
  if (contentType === undefined || TEXT_CONTENT_TYPE.test(contentType)) {
    try {
      return { body: new TextDecoder('utf-8', { fatal: true }).decode(body), isBase64Encoded: false };
    } catch {
      // Not UTF-8 after all: pass the bytes.
    }
  }
  return { body: body.toString('base64'), isBase64Encoded: true };
}

/** Query parameters as payload 2.0 has them: a repeated name's values joined with commas. */
function queryParameters(rawQueryString: string): Record<string, string> | undefined {
  if (rawQueryString === '') return undefined;
  const parameters: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    parameters[name] = name in parameters ? `${parameters[name]},${value}` : value;
  }
  return Object.keys(parameters).length === 0 ? undefined : parameters;
}

export interface EventInput {
  match: RouteMatch;
  request: RawRequest;
  /** The verified token's claims (already strings) and scopes; none on a route without an authorizer. */
  authorizer?: { claims: Record<string, string>; scopes: string[] | null };
  requestId?: string;
  now?: number;
  /** Host:port the API answers on, for `domainName`. */
  domainName?: string;
}

/** The payload 2.0 event API Gateway sends the route's function. */
export function buildHttpEvent(input: EventInput): HttpApiEvent {
  const { match, request } = input;
  const now = input.now ?? Date.now();
  const requestId = input.requestId ?? gatewayRequestId();
  const { rawPath, rawQueryString } = splitUrl(request.url);

  // Header names lower-cased, repeated values joined with commas; cookies travel apart.
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    const joined = Array.isArray(value) ? value.join(',') : value;
    if (lower === 'cookie') {
      cookies = joined.split(/;\s*/).filter((cookie) => cookie !== '');
      continue;
    }
    headers[lower] = lower in headers ? `${headers[lower]},${joined}` : joined;
  }
  headers['x-forwarded-for'] ??= request.sourceIp;
  headers['x-forwarded-proto'] ??= 'http';
  headers['x-amzn-trace-id'] ??= `Root=1-${Math.floor(now / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
  const domainName = input.domainName ?? headers.host ?? 'localhost';
  const routeKey = routeKeyOf(match.fn);
  const query = queryParameters(rawQueryString);
  const { body, isBase64Encoded } = eventBody(request.body, headers['content-type']);

  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString,
    ...(cookies && cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(query ? { queryStringParameters: query } : {}),
    ...(Object.keys(match.pathParameters).length > 0 ? { pathParameters: { ...match.pathParameters } } : {}),
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: 'local',
      ...(input.authorizer === undefined
        ? {}
        : { authorizer: { principalId: '', integrationLatency: 0, jwt: { claims: input.authorizer.claims, scopes: input.authorizer.scopes as string[] } } }),
      domainName,
      domainPrefix: domainName.split('.')[0]!.split(':')[0]!,
      http: { method: request.method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: request.sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId,
      routeKey,
      stage: '$default',
      time: gatewayTime(now),
      timeEpoch: now,
      // A route without an authorizer has no `authorizer` at all (the type says it always has one).
    } as HttpApiEvent['requestContext'],
    ...(body === undefined ? {} : { body }),
    isBase64Encoded,
  };
}

/**
 * The event a request to `fn`'s route would produce, for callers without an HTTP request
 * (`npm run invoke`): path parameters are percent-encoded into the path as a client would.
 */
export function eventForRoute(
  fn: HttpFunction,
  input: {
    pathParameters?: Record<string, string>;
    query?: Record<string, string>;
    body?: string;
    claims?: Record<string, string>;
    headers?: Record<string, string>;
  },
): HttpApiEvent {
  const pathParameters: Record<string, string> = {};
  const rawPath = fn.route.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = input.pathParameters?.[name];
    if (value === undefined) throw new Error(`The route ${fn.route.path} needs the path parameter ${name} (--path ${name}=...)`);
    pathParameters[name] = encodeURIComponent(value);
    return pathParameters[name]!;
  });
  const query = new URLSearchParams(input.query ?? {}).toString();
  const body = input.body === undefined ? Buffer.alloc(0) : Buffer.from(input.body);
  const request: RawRequest = {
    method: fn.route.method,
    url: query === '' ? rawPath : `${rawPath}?${query}`,
    headers: {
      accept: 'application/json',
      host: 'localhost',
      'user-agent': 'cruddur-invoke',
      ...(body.length > 0 ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}),
      ...input.headers,
    },
    body,
    sourceIp: '127.0.0.1',
  };
  const claims = input.claims;
  // Without claims, the event is one a route without an authorizer would produce.
  return buildHttpEvent({ match: { fn, pathParameters }, request, authorizer: claims === undefined ? undefined : { claims, scopes: scopesOf(claims) } });
}

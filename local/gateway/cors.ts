/**
 * CORS as the HTTP API answers it, before any route or authorizer: preflights, and the
 * headers added to other answers from an allowed origin.
 */
import { API_CORS } from '../../functions/catalog';
import type { RawRequest } from './http-event';
import type { GatewayResponse } from './responses';

/** The HTTP API's CORS configuration: the catalog's API_CORS, as infrastructure/constructs/http-api.ts deploys it. */
export interface CorsConfiguration {
  allowOrigins: readonly string[];
  allowMethods: readonly string[];
  allowHeaders: readonly string[];
  exposeHeaders: readonly string[];
  maxAgeSeconds: number;
}

/** What the deployed API allows, with the local frontend's origin. */
export const LOCAL_CORS: CorsConfiguration = { ...API_CORS, allowOrigins: ['http://localhost:3000'] };

export const isPreflight = (request: Pick<RawRequest, 'method' | 'headers'>) =>
  request.method === 'OPTIONS' && request.headers.origin !== undefined && request.headers['access-control-request-method'] !== undefined;

const headerValue = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(',') : value);

/**
 * API Gateway answers preflights itself, before routes and authorizers: 204, with the
 * allow headers only when the origin (and the requested method) is allowed.
 */
export function preflightResponse(cors: CorsConfiguration, request: Pick<RawRequest, 'headers'>): GatewayResponse {
  const origin = headerValue(request.headers.origin);
  const method = headerValue(request.headers['access-control-request-method'])?.toUpperCase();
  const allowed = origin !== undefined && cors.allowOrigins.includes(origin) && method !== undefined && cors.allowMethods.includes(method);
  const headers: Record<string, string> = allowed
    ? {
        'access-control-allow-origin': origin,
        'access-control-allow-methods': cors.allowMethods.join(','),
        'access-control-allow-headers': cors.allowHeaders.join(','),
        'access-control-max-age': String(cors.maxAgeSeconds),
        vary: 'Origin',
      }
    : {};
  return { statusCode: 204, headers, cookies: [], body: Buffer.alloc(0) };
}

/** The CORS headers added to any other response from an allowed origin. */
export function corsHeaders(cors: CorsConfiguration, origin: string | undefined): Record<string, string> {
  if (origin === undefined || !cors.allowOrigins.includes(origin)) return {};
  return {
    'access-control-allow-origin': origin,
    vary: 'Origin',
    ...(cors.exposeHeaders.length > 0 ? { 'access-control-expose-headers': cors.exposeHeaders.join(',') } : {}),
  };
}

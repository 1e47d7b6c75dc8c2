/**
 * API Gateway HTTP API (payload 2.0) events as the JWT authorizer delivers them, built from
 * the routes of the function catalog, plus a Lambda context to go with them.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, Context } from 'aws-lambda';
import { functionNamed, type HttpFunction } from '../../functions/catalog';

export interface ApiEventOptions {
  /** The caller's Cognito `sub`; `null` makes an event with no authorizer claims at all. */
  sub: string | null;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else is JSON-encoded. */
  body?: unknown;
  isBase64Encoded?: boolean;
  requestId?: string;
}

/** An event for the route of the catalog function `functionName`. */
export function apiEvent(functionName: string, options: ApiEventOptions): APIGatewayProxyEventV2WithJWTAuthorizer {
  const fn = functionNamed(functionName);
  if (fn.kind !== 'http') throw new Error(`${functionName} is not an HTTP function`);
  const { method, path: template } = (fn as HttpFunction).route;
  const pathParameters = options.pathParameters;
  const rawPath = template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = pathParameters?.[name];
    if (value === undefined) throw new Error(`The route ${template} needs the path parameter ${name}`);
    return value;
  });
  const rawQueryString = new URLSearchParams(options.query ?? {}).toString();
  const requestId = options.requestId ?? randomUUID();
  const now = Date.now();
  const body = options.body === undefined || typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const claims =
    options.sub === null
      ? undefined
      : {
          sub: options.sub,
          iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test',
          client_id: 'test-client',
          token_use: 'access',
          scope: 'aws.cognito.signin.user.admin',
          username: options.sub,
          auth_time: String(Math.floor(now / 1000)),
          exp: String(Math.floor(now / 1000) + 3600),
          iat: String(Math.floor(now / 1000)),
        };
  const requestContext = {
    accountId: '123456789012',
    apiId: 'testapi',
    domainName: 'testapi.execute-api.us-east-1.amazonaws.com',
    domainPrefix: 'testapi',
    http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'jest' },
    requestId,
    routeKey: `${method} ${template}`,
    stage: '$default',
    time: new Date(now).toUTCString(),
    timeEpoch: now,
    ...(claims === undefined ? {} : { authorizer: { principalId: '', integrationLatency: 0, jwt: { claims, scopes: null } } }),
  } as APIGatewayProxyEventV2WithJWTAuthorizer['requestContext'];
  return {
    version: '2.0',
    routeKey: `${method} ${template}`,
    rawPath,
    rawQueryString,
    headers: {
      accept: 'application/json',
      host: 'testapi.execute-api.us-east-1.amazonaws.com',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.sub === null ? {} : { authorization: 'Bearer test-access-token' }),
      ...options.headers,
    },
    ...(options.query === undefined ? {} : { queryStringParameters: { ...options.query } }),
    ...(pathParameters === undefined ? {} : { pathParameters: { ...pathParameters } }),
    requestContext,
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: options.isBase64Encoded ?? false,
  };
}

/** A Lambda context such as the runtime passes. */
export function lambdaContext(functionName = 'test-function'): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 10_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** A response body parsed as JSON. */
export function parseBody<T = unknown>(result: { body?: string }): T {
  if (result.body === undefined) throw new Error('The response has no body');
  return JSON.parse(result.body) as T;
}

/**
 * What the local gateway does around a function, as pure functions: routing by the
 * catalog, the payload 2.0 event, result mapping, CORS; the Lambda context; and the
 * sample events under events/ staying in step with the catalog. No network.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { FUNCTIONS, HTTP_FUNCTIONS, STREAM_FUNCTIONS, functionNamed, type HttpFunction } from '../../functions/catalog';
import { matchesAnyFilterPattern } from '../../local/streams/filter';
import { bearerToken } from '../../local/gateway/auth';
import { LOCAL_CORS, corsHeaders, preflightResponse } from '../../local/gateway/cors';
import { buildHttpEvent, claimsAsStrings, eventForRoute, gatewayTime, type HttpApiEvent, type RawRequest } from '../../local/gateway/http-event';
import { matchRoute } from '../../local/gateway/routes';
import { toGatewayResponse } from '../../local/gateway/responses';
import { lambdaContext } from '../../local/lambda';

const http = (name: string) => functionNamed(name) as HttpFunction;

function request(overrides: Partial<RawRequest> = {}): RawRequest {
  return { method: 'GET', url: '/api/message_groups', headers: { host: '127.0.0.1:4567' }, body: Buffer.alloc(0), sourceIp: '127.0.0.1', ...overrides };
}

const authorizer = { claims: { sub: 'sub-1', token_use: 'access' }, scopes: ['aws.cognito.signin.user.admin'] };

describe('matchRoute', () => {
  it('finds each catalog route with its raw path parameters', () => {
    // Act
    const groups = matchRoute(HTTP_FUNCTIONS, 'GET', '/api/message_groups');
    const messages = matchRoute(HTTP_FUNCTIONS, 'GET', '/api/messages/abc-123');
    const create = matchRoute(HTTP_FUNCTIONS, 'POST', '/api/messages');
    const short = matchRoute(HTTP_FUNCTIONS, 'GET', '/api/users/%40bayko/short');

    // Assess
    expect([groups?.fn.name, groups?.pathParameters]).toEqual(['list-message-groups', {}]);
    expect([messages?.fn.name, messages?.pathParameters]).toEqual(['list-messages', { message_group_uuid: 'abc-123' }]);
    expect(create?.fn.name).toBe('create-message');
    expect([short?.fn.name, short?.pathParameters]).toEqual(['user-short', { handle: '%40bayko' }]);
  });

  it.each([
    ['a wrong method', 'DELETE', '/api/messages'],
    ['an extra segment', 'GET', '/api/message_groups/x'],
    ['an empty parameter', 'GET', '/api/messages/'],
    ['a trailing slash', 'GET', '/api/message_groups/'],
    ['another prefix', 'GET', '/messages/abc'],
  ])('matches nothing for %s', (_case, method, rawPath) => {
    expect(matchRoute(HTTP_FUNCTIONS, method, rawPath)).toBeUndefined();
  });
});

describe('buildHttpEvent', () => {
  it('builds the payload 2.0 event: lower-cased joined headers, cookies apart, joined query values, requestContext', () => {
    // Prepare
    const match = matchRoute(HTTP_FUNCTIONS, 'GET', '/api/messages/g1')!;
    const raw = request({
      url: '/api/messages/g1?limit=5&cursor=a&limit=6',
      headers: { Host: '127.0.0.1:4567', 'X-Multi': ['a', 'b'], cookie: 'a=1; b=2', 'user-agent': 'curl/8', authorization: 'Bearer t' },
      sourceIp: '10.0.0.9',
    });

    // Act
    const event = buildHttpEvent({ match, request: raw, authorizer, requestId: 'req-1', now: Date.UTC(2026, 2, 12, 19, 3, 58) });

    // Assess
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /api/messages/{message_group_uuid}',
      rawPath: '/api/messages/g1',
      rawQueryString: 'limit=5&cursor=a&limit=6',
      cookies: ['a=1', 'b=2'],
      headers: { host: '127.0.0.1:4567', 'x-multi': 'a,b', 'user-agent': 'curl/8', authorization: 'Bearer t', 'x-forwarded-for': '10.0.0.9' },
      queryStringParameters: { limit: '5,6', cursor: 'a' },
      pathParameters: { message_group_uuid: 'g1' },
      isBase64Encoded: false,
      requestContext: {
        requestId: 'req-1',
        routeKey: 'GET /api/messages/{message_group_uuid}',
        stage: '$default',
        time: '12/Mar/2026:19:03:58 +0000',
        timeEpoch: Date.UTC(2026, 2, 12, 19, 3, 58),
        http: { method: 'GET', path: '/api/messages/g1', protocol: 'HTTP/1.1', sourceIp: '10.0.0.9', userAgent: 'curl/8' },
        authorizer: { jwt: authorizer },
      },
    });
    expect(event.headers.cookie).toBeUndefined();
    expect(event.body).toBeUndefined();
  });

  it('passes JSON and bodies without a content type as text, and binary ones base64-encoded', () => {
    // Prepare
    const match = matchRoute(HTTP_FUNCTIONS, 'POST', '/api/messages')!;
    const build = (body: Buffer, contentType?: string) =>
      buildHttpEvent({
        match,
        request: request({ method: 'POST', url: '/api/messages', body, headers: contentType ? { 'content-type': contentType } : {} }),
        authorizer,
      });

    // Act
    const json = build(Buffer.from('{"message":"héllo"}'), 'application/json; charset=utf-8');
    const untyped = build(Buffer.from('{"a":1}'));
    const binary = build(Buffer.from([0xff, 0x00, 0x10]), 'application/octet-stream');
    const invalidUtf8 = build(Buffer.from([0xc3, 0x28]), 'application/json');

    // Assess
    expect([json.body, json.isBase64Encoded]).toEqual(['{"message":"héllo"}', false]);
    expect([untyped.body, untyped.isBase64Encoded]).toEqual(['{"a":1}', false]);
    expect([binary.body, binary.isBase64Encoded]).toEqual([Buffer.from([0xff, 0x00, 0x10]).toString('base64'), true]);
    expect([invalidUtf8.body, invalidUtf8.isBase64Encoded]).toEqual([Buffer.from([0xc3, 0x28]).toString('base64'), true]);
  });

  it('formats requestContext.time as API Gateway does', () => {
    expect(gatewayTime(Date.UTC(2020, 0, 5, 1, 2, 3))).toBe('05/Jan/2020:01:02:03 +0000');
  });
});

describe('claimsAsStrings and bearerToken', () => {
  it('turns claims into strings as the JWT authorizer passes them', () => {
    expect(claimsAsStrings({ sub: 's', exp: 1700000000, email_verified: true, 'cognito:groups': ['a', 'b'], nothing: null })).toEqual({
      sub: 's',
      exp: '1700000000',
      email_verified: 'true',
      'cognito:groups': '[a b]',
    });
  });

  it('reads the token of an Authorization header, with or without the Bearer scheme', () => {
    expect([bearerToken('Bearer abc'), bearerToken('bearer  abc '), bearerToken('abc'), bearerToken('Bearer '), bearerToken(undefined)]).toEqual([
      'abc',
      'abc',
      'abc',
      undefined,
      undefined,
    ]);
  });
});

describe('toGatewayResponse', () => {
  it('passes a structured result on: status, headers lower-cased, cookies, base64 bodies decoded', () => {
    // Act
    const response = toGatewayResponse({
      statusCode: 201,
      headers: { 'X-Next-Cursor': 'c', 'Retry-After': 1 },
      cookies: ['a=1'],
      body: Buffer.from('hi').toString('base64'),
      isBase64Encoded: true,
    });

    // Assess
    expect(response).toEqual({ statusCode: 201, headers: { 'x-next-cursor': 'c', 'retry-after': '1' }, cookies: ['a=1'], body: Buffer.from('hi') });
  });

  it('takes any other value as a JSON body with status 200, and a bad status code as a 500', () => {
    // Act
    const object = toGatewayResponse({ hello: 'world' });
    const text = toGatewayResponse('plain');
    const broken = toGatewayResponse({ statusCode: 'teapot' });

    // Assess
    expect([object.statusCode, object.headers['content-type'], object.body.toString()]).toEqual([200, 'application/json', '{"hello":"world"}']);
    expect(text.body.toString()).toBe('plain');
    expect([broken.statusCode, broken.body.toString()]).toEqual([500, '{"message":"Internal Server Error"}']);
  });
});

describe('CORS', () => {
  it("allows the frontend's preflight and refuses other origins and methods", () => {
    // Act
    const allowed = preflightResponse(LOCAL_CORS, { headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST' } });
    const otherOrigin = preflightResponse(LOCAL_CORS, { headers: { origin: 'http://localhost:3001', 'access-control-request-method': 'POST' } });
    const otherMethod = preflightResponse(LOCAL_CORS, { headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'DELETE' } });

    // Assess
    expect(allowed).toMatchObject({
      statusCode: 204,
      headers: { 'access-control-allow-origin': 'http://localhost:3000', 'access-control-allow-methods': 'GET,POST,OPTIONS' },
    });
    expect(otherOrigin).toEqual({ statusCode: 204, headers: {}, cookies: [], body: Buffer.alloc(0) });
    expect(otherMethod.headers).toEqual({});
    expect(corsHeaders(LOCAL_CORS, 'http://localhost:3000')['access-control-allow-origin']).toBe('http://localhost:3000');
    expect(corsHeaders(LOCAL_CORS, undefined)).toEqual({});
  });
});

describe('lambdaContext', () => {
  it('takes memory and timeout from the catalog and names the function like a deployed one', () => {
    // Prepare
    const fn = functionNamed('message-stream');

    // Act
    const context = lambdaContext(fn);

    // Assess
    expect(context).toMatchObject({
      functionName: 'cruddur-local-message-stream',
      functionVersion: '$LATEST',
      memoryLimitInMB: String(fn.memoryMb),
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:cruddur-local-message-stream',
      logGroupName: '/aws/lambda/cruddur-local-message-stream',
    });
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context.getRemainingTimeInMillis()).toBeLessThanOrEqual(fn.timeoutSeconds * 1000);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(fn.timeoutSeconds * 1000 - 1000);
  });
});

describe('eventForRoute (npm run invoke)', () => {
  it('encodes path parameters into the path as a client would, and leaves the authorizer out without claims', () => {
    // Act
    const event = eventForRoute(http('user-short'), { pathParameters: { handle: '@bayko' } });

    // Assess
    expect(event).toMatchObject({ rawPath: '/api/users/%40bayko/short', pathParameters: { handle: '%40bayko' }, routeKey: 'GET /api/users/{handle}/short' });
    expect((event.requestContext as Partial<HttpApiEvent['requestContext']>).authorizer).toBeUndefined();
    expect(() => eventForRoute(http('list-messages'), {})).toThrow(/needs the path parameter message_group_uuid/);
  });
});

describe('sample events (events/)', () => {
  const dir = path.resolve(__dirname, '..', '..', 'events');
  const samples = readdirSync(dir).filter((file) => file.endsWith('.json'));
  const read = <T>(file: string) => JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as T;

  it('has one for every function of the catalog', () => {
    for (const fn of FUNCTIONS) expect(samples).toContain(`${fn.name}.json`);
  });

  const kindOf = (file: string) => FUNCTIONS.find((fn) => fn.name === file.replace('.json', '').replace('-new-group', ''))?.kind;

  it.each(samples.filter((file) => kindOf(file) === 'http'))('%s routes to its function as the gateway would route it', (file) => {
    // Prepare
    const event = read<HttpApiEvent>(file);

    // Act
    const match = matchRoute(HTTP_FUNCTIONS, event.requestContext.http.method, event.rawPath);

    // Assess
    expect(match?.fn.name).toBe(file.replace('.json', '').replace('-new-group', ''));
    expect(event.routeKey).toBe(`${match!.fn.route.method} ${match!.fn.route.path}`);
    expect(event.pathParameters ?? {}).toEqual(match!.pathParameters);
    expect(event.requestContext.authorizer.jwt.claims).toMatchObject({ token_use: 'access', sub: expect.any(String) });
  });

  it.each(STREAM_FUNCTIONS.map((fn) => [fn.name, fn] as const))("%s.json holds records the catalog's filter patterns let through", (name, fn) => {
    // Act
    const event = read<DynamoDBStreamEvent>(`${name}.json`);

    // Assess
    expect(event.Records.length).toBeGreaterThan(0);
    for (const record of event.Records) expect(matchesAnyFilterPattern(fn.source.filterPatterns, record)).toBe(true);
  });

  it('holds WebSocket events for the routes and the authorizer', () => {
    for (const fn of FUNCTIONS) {
      if (fn.kind === 'websocket')
        expect(read<{ requestContext: { routeKey: string; connectionId: string } }>(`${fn.name}.json`).requestContext).toMatchObject({
          routeKey: fn.route,
          connectionId: expect.any(String),
        });
      if (fn.kind === 'websocket-authorizer')
        expect(read<{ type: string; queryStringParameters: Record<string, string> }>(`${fn.name}.json`)).toMatchObject({
          type: 'REQUEST',
          queryStringParameters: { token: expect.any(String) },
        });
    }
  });
});

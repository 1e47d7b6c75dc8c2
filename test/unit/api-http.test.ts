import {
  BadRequestError,
  ConfigurationError,
  InvalidCursorError,
  NotFoundError,
  PayloadTooLargeError,
  UnauthenticatedError,
  UnregisteredCallerError,
  ValidationError,
  WriteNotAppliedError,
} from '../../functions/errors';
import { errorResponse, httpHandler, jsonResponse, pageResponse } from '../../functions/http/handler';
import { MAX_BODY_BYTES, callerSub, jsonObjectBody, pathParameter } from '../../functions/http/request';
import type { Messaging } from '../../functions/domain/conversations';
import { createListMessageGroupsHandler } from '../../functions/list-message-groups/index';
import { apiEvent, lambdaContext, parseBody } from '../support/api-events';

const createEvent = (body: unknown, isBase64Encoded = false) => apiEvent('create-message', { sub: 'sub-1', body, isBase64Encoded });

/** What a test wants to know of a thrown error. */
function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('jsonResponse', () => {
  it('answers JSON that no cache keeps', () => {
    // Act
    const response = jsonResponse(200, [{ a: 1 }], { 'X-Extra': 'yes' });

    // Assess
    expect(response).toEqual({
      statusCode: 200,
      headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'X-Extra': 'yes' },
      body: '[{"a":1}]',
    });
  });

  it('puts the next cursor in X-Next-Cursor, and nothing on the last page', () => {
    // Act
    const middle = pageResponse({ items: [1, 2], nextCursor: 'abc' });
    const last = pageResponse({ items: [3] });

    // Assess
    expect(middle.headers?.['X-Next-Cursor']).toBe('abc');
    expect(parseBody(middle)).toEqual([1, 2]);
    expect(last.headers).not.toHaveProperty('X-Next-Cursor');
  });
});

describe('callerSub', () => {
  it('reads the sub of the verified claims and ignores X-Cognito-Username', () => {
    // Prepare
    const event = apiEvent('list-message-groups', { sub: 'real-sub', headers: { 'x-cognito-username': 'spoofed-sub' } });

    // Act
    const sub = callerSub(event);

    // Assess
    expect(sub).toBe('real-sub');
  });

  it('refuses an event without claims, even with X-Cognito-Username', () => {
    // Prepare
    const event = apiEvent('list-message-groups', { sub: null, headers: { 'X-Cognito-Username': 'spoofed-sub' } });

    // Act
    const error = thrown(() => callerSub(event));

    // Assess
    expect(error).toBeInstanceOf(UnauthenticatedError);
  });

  it("refuses an ID token's claims (deployed, the JWT authorizer passes one where a route has no scopes)", () => {
    // Prepare: the claims of a Cognito ID token of the app client, as the HTTP API's JWT authorizer passes them.
    const event = apiEvent('list-message-groups', { sub: 'real-sub' });
    const claims = event.requestContext.authorizer.jwt.claims as Record<string, unknown>;
    claims.token_use = 'id';
    claims.aud = claims.client_id;
    delete claims.client_id;
    delete claims.scope;

    // Act
    const error = thrown(() => callerSub(event));

    // Assess
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect((error as Error).message).toMatch(/access token/);
  });

  it('refuses an empty sub', () => {
    // Act
    const error = thrown(() => callerSub(apiEvent('list-message-groups', { sub: ' ' })));

    // Assess
    expect(error).toBeInstanceOf(UnauthenticatedError);
  });
});

describe('jsonObjectBody', () => {
  it('parses a JSON object body', () => {
    // Act
    const body = jsonObjectBody(createEvent({ message: 'hi', handle: 'londo' }));

    // Assess
    expect(body).toEqual({ message: 'hi', handle: 'londo' });
  });

  it('decodes a base64-encoded body', () => {
    // Prepare
    const encoded = Buffer.from(JSON.stringify({ message: 'héllo \u{1F600}' }), 'utf8').toString('base64');

    // Act
    const body = jsonObjectBody(createEvent(encoded, true));

    // Assess
    expect(body).toEqual({ message: 'héllo \u{1F600}' });
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['malformed', '{"message": '],
    ['an array', '[{"message":"hi"}]'],
    ['null', 'null'],
    ['a string', '"hi"'],
    ['a number', '42'],
  ])('refuses a body that is %s with BadRequestError', (_, body) => {
    // Act
    const error = thrown(() => jsonObjectBody(createEvent(body)));

    // Assess
    expect(error).toBeInstanceOf(BadRequestError);
  });

  it('refuses base64 that decodes to invalid UTF-8', () => {
    // Act
    const error = thrown(() => jsonObjectBody(createEvent(Buffer.from([0x7b, 0xff, 0x7d]).toString('base64'), true)));

    // Assess
    expect(error).toBeInstanceOf(BadRequestError);
  });

  it('accepts exactly the limit in bytes and refuses one byte more, plain or base64', () => {
    // Prepare
    const ofBytes = (bytes: number) => JSON.stringify({ message: 'x'.repeat(bytes - '{"message":""}'.length) });
    const atLimit = ofBytes(MAX_BODY_BYTES);
    const overLimit = ofBytes(MAX_BODY_BYTES + 1);

    // Act
    const accepted = jsonObjectBody(createEvent(atLimit));
    const refusedPlain = thrown(() => jsonObjectBody(createEvent(overLimit)));
    const refusedBase64 = thrown(() => jsonObjectBody(createEvent(Buffer.from(overLimit).toString('base64'), true)));

    // Assess
    expect(Buffer.byteLength(atLimit)).toBe(MAX_BODY_BYTES);
    expect(accepted).toHaveProperty('message');
    expect(refusedPlain).toBeInstanceOf(PayloadTooLargeError);
    expect(refusedBase64).toBeInstanceOf(PayloadTooLargeError);
  });

  it('counts bytes, not UTF-16 units', () => {
    // Prepare: 6000 three-byte characters are 18000 bytes but only 6000 string units.
    const body = JSON.stringify({ message: '\u20ac'.repeat(6000) });

    // Act
    const error = thrown(() => jsonObjectBody(createEvent(body)));

    // Assess
    expect(body.length).toBeLessThan(MAX_BODY_BYTES);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
  });
});

describe('pathParameter', () => {
  it('percent-decodes a parameter and keeps a malformed escape as sent', () => {
    // Prepare
    const encoded = apiEvent('user-short', { sub: 's', pathParameters: { handle: '%40londo' } });
    const malformed = apiEvent('user-short', { sub: 's', pathParameters: { handle: '%E0%A4%A' } });

    // Act / Assess
    expect(pathParameter(encoded, 'handle')).toBe('@londo');
    expect(pathParameter(malformed, 'handle')).toBe('%E0%A4%A');
    expect(pathParameter(encoded, 'other')).toBeUndefined();
  });
});

describe('errorResponse', () => {
  it.each([
    [new ValidationError(['message_blank', 'user_reciever_handle_blank']), 422, ['message_blank', 'user_reciever_handle_blank']],
    [new InvalidCursorError(), 422, ['cursor_invalid']],
    [new UnauthenticatedError(), 401, { error: 'unauthorized' }],
    [new UnregisteredCallerError(), 403, { error: 'forbidden' }],
    [new NotFoundError('Message group not found'), 404, { error: 'not_found', message: 'Message group not found' }],
    [new BadRequestError('The request body must be a JSON object'), 400, { error: 'bad_request' }],
    [new PayloadTooLargeError(16384), 413, { error: 'payload_too_large' }],
  ])('maps a %p to %i', (error, status, body) => {
    // Act
    const { response, fault } = errorResponse(error, 'req-1');

    // Assess
    expect(fault).toBe(false);
    expect(response.statusCode).toBe(status);
    const parsed = parseBody(response);
    if (Array.isArray(body)) expect(parsed).toEqual(body);
    else expect(parsed).toMatchObject(body);
  });

  it('answers 503 with Retry-After when a write was not applied', () => {
    // Act
    const { response, fault } = errorResponse(new WriteNotAppliedError('pair item changed'), 'req-1');

    // Assess
    expect(fault).toBe(true);
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['Retry-After']).toBe('1');
    expect(response.body).not.toContain('pair item');
  });

  it.each([
    ['an SDK error', Object.assign(new Error('User: arn:aws:sts::123:assumed-role/x is not authorized'), { name: 'AccessDeniedException' })],
    ['a configuration error', new ConfigurationError('Environment variable TABLE_NAME is required but not set')],
    ['a thrown string', 'boom'],
  ])('answers 500 without details for %s', (_, error) => {
    // Act
    const { response, fault } = errorResponse(error, 'req-1');

    // Assess
    expect(fault).toBe(true);
    expect(response.statusCode).toBe(500);
    expect(parseBody(response)).toEqual({ error: 'internal_error', message: 'Something went wrong on our side', request_id: 'req-1' });
  });
});

describe('httpHandler', () => {
  let written: string[];
  let spies: jest.SpyInstance[];
  // The logger writes errors to stderr and the rest to stdout, as the Lambda runtime expects.
  const stopCapturing = () => {
    for (const spy of spies) spy.mockRestore();
  };

  beforeEach(() => {
    written = [];
    spies = [process.stdout, process.stderr].map((stream) =>
      jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        written.push(String(chunk));
        return true;
      }),
    );
  });

  afterEach(stopCapturing);

  const failingMessaging = (error: unknown) => ({ listMessageGroups: async () => Promise.reject(error) }) as unknown as Messaging;

  it('logs a fault as one JSON line with the request ids and answers 500 without the stack', async () => {
    // Prepare
    const handler = createListMessageGroupsHandler({ messaging: () => failingMessaging(new Error('ECONNRESET from the SDK')) });
    const event = apiEvent('list-message-groups', { sub: 'sub-1', requestId: 'api-req-42' });
    const context = lambdaContext('list-message-groups');

    // Act
    const response = await handler(event, context);

    // Assess
    stopCapturing();
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toMatch(/ECONNRESET|at .*\.ts/);
    const lines = written
      .join('')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const failure = lines.find((line) => line.message === 'Request failed');
    expect(failure).toMatchObject({ level: 'ERROR', request_id: 'api-req-42', function_request_id: context.awsRequestId, status: 500 });
    expect(JSON.stringify(failure)).toContain('ECONNRESET from the SDK');
  });

  it('does not log client errors as faults', async () => {
    // Prepare
    const handler = createListMessageGroupsHandler({ messaging: () => failingMessaging(new NotFoundError('nope')) });

    // Act
    const response = await handler(apiEvent('list-message-groups', { sub: 'sub-1' }), lambdaContext());

    // Assess
    stopCapturing();
    expect(response.statusCode).toBe(404);
    expect(written.join('')).not.toContain('Request failed');
  });

  it('answers 401 before touching the domain when there are no claims', async () => {
    // Prepare
    const messaging = jest.fn(() => failingMessaging(new Error('must not be called')));
    const handler = createListMessageGroupsHandler({ messaging });

    // Act
    const response = await handler(apiEvent('list-message-groups', { sub: null }), lambdaContext());

    // Assess
    stopCapturing();
    expect(response.statusCode).toBe(401);
    expect(response.headers?.['WWW-Authenticate']).toBe('Bearer');
    expect(messaging).not.toHaveBeenCalled();
  });

  it('wraps without a Lambda context too', async () => {
    // Prepare
    const handler = httpHandler(async () => jsonResponse(200, { ok: true }));

    // Act
    const response = await handler(apiEvent('list-message-groups', { sub: 's' }));

    // Assess
    stopCapturing();
    expect(response.statusCode).toBe(200);
  });
});

/**
 * docs/openapi.yaml against the code it describes: every route of the catalog and nothing else,
 * the validation codes and error codes the functions answer, the headers they name; and the
 * oracle the integration tests check answers with (test/support/openapi.ts) refuses what it
 * should. (That the file is a valid OpenAPI 3.1 document is `npm run check:openapi`, part of
 * `npm test`.) No network.
 */
import { API_CORS, HTTP_FUNCTIONS, IDEMPOTENT_REPLAYED_HEADER, NEXT_CURSOR_HEADER } from '../../functions/catalog';
import { ValidationCode } from '../../functions/domain/validation';
import {
  BadRequestError,
  ConfigurationError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  ServiceBusyError,
  UnauthenticatedError,
  UnregisteredCallerError,
  type AppError,
} from '../../functions/errors';
import { errorResponse } from '../../functions/http/handler';
import { contractProblems, documentedPath, openApiDocument } from '../support/openapi';

const schemas = (openApiDocument.components as { schemas: Record<string, { items?: { enum?: string[] }; properties?: Record<string, { enum?: string[] }> }> })
  .schemas;

describe('docs/openapi.yaml', () => {
  it('documents every HTTP route of the catalog with its method, and no other', () => {
    const documented = Object.entries(openApiDocument.paths).flatMap(([template, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${template}`),
    );
    expect(documented.sort()).toEqual(HTTP_FUNCTIONS.map((fn) => `${fn.route.method} ${fn.route.path}`).sort());
  });

  it('lists exactly the validation codes the functions answer', () => {
    expect([...schemas.ValidationCodes!.items!.enum!].sort()).toEqual(Object.values(ValidationCode).sort());
  });

  it('documents every error a function answers, with its status and body, and the headers the catalog names', () => {
    const errors: AppError[] = [
      new BadRequestError('x'),
      new UnauthenticatedError(),
      new UnregisteredCallerError(),
      new NotFoundError('x'),
      new PayloadTooLargeError(16),
      new RateLimitedError('x', 3),
      new ConfigurationError('x'),
      new ServiceBusyError('x'),
    ];
    for (const error of errors) {
      const { response } = errorResponse(error, 'request-1');
      const answer = { method: 'POST', path: '/api/messages', status: response.statusCode!, headers: response.headers ?? {}, text: response.body ?? '' };
      expect({ status: answer.status, problems: contractProblems(answer) }).toEqual({ status: answer.status, problems: [] });
    }
    const text = JSON.stringify(openApiDocument);
    for (const header of [IDEMPOTENT_REPLAYED_HEADER, NEXT_CURSOR_HEADER, 'Idempotency-Key', 'Retry-After']) expect(text).toContain(`"${header}"`);
    for (const header of API_CORS.exposeHeaders) expect(text).toContain(`"${header}"`);
  });

  it('prefers a literal path segment to a parameter', () => {
    expect(documentedPath('/api/message_groups/unread')).toBe('/api/message_groups/unread');
    expect(documentedPath('/api/messages/43eb04ee-ff70-4871-b921-74effd954a83?limit=2')).toBe('/api/messages/{message_group_uuid}');
    expect(documentedPath('/api/nothing')).toBeUndefined();
  });
});

describe('the contract oracle', () => {
  const group = '43eb04ee-ff70-4871-b921-74effd954a83';
  const conversation = {
    uuid: group,
    display_name: 'Bayko',
    handle: 'bayko',
    message: 'hi',
    created_at: '2026-12-04T20:31:33.120Z',
    unread_count: 0,
    last_read_at: null,
  };
  const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
    method: 'GET',
    path: '/api/message_groups',
    status,
    headers,
    text: JSON.stringify(body),
  });

  it('takes a documented answer', () => {
    expect(contractProblems(answer(200, [conversation], { 'x-next-cursor': 'abc' }))).toEqual([]);
  });

  it.each([
    ['an extra field', answer(200, [{ ...conversation, email: 'x@example.org' }])],
    ['a missing field', answer(200, [{ ...conversation, unread_count: undefined }])],
    ['a timestamp of another form', answer(200, [{ ...conversation, created_at: '2026-12-04 20:31:33' }])],
    ['an undocumented status', answer(418, { message: 'teapot' })],
    ['a 503 without Retry-After', answer(503, { error: 'service_unavailable', message: 'busy' })],
    ['an unknown validation code', answer(422, ['made_up'])],
    ['a body that is not JSON', { ...answer(200, []), text: '<html>' }],
  ])('refuses %s', (_case, observed) => {
    expect(contractProblems(observed)).toEqual([expect.any(String)]);
  });

  it('has nothing to say of a request that is no documented operation', () => {
    expect(contractProblems({ ...answer(404, { message: 'Not Found' }), path: '/api/nothing' })).toBeUndefined();
    expect(contractProblems({ ...answer(404, { message: 'Not Found' }), method: 'DELETE' })).toBeUndefined();
  });
});

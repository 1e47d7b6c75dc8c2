/**
 * The local HTTP gateway against the real local Cognito (cognito-local): which tokens get
 * through to a function and which are a 401 before any function runs, CORS, API
 * Gateway's own 404/413/500 answers and the request log. The route's handler is a
 * recorder, so the event the function would get can be checked.
 */
import { generateKeyPairSync } from 'node:crypto';
import { CreateUserPoolClientCommand, type CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { HTTP_FUNCTIONS } from '../../functions/catalog';
import { createCognitoClient, ensureLocalPool, ensurePoolUser, signIn, type LocalPool } from '../../scripts/lib/cognito';
import { startGateway, type HttpHandler, type RunningGateway } from '../../local/gateway/server';
import { createLocalCognitoAuthorizer } from '../../local/gateway/auth';
import type { HttpApiEvent } from '../../local/gateway/http-event';
import { endpoints, unique, servicePorts } from '../support/services';
import { cognitoLocalPrivateKey, payloadOf, signJwt } from '../support/tokens';

jest.setTimeout(180_000);

const PASSWORD = 'Gateway-test-1!';
const FRONTEND = 'http://localhost:3000';

describe('local HTTP gateway', () => {
  let cognito: CognitoIdentityProviderClient;
  let pool: LocalPool;
  let otherPool: LocalPool;
  let tokens: { accessToken: string; idToken: string };
  let otherClientToken: string;
  let otherPoolToken: string;
  let gateway: RunningGateway;
  const events: HttpApiEvent[] = [];
  const logLines: string[] = [];
  let handlerBehaviour: 'ok' | 'throw' = 'ok';
  const cognitoUrl = () => `http://127.0.0.1:${servicePorts().cognito}`;

  beforeAll(async () => {
    cognito = createCognitoClient(endpoints().cognito);
    const username = unique('gw_');
    const user = { handle: username, email: `${username}@example.test`, display_name: 'Gateway Tester' };
    pool = await ensureLocalPool(cognito, unique('gateway-pool-'));
    await ensurePoolUser(cognito, pool.userPoolId, user, PASSWORD);
    tokens = await signIn(cognito, pool.clientId, username, PASSWORD);
    const otherClient = await cognito.send(
      new CreateUserPoolClientCommand({ UserPoolId: pool.userPoolId, ClientName: 'another-app', ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH'] }),
    );
    otherClientToken = (await signIn(cognito, otherClient.UserPoolClient!.ClientId!, username, PASSWORD)).accessToken;
    otherPool = await ensureLocalPool(cognito, unique('gateway-other-pool-'));
    await ensurePoolUser(cognito, otherPool.userPoolId, user, PASSWORD);
    otherPoolToken = (await signIn(cognito, otherPool.clientId, username, PASSWORD)).accessToken;

    const handler: HttpHandler = async (event) => {
      events.push(event);
      if (handlerBehaviour === 'throw') throw new Error('the function failed');
      // A public route's event has no authorizer at all.
      const sub = event.requestContext.authorizer?.jwt.claims.sub ?? null;
      return { statusCode: 200, headers: { 'X-Handled-By': event.routeKey }, cookies: ['session=1; Path=/'], body: JSON.stringify({ sub }) };
    };
    gateway = await startGateway({
      port: 0,
      authorizer: createLocalCognitoAuthorizer({ cognitoUrl: cognitoUrl(), ...pool }),
      handlerFor: async () => handler,
      log: (line) => logLines.push(line),
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    cognito?.destroy();
  });

  beforeEach(() => {
    events.length = 0;
    logLines.length = 0;
    handlerBehaviour = 'ok';
  });

  const get = (urlPath: string, headers: Record<string, string> = {}) => fetch(`${gateway.url}${urlPath}`, { headers });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('runs the public profile route without a token, any token ignored, and with no authorizer in the event', async () => {
    // Act
    const anonymous = await get('/api/users/@bayko/short');
    const garbage = await get('/api/users/@bayko/short', bearer('not-a-token'));

    // Assess
    expect([anonymous.status, garbage.status]).toEqual([200, 200]);
    expect(await anonymous.json()).toEqual({ sub: null });
    expect(events.map((event) => [event.routeKey, 'authorizer' in event.requestContext])).toEqual([
      ['GET /api/users/{handle}/short', false],
      ['GET /api/users/{handle}/short', false],
    ]);
  });

  it("passes a valid access token's claims and scopes to the function, as the JWT authorizer does", async () => {
    // Act
    const response = await get('/api/messages/3f1c2b4a-0000-4000-8000-000000000001?limit=5&limit=6', { ...bearer(tokens.accessToken), 'X-Custom': 'yes' });

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ sub: payloadOf(tokens.accessToken).sub });
    expect(response.headers.get('x-handled-by')).toBe('GET /api/messages/{message_group_uuid}');
    expect(response.headers.get('set-cookie')).toBe('session=1; Path=/');
    expect(events).toHaveLength(1);
    const event = events[0]!;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /api/messages/{message_group_uuid}',
      rawPath: '/api/messages/3f1c2b4a-0000-4000-8000-000000000001',
      rawQueryString: 'limit=5&limit=6',
      queryStringParameters: { limit: '5,6' },
      pathParameters: { message_group_uuid: '3f1c2b4a-0000-4000-8000-000000000001' },
      headers: { 'x-custom': 'yes', authorization: `Bearer ${tokens.accessToken}` },
      isBase64Encoded: false,
      requestContext: {
        http: { method: 'GET', path: '/api/messages/3f1c2b4a-0000-4000-8000-000000000001', sourceIp: '127.0.0.1' },
        routeKey: 'GET /api/messages/{message_group_uuid}',
        stage: '$default',
        authorizer: {
          jwt: {
            claims: { sub: payloadOf(tokens.accessToken).sub, token_use: 'access', client_id: pool.clientId, iss: `${cognitoUrl()}/${pool.userPoolId}` },
            scopes: ['aws.cognito.signin.user.admin'],
          },
        },
      },
    });
    // Claims arrive as strings, as API Gateway passes them.
    expect(event.requestContext.authorizer.jwt.claims.exp).toBe(String(payloadOf(tokens.accessToken).exp));
    expect(event.requestContext.requestId).toBe(response.headers.get('apigw-requestid'));
  });

  it.each([
    ['no Authorization header', () => ({})],
    ['an empty bearer', () => ({ authorization: 'Bearer ' })],
    ['garbage', () => bearer('not-a-jwt')],
    ['an access token of another app client', () => bearer(otherClientToken)],
    ['an access token of another user pool', () => bearer(otherPoolToken)],
    [
      'a token signed by another key',
      () =>
        bearer(
          signJwt(
            payloadOf(tokens.accessToken),
            generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
          ),
        ),
    ],
    [
      "an expired token signed by the pool's own key",
      () =>
        bearer(
          signJwt(
            { ...payloadOf(tokens.accessToken), iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 60 },
            cognitoLocalPrivateKey(),
          ),
        ),
    ],
    [
      "a token without expiry signed by the pool's own key",
      () => {
        const { exp: _exp, ...payload } = payloadOf(tokens.accessToken);
        return bearer(signJwt(payload, cognitoLocalPrivateKey()));
      },
    ],
  ])('refuses %s with a 401 before any function runs', async (_case, headers) => {
    // Act
    const response = await get('/api/message_groups', headers());

    // Assess
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ message: 'Unauthorized' });
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(events).toHaveLength(0);
  });

  it("refuses an ID token of the app client with a 403 before any function runs: it carries none of the route's scopes, as API Gateway checks them", async () => {
    // Act
    const response = await get('/api/message_groups', bearer(tokens.idToken));

    // Assess: what the deployed HTTP API answers (its JWT authorizer accepts the token, the route's authorization scopes do not).
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ message: 'Forbidden' });
    expect(events).toHaveLength(0);
  });

  it("accepts a token it signed itself with the pool's key and a future expiry (so the expired case fails on expiry alone)", async () => {
    // Prepare
    const token = signJwt({ ...payloadOf(tokens.accessToken), exp: Math.floor(Date.now() / 1000) + 600 }, cognitoLocalPrivateKey());

    // Act
    const response = await get('/api/message_groups', bearer(token));

    // Assess
    expect(response.status).toBe(200);
  });

  it('answers a CORS preflight from the frontend itself: 204 with the allowed methods and headers, no token needed', async () => {
    // Act
    const response = await fetch(`${gateway.url}/api/messages`, {
      method: 'OPTIONS',
      headers: { origin: FRONTEND, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });

    // Assess
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(FRONTEND);
    expect(response.headers.get('access-control-allow-methods')).toBe('GET,POST,OPTIONS');
    expect(response.headers.get('access-control-allow-headers')).toBe('authorization,content-type,idempotency-key');
    expect(response.headers.get('access-control-max-age')).toBe('3600');
    expect(events).toHaveLength(0);
  });

  it('gives other origins no CORS headers, and the frontend its header on every answer, 401 included', async () => {
    // Act
    const foreignPreflight = await fetch(`${gateway.url}/api/messages`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    const allowed = await get('/api/message_groups', { ...bearer(tokens.accessToken), origin: FRONTEND });
    const refused = await get('/api/message_groups', { origin: FRONTEND });
    const foreign = await get('/api/message_groups', { ...bearer(tokens.accessToken), origin: 'http://evil.example' });

    // Assess
    expect(foreignPreflight.status).toBe(204);
    expect(foreignPreflight.headers.get('access-control-allow-origin')).toBeNull();
    expect([allowed.status, allowed.headers.get('access-control-allow-origin')]).toEqual([200, FRONTEND]);
    // The frontend pages with this header; the browser shows it to scripts only if exposed.
    expect(allowed.headers.get('access-control-expose-headers')).toBe('X-Next-Cursor,Idempotent-Replayed');
    expect([refused.status, refused.headers.get('access-control-allow-origin')]).toEqual([401, FRONTEND]);
    expect([foreign.status, foreign.headers.get('access-control-allow-origin')]).toEqual([200, null]);
  });

  it('answers unknown routes and wrong methods 404, bodies over 1 MiB 413, and a failing function 500, as API Gateway does', async () => {
    // Act
    const unknown = await get('/api/nothing-here', bearer(tokens.accessToken));
    const wrongMethod = await get('/api/messages', bearer(tokens.accessToken));
    const tooLarge = await fetch(`${gateway.url}/api/messages`, {
      method: 'POST',
      headers: { ...bearer(tokens.accessToken), 'content-type': 'application/json' },
      body: 'x'.repeat(1024 * 1024 + 1),
    });
    handlerBehaviour = 'throw';
    const failed = await get('/api/message_groups', bearer(tokens.accessToken));

    // Assess
    expect([unknown.status, await unknown.json()]).toEqual([404, { message: 'Not Found' }]);
    expect([wrongMethod.status, await wrongMethod.json()]).toEqual([404, { message: 'Not Found' }]);
    expect([tooLarge.status, await tooLarge.json()]).toEqual([413, { message: 'Request Entity Too Large' }]);
    expect([failed.status, await failed.json()]).toEqual([500, { message: 'Internal Server Error' }]);
    expect(events.map((event) => event.routeKey)).toEqual(['GET /api/message_groups']);
  });

  it('passes a POST body as text and routes every catalog route', async () => {
    // Act
    const posted = await fetch(`${gateway.url}/api/messages`, {
      method: 'POST',
      headers: { ...bearer(tokens.accessToken), 'content-type': 'application/json' },
      body: '{"message":"hi","handle":"londo"}',
    });
    for (const fn of HTTP_FUNCTIONS.filter((candidate) => candidate.route.method === 'GET')) {
      await get(fn.route.path.replace(/\{[^}]+\}/g, 'x'), bearer(tokens.accessToken));
    }
    for (const fn of HTTP_FUNCTIONS.filter((candidate) => candidate.route.method === 'POST' && candidate.route.path !== '/api/messages')) {
      await fetch(`${gateway.url}${fn.route.path.replace(/\{[^}]+\}/g, 'x')}`, { method: 'POST', headers: bearer(tokens.accessToken) });
    }

    // Assess
    expect(posted.status).toBe(200);
    expect(events[0]).toMatchObject({ body: '{"message":"hi","handle":"londo"}', isBase64Encoded: false, headers: { 'content-type': 'application/json' } });
    expect(events.map((event) => event.routeKey).sort()).toEqual(HTTP_FUNCTIONS.map((fn) => `${fn.route.method} ${fn.route.path}`).sort());
  });

  it('logs one line per request: method, path, status, milliseconds', async () => {
    // Act
    await get('/api/message_groups?limit=1', bearer(tokens.accessToken));
    await get('/api/message_groups');

    // Assess
    expect(logLines).toHaveLength(2);
    expect(logLines[0]).toMatch(/^GET \/api\/message_groups 200 \d+ms$/);
    expect(logLines[1]).toMatch(/^GET \/api\/message_groups 401 \d+ms \(no token\)$/);
  });
});

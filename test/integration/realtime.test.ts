/**
 * Real-time delivery against the local runtime's pieces, with real WebSocket clients (`ws`):
 * the local gateway serving the HTTP API and the WebSocket API on one port, the real
 * authorizer, `$connect`, `$disconnect`, create-message and push handlers over DynamoDB Local,
 * PostgreSQL and the local Cognito, and the push function fed by the local stream consumer,
 * posting through the real management client to the gateway's @connections.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Pool } from 'pg';
import WebSocket from 'ws';
import { streamFunctionNamed, WEBSOCKET_AUTHORIZER, WEBSOCKET_FUNCTIONS, type FunctionDefinition, type HttpFunction } from '../../functions/catalog';
import { createConnectionsRepository, type ConnectionsRepository } from '../../functions/data/connections-repository';
import { createMessagesRepository } from '../../functions/data/messages-repository';
import { createRateLimitRepository } from '../../functions/data/rate-limit-repository';
import type { PostRateLimit } from '../../functions/config/limits';
import { buildConnectionItem, keys } from '../../functions/data/model';
import type { MessagePush } from '../../functions/websocket/frames';
import { createUsersRepository } from '../../functions/data/users-repository';
import { createCachedUserDirectory } from '../../functions/domain/user-directory';
import { createMessaging } from '../../functions/domain/conversations';
import { createCreateMessageHandler } from '../../functions/create-message/index';
import { createMarkReadHandler } from '../../functions/mark-read/index';
import { createTypingHandler } from '../../functions/ws-typing/index';
import { createMessagePushHandler } from '../../functions/message-push/index';
import { createAccessTokenVerifier } from '../../functions/auth/access-token';
import { createConnectionPoster } from '../../functions/clients/websocket-connections';
import { createWebSocketAuthorizer } from '../../functions/ws-authorize/index';
import { createConnectHandler } from '../../functions/ws-connect/index';
import { createDisconnectHandler } from '../../functions/ws-disconnect/index';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/aws';
import { createLocalCognitoAuthorizer, localIssuer } from '../../local/gateway/auth';
import { startGateway, type HttpHandler, type RunningGateway } from '../../local/gateway/server';
import { createLocalWebSocketApi } from '../../local/gateway/websocket';
import type { LambdaHandler } from '../../local/lambda';
import { createStreamConsumer, type StreamConsumer, type StreamHandler } from '../../local/streams/consumer';
import { createCognitoClient, ensureLocalPool, ensurePoolUser, signIn, type LocalPool } from '../../scripts/lib/cognito';
import { createTestPool, createTestTable, endpoints, insertUsers, servicePorts, unique, type TestTable } from '../support/services';
import { cognitoLocalPrivateKey, payloadOf, signJwt } from '../support/tokens';
import { fetchInContract } from '../support/openapi';

const PASSWORD = 'Realtime-test-1!';
/** A user's open WebSockets at most, in this suite (small, so the cap is cheap to reach). */
const CONNECTIONS_PER_USER = 4;
/** As the runtime gives the functions: a secret of this run, which @connections checks posts against. */
const FUNCTION_CREDENTIALS = { accessKeyId: LOCAL_CREDENTIALS.accessKeyId, secretAccessKey: `realtime-${Date.now()}` };
/** How long a test waits for frames (a deadline for a wait, not a performance claim: `npm run bench -- push` measures latency). */
const WAIT_MS = 5000;

interface Account {
  uuid: string;
  handle: string;
  accessToken: string;
}

/** One open app: a WebSocket and the pushes it received, in order. */
interface Tab {
  socket: WebSocket;
  pushes: MessagePush[];
}

/** The rate limiter's clock: the middle of the current hour, so a window of an hour holds the whole suite. */
const LIMITER_NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000 + 1_800_000;
let postLimit: PostRateLimit = { limit: 100_000, windowSeconds: 3600 };

let table: TestTable;
let database: Pool;
let cognito: CognitoIdentityProviderClient;
let pool: LocalPool;
let gateway: RunningGateway;
let consumer: StreamConsumer;
let connections: ConnectionsRepository;
let scratch: string;
const log: string[] = [];
/** The typing function's clock (epoch ms), set by its test. */
const TYPING_NOW = Date.now();
let typingClock = TYPING_NOW;
let typingCallsBefore = 0;
/** How many times each WebSocket function ran. */
const calls: Record<string, number> = {};
const tabs: Tab[] = [];
let alice: Account;
let bob: Account;
let carol: Account;
let dave: Account;

async function registerAccount(): Promise<Account> {
  const [row] = await insertUsers(database, 1, 'rt');
  await ensurePoolUser(cognito, pool.userPoolId, row!, PASSWORD);
  const tokens = await signIn(cognito, pool.clientId, row!.handle, PASSWORD);
  await database.query('UPDATE public.users SET cognito_user_id = $1 WHERE uuid = $2', [payloadOf(tokens.accessToken).sub, row!.uuid]);
  return { uuid: row!.uuid, handle: row!.handle, accessToken: tokens.accessToken };
}

/** Opens a tab of `account`'s; resolves once connected. */
async function open(account: Account): Promise<Tab> {
  const socket = new WebSocket(`${gateway.url.replace('http', 'ws')}/ws?token=${encodeURIComponent(account.accessToken)}`);
  const tab: Tab = { socket, pushes: [] };
  socket.on('message', (data) => tab.pushes.push(JSON.parse(data.toString()) as MessagePush));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  tabs.push(tab);
  return tab;
}

/** A handshake that must fail: the HTTP status API Gateway answers it with. */
function refusedStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('open', () => reject(new Error('the connection was accepted')));
    socket.once('error', () => undefined);
  });
}

async function post(from: Account, body: Record<string, unknown>): Promise<{ message_group_uuid: string; uuid: string }> {
  const response = await fetchInContract(`${gateway.url}/api/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${from.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { message_group_uuid: string; uuid: string };
}

/** A POST's status, headers and body, whatever the status. */
async function postRaw(from: Account, body: Record<string, unknown>): Promise<{ status: number; retryAfter: string | null; body: Record<string, unknown> }> {
  const response = await fetchInContract(`${gateway.url}/api/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${from.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as Record<string, unknown> };
}

/** The handles of a group's message senders, oldest first. */
async function sendersIn(group: string): Promise<string[]> {
  const output = await table.client.send(
    new QueryCommand({
      TableName: table.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.messagePartition(group) },
      ConsistentRead: true,
    }),
  );
  return (output.Items ?? []).map((item) => item.user_handle as string);
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms; log:\n${log.slice(-20).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  table = await createTestTable();
  database = await createTestPool();
  cognito = createCognitoClient(endpoints().cognito);
  pool = await ensureLocalPool(cognito, unique('realtime-pool-'));
  scratch = mkdtempSync(path.join(os.tmpdir(), 'cruddur-realtime-'));
  const cognitoUrl = `http://127.0.0.1:${servicePorts().cognito}`;
  const users = createCachedUserDirectory(createUsersRepository(database));
  connections = createConnectionsRepository(table.client, { tableName: table.tableName });
  const logger = new Logger({ serviceName: 'realtime-test', logLevel: 'SILENT' });
  const counted = <H extends (...args: never[]) => Promise<unknown>>(name: string, handler: H) =>
    (async (...args: Parameters<H>) => {
      calls[name] = (calls[name] ?? 0) + 1;
      return handler(...args);
    }) as unknown as LambdaHandler<unknown, unknown>;
  const routeDeps = { users: async () => users, connections: () => connections, logger, connectionsPerUser: () => CONNECTIONS_PER_USER };
  const websocketHandlers: Record<string, LambdaHandler<unknown, unknown>> = {
    'ws-authorize': counted(
      'ws-authorize',
      createWebSocketAuthorizer({ verifier: () => createAccessTokenVerifier({ ...pool, issuerUrl: localIssuer(cognitoUrl, pool.userPoolId) }), logger }),
    ),
    'ws-connect': counted('ws-connect', createConnectHandler(routeDeps)),
    'ws-disconnect': counted('ws-disconnect', createDisconnectHandler(routeDeps)),
    'ws-typing': counted(
      'ws-typing',
      createTypingHandler({
        // Its own clock, so that "one per second" is decided by the test, not by how fast the machine is.
        connections: () => createConnectionsRepository(table.client, { tableName: table.tableName, clock: () => typingClock }),
        post: () =>
          createConnectionPoster(`${gateway.url}/ws`, (connectionId, error) => log.push(`post to ${connectionId} failed: ${error.message}`), {
            region: LOCAL_REGION,
            credentials: FUNCTION_CREDENTIALS,
          }),
        logger,
      }),
    ),
  };
  // The POST limit as deployed (a RATE# item per user and window), on a clock stopped mid-window
  // so that no test straddles two windows; generous unless a test lowers it.
  const rateLimits = createRateLimitRepository(table.client, { tableName: table.tableName, clock: () => LIMITER_NOW });
  const messaging = createMessaging({
    messages: createMessagesRepository(table.client, { tableName: table.tableName }),
    users,
    postAllowance: { take: (sub) => rateLimits.take(sub, 'POST', postLimit), describe: 'the test limit' },
  });
  gateway = await startGateway({
    port: 0,
    authorizer: createLocalCognitoAuthorizer({ cognitoUrl, ...pool }),
    handlerFor: async (fn: HttpFunction) => {
      if (fn.name === 'mark-read') return createMarkReadHandler({ messaging: () => messaging }) as HttpHandler;
      if (fn.name !== 'create-message') throw new Error(`${fn.name} is not part of this suite`);
      return createCreateMessageHandler({ messaging: () => messaging }) as HttpHandler;
    },
    websocket: createLocalWebSocketApi({
      authorizer: WEBSOCKET_AUTHORIZER!,
      routes: WEBSOCKET_FUNCTIONS,
      handlerFor: async (fn: FunctionDefinition) => websocketHandlers[fn.name]!,
      managementCredentials: FUNCTION_CREDENTIALS,
      log: (line) => log.push(line),
    }),
    log: (line) => log.push(line),
  });
  const push = createMessagePushHandler({
    connections: () => connections,
    // As the local runtime's environment gives the function: the local region and dummy credentials.
    post: () =>
      createConnectionPoster(`${gateway.url}/ws`, (connectionId, error) => log.push(`post to ${connectionId} failed: ${error.message}`), {
        region: LOCAL_REGION,
        credentials: FUNCTION_CREDENTIALS,
      }),
    logger,
  });
  consumer = createStreamConsumer({
    dynamodbUrl: endpoints().dynamodb,
    tableName: table.tableName,
    fn: streamFunctionNamed('message-push'),
    handler: push as unknown as StreamHandler,
    checkpointFile: path.join(scratch, 'checkpoint.json'),
    deadLetterFile: path.join(scratch, 'dead-letters.jsonl'),
    log: (line) => log.push(line),
  });
  await consumer.start();
  [alice, bob, carol, dave] = [await registerAccount(), await registerAccount(), await registerAccount(), await registerAccount()];
}, 120_000);

afterAll(async () => {
  for (const tab of tabs) tab.socket.terminate();
  await consumer?.stop();
  await gateway?.stop();
  await table?.drop();
  await database?.end();
  cognito?.destroy();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('WebSocket delivery', () => {
  it('pushes D and C messages once, in order, to every tab of both people, and nothing to a third', async () => {
    // Prepare: alice and bob on two tabs each, carol on one.
    const aliceTabs = [await open(alice), await open(alice)];
    const bobTabs = [await open(bob), await open(bob)];
    const carolTab = await open(carol);
    expect((await connections.connectionsOf(alice.uuid)).length).toBe(2);

    // Act: D from alice to bob by handle (a new conversation), C from alice to it, D from bob to alice (the same one).
    const first = await post(alice, { message: 'D: hello bob', handle: bob.handle });
    const group = first.message_group_uuid;
    const c = await post(alice, { message: 'C: to the group', message_group_uuid: group });
    const d = await post(bob, { message: 'D: to alice by handle', handle: alice.handle });
    const everyTab = [...aliceTabs, ...bobTabs];
    await waitFor('the three pushes on every tab', () => everyTab.every((tab) => tab.pushes.length >= 3));
    // A moment for anything extra (a duplicate, or a push to carol) to arrive.
    await new Promise((resolve) => setTimeout(resolve, 750));

    // Assess
    expect(d.message_group_uuid).toBe(group);
    const pushed = (sent: { uuid: string }, from: Account, message: string) => ({
      type: 'message',
      message_group_uuid: group,
      uuid: sent.uuid,
      display_name: expect.any(String),
      handle: from.handle,
      message,
      created_at: expect.any(String),
    });
    for (const tab of everyTab) {
      expect(tab.pushes).toEqual([pushed(first, alice, 'D: hello bob'), pushed(c, alice, 'C: to the group'), pushed(d, bob, 'D: to alice by handle')]);
    }
    expect(carolTab.pushes).toEqual([]);
  });

  it("pushes a read receipt to the other person's tabs and the reader's, and nothing to a third", async () => {
    // Prepare
    const aliceTab = await open(alice);
    const bobTabs = [await open(bob), await open(bob)];
    const carolTab = await open(carol);
    const sent = await post(alice, { message: 'read me, bob', handle: bob.handle });
    await waitFor('the message on every tab', () => [aliceTab, ...bobTabs].every((tab) => tab.pushes.length >= 1));

    // Act
    const response = await fetchInContract(`${gateway.url}/api/message_groups/${sent.message_group_uuid}/read`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bob.accessToken}` },
    });
    const marked = (await response.json()) as { read_at: string };
    await waitFor('the receipt on every tab of both', () => [aliceTab, ...bobTabs].every((tab) => tab.pushes.length >= 2));
    await new Promise((resolve) => setTimeout(resolve, 500));

    // Assess
    expect(response.status).toBe(200);
    const receipt = { type: 'read', message_group_uuid: sent.message_group_uuid, handle: bob.handle, read_up_to: sent.uuid, read_at: marked.read_at };
    for (const tab of [aliceTab, ...bobTabs]) expect(tab.pushes.slice(1)).toEqual([receipt]);
    expect(carolTab.pushes).toEqual([]);
  });

  it('refuses a connection without a valid token before any route runs; without a token, before the authorizer', async () => {
    // Prepare
    const before = { ...calls };
    const url = `${gateway.url.replace('http', 'ws')}/ws`;
    const idToken = (await signIn(cognito, pool.clientId, dave.handle, PASSWORD)).idToken;

    // Act
    const statuses = [
      await refusedStatus(url),
      await refusedStatus(`${url}?token=not.a.jwt`),
      await refusedStatus(`${url}?token=${encodeURIComponent(idToken)}`),
      await refusedStatus(`${url}?token=${encodeURIComponent(dave.accessToken)}x`),
    ];

    // Assess: 401 each time; the authorizer ran for the three with a token, no route ran at all.
    expect(statuses).toEqual([401, 401, 401, 401]);
    expect((calls['ws-authorize'] ?? 0) - (before['ws-authorize'] ?? 0)).toBe(3);
    expect(calls['ws-connect']).toBe(before['ws-connect']);
    expect(await connections.connectionsOf(dave.uuid)).toEqual([]);
  });

  it("refuses a client frame of any action but typing (and one that is not JSON, or names $connect) with API Gateway's Forbidden answer, no function run", async () => {
    const tab = await open(dave);
    const before = { ...calls };
    const answers: string[] = [];
    tab.socket.on('message', (data) => answers.push(data.toString()));
    for (const frame of [JSON.stringify({ action: 'sendmessage', message: 'hi' }), 'typing', JSON.stringify({ action: '$connect' }), JSON.stringify({})]) {
      tab.socket.send(frame);
    }
    await waitFor('four answers', () => answers.length >= 4);
    expect(answers.map((answer) => (JSON.parse(answer) as { message: string }).message)).toEqual(['Forbidden', 'Forbidden', 'Forbidden', 'Forbidden']);
    expect(calls).toEqual(before);
  });

  it("forgets a dropped client's connection, and one API Gateway says is gone", async () => {
    // Prepare: two tabs of carol's, one to drop without a close frame; a connection item the gateway never saw.
    const live = await open(carol);
    const dropped = await open(carol);
    const stale = buildConnectionItem({ userUuid: carol.uuid, connectionId: 'R29uZUJ5Tm93QUFB', connectedAt: new Date().toISOString() });
    await table.client.send(new PutCommand({ TableName: table.tableName, Item: stale }));
    const ids = async () => (await connections.connectionsOf(carol.uuid)).map((item) => item.connection_id);
    const before = await ids();

    // Act
    dropped.socket.terminate();
    await waitFor('$disconnect of the dropped tab', async () => (await ids()).length === before.length - 1);
    const { message_group_uuid: group } = await post(dave, { message: 'carol, are you there?', handle: carol.handle });

    // Assess: the push found the stale connection gone (410) and deleted it; the live tab got the message.
    await waitFor('the gone connection deleted', async () => !(await ids()).includes(stale.connection_id));
    await waitFor('the live tab gets it', () => live.pushes.some((push) => push.message_group_uuid === group));
    expect(dropped.pushes.some((push) => push.message_group_uuid === group)).toBe(false);
  });

  it('delivers a burst of 200 messages in two conversations complete and in order per conversation', async () => {
    // Prepare
    const aliceTab = await open(alice);
    const carolTab = await open(carol);
    const { message_group_uuid: aliceBob } = await post(alice, { message: 'burst 0', handle: bob.handle });
    const { message_group_uuid: carolDave } = await post(carol, { message: 'burst 0', handle: dave.handle });
    const sent: Record<string, string[]> = { [aliceBob]: [], [carolDave]: [] };

    // Act: each conversation's 100 in order, the two conversations at once.
    await Promise.all([
      (async () => {
        for (let n = 1; n <= 100; n += 1) sent[aliceBob]!.push((await post(alice, { message: `burst ${n}`, message_group_uuid: aliceBob })).uuid);
      })(),
      (async () => {
        for (let n = 1; n <= 100; n += 1) sent[carolDave]!.push((await post(carol, { message: `burst ${n}`, message_group_uuid: carolDave })).uuid);
      })(),
    ]);
    const inGroup = (tab: Tab, group: string) =>
      tab.pushes.filter((push) => push.message_group_uuid === group && push.message !== 'burst 0').map((push) => push.uuid);
    await waitFor('200 pushes', () => inGroup(aliceTab, aliceBob).length >= 100 && inGroup(carolTab, carolDave).length >= 100, 30_000);

    // Assess
    expect(inGroup(aliceTab, aliceBob)).toEqual(sent[aliceBob]);
    expect(inGroup(carolTab, carolDave)).toEqual(sent[carolDave]);
    expect(aliceTab.pushes.some((push) => push.message_group_uuid === carolDave)).toBe(false);
  });
});

describe('typing indicators', () => {
  const typing = (tab: Tab, group: string) => tab.socket.send(JSON.stringify({ action: 'typing', message_group_uuid: group }));
  const typingFrames = (tab: Tab) => tab.pushes.filter((push) => (push as { type: string }).type === 'typing');

  it("reach the other member's tabs only, one per connection per second, and a non-member or a malformed frame gets an error on its own connection", async () => {
    // Prepare: a conversation of two people of its own (the others' tabs of earlier cases count against the cap); a third outside it.
    const [alice, bob, carol] = [await registerAccount(), await registerAccount(), await registerAccount()];
    const sent = await post(alice, { message: 'typing test', handle: bob.handle });
    const group = sent.message_group_uuid;
    const [aliceTab, aliceOther] = [await open(alice), await open(alice)];
    const bobTabs = [await open(bob), await open(bob)];
    const carolTab = await open(carol);
    typingClock = TYPING_NOW;
    typingCallsBefore = calls['ws-typing'] ?? 0;

    // Act: alice types 5 times in the same second; carol names alice's group; a malformed frame.
    for (let index = 0; index < 5; index += 1) typing(aliceTab, group);
    typing(carolTab, group);
    carolTab.socket.send(JSON.stringify({ action: 'typing', message_group_uuid: 'not-a-uuid' }));
    await waitFor(
      "the typing frame on both of bob's tabs and two errors for carol",
      () => bobTabs.every((tab) => typingFrames(tab).length >= 1) && carolTab.pushes.length >= 2,
    );
    await waitFor('all five typing frames handled', () => (calls['ws-typing'] ?? 0) >= typingCallsBefore + 7);
    typingClock = TYPING_NOW + 1000;
    typing(aliceTab, group);
    await waitFor("the next second's frame", () => bobTabs.every((tab) => typingFrames(tab).length >= 2));
    await new Promise((resolve) => setTimeout(resolve, 300));

    // Assess
    for (const tab of bobTabs)
      expect(typingFrames(tab)).toEqual([
        { type: 'typing', message_group_uuid: group, handle: alice.handle },
        { type: 'typing', message_group_uuid: group, handle: alice.handle },
      ]);
    expect([...typingFrames(aliceTab), ...typingFrames(aliceOther)]).toEqual([]);
    // Frames are handled at once, as API Gateway does: the answers in either order.
    expect([...carolTab.pushes].sort((a, b) => a.message.localeCompare(b.message))).toEqual([
      { type: 'error', action: 'typing', message: 'Message group not found' },
      { type: 'error', action: 'typing', message: 'message_group_uuid_invalid' },
    ]);
    // Nothing about typing is stored but the connection's last turn.
    expect(await sendersIn(group)).toEqual([alice.handle]);
  });
});

describe('per-user limits and token lifetimes', () => {
  it("answers one user's flood of POSTs with 429 and Retry-After past the limit, storing nothing more, while another user's messages and pushes go through", async () => {
    // Prepare: two new people, each writing to a third who has a tab open.
    const [flooder, other, reader] = [await registerAccount(), await registerAccount(), await registerAccount()];
    const readerTab = await open(reader);
    postLimit = { limit: 5, windowSeconds: 3600 };
    try {
      const { message_group_uuid: floodGroup } = await post(flooder, { message: 'flood 0', handle: reader.handle });
      const { message_group_uuid: otherGroup } = await post(other, { message: 'other 0', handle: reader.handle });

      // Act: the flooder sends 11 more, the other person 3, interleaved.
      const flood: Awaited<ReturnType<typeof postRaw>>[] = [];
      const others: Awaited<ReturnType<typeof postRaw>>[] = [];
      for (let n = 1; n <= 11; n += 1) {
        flood.push(await postRaw(flooder, { message: `flood ${n}`, message_group_uuid: floodGroup }));
        if (n % 4 === 0) others.push(await postRaw(other, { message: `other ${n / 4}`, message_group_uuid: otherGroup }));
      }

      // Assess: 5 in the window (the first POST and 4 of these), the other 7 refused with a retry time within the window.
      expect(flood.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 429, 429, 429, 429, 429, 429, 429]);
      for (const refused of flood.filter((answer) => answer.status === 429)) {
        expect(refused.body).toEqual({
          error: 'rate_limited',
          message: expect.stringMatching(/^Too many messages: at most the test limit; try again in \d+ s$/),
        });
        expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
        expect(Number(refused.retryAfter)).toBeLessThanOrEqual(1800);
      }
      expect(await sendersIn(floodGroup)).toHaveLength(5);
      // The other person is limited on their own count: everything accepted, stored and pushed.
      expect(others.map((answer) => answer.status)).toEqual([200, 200]);
      expect(await sendersIn(otherGroup)).toHaveLength(3);
      await waitFor("the other person's messages on the reader's tab", () =>
        ['other 0', 'other 1', 'other 2'].every((text) => readerTab.pushes.some((push) => push.message === text)),
      );
      expect(readerTab.pushes.filter((push) => push.message_group_uuid === floodGroup)).toHaveLength(5);
    } finally {
      postLimit = { limit: 100_000, windowSeconds: 3600 };
    }
  });

  it(`refuses a user's WebSocket beyond ${CONNECTIONS_PER_USER} open ones with 429 before it opens, and takes one again once a tab closes`, async () => {
    // Prepare
    const person = await registerAccount();
    const url = `${gateway.url.replace('http', 'ws')}/ws?token=${encodeURIComponent(person.accessToken)}`;
    const first = await Promise.all(Array.from({ length: CONNECTIONS_PER_USER }, () => open(person)));

    // Act
    const refused = await refusedStatus(url);
    first[0]!.socket.close();
    await waitFor('$disconnect of the closed tab', async () => (await connections.connectionsOf(person.uuid)).length === CONNECTIONS_PER_USER - 1);
    const again = await open(person);

    // Assess
    expect(refused).toBe(429);
    expect(again.socket.readyState).toBe(WebSocket.OPEN);
    expect(await connections.connectionsOf(person.uuid)).toHaveLength(CONNECTIONS_PER_USER);
  });

  it("ends a connection's item with its access token, and the push skips and deletes an expired one while the other tab gets the message", async () => {
    // Prepare: a tab opened with a token of ten more minutes (the pool's own key, the pool's claims), and a second tab
    // whose item is then made to have expired a moment ago.
    const person = await registerAccount();
    const sender = await registerAccount();
    const tenMinutes = Math.floor(Date.now() / 1000) + 600;
    const shortLived = { ...person, accessToken: signJwt({ ...payloadOf(person.accessToken), exp: tenMinutes }, cognitoLocalPrivateKey()) };
    const keeping = await open(shortLived);
    const [keptItem] = await connections.connectionsOf(person.uuid);
    const expiring = await open(person);
    const expiringItem = (await connections.connectionsOf(person.uuid)).find((item) => item.connection_id !== keptItem!.connection_id)!;
    expect(keptItem!.expires_at).toBe(tenMinutes);
    await table.client.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: keys.connection(person.uuid, expiringItem.connection_id),
        UpdateExpression: 'SET expires_at = :past',
        ExpressionAttributeValues: { ':past': Math.floor(Date.now() / 1000) - 1 },
      }),
    );

    // Act
    const { message_group_uuid: group } = await post(sender, { message: 'only for live tokens', handle: person.handle });

    // Assess
    await waitFor('the live tab gets it', () => keeping.pushes.some((push) => push.message_group_uuid === group));
    await waitFor('the expired item deleted', async () => {
      const items = await table.client.send(
        new QueryCommand({
          TableName: table.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': keys.connectionPartition(person.uuid) },
          ConsistentRead: true,
        }),
      );
      return !(items.Items ?? []).some((item) => item.connection_id === expiringItem.connection_id);
    });
    expect(expiring.pushes).toEqual([]);
  });

  it("takes @connections posts only when signed with the functions' secret of this run, and none over 128 KiB", async () => {
    // Prepare: an open tab whose connection id an intruder has learned.
    const person = await registerAccount();
    const tab = await open(person);
    const [item] = await connections.connectionsOf(person.uuid);
    const endpoint = `${gateway.url}/ws`;
    const forged = JSON.stringify({ type: 'message', message: 'forged' });
    const poster = (secretAccessKey: string) =>
      createConnectionPoster(endpoint, () => undefined, { region: LOCAL_REGION, credentials: { accessKeyId: LOCAL_CREDENTIALS.accessKeyId, secretAccessKey } });

    // Act
    const unsigned = await fetch(`${endpoint}/@connections/${encodeURIComponent(item!.connection_id)}`, { method: 'POST', body: forged });
    const wrongSecret = await poster('local')(item!.connection_id, forged);
    const tooLarge = await fetch(`${endpoint}/@connections/${encodeURIComponent(item!.connection_id)}`, { method: 'POST', body: 'x'.repeat(128 * 1024 + 1) });
    const genuine = await poster(FUNCTION_CREDENTIALS.secretAccessKey)(item!.connection_id, JSON.stringify({ type: 'message', message: 'genuine' }));

    // Assess
    expect([unsigned.status, wrongSecret, tooLarge.status, genuine]).toEqual([403, 'failed', 413, 'sent']);
    await waitFor('the genuine frame', () => tab.pushes.length === 1);
    expect(tab.pushes.map((push) => push.message)).toEqual(['genuine']);
  });
});

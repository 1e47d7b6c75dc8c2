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
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Pool } from 'pg';
import WebSocket from 'ws';
import { streamFunctionNamed, WEBSOCKET_AUTHORIZER, WEBSOCKET_FUNCTIONS, type FunctionDefinition, type HttpFunction } from '../../functions/catalog';
import { createConnectionsRepository, type ConnectionsRepository } from '../../functions/data/connections-repository';
import { createMessagesRepository } from '../../functions/data/messages-repository';
import { buildConnectionItem } from '../../functions/data/model';
import type { MessagePush } from '../../functions/websocket/frames';
import { createUsersRepository } from '../../functions/data/users-repository';
import { createCachedUserDirectory } from '../../functions/domain/user-directory';
import { createMessaging } from '../../functions/domain/conversations';
import { createCreateMessageHandler } from '../../functions/create-message/index';
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
import { payloadOf } from '../support/tokens';

const PASSWORD = 'Realtime-test-1!';
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

let table: TestTable;
let database: Pool;
let cognito: CognitoIdentityProviderClient;
let pool: LocalPool;
let gateway: RunningGateway;
let consumer: StreamConsumer;
let connections: ConnectionsRepository;
let scratch: string;
const log: string[] = [];
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
  const response = await fetch(`${gateway.url}/api/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${from.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { message_group_uuid: string; uuid: string };
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
  const routeDeps = { users: async () => users, connections: () => connections, logger };
  const websocketHandlers: Record<string, LambdaHandler<unknown, unknown>> = {
    'ws-authorize': counted(
      'ws-authorize',
      createWebSocketAuthorizer({ verifier: () => createAccessTokenVerifier({ ...pool, issuerUrl: localIssuer(cognitoUrl, pool.userPoolId) }), logger }),
    ),
    'ws-connect': counted('ws-connect', createConnectHandler(routeDeps)),
    'ws-disconnect': counted('ws-disconnect', createDisconnectHandler(routeDeps)),
  };
  const messaging = createMessaging({ messages: createMessagesRepository(table.client, { tableName: table.tableName }), users });
  gateway = await startGateway({
    port: 0,
    authorizer: createLocalCognitoAuthorizer({ cognitoUrl, ...pool }),
    handlerFor: async (fn: HttpFunction) => {
      if (fn.name !== 'create-message') throw new Error(`${fn.name} is not part of this suite`);
      return createCreateMessageHandler({ messaging: () => messaging }) as HttpHandler;
    },
    websocket: createLocalWebSocketApi({
      authorizer: WEBSOCKET_AUTHORIZER!,
      routes: WEBSOCKET_FUNCTIONS,
      handlerFor: async (fn: FunctionDefinition) => websocketHandlers[fn.name]!,
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
        credentials: LOCAL_CREDENTIALS,
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

  it("accepts no frame from a client: API Gateway's Forbidden answer, no function runs", async () => {
    const tab = await open(dave);
    const before = { ...calls };
    const answer = new Promise<string>((resolve) => tab.socket.once('message', (data) => resolve(data.toString())));
    tab.socket.send(JSON.stringify({ action: 'sendmessage', message: 'hi' }));
    expect(JSON.parse(await answer)).toMatchObject({ message: 'Forbidden' });
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

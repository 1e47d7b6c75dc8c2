/**
 * The messaging API functions end to end: real API Gateway v2 events into the handlers,
 * over DynamoDB Local and the embedded PostgreSQL. Each test makes its own users (and so
 * its own conversations); the table and the domain are shared by the suite.
 */
import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Pool } from 'pg';
import { createCountUnreadHandler } from '../../functions/count-unread/index';
import { createCreateMessageHandler } from '../../functions/create-message/index';
import { createMarkReadHandler } from '../../functions/mark-read/index';
import { createListMessageGroupsHandler } from '../../functions/list-message-groups/index';
import { createListMessagesHandler } from '../../functions/list-messages/index';
import { createMessagesRepository } from '../../functions/data/messages-repository';
import { createMessaging, type Messaging } from '../../functions/domain/conversations';
import { KeyPrefix } from '../../functions/data/model';
import { createCachedUserDirectory } from '../../functions/domain/user-directory';
import { createUsersRepository } from '../../functions/data/users-repository';
import { createUserShortHandler } from '../../functions/user-short/index';
import { apiEvent, lambdaContext, type ApiEventOptions } from '../support/api-events';
import { createTestPool, createTestTable, insertUsers, type TestTable } from '../support/services';
import { expectAnswerInContract } from '../support/openapi';

jest.setTimeout(120_000);

interface RegisteredUser {
  uuid: string;
  handle: string;
  display_name: string;
  sub: string;
}

interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Record<string, string | number | boolean>;
  rawBody: string;
}

interface MessageJson {
  uuid: string;
  display_name: string;
  handle: string;
  message: string;
  created_at: string;
}

interface CreatedJson extends MessageJson {
  message_group_uuid: string;
}

let table: TestTable;
let pool: Pool;
let messaging: Messaging;
const handlers: Record<string, ReturnType<typeof createUserShortHandler>> = {};

beforeAll(async () => {
  table = await createTestTable();
  pool = await createTestPool();
  // Strictly increasing milliseconds, so the order of sequential sends is the order of their keys.
  let last = 0;
  const clock = () => (last = Math.max(Date.now(), last + 1));
  messaging = createMessaging({
    messages: createMessagesRepository(table.client, { tableName: table.tableName, clock }),
    users: createCachedUserDirectory(createUsersRepository(pool)),
  });
  const deps = { messaging: () => messaging };
  handlers['list-message-groups'] = createListMessageGroupsHandler(deps);
  handlers['list-messages'] = createListMessagesHandler(deps);
  handlers['create-message'] = createCreateMessageHandler(deps);
  handlers['user-short'] = createUserShortHandler(deps);
  handlers['mark-read'] = createMarkReadHandler(deps);
  handlers['count-unread'] = createCountUnreadHandler(deps);
});

afterAll(async () => {
  await table?.drop();
  await pool?.end();
});

/** Users in PostgreSQL with a Cognito sub, as `db:update-cognito-user-ids` leaves them. */
async function registerUsers(count: number, prefix = 'api'): Promise<RegisteredUser[]> {
  const users = await insertUsers(pool, count, prefix);
  return Promise.all(
    users.map(async (user) => {
      const sub = randomUUID();
      await pool.query('UPDATE public.users SET cognito_user_id = $1 WHERE uuid = $2', [sub, user.uuid]);
      return { uuid: user.uuid, handle: user.handle, display_name: user.display_name, sub };
    }),
  );
}

/** Invokes a function's handler with an API Gateway v2 event for its route. */
async function call<T = unknown>(name: string, options: ApiEventOptions): Promise<ApiResponse<T>> {
  const handler = handlers[name];
  if (!handler) throw new Error(`No handler for ${name}`);
  const event = apiEvent(name, options);
  const result = await handler(event, lambdaContext(name));
  const rawBody = result.body ?? '';
  expectAnswerInContract({
    method: event.requestContext.http.method,
    path: event.rawPath,
    status: result.statusCode ?? 0,
    headers: result.headers ?? {},
    text: rawBody,
  });
  return { status: result.statusCode ?? 0, body: JSON.parse(rawBody) as T, headers: result.headers ?? {}, rawBody };
}

const sendTo = (from: RegisteredUser, to: RegisteredUser, message: string) =>
  call<CreatedJson>('create-message', { sub: from.sub, body: { message, handle: to.handle } });

const sendInGroup = (from: RegisteredUser, groupUuid: string, message: string) =>
  call<CreatedJson>('create-message', { sub: from.sub, body: { message, message_group_uuid: groupUuid } });

const listMessages = (caller: RegisteredUser, groupUuid: string, query?: Record<string, string>) =>
  call<MessageJson[]>('list-messages', { sub: caller.sub, pathParameters: { message_group_uuid: groupUuid }, query });

const listGroups = (caller: RegisteredUser, query?: Record<string, string>) => call<MessageJson[]>('list-message-groups', { sub: caller.sub, query });

/** Every page of a list, following X-Next-Cursor; the last page must have no cursor. */
async function allPages<T>(fetchPage: (query: Record<string, string>) => Promise<ApiResponse<T[]>>, limit: number): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | undefined;
  do {
    const response = await fetchPage(cursor === undefined ? { limit: String(limit) } : { limit: String(limit), cursor });
    expect(response.status).toBe(200);
    pages.push(response.body);
    cursor = response.headers['X-Next-Cursor'] as string | undefined;
    if (pages.length > 50) throw new Error('Pagination does not end');
  } while (cursor !== undefined);
  return pages;
}

async function countItems(prefix: string, containing: string): Promise<number> {
  const output = await table.client.send(new ScanCommand({ TableName: table.tableName, ConsistentRead: true }));
  return (output.Items ?? []).filter((item) => String(item.pk).startsWith(prefix) && JSON.stringify(item).includes(containing)).length;
}

describe('GET /api/users/@{handle}/short', () => {
  it('answers {uuid, handle, display_name} for @handle', async () => {
    // Prepare
    const [caller, other] = await registerUsers(2);

    // Act
    const response = await call('user-short', { sub: caller!.sub, pathParameters: { handle: `@${other!.handle}` } });
    const encoded = await call('user-short', { sub: caller!.sub, pathParameters: { handle: `%40${other!.handle}` } });

    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ uuid: other!.uuid, handle: other!.handle, display_name: other!.display_name });
    expect(encoded.body).toEqual(response.body);
  });

  it("answers without a token (the route is public, as the original's), with those three fields only", async () => {
    // Prepare
    const [other] = await registerUsers(1);

    // Act
    const response = await call('user-short', { sub: null, pathParameters: { handle: `@${other!.handle}` } });

    // Assess: nothing else about the user (no email, no Cognito identity).
    expect(response.status).toBe(200);
    expect(Object.keys(response.body as object).sort()).toEqual(['display_name', 'handle', 'uuid']);
    expect(response.body).toEqual({ uuid: other!.uuid, handle: other!.handle, display_name: other!.display_name });
  });

  it('answers 404 for an unknown handle and 422 for a malformed one', async () => {
    // Prepare
    const [caller] = await registerUsers(1);

    // Act
    const unknown = await call('user-short', { sub: caller!.sub, pathParameters: { handle: '@nobody_by_this_name' } });
    const malformed = await call('user-short', { sub: caller!.sub, pathParameters: { handle: '@no spaces; allowed' } });

    // Assess
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: 'not_found', message: 'No user has the handle @nobody_by_this_name' });
    expect(malformed.status).toBe(422);
    expect(malformed.body).toEqual(['handle_invalid']);
  });
});

describe('POST /api/messages with an Idempotency-Key', () => {
  const keyed = (from: RegisteredUser, body: Record<string, unknown>, key: string) =>
    call<CreatedJson>('create-message', { sub: from.sub, body, headers: { 'idempotency-key': key } });

  it('answers a retry of the same request with the first answer, marked replayed, and stores the message once (C and D)', async () => {
    // Prepare
    const [alice, bob] = await registerUsers(2);
    const key = randomUUID();
    const dKey = `"${randomUUID()}"`; // the draft's quoted form

    // Act: D twice with one key, then C twice with another.
    const d1 = await keyed(alice!, { message: 'first contact', handle: bob!.handle }, dKey);
    const d2 = await keyed(alice!, { message: 'first contact', handle: bob!.handle }, dKey);
    const c1 = await keyed(bob!, { message: 'a reply', message_group_uuid: d1.body.message_group_uuid }, key);
    const c2 = await keyed(bob!, { message: 'a reply', message_group_uuid: d1.body.message_group_uuid }, key);

    // Assess
    expect([d1.status, d2.status, c1.status, c2.status]).toEqual([200, 200, 200, 200]);
    expect(d2.body).toEqual(d1.body);
    expect(c2.body).toEqual(c1.body);
    expect([
      d1.headers['Idempotent-Replayed'],
      d2.headers['Idempotent-Replayed'],
      c1.headers['Idempotent-Replayed'],
      c2.headers['Idempotent-Replayed'],
    ]).toEqual([undefined, 'true', undefined, 'true']);
    expect(await countItems('MSG#', 'first contact')).toBe(1);
    expect(await countItems('MSG#', 'a reply')).toBe(1);
  });

  it('stores once when two requests with one key race, and both get the same answer', async () => {
    // Prepare
    const [alice, bob] = await registerUsers(2);
    const group = (await sendTo(alice!, bob!, 'hello')).body.message_group_uuid;
    const key = randomUUID();

    // Act
    const answers = await Promise.all(Array.from({ length: 4 }, () => keyed(alice!, { message: 'raced', message_group_uuid: group }, key)));

    // Assess
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    expect(new Set(answers.map((answer) => answer.body.uuid)).size).toBe(1);
    expect(await countItems('MSG#', 'raced')).toBe(1);
  });

  it('refuses the same key with another request (422 idempotency_key_reused) and writes nothing', async () => {
    // Prepare
    const [alice, bob] = await registerUsers(2);
    const key = randomUUID();
    await keyed(alice!, { message: 'original', handle: bob!.handle }, key);

    // Act
    const otherText = await keyed(alice!, { message: 'changed', handle: bob!.handle }, key);

    // Assess
    expect(otherText.status).toBe(422);
    expect(otherText.body).toEqual(['idempotency_key_reused']);
    expect(await countItems('MSG#', 'changed')).toBe(0);
  });

  it('keeps keys apart per caller, leaves requests without a key as they were, and refuses a malformed key', async () => {
    // Prepare
    const [alice, bob] = await registerUsers(2);
    const group = (await sendTo(alice!, bob!, 'hello')).body.message_group_uuid;
    const key = randomUUID();

    // Act
    const fromAlice = await keyed(alice!, { message: 'same key, alice', message_group_uuid: group }, key);
    const fromBob = await keyed(bob!, { message: 'same key, bob', message_group_uuid: group }, key);
    const twice = [await sendInGroup(alice!, group, 'no key'), await sendInGroup(alice!, group, 'no key')];
    const malformed = await keyed(alice!, { message: 'bad key', message_group_uuid: group }, 'has space');

    // Assess
    expect([fromAlice.status, fromBob.status]).toEqual([200, 200]);
    expect(fromBob.body.uuid).not.toBe(fromAlice.body.uuid);
    expect(twice.map((answer) => answer.status)).toEqual([200, 200]);
    expect(await countItems('MSG#', 'no key')).toBe(2);
    expect(malformed.status).toBe(400);
    expect(await countItems('MSG#', 'bad key')).toBe(0);
  });

  it('lets a refused request (its message blank) be sent again with the same key once corrected', async () => {
    // Prepare
    const [alice, bob] = await registerUsers(2);
    const key = randomUUID();

    // Act
    const refused = await keyed(alice!, { message: '   ', handle: bob!.handle }, key);
    const corrected = await keyed(alice!, { message: 'now with text', handle: bob!.handle }, key);

    // Assess
    expect(refused.status).toBe(422);
    expect(corrected.status).toBe(200);
    expect(corrected.headers['Idempotent-Replayed']).toBeUndefined();
  });
});

describe('POST /api/messages with a group and a handle', () => {
  it('answers 422 recipient_ambiguous and writes nothing, even when the caller is in the group', async () => {
    // Prepare: alice talks with bob; a stale client names that group and carol.
    const [alice, bob, carol] = await registerUsers(3);
    const group = (await sendTo(alice!, bob!, 'hello bob')).body.message_group_uuid;

    // Act
    const response = await call('create-message', {
      sub: alice!.sub,
      body: { message: 'meant for someone', message_group_uuid: group, handle: carol!.handle },
    });

    // Assess
    expect(response.status).toBe(422);
    expect(response.body).toEqual(['recipient_ambiguous']);
    expect(await countItems('MSG#', 'meant for someone')).toBe(0);
    expect((await listGroups(carol!)).body).toEqual([]);
  });
});

describe('POST /api/messages with a handle (pattern D)', () => {
  it("creates the pair's group with the message and shows it to both participants", async () => {
    // Prepare
    const [alice, bob] = await registerUsers(2);

    // Act
    const created = await sendTo(alice!, bob!, '  Hello Bob  ');
    const alicesGroups = await listGroups(alice!);
    const bobsGroups = await listGroups(bob!);
    const messages = await listMessages(bob!, created.body.message_group_uuid);

    // Assess
    expect(created.status).toBe(200);
    expect(Object.keys(created.body).sort()).toEqual(['created_at', 'display_name', 'handle', 'message', 'message_group_uuid', 'uuid']);
    expect(created.body).toMatchObject({ display_name: alice!.display_name, handle: alice!.handle, message: 'Hello Bob' });
    expect(created.body.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const group = created.body.message_group_uuid;
    expect(alicesGroups.body).toEqual([
      {
        uuid: group,
        display_name: bob!.display_name,
        handle: bob!.handle,
        message: 'Hello Bob',
        created_at: created.body.created_at,
        unread_count: 0,
        last_read_at: null,
      },
    ]);
    expect(bobsGroups.body).toEqual([
      {
        uuid: group,
        display_name: alice!.display_name,
        handle: alice!.handle,
        message: 'Hello Bob',
        created_at: created.body.created_at,
        unread_count: 1,
        last_read_at: null,
      },
    ]);
    expect(messages.body).toEqual([
      { uuid: created.body.uuid, display_name: alice!.display_name, handle: alice!.handle, message: 'Hello Bob', created_at: created.body.created_at },
    ]);
  });

  it("appends to the pair's existing group, from either side", async () => {
    // Prepare
    const [alice, bob] = await registerUsers(2);
    const first = await sendTo(alice!, bob!, 'one');

    // Act
    const again = await sendTo(alice!, bob!, 'two');
    const reply = await sendTo(bob!, alice!, 'three');
    const messages = await listMessages(alice!, first.body.message_group_uuid);

    // Assess
    expect(again.body.message_group_uuid).toBe(first.body.message_group_uuid);
    expect(reply.body.message_group_uuid).toBe(first.body.message_group_uuid);
    expect(messages.body.map((message) => [message.handle, message.message])).toEqual([
      [alice!.handle, 'one'],
      [alice!.handle, 'two'],
      [bob!.handle, 'three'],
    ]);
    expect(await countItems(KeyPrefix.group, alice!.uuid)).toBe(1);
  });

  it('makes one group holding all 20 messages when both sides race to start the conversation', async () => {
    // Prepare
    const [alice, bob] = await registerUsers(2);
    const sends = Array.from({ length: 20 }, (_, index) =>
      index % 2 === 0 ? () => sendTo(alice!, bob!, `a${index}`) : () => sendTo(bob!, alice!, `b${index}`),
    );

    // Act
    const responses = await Promise.all(sends.map((send) => send()));
    const messages = await listMessages(alice!, responses[0]!.body.message_group_uuid, { limit: '100' });
    const alicesGroups = await listGroups(alice!);
    const bobsGroups = await listGroups(bob!);

    // Assess
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
    const groups = new Set(responses.map((response) => response.body.message_group_uuid));
    expect(groups.size).toBe(1);
    expect(messages.body).toHaveLength(20);
    expect(new Set(messages.body.map((message) => message.uuid))).toEqual(new Set(responses.map((response) => response.body.uuid)));
    expect(alicesGroups.body).toHaveLength(1);
    expect(bobsGroups.body).toHaveLength(1);
    expect(await countItems(KeyPrefix.group, alice!.uuid)).toBe(1);
    expect(await countItems(KeyPrefix.pair, alice!.uuid)).toBe(1);
  });

  it('answers 404 for an unknown recipient and writes nothing', async () => {
    // Prepare
    const [alice] = await registerUsers(1);

    // Act
    const response = await call('create-message', { sub: alice!.sub, body: { message: 'hi', handle: 'nobody_by_this_name' } });

    // Assess
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: 'not_found', message: 'No user has the handle @nobody_by_this_name' });
    expect(await countItems(KeyPrefix.groupSummary, alice!.uuid)).toBe(0);
  });

  it('answers 422 message_to_self and writes nothing', async () => {
    // Prepare
    const [alice] = await registerUsers(1);

    // Act
    const response = await sendTo(alice!, alice!, 'talking to myself');

    // Assess
    expect(response.status).toBe(422);
    expect(response.body).toEqual(['message_to_self']);
    expect(await countItems(KeyPrefix.pair, alice!.uuid)).toBe(0);
  });
});

describe('POST /api/messages with a message_group_uuid (pattern C)', () => {
  it('appends a message to a group the caller is in', async () => {
    // Prepare
    const [alice, bob] = await registerUsers(2);
    const group = (await sendTo(alice!, bob!, 'first')).body.message_group_uuid;

    // Act
    const created = await sendInGroup(bob!, group, 'second');
    const messages = await listMessages(alice!, group);

    // Assess
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ message_group_uuid: group, display_name: bob!.display_name, handle: bob!.handle, message: 'second' });
    expect(messages.body.map((message) => message.message)).toEqual(['first', 'second']);
    expect(messages.body[1]).toEqual({
      uuid: created.body.uuid,
      display_name: bob!.display_name,
      handle: bob!.handle,
      message: 'second',
      created_at: created.body.created_at,
    });
  });

  it('counts an emoji as one character: 1024 of them are accepted and stored intact', async () => {
    // Prepare
    const [alice, bob] = await registerUsers(2);
    const group = (await sendTo(alice!, bob!, 'first')).body.message_group_uuid;
    const emoji = '\u{1F600}'.repeat(1024);

    // Act
    const accepted = await sendInGroup(alice!, group, emoji);
    const refused = await sendInGroup(alice!, group, `${emoji}x`);
    const messages = await listMessages(alice!, group);

    // Assess
    expect(accepted.status).toBe(200);
    expect(refused.status).toBe(422);
    expect(refused.body).toEqual(['message_exceed_max_chars']);
    expect(messages.body.map((message) => message.message)).toEqual(['first', emoji]);
  });
});

describe('membership', () => {
  it('answers 404 to a non-member reading or writing a group, exactly as for a group that does not exist', async () => {
    // Prepare
    const [alice, bob, eve] = await registerUsers(3);
    const group = (await sendTo(alice!, bob!, 'private')).body.message_group_uuid;
    const missing = randomUUID();

    // Act
    const read = await listMessages(eve!, group);
    const write = await sendInGroup(eve!, group, 'let me in');
    const readMissing = await listMessages(eve!, missing);
    const writeMissing = await sendInGroup(eve!, missing, 'hello?');
    const afterwards = await listMessages(alice!, group);

    // Assess
    expect([read.status, write.status, readMissing.status, writeMissing.status]).toEqual([404, 404, 404, 404]);
    expect(read.body).toEqual({ error: 'not_found', message: 'Message group not found' });
    expect([write.rawBody, readMissing.rawBody, writeMissing.rawBody]).toEqual([read.rawBody, read.rawBody, read.rawBody]);
    expect(afterwards.body.map((message) => message.message)).toEqual(['private']);
  });
});

describe('identity', () => {
  const requests = (sub: string | null, headers?: Record<string, string>) => [
    call('list-message-groups', { sub, headers }),
    call('list-messages', { sub, headers, pathParameters: { message_group_uuid: randomUUID() } }),
    call('create-message', { sub, headers, body: { message: 'hi', handle: 'someone' } }),
  ];

  it('answers 401 to every function but the public profile when there are no claims, whatever X-Cognito-Username says', async () => {
    // Prepare
    const [alice] = await registerUsers(1);

    // Act
    const responses = await Promise.all(requests(null, { 'X-Cognito-Username': alice!.sub }));

    // Assess
    expect(responses.map((response) => response.status)).toEqual([401, 401, 401]);
    expect(responses[0]!.body).toEqual({ error: 'unauthorized', message: 'Sign in first: the request carries no valid access token' });
  });

  it('answers 403 with a clear message to a valid token whose sub has no user', async () => {
    // Act
    const responses = await Promise.all(requests(randomUUID()));

    // Assess
    expect(responses.map((response) => response.status)).toEqual([403, 403, 403]);
    expect(responses[0]!.body).toEqual({ error: 'forbidden', message: 'Your account is not registered with Cruddur yet; no user has this Cognito identity' });
  });

  it('ignores a spoofed X-Cognito-Username header: the verified sub decides', async () => {
    // Prepare
    const [alice, bob, carol] = await registerUsers(3);
    await sendTo(alice!, bob!, 'for alice and bob');
    const carolsGroup = (await sendTo(carol!, bob!, 'for carol and bob')).body.message_group_uuid;

    // Act
    const groups = await call<MessageJson[]>('list-message-groups', {
      sub: alice!.sub,
      headers: { 'X-Cognito-Username': carol!.sub, 'x-cognito-username': carol!.sub },
    });
    const read = await call('list-messages', {
      sub: alice!.sub,
      pathParameters: { message_group_uuid: carolsGroup },
      headers: { 'X-Cognito-Username': carol!.sub },
    });
    const unregistered = await call('list-message-groups', { sub: randomUUID(), headers: { 'X-Cognito-Username': carol!.sub } });

    // Assess
    expect(groups.body.map((group) => group.message)).toEqual(['for alice and bob']);
    expect(read.status).toBe(404);
    expect(unregistered.status).toBe(403);
  });
});

describe('pagination', () => {
  it('pages a conversation back in time, each page oldest first, with no overlap or gap', async () => {
    // Prepare
    const [alice, bob] = await registerUsers(2);
    const group = (await sendTo(alice!, bob!, 'm0')).body.message_group_uuid;
    for (let index = 1; index < 11; index += 1) await sendInGroup(index % 2 ? bob! : alice!, group, `m${index}`);

    // Act
    const pages = await allPages((query) => listMessages(alice!, group, query), 3);
    const whole = await listMessages(alice!, group, { limit: '100' });

    // Assess
    const texts = pages.map((page) => page.map((message) => message.message));
    expect(texts).toEqual([
      ['m8', 'm9', 'm10'],
      ['m5', 'm6', 'm7'],
      ['m2', 'm3', 'm4'],
      ['m0', 'm1'],
    ]);
    expect([...pages].reverse().flat()).toEqual(whole.body);
    expect(whole.headers).not.toHaveProperty('X-Next-Cursor');
  });

  it('pages the conversation list newest first with no overlap or gap', async () => {
    // Prepare
    const [alice, ...others] = await registerUsers(8);
    const created: string[] = [];
    for (const other of others) created.push((await sendTo(other, alice!, `from ${other.handle}`)).body.message_group_uuid);

    // Act
    const pages = await allPages((query) => listGroups(alice!, query), 3);
    const defaultPage = await listGroups(alice!);

    // Assess
    expect(pages.map((page) => page.length)).toEqual([3, 3, 1]);
    const listed = pages.flat();
    expect(listed.map((group) => group.uuid).sort()).toEqual([...created].sort());
    const times = listed.map((group) => group.created_at);
    expect(times).toEqual([...times].sort().reverse());
    expect(listed).toEqual(defaultPage.body);
    expect(defaultPage.headers).not.toHaveProperty('X-Next-Cursor');
  });

  it('answers 422 for a bad limit or a cursor not issued for this list', async () => {
    // Prepare
    const [alice, bob, carol] = await registerUsers(3);
    const first = (await sendTo(alice!, bob!, 'x')).body.message_group_uuid;
    await sendInGroup(alice!, first, 'y');
    const second = (await sendTo(alice!, carol!, 'z')).body.message_group_uuid;
    await sendInGroup(alice!, second, 'w');
    const firstCursor = (await listMessages(alice!, first, { limit: '1' })).headers['X-Next-Cursor'] as string;
    const groupsCursor = (await listGroups(alice!, { limit: '1' })).headers['X-Next-Cursor'] as string;

    // Act
    const responses = await Promise.all([
      listMessages(alice!, first, { limit: '0' }),
      listGroups(alice!, { limit: '101' }),
      listGroups(alice!, { limit: 'many' }),
      listMessages(alice!, second, { cursor: firstCursor }),
      listMessages(alice!, first, { cursor: groupsCursor }),
      listGroups(bob!, { cursor: groupsCursor }),
      listGroups(alice!, { cursor: 'not-a-cursor' }),
      listGroups(alice!, { cursor: '' }),
    ]);

    // Assess
    expect(typeof firstCursor).toBe('string');
    expect(typeof groupsCursor).toBe('string');
    expect(responses.map((response) => [response.status, response.body])).toEqual([
      [422, ['limit_invalid']],
      [422, ['limit_invalid']],
      [422, ['limit_invalid']],
      [422, ['cursor_invalid']],
      [422, ['cursor_invalid']],
      [422, ['cursor_invalid']],
      [422, ['cursor_invalid']],
      [422, ['cursor_invalid']],
    ]);
  });
});

describe('request validation', () => {
  it.each([
    ['a blank message', { message: '   ', handle: 'someone' }, ['message_blank']],
    ['no message', { handle: 'someone' }, ['message_blank']],
    ['1025 characters', { message: 'x'.repeat(1025), handle: 'someone' }, ['message_exceed_max_chars']],
    ['no recipient', { message: 'hi' }, ['user_reciever_handle_blank']],
    ['a malformed handle', { message: 'hi', handle: 'not a handle' }, ['user_reciever_handle_invalid']],
    ['a malformed group uuid', { message: 'hi', message_group_uuid: 'abc' }, ['message_group_uuid_invalid']],
    ['an empty group uuid', { message: 'hi', message_group_uuid: '' }, ['message_group_uuid_blank']],
    ['everything wrong', { message: '' }, ['message_blank', 'user_reciever_handle_blank']],
  ])('answers 422 with the codes for %s', async (_, body, codes) => {
    // Prepare
    const [alice] = await registerUsers(1);

    // Act
    const response = await call('create-message', { sub: alice!.sub, body });

    // Assess
    expect(response.status).toBe(422);
    expect(response.body).toEqual(codes);
  });

  it('answers 422 for a malformed group uuid in the path', async () => {
    // Prepare
    const [alice] = await registerUsers(1);

    // Act
    const response = await listMessages(alice!, 'not-a-uuid');

    // Assess
    expect(response.status).toBe(422);
    expect(response.body).toEqual(['message_group_uuid_invalid']);
  });

  it.each([
    ['malformed JSON', '{"message": "hi", '],
    ['a JSON array', '[{"message": "hi"}]'],
    ['JSON null', 'null'],
    ['no body', undefined],
  ])('answers 400 for %s', async (_, body) => {
    // Prepare
    const [alice] = await registerUsers(1);

    // Act
    const response = await call<{ error: string; message: string }>('create-message', { sub: alice!.sub, body });

    // Assess
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('bad_request');
    expect(response.body.message).toMatch(/JSON/);
  });

  it('answers 413 for a body over 16 KiB', async () => {
    // Prepare
    const [alice, bob] = await registerUsers(2);

    // Act
    const response = await call('create-message', { sub: alice!.sub, body: { message: 'x'.repeat(17 * 1024), handle: bob!.handle } });

    // Assess
    expect(response.status).toBe(413);
    expect(response.body).toEqual({ error: 'payload_too_large', message: 'The request body is larger than 16384 bytes' });
    expect(await countItems(KeyPrefix.pair, alice!.uuid)).toBe(0);
  });

  it('decodes a base64-encoded body', async () => {
    // Prepare
    const [alice, bob] = await registerUsers(2);
    const body = Buffer.from(JSON.stringify({ message: 'über \u{1F600}', handle: bob!.handle }), 'utf8').toString('base64');

    // Act
    const response = await call<CreatedJson>('create-message', { sub: alice!.sub, body, isBase64Encoded: true });

    // Assess
    expect(response.status).toBe(200);
    expect(response.body.message).toBe('über \u{1F600}');
  });
});

describe('faults', () => {
  it("answers 500 without the SDK's message when the table is missing", async () => {
    // Prepare
    const [alice] = await registerUsers(1);
    const broken = createMessaging({
      messages: createMessagesRepository(table.client, { tableName: 'no-such-table' }),
      users: createCachedUserDirectory(createUsersRepository(pool)),
    });
    const handler = createListMessageGroupsHandler({ messaging: () => broken });
    const event = apiEvent('list-message-groups', { sub: alice!.sub, requestId: 'fault-test-request' });
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);

    // Act
    const response = await handler(event, lambdaContext('list-message-groups'));

    // Assess
    const logged = stderr.mock.calls.map(([chunk]) => String(chunk)).join('');
    stderr.mockRestore();
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body!)).toEqual({ error: 'internal_error', message: 'Something went wrong on our side', request_id: 'fault-test-request' });
    expect(response.body).not.toMatch(/ResourceNotFound|resource|no-such-table/i);
    expect(logged).toContain('"request_id":"fault-test-request"');
    expect(logged).toContain('ResourceNotFoundException');
  });
});

describe('POST /api/message_groups/{message_group_uuid}/read and GET /api/message_groups/unread', () => {
  const markRead = (caller: RegisteredUser, groupUuid: string, body?: unknown) =>
    call<Record<string, unknown>>('mark-read', { sub: caller.sub, pathParameters: { message_group_uuid: groupUuid }, body });
  const unread = (caller: RegisteredUser) => call<{ conversations: number; messages: number }>('count-unread', { sub: caller.sub });

  it("marks a conversation read (no body: up to the newest), clearing the reader's count and badge only", async () => {
    // Prepare
    const [alice, bob] = await registerUsers(2, 'read');
    const created = await sendTo(alice!, bob!, 'Read me');
    const group = created.body.message_group_uuid;
    const badgeBefore = await unread(bob!);

    // Act
    const marked = await markRead(bob!, group);
    const again = await markRead(bob!, group, {});

    // Assess
    expect(badgeBefore.body).toEqual({ conversations: 1, messages: 1 });
    expect(marked.status).toBe(200);
    expect(marked.body).toEqual({ message_group_uuid: group, read_up_to: created.body.uuid, read_at: expect.any(String), unread_count: 0 });
    expect(again.body).toEqual(marked.body);
    expect((await listGroups(bob!)).body).toEqual([expect.objectContaining({ uuid: group, unread_count: 0, last_read_at: marked.body.read_at })]);
    expect((await unread(bob!)).body).toEqual({ conversations: 0, messages: 0 });
    expect((await unread(alice!)).body).toEqual({ conversations: 0, messages: 0 });
  });

  it("answers a non-member pattern A's 404, and 422 for a malformed uuid or an unknown field; 404 for another conversation's message", async () => {
    // Prepare
    const [alice, bob, eve] = await registerUsers(3, 'readx');
    const group = (await sendTo(alice!, bob!, 'private')).body.message_group_uuid;
    const other = await sendTo(alice!, eve!, 'to eve');

    // Act
    const outsider = await markRead(eve!, group);
    const outsiderList = await listMessages(eve!, group);
    const malformed = await markRead(bob!, group, { message_uuid: 'not-a-uuid' });
    const unknownField = await markRead(bob!, group, { message_uuid: other.body.uuid, user_uuid: bob!.uuid });
    const foreignMessage = await markRead(bob!, group, { message_uuid: other.body.uuid });

    // Assess
    expect([outsider.status, outsider.body]).toEqual([404, outsiderList.body]);
    expect([malformed.status, malformed.body]).toEqual([422, ['message_uuid_invalid']]);
    expect([unknownField.status, unknownField.body]).toEqual([422, ['body_field_unknown']]);
    expect(foreignMessage.status).toBe(404);
    expect((await unread(bob!)).body).toEqual({ conversations: 1, messages: 1 });
  });
});

/**
 * Hostile input through the whole local stack: real HTTP requests to the local gateway, real
 * access tokens of the local Cognito, the real handlers over DynamoDB Local and PostgreSQL.
 * A refused case must get its 4xx with a clear JSON body (never a stack trace, SDK text or a
 * 5xx) and write nothing: the table's item count is the same after it. Edge cases that are
 * legitimate (1024 characters, emoji, bidi text) must be stored exactly as sent, once.
 *
 * One gateway and one conversation serve every case; each case is a row of a table.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { CreateUserPoolClientCommand, type CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Pool } from 'pg';
import { encodeCursor } from '../../functions/data/cursor';
import { createMessagesRepository } from '../../functions/data/messages-repository';
import { createMessaging, type Messaging } from '../../functions/domain/conversations';
import { keys } from '../../functions/data/model';
import { createCachedUserDirectory } from '../../functions/domain/user-directory';
import { createUsersRepository } from '../../functions/data/users-repository';
import { createCognitoClient, ensureLocalPool, ensurePoolUser, signIn, type LocalPool } from '../../scripts/lib/cognito';
import type { RunningGateway } from '../../local/gateway/server';
import { startMessagingGateway } from '../support/gateway';
import { createTestPool, createTestTable, endpoints, insertUsers, unique, type TestTable } from '../support/services';
import { cognitoLocalPrivateKey, cognitoLocalPublicKey, headerOf, hmacSignedJwt, payloadOf, signJwt, unsignedJwt } from '../support/tokens';
import { seededRandom } from '../../bench/lib/random';
import { contractProblems } from '../support/openapi';

jest.setTimeout(300_000);

const PASSWORD = 'Hostile-input-1!';
const KIB = 1024;

interface Account {
  uuid: string;
  handle: string;
  display_name: string;
  accessToken: string;
  idToken: string;
}

interface RawRequest {
  method?: string;
  /** Sent byte for byte: no URL normalization, so `..` and odd escapes reach the gateway as written. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body with `Transfer-Encoding: chunked`, without a Content-Length to refuse it by. */
  chunked?: boolean;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** A refused request: the status and the exact JSON body the client must see. */
type RefusedCase = [name: string, request: () => RawRequest, status: number, body: unknown];

const json = (value: unknown) => JSON.stringify(value);

let table: TestTable;
let database: Pool;
let cognito: CognitoIdentityProviderClient;
let pool: LocalPool;
let gateway: RunningGateway;
const gatewayLog: string[] = [];
let alice: Account;
let bob: Account;
let mallory: Account;
/** alice and bob's conversation, the target of most cases. */
let group: string;
/** bob and mallory's: alice is not in it. */
let foreignGroup: string;
let otherClientToken: string;

function send(request: RawRequest): Promise<Answer> {
  const { hostname, port } = new URL(gateway.url);
  const body = typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : request.body;
  const headers: Record<string, string> = { ...request.headers };
  if (body !== undefined && !request.chunked) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const outgoing = http.request({ host: hostname, port, method: request.method ?? 'GET', path: request.path, headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const answer = { status: response.statusCode!, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') };
        // Whatever is thrown at it, a documented operation answers as docs/openapi.yaml says.
        const problems = contractProblems({
          method: request.method ?? 'GET',
          path: request.path,
          status: answer.status,
          headers: answer.headers as Record<string, string>,
          text: answer.text,
        });
        if (problems !== undefined && problems.length > 0) reject(new Error(`The answer breaks docs/openapi.yaml:\n${problems.join('\n')}`));
        else resolve(answer);
      });
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    if (body !== undefined && request.chunked) {
      for (let offset = 0; offset < body.length; offset += 4 * KIB) outgoing.write(body.subarray(offset, offset + 4 * KIB));
      outgoing.end();
    } else {
      outgoing.end(body);
    }
  });
}

/** Writes `request` to a socket as is, for requests no HTTP client would send; resolves with the answer. */
function sendRaw(request: string): Promise<Answer> {
  const { hostname, port } = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.end(request));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', body = ''] = text.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const headers = Object.fromEntries(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, text: body });
    });
  });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** `POST /api/messages` as `caller` with a raw body. */
const post = (caller: Account | undefined, body: string | Buffer, headers: Record<string, string> = {}): RawRequest => ({
  method: 'POST',
  path: '/api/messages',
  headers: { ...(caller ? bearer(caller.accessToken) : {}), 'content-type': 'application/json', ...headers },
  body,
});
/** `POST /api/messages` as alice to her conversation with bob, with `fields` replacing the message's. */
const postToGroup = (fields: Record<string, unknown>) => post(alice, json({ message: 'hello', message_group_uuid: group, ...fields }));
const get = (caller: Account | undefined, path: string, headers: Record<string, string> = {}): RawRequest => ({
  path,
  headers: { ...(caller ? bearer(caller.accessToken) : {}), ...headers },
});

async function itemCount(): Promise<number> {
  let count = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await table.client.send(new ScanCommand({ TableName: table.tableName, Select: 'COUNT', ConsistentRead: true, ExclusiveStartKey: startKey }));
    count += page.Count ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return count;
}

function parsed(answer: Answer): unknown {
  try {
    return JSON.parse(answer.text);
  } catch {
    return `<not JSON> ${answer.text}`;
  }
}

/** Sends `request`; asserts the exact status and JSON body, and that the table did not change. */
async function expectRefused(request: RawRequest, status: number, body: unknown): Promise<void> {
  // Prepare
  const before = await itemCount();

  // Act
  const answer = await send(request);

  // Assess
  expect({ status: answer.status, body: parsed(answer) }).toEqual({ status, body });
  expect(answer.headers['content-type']).toMatch(/^application\/json/);
  expect(await itemCount()).toBe(before);
}

async function registerAccount(): Promise<Account> {
  const [row] = await insertUsers(database, 1, 'hostile');
  await ensurePoolUser(cognito, pool.userPoolId, row!, PASSWORD);
  const tokens = await signIn(cognito, pool.clientId, row!.handle, PASSWORD);
  // What db:update-cognito-user-ids does: the users row learns the pool user's sub.
  await database.query('UPDATE public.users SET cognito_user_id = $1 WHERE uuid = $2', [payloadOf(tokens.accessToken).sub, row!.uuid]);
  return { uuid: row!.uuid, handle: row!.handle, display_name: row!.display_name, ...tokens };
}

/** Straight through the domain, not the gateway: set-up must not depend on what is under test. */
async function startConversation(messaging: Messaging, from: Account, to: Account): Promise<string> {
  const { answer: created } = await messaging.createMessage(payloadOf(from.accessToken).sub as string, { message: 'first', handle: to.handle });
  return created.message_group_uuid;
}

beforeAll(async () => {
  table = await createTestTable();
  database = await createTestPool();
  cognito = createCognitoClient(endpoints().cognito);
  pool = await ensureLocalPool(cognito, unique('hostile-pool-'));

  const messaging = createMessaging({
    messages: createMessagesRepository(table.client, { tableName: table.tableName }),
    users: createCachedUserDirectory(createUsersRepository(database)),
  });
  gateway = await startMessagingGateway({ messaging, pool, log: (line) => gatewayLog.push(line) });

  [alice, bob, mallory] = [await registerAccount(), await registerAccount(), await registerAccount()];
  group = await startConversation(messaging, alice, bob);
  foreignGroup = await startConversation(messaging, mallory, bob);
  const otherClient = await cognito.send(
    new CreateUserPoolClientCommand({ UserPoolId: pool.userPoolId, ClientName: 'another-app', ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH'] }),
  );
  otherClientToken = (await signIn(cognito, otherClient.UserPoolClient!.ClientId!, alice.handle, PASSWORD)).accessToken;
});

afterAll(async () => {
  await gateway?.stop();
  await table?.drop();
  await database?.end();
  cognito?.destroy();
});

const badRequest = (message: string) => ({ error: 'bad_request', message });
const NOT_JSON = badRequest('The request body is not valid JSON (UTF-8)');
const NOT_AN_OBJECT = badRequest('The request body must be a JSON object');
const TOO_LARGE = { error: 'payload_too_large', message: `The request body is larger than ${16 * KIB} bytes` };
const GROUP_NOT_FOUND = { error: 'not_found', message: 'Message group not found' };
const UNAUTHORIZED = { message: 'Unauthorized' };
const GATEWAY_NOT_FOUND = { message: 'Not Found' };

/** A JSON object body of exactly `bytes` bytes whose message is made of `unit`. */
function bodyOfSize(bytes: number, unit = 'x'): string {
  const frame = json({ message: '', message_group_uuid: group });
  const unitBytes = Buffer.byteLength(unit);
  const room = bytes - Buffer.byteLength(frame);
  const text = unit.repeat(Math.floor(room / unitBytes)) + 'x'.repeat(room % unitBytes);
  const body = json({ message: text, message_group_uuid: group });
  if (Buffer.byteLength(body) !== bytes) throw new Error(`bodyOfSize: ${Buffer.byteLength(body)} bytes, not ${bytes}`);
  return body;
}

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('malformed and oversized bodies', () => {
  const cases: RefusedCase[] = [
    ['an empty body', () => post(alice, ''), 400, badRequest('The request needs a JSON object body')],
    ['truncated JSON', () => post(alice, '{"message": "hi", "handle": '), 400, NOT_JSON],
    ['single-quoted JSON', () => post(alice, "{'message': 'hi', 'handle': 'x'}"), 400, NOT_JSON],
    ['a trailing comma', () => post(alice, `{"message":"hi","message_group_uuid":"${group}",}`), 400, NOT_JSON],
    ['garbage after the object', () => post(alice, `${json({ message: 'hi', message_group_uuid: group })} and more`), 400, NOT_JSON],
    ['NaN', () => post(alice, 'NaN'), 400, NOT_JSON],
    [
      'bytes that are not UTF-8',
      () => post(alice, Buffer.concat([Buffer.from('{"message":"'), Buffer.from([0xff, 0xfe]), Buffer.from(`","message_group_uuid":"${group}"}`)])),
      400,
      NOT_JSON,
    ],
    [
      'a surrogate encoded in UTF-8 (CESU-8)',
      () => post(alice, Buffer.concat([Buffer.from('{"message":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(`","message_group_uuid":"${group}"}`)])),
      400,
      NOT_JSON,
    ],
    [
      'an overlong UTF-8 encoding of "/"',
      () => post(alice, Buffer.concat([Buffer.from('{"message":"'), Buffer.from([0xc0, 0xaf]), Buffer.from(`","message_group_uuid":"${group}"}`)])),
      400,
      NOT_JSON,
    ],
    ['a body of 16 KiB + 1 byte', () => post(alice, bodyOfSize(16 * KIB + 1)), 413, TOO_LARGE],
    ['16 KiB + 1 byte of 4-byte emoji (bytes are counted, not characters)', () => post(alice, bodyOfSize(16 * KIB + 1, '🎉')), 413, TOO_LARGE],
    ['16 KiB + 1 byte sent chunked, without Content-Length', () => ({ ...post(alice, bodyOfSize(16 * KIB + 1)), chunked: true }), 413, TOO_LARGE],
    [
      '16 KiB + 1 byte as application/octet-stream (base64 in the event)',
      () => post(alice, bodyOfSize(16 * KIB + 1), { 'content-type': 'application/octet-stream' }),
      413,
      TOO_LARGE,
    ],
    ["a body over the gateway's 1 MiB", () => post(alice, 'x'.repeat(1024 * KIB + 1)), 413, { message: 'Request Entity Too Large' }],
    ['a body of exactly 16 KiB whose message is too long', () => post(alice, bodyOfSize(16 * KIB)), 422, ['message_exceed_max_chars']],
    ['a message nested 5000 arrays deep', () => post(alice, `{"message":${nested(5000)},"message_group_uuid":"${group}"}`), 422, ['message_invalid']],
    [
      'a handle nested 5000 objects deep',
      () => post(alice, `{"message":"hi","handle":${'{"a":'.repeat(2500)}1${'}'.repeat(2500)}}`),
      422,
      ['user_reciever_handle_invalid'],
    ],
    ['nesting deeper than fits in 16 KiB', () => post(alice, `{"message":${nested(9000)}}`), 413, TOO_LARGE],
  ];

  it.each(cases)('refuses %s and writes nothing', async (_name, request, status, body) => {
    await expectRefused(request(), status, body);
  });

  it('accepts a body of exactly 16 KiB (the limit is inclusive)', async () => {
    // Prepare: 1024 emoji are 4 KiB; the rest of the 16 KiB is trailing spaces, which are trimmed.
    const text = '🎉'.repeat(1024);
    const frame = json({ message: text, message_group_uuid: group });
    const body = json({ message: text + ' '.repeat(16 * KIB - Buffer.byteLength(frame)), message_group_uuid: group });
    expect(Buffer.byteLength(body)).toBe(16 * KIB);

    // Act
    const answer = await send(post(alice, body));

    // Assess
    expect(answer.status).toBe(200);
    expect((JSON.parse(answer.text) as { message: string }).message).toBe(text);
  });
});

describe('wrong types and unexpected fields', () => {
  const cases: RefusedCase[] = [
    ['a message that is a number', () => postToGroup({ message: 42 }), 422, ['message_invalid']],
    ['a message that is an array', () => postToGroup({ message: ['hello'] }), 422, ['message_invalid']],
    ['a message that is an object', () => postToGroup({ message: { text: 'hello' } }), 422, ['message_invalid']],
    ['a message that is a boolean', () => postToGroup({ message: true }), 422, ['message_invalid']],
    ['a handle that is a number', () => post(alice, json({ message: 'hi', handle: 42 })), 422, ['user_reciever_handle_invalid']],
    ['a handle that is an array of the real handle', () => post(alice, json({ message: 'hi', handle: [bob.handle] })), 422, ['user_reciever_handle_invalid']],
    ['a group uuid that is a number', () => postToGroup({ message_group_uuid: 42 }), 422, ['message_group_uuid_invalid']],
    ['a group uuid that is an array of the real uuid', () => postToGroup({ message_group_uuid: [group] }), 422, ['message_group_uuid_invalid']],
    ['a group uuid that is an object', () => postToGroup({ message_group_uuid: { S: group } }), 422, ['message_group_uuid_invalid']],
    ['a body that is an array', () => post(alice, json([{ message: 'hi', message_group_uuid: group }])), 400, NOT_AN_OBJECT],
    ['a body that is a string', () => post(alice, json('hello')), 400, NOT_AN_OBJECT],
    ['a body that is null', () => post(alice, 'null'), 400, NOT_AN_OBJECT],
    ['a body that is a number', () => post(alice, '42'), 400, NOT_AN_OBJECT],
    ['a sender spoofed in extra fields', () => postToGroup({ user_uuid: bob.uuid, user_handle: bob.handle, display_name: 'Bob' }), 422, ['body_field_unknown']],
    [
      'a timestamp and message uuid chosen by the client',
      () => postToGroup({ created_at: '2000-01-01T00:00:00.000Z', uuid: randomUUID() }),
      422,
      ['body_field_unknown'],
    ],
    [
      'an unknown field nested 5000 arrays deep',
      () => post(alice, `{"message":"hi","message_group_uuid":"${group}","x":${nested(5000)}}`),
      422,
      ['body_field_unknown'],
    ],
    ['a __proto__ field', () => post(alice, `{"message":"hi","message_group_uuid":"${group}","__proto__":{"polluted":true}}`), 422, ['body_field_unknown']],
  ];

  it.each(cases)('refuses %s and writes nothing', async (_name, request, status, body) => {
    await expectRefused(request(), status, body);
  });

  it('leaves Object.prototype alone after a __proto__ body (the handlers run in this process)', () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('unicode edge cases', () => {
  const cases: RefusedCase[] = [
    ['a NUL character', () => postToGroup({ message: 'hi\u0000there' }), 422, ['message_invalid']],
    ['other control characters (ESC, BEL, a C1 control)', () => postToGroup({ message: 'ring \u0007 \u001b[2J \u009b' }), 422, ['message_invalid']],
    ['a lone high surrogate', () => post(alice, `{"message":"hi \\ud800 there","message_group_uuid":"${group}"}`), 422, ['message_invalid']],
    ['a lone low surrogate', () => post(alice, `{"message":"\\udc00","message_group_uuid":"${group}"}`), 422, ['message_invalid']],
    ['surrogates in the wrong order', () => post(alice, `{"message":"\\udc00\\ud800","message_group_uuid":"${group}"}`), 422, ['message_invalid']],
    ['1025 ASCII characters', () => postToGroup({ message: 'a'.repeat(1025) }), 422, ['message_exceed_max_chars']],
    ['1025 emoji of 4 bytes each', () => postToGroup({ message: '🎉'.repeat(1025) }), 422, ['message_exceed_max_chars']],
    ['1024 emoji and one letter', () => postToGroup({ message: `${'😀'.repeat(1024)}a` }), 422, ['message_exceed_max_chars']],
    ['whitespace only', () => postToGroup({ message: ' \t\r\n\u00a0\u2003\u3000 ' }), 422, ['message_blank']],
    [
      'invisible characters only (zero-width space, joiner, word joiner, Hangul filler)',
      () => postToGroup({ message: '\u200b\u200d\u2060\u3164\ufeff' }),
      422,
      ['message_blank'],
    ],
    ['a right-to-left mark only', () => postToGroup({ message: '\u200f' }), 422, ['message_blank']],
    [
      'a handle with a right-to-left override',
      () => post(alice, json({ message: 'hi', handle: `\u202e${bob.handle}` })),
      422,
      ['user_reciever_handle_invalid'],
    ],
    [
      'a handle with a Cyrillic look-alike letter',
      () => post(alice, json({ message: 'hi', handle: `${bob.handle.replace(/o/g, '\u043e')}\u043e` })),
      422,
      ['user_reciever_handle_invalid'],
    ],
    ['a handle with a NUL', () => post(alice, json({ message: 'hi', handle: `${bob.handle}\u0000` })), 422, ['user_reciever_handle_invalid']],
  ];

  it.each(cases)('refuses %s and writes nothing', async (_name, request, status, body) => {
    await expectRefused(request(), status, body);
  });

  it.each([
    ['exactly 1024 ASCII characters', 'a'.repeat(1024), 'a'.repeat(1024)],
    ['exactly 1024 emoji (4 bytes, 2 UTF-16 units each; each counts once)', '🎉'.repeat(1024), '🎉'.repeat(1024)],
    ['1024 characters between whitespace (counted after trimming)', `  ${'b'.repeat(1024)}\n`, 'b'.repeat(1024)],
    ['right-to-left marks and overrides inside text', 'price \u202e01$\u202c and \u200fשלום\u200f', 'price \u202e01$\u202c and \u200fשלום\u200f'],
    ['lines with tabs inside (the only control characters a message keeps)', 'line one\n\tline two\r\nline three', 'line one\n\tline two\r\nline three'],
    ['a zero-width joiner emoji sequence', '👩\u200d💻 on call', '👩\u200d💻 on call'],
    [
      'text that looks like injection',
      "'; DROP TABLE users; -- <script>alert(1)</script> {{7*7}} ${7*7}",
      "'; DROP TABLE users; -- <script>alert(1)</script> {{7*7}} ${7*7}",
    ],
  ])('accepts %s and stores it exactly, once', async (_name, message, stored) => {
    // Prepare
    const before = await itemCount();

    // Act
    const created = await send(postToGroup({ message }));
    const latest = await send(get(bob, `/api/messages/${group}?limit=1`));

    // Assess
    expect(created.status).toBe(200);
    const createdBody = JSON.parse(created.text) as { uuid: string; message: string; handle: string };
    expect(createdBody).toMatchObject({ message: stored, handle: alice.handle });
    expect(JSON.parse(latest.text)).toEqual([expect.objectContaining({ uuid: createdBody.uuid, message: stored })]);
    expect(await itemCount()).toBe(before + 1);
  });
});

describe('injection-looking handles', () => {
  const longHandle = 'a'.repeat(10 * KIB);
  const cases: RefusedCase[] = [
    ...["' OR 1=1 --", '../', '../../etc/passwd', '%00', 'bob%00', '$1', 'a b', '*', longHandle, 'a'.repeat(33)].map(
      (handle): RefusedCase => [
        `the recipient handle ${json(handle.slice(0, 40))}`,
        () => post(alice, json({ message: 'hi', handle })),
        422,
        ['user_reciever_handle_invalid'],
      ],
    ),
    [
      'a recipient handle of ".." (well-formed, but nobody has it)',
      () => post(alice, json({ message: 'hi', handle: '..' })),
      404,
      { error: 'not_found', message: 'No user has the handle @..' },
    ],
    ['a message to oneself', () => post(alice, json({ message: 'hi', handle: alice.handle })), 422, ['message_to_self']],
    ...[
      "@'%20OR%201%3D1%20--",
      "@'%20OR%20'1'%3D'1",
      '@..%2F..%2Fetc%2Fpasswd',
      '%40%2E%2E%2F',
      '@%00',
      '%40%2500',
      '@bob%0A',
      '@%',
      '@%E0%A4%A',
      `@${longHandle}`,
    ].map((segment): RefusedCase => [`GET /api/users/${segment.slice(0, 40)}/short`, () => get(alice, `/api/users/${segment}/short`), 422, ['handle_invalid']]),
    [
      'GET /api/users/../short (an unnormalized dot segment)',
      () => get(alice, '/api/users/../short'),
      404,
      { error: 'not_found', message: 'No user has the handle @..' },
    ],
  ];

  it.each(cases)('refuses %s and writes nothing', async (_name, request, status, body) => {
    await expectRefused(request(), status, body);
  });
});

describe('path tricks in group uuids', () => {
  const upper = () => group.toUpperCase();
  const cases: RefusedCase[] = [
    ...[
      () => '..%2Fmessage_groups',
      () => '..%2F..%2Fusers%2F%40bob%2Fshort',
      () => '%2E%2E',
      () => `${group}%2F..`,
      () => `${group}%2Fextra`,
      () => `..%2F${group}`,
      () => `${group}x`,
      () => `${group}%00`,
      () => `${group}%0A`,
      () => `${group}%20`,
      () => `%20${group}`,
      () => `{${group}}`,
      () => group.replace(/-/g, ''),
      () => `${group.slice(0, -1)}g`,
      () => '%',
      () => `MSG%23${group}`,
    ].map(
      (segment, index): RefusedCase => [
        `GET /api/messages/<trick ${index + 1}>`,
        () => get(alice, `/api/messages/${segment()}`),
        422,
        ['message_group_uuid_invalid'],
      ],
    ),
    ['GET /api/messages/<group>/extra (another segment)', () => get(alice, `/api/messages/${group}/extra`), 404, GATEWAY_NOT_FOUND],
    ['GET /api/messages/../message_groups (unnormalized)', () => get(alice, '/api/messages/../message_groups'), 404, GATEWAY_NOT_FOUND],
    ['GET /api/messages/ (an empty uuid)', () => get(alice, '/api/messages/'), 404, GATEWAY_NOT_FOUND],
    ['DELETE /api/messages/<group> (no such route)', () => ({ ...get(alice, `/api/messages/${group}`), method: 'DELETE' }), 404, GATEWAY_NOT_FOUND],
    ['PUT /api/messages (no such route)', () => ({ ...postToGroup({}), method: 'PUT' }), 404, GATEWAY_NOT_FOUND],
    ['the nil uuid', () => get(alice, '/api/messages/00000000-0000-0000-0000-000000000000'), 404, GROUP_NOT_FOUND],
    ['a version-1 uuid', () => get(alice, '/api/messages/6ba7b810-9dad-11d1-80b4-00c04fd430c8'), 404, GROUP_NOT_FOUND],
    ['the upper-cased uuid of a group the caller is not in', () => get(alice, `/api/messages/${foreignGroup.toUpperCase()}`), 404, GROUP_NOT_FOUND],
    ['a group the caller is not in', () => get(alice, `/api/messages/${foreignGroup}`), 404, GROUP_NOT_FOUND],
    ['limit=1e2', () => get(alice, `/api/messages/${group}?limit=1e2`), 422, ['limit_invalid']],
    ['limit=-1', () => get(alice, `/api/messages/${group}?limit=-1`), 422, ['limit_invalid']],
    ['limit=1&limit=2', () => get(alice, `/api/message_groups?limit=1&limit=2`), 422, ['limit_invalid']],
    ['a garbage cursor', () => get(alice, `/api/messages/${group}?cursor=..%2F..%2F`), 422, ['cursor_invalid']],
    [
      'a cursor forged for another conversation',
      () => get(alice, `/api/messages/${group}?cursor=${encodeCursor(keys.messagePartition(foreignGroup), '9999')}`),
      422,
      ['cursor_invalid'],
    ],
    [
      "a cursor of another user's group list",
      () => get(alice, `/api/message_groups?cursor=${encodeCursor(keys.groupSummaryPartition(bob.uuid), '9999')}`),
      422,
      ['cursor_invalid'],
    ],
    ['a cursor of 10 KiB', () => get(alice, `/api/message_groups?cursor=${'A'.repeat(10 * KIB)}`), 422, ['cursor_invalid']],
    ['POST to "../<group>"', () => postToGroup({ message_group_uuid: `../${group}` }), 422, ['message_group_uuid_invalid']],
    ['POST to "<group>\\n"', () => postToGroup({ message_group_uuid: `${group}\n` }), 422, ['message_group_uuid_invalid']],
    ['POST to "<group>/.."', () => postToGroup({ message_group_uuid: `${group}/..` }), 422, ['message_group_uuid_invalid']],
    ['POST to "MSG#<group>"', () => postToGroup({ message_group_uuid: `MSG#${group}` }), 422, ['message_group_uuid_invalid']],
    ['POST to an empty uuid', () => postToGroup({ message_group_uuid: '' }), 422, ['message_group_uuid_blank']],
    ['POST to a group the caller is not in', () => postToGroup({ message_group_uuid: foreignGroup }), 404, GROUP_NOT_FOUND],
    [
      'POST to the upper-cased uuid of a group the caller is not in',
      () => postToGroup({ message_group_uuid: foreignGroup.toUpperCase() }),
      404,
      GROUP_NOT_FOUND,
    ],
  ];

  it.each(cases)('refuses %s and writes nothing', async (_name, request, status, body) => {
    await expectRefused(request(), status, body);
  });

  it('takes an upper-cased uuid as the same group (uuids are case-insensitive), never as a new partition', async () => {
    // Prepare
    const before = await itemCount();

    // Act
    const read = await send(get(alice, `/api/messages/${upper()}?limit=1`));
    const created = await send(postToGroup({ message_group_uuid: upper(), message: 'upper-case uuid' }));
    const latest = await send(get(bob, `/api/messages/${group}?limit=1`));

    // Assess
    expect(read.status).toBe(200);
    expect(created.status).toBe(200);
    expect(JSON.parse(created.text)).toMatchObject({ message_group_uuid: group });
    expect(JSON.parse(latest.text)).toEqual([expect.objectContaining({ message: 'upper-case uuid' })]);
    expect(await itemCount()).toBe(before + 1);
  });
});

describe('malformed HTTP', () => {
  /** alice's valid request to her conversation, as raw HTTP/1.1 with extra header lines. */
  const rawPost = (headerLines: string[], body = json({ message: 'smuggled?', message_group_uuid: group })) =>
    [
      'POST /api/messages HTTP/1.1',
      'Host: localhost',
      `Authorization: Bearer ${alice.accessToken}`,
      'Content-Type: application/json',
      ...headerLines,
      '',
      body,
    ].join('\r\n');
  const cases: [name: string, request: () => string, status: number, body: unknown][] = [
    [
      'Content-Length and Transfer-Encoding together (request smuggling)',
      () => rawPost(['Content-Length: 4', 'Transfer-Encoding: chunked']),
      400,
      { message: 'Bad Request' },
    ],
    ['a header line without a colon', () => rawPost(['Not a header'], ''), 400, { message: 'Bad Request' }],
    ['a Content-Length that is not a number', () => rawPost(['Content-Length: 1e3']), 400, { message: 'Bad Request' }],
    ['headers over 16 KiB', () => rawPost([`X-Padding: ${'A'.repeat(20 * KIB)}`]), 431, { message: 'Request Header Fields Too Large' }],
  ];

  it.each(cases)('answers %s with a JSON error and writes nothing', async (_name, request, status, body) => {
    // Prepare
    const before = await itemCount();

    // Act
    const answer = await sendRaw(request());

    // Assess
    expect({ status: answer.status, body: parsed(answer) }).toEqual({ status, body });
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(await itemCount()).toBe(before);
  });
});

describe('tokens', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const foreignKey = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const poolKid = () => headerOf(alice.accessToken).kid as string;
  const tokens: [name: string, headers: () => Record<string, string>][] = [
    ['no Authorization header', () => ({})],
    ['an empty bearer', () => ({ authorization: 'Bearer ' })],
    ['garbage', () => bearer('not-a-jwt')],
    // Its verifier's error quoted bytes Node refuses in a header: this one stopped npm start.
    ['three garbage parts that decode to binary', () => bearer('not.a.jwt')],
    ['a token of bytes beyond ASCII', () => bearer(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x2e, 0xff, 0x2e, 0xc3, 0xa9]).toString('latin1'))],
    ['three garbage parts', () => bearer('a.b.c')],
    ['a 12 KiB garbage token', () => bearer('A'.repeat(12 * KIB))],
    ['Basic credentials', () => ({ authorization: `Basic ${Buffer.from(`${alice.handle}:${PASSWORD}`).toString('base64')}` })],
    [
      "an expired token signed with the pool's own key",
      () => bearer(signJwt({ ...payloadOf(alice.accessToken), iat: now() - 7200, exp: now() - 60 }, cognitoLocalPrivateKey(), poolKid())),
    ],
    ["a token signed with another RSA key under the pool's kid", () => bearer(signJwt(payloadOf(alice.accessToken), foreignKey(), poolKid()))],
    ['an unsigned token (alg: none)', () => bearer(unsignedJwt(payloadOf(alice.accessToken), poolKid()))],
    [
      "HS256 keyed with the pool's public key (algorithm confusion)",
      () => bearer(hmacSignedJwt(payloadOf(alice.accessToken), cognitoLocalPublicKey(), poolKid())),
    ],
    ['an access token of another app client of the same pool', () => bearer(otherClientToken)],
    ['a valid token with its signature cut off', () => bearer(`${alice.accessToken.split('.').slice(0, 2).join('.')}.`)],
    ['a spoofed X-Cognito-Username and no token', () => ({ 'x-cognito-username': alice.handle })],
    ['a spoofed X-Cognito-Username and a garbage token', () => ({ ...bearer('garbage'), 'x-cognito-username': alice.handle })],
  ];
  // Every case also carries alice's valid token in the query string, which must not count.
  const cases: RefusedCase[] = tokens.flatMap(([name, headers]): RefusedCase[] => [
    [
      `POST /api/messages with ${name}`,
      () => ({ ...postToGroup({}), headers: { 'content-type': 'application/json', ...headers() }, path: `/api/messages?access_token=${alice.accessToken}` }),
      401,
      UNAUTHORIZED,
    ],
    [`GET /api/messages/<group> with ${name}`, () => get(undefined, `/api/messages/${group}?access_token=${alice.accessToken}`, headers()), 401, UNAUTHORIZED],
  ]);
  // An ID token passes the JWT authorizer (issuer, app client, expiry) but has none of the routes' scopes: 403, as API Gateway answers it.
  cases.push(
    [
      'POST /api/messages with an ID token instead of an access token',
      () => ({ ...postToGroup({}), headers: { 'content-type': 'application/json', ...bearer(alice.idToken) } }),
      403,
      { message: 'Forbidden' },
    ],
    [
      'GET /api/messages/<group> with an ID token instead of an access token',
      () => get(undefined, `/api/messages/${group}`, bearer(alice.idToken)),
      403,
      { message: 'Forbidden' },
    ],
  );

  it.each(cases)('refuses %s and writes nothing', async (_name, request, status, body) => {
    await expectRefused(request(), status, body);
  });

  it("the token signed with the pool's key and a future expiry is accepted (so the expired case fails on expiry alone)", async () => {
    // Act
    const answer = await send(
      get(undefined, '/api/message_groups', bearer(signJwt({ ...payloadOf(alice.accessToken), exp: now() + 600 }, cognitoLocalPrivateKey(), poolKid()))),
    );

    // Assess
    expect(answer.status).toBe(200);
  });

  it.each([
    ['a spoofed X-Cognito-Username naming a member', () => ({ 'x-cognito-username': bob.handle })],
    [
      'a spoofed X-Cognito-Username naming a member and claims-like headers',
      () => ({ 'x-cognito-username': bob.handle, 'x-amzn-oidc-identity': bob.handle, 'x-cognito-sub': 'x' }),
    ],
  ])("keeps the token's user as the caller despite %s: not a member, so 404 and nothing written", async (_name, headers) => {
    await expectRefused(get(alice, `/api/messages/${foreignGroup}`, headers()), 404, GROUP_NOT_FOUND);
    await expectRefused(
      { ...postToGroup({ message_group_uuid: foreignGroup }), headers: { ...bearer(alice.accessToken), 'content-type': 'application/json', ...headers() } },
      404,
      GROUP_NOT_FOUND,
    );
  });

  it("sends and lists as the token's user when X-Cognito-Username names another", async () => {
    // Act: bob's token, alice's name in the header.
    const spoofHeader = { 'x-cognito-username': alice.handle };
    const created = await send({
      ...post(bob, json({ message: 'who am I?', message_group_uuid: group })),
      headers: { ...bearer(bob.accessToken), 'content-type': 'application/json', ...spoofHeader },
    });
    const groups = await send(get(bob, '/api/message_groups', spoofHeader));

    // Assess
    expect(created.status).toBe(200);
    expect(JSON.parse(created.text)).toMatchObject({ handle: bob.handle, display_name: bob.display_name, message: 'who am I?' });
    // Bob's list names the other participants: alice and mallory, never bob himself.
    expect((JSON.parse(groups.text) as { handle: string }[]).map((entry) => entry.handle).sort()).toEqual([alice.handle, mallory.handle].sort());
  });
});

describe('a POST retried after its connection dropped', () => {
  /** Sends the request and drops the connection at once, never reading an answer. */
  async function sendAndDrop(request: string): Promise<void> {
    const { hostname, port } = new URL(gateway.url);
    await new Promise<void>((resolve) => {
      const socket = net.connect(Number(port), hostname, () => socket.write(request, () => socket.destroy()));
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
    });
  }

  it.each([
    ['the same key: once', (key: string) => ({ 'idempotency-key': key }), 1],
    ['no key: twice (what the key is for)', () => ({}), 2],
  ])('retried with %s: the server stored the first attempt, so the retry stores the message as often as the case says', async (_name, keyHeader, copies) => {
    // Prepare
    const key = randomUUID();
    const text = `dropped then retried ${key}`;
    const body = json({ message: text, message_group_uuid: group });
    const headers = { ...bearer(alice.accessToken), 'content-type': 'application/json', ...keyHeader(key) };
    const raw = [
      'POST /api/messages HTTP/1.1',
      'Host: localhost',
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      `content-length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');

    // Act: the first attempt's answer never arrives; the client tries again once the server is done with it.
    const posts = () => gatewayLog.filter((line) => line.startsWith('POST /api/messages')).length;
    const before = posts();
    await sendAndDrop(raw);
    const deadline = Date.now() + 10_000;
    while (posts() === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const retry = await send({ ...post(alice, body), headers });

    // Assess
    expect(retry.status).toBe(200);
    const stored = (await table.client.send(new ScanCommand({ TableName: table.tableName, ConsistentRead: true }))).Items!.filter(
      (item) => item.message === text,
    );
    expect(stored).toHaveLength(copies);
    if (copies === 1) expect(JSON.parse(retry.text)).toMatchObject({ uuid: stored[0]!.message_uuid });
  });
});

describe('repeated Authorization headers', () => {
  it("refuses two tokens (alice's, then mallory's) with 401, as API Gateway does, and acts as nobody", async () => {
    // Prepare
    const before = await itemCount();
    const request = [
      'POST /api/messages HTTP/1.1',
      'Host: localhost',
      `Authorization: Bearer ${alice.accessToken}`,
      `Authorization: Bearer ${mallory.accessToken}`,
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(json({ message: 'as whom?', message_group_uuid: group }))}`,
      '',
      json({ message: 'as whom?', message_group_uuid: group }),
    ].join('\r\n');

    // Act
    const answer = await sendRaw(request);

    // Assess
    expect({ status: answer.status, body: parsed(answer) }).toEqual({ status: 401, body: UNAUTHORIZED });
    expect(await itemCount()).toBe(before);
  });

  it('refuses the same token twice too: the joined header is no token', async () => {
    const answer = await sendRaw(
      [
        'GET /api/message_groups HTTP/1.1',
        'Host: localhost',
        `Authorization: Bearer ${alice.accessToken}`,
        `authorization: Bearer ${alice.accessToken}`,
        'Connection: close',
        '',
        '',
      ].join('\r\n'),
    );
    expect(answer.status).toBe(401);
  });
});

describe('the gateway', () => {
  it('never reached a function error in any case above (a 500 logs "<function> failed: <stack>")', () => {
    expect(gatewayLog.length).toBeGreaterThan(100);
    expect(gatewayLog.filter((line) => / 5\d\d \d+ms|failed:/.test(line))).toEqual([]);
  });
});

/**
 * A bounded fuzz of the gateway over raw sockets: random and mutated tokens, header names and
 * values, methods, paths, bodies and chunked encodings, from a fixed seed (FUZZ_SEED to
 * vary it). Every request must get an HTTP answer (JSON whenever it has a body and is an
 * error) and the gateway must serve a valid request afterwards.
 */
describe('fuzz', () => {
  const seed = Number(process.env.FUZZ_SEED ?? 20261202);
  const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 600);

  /**
   * Exchanges raw bytes; resolves with the raw answer, or '' when the server closed without
   * one. The request asks the server to close after answering; a request the server is still
   * waiting on after a second (a chunk that never comes) is ended from this side, as a client
   * that gives up would: the server must then answer what it has.
   */
  function exchange(bytes: Buffer): Promise<string> {
    const { hostname, port } = new URL(gateway.url);
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(port), hostname, () => {
        socket.write(bytes);
        setTimeout(() => socket.end(), 1000).unref();
      });
      const chunks: Buffer[] = [];
      socket.setTimeout(15_000, () => socket.destroy(new Error('no answer within 15 s')));
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', (error) =>
        (error as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve(Buffer.concat(chunks).toString('latin1')) : reject(error),
      );
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    });
  }

  it(`answers every one of ${REQUESTS} random and mutated requests, and serves afterwards`, async () => {
    const random = seededRandom(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const bytes = (length: number) => Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
    const text = (length: number, alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~%@/') =>
      Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    const mutate = (token: string) => {
      const characters = [...token];
      switch (Math.floor(random() * 5)) {
        case 0: // flip one character
          characters[Math.floor(random() * characters.length)] = pick([...'AZaz09-_.']);
          return characters.join('');
        case 1: // truncate
          return token.slice(0, Math.floor(random() * token.length));
        case 2: // a control character inside
          characters.splice(Math.floor(random() * characters.length), 0, String.fromCharCode(Math.floor(random() * 32)));
          return characters.join('');
        case 3: // parts swapped
          return token.split('.').reverse().join('.');
        default: // parts of random base64
          return [text(12), text(40), text(30)].join('.');
      }
    };
    const tokens = () =>
      pick<() => string | undefined>([
        () => undefined,
        () => alice.accessToken,
        () => mutate(alice.accessToken),
        () => mutate(alice.accessToken),
        () => 'not.a.jwt',
        () => bytes(24).toString('latin1'),
        () => `${alice.accessToken}, ${bob.accessToken}`,
      ])();
    const paths = () =>
      pick<() => string>([
        () => '/api/message_groups',
        () => `/api/message_groups?limit=${text(3)}&cursor=${text(20)}`,
        () => `/api/messages/${group}`,
        () => `/api/messages/${text(36)}`,
        () => `/api/users/@${text(10)}/short`,
        () => `/api/users/${encodeURIComponent(bytes(8).toString('latin1'))}/short`,
        () => '/api/messages',
        () => `/${text(20)}`,
        () => `/api/messages/${'../'.repeat(5)}`,
        () => `/${text(9000)}`,
        () => bytes(20).toString('latin1'),
        () => '*',
      ])();
    const bodies = (): Buffer | undefined =>
      pick<() => Buffer | undefined>([
        () => undefined,
        () => Buffer.from(json({ message: text(20), message_group_uuid: group })),
        () => Buffer.from(json({ message: text(5), handle: bob.handle })),
        () => Buffer.from(json({ message: bytes(10).toString('latin1'), [text(5)]: [1, { a: null }] })),
        () => Buffer.from('{"message": "unterminated'),
        () => bytes(64),
        () => Buffer.alloc(20 * KIB, 'x'),
      ])();

    let answered = 0;
    const problems: string[] = [];
    const started = Date.now();
    for (let index = 0; index < REQUESTS; index += 1) {
      const method = pick(['GET', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'get', 'G\u0001T', text(6).toUpperCase(), 'CONNECT']);
      const body = bodies();
      const chunked = body !== undefined && random() < 0.3;
      const lines = [`${method} ${paths()} HTTP/1.1`, 'Host: localhost', 'Connection: close'];
      const token = tokens();
      if (token !== undefined) lines.push(`Authorization: ${pick(['Bearer ', 'bearer ', 'Bearer  ', ''])}${token}`);
      if (random() < 0.3)
        lines.push(
          `${pick([text(8), 'X-Cognito-Username', 'Origin', 'Content-Type', 'Transfer-Encoding', bytes(4).toString('latin1')])}: ${pick([text(30), bytes(8).toString('latin1'), 'http://localhost:3000', 'chunked', 'application/json; charset=utf-16'])}`,
        );
      if (random() < 0.1) lines.push('Upgrade: websocket', 'Connection: Upgrade');
      if (body !== undefined && !chunked) lines.push(`Content-Length: ${random() < 0.1 ? Math.floor(random() * body.length) : body.length}`);
      if (chunked) lines.push('Transfer-Encoding: chunked');
      let payload = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
      if (body !== undefined) {
        if (chunked) {
          const size = random() < 0.2 ? text(3) : body.length.toString(16);
          payload = Buffer.concat([payload, Buffer.from(`${size}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
        } else {
          payload = Buffer.concat([payload, body]);
        }
      }

      const raw = await exchange(payload);
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(raw)?.[1];
      if (status === undefined) {
        problems.push(
          `#${index} ${method}: no HTTP answer (${JSON.stringify(raw.slice(0, 80))}) to ${JSON.stringify(payload.toString('latin1').slice(0, 300))}`,
        );
        continue;
      }
      answered += 1;
      const [head = '', ...rest] = raw.split('\r\n\r\n');
      const responseBody = rest.join('\r\n\r\n');
      if (Number(status) >= 400 && responseBody !== '' && !/transfer-encoding: chunked/i.test(head)) {
        try {
          JSON.parse(responseBody);
        } catch {
          problems.push(`#${index} ${method}: ${status} with a body that is not JSON: ${JSON.stringify(responseBody.slice(0, 80))}`);
        }
      }
    }
    const alive = await send(get(alice, '/api/message_groups'));
    console.log(`fuzz (seed ${seed}): ${answered} of ${REQUESTS} requests answered in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    expect(problems).toEqual([]);
    expect(answered).toBe(REQUESTS);
    expect(alive.status).toBe(200);
    expect(gatewayLog.filter((line) => /failed unanswered|unwritable/.test(line))).toEqual([]);
  });
});

/**
 * The users in three places (domain/user-directory.ts): the container's cache, the copy in
 * DynamoDB Local, PostgreSQL over a connection per query. A new container finds a user with
 * one GetItem and no PostgreSQL; PostgreSQL is asked on a miss only and holds no connection
 * afterwards; a database without a connection to spare is a 503, not a 500.
 */
import net from 'node:net';
import type { Pool } from 'pg';
import { createShortLivedPostgres } from '../../functions/clients/postgres';
import { createDirectoryRepository } from '../../functions/data/directory-repository';
import { keys } from '../../functions/data/model';
import { createUsersRepository } from '../../functions/data/users-repository';
import { createCachedUserDirectory } from '../../functions/domain/user-directory';
import { errorResponse } from '../../functions/http/handler';
import { UsersDatabaseBusyError } from '../../functions/errors';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createTestPool, createTestTable, endpoints, insertUsers, type TestTable, unique } from '../support/services';

let table: TestTable;
let pool: Pool;
beforeAll(async () => {
  [table, pool] = await Promise.all([createTestTable(), createTestPool()]);
});
afterAll(async () => {
  await Promise.all([table.drop(), pool.end()]);
});

/** A "container": its own cache over the shared copy and PostgreSQL; counts the queries it sent PostgreSQL. */
function container(clock: () => number = Date.now) {
  let queries = 0;
  const postgres = createShortLivedPostgres({ connectionString: async () => endpoints().postgres });
  const counted = {
    query: (text: string, values?: unknown[]) => {
      queries += 1;
      return postgres.query(text, values);
    },
  };
  const directory = createCachedUserDirectory(createUsersRepository(counted as typeof postgres), {
    copy: createDirectoryRepository(table.client, { tableName: table.tableName, clock }),
    clock,
  });
  return { directory, queries: () => queries };
}

async function activeConnections(): Promise<number> {
  const result = await pool.query<{ count: string }>('SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()');
  return Number(result.rows[0]!.count);
}

describe('the user directory', () => {
  it('asks PostgreSQL on a miss, copies the user under both keys, and a new container finds it with no PostgreSQL at all', async () => {
    // Prepare
    const [user] = await insertUsers(pool, 1, 'dir');
    const sub = unique('sub-');
    await pool.query('UPDATE public.users SET cognito_user_id = $1 WHERE uuid = $2', [sub, user!.uuid]);
    const first = container();
    const second = container();

    // Act
    const found = await first.directory.findByCognitoUserId(sub);
    const again = await first.directory.findByHandle(user!.handle);
    const elsewhere = await second.directory.findByCognitoUserId(sub);
    const byHandleElsewhere = await second.directory.findByHandle(user!.handle);

    // Assess
    expect(found).toEqual({ uuid: user!.uuid, handle: user!.handle, display_name: user!.display_name, cognito_user_id: sub });
    expect([again, elsewhere, byHandleElsewhere]).toEqual([found, found, found]);
    expect([first.queries(), second.queries()]).toEqual([1, 0]);
    const copied = await table.client.send(new GetCommand({ TableName: table.tableName, Key: keys.userBySub(sub) }));
    expect(copied.Item).toMatchObject({ user_uuid: user!.uuid, handle: user!.handle, cognito_user_id: sub });
  });

  it('shows a change in PostgreSQL once the copy expired, and never caches a miss', async () => {
    // Prepare
    let now = Date.now();
    const clock = () => now;
    const [user] = await insertUsers(pool, 1, 'ren');
    const reader = container(clock);
    await reader.directory.findByHandle(user!.handle);
    await pool.query('UPDATE public.users SET display_name = $1 WHERE uuid = $2', ['Renamed', user!.uuid]);
    const missing = unique('nobody_');

    // Act
    const cached = await reader.directory.findByHandle(user!.handle);
    now += 61_000;
    const afterExpiry = await container(clock).directory.findByHandle(user!.handle);
    const misses = [await reader.directory.findByHandle(missing), await reader.directory.findByHandle(missing)];

    // Assess
    expect(cached!.display_name).toBe(user!.display_name);
    expect(afterExpiry!.display_name).toBe('Renamed');
    expect(misses).toEqual([undefined, undefined]);
    expect(reader.queries()).toBe(3);
  });

  it('holds no PostgreSQL connection once it has answered', async () => {
    // Prepare
    const users = await insertUsers(pool, 5, 'conn');
    const before = await activeConnections();

    // Act: five containers, each missing once.
    await Promise.all(users.map((user) => container().directory.findByHandle(user.handle)));

    // Assess
    expect(await activeConnections()).toBe(before);
  });
});

describe('a users database without a connection to spare', () => {
  /** A server that answers every connection as PostgreSQL at its limit does: FATAL 53300. */
  async function fullDatabase(): Promise<{ url: string; connections: () => number; close: () => void }> {
    let connections = 0;
    const field = (code: string, value: string) => Buffer.concat([Buffer.from(code), Buffer.from(value), Buffer.from([0])]);
    const body = Buffer.concat([
      field('S', 'FATAL'),
      field('V', 'FATAL'),
      field('C', '53300'),
      field('M', 'sorry, too many clients already'),
      Buffer.from([0]),
    ]);
    const length = Buffer.alloc(4);
    length.writeInt32BE(body.length + 4);
    const errorResponse = Buffer.concat([Buffer.from('E'), length, body]);
    const server = net.createServer((socket) => {
      connections += 1;
      socket.once('data', () => socket.end(errorResponse));
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    return { url: `postgresql://cruddur:pw@127.0.0.1:${port}/cruddur`, connections: () => connections, close: () => server.close() };
  }

  it('tries again a few times, then answers 503 with Retry-After, not 500', async () => {
    // Prepare
    const database = await fullDatabase();
    const postgres = createShortLivedPostgres({ connectionString: async () => database.url, attempts: 3, baseDelayMs: 5 });
    const directory = createCachedUserDirectory(createUsersRepository(postgres), {
      copy: createDirectoryRepository(table.client, { tableName: table.tableName }),
    });

    // Act
    const failure = await directory.findByHandle(unique('anyone_')).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(UsersDatabaseBusyError);
    expect(database.connections()).toBe(3);
    const { response } = errorResponse(failure);
    expect(response.statusCode).toBe(503);
    expect(response.headers).toMatchObject({ 'Retry-After': '1' });
    database.close();
  });
});

/**
 * The deployable artefacts: every catalog function bundled (into a temporary directory) as
 * `npm run build` does, each bundle loaded in a fresh `node` process as the Lambda runtime
 * would, and the HTTP bundles invoked with their default wiring (env read at cold start,
 * DynamoDB through AWS_ENDPOINT_URL_DYNAMODB) against the local services.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Pool } from 'pg';
import { FUNCTIONS } from '../../functions/catalog';
import { buildAll, sizeTable, type BuiltFunction } from '../../scripts/build';
import { apiEvent, lambdaContext, type ApiEventOptions } from '../support/api-events';
import { createTestPool, createTestTable, endpoints, insertUsers, type TestTable } from '../support/services';

jest.setTimeout(300_000);

let distDir: string;
let built: BuiltFunction[];

/** Runs an ES module script in a fresh node process with only the given environment. */
function runNode(script: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

const bundleUrl = (name: string) => pathToFileURL(path.join(distDir, name, 'index.mjs')).href;

beforeAll(async () => {
  distDir = mkdtempSync(path.join(os.tmpdir(), 'cruddur-bundles-'));
  built = await buildAll(distDir);
});

afterAll(() => {
  if (distDir) rmSync(distDir, { recursive: true, force: true });
});

describe('buildAll', () => {
  it('bundles every catalog function into <dir>/<name>/index.mjs with a source map, pg.mjs beside those that read users', () => {
    // Assess
    expect(built.map((fn) => fn.name)).toEqual(FUNCTIONS.map((fn) => fn.name));
    for (const fn of built) {
      expect(fn.file).toBe(path.join(distDir, fn.name, 'index.mjs'));
      expect(existsSync(`${fn.file}.map`)).toBe(true);
      expect(readFileSync(fn.file, 'utf8')).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
      expect(fn.bytes).toBeGreaterThan(1000);
    }
    const table = sizeTable(built, distDir);
    expect(table.split('\n')).toHaveLength(2 + FUNCTIONS.length);
    for (const fn of FUNCTIONS) {
      const row = table.split('\n').find((line) => line.startsWith(`${fn.name} `));
      // pg beside the bundle of each function that reads users, named in its row.
      expect({ fn: fn.name, pg: existsSync(path.join(distDir, fn.name, 'pg.mjs')), named: /pg\.mjs \d/.test(row ?? '') }).toEqual({
        fn: fn.name,
        pg: fn.usersDatabase,
        named: fn.usersDatabase,
      });
    }
  });
});

describe('each bundle', () => {
  it.each(FUNCTIONS.map((fn) => fn.name))('%s loads in a fresh node process, without settings, and exports handler', async (name) => {
    // Act
    const result = await runNode(`import(${JSON.stringify(bundleUrl(name))}).then((m) => console.log(typeof m.handler))`, {});

    // Assess
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe('function');
  });
});

describe('the HTTP bundles with their default wiring', () => {
  let table: TestTable;
  let pool: Pool;

  beforeAll(async () => {
    table = await createTestTable();
    pool = await createTestPool();
  });

  afterAll(async () => {
    await table?.drop();
    await pool?.end();
  });

  /** Invokes a bundled handler once in a fresh process (a cold start) and returns its result. */
  async function invokeBundle(name: string, options: ApiEventOptions, env: Record<string, string>) {
    const script = `
      const { handler } = await import(${JSON.stringify(bundleUrl(name))});
      const result = await handler(JSON.parse(process.env.TEST_EVENT), JSON.parse(process.env.TEST_CONTEXT));
      process.stdout.write('RESULT ' + JSON.stringify(result) + '\\n');
      process.exit(0); // the pg pool would keep the process alive
    `;
    const context = { ...lambdaContext(name) };
    const run = await runNode(script, { ...env, TEST_EVENT: JSON.stringify(apiEvent(name, options)), TEST_CONTEXT: JSON.stringify(context) });
    const line = run.stdout.split('\n').find((candidate) => candidate.startsWith('RESULT '));
    if (run.code !== 0 || line === undefined) throw new Error(`${name} failed (exit ${run.code}):\n${run.stderr}\n${run.stdout}`);
    return { result: JSON.parse(line.slice('RESULT '.length)) as APIGatewayProxyStructuredResultV2, logs: run.stdout + run.stderr };
  }

  const localEnv = () => ({
    TABLE_NAME: table.tableName,
    DATABASE_URL: endpoints().postgres,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints().dynamodb,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });

  it('answer real events over DynamoDB Local and PostgreSQL: D, then A, B and user short', async () => {
    // Prepare
    const [alice, bob] = await insertUsers(pool, 2, 'bundle');
    const subs = [randomUUID(), randomUUID()];
    await pool.query('UPDATE public.users SET cognito_user_id = $1 WHERE uuid = $2', [subs[0], alice!.uuid]);
    await pool.query('UPDATE public.users SET cognito_user_id = $1 WHERE uuid = $2', [subs[1], bob!.uuid]);

    // Act
    const created = await invokeBundle('create-message', { sub: subs[0]!, body: { message: 'from a bundle', handle: bob!.handle } }, localEnv());
    const group = (JSON.parse(created.result.body!) as { message_group_uuid: string }).message_group_uuid;
    const [messages, groups, short] = await Promise.all([
      invokeBundle('list-messages', { sub: subs[1]!, pathParameters: { message_group_uuid: group } }, localEnv()),
      invokeBundle('list-message-groups', { sub: subs[1]!, query: { limit: '5' } }, localEnv()),
      invokeBundle('user-short', { sub: subs[1]!, pathParameters: { handle: `@${alice!.handle}` } }, localEnv()),
    ]);

    // Assess
    expect(created.result.statusCode).toBe(200);
    expect(messages.result.statusCode).toBe(200);
    expect(JSON.parse(messages.result.body!)).toEqual([expect.objectContaining({ handle: alice!.handle, message: 'from a bundle' })]);
    expect(JSON.parse(groups.result.body!)).toEqual([expect.objectContaining({ uuid: group, handle: alice!.handle, message: 'from a bundle' })]);
    expect(JSON.parse(short.result.body!)).toEqual({ uuid: alice!.uuid, handle: alice!.handle, display_name: alice!.display_name });
  });

  it('answer 500 and log the configuration error when the database is not configured', async () => {
    // Prepare
    const { DATABASE_URL: _unset, ...env } = localEnv();

    // Act
    const { result, logs } = await invokeBundle('list-message-groups', { sub: randomUUID(), requestId: 'cold-start-failure' }, env);

    // Assess
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body!)).toEqual({ error: 'internal_error', message: 'Something went wrong on our side', request_id: 'cold-start-failure' });
    expect(logs).toContain('"request_id":"cold-start-failure"');
    expect(logs).toContain('DATABASE_URL');
  });
});

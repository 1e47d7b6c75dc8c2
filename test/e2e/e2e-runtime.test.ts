/**
 * End to end, as a developer uses it: `npm start` (scripts/start.ts) as a child process on
 * free ports with a temporary data directory, `npm run token` for access tokens, and the
 * HTTP API walked through patterns A-E with plain HTTP requests. Then Ctrl-C (SIGINT), a
 * second start on the same data, and checks that everything persisted, nothing was lost
 * and the stream consumer did not apply anything twice.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { localDocumentClient } from '../../local/aws';
import { DEFAULT_TABLE_NAME, keys } from '../../functions/data/model';
import { assertPortFree, getFreePort } from '../../local/services/process';
import { LOCAL_SERVICES } from '../../local/services/registry';
import { streamFiles } from '../../local/paths';
import * as tokenScript from '../../scripts/token';
import { runScriptInProcess } from '../support/script-runner';
import { fetchInContract } from '../support/openapi';

jest.setTimeout(30 * 60_000);

const ROOT = path.resolve(__dirname, '..', '..');
const run = promisify(execFile);
const READY = /^Cruddur messaging API ready at (http:\/\/127\.0\.0\.1:\d+)$/m;

/** `npm start` in a child process of its own process group, its output collected. */
class StartedRuntime {
  output = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Output since `from` (an offset into {@link output}). */
  since(from: number): string {
    return this.output.slice(from);
  }

  async waitFor(pattern: RegExp, timeoutMs: number, from = 0): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    let exitCode: number | null | undefined;
    void this.exited.then((code) => (exitCode = code));
    for (;;) {
      const match = pattern.exec(this.since(from));
      if (match) return match;
      if (exitCode !== undefined) throw new Error(`npm start exited with ${exitCode} before ${pattern}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`No ${pattern} within ${timeoutMs} ms:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** Ctrl-C in a terminal: SIGINT to the whole process group (npm start's); the exit code. */
  async interrupt(timeoutMs = 120_000): Promise<number | null> {
    process.kill(-this.child.pid!, 'SIGINT');
    const timer = setTimeout(() => this.kill(), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Last resort: SIGTERM, which npm start answers by stopping its services (they run in
   * process groups of their own), then SIGKILL for the whole group.
   */
  kill(): void {
    if (this.child.exitCode !== null || this.child.pid === undefined) return;
    const pid = this.child.pid;
    const signal = (name: NodeJS.Signals) => {
      try {
        process.kill(-pid, name);
      } catch {
        // Gone already.
      }
    };
    signal('SIGTERM');
    setTimeout(() => this.child.exitCode === null && signal('SIGKILL'), 15_000).unref();
  }
}

interface Message {
  uuid: string;
  display_name: string;
  handle: string;
  message: string;
  created_at: string;
}
interface Group extends Message {}

describe('npm start, end to end', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  const runtimes: StartedRuntime[] = [];
  let baseUrl: string;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'cruddur-e2e-'));
    // Ports of its own: neither the suite's services nor a developer's npm start.
    env = {
      ...process.env,
      PORT: String(await getFreePort()),
      DYNAMODB_PORT: String(await getFreePort()),
      POSTGRES_PORT: String(await getFreePort()),
      COGNITO_PORT: String(await getFreePort()),
      CRUDDUR_DATA_DIR: dataDir,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    delete env.DATABASE_URL;
    delete env.TABLE_NAME;
  });

  afterAll(async () => {
    for (const runtime of runtimes) runtime.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(): Promise<{ runtime: StartedRuntime; readyMs: number }> {
    const began = Date.now();
    const runtime = new StartedRuntime(env);
    runtimes.push(runtime);
    baseUrl = (await runtime.waitFor(READY, 400_000))[1]!;
    return { runtime, readyMs: Date.now() - began };
  }

  /**
   * `npm run token -- <handle>`: stdout must be the token and nothing else. The first call runs
   * the command as a user does (a process: what it prints is the contract); the others run it
   * in-process, where a process of its own would prove nothing more.
   */
  let tokenProcesses = 0;
  async function token(handle: string): Promise<string> {
    const stdout =
      tokenProcesses++ === 0
        ? (await run(process.execPath, ['--import', 'tsx', 'scripts/token.ts', handle], { cwd: ROOT, env })).stdout
        : (await runScriptInProcess(tokenScript, [handle], env)).stdout.map((line) => `${line}\n`).join('');
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    return stdout.trim();
  }

  /** Raw bytes to the API; the raw answer. */
  function rawRequest(request: string): Promise<string> {
    const { hostname, port } = new URL(baseUrl);
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(port), hostname, () => socket.write(request, 'latin1'));
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
      socket.on('error', reject);
      socket.on('close', () => resolve(answer));
    });
  }

  async function api<T>(handle: string, method: 'GET' | 'POST', urlPath: string, body?: unknown): Promise<{ status: number; body: T; headers: Headers }> {
    const response = await fetchInContract(`${baseUrl}${urlPath}`, {
      method,
      headers: { authorization: `Bearer ${tokens[handle]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as T, headers: response.headers };
  }

  const groupsOf = async (handle: string) => (await api<Group[]>(handle, 'GET', '/api/message_groups')).body;

  /** Polls `handle`'s groups until one satisfies `check`; the milliseconds it took. */
  async function waitForGroup(handle: string, check: (group: Group) => boolean, timeoutMs = 15_000): Promise<number> {
    const began = Date.now();
    for (;;) {
      if ((await groupsOf(handle)).some(check)) return Date.now() - began;
      if (Date.now() - began > timeoutMs) throw new Error(`@${handle}'s groups never showed the change: ${JSON.stringify(await groupsOf(handle))}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The table as it is: messages per group, and every summary item per owner. */
  async function tableState() {
    const client = localDocumentClient(`http://127.0.0.1:${env.DYNAMODB_PORT}`);
    const query = async (pk: string) => {
      const items: Record<string, unknown>[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: DEFAULT_TABLE_NAME,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': pk },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        );
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
      return items;
    };
    try {
      const users = ['andrewbrown', 'bayko', 'londo'];
      const summaries: Record<string, { group: unknown; message: unknown; sk: unknown }[]> = {};
      const groupUuids = new Set<string>();
      for (const handle of users) {
        const { uuid } = (await api<{ uuid: string }>(handle, 'GET', `/api/users/@${handle}/short`)).body;
        const items = await query(keys.groupSummaryPartition(uuid));
        summaries[handle] = items.map((item) => ({ group: item.message_group_uuid, message: item.message, sk: item.sk }));
        for (const item of items) groupUuids.add(item.message_group_uuid as string);
      }
      const messages: Record<string, number> = {};
      for (const groupUuid of [...groupUuids].sort()) messages[groupUuid] = (await query(keys.messagePartition(groupUuid))).length;
      return { summaries, messages };
    } finally {
      client.destroy();
    }
  }

  /** The one shard's checkpoint. */
  function checkpointedSequence(): bigint {
    const file = JSON.parse(readFileSync(streamFiles(dataDir, 'message-stream').checkpointFile, 'utf8')) as {
      shards: Record<string, { sequenceNumber: string }>;
    };
    const shards = Object.values(file.shards);
    expect(shards).toHaveLength(1);
    return BigInt(shards[0]!.sequenceNumber);
  }

  it('walks patterns A-E over HTTP, survives Ctrl-C and a restart with nothing lost or applied twice', async () => {
    // ---- first start ----
    const first = await start();
    console.log(`npm start: ready after ${(first.readyMs / 1000).toFixed(1)} s (fresh data directory)`);
    expect(first.runtime.output).toMatch(/andrewbrown and bayko: 52 messages in group/);
    expect(existsSync(path.join(dataDir, 'npm-start.pid'))).toBe(true);
    for (const handle of ['andrewbrown', 'bayko', 'londo']) tokens[handle] = await token(handle);

    // B: bayko's conversations: the seeded one with andrewbrown.
    const baykoGroups = await groupsOf('bayko');
    expect(baykoGroups.map((group) => group.handle)).toEqual(['andrewbrown']);
    const seeded = baykoGroups[0]!;

    // A: its messages, oldest first, a page of 20 with a cursor to the older ones.
    const page = await api<Message[]>('bayko', 'GET', `/api/messages/${seeded.uuid}`);
    expect(page.status).toBe(200);
    expect(page.body).toHaveLength(20);
    expect(page.body.map((message) => message.created_at)).toEqual([...page.body.map((message) => message.created_at)].sort());
    expect(page.body[page.body.length - 1]!.message).toBe(seeded.message);
    expect(page.headers.get('x-next-cursor')).toBeTruthy();

    // C: a message in the existing conversation; E moves andrewbrown's summary to it.
    const textC = `C: end-to-end ${Date.now()}`;
    const created = await api<Message & { message_group_uuid: string }>('bayko', 'POST', '/api/messages', { message: textC, message_group_uuid: seeded.uuid });
    expect(created).toMatchObject({ status: 200, body: { message_group_uuid: seeded.uuid, handle: 'bayko', message: textC } });
    const latencyC = await waitForGroup('andrewbrown', (group) => group.uuid === seeded.uuid && group.message === textC);
    console.log(`stream: andrewbrown's summary showed message C ${latencyC} ms after POST answered`);

    // D: a new conversation with londo, by handle; both summaries follow via the stream.
    const profile = await api<{ handle: string }>('bayko', 'GET', '/api/users/@londo/short');
    expect(profile).toMatchObject({ status: 200, body: { handle: 'londo', display_name: 'Londo Mollari' } });
    const textD = `D: hello londo ${Date.now()}`;
    const started = await api<{ message_group_uuid: string }>('bayko', 'POST', '/api/messages', { message: textD, handle: 'londo' });
    expect(started.status).toBe(200);
    const newGroup = started.body.message_group_uuid;
    await waitForGroup('londo', (group) => group.uuid === newGroup && group.message === textD && group.handle === 'bayko');
    await waitForGroup('bayko', (group) => group.uuid === newGroup && group.message === textD && group.handle === 'londo');
    const textD2 = `D again: one conversation per pair ${Date.now()}`;
    expect((await api<{ message_group_uuid: string }>('londo', 'POST', '/api/messages', { message: textD2, handle: 'bayko' })).body.message_group_uuid).toBe(
      newGroup,
    );
    const latencyD2 = await waitForGroup('bayko', (group) => group.uuid === newGroup && group.message === textD2);
    console.log(`stream: bayko's summary showed londo's reply ${latencyD2} ms after POST answered`);
    expect(latencyC).toBeLessThan(10_000);
    expect(latencyD2).toBeLessThan(10_000);

    // Hostile requests leave npm start serving: the garbage token whose verifier error once
    // stopped it, and a header of control characters (refused by Node's parser).
    const garbage = await fetchInContract(`${baseUrl}/api/message_groups`, { headers: { authorization: 'Bearer not.a.jwt' } });
    expect(garbage.status).toBe(401);
    expect(garbage.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token" error_description="[\x20-\x7e]*"$/);
    const controlCharacters = await rawRequest(
      `GET /api/message_groups HTTP/1.1\r\nHost: localhost\r\nX-Evil: \u0001\u0002\u001b[2J\r\nConnection: close\r\n\r\n`,
    );
    expect(controlCharacters).toMatch(/^HTTP\/1\.1 400 /);
    expect((await api<Group[]>('bayko', 'GET', '/api/message_groups')).status).toBe(200);

    // npm run invoke against the running services.
    const invoked = await run(process.execPath, ['--import', 'tsx', 'scripts/invoke.ts', 'list-message-groups', '--user', 'londo'], { cwd: ROOT, env });
    const result = JSON.parse(invoked.stdout) as { statusCode: number; body: string };
    expect(result.statusCode).toBe(200);
    expect((JSON.parse(result.body) as Group[]).map((group) => group.message)).toContain(textD2);
    expect(invoked.stderr).toMatch(/REPORT RequestId: [0-9a-f-]{36}\tDuration: [\d.]+ ms\tMemory Size: 256 MB/);

    // A second npm start on the same data is refused while this one runs.
    const second = await run(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
      cwd: ROOT,
      env: { ...env, PORT: String(await getFreePort()) },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(second).toMatchObject({ code: 1, stderr: expect.stringMatching(/is using .*stop it/) });

    // Every participant has exactly one summary per group.
    const before = await tableState();
    expect(Object.fromEntries(Object.entries(before.summaries).map(([handle, items]) => [handle, items.length]))).toEqual({
      andrewbrown: 2,
      bayko: 2,
      londo: 2,
    });
    for (const items of Object.values(before.summaries)) expect(new Set(items.map((item) => item.group)).size).toBe(items.length);
    expect(before.messages[seeded.uuid]).toBe(53);
    expect(before.messages[newGroup]).toBe(2);
    const checkpointBefore = checkpointedSequence();

    // ---- Ctrl-C ----
    expect(await first.runtime.interrupt()).toBe(0);
    expect(first.runtime.output).toMatch(/\nSIGINT: stopping\.\.\.\n(.*\n)*Stopped\.\n$/);
    expect(first.runtime.output).not.toMatch(/"level":"(WARN|ERROR)"/);
    expect(existsSync(path.join(dataDir, 'npm-start.pid'))).toBe(false);

    // ---- second start on the same data ----
    const restarted = await start();
    console.log(`npm start: ready after ${(restarted.readyMs / 1000).toFixed(1)} s (existing data directory)`);
    const output = restarted.runtime.output;
    expect(output).toMatch(/andrewbrown and bayko: already have a group, skipped/);
    expect(output).toMatch(/stream message-stream: resuming .* from the checkpoint/);
    const readyAt = restarted.runtime.output.length;
    // (It may only move past records the filter drops, such as the consumer's own last writes.)
    expect(checkpointedSequence()).toBeGreaterThanOrEqual(checkpointBefore);

    // The same data, through the same API, with the tokens issued before the restart.
    expect(await tableState()).toEqual(before);
    expect((await groupsOf('londo')).map((group) => group.message)).toContain(textD2);

    // And the stream carries on with what is new, only that.
    const textAfter = `after the restart ${Date.now()}`;
    expect((await api('andrewbrown', 'POST', '/api/messages', { message: textAfter, message_group_uuid: seeded.uuid })).status).toBe(200);
    await waitForGroup('bayko', (group) => group.uuid === seeded.uuid && group.message === textAfter);
    // (The consumer logs after its writes, so the line may trail the summary a little.)
    await restarted.runtime.waitFor(/stream message-stream: 1 record\(s\), seq \d+ -> ok/, 10_000, readyAt);
    // Nothing already applied was delivered again: since the restart, that one record is the only batch.
    expect(restarted.runtime.since(readyAt).match(/stream message-stream: \d+ record/g)).toEqual(['stream message-stream: 1 record']);
    const after = await tableState();
    expect(after.messages[seeded.uuid]).toBe(54);
    expect(Object.values(after.summaries).map((items) => items.length)).toEqual([2, 2, 2]);

    expect(await restarted.runtime.interrupt()).toBe(0);

    // ---- Ctrl-C while the services start: cancelled, nothing left running ----
    const cancelled = new StartedRuntime(env);
    runtimes.push(cancelled);
    await cancelled.waitFor(/^Starting DynamoDB Local/m, 60_000);
    expect(await cancelled.interrupt()).toBe(130);
    expect(cancelled.output).toMatch(/SIGINT: start-up cancelled\.\n$/);
    expect(existsSync(path.join(dataDir, 'npm-start.pid'))).toBe(false);
    // The services' ports are free again: no orphaned JVM, PGlite or cognito-local.
    for (const service of ['dynamodb', 'postgres', 'cognito'] as const)
      await assertPortFree(Number(env[LOCAL_SERVICES[service].envVar]), LOCAL_SERVICES[service]);
  });
});

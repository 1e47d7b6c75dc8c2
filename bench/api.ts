/**
 * `npm run bench -- api`: latency and throughput of patterns A, B and C through the local
 * HTTP API (gateway, Cognito JWT verification, handler, PostgreSQL user lookup, DynamoDB),
 * against the floor: the same DynamoDB Query or PutItem sent directly with the SDK to the
 * same DynamoDB Local, at the same concurrency, interleaved round by round. And B with read
 * state against B before it (a twin caller whose conversations lack `unread_count` and
 * `last_read_at`), through the same API, interleaved the same way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { buildMessageItem, keys } from '../functions/data/model';
import { nowIso } from '../functions/data/model';
import { DEFAULT_PAGE_LIMIT } from '../functions/domain/validation';
import { createCognitoClient, ensureLocalPool, ensurePoolUser, signIn } from '../scripts/lib/cognito';
import { LOCAL_USER_PASSWORD } from '../scripts/lib/seed-users';
import { API_RUNTIME_POST_LIMIT, READY_PREFIX, type ApiRuntimeConfig } from './lib/api-runtime';
import { createRateLimitRepository } from '../functions/data/rate-limit-repository';
import type { BenchContext, Benchmark, Table, Target } from './lib/harness';
import { round } from './lib/stats';
import { closedLoop, httpRequester, summarize, type LoadResult, type LoadSummary } from './lib/load';
import { createMessagingFixture, type MessagingFixture } from './lib/messaging-fixture';

const CONCURRENCIES = [1, 16] as const;
/** Each side of a cell runs ROUNDS rounds of ROUND_MS, alternating with the other side. */
const ROUNDS = 3;
const ROUND_MS = 1500;
const WARM_UP_MS = 500;
/** The target: API p50 at most this multiple of the floor's, at concurrency 1. */
const TARGET_P50_RATIO = 1.5;
/** The target: listing conversations with read state at most this multiple of listing them without. */
const READ_STATE_P50_RATIO = 1.1;

// Why a warm request still costs more than its DynamoDB request: no other round trip is left
// (caller and membership come from the container's caches), only CPU work in a second
// process: the loopback HTTP hop, the RS256 check of the token, the payload 2.0 event and the
// JSON of the answer. On a saturated machine CPU work is what stretches most.
const MISSED = 'no extra round trip left; the rest is CPU in the path (HTTP hop, JWT RS256 verify, event mapping, JSON)';

interface Pattern {
  key: string;
  title: string;
  /** One request through the HTTP API. */
  ours: (agent: http.Agent) => () => Promise<void>;
  /** The DynamoDB request the pattern comes down to, straight from the SDK. */
  floor: () => Promise<void>;
  /** Judged against the target (B without the cache is shown for comparison). */
  judged: boolean;
}

interface Cell {
  pattern: string;
  concurrency: number;
  ours: LoadSummary;
  floor: LoadSummary;
}

/** Starts bench/lib/api-runtime.ts in its own process and waits for its URLs. */
async function startApiRuntime(config: ApiRuntimeConfig): Promise<{ child: ChildProcess; urls: { cached: string; uncached: string } }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'lib', 'api-runtime.ts')], {
    env: { ...process.env, BENCH_API_RUNTIME: JSON.stringify(config) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const urls = await new Promise<{ cached: string; uncached: string }>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.startsWith(READY_PREFIX)) resolve(JSON.parse(line.slice(READY_PREFIX.length)) as { cached: string; uncached: string });
    });
    child.once('exit', (code) => reject(new Error(`the API runtime exited (${code}) before it was ready: ${stderr.trim()}`)));
  });
  return { child, urls };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

interface Caller {
  handle: string;
  display_name: string;
  setSub(sub: string): Promise<void>;
}

/** The callers signed in to a pool of its own in the run's cognito-local: real access tokens. */
async function signInCallers(cognitoUrl: string, callers: readonly Caller[]) {
  const cognito = createCognitoClient(cognitoUrl);
  try {
    const pool = await ensureLocalPool(cognito, `cruddur-bench-api-${randomUUID().slice(0, 8)}`);
    const accessTokens: string[] = [];
    for (const caller of callers) {
      await ensurePoolUser(
        cognito,
        pool.userPoolId,
        { handle: caller.handle, email: `${caller.handle}@example.test`, display_name: caller.display_name },
        LOCAL_USER_PASSWORD,
      );
      const { accessToken } = await signIn(cognito, pool.clientId, caller.handle, LOCAL_USER_PASSWORD);
      const claims = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString('utf8')) as { sub: string };
      await caller.setSub(claims.sub);
      accessTokens.push(accessToken);
    }
    return { pool, accessTokens };
  } finally {
    cognito.destroy();
  }
}

function patterns(
  fixture: MessagingFixture,
  urls: { cached: string; uncached: string },
  accessToken: string,
  twin: { accessToken: string; agent: http.Agent },
): Pattern[] {
  const { documentClient, tableName, caller, group } = fixture;
  const authorization = { authorization: `Bearer ${accessToken}` };
  const floorLimits = createRateLimitRepository(documentClient, { tableName });
  const floorSub = `floor-${randomUUID()}`;
  // The repository asks for one item more than the page to learn whether a next page exists.
  const queryFloor = (pk: string) => async () => {
    await documentClient.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ScanIndexForward: false,
        Limit: DEFAULT_PAGE_LIMIT + 1,
      }),
    );
  };
  const listGroups =
    (base: string, headers = authorization) =>
    (agent: http.Agent) =>
      httpRequester({ method: 'GET', url: `${base}/api/message_groups`, headers }, agent);
  // The same kind of request through the same API, as the twin, on its own keep-alive connections.
  const twinList = listGroups(urls.cached, { authorization: `Bearer ${twin.accessToken}` })(twin.agent);
  let sent = 0;
  const text = () => `Benchmark message ${(sent += 1)}`;
  return [
    {
      key: 'A',
      title: 'A: GET /api/messages/{uuid} (caller and membership cached after the first request, then one Query) vs Query',
      ours: (agent) => httpRequester({ method: 'GET', url: `${urls.cached}/api/messages/${group.uuid}`, headers: authorization }, agent),
      floor: queryFloor(keys.messagePartition(group.uuid)),
      judged: true,
    },
    {
      key: 'B',
      title: 'B: GET /api/message_groups (user lookup cached, the production wiring) vs Query',
      ours: listGroups(urls.cached),
      floor: queryFloor(keys.groupSummaryPartition(caller.user_uuid)),
      judged: true,
    },
    {
      key: 'B-read-state',
      title: `B with read state (each conversation's unread_count and last_read_at) vs B before it: the same ${DEFAULT_PAGE_LIMIT} conversations without those fields, the same API`,
      ours: listGroups(urls.cached),
      floor: twinList,
      judged: false,
    },
    {
      key: 'B-uncached',
      title: 'B without the user-lookup cache (a PostgreSQL query per request) vs Query',
      ours: listGroups(urls.uncached),
      floor: queryFloor(keys.groupSummaryPartition(caller.user_uuid)),
      judged: false,
    },
    {
      key: 'C',
      title:
        "C: POST /api/messages into an existing group (caller and membership cached; the per-user limit's UpdateItem, as deployed; then one PutItem) vs the same UpdateItem then PutItem",
      ours: (agent) =>
        httpRequester(
          {
            method: 'POST',
            url: `${urls.cached}/api/messages`,
            headers: authorization,
            body: () => JSON.stringify({ message: text(), message_group_uuid: group.uuid }),
          },
          agent,
        ),
      floor: async () => {
        // The limit is checked before anything is written: two round trips, one after the other.
        await floorLimits.take(floorSub, 'POST', API_RUNTIME_POST_LIMIT);
        const item = buildMessageItem({ groupUuid: group.uuid, messageUuid: randomUUID(), sender: caller, text: text(), createdAt: nowIso() });
        await documentClient.send(new PutCommand({ TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
      },
      judged: true,
    },
  ];
}

async function measureCell(pattern: Pattern, concurrency: number, agent: http.Agent, context: BenchContext): Promise<Cell> {
  const ours = pattern.ours(agent);
  // Warm-up: connections open, code paths compiled, caches filled on both sides.
  await closedLoop(ours, concurrency, WARM_UP_MS);
  await closedLoop(pattern.floor, concurrency, WARM_UP_MS);
  const oursRounds: LoadResult[] = [];
  const floorRounds: LoadResult[] = [];
  for (let index = 0; index < ROUNDS; index += 1) {
    oursRounds.push(await closedLoop(ours, concurrency, ROUND_MS));
    floorRounds.push(await closedLoop(pattern.floor, concurrency, ROUND_MS));
  }
  const cell = { pattern: pattern.key, concurrency, ours: summarize(oursRounds), floor: summarize(floorRounds) };
  const failure = [...oursRounds, ...floorRounds].find((result) => result.firstError !== undefined)?.firstError;
  if (failure !== undefined)
    throw new Error(`${pattern.key} at concurrency ${concurrency}: ${cell.ours.errors + cell.floor.errors} failed request(s), e.g. ${failure}`);
  context.progress(
    `${pattern.key} c=${concurrency}: ours p50 ${round(cell.ours.p50)} ms, ${Math.round(cell.ours.rps)} req/s; floor p50 ${round(cell.floor.p50)} ms, ${Math.round(cell.floor.rps)} req/s`,
  );
  return cell;
}

function tableOf(pattern: Pattern, cells: Cell[]): Table {
  return {
    title: pattern.title,
    columns: ['concurrency', 'ours p50 ms', 'ours p99 ms', 'ours req/s', 'floor p50 ms', 'floor p99 ms', 'floor req/s', 'p50 ratio'],
    rows: cells.map((cell) => [
      cell.concurrency,
      round(cell.ours.p50),
      round(cell.ours.p99),
      Math.round(cell.ours.rps),
      round(cell.floor.p50),
      round(cell.floor.p99),
      Math.round(cell.floor.rps),
      `${round(cell.ours.p50 / cell.floor.p50)}x`,
    ]),
    note: `closed loop over keep-alive HTTP, ${ROUNDS} x ${ROUND_MS / 1000} s per side, interleaved with the floor (the SDK's request to the same DynamoDB Local)`,
  };
}

export const benchmark: Benchmark = {
  name: 'api',
  summary: 'patterns A, B and C through the local HTTP API vs the same DynamoDB request from the SDK, at concurrency 1 and 16',
  async run(context) {
    const services = await context.services();
    context.progress('api: creating a table, users, 21 conversations and a Cognito pool of its own...');
    const fixture = await createMessagingFixture({ dynamodbUrl: services.dynamodb.url, databaseUrl: services.postgres.url, label: 'api' });
    // Every conversation of the caller's marked read (last_read_at set: read state at its largest), then its twin from before read state.
    const groups = await fixture.repository.listMessageGroups(fixture.caller.user_uuid, { limit: 100 });
    for (const conversation of groups.items) await fixture.repository.markRead(conversation.uuid, fixture.caller);
    const twin = await fixture.createTwinBeforeReadState();
    let child: ChildProcess | undefined;
    const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(...CONCURRENCIES) });
    const twinAgent = new http.Agent({ keepAlive: true, maxSockets: Math.max(...CONCURRENCIES) });
    try {
      const {
        pool,
        accessTokens: [accessToken, twinAccessToken],
      } = await signInCallers(services.cognito.url, [{ ...fixture.caller, setSub: (sub) => fixture.setCallerSub(sub) }, twin]);
      const runtime = await startApiRuntime({
        dynamodbUrl: services.dynamodb.url,
        databaseUrl: services.postgres.url,
        cognitoUrl: services.cognito.url,
        tableName: fixture.tableName,
        pool,
      });
      child = runtime.child;
      const cells: Cell[] = [];
      const all = patterns(fixture, runtime.urls, accessToken!, { accessToken: twinAccessToken!, agent: twinAgent });
      for (const pattern of all) for (const concurrency of CONCURRENCIES) cells.push(await measureCell(pattern, concurrency, agent, context));

      const targets: Target[] = all
        .filter((pattern) => pattern.judged)
        .map((pattern) => {
          const cell = cells.find((candidate) => candidate.pattern === pattern.key && candidate.concurrency === 1)!;
          const measured = cell.ours.p50 / cell.floor.p50;
          return {
            name: `${pattern.key}: API p50 / DynamoDB floor p50 at concurrency 1`,
            target: `<= ${TARGET_P50_RATIO}x`,
            actual: `${round(measured)}x (${round(cell.ours.p50)} vs ${round(cell.floor.p50)} ms)`,
            met: measured <= TARGET_P50_RATIO,
            ...(measured <= TARGET_P50_RATIO ? {} : { comment: MISSED }),
          };
        });
      const readState = cells.find((candidate) => candidate.pattern === 'B-read-state' && candidate.concurrency === 1)!;
      const readStateRatio = readState.ours.p50 / readState.floor.p50;
      targets.push({
        name: 'B with read state p50 / B before read state p50 at concurrency 1',
        target: `<= ${READ_STATE_P50_RATIO}x`,
        actual: `${round(readStateRatio)}x (${round(readState.ours.p50)} vs ${round(readState.floor.p50)} ms)`,
        met: readStateRatio <= READ_STATE_P50_RATIO,
      });
      return {
        tables: all.map((pattern) =>
          tableOf(
            pattern,
            cells.filter((cell) => cell.pattern === pattern.key),
          ),
        ),
        targets,
        figures: { rounds: ROUNDS, roundMs: ROUND_MS, warmUpMs: WARM_UP_MS, cells },
      };
    } finally {
      agent.destroy();
      twinAgent.destroy();
      if (child) await stopChild(child);
      await fixture.remove();
    }
  },
};

/**
 * `npm run bench -- scale`: a traffic spike against a users database with few connections.
 * A real PostgreSQL server (max_connections 20, 3 of them reserved for superusers, as RDS
 * reserves some) and 200 Lambda containers of `GET /api/message_groups`: each a fresh `node`
 * process of the bundle, invoked once, then frozen (SIGSTOP), as Lambda freezes a container
 * after it answers. The containers arrive in waves of 20, callers spread over 50 users.
 *
 * Run three times in one run: today's design's baseline (a `pg` pool per container,
 * `bench/lib/pooled-list-message-groups.ts`), the function as built with its user directory
 * empty (the first spike), and again with the directory filled (the next one). Then the cost
 * of each way to find a user, in milliseconds and capacity units, measured in this process.
 */
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import pg from 'pg';
import { HTTP_FUNCTIONS } from '../functions/catalog';
import { createShortLivedPostgres } from '../functions/clients/postgres';
import { createPgPool } from '../functions/clients/postgres-pool';
import { createDirectoryRepository } from '../functions/data/directory-repository';
import { keys } from '../functions/data/model';
import { createUsersRepository } from '../functions/data/users-repository';
import { createCachedUserDirectory } from '../functions/domain/user-directory';
import { bundleFunction } from '../infrastructure/bundling/bundle';
import { eventForRoute } from '../local/gateway/http-event';
import { localDocumentClient } from '../local/aws';
import { lambdaContext, localFunctionEnvironment } from '../local/lambda';
import { ensureTable } from '../scripts/lib/table';
import { applyUsersSchema } from '../scripts/lib/users-schema';
import { runBundle } from './lib/bundle-process';
import type { Benchmark, BenchContext, Target } from './lib/harness';
import { findPostgresBinaries, type RealPostgres, startRealPostgres } from './lib/real-postgres';
import { percentile, round } from './lib/stats';

const MAX_CONNECTIONS = 20;
const RESERVED_CONNECTIONS = 3;
/** Ten times the connections the server has. */
const CONTAINERS = 10 * MAX_CONNECTIONS;
/** Containers started at once: a spike's new containers arrive together. */
const WAVE = 20;
const USERS = 50;
/** What a frozen container holds (its RSS, measured: about 67 MiB), with room to spare. */
const CONTAINER_MIB = 75;
/** Lookups per way in the cost table. */
const COST_SAMPLES = 60;
const FUNCTION_NAME = 'list-message-groups';
const BASELINE = { name: 'pooled-list-message-groups', entry: 'bench/lib/pooled-list-message-groups.ts' } as const;

interface SpikeOutcome {
  design: string;
  answers: Map<string, number>;
  errors: number;
  /** Connections of the application's role at the busiest moment seen. */
  peakConnections: number;
  /** Connections still open once every container answered and froze. */
  heldConnections: number;
  /** Sessions the server started for the application during the spike. */
  sessions: number;
  latencyMs: number[];
  rssMiB: number[];
  seconds: number;
}

async function adminQuery<Row extends pg.QueryResultRow>(admin: pg.Client, sql: string): Promise<Row> {
  return (await admin.query<Row>(sql)).rows[0]!;
}

const appConnections = async (admin: pg.Client) =>
  Number((await adminQuery<{ count: string }>(admin, "SELECT count(*) AS count FROM pg_stat_activity WHERE usename = 'app'")).count);
const appSessions = async (admin: pg.Client) =>
  Number((await adminQuery<{ sessions: string }>(admin, "SELECT sessions FROM pg_stat_database WHERE datname = 'app'")).sessions);

/** The key a failed answer is counted under: its status and error code. */
function answerKey(result: unknown): string {
  const answer = result as { statusCode?: number; body?: string };
  let code = '';
  try {
    code = (JSON.parse(answer.body ?? '{}') as { error?: { code?: string } }).error?.code ?? '';
  } catch {
    // not JSON: the status says enough
  }
  return `${answer.statusCode ?? '?'}${code ? ` ${code}` : ''}`;
}

async function spike(options: {
  design: string;
  bundleFile: string;
  env: Record<string, string>;
  subs: string[];
  admin: pg.Client;
  progress: BenchContext['progress'];
}): Promise<SpikeOutcome> {
  const fn = HTTP_FUNCTIONS.find((candidate) => candidate.name === FUNCTION_NAME)!;
  const context = lambdaContext(fn);
  const children: ChildProcess[] = [];
  const answers = new Map<string, number>();
  const latencyMs: number[] = [];
  const rssMiB: number[] = [];
  let errors = 0;
  let peakConnections = 0;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      peakConnections = Math.max(peakConnections, await appConnections(options.admin));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const sessionsBefore = await appSessions(options.admin);
  const began = Date.now();
  try {
    for (let first = 0; first < CONTAINERS; first += WAVE) {
      await Promise.all(
        Array.from({ length: Math.min(WAVE, CONTAINERS - first) }, async (_, offset) => {
          const index = first + offset;
          const now = Math.floor(Date.now() / 1000);
          const sub = options.subs[index % options.subs.length]!;
          const event = eventForRoute(fn, {
            claims: { sub, token_use: 'access', client_id: 'bench', scope: 'aws.cognito.signin.user.admin', iat: String(now), exp: String(now + 3600) },
          });
          const run = runBundle({ bundleFile: options.bundleFile, event, context, env: options.env, stay: true });
          children.push(run.child);
          const started = performance.now();
          const sample = await run.sample;
          latencyMs.push(performance.now() - started);
          rssMiB.push(sample.rssMiB);
          // Lambda freezes the container once it has answered; its sockets stay open.
          run.child.kill('SIGSTOP');
          const key = answerKey(sample.result);
          answers.set(key, (answers.get(key) ?? 0) + 1);
          if (((sample.result as { statusCode?: number }).statusCode ?? 500) >= 400) errors += 1;
        }),
      );
      options.progress(`scale: ${options.design}: ${Math.min(first + WAVE, CONTAINERS)}/${CONTAINERS} containers answered and frozen`);
    }
    const seconds = (Date.now() - began) / 1000;
    polling = false;
    await poller;
    return {
      design: options.design,
      answers,
      errors,
      peakConnections,
      heldConnections: await appConnections(options.admin),
      sessions: (await appSessions(options.admin)) - sessionsBefore,
      latencyMs,
      rssMiB,
      seconds,
    };
  } finally {
    polling = false;
    await poller.catch(() => {});
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(
      children.map((child) => (child.exitCode !== null || child.signalCode !== null ? undefined : new Promise((resolve) => child.once('close', resolve)))),
    );
    // The server notices the closed sockets a moment later: wait, so the next spike starts from none.
    const deadline = Date.now() + 10_000;
    while ((await appConnections(options.admin)) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Capacity units a document client's requests consumed, recorded by a middleware. */
function recordCapacity(client: DynamoDBDocumentClient): { take(): { read: number; write: number } } {
  let read = 0;
  let write = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { ReturnConsumedCapacity?: string };
      input.ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
      const units = ((Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) as { CapacityUnits?: number }[]).reduce(
        (sum, entry) => sum + (entry.CapacityUnits ?? 0),
        0,
      );
      // TOTAL reports capacity units without saying which kind: the command does.
      if (/^(Get|BatchGet|Query|Scan)/.test(context.commandName ?? '')) read += units;
      else write += units;
      return result;
    },
    { step: 'initialize', name: 'benchConsumedCapacity' },
  );
  return {
    take() {
      const taken = { read, write };
      read = 0;
      write = 0;
      return taken;
    },
  };
}

/** Copies every user into the directory now, as the containers of the last minute did (an older copy is replaced). */
async function fillDirectory(options: { postgres: RealPostgres; documentClient: DynamoDBDocumentClient; tableName: string; subs: string[] }): Promise<void> {
  const pool = createPgPool(options.postgres.appUrl, 1);
  try {
    const users = createUsersRepository(pool);
    const copy = createDirectoryRepository(options.documentClient, { tableName: options.tableName });
    for (const sub of options.subs) {
      const user = await users.findByCognitoUserId(sub);
      if (user === undefined) throw new Error(`scale: no user ${sub}`);
      await copy.remember(user);
    }
  } finally {
    await pool.end();
  }
}

interface CostRow {
  way: string;
  ms: number[];
  rcu: number;
  wcu: number;
  sessions: number;
}

/**
 * One user found each way, {@link COST_SAMPLES} times, interleaved: today's pool (a warm
 * connection), the directory's hit (one GetItem), and its miss (a new connection to
 * PostgreSQL, then the copy written). Each lookup starts with an empty container cache.
 */
async function costs(options: { postgres: RealPostgres; dynamodbUrl: string; tableName: string; subs: string[]; admin: pg.Client }): Promise<CostRow[]> {
  const documentClient = localDocumentClient(options.dynamodbUrl);
  const capacity = recordCapacity(documentClient);
  const pool = createPgPool(options.postgres.appUrl, 1);
  const pooledUsers = createUsersRepository(pool);
  const shortLivedUsers = createUsersRepository(createShortLivedPostgres({ connectionString: async () => options.postgres.appUrl }));
  const copy = createDirectoryRepository(documentClient, { tableName: options.tableName });
  const rows: CostRow[] = [
    { way: "today: pg pool's warm connection", ms: [], rcu: 0, wcu: 0, sessions: 0 },
    { way: 'directory hit: one GetItem', ms: [], rcu: 0, wcu: 0, sessions: 0 },
    { way: 'directory miss: new PostgreSQL connection, copy written', ms: [], rcu: 0, wcu: 0, sessions: 0 },
  ];
  const ways = [
    () => pooledUsers.findByCognitoUserId,
    () => createCachedUserDirectory(shortLivedUsers, { copy }).findByCognitoUserId,
    () => createCachedUserDirectory(shortLivedUsers, { copy }).findByCognitoUserId,
  ];
  try {
    await pooledUsers.findByCognitoUserId(options.subs[0]!); // the pool's connection, opened before the clock starts
    for (let sample = 0; sample < COST_SAMPLES; sample += 1) {
      const sub = options.subs[sample % options.subs.length]!;
      for (const [index, way] of ways.entries()) {
        const row = rows[index]!;
        // A hit needs the copy filled first (not timed), by another container: this one's cache is empty.
        if (index === 1) await way()(sub);
        const find = way();
        if (index === 2) await documentClient.send(new DeleteCommand({ TableName: options.tableName, Key: keys.userBySub(sub) }));
        capacity.take();
        const sessionsBefore = await appSessions(options.admin);
        const started = performance.now();
        const user = await find(sub);
        row.ms.push(performance.now() - started);
        if (user === undefined) throw new Error(`scale: ${row.way} did not find ${sub}`);
        const used = capacity.take();
        row.rcu += used.read;
        row.wcu += used.write;
        row.sessions += (await appSessions(options.admin)) - sessionsBefore;
      }
    }
    return rows;
  } finally {
    await pool.end();
    documentClient.destroy();
  }
}

export const benchmark: Benchmark = {
  name: 'scale',
  summary: `${CONTAINERS} frozen containers against a PostgreSQL of ${MAX_CONNECTIONS} connections: a pg pool per container (today) vs the user directory`,
  async run(context) {
    const binaries = findPostgresBinaries();
    if ('missing' in binaries) return { skipped: `scale needs a real PostgreSQL server: ${binaries.missing}` };
    const neededMiB = CONTAINERS * CONTAINER_MIB;
    if (os.freemem() / 2 ** 20 < neededMiB) {
      return {
        skipped: `scale needs about ${round(neededMiB / 1024, 1)} GiB of free memory for ${CONTAINERS} frozen containers; ${round(os.freemem() / 2 ** 30, 1)} GiB is free`,
      };
    }
    const services = await context.services();
    context.progress(`scale: starting PostgreSQL from ${binaries.dir} (max_connections ${MAX_CONNECTIONS}, ${RESERVED_CONNECTIONS} reserved)...`);
    const postgres = await startRealPostgres({
      binDir: binaries.dir,
      maxConnections: MAX_CONNECTIONS,
      reservedConnections: RESERVED_CONNECTIONS,
    });
    const admin = new pg.Client({ connectionString: postgres.adminUrl });
    const documentClient = localDocumentClient(services.dynamodb.url);
    const tableName = `cruddur-messages-bench-scale-${Date.now().toString(36)}`;
    try {
      await admin.connect();
      const setup = createPgPool(postgres.appUrl, 1);
      const subs: string[] = [];
      try {
        await applyUsersSchema(setup);
        for (let index = 0; index < USERS; index += 1) {
          const sub = `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`;
          await setup.query("INSERT INTO public.users (display_name, handle, email, cognito_user_id) VALUES ($1, $2, $2 || '@example.test', $3)", [
            `Scale ${index}`,
            `scale_${index}`,
            sub,
          ]);
          subs.push(sub);
        }
      } finally {
        await setup.end();
      }
      await ensureTable(documentClient, tableName);

      context.progress('scale: bundling the function and the baseline...');
      const distDir = `${context.scratchDir}/scale-dist`;
      const fn = HTTP_FUNCTIONS.find((candidate) => candidate.name === FUNCTION_NAME)!;
      const built = await bundleFunction(fn, distDir);
      const baseline = await bundleFunction(BASELINE, distDir);
      const functionEnv = localFunctionEnvironment({ dynamodbUrl: services.dynamodb.url, databaseUrl: postgres.appUrl, tableName });
      const env = Object.fromEntries(Object.entries(functionEnv).filter(([, value]) => value !== undefined)) as Record<string, string>;

      const outcomes: SpikeOutcome[] = [];
      for (const [design, bundleFile] of [
        ['today: pg pool per container', baseline.file],
        ['user directory, empty (first spike)', built.file],
        ['user directory, filled (next spike)', built.file],
      ] as const) {
        // The next spike within a minute of the users' last copy: the copies answer it all.
        if (design.includes('filled')) await fillDirectory({ postgres, documentClient, tableName, subs });
        outcomes.push(await spike({ design, bundleFile, env, subs, admin, progress: context.progress }));
      }
      context.progress('scale: the cost of each way to find a user...');
      const costRows = await costs({ postgres, dynamodbUrl: services.dynamodb.url, tableName, subs, admin });

      const [today, first, next] = outcomes as [SpikeOutcome, SpikeOutcome, SpikeOutcome];
      const appSlots = MAX_CONNECTIONS - RESERVED_CONNECTIONS;
      const targets: Target[] = [first, next].flatMap((outcome) => [
        {
          name: `${outcome.design}: failed answers of ${CONTAINERS} containers`,
          target: '0',
          actual: `${outcome.errors} (today's design: ${today.errors})`,
          met: outcome.errors === 0,
        },
        {
          name: `${outcome.design}: connections held by the frozen containers`,
          target: '0',
          actual: `${outcome.heldConnections} (today's design: ${today.heldConnections})`,
          met: outcome.heldConnections === 0,
        },
      ]);
      return {
        tables: [
          {
            title: `Spike: ${CONTAINERS} containers of ${FUNCTION_NAME}, ${WAVE} at a time, each invoked once then frozen; PostgreSQL ${postgres.version}, max_connections ${MAX_CONNECTIONS} (${appSlots} for the application)`,
            columns: ['design', 'answers', 'failed', 'peak connections', 'held when frozen', 'sessions opened', 'p50 ms', 'p99 ms', 'seconds'],
            rows: outcomes.map((outcome) => [
              outcome.design,
              [...outcome.answers.entries()].map(([key, count]) => `${count}x ${key}`).join(', '),
              outcome.errors,
              outcome.peakConnections,
              outcome.heldConnections,
              outcome.sessions,
              round(percentile(outcome.latencyMs, 50)),
              round(percentile(outcome.latencyMs, 99)),
              round(outcome.seconds, 1),
            ]),
            note: `ms: spawn to answer of a cold container (node start, import, first invocation) on this machine's ${USERS} users; RSS per container p50 ${round(
              percentile(
                outcomes.flatMap((outcome) => outcome.rssMiB),
                50,
              ),
            )} MiB`,
          },
          {
            title: `Cost of finding a user, per lookup (${COST_SAMPLES} each, interleaved, in one process)`,
            columns: ['way', 'p50 ms', 'p99 ms', 'RCU', 'WCU', 'PostgreSQL sessions'],
            rows: costRows.map((row) => [
              row.way,
              round(percentile(row.ms, 50), 2),
              round(percentile(row.ms, 99), 2),
              round(row.rcu / COST_SAMPLES, 2),
              round(row.wcu / COST_SAMPLES, 2),
              round(row.sessions / COST_SAMPLES, 2),
            ]),
            note: 'capacity as DynamoDB Local reports it (ReturnConsumedCapacity TOTAL); on loopback without TLS, where RDS adds a TLS handshake to every new connection',
          },
        ],
        targets,
        figures: {
          postgres: { version: postgres.version, maxConnections: MAX_CONNECTIONS, reserved: RESERVED_CONNECTIONS },
          containers: CONTAINERS,
          wave: WAVE,
          users: USERS,
          spikes: outcomes.map((outcome) => ({
            design: outcome.design,
            answers: Object.fromEntries(outcome.answers),
            errors: outcome.errors,
            peakConnections: outcome.peakConnections,
            heldConnections: outcome.heldConnections,
            sessions: outcome.sessions,
            p50Ms: percentile(outcome.latencyMs, 50),
            p99Ms: percentile(outcome.latencyMs, 99),
            seconds: outcome.seconds,
            rssMiBp50: percentile(outcome.rssMiB, 50),
          })),
          costs: costRows.map((row) => ({
            way: row.way,
            p50Ms: percentile(row.ms, 50),
            p99Ms: percentile(row.ms, 99),
            rcuPerLookup: row.rcu / COST_SAMPLES,
            wcuPerLookup: row.wcu / COST_SAMPLES,
            sessionsPerLookup: row.sessions / COST_SAMPLES,
          })),
        },
      };
    } finally {
      await admin.end().catch(() => {});
      await documentClient.send(new DeleteTableCommand({ TableName: tableName })).catch(() => {});
      documentClient.destroy();
      await postgres.stop();
    }
  },
};

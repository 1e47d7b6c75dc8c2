/**
 * `npm run soak`: the system under concurrent use for a bounded time, then a check of what
 * it stored. Either its own runtime (the local services in memory on free ports, a table,
 * seeded users, the HTTP API in this process and the stream consumer in a child process)
 * or, with `apiUrl`, a running `npm start`.
 *
 * Fault mode (own runtime only) adds, while the load runs: DynamoDB faults in the functions'
 * client (local/faults.ts), a SIGKILL of the stream consumer halfway and a
 * restart that must resume from its checkpoint, and poison records written straight into
 * the table that must not hold the stream back.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Pool } from 'pg';
import { buildMessageItem, keys, nowIso } from '../../functions/data/model';
import { createPgPool } from '../../functions/clients/postgres-pool';
import { localDocumentClient } from '../../local/aws';
import { formatFaultRates, injectedFaults, type FaultKind, type FaultRates } from '../../local/faults';
import { streamFiles } from '../../local/paths';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime';
import { startLocalServices, type LocalServices } from '../../local/services';
import { getFreePort, LOCAL_HOST } from '../../local/services/process';
import { startConsumerProcess, type ConsumerProcess } from '../../local/streams/consumer-process';
import { readDeadLetters } from '../../local/streams/dead-letters';
import { bootstrapLocalData } from '../../scripts/lib/bootstrap';
import type { Output } from '../../scripts/lib/cli';
import { createCognitoClient, findLocalPool, type LocalPool } from '../../scripts/lib/cognito';
import { databaseUrlOf, runningServiceTargets, type Targets } from '../../scripts/lib/targets';
import { STREAM_FUNCTIONS } from '../../functions/catalog';
import { checkPushes, checkSoak, unplaceableKeys, readTableSnapshot, violationCounts, type PoisonRecord, type TableSnapshot, type Violation } from './check';
import { percentile } from '../lib/stats';
import { DEFAULT_THINK_MS, runLoad, type LoadResult, type RequestKind } from './load';
import { openListeners } from './listeners';
import { createSoakUsers, type SoakUser } from './users';

export interface SoakOptions {
  durationMs: number;
  users: number;
  /** Mean pause between one user's actions (default {@link DEFAULT_THINK_MS}). */
  thinkMs?: number;
  /** A running `npm start`'s API; the soak starts its own runtime when absent. */
  apiUrl?: string;
  /** Use the local services already running at the targets' ports (e.g. npm test's) with a table of the soak's own. */
  reuseServices?: boolean;
  /** Where the scripts point (the local services' ports and the table of a running npm start). */
  targets: Targets;
  /** Retry mode: POSTs with an Idempotency-Key, retried, the answer of every `loseEvery`-th lost on purpose. */
  retries?: { attempts: number; loseEvery: number };
  /** The seed of every choice the simulated people make (printed, so a run can be repeated). */
  seed: number;
  /** Fault mode: DynamoDB faults at these rates, a consumer crash, poison records. */
  faults?: FaultRates;
  /** How long the stream may take to drain after the load. */
  drainTimeoutMs?: number;
  /** Cap on the stream consumer's pause between retries (own runtime only; default: Lambda-like backoff). */
  retryDelayCapMs?: number;
  out: Output;
}

/** `5th`, `2nd`: how often an answer is lost. */
function ordinal(n: number): string {
  return `${n}${n % 10 === 1 && n % 100 !== 11 ? 'st' : n % 10 === 2 && n % 100 !== 12 ? 'nd' : n % 10 === 3 && n % 100 !== 13 ? 'rd' : 'th'}`;
}

export interface SoakSummary {
  violations: Violation[];
  load: LoadResult;
}

/** Where the soak runs: the API, the table, and (own runtime) the consumer and its files. */
interface Target {
  apiUrl: string;
  dynamodbUrl: string;
  postgresUrl: string;
  cognitoUrl: string;
  tableName: string;
  pool: LocalPool;
  own?: {
    dataDir: string;
    /** Every line the consumer processes logged. */
    consumerLines: string[];
    consumer: () => ConsumerProcess;
    restartConsumer: () => Promise<ConsumerProcess>;
    stop(): Promise<void>;
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
/** The stream function the soak crashes and checks (the summaries, pattern E). */
const SOAK_STREAM_FUNCTION = 'message-stream';

/** The consumer's lines worth showing: where it reads from, retries and dead letters; not every batch. */
const NOTABLE_CONSUMER_LINE = /resuming|reading arn|retry|giving up|written to|cannot read|bisecting/;

async function startOwnRuntime(options: SoakOptions, out: Output, scratch: string): Promise<Target> {
  let services: LocalServices | undefined;
  let endpoints: { dynamodbUrl: string; postgresUrl: string; cognitoUrl: string };
  let tableName = 'cruddur-messages';
  if (options.reuseServices) {
    const { targets } = options;
    // Tokens name 127.0.0.1 in their issuer (local/services/cognito.ts): the authorizer must too.
    endpoints = { dynamodbUrl: targets.dynamodbEndpoint!, postgresUrl: databaseUrlOf(targets), cognitoUrl: `http://${LOCAL_HOST}:${targets.ports.cognito}` };
    tableName = `cruddur-messages-soak-${randomUUID().slice(0, 8)}`;
  } else {
    const ports = { dynamodb: await getFreePort(), postgres: await getFreePort(), cognito: await getFreePort() };
    services = await startLocalServices({ ports, scratchDir: path.join(scratch, 'services'), onProgress: (line) => out.log(line) });
    endpoints = { dynamodbUrl: services.dynamodb.url, postgresUrl: services.postgres.url, cognitoUrl: services.cognito.url };
  }
  let runtime: LocalRuntime | undefined;
  let consumer: ConsumerProcess | undefined;
  const consumerLines: string[] = [];
  const stopAll = async () => {
    await consumer?.stop();
    await runtime?.stop();
    await services?.stop();
  };
  try {
    const serviceTargets = runningServiceTargets(
      { dynamodb: { url: endpoints.dynamodbUrl }, postgres: { url: endpoints.postgresUrl }, cognito: { url: endpoints.cognitoUrl } },
      tableName,
      options.targets.ports,
    );
    const pool = await bootstrapLocalData(serviceTargets, { log: (line) => out.log(line), error: (line) => out.error(line) });
    const dataDir = path.join(scratch, 'data');
    const functionTargets = { dynamodbUrl: endpoints.dynamodbUrl, databaseUrl: endpoints.postgresUrl, tableName };
    runtime = await startLocalRuntime({
      port: 0,
      targets: { ...functionTargets, cognitoUrl: endpoints.cognitoUrl },
      pool,
      dataDir,
      // The functions' own log lines would bury the soak's figures.
      logLevel: 'CRITICAL',
      // From here on the functions' client (here and in the consumer's process) sees the faults.
      faults: options.faults,
      // The summaries consumer runs in a child process of its own (killed halfway in fault mode);
      // the push consumer here, so the listeners get their messages.
      streamFunctions: STREAM_FUNCTIONS.filter((fn) => fn.name !== SOAK_STREAM_FUNCTION),
      // Every request has a line; the soak prints its own figures. A function that crashed is worth seeing.
      log: (line) => {
        if (/ failed: /.test(line)) out.log(`  gateway: ${line.split('\n')[0]}`);
      },
    });
    const startConsumer = async () =>
      (consumer = await startConsumerProcess({
        functionName: SOAK_STREAM_FUNCTION,
        targets: functionTargets,
        dataDir,
        faults: options.faults,
        ...(options.retryDelayCapMs === undefined ? {} : { retryDelayCapMs: options.retryDelayCapMs }),
        // The function's errors, among them the records it reports as never applicable (the poison).
        logLevel: 'ERROR',
        log: (line) => {
          consumerLines.push(line);
          if (!line.startsWith('{') && NOTABLE_CONSUMER_LINE.test(line)) out.log(`  consumer: ${line}`);
        },
      }));
    await startConsumer();
    return {
      apiUrl: runtime.gateway.url,
      ...endpoints,
      tableName,
      pool,
      own: { dataDir, consumerLines, consumer: () => consumer!, restartConsumer: startConsumer, stop: stopAll },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function useRunningApi(apiUrl: string, targets: Targets): Promise<Target> {
  const cognito = createCognitoClient(targets.cognitoEndpoint);
  try {
    const pool = await findLocalPool(cognito);
    const probe = await fetch(`${apiUrl}/api/message_groups`).catch(() => undefined);
    if (probe?.status !== 401)
      throw new Error(
        `${apiUrl} is not the Cruddur messaging API (expected 401 without a token, got ${probe?.status ?? 'no answer'}): start it with npm start`,
      );
    return {
      apiUrl: apiUrl.replace(/\/+$/, ''),
      dynamodbUrl: targets.dynamodbEndpoint!,
      postgresUrl: databaseUrlOf(targets),
      cognitoUrl: targets.cognitoEndpoint!,
      tableName: targets.tableName,
      pool,
    };
  } finally {
    cognito.destroy();
  }
}

/** Writes the poison records: one the stream function can never apply (its group does not exist), one it cannot even read as a message. */
async function injectPoison(client: DynamoDBDocumentClient, tableName: string): Promise<PoisonRecord[]> {
  const orphan = buildMessageItem({
    groupUuid: randomUUID(),
    messageUuid: randomUUID(),
    sender: { user_uuid: randomUUID(), display_name: 'Poison', handle: 'poison' },
    text: 'poison: a message of a group that does not exist',
    createdAt: nowIso(),
  });
  const malformed = { ...keys.message(randomUUID(), nowIso(), randomUUID()), message: 42 };
  for (const Item of [orphan, malformed]) await client.send(new PutCommand({ TableName: tableName, Item }));
  return [
    { kind: 'orphan', key: { pk: orphan.pk, sk: orphan.sk } },
    { kind: 'malformed', key: { pk: malformed.pk, sk: malformed.sk } },
  ];
}

/** Waits until the consumer has read everything and retries nothing, twice in a row a second apart. */
async function waitForConsumerDrain(consumer: () => ConsumerProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let quietSince: number | undefined;
  while (Date.now() < deadline) {
    const status = consumer().status();
    const drained = status?.caughtUp && status.shards.every((shard) => shard.retrying === undefined && shard.buffered === 0);
    if (!drained) quietSince = undefined;
    else if (quietSince === undefined) quietSince = Date.now();
    else if (Date.now() - quietSince >= 1500) return true;
    await sleep(250);
  }
  return false;
}

/** Without the consumer's status (a running npm start): waits until the summaries agree with the messages. */
async function waitForSummaries(check: () => Promise<Violation[]>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const pending = (await check()).filter((violation) => violation.kind === 'stale-summary' || violation.kind === 'summary-count');
    if (pending.length === 0) return true;
    await sleep(2000);
  }
  return false;
}

function latencyLines(load: LoadResult): string[] {
  const kinds: (RequestKind | 'all')[] = ['A', 'B', 'C', 'D', 'read', 'all'];
  const names: Record<string, string> = {
    A: 'A list messages',
    B: 'B list groups',
    C: 'C message to group',
    D: 'D message by handle',
    read: 'mark read',
    all: 'all requests',
  };
  return kinds.map((kind) => {
    const ms = load.requests.filter((request) => kind === 'all' || request.kind === kind).map((request) => request.ms);
    const fmt = (p: number) => String(Math.round(percentile(ms, p))).padStart(6);
    return `    ${names[kind]!.padEnd(20)} ${String(ms.length).padStart(7)} ${fmt(50)} ${fmt(99)} ${fmt(100)}`;
  });
}

const formatFaults = (counts: Record<FaultKind, number> | undefined) =>
  counts === undefined
    ? 'unknown'
    : Object.entries(counts)
        .map(([kind, count]) => `${kind} ${count}`)
        .join(', ');

export async function runSoak(options: SoakOptions): Promise<SoakSummary> {
  const { out } = options;
  if (options.faults && options.apiUrl) throw new Error("fault mode needs the soak's own runtime (it kills and restarts the stream consumer): drop --api");
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'cruddur-soak-'));
  const began = Date.now();
  let target: Target | undefined;
  let db: DynamoDBDocumentClient | undefined;
  let pg: Pool | undefined;
  try {
    if (options.apiUrl) {
      out.log(`Soaking the running API at ${options.apiUrl}`);
      target = await useRunningApi(options.apiUrl, options.targets);
    } else {
      out.log(`Starting a runtime of the soak's own${options.reuseServices ? ' on the running local services' : ''}...`);
      target = await startOwnRuntime(options, out, scratch);
      out.log(`Runtime ready after ${seconds(Date.now() - began)}: API ${target.apiUrl}, table ${target.tableName}`);
    }
    db = localDocumentClient(target.dynamodbUrl);
    pg = createPgPool(target.postgresUrl, 2);

    out.log(`Creating ${options.users} users in PostgreSQL and Cognito and signing them in...`);
    const usersBegan = Date.now();
    const cognito = createCognitoClient(target.cognitoUrl);
    let users: SoakUser[];
    try {
      users = await createSoakUsers({ count: options.users, pool: pg, cognito, localPool: target.pool, progress: (line) => out.log(line) });
    } finally {
      cognito.destroy();
    }
    out.log(`  ${users.length} users ready in ${seconds(Date.now() - usersBegan)}`);

    const faultNote = options.faults ? `, faults ${formatFaultRates(options.faults)}` : '';
    const thinkMs = options.thinkMs ?? DEFAULT_THINK_MS;
    const retryNote = options.retries
      ? `, POSTs retried with an Idempotency-Key (${options.retries.attempts} attempts, the answer of every ${ordinal(options.retries.loseEvery)} POST of each person lost on purpose, their first included)`
      : '';
    out.log(
      `Load: ${users.length} users for ${seconds(options.durationMs)}, one action every ${seconds(thinkMs)} each on average (~${(users.length / (thinkMs / 1000)).toFixed(1)} requests/s offered)${faultNote}${retryNote}; seed ${options.seed} (--seed ${options.seed} repeats the choices)`,
    );
    const poison: PoisonRecord[] = [];
    const events: Promise<void>[] = [];
    const notes: string[] = [];
    const violations: Violation[] = [];
    const own = target.own;
    const consumerLines = own?.consumerLines ?? [];
    if (options.faults && own) {
      const at = (fraction: number, event: () => Promise<void>) => events.push(sleep(options.durationMs * fraction).then(event));
      const poisonEvent = async () => {
        poison.push(...(await injectPoison(db!, target!.tableName)));
        out.log(`  poison: wrote an orphan message and a malformed MSG# item straight into the table`);
      };
      at(0.25, poisonEvent);
      at(0.5, async () => {
        const killed = own.consumer();
        await killed.kill();
        out.log(`  consumer: killed with SIGKILL (pid ${killed.pid}) at ${seconds(Date.now() - began)} since start; restarting in 2 s`);
        await sleep(2000);
        const from = consumerLines.length;
        const restarted = await own.restartConsumer();
        notes.push(`consumer killed with SIGKILL halfway and restarted (pid ${restarted.pid})`);
        // Its first line says where it reads from: the checkpoint, or (wrongly) the start of the stream.
        if (!consumerLines.slice(from).some((line) => /resuming .* from the checkpoint/.test(line))) {
          violations.push({ kind: 'consumer-not-resumed', detail: `the restarted consumer said: ${consumerLines.slice(from).join(' | ') || 'nothing'}` });
        }
      });
      at(0.75, poisonEvent);
    }
    // One open app per person, from before the first message to after the last push.
    const listenersSince = nowIso();
    const listeners = await openListeners(target.apiUrl, users);
    out.log(`  ${listeners.logs.length} listeners connected to the WebSocket API`);
    const load = await runLoad({
      apiUrl: target.apiUrl,
      users,
      durationMs: options.durationMs,
      thinkMs: options.thinkMs,
      faultsInjected: options.faults !== undefined,
      retries: options.retries,
      seed: options.seed,
      progress: (line) => out.log(line),
      typing: (user, groupUuid) => listeners.typing(user.uuid, groupUuid),
    });
    await Promise.all(events);

    out.log('Load over; waiting for the stream to drain...');
    const drainBegan = Date.now();
    const drainTimeoutMs = options.drainTimeoutMs ?? 180_000;
    const userUuids = options.apiUrl ? new Set(users.map((user) => user.uuid)) : undefined;
    const deadLetterFile = own ? streamFiles(own.dataDir, SOAK_STREAM_FUNCTION).deadLetterFile : undefined;
    const check = async (snapshot?: TableSnapshot) =>
      checkSoak({
        sent: load.sent,
        unexpected: load.unexpected,
        snapshot: snapshot ?? (await readTableSnapshot(db!, target!.tableName)),
        deadLetters: deadLetterFile ? readDeadLetters(deadLetterFile) : undefined,
        poison,
        unplaceable: unplaceableKeys(consumerLines),
        userUuids,
      });
    const drained = own ? await waitForConsumerDrain(own.consumer, drainTimeoutMs) : await waitForSummaries(() => check(), drainTimeoutMs);
    out.log(drained ? `  drained in ${seconds(Date.now() - drainBegan)}` : `  not drained after ${seconds(drainTimeoutMs)}; checking what is there`);

    const snapshot = await readTableSnapshot(db, target.tableName);
    violations.push(...(await check(snapshot)));
    // The pushes trail the writes by the push consumer's poll: wait until every listener has what it should (or the deadline).
    const pushDeadline = Date.now() + 30_000;
    const pushViolations = () =>
      checkPushes({ snapshot, listeners: listeners.logs.filter((log) => !listeners.closedEarly().includes(log.handle)), since: listenersSince });
    while (pushViolations().some((violation) => violation.kind === 'push-missing') && Date.now() < pushDeadline) await sleep(250);
    await sleep(500); // anything sent twice arrives within this
    await listeners.close();
    violations.push(...pushViolations());
    if (listeners.closedEarly().length > 0) notes.push(`listeners closed early (not checked): ${listeners.closedEarly().join(', ')}`);
    notes.push(`pushes    ${listeners.received()} frames to ${listeners.logs.length} listeners; each stored message checked at both members' listeners`);
    const frames = (kind: 'receipts' | 'typing') => listeners.logs.reduce((sum, log) => sum + log[kind].length, 0);
    notes.push(
      `read state ${load.marks} marks; every group's unread counts recounted from its messages and markers; ${frames('receipts')} read receipts and ${frames('typing')} typing frames received (of ${load.typingSent} sent), each checked to reach only the members it should`,
    );
    printSummary({
      out,
      load,
      users,
      snapshot,
      violations,
      notes,
      faults: options.faults,
      retries: options.retries,
      consumerFaults: own?.consumer().faults(),
      deadLetters: deadLetterFile ? readDeadLetters(deadLetterFile).length : undefined,
      unplaceable: own ? unplaceableKeys(consumerLines).size : undefined,
      totalMs: Date.now() - began,
    });
    return { violations, load };
  } finally {
    db?.destroy();
    await pg?.end();
    await target?.own?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

function printSummary(report: {
  out: Output;
  load: LoadResult;
  users: SoakUser[];
  snapshot: TableSnapshot;
  violations: Violation[];
  notes: string[];
  faults?: FaultRates;
  retries?: SoakOptions['retries'];
  consumerFaults?: Record<FaultKind, number>;
  deadLetters?: number;
  /** Records the stream function reported as never applicable. */
  unplaceable?: number;
  totalMs: number;
}): void {
  const { out, load, violations } = report;
  const sent = load.sent;
  const accepted = sent.filter((message) => message.outcome === 'accepted');
  const refused = sent.filter((message) => message.outcome === 'rejected');
  const unknown = sent.filter((message) => message.outcome === 'unknown');
  const storedUuids = new Set(report.snapshot.messages.map((item) => item.message_uuid));
  const stored = accepted.filter((message) => storedUuids.has(message.uuid)).length;
  const statusCounts = new Map<string, number>();
  for (const request of load.requests) statusCounts.set(String(request.status ?? 'none'), (statusCounts.get(String(request.status ?? 'none')) ?? 0) + 1);
  const perKind = (['A', 'B', 'C', 'D'] as const).map((kind) => `${kind} ${load.requests.filter((request) => request.kind === kind).length}`).join(', ');

  out.log('');
  out.log(
    `Soak: ${report.users.length} users, ${seconds(load.elapsedMs)} of load${report.faults ? `, faults ${formatFaultRates(report.faults)}` : ', no faults'} (${seconds(report.totalMs)} in all)`,
  );
  out.log(
    `  requests   ${load.requests.length} (${(load.requests.length / (load.elapsedMs / 1000)).toFixed(1)} rps): ${perKind}; statuses ${[...statusCounts].map(([status, count]) => `${status} x${count}`).join(', ')}`,
  );
  out.log(`  messages   sent ${sent.length}: accepted ${accepted.length}, refused ${refused.length}, no clear answer ${unknown.length}; D races ${load.races}`);
  out.log(
    `  stored     ${stored} of the ${accepted.length} accepted; table: ${report.snapshot.messages.length} messages, ${report.snapshot.groups.length} groups, ${report.snapshot.summaries.length} summaries, ${report.snapshot.pairs.length} pairs`,
  );
  if (report.faults) {
    out.log(`  faults     API: ${formatFaults(injectedFaults())}; consumer: ${formatFaults(report.consumerFaults)}`);
  }
  if (report.retries)
    out.log(
      `  retries    Idempotency-Key on every POST: ${load.lost} first attempts' answers lost on purpose, ${load.retried} attempts sent again, ${load.replays} answered as replays`,
    );
  if (report.deadLetters !== undefined) out.log(`  dead letters ${report.deadLetters}`);
  if (report.unplaceable !== undefined) out.log(`  reported as never applicable ${report.unplaceable}`);
  for (const note of report.notes) out.log(`  ${note}`);
  out.log('  latency (ms)          requests    p50    p99    max');
  for (const line of latencyLines(load)) out.log(line);
  if (violations.length === 0) {
    out.log('Violations: none');
    return;
  }
  out.log(
    `Violations: ${violations.length} (${violationCounts(violations)
      .map(([kind, count]) => `${kind} ${count}`)
      .join(', ')})`,
  );
  // The first three of each kind: one kind in bulk must not hide another.
  const shown = violationCounts(violations).flatMap(([kind]) => violations.filter((violation) => violation.kind === kind).slice(0, 3));
  for (const violation of shown) out.log(`  ${violation.kind}: ${violation.detail}`);
  if (violations.length > shown.length) out.log(`  ... and ${violations.length - shown.length} more`);
}

/**
 * `npm run bench -- cold-start`: per function of the catalog, the bundle `npm run build`
 * makes, loaded in a fresh `node` process with the deployed environment (pointed at the
 * local services) and invoked once with a realistic event: the time from `import()` to the
 * handler's answer, as a Lambda cold start spends it after the runtime's own boot.
 *
 * Each function has a floor of its own: `bench/lib/io-floor.ts`, bundled the same way, making
 * the DynamoDB requests that function cannot avoid on its first invocation (the plan below),
 * as many round trips one after another and as many at once, and nothing else. The user
 * directory holds the fixture's users (a user who used the app within the last minute), so
 * no function asks PostgreSQL; the scale benchmark measures the miss. Repetitions are
 * interleaved (a function's floor, the function, the next floor, ...) and the lower quartile
 * is kept: another process on a shared machine only ever slows a run (here some runs import
 * in 240 ms where most take 175), so the lower figures are the work itself.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { createDirectoryRepository } from '../functions/data/directory-repository';
import { keys, type MessageItem } from '../functions/data/model';
import { FUNCTIONS, TYPING_ACTION, type FunctionDefinition } from '../functions/catalog';
import { createConnectionsRepository } from '../functions/data/connections-repository';
import { buildAll } from '../scripts/build';
import { bundleFunction } from '../infrastructure/bundling/bundle';
import { eventForRoute } from '../local/gateway/http-event';
import { lambdaContext, localFunctionEnvironment } from '../local/lambda';
import { REPOSITORY_ROOT } from '../local/paths';
import { answerFailed, type BundleSample, runBundle } from './lib/bundle-process';
import type { FloorRequest } from './lib/io-floor';
import type { Benchmark, Target } from './lib/harness';
import { percentile, round } from './lib/stats';
import { createMessagingFixture, type MessagingFixture } from './lib/messaging-fixture';

const REPETITIONS = 9;
/** The targets: each bundle's load + first invocation at most this multiple of its floor's, */
const TARGET_RATIO = 1.15;
/** and a stream consumer's import alone (it holds no more than the SDK and its own code). */
const TARGET_STREAM_IMPORT_RATIO = 1.05;
/** Packages shown per bundle in the contents table; the rest are summed. */
const CONTENT_COLUMNS = 6;
const FLOOR = { name: 'io-floor', entry: 'bench/lib/io-floor.ts' } as const;

/** A cold start's figures: the child's own, and its spawn-to-exit time seen by the benchmark. */
interface Sample extends Omit<BundleSample, 'result'> {
  processMs: number;
}

async function runCold(bundleFile: string, event: unknown, context: unknown, env: Record<string, string>): Promise<Sample> {
  const began = process.hrtime.bigint();
  const run = runBundle({ bundleFile, event, context, env });
  const timer = setTimeout(() => run.child.kill('SIGKILL'), 60_000);
  try {
    const { result, ...sample } = await run.sample;
    if (run.child.exitCode === null) await new Promise((resolve) => run.child.once('close', resolve));
    if (answerFailed(result)) throw new Error(`${bundleFile} answered ${JSON.stringify(result).slice(0, 300)}`);
    return { ...sample, processMs: Number(process.hrtime.bigint() - began) / 1e6 };
  } finally {
    clearTimeout(timer);
  }
}

/** The event each function gets on its cold start: what the HTTP API or the stream would send. `message` is new since the last round. */
function eventFor(fn: FunctionDefinition, fixture: MessagingFixture, message: MessageItem, typingConnectionId: string): unknown {
  const { caller, group } = fixture;
  if (fn.kind === 'stream') {
    // The sample event's record, carrying a message the summaries do not show yet.
    const sample = JSON.parse(readFileSync(path.join(REPOSITORY_ROOT, 'events', 'message-stream.json'), 'utf8')) as {
      Records: { dynamodb: Record<string, unknown> }[];
    };
    const record = sample.Records[0]!;
    const image = marshall(message);
    record.dynamodb = { ...record.dynamodb, Keys: { pk: image.pk, sk: image.sk }, NewImage: image };
    return { Records: [record] };
  }
  if (fn.kind === 'websocket') {
    // As the local WebSocket API builds it: what the authorizer passed on, and the connection
    // (for typing, an open connection of the caller's, made for this round, and the frame).
    const typing = fn.route === TYPING_ACTION;
    return {
      ...(typing ? { body: JSON.stringify({ action: TYPING_ACTION, message_group_uuid: group.uuid }), isBase64Encoded: false } : {}),
      requestContext: {
        routeKey: fn.route,
        eventType: fn.route === '$connect' ? 'CONNECT' : typing ? 'MESSAGE' : 'DISCONNECT',
        connectionId: typing ? typingConnectionId : 'Bench0ColdStart=',
        stage: 'ws',
        apiId: 'local',
        requestId: 'bench',
        authorizer: { sub: caller.sub, principalId: caller.sub },
      },
      isBase64Encoded: false,
    };
  }
  if (fn.kind !== 'http') throw new Error(`cold-start has no event for ${fn.name}`);
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    sub: caller.sub,
    token_use: 'access',
    client_id: 'bench',
    scope: 'aws.cognito.signin.user.admin',
    username: caller.handle,
    iat: String(now),
    exp: String(now + 3600),
  };
  const byName: Record<string, Parameters<typeof eventForRoute>[1]> = {
    'list-message-groups': {},
    'list-messages': { pathParameters: { message_group_uuid: group.uuid } },
    'create-message': { body: JSON.stringify({ message: 'A cold start says hello', message_group_uuid: group.uuid }) },
    'user-short': { pathParameters: { handle: `@${group.other.handle}` } },
    'mark-read': { pathParameters: { message_group_uuid: group.uuid } },
    'count-unread': {},
  };
  const input = byName[fn.name];
  if (input === undefined) throw new Error(`cold-start has no event for ${fn.name}: add one`);
  return eventForRoute(fn, { ...input, claims });
}

type Item = Record<string, unknown>;

/**
 * What the floor's writes act on: copies of the fixture's group item, both its summaries and a
 * connection, under keys of the floor's own, written again before every floor run. So the
 * floor's updates and deletes find an item, as the function's do, and its puts write items of
 * the same size into the same index (a summary carries the index's key): DynamoDB Local's work
 * for a write depends on the items it touches, not only on how many.
 */
interface FloorItems {
  group: Item;
  /** The summaries a move deletes, and the ones it puts. */
  staleSummaries: Item[];
  newSummaries: Item[];
  connection: Item;
}

const floorKey = (name: string) => ({ pk: `BENCH#floor#${name}`, sk: 'BENCH' });

async function floorItems(fixture: MessagingFixture): Promise<FloorItems> {
  const { documentClient, tableName: TableName } = fixture;
  const group = (await documentClient.send(new GetCommand({ TableName, Key: keys.group(fixture.group.uuid), ConsistentRead: true }))).Item!;
  const summaries = await Promise.all(
    [fixture.caller.user_uuid, fixture.group.other.user_uuid].map(async (owner) => {
      const { Items = [] } = await documentClient.send(
        new QueryCommand({ TableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.groupSummaryPartition(owner) } }),
      );
      const summary = Items.find((item) => item.message_group_uuid === fixture.group.uuid);
      if (summary === undefined) throw new Error(`cold-start: no summary of group ${fixture.group.uuid} for ${owner}`);
      return summary;
    }),
  );
  const copy = (item: Item, name: string) => ({ ...item, ...floorKey(name), ...('message_group_uuid' in item ? { message_group_uuid: 'BENCH-floor' } : {}) });
  return {
    group: copy(group, 'group'),
    staleSummaries: summaries.map((summary, index) => copy(summary, `summary-stale${index}`)),
    newSummaries: summaries.map((summary, index) => copy(summary, `summary-new${index}`)),
    connection: { ...floorKey('typing0'), connection_id: 'Bench0Floor=', expires_at: Math.floor(Date.now() / 1000) + 24 * 3600 },
  };
}

/** Writes the items the floor's updates and deletes act on (between runs, not in them). */
async function prepareFloor(fixture: MessagingFixture, items: FloorItems): Promise<void> {
  await Promise.all(
    [items.group, ...items.staleSummaries, items.connection].map((Item) => fixture.documentClient.send(new PutCommand({ TableName: fixture.tableName, Item }))),
  );
}

/**
 * What each function cannot avoid on its first invocation, as DynamoDB requests: the caller
 * from the user directory (a cold container has no cache), then what the route reads or
 * writes; where two requests do not depend on each other they share a step. Writes are of the
 * function's kinds (an update of an item that exists, a condition, a delete) and go to the
 * floor's own copies of the items the function writes ({@link FloorItems}).
 */
function floorPlan(fn: FunctionDefinition, fixture: MessagingFixture, items: FloorItems): FloorRequest[][] {
  const TableName = fixture.tableName;
  const get = (key: object, consistent = false): FloorRequest => ({
    GetItem: { TableName, Key: marshall(key), ...(consistent ? { ConsistentRead: true } : {}) },
  });
  const page = (partition: string): FloorRequest => ({
    Query: { TableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: marshall({ ':pk': partition }), ScanIndexForward: false, Limit: 21 },
  });
  const put = (name: string, bytes: number) => ({ TableName, Item: marshall({ ...floorKey(name), body: 'x'.repeat(bytes) }) });
  const keyOf = (item: Item) => marshall({ pk: item.pk, sk: item.sk });
  // An update of an item that must exist, as the function's conditional updates are.
  const update = (item: Item, set: Record<string, unknown>) => ({
    TableName,
    Key: keyOf(item),
    UpdateExpression: `SET ${Object.keys(set)
      .map((_, index) => `#a${index} = :v${index}`)
      .join(', ')}`,
    ConditionExpression: 'attribute_exists(pk)',
    ExpressionAttributeNames: Object.fromEntries(Object.keys(set).map((name, index) => [`#a${index}`, name])),
    ExpressionAttributeValues: marshall(Object.fromEntries(Object.values(set).map((value, index) => [`:v${index}`, value]))),
  });
  const now = Date.now();
  // A connection's typing turn, as the typing route takes it (the condition included).
  const typingTurn = (key: object, conditionFails: boolean): FloorRequest => ({
    UpdateItem: {
      TableName,
      Key: marshall(key),
      UpdateExpression: 'SET typing_at = :now',
      ConditionExpression: 'attribute_exists(pk) AND expires_at > :nowSeconds AND (attribute_not_exists(typing_at) OR typing_at <= :since)',
      ExpressionAttributeValues: marshall({ ':now': now, ':nowSeconds': Math.floor(now / 1000), ':since': now - 1000 }),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
    ...(conditionFails ? { conditionFails: true as const } : {}),
  });
  const caller = get(keys.userBySub(fixture.caller.sub));
  const group = get(keys.group(fixture.group.uuid), true);
  const rateUpdate: FloorRequest = {
    UpdateItem: {
      TableName,
      Key: marshall({ pk: 'BENCH#floor#rate', sk: 'BENCH' }),
      UpdateExpression: 'ADD request_count :one',
      ExpressionAttributeValues: marshall({ ':one': 1 }),
    },
  };
  const plans: Record<string, FloorRequest[][]> = {
    // B: the caller's uuid is the summaries' partition key, so the Query waits for the caller.
    'list-message-groups': [[caller], [page(keys.groupSummaryPartition(fixture.caller.user_uuid))]],
    // A and C: the caller and the group's members at once, then the page or the message.
    'list-messages': [[caller, group], [page(keys.messagePartition(fixture.group.uuid))]],
    // C as deployed: the caller's POST limit counted at once with the lookups (an UpdateItem), then the message.
    'create-message': [[caller, group, rateUpdate], [{ PutItem: put('message', 300) }]],
    'user-short': [[get(keys.userByHandle(fixture.group.other.handle))]],
    // Mark read: the caller and the members at once with the newest message, then the group (consistent), then one
    // transaction: the group's read state and the reader's summary updated, a receipt put.
    'mark-read': [
      [caller, group, page(keys.messagePartition(fixture.group.uuid))],
      [group],
      [
        {
          TransactWriteItems: {
            TransactItems: [
              { Update: update(items.group, { read_marker_a: 'MSG#floor', read_up_to_a: 'floor', read_at_a: new Date(now).toISOString(), unread_a: 0 }) },
              { Update: update(items.staleSummaries[0]!, { unread_count: 0, last_read_at: new Date(now).toISOString() }) },
              { Put: put('receipt', 300) },
            ],
          },
        },
      ],
    ],
    // The badge: the caller, then their summaries.
    'count-unread': [[caller], [page(keys.groupSummaryPartition(fixture.caller.user_uuid))]],
    // Typing: the group's members, then the turn on each member's connection item at once (the sender's is taken; the
    // other member's condition fails, the connection not being theirs), then the other's connections.
    'ws-typing': [
      [get(keys.group(fixture.group.uuid))],
      [typingTurn({ pk: items.connection.pk, sk: items.connection.sk }, false), typingTurn(floorKey('no-connection'), true)],
      [page(keys.connectionPartition(fixture.group.other.user_uuid))],
    ],
    // E: the group (its members' snapshots and last message), the new messages counted for the unread counts, then one
    // transaction: the group updated, both summaries deleted and put again under the new message's key.
    'message-stream': [
      [group],
      [page(keys.messagePartition(fixture.group.uuid))],
      [
        {
          TransactWriteItems: {
            TransactItems: [
              { Update: update(items.group, { last_message_sk: 'MSG#floor', last_message: 'x'.repeat(60), unread_a: 1, unread_b: 0 }) },
              ...items.staleSummaries.map((summary) => ({ Delete: { TableName, Key: keyOf(summary) } })),
              ...items.newSummaries.map((summary) => ({ Put: { TableName, Item: marshall(summary, { removeUndefinedValues: true }) } })),
            ],
          },
        },
      ],
    ],
    // $connect: the caller, then their open connections (the per-user cap), then the new connection.
    'ws-connect': [[caller], [page(keys.connectionPartition(fixture.caller.user_uuid))], [{ PutItem: put('connection', 150) }]],
    'ws-disconnect': [[caller], [{ DeleteItem: { TableName, Key: marshall({ pk: 'BENCH#floor#connection', sk: 'BENCH' }) } }]],
    // The push: the group's members, then each member's connections at once (none open here, so nothing is posted).
    'message-push': [
      [get(keys.group(fixture.group.uuid))],
      [page(keys.connectionPartition(fixture.caller.user_uuid)), page(keys.connectionPartition(fixture.group.other.user_uuid))],
    ],
  };
  const plan = plans[fn.name];
  if (plan === undefined) throw new Error(`cold-start has no floor plan for ${fn.name}: add one`);
  return plan;
}

/** The lower quartile (see above). */
const typical = (values: number[]) => percentile(values, 25);

export const benchmark: Benchmark = {
  name: 'cold-start',
  summary: "each bundle loaded in a fresh node process and invoked once, vs a bundle that makes only that function's DynamoDB requests",
  async run(context) {
    const services = await context.services();
    context.progress('cold-start: bundling the functions and the floor...');
    const distDir = path.join(context.scratchDir, 'cold-start-dist');
    const built = await buildAll(distDir);
    const floor = await bundleFunction(FLOOR, distDir);
    context.progress('cold-start: creating a table and users of its own...');
    const fixture = await createMessagingFixture({
      dynamodbUrl: services.dynamodb.url,
      databaseUrl: services.postgres.url,
      label: 'cold',
      groups: 2,
      messagesInFirstGroup: 21,
    });
    try {
      // The push function posts nowhere here (the fixture has no connections), but needs an endpoint to be configured.
      const functionEnv = localFunctionEnvironment({
        dynamodbUrl: services.dynamodb.url,
        databaseUrl: services.postgres.url,
        tableName: fixture.tableName,
        websocketManagementUrl: 'http://127.0.0.1:9/ws',
      });
      // As deployed (infrastructure/constructs/messaging-service.ts), source maps are on.
      const env = {
        ...(Object.fromEntries(Object.entries(functionEnv).filter(([, value]) => value !== undefined)) as Record<string, string>),
        NODE_OPTIONS: '--enable-source-maps',
      };
      const directory = createDirectoryRepository(fixture.documentClient, { tableName: fixture.tableName });
      const connections = createConnectionsRepository(fixture.documentClient, { tableName: fixture.tableName });
      const { caller, group } = fixture;
      // The WebSocket authorizer is left out: its first invocation fetches the user pool's JWKS
      // from Cognito, which only a real pool (or the local one, with a token of its own) serves.
      const items = await floorItems(fixture);
      const subjects = built.flatMap((bundle) => {
        const fn = FUNCTIONS.find((candidate) => candidate.name === bundle.name)!;
        return fn.kind === 'websocket-authorizer'
          ? []
          : [{ fn, file: bundle.file, bytes: bundle.bytes, context: lambdaContext(fn), plan: floorPlan(fn, fixture, items) }];
      });
      const samples = new Map<string, { own: Sample[]; floor: Sample[] }>(subjects.map((subject) => [subject.fn.name, { own: [], floor: [] }]));
      for (let repetition = 1; repetition <= REPETITIONS; repetition += 1) {
        // Each round: the users copied afresh (a copy answers a minute; a round may take longer),
        // and a message the summaries do not show yet, for the stream consumers.
        await directory.remember({ uuid: caller.user_uuid, display_name: caller.display_name, handle: caller.handle, cognito_user_id: caller.sub });
        await directory.remember({ uuid: group.other.user_uuid, display_name: group.other.display_name, handle: group.other.handle, cognito_user_id: null });
        const message = (await fixture.repository.createMessage(group.uuid, caller, `Round ${repetition} of the cold start`)).item;
        // The typist's connection, new each round (the route forwards one frame per connection per
        // second), open only while ws-typing runs: the push function would post to it.
        const typingConnectionId = `BenchTyping${repetition}=`;
        for (const subject of subjects) {
          const taken = samples.get(subject.fn.name)!;
          await prepareFloor(fixture, items);
          taken.floor.push(await runCold(floor.file, { plan: subject.plan }, {}, env));
          const typing = subject.fn.kind === 'websocket' && subject.fn.route === TYPING_ACTION;
          if (typing) await connections.addConnection(caller.user_uuid, typingConnectionId, new Date().toISOString(), Math.floor(Date.now() / 1000) + 3600);
          taken.own.push(await runCold(subject.file, eventFor(subject.fn, fixture, message, typingConnectionId), subject.context, env));
          if (typing) await connections.removeConnection(caller.user_uuid, typingConnectionId);
        }
        context.progress(`cold-start: repetition ${repetition}/${REPETITIONS} done`);
      }

      const figure = (list: Sample[]) => ({
        importMs: typical(list.map((sample) => sample.importMs)),
        invokeMs: typical(list.map((sample) => sample.invokeMs)),
        totalMs: typical(list.map((sample) => sample.importMs + sample.invokeMs)),
        processMs: typical(list.map((sample) => sample.processMs)),
        rssMiB: typical(list.map((sample) => sample.rssMiB)),
      });
      // Every floor run imports the same bundle: its import is the lower quartile of them all, the
      // steadiest figure of the run; the invocation is each plan's own.
      const floorImportMs = typical([...samples.values()].flatMap((taken) => taken.floor.map((sample) => sample.importMs)));
      const rows = subjects.map((subject) => {
        const taken = samples.get(subject.fn.name)!;
        const floorInvokeMs = typical(taken.floor.map((sample) => sample.invokeMs));
        return {
          name: subject.fn.name,
          kind: subject.fn.kind,
          bytes: subject.bytes,
          plan: subject.plan.map((step) => step.map((request) => Object.keys(request)[0]).join(' + ')).join(', then '),
          ...figure(taken.own),
          floor: { importMs: floorImportMs, invokeMs: floorInvokeMs, totalMs: floorImportMs + floorInvokeMs },
        };
      });
      const targets: Target[] = rows.map((row) => {
        const measured = row.totalMs / row.floor.totalMs;
        return {
          name: `${row.name}: load + first invocation / its floor`,
          target: `<= ${TARGET_RATIO}x`,
          actual: `${round(measured)}x (${round(row.totalMs)} vs ${round(row.floor.totalMs)} ms)`,
          met: measured <= TARGET_RATIO,
        };
      });
      for (const row of rows.filter((candidate) => candidate.kind === 'stream')) {
        const measured = row.importMs / row.floor.importMs;
        targets.push({
          name: `${row.name}: import / floor import`,
          target: `<= ${TARGET_STREAM_IMPORT_RATIO}x`,
          actual: `${round(measured)}x (${round(row.importMs)} vs ${round(row.floor.importMs)} ms)`,
          met: measured <= TARGET_STREAM_IMPORT_RATIO,
        });
      }
      const contents = [...built, { ...floor, name: FLOOR.name }].map((bundle) => {
        const shown = bundle.packages.slice(0, CONTENT_COLUMNS).map(([name, bytes]) => `${name} ${round(bytes / 1024, 1)}`);
        const rest = bundle.packages.slice(CONTENT_COLUMNS).reduce((sum, [, bytes]) => sum + bytes, 0);
        return [
          bundle.name,
          round(bundle.bytes / 1024, 1),
          ...shown,
          ...Array(CONTENT_COLUMNS - shown.length).fill(''),
          `${bundle.packages.length - shown.length} more ${round(rest / 1024, 1)}`,
        ];
      });
      return {
        tables: [
          {
            title: `Cold start: import + first invocation in a fresh node process, against a floor making the same DynamoDB requests (lower quartile of ${REPETITIONS})`,
            columns: [
              'function',
              'floor requests',
              'bundle KiB',
              'import ms',
              'invoke ms',
              'load+invoke ms',
              'floor invoke ms',
              'floor ms',
              'ratio',
              'RSS MiB',
            ],
            rows: rows.map((row) => [
              row.name,
              row.plan,
              round(row.bytes / 1024),
              round(row.importMs),
              round(row.invokeMs),
              round(row.totalMs),
              round(row.floor.invokeMs),
              round(row.floor.totalMs),
              `${round(row.totalMs / row.floor.totalMs)}x`,
              round(row.rssMiB),
            ]),
            note: `floor: ${FLOOR.entry} (${round(floor.bytes / 1024)} KiB, the plain DynamoDB client) bundled the same way, its import ${round(floorImportMs)} ms (lower quartile of every floor run); the user directory filled; NODE_OPTIONS=--enable-source-maps as deployed`,
          },
          {
            title: "Bundle contents: KiB of minified output by npm package, largest first (from esbuild's metafile)",
            columns: ['bundle', 'KiB', ...Array.from({ length: CONTENT_COLUMNS }, (_, index) => `#${index + 1}`), 'the rest'],
            rows: contents,
            note: "(ours) is this repository's code; a package absent from a bundle is not in it",
          },
        ],
        targets,
        figures: {
          repetitions: REPETITIONS,
          floorBytes: floor.bytes,
          functions: rows,
          packages: Object.fromEntries([...built, { ...floor, name: FLOOR.name }].map((bundle) => [bundle.name, bundle.packages])),
          samples: Object.fromEntries(samples),
        },
      };
    } finally {
      await fixture.remove();
    }
  },
};

/**
 * `npm run bench -- cold-start`: per function of the catalog, the bundle `npm run build`
 * makes, loaded in a fresh `node` process with the deployed environment (pointed at the
 * local services) and invoked once with a realistic event: the time from `import()` to the
 * handler's answer, as a Lambda cold start spends it after the runtime's own boot. The floor
 * is bench/lib/sdk-floor.ts bundled the same way: a DynamoDB client and one GetItem.
 * Repetitions are interleaved (floor, every function, floor, ...) and the median is kept.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { marshall } from '@aws-sdk/util-dynamodb';
import { FUNCTIONS, type FunctionDefinition } from '../functions/catalog';
import { buildAll } from '../scripts/build';
import { bundleFunction } from '../infrastructure/bundling/bundle';
import { eventForRoute } from '../local/gateway/http-event';
import { lambdaContext, localFunctionEnvironment } from '../local/lambda';
import { REPOSITORY_ROOT } from '../local/paths';
import type { Benchmark, Target } from './lib/harness';
import { percentile, round } from './lib/stats';
import { createMessagingFixture, type MessagingFixture } from './lib/messaging-fixture';

const REPETITIONS = 5;
/** The targets: each bundle's load + first invocation at most this multiple of the floor's, */
const TARGET_RATIO = 1.25;
/** and a stream consumer's import alone (it holds no more than the SDK and its own code). */
const TARGET_STREAM_IMPORT_RATIO = 1.05;
/** Packages shown per bundle in the contents table; the rest are summed. */
const CONTENT_COLUMNS = 6;
const FLOOR = { name: 'sdk-floor', entry: 'bench/lib/sdk-floor.ts' } as const;

/** What the child reports: milliseconds since process start at each step, and its memory. */
interface Sample {
  /** `import()` of the bundle, module top level included. */
  importMs: number;
  /** The first invocation: clients connect, settings and secrets are read. */
  invokeMs: number;
  /** Node's own start before the script ran (the same for every bundle). */
  bootMs: number;
  rssMiB: number;
  /** The spawn-to-exit time seen by the benchmark. */
  processMs: number;
}

// Top-level await in an ES module, as the Lambda runtime imports an .mjs handler. The pg pool
// would keep the process alive, so the script exits itself once it has answered.
const CHILD_SCRIPT = `
const bootMs = performance.now();
const { handler } = await import(process.env.BENCH_BUNDLE_URL);
const imported = performance.now();
const context = JSON.parse(process.env.BENCH_CONTEXT);
const deadline = Date.now() + 10000;
context.getRemainingTimeInMillis = () => deadline - Date.now();
const result = await handler(JSON.parse(process.env.BENCH_EVENT), context);
const done = performance.now();
const failed = (result && result.statusCode >= 400) || (result && result.batchItemFailures && result.batchItemFailures.length > 0);
process.stdout.write('SAMPLE ' + JSON.stringify({ bootMs, importMs: imported - bootMs, invokeMs: done - imported, rssMiB: process.memoryUsage().rss / 2 ** 20, failed, result }) + '\\n');
process.exit(0);
`;

function runCold(bundleFile: string, event: unknown, context: unknown, env: Record<string, string>): Promise<Sample> {
  const began = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', CHILD_SCRIPT],
      {
        // Only what Lambda would set: no inherited settings, no tsx loader.
        env: {
          PATH: process.env.PATH ?? '',
          ...env,
          BENCH_BUNDLE_URL: pathToFileURL(bundleFile).href,
          BENCH_EVENT: JSON.stringify(event),
          BENCH_CONTEXT: JSON.stringify(context),
        },
        timeout: 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const processMs = Number(process.hrtime.bigint() - began) / 1e6;
        const line = stdout.split('\n').find((candidate) => candidate.startsWith('SAMPLE '));
        if (error || line === undefined) return reject(new Error(`${bundleFile} failed: ${error?.message ?? ''}\n${stderr}${stdout}`.trim()));
        const sample = JSON.parse(line.slice('SAMPLE '.length)) as Omit<Sample, 'processMs'> & { failed: boolean; result: unknown };
        if (sample.failed) return reject(new Error(`${bundleFile} answered ${JSON.stringify(sample.result).slice(0, 300)}\n${stderr}`));
        resolve({ importMs: sample.importMs, invokeMs: sample.invokeMs, bootMs: sample.bootMs, rssMiB: sample.rssMiB, processMs });
      },
    );
  });
}

/** The event each function gets on its cold start: what the HTTP API or the stream would send. */
function eventFor(fn: FunctionDefinition, fixture: MessagingFixture): unknown {
  const { caller, group } = fixture;
  if (fn.kind === 'stream') {
    // The sample event's record, carrying the newest message of the fixture's group.
    const sample = JSON.parse(readFileSync(path.join(REPOSITORY_ROOT, 'events', 'message-stream.json'), 'utf8')) as {
      Records: { dynamodb: Record<string, unknown> }[];
    };
    const record = sample.Records[0]!;
    const image = marshall(group.lastMessage);
    record.dynamodb = { ...record.dynamodb, Keys: { pk: image.pk, sk: image.sk }, NewImage: image };
    return { Records: [record] };
  }
  if (fn.kind === 'websocket') {
    // As the local WebSocket API builds it: what the authorizer passed on, and the connection.
    return {
      requestContext: {
        routeKey: fn.route,
        eventType: fn.route === '$connect' ? 'CONNECT' : 'DISCONNECT',
        connectionId: 'Bench0ColdStart=',
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
  };
  const input = byName[fn.name];
  if (input === undefined) throw new Error(`cold-start has no event for ${fn.name}: add one`);
  return eventForRoute(fn, { ...input, claims });
}

const median = (values: number[]) => percentile(values, 50);

export const benchmark: Benchmark = {
  name: 'cold-start',
  summary: 'each bundle loaded in a fresh node process and invoked once, vs a bundle that only sends one DynamoDB command',
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
      const subjects = [
        { name: FLOOR.name, file: floor.file, bytes: floor.bytes, event: {}, context: {} },
        // The WebSocket authorizer is left out: its first invocation fetches the user pool's JWKS
        // from Cognito, which only a real pool (or the local one, with a token of its own) serves.
        ...built.flatMap((bundle) => {
          const fn = FUNCTIONS.find((candidate) => candidate.name === bundle.name)!;
          if (fn.kind === 'websocket-authorizer') return [];
          return [{ name: fn.name, file: bundle.file, bytes: bundle.bytes, event: eventFor(fn, fixture), context: lambdaContext(fn) }];
        }),
      ];
      const samples = new Map<string, Sample[]>(subjects.map((subject) => [subject.name, []]));
      for (let repetition = 1; repetition <= REPETITIONS; repetition += 1) {
        for (const subject of subjects) samples.get(subject.name)!.push(await runCold(subject.file, subject.event, subject.context, env));
        context.progress(`cold-start: repetition ${repetition}/${REPETITIONS} done`);
      }

      const figure = (name: string) => {
        const list = samples.get(name)!;
        return {
          importMs: median(list.map((sample) => sample.importMs)),
          invokeMs: median(list.map((sample) => sample.invokeMs)),
          totalMs: median(list.map((sample) => sample.importMs + sample.invokeMs)),
          processMs: median(list.map((sample) => sample.processMs)),
          rssMiB: median(list.map((sample) => sample.rssMiB)),
        };
      };
      const floorFigure = figure(FLOOR.name);
      const rows = subjects.slice(1).map((subject) => ({ name: subject.name, bytes: subject.bytes, ...figure(subject.name) }));
      const targets: Target[] = rows.map((row) => {
        const measured = row.totalMs / floorFigure.totalMs;
        return {
          name: `${row.name}: load + first invocation / floor`,
          target: `<= ${TARGET_RATIO}x`,
          actual: `${round(measured)}x (${round(row.totalMs)} vs ${round(floorFigure.totalMs)} ms)`,
          met: measured <= TARGET_RATIO,
        };
      });
      for (const row of rows.filter((candidate) => FUNCTIONS.find((fn) => fn.name === candidate.name)?.kind === 'stream')) {
        const measured = row.importMs / floorFigure.importMs;
        targets.push({
          name: `${row.name}: import / floor import`,
          target: `<= ${TARGET_STREAM_IMPORT_RATIO}x`,
          actual: `${round(measured)}x (${round(row.importMs)} vs ${round(floorFigure.importMs)} ms)`,
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
            title: `Cold start: import + first invocation in a fresh node process (median of ${REPETITIONS})`,
            columns: ['function', 'bundle KiB', 'import ms', 'invoke ms', 'load+invoke ms', 'floor ms', 'ratio', 'process ms', 'RSS MiB'],
            rows: [
              ...rows.map((row) => [
                row.name,
                round(row.bytes / 1024),
                round(row.importMs),
                round(row.invokeMs),
                round(row.totalMs),
                round(floorFigure.totalMs),
                `${round(row.totalMs / floorFigure.totalMs)}x`,
                round(row.processMs),
                round(row.rssMiB),
              ]),
              [
                FLOOR.name,
                round(floor.bytes / 1024),
                round(floorFigure.importMs),
                round(floorFigure.invokeMs),
                round(floorFigure.totalMs),
                round(floorFigure.totalMs),
                '1x',
                round(floorFigure.processMs),
                round(floorFigure.rssMiB),
              ],
            ],
            note: `floor: ${FLOOR.entry} bundled the same way (DynamoDB client + one GetItem); NODE_OPTIONS=--enable-source-maps as deployed; process ms adds node's own start and exit`,
          },
          {
            title: "Bundle contents: KiB of minified output by npm package, largest first (from esbuild's metafile)",
            columns: ['bundle', 'KiB', ...Array.from({ length: CONTENT_COLUMNS }, (_, index) => `#${index + 1}`), 'the rest'],
            rows: contents,
            note: "(ours) is this repository's code; a package absent from a bundle is not in it (pg only in the functions that read users)",
          },
        ],
        targets,
        figures: {
          repetitions: REPETITIONS,
          floor: { bytes: floor.bytes, ...floorFigure },
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

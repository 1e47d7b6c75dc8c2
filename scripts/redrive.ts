/**
 * `npm run redrive -- <stream function> [--dry-run]`: replays the records a stream function
 * gave up on, once their cause is fixed (scripts/lib/redrive.ts says how). Locally, the
 * dead-letter file `npm start` wrote (`.data/stream-<function>.dead-letters.jsonl`), through
 * the function's handler against the local services; with `--prod`, the deployed function's
 * on-failure queue (`cruddur-{env}-<function>-failures`, `CRUDDUR_ENV` naming the
 * environment), the records fetched back from the table's stream and the deployed function
 * invoked. Exits 1 when anything was kept (failed again, or past the stream's retention).
 */
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { STREAM_FUNCTIONS, type StreamFunction } from '../functions/catalog';
import { loadConfig } from '../infrastructure/config';
import { invokeFunction, lambdaContext, loadHandler, prepareLocalFunctions, type LambdaHandler } from '../local/lambda';
import { localDataDir, streamFiles } from '../local/paths';
import { runAsMain, UsageError, type ScriptContext, type ScriptSpec } from './lib/cli';
import { redriveDeadLetters, redriveQueue, type RedriveReport } from './lib/redrive';
import { databaseUrlOf } from './lib/targets';

const options = {
  'dry-run': { type: 'boolean' },
} as const;

export const spec: ScriptSpec<typeof options> = {
  name: 'redrive',
  summary: `Replay the records a stream function gave up on (${STREAM_FUNCTIONS.map((fn) => fn.name).join(', ')}): the local dead letters, or with --prod the on-failure queue.`,
  options,
  allowPositionals: true,
  usage: ['<function>    the stream function, e.g. message-stream', '--dry-run     list what would be replayed, change nothing'],
};

function streamFunction(name: string | undefined): StreamFunction {
  const fn = STREAM_FUNCTIONS.find((candidate) => candidate.name === name);
  if (!fn) throw new UsageError(`name a stream function: ${STREAM_FUNCTIONS.map((candidate) => candidate.name).join(', ')}`);
  return fn;
}

function summary(report: RedriveReport, what: string): string {
  return `${report.found} ${what} found: ${report.replayed} replayed and removed, ${report.failedAgain} failed again, ${report.unavailable} not replayable (kept)`;
}

export async function main({ prod, targets, env, positionals, values, out }: ScriptContext<typeof options>): Promise<number> {
  if (positionals.length !== 1) throw new UsageError('name one stream function, e.g. npm run redrive -- message-stream');
  const fn = streamFunction(positionals[0]);
  const dryRun = values['dry-run'] === true;
  const log = (line: string) => out.log(line);

  if (prod) {
    const { namePrefix, region } = loadConfig(env);
    const sqs = new SQSClient({ region });
    const streams = new DynamoDBStreamsClient({ region });
    const lambda = new LambdaClient({ region });
    try {
      const queueName = `${namePrefix}-${fn.name}-failures`;
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
      out.log(`Replaying ${queueName} into ${namePrefix}-${fn.name}${dryRun ? ' (dry run)' : ''}...`);
      const report = await redriveQueue({ sqs, streams, lambda, queueUrl: QueueUrl!, functionName: `${namePrefix}-${fn.name}`, fn, dryRun, log });
      out.log(summary(report, 'failed batch(es)'));
      return report.failedAgain + report.unavailable > 0 ? 1 : 0;
    } finally {
      sqs.destroy();
      streams.destroy();
      lambda.destroy();
    }
  }

  const { deadLetterFile } = streamFiles(localDataDir(env), fn.name);
  out.log(`Replaying ${deadLetterFile} into ${fn.name} against ${targets.dynamodbEndpoint}${dryRun ? ' (dry run)' : ''}...`);
  prepareLocalFunctions({
    targets: { dynamodbUrl: targets.dynamodbEndpoint!, databaseUrl: databaseUrlOf(targets), tableName: targets.tableName },
    logLevel: env.POWERTOOLS_LOG_LEVEL,
  });
  const handler = await loadHandler<LambdaHandler<DynamoDBStreamEvent, DynamoDBBatchResponse | void>>(fn);
  const report = await redriveDeadLetters({
    fn,
    deadLetterFile,
    dryRun,
    log,
    invoke: (event) => invokeFunction(fn, handler, event, lambdaContext(fn)),
  });
  out.log(summary(report, 'dead-lettered record(s)'));
  return report.failedAgain + report.unavailable > 0 ? 1 : 0;
}

if (require.main === module) runAsMain(spec, main);

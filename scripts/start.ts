/**
 * `npm start`: the whole system on this machine, no AWS account. Starts DynamoDB Local,
 * PostgreSQL and Cognito with data under `.data/`, loads schemas and seed data, and stays
 * up until Ctrl-C. `--fresh` wipes `.data/` first.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { runAsMain, type ScriptContext, type ScriptSpec } from './lib/cli';
import { tableName } from './lib/targets';
import { bootstrapLocalData } from './local/bootstrap';
import { localPort } from './local/ports';
import { startLocalServices } from './local/services';

export const DATA_DIR = path.resolve(__dirname, '..', '.data');

const options = { fresh: { type: 'boolean' } } as const;
export const spec: ScriptSpec<typeof options> = {
  name: 'start',
  summary:
    'Run the local services with data under .data/ until Ctrl-C. Ports: DYNAMODB_PORT (8000), POSTGRES_PORT (5433), COGNITO_PORT (9229). ' +
    'With DATABASE_URL set, that PostgreSQL is used instead of the embedded one.',
  options,
  usage: ['--fresh       delete .data/ first (all local data)'],
};

export async function main({ prod, values, out }: ScriptContext<typeof options>): Promise<number> {
  if (prod) throw new Error('npm start runs the local system only; use npm run deploy for AWS');
  if (values.fresh) {
    rmSync(DATA_DIR, { recursive: true, force: true });
    out.log(`Deleted ${DATA_DIR}`);
  }
  const began = Date.now();
  const services = await startLocalServices({
    ports: { dynamodb: localPort('dynamodb'), postgres: localPort('postgres'), cognito: localPort('cognito') },
    dataDir: DATA_DIR,
    scratchDir: path.join(DATA_DIR, 'cognito'),
    databaseUrl: process.env.DATABASE_URL || undefined,
    onProgress: (line) => out.log(line),
  });

  let stopping: Promise<void> | undefined;
  const stop = (signal: string) => {
    if (stopping) {
      out.error('Stopping already; press Ctrl-C again to force.');
      process.once('SIGINT', () => process.exit(130));
      return stopping;
    }
    out.log(`\n${signal}: stopping the local services...`);
    stopping = services.stop().then(() => out.log('Stopped.'));
    return stopping;
  };

  try {
    const pool = await bootstrapLocalData(
      { dynamodbUrl: services.dynamodb.url, postgresUrl: services.postgres.url, cognitoUrl: services.cognito.url, tableName: tableName() },
      out,
    );
    out.log(
      `Local services ready in ${((Date.now() - began) / 1000).toFixed(1)} s: DynamoDB ${services.dynamodb.url}, ` +
        `PostgreSQL ${services.postgres.url}, Cognito ${services.cognito.url} (user pool ${pool.userPoolId}, client ${pool.clientId})`,
    );
  } catch (error) {
    await services.stop();
    throw error;
  }

  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  await stop(signal);
  return 0;
}

if (require.main === module) runAsMain(spec, main);

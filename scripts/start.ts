/**
 * `npm start`: the whole system on this machine, no AWS account. Starts DynamoDB Local,
 * PostgreSQL and Cognito with data under `.data/` (or `CRUDDUR_DATA_DIR`), loads schemas
 * and seed data, then runs the functions: the HTTP API on port 4567 (`PORT`) and the
 * stream consumer. Stays up until Ctrl-C. `--fresh` wipes the data directory first.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { getPortFromEnv } from '../functions/config/environment';
import { FAULTS_ENV_VAR, parseFaultRates } from '../local/faults';
import { assertDataDirFree, DataDirInUseError, localDataDir, lockDataDir } from '../local/paths';
import { WEBSOCKET_PATH } from '../local/gateway/websocket';
import { DEFAULT_GATEWAY_PORT, startLocalRuntime, type LocalRuntime } from '../local/runtime';
import { startLocalServices, type LocalServices } from '../local/services';
import { bootstrapLocalData } from './lib/bootstrap';
import { runAsMain, type ScriptContext, type ScriptSpec } from './lib/cli';
import { runningServiceTargets } from './lib/targets';

const options = { fresh: { type: 'boolean' } } as const;
export const spec: ScriptSpec<typeof options> = {
  name: 'start',
  summary:
    'Run the whole system locally until Ctrl-C: DynamoDB Local, PostgreSQL and Cognito with data under .data/ (CRUDDUR_DATA_DIR), ' +
    'the HTTP API and the stream consumer. Ports: PORT (HTTP API, 4567), DYNAMODB_PORT (8000), POSTGRES_PORT (5433), COGNITO_PORT (9229). ' +
    'With DATABASE_URL set, that PostgreSQL is used instead of the embedded one.',
  options,
  usage: ['--fresh       delete the data directory first (all local data)'],
};

export async function main(context: ScriptContext<typeof options>): Promise<number> {
  try {
    return await run(context);
  } catch (error) {
    if (!(error instanceof DataDirInUseError)) throw error;
    context.out.error(`start: ${error.message}`);
    return 1;
  }
}

/**
 * Resolves with the first SIGINT, SIGTERM or SIGHUP (the terminal closed). The listeners
 * stay for the process's life: one Ctrl-C can arrive more than once (the terminal signals
 * the process group, and npm and tsx relay it too), and a signal without a listener would
 * kill this process before it stopped anything. A second Ctrl-C a second later warns; a
 * third forces the exit. The services run in process groups of their own, so only this
 * process hears the terminal and stops them in order.
 */
function stopSignal(out: ScriptContext<typeof options>['out']): { signalled: Promise<string>; received: () => string | undefined; abort: AbortSignal } {
  const controller = new AbortController();
  let received: string | undefined;
  let firstAt = 0;
  let warned = false;
  const signalled = new Promise<string>((resolve) => {
    const on = (signal: string) => () => {
      if (received === undefined) {
        received = signal;
        firstAt = Date.now();
        controller.abort();
        return resolve(signal);
      }
      if (Date.now() - firstAt < 1000) return;
      if (!warned) {
        warned = true;
        return out.error('Stopping already; press Ctrl-C again to force.');
      }
      process.exit(130);
    };
    process.on('SIGINT', on('SIGINT'));
    process.on('SIGTERM', on('SIGTERM'));
    process.on('SIGHUP', on('SIGHUP'));
  });
  return { signalled, received: () => received, abort: controller.signal };
}

async function run({ prod, targets, env, values, out }: ScriptContext<typeof options>): Promise<number> {
  if (prod) throw new Error('npm start runs the local system only; use npm run deploy for AWS');
  // The environment, read once: everything below gets values.
  const dataDir = localDataDir(env);
  const port = getPortFromEnv('PORT', DEFAULT_GATEWAY_PORT, env);
  const faultSpec = env[FAULTS_ENV_VAR]?.trim();
  const faults = faultSpec ? parseFaultRates(faultSpec) : undefined;
  const externalDatabase = env.DATABASE_URL?.trim() || undefined;
  if (values.fresh) {
    assertDataDirFree(dataDir, 'delete its data');
    rmSync(dataDir, { recursive: true, force: true });
    out.log(`Deleted ${dataDir}`);
  }
  const releaseDataDir = lockDataDir(dataDir);
  // From here on Ctrl-C stops what was started, whenever it comes.
  const { signalled, received, abort } = stopSignal(out);
  const began = Date.now();
  let services: LocalServices;
  try {
    services = await startLocalServices({
      ports: targets.ports,
      dataDir,
      scratchDir: path.join(dataDir, 'scratch'),
      ...(externalDatabase ? { external: { postgres: externalDatabase } } : {}),
      onProgress: (line) => out.log(line),
      signal: abort,
    });
  } catch (error) {
    releaseDataDir();
    // Ctrl-C during their start-up cancels it: what had started is stopped already.
    if (received() !== undefined) {
      out.log(`\n${received()}: start-up cancelled.`);
      return 130;
    }
    throw error;
  }

  let runtime: LocalRuntime | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (reason: string) => {
    stopping ??= (async () => {
      out.log(`\n${reason}: stopping...`);
      // The functions first, so a batch in flight can finish against the services.
      await runtime?.stop();
      await services.stop();
      releaseDataDir();
      out.log('Stopped.');
    })();
    return stopping;
  };

  const startUp = (async () => {
    if (received()) return;
    const serviceTargets = runningServiceTargets(services, targets.tableName, targets.ports);
    const pool = await bootstrapLocalData(serviceTargets, out);
    out.log(
      `Local services ready in ${((Date.now() - began) / 1000).toFixed(1)} s: DynamoDB ${services.dynamodb.url}, ` +
        `PostgreSQL ${services.postgres.url.replace(/\/\/[^@]*@/, '//')}, Cognito ${services.cognito.url} (user pool ${pool.userPoolId}, client ${pool.clientId})`,
    );
    // The one service that cannot be bound to 127.0.0.1: say so, with the remedy.
    out.log(
      `Note: DynamoDB Local listens on every network interface (it has no option to listen on 127.0.0.1 only) and takes any credentials: ` +
        `on a network you do not trust, block port ${new URL(services.dynamodb.url).port} to other machines (docs/local-runtime.md#what-the-local-services-expose).`,
    );
    if (received()) return;
    out.log(`Starting the functions: HTTP API and stream consumers${faults ? ` (with DynamoDB faults: ${faultSpec})` : ''}...`);
    runtime = await startLocalRuntime({
      port,
      targets: { dynamodbUrl: services.dynamodb.url, databaseUrl: services.postgres.url, cognitoUrl: services.cognito.url, tableName: targets.tableName },
      pool,
      dataDir,
      log: (line) => out.log(line),
      logLevel: env.POWERTOOLS_LOG_LEVEL,
      faults,
    });
    out.log(`Everything answers after ${((Date.now() - began) / 1000).toFixed(1)} s; data in ${dataDir}; Ctrl-C stops.`);
    out.log(`Cruddur messaging API ready at ${runtime.gateway.url}`);
    out.log(`WebSocket API (new messages, pushed) at ${runtime.gateway.url.replace(/^http/, 'ws')}${WEBSOCKET_PATH}?token=<access token>`);
  })();

  const first = await Promise.race([
    startUp.then(
      () => undefined,
      () => undefined,
    ),
    signalled,
  ]);
  if (first !== undefined || received() !== undefined) {
    // Ctrl-C during start-up: let the step in progress finish, then stop everything.
    await startUp.catch(() => undefined);
    await stop(received()!);
    return 130;
  }
  try {
    await startUp;
  } catch (error) {
    await stop('Start-up failed');
    throw error;
  }
  await stop(await signalled);
  return 0;
}

if (require.main === module) runAsMain(spec, main);

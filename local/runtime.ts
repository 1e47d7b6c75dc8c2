/**
 * The local runtime: the functions of the catalog running in this process against the
 * local services, behind the local HTTP gateway (every HTTP function) and one local event
 * source mapping per stream function, each with its own checkpoint and dead-letter files.
 * `npm start` starts it once the services are up.
 */
import { randomBytes } from 'node:crypto';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { STREAM_FUNCTIONS, WEBSOCKET_AUTHORIZER, WEBSOCKET_FUNCTIONS, type StreamFunction } from '../functions/catalog';
import { LOCAL_CREDENTIALS } from './aws';
import type { FaultRates } from './faults';
import { createLocalCognitoAuthorizer, localIssuer } from './gateway/auth';
import { createLocalWebSocketApi, WEBSOCKET_PATH } from './gateway/websocket';
import { startGateway, type RunningGateway } from './gateway/server';
import { loadHandler, prepareLocalFunctions, type LambdaHandler, type LocalTargets } from './lambda';
import { streamFiles } from './paths';
import { createStreamConsumer, type StreamConsumer } from './streams/consumer';

/** The HTTP API's default port (`PORT` overrides it in `npm start`). */
export const DEFAULT_GATEWAY_PORT = 4567;

export interface RuntimeOptions {
  /** 0 picks a free port. */
  port: number;
  targets: LocalTargets & { cognitoUrl: string };
  pool: { userPoolId: string; clientId: string };
  dataDir: string;
  log?: (line: string) => void;
  /** The developer's POWERTOOLS_LOG_LEVEL for the functions (default WARN). */
  logLevel?: string;
  /** DynamoDB faults in the functions' client. */
  faults?: FaultRates;
  /**
   * The stream functions whose consumers run here: all of the catalog's by default. The
   * soak passes none and runs a consumer in a child process, so it can kill it abruptly
   * (local/streams/consumer-process.ts).
   */
  streamFunctions?: readonly StreamFunction[];
}

export interface LocalRuntime {
  gateway: RunningGateway;
  /** The consumers, by function name. */
  consumers: Readonly<Record<string, StreamConsumer>>;
  stop(): Promise<void>;
}

/**
 * `fn` behind a local event source mapping of the table's stream, with its checkpoint and
 * dead letters in `dataDir`. Prepare the functions' environment first (the handler's module
 * reads it).
 */
export async function createLocalStreamConsumer(
  fn: StreamFunction,
  options: { dynamodbUrl: string; tableName: string; dataDir: string; log: (line: string) => void; retryDelayMs?: (attempt: number) => number },
): Promise<StreamConsumer> {
  const handler = await loadHandler<LambdaHandler<DynamoDBStreamEvent, DynamoDBBatchResponse>>(fn);
  return createStreamConsumer({
    dynamodbUrl: options.dynamodbUrl,
    tableName: options.tableName,
    fn,
    handler,
    ...streamFiles(options.dataDir, fn.name),
    log: options.log,
    ...(options.retryDelayMs ? { retryDelayMs: options.retryDelayMs } : {}),
  });
}

export async function startLocalRuntime(options: RuntimeOptions): Promise<LocalRuntime> {
  const output = options.log ?? ((line: string) => console.log(line));
  const { targets } = options;
  // The readiness probe below is the runtime's own request, not the developer's: not logged.
  let probing = false;
  const log = (line: string) => {
    if (!(probing && line.startsWith('GET /api/message_groups 401'))) output(line);
  };
  const cognito = { ...options.pool, issuerUrl: localIssuer(targets.cognitoUrl, options.pool.userPoolId) };
  // The functions' secret key, new each run: the local @connections takes posts signed with it only.
  const credentials = { accessKeyId: LOCAL_CREDENTIALS.accessKeyId, secretAccessKey: randomBytes(24).toString('base64url') };
  let restoreEnvironment = () => {};

  let gateway: RunningGateway | undefined;
  const consumers: Record<string, StreamConsumer> = {};
  const stopAll = async () => {
    await gateway?.stop();
    for (const consumer of Object.values(consumers)) await consumer.stop();
  };
  try {
    gateway = await startGateway({
      port: options.port,
      authorizer: createLocalCognitoAuthorizer({ cognitoUrl: targets.cognitoUrl, ...options.pool }),
      log,
      ...(WEBSOCKET_AUTHORIZER
        ? { websocket: createLocalWebSocketApi({ authorizer: WEBSOCKET_AUTHORIZER, routes: WEBSOCKET_FUNCTIONS, managementCredentials: credentials, log }) }
        : {}),
    });
    // The functions' environment once the gateway's port is known (the push function posts to
    // its @connections); the handlers load on their first request, which cannot come before
    // this synchronous step.
    restoreEnvironment = prepareLocalFunctions({
      targets: { ...targets, cognito, websocketManagementUrl: `${gateway.url}${WEBSOCKET_PATH}`, credentials },
      logLevel: options.logLevel,
      faults: options.faults,
    });
    for (const fn of options.streamFunctions ?? STREAM_FUNCTIONS) {
      const consumer = await createLocalStreamConsumer(fn, { ...targets, dataDir: options.dataDir, log });
      consumers[fn.name] = consumer;
      await consumer.start();
      if (consumer.status().streamArn === undefined) throw new Error(`the stream of table ${targets.tableName} cannot be read`);
    }
    // Ready means answering: an unauthenticated request must come back as API Gateway's 401.
    probing = true;
    const probe = await fetch(`${gateway.url}/api/message_groups`);
    probing = false;
    if (probe.status !== 401) throw new Error(`the HTTP API answered ${probe.status} to a request without a token, expected 401`);
  } catch (error) {
    await stopAll();
    restoreEnvironment();
    throw error;
  }

  return {
    gateway,
    consumers,
    async stop() {
      // The services stop next, under the functions' idle PostgreSQL connections, which the
      // API functions would each log as a failure: a container being torn down says nothing.
      const { logger } = await import('../functions/observability/logger');
      logger.setLogLevel('SILENT');
      await stopAll();
      restoreEnvironment();
    },
  };
}

/**
 * The local runtime: the functions of the catalog running in this process against the
 * local services, behind the local HTTP gateway (HTTP functions) and the local stream
 * consumer (the stream function). `npm start` starts it once the services are up.
 */
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { STREAM_FUNCTIONS } from '../../functions/catalog';
import { getPortFromEnv } from '../../functions/commons/env';
import { createLocalCognitoAuthorizer } from './gateway-auth';
import { startGateway, type RunningGateway } from './gateway';
import { applyLocalFunctionEnvironment, loadHandler, type LambdaHandler } from './runtime-lambda';
import { runtimeFiles } from './runtime-paths';
import { createStreamConsumer, type StreamConsumer } from './stream-consumer';

/** The HTTP API's port: 4567, or `PORT`. */
export const GATEWAY_PORT = { envVar: 'PORT', defaultPort: 4567 } as const;

export const gatewayPort = (env: NodeJS.ProcessEnv = process.env) => getPortFromEnv(GATEWAY_PORT.envVar, GATEWAY_PORT.defaultPort, env);

export interface RuntimeOptions {
  port: number;
  dynamodbUrl: string;
  databaseUrl: string;
  cognitoUrl: string;
  tableName: string;
  pool: { userPoolId: string; clientId: string };
  dataDir: string;
  log?: (line: string) => void;
  /**
   * False: the gateway alone. The soak runs the consumer in a child process instead, so it
   * can kill it abruptly (scripts/local/stream-consumer-process.ts).
   */
  streamConsumer?: boolean;
}

export interface LocalRuntime {
  gateway: RunningGateway;
  /** Undefined when started with `streamConsumer: false`. */
  consumer?: StreamConsumer;
  stop(): Promise<void>;
}

/**
 * The catalog's `message-stream` function behind a local stream consumer of the table,
 * with its checkpoint and dead letters in `dataDir`. Apply the local function environment
 * first (the handler's module reads it).
 */
export async function createLocalStreamConsumer(options: { dynamodbUrl: string; tableName: string; dataDir: string; log: (line: string) => void }): Promise<StreamConsumer> {
  const streamFunction = STREAM_FUNCTIONS.find((fn) => fn.name === 'message-stream')!;
  const handler = await loadHandler<LambdaHandler<DynamoDBStreamEvent, DynamoDBBatchResponse>>(streamFunction);
  return createStreamConsumer({
    dynamodbUrl: options.dynamodbUrl,
    tableName: options.tableName,
    fn: streamFunction,
    handler,
    ...runtimeFiles(options.dataDir),
    log: options.log,
  });
}

export async function startLocalRuntime(options: RuntimeOptions): Promise<LocalRuntime> {
  const output = options.log ?? ((line: string) => console.log(line));
  // The readiness probe below is the runtime's own request, not the developer's: not logged.
  let probing = false;
  const log = (line: string) => {
    if (!(probing && line.startsWith('GET /api/message_groups 401'))) output(line);
  };
  // Before any function module loads: some read their settings when loaded.
  applyLocalFunctionEnvironment({ dynamodbUrl: options.dynamodbUrl, databaseUrl: options.databaseUrl, tableName: options.tableName });

  const gateway = await startGateway({
    port: options.port,
    authorizer: createLocalCognitoAuthorizer({ cognitoUrl: options.cognitoUrl, ...options.pool }),
    log,
  });

  const consumer = options.streamConsumer === false ? undefined : await createLocalStreamConsumer({ ...options, log });
  try {
    if (consumer !== undefined) {
      await consumer.start();
      if (consumer.status().streamArn === undefined) throw new Error(`the stream of table ${options.tableName} cannot be read`);
    }
    // Ready means answering: an unauthenticated request must come back as API Gateway's 401.
    probing = true;
    const probe = await fetch(`${gateway.url}/api/message_groups`);
    probing = false;
    if (probe.status !== 401) throw new Error(`the HTTP API answered ${probe.status} to a request without a token, expected 401`);
  } catch (error) {
    await consumer?.stop();
    await gateway.stop();
    throw error;
  }

  return {
    gateway,
    consumer,
    async stop() {
      // The services stop next, under the functions' idle PostgreSQL connections, which the
      // API functions would each log as a failure: a container being torn down says nothing.
      const { logger } = await import('../../functions/commons/http');
      logger.setLogLevel('SILENT');
      await gateway.stop();
      await consumer?.stop();
    },
  };
}

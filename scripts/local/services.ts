/**
 * Starts the three local services together: DynamoDB Local, the embedded PostgreSQL
 * (skipped when DATABASE_URL names a server) and the local Cognito user pool.
 */
import path from 'node:path';
import { startCognitoLocal } from './cognito-local';
import { startDynamoDbLocal, type RunningService } from './dynamodb-local';
import { startEmbeddedPostgres } from './postgres-local';

export interface LocalServicesOptions {
  ports: { dynamodb: number; postgres: number; cognito: number };
  /** Persist under this directory (`.data`); in memory / a temporary directory otherwise. */
  dataDir?: string;
  /** Directory for cognito-local's files when not persisting. */
  scratchDir: string;
  /** An existing PostgreSQL to use instead of the embedded one. */
  databaseUrl?: string;
  onProgress?: (line: string) => void;
  /** Cancels the start-up: whatever started is stopped and the promise rejects. */
  signal?: AbortSignal;
}

export interface LocalServices {
  dynamodb: RunningService;
  postgres: RunningService;
  cognito: RunningService;
  stop(): Promise<void>;
}

export async function startLocalServices(options: LocalServicesOptions): Promise<LocalServices> {
  const progress = options.onProgress ?? (() => {});
  const dataPath = (name: string) => (options.dataDir ? path.join(options.dataDir, name) : undefined);
  progress(
    `Starting DynamoDB Local (port ${options.ports.dynamodb}), ` +
      (options.databaseUrl ? 'using the PostgreSQL of DATABASE_URL, ' : `PostgreSQL (PGlite, port ${options.ports.postgres}), `) +
      `Cognito (cognito-local, port ${options.ports.cognito})...`,
  );
  const timed = async (label: string, start: () => Promise<RunningService>) => {
    const began = Date.now();
    const service = await start();
    progress(`  ${label} up at ${service.url.replace(/\/\/[^@]*@/, '//')} (${((Date.now() - began) / 1000).toFixed(1)} s)`);
    return service;
  };
  // In parallel: the JVM and the WASM compile of Postgres each take seconds on their own.
  const results = await Promise.allSettled([
    timed('DynamoDB Local', () => startDynamoDbLocal({ port: options.ports.dynamodb, dataDir: dataPath('dynamodb'), signal: options.signal })),
    options.databaseUrl
      ? Promise.resolve<RunningService>({ url: options.databaseUrl, stop: async () => {} })
      : timed('PostgreSQL', () => startEmbeddedPostgres({ port: options.ports.postgres, dataDir: dataPath('postgres'), signal: options.signal })),
    timed('Cognito', () => startCognitoLocal({ port: options.ports.cognito, dataDir: dataPath('cognito') ?? options.scratchDir, signal: options.signal })),
  ]);
  const running = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  // Stop in reverse order; one failure must not leave the others running.
  const stop = async () => void (await Promise.allSettled(running.reverse().map((service) => service.stop())));
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  const [dynamodb, postgres, cognito] = running as [RunningService, RunningService, RunningService];
  return { dynamodb, postgres, cognito, stop };
}

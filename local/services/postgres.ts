/**
 * An embedded PostgreSQL: PGlite (Postgres compiled to WASM) served on a TCP port by
 * pglite-socket, so the code talks to it with the ordinary `pg` driver exactly as it would
 * to RDS. Persisted under a directory for `npm start`, in memory for tests. It runs in a
 * child process (see postgres-server.ts).
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { ServiceUnavailableError } from '../../functions/errors';

import { LOCAL_HOST, failureOrAbort, type RunningService, SERVICE_SPAWN_OPTIONS, STARTUP_TIMEOUT_MS, stopChild, waitUntil } from './process';

export async function startEmbeddedPostgres(options: { port: number; dataDir?: string; signal?: AbortSignal }): Promise<RunningService> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'postgres-server.ts'), String(options.port), options.dataDir ?? ''], {
    ...SERVICE_SPAWN_OPTIONS,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  let failure: Error | undefined;
  child.stdout.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.on('error', (error) => (failure = new ServiceUnavailableError(`PostgreSQL (PGlite) could not start: ${error.message}`)));
  child.on('exit', (code) => (failure ??= new ServiceUnavailableError(`PostgreSQL (PGlite) exited with code ${code}: ${output.trim().slice(-800)}`)));

  const url = `postgresql://postgres:postgres@${LOCAL_HOST}:${options.port}/postgres`;
  // A longer grace than the others: PGlite flushes its data directory on the way out.
  const stop = () => stopChild(child, 10_000);
  try {
    await waitUntil(
      'PostgreSQL (PGlite)',
      () => (output.includes('ready') ? query(url) : Promise.reject(new Error('starting'))),
      STARTUP_TIMEOUT_MS,
      failureOrAbort('PostgreSQL (PGlite)', () => failure, options.signal),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}

async function query(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SELECT 1');
  } finally {
    await client.end();
  }
}

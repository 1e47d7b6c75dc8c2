/**
 * Starts the real local services once for the integration tests, on free ports, so the
 * suite runs beside a developer's `npm start`. Suites isolate themselves with their own
 * table, user pool and handles (see `test/support/services.ts`).
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getFreePort } from '../../local/services/process';
import { startLocalServices, type LocalServices } from '../../local/services';

declare global {
  // eslint-disable-next-line no-var
  var __LOCAL_SERVICES__: LocalServices | undefined;
}

export default async function globalSetup(): Promise<void> {
  const ports = { dynamodb: await getFreePort(), postgres: await getFreePort(), cognito: await getFreePort() };
  const scratchDir = mkdtempSync(path.join(os.tmpdir(), 'cruddur-test-'));
  globalThis.__LOCAL_SERVICES__ = await startLocalServices({ ports, scratchDir });
  // Workers start after this and inherit these; the scripts read the same variables.
  process.env.DYNAMODB_PORT = String(ports.dynamodb);
  process.env.POSTGRES_PORT = String(ports.postgres);
  process.env.COGNITO_PORT = String(ports.cognito);
  process.env.CRUDDUR_TEST_SCRATCH = scratchDir;
  delete process.env.DATABASE_URL;
  delete process.env.TABLE_NAME;
}

/**
 * Where scripts point: the local services by default, AWS with `--prod`. One place turns
 * that choice into clients, and explains a refused connection in words.
 */
import { DEFAULT_TABLE_NAME } from '../../functions/commons/model';
import { getOptionalStringFromEnv, getStringFromEnv } from '../../functions/commons/env';
import { LOCAL_SERVICES, localEndpoints, localPort, type LocalServiceName } from '../local/ports';

export function tableName(env: NodeJS.ProcessEnv = process.env): string {
  return getOptionalStringFromEnv('TABLE_NAME', DEFAULT_TABLE_NAME, env);
}

/** DynamoDB endpoint: undefined (AWS) with --prod, DynamoDB Local otherwise. */
export function dynamoDbEndpoint(prod: boolean, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return prod ? undefined : localEndpoints(env).dynamodb;
}

/**
 * PostgreSQL URL: `PROD_CONNECTION_URL` with --prod (the original's name), otherwise
 * `DATABASE_URL` when set, otherwise the embedded server.
 */
export function postgresUrl(prod: boolean, env: NodeJS.ProcessEnv = process.env): string {
  if (prod) return getStringFromEnv('PROD_CONNECTION_URL', env);
  return getOptionalStringFromEnv('DATABASE_URL', localEndpoints(env).postgres, env);
}

/** Cognito endpoint: undefined (AWS) with --prod, the local user pool otherwise. */
export function cognitoEndpoint(prod: boolean, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return prod ? undefined : localEndpoints(env).cognito;
}

interface ConnectionError {
  code?: string;
  port?: number;
  errors?: ConnectionError[];
}

function refusedPort(error: unknown): number | undefined {
  const candidate = error as ConnectionError | null;
  if (candidate === null || typeof candidate !== 'object') return undefined;
  if (candidate.code === 'ECONNREFUSED' && typeof candidate.port === 'number') return candidate.port;
  for (const inner of candidate.errors ?? []) {
    const port = refusedPort(inner);
    if (port !== undefined) return port;
  }
  return undefined;
}

/** "DynamoDB Local is not running at ...: start it with npm start", or undefined. */
export function describeConnectionFailure(error: unknown, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const port = refusedPort(error);
  if (port === undefined) return undefined;
  for (const service of Object.keys(LOCAL_SERVICES) as LocalServiceName[]) {
    if (localPort(service, env) === port) {
      const url = localEndpoints(env)[service].replace(/\/\/[^@]*@/, '//');
      return `${LOCAL_SERVICES[service].label} is not running at ${url}: start it with npm start`;
    }
  }
  return `Nothing is listening on port ${port} (connection refused)`;
}

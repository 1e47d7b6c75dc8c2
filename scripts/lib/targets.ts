/**
 * Where the scripts point: the local services by default, AWS with `--prod`. The environment
 * is read here, once, when a script starts (`runScript`); every script and step then gets
 * the result as a value, so nothing below re-reads ports or names from `process.env`.
 */
import { DEFAULT_TABLE_NAME } from '../../functions/data/model';
import { ConfigurationError } from '../../functions/errors';
import { createDocumentClient } from '../../functions/clients/dynamodb';
import { getOptionalStringFromEnv } from '../../functions/config/environment';
import { localDocumentClient } from '../../local/aws';
import { LOCAL_SERVICE_NAMES, LOCAL_SERVICES, localEndpoints, localPorts, type ServicePorts } from '../../local/services/registry';

export interface Targets {
  /** AWS (`--prod`) rather than the local services. */
  prod: boolean;
  tableName: string;
  /** DynamoDB Local's URL; undefined for AWS. */
  dynamodbEndpoint?: string;
  /** The local Cognito's URL; undefined for AWS. */
  cognitoEndpoint?: string;
  /**
   * The users database: `PROD_CONNECTION_URL` with --prod (the original's name), otherwise
   * `DATABASE_URL` when set, otherwise the embedded server. Undefined with --prod when unset.
   */
  databaseUrl?: string;
  /** The user pool `COGNITO_USER_POOL_ID` names, if any (required with --prod where a pool is read). */
  userPoolId?: string;
  /** The local services' ports, to explain a refused connection. */
  ports: ServicePorts;
  /** The region of AWS targets, for messages. */
  awsRegion?: string;
}

/** The targets of a script run with or without `--prod`, from `env`. */
export function resolveTargets(prod: boolean, env: NodeJS.ProcessEnv): Targets {
  const ports = localPorts(env);
  const local = localEndpoints(ports);
  const databaseUrl = prod ? env.PROD_CONNECTION_URL?.trim() || undefined : getOptionalStringFromEnv('DATABASE_URL', local.postgres, env);
  return {
    prod,
    tableName: getOptionalStringFromEnv('TABLE_NAME', DEFAULT_TABLE_NAME, env),
    ...(prod ? {} : { dynamodbEndpoint: local.dynamodb, cognitoEndpoint: local.cognito }),
    ...(databaseUrl === undefined ? {} : { databaseUrl }),
    ...(env.COGNITO_USER_POOL_ID?.trim() ? { userPoolId: env.COGNITO_USER_POOL_ID.trim() } : {}),
    ports,
    ...(prod ? { awsRegion: env.AWS_REGION ?? env.AWS_DEFAULT_REGION } : {}),
  };
}

/** The targets of local services that are running (npm start's, a test's, the soak's). */
export function runningServiceTargets(
  services: { dynamodb: { url: string }; postgres: { url: string }; cognito: { url: string } },
  tableName: string,
  ports: ServicePorts,
): Targets {
  return { prod: false, tableName, dynamodbEndpoint: services.dynamodb.url, cognitoEndpoint: services.cognito.url, databaseUrl: services.postgres.url, ports };
}

/** The users database URL. @throws ConfigurationError with --prod when PROD_CONNECTION_URL is unset. */
export function databaseUrlOf(targets: Targets): string {
  if (targets.databaseUrl === undefined) throw new ConfigurationError('Environment variable PROD_CONNECTION_URL is required but not set');
  return targets.databaseUrl;
}

/** A DynamoDB document client of the target (its `.send` also takes plain DynamoDB commands). */
export function documentClientOf(targets: Targets) {
  return targets.dynamodbEndpoint === undefined ? createDocumentClient() : localDocumentClient(targets.dynamodbEndpoint);
}

/** Where a script is pointed, for its first line of output. */
export function describeTarget(targets: Targets): string {
  return targets.prod
    ? `table ${targets.tableName} in AWS (${targets.awsRegion ?? 'default region'})`
    : `table ${targets.tableName} in DynamoDB Local at ${targets.dynamodbEndpoint}`;
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
export function describeConnectionFailure(error: unknown, ports: ServicePorts): string | undefined {
  const port = refusedPort(error);
  if (port === undefined) return undefined;
  for (const name of LOCAL_SERVICE_NAMES) {
    if (ports[name] === port) {
      const url = LOCAL_SERVICES[name].clientUrl(port).replace(/\/\/[^@]*@/, '//');
      return `${LOCAL_SERVICES[name].label} is not running at ${url}: start it with npm start`;
    }
  }
  return `Nothing is listening on port ${port} (connection refused)`;
}

/**
 * The functions' configuration: the environment variables every function gets, written by
 * one function here (`functionEnvironment`, read by the infrastructure and the local
 * emulator alike) and read by one function here (`readFunctionConfig`), once, at cold start.
 */
import type { FunctionDefinition } from '../catalog';
import type { AccessTokenSettings } from '../auth/access-token';
import { getStringFromEnv } from './environment';
import { DEFAULT_USER_LIMITS, formatPostRateLimit, LIMIT_SETTINGS, type UserLimits } from './limits';

/** The service name in every function's structured logs. */
export const SERVICE_NAME = 'cruddur-messaging';

/** Settings every function has, whatever its kind (the logger reads its own, `POWERTOOLS_*`). */
export interface FunctionConfig {
  tableName: string;
}

/**
 * The settings of this container: the table is required (the deployment and the emulator
 * always set it). @throws ConfigurationError naming a missing variable.
 */
function readFunctionConfig(env: NodeJS.ProcessEnv = process.env): FunctionConfig {
  return { tableName: getStringFromEnv('TABLE_NAME', env) };
}

let config: FunctionConfig | undefined;

/** {@link readFunctionConfig} of this container, read on first use (not at import). */
export function functionConfig(): FunctionConfig {
  return (config ??= readFunctionConfig());
}

/** Where a function's users database is: a secret's ARN (deployed) or a URL (local). */
export type UsersDatabaseLocation = { secretArn: string } | { url: string };

/**
 * The environment of one function: what {@link readFunctionConfig} and `getDatabaseUrl`
 * read, for its catalog entry. The deployment and the emulator add only what is theirs
 * (the emulator: DynamoDB Local's endpoint and dummy credentials).
 */
export function functionEnvironment(
  fn: FunctionDefinition,
  input: {
    tableName: string;
    usersDatabase: UsersDatabaseLocation;
    /** For the WebSocket authorizer: whose tokens it accepts. */
    cognito?: AccessTokenSettings;
    /** For functions that post to WebSocket connections: the API's URL with its stage (https, or the local gateway's). */
    websocketManagementUrl?: string;
    /** The per-user limits (default {@link DEFAULT_USER_LIMITS}); each function gets the one it enforces. */
    limits?: UserLimits;
    /** Where the business metrics go (`Cruddur/cruddur-{env}`; observability/metrics.ts). */
    metricsNamespace: string;
    /** The logger's level (POWERTOOLS_LOG_LEVEL); absent, Powertools' default (INFO). */
    logLevel?: string;
  },
): Record<string, string> {
  const database = input.usersDatabase;
  const limits = input.limits ?? DEFAULT_USER_LIMITS;
  const needs = (what: string) => new Error(`${fn.name} needs ${what}`);
  const cognito = fn.kind !== 'websocket-authorizer' ? undefined : input.cognito;
  if (fn.kind === 'websocket-authorizer' && !cognito) throw needs('the user pool and app client');
  const manages = fn.manageConnections === true;
  if (manages && !input.websocketManagementUrl) throw needs("the WebSocket API's management URL");
  return {
    TABLE_NAME: input.tableName,
    POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE: input.metricsNamespace,
    ...(input.logLevel ? { POWERTOOLS_LOG_LEVEL: input.logLevel } : {}),
    ...(cognito
      ? {
          COGNITO_USER_POOL_ID: cognito.userPoolId,
          COGNITO_CLIENT_ID: cognito.clientId,
          ...(cognito.issuerUrl ? { COGNITO_ISSUER_URL: cognito.issuerUrl } : {}),
        }
      : {}),
    ...(manages ? { WEBSOCKET_MANAGEMENT_URL: input.websocketManagementUrl! } : {}),
    ...(fn.userLimit === 'posts' ? { [LIMIT_SETTINGS.posts.functionVariable]: formatPostRateLimit(limits.posts) } : {}),
    ...(fn.userLimit === 'connections' ? { [LIMIT_SETTINGS.connectionsPerUser.functionVariable]: String(limits.connectionsPerUser) } : {}),
    ...(!fn.usersDatabase
      ? {}
      : 'url' in database
        ? { DATABASE_URL: database.url }
        : {
            // The ARN only: the function reads the value at cold start through the VPC endpoint.
            DATABASE_SECRET_ARN: database.secretArn,
            // RDS requires TLS; from Node.js 20 on, Lambda loads the Amazon CA bundle only when asked.
            NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
            DATABASE_SSLMODE: 'verify-full',
          }),
  };
}

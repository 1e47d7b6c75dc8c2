/**
 * Deployment settings per environment (dev, prod), in one typed module. `CRUDDUR_ENV`
 * selects the environment; everything account-specific comes from `CRUDDUR_*` environment
 * variables. Without them, account-specific settings fall back to clearly fake example
 * values of the right shape, so `npm run synth` and the tests work anywhere (CI included);
 * `npm run deploy` and `npm run diff` set `CRUDDUR_STRICT_CONFIG=1`, which refuses them and
 * any network in which the functions could not reach the database (`./network.ts`).
 *
 * This module has no CDKTF import: it is plain data, readable by anything.
 */
import { type UserLimits, userLimitsFromSettings } from '../../functions/config/limits';
import { ConfigurationError } from '../../functions/errors';
import { getOptionalStringFromEnv } from '../../functions/config/environment';
import { DEFAULT_TABLE_NAME } from '../../functions/data/model';
import { readNetwork, type NetworkSettings } from './network';
import { choice, fail, flag, matching, value } from './read';

const ENVIRONMENTS = ['dev', 'prod'] as const;
type EnvironmentName = (typeof ENVIRONMENTS)[number];

export type BillingMode = 'PAY_PER_REQUEST' | 'PROVISIONED';

const WEBSOCKET_ACCESS_LOGS = ['off', 'account-role', 'create-role'] as const;
const LOG_LEVELS = ['INFO', 'DEBUG', 'WARN', 'ERROR'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];
export type WebSocketAccessLogs = (typeof WEBSOCKET_ACCESS_LOGS)[number];

export interface CruddurConfig {
  environment: EnvironmentName;
  region: string;
  /** `cruddur-{environment}`: the prefix of stack, function, API and queue names. */
  namePrefix: string;
  cognito: {
    userPoolId: string;
    /** The app client whose tokens the API accepts (the JWT authorizer's audience). */
    clientId: string;
  };
  /** The Cruddur frontend's origins (e.g. `https://example.org` and `https://www.example.org`): the only ones CORS allows. */
  frontendOrigins: string[];
  database: {
    /** Secrets Manager secret (JSON: username, password, host, port, dbname) of the users database. */
    secretArn: string;
    /** The customer-managed KMS key the secret is encrypted with, if not Secrets Manager's own key. */
    secretKmsKeyArn?: string;
  };
  /** Where the functions run and how they reach the database (`./network.ts`). */
  network: NetworkSettings;
  table: {
    name: string;
    billingMode: BillingMode;
    /** Read/write capacity of the table and of the GSI under PROVISIONED billing (the original's 5/5). */
    provisionedCapacity: { read: number; write: number };
    deletionProtection: boolean;
    /** `CRUDDUR_ADOPT_TABLE=1`: import the existing table of that name instead of creating it. */
    adoptExisting: boolean;
  };
  logRetentionDays: number;
  /** `CRUDDUR_LOG_LEVEL`: the functions' POWERTOOLS_LOG_LEVEL (default INFO). */
  logLevel: LogLevel;
  api: {
    throttlingBurstLimit: number;
    throttlingRateLimit: number;
    /** Per-route CloudWatch metrics of the HTTP API: billed as custom metrics, so off unless asked. */
    detailedMetrics: boolean;
  };
  /** `CRUDDUR_STATE_BUCKET`: the S3 bucket holding the stacks' Terraform state; unset, local files. */
  stateBucket?: string;
  /** `CRUDDUR_ALARM_EMAIL`: subscribed to the alarms' topic, when set. */
  alarmEmail?: string;
  /** Per-user limits (`CRUDDUR_POST_RATE_LIMIT`, `CRUDDUR_WEBSOCKET_CONNECTIONS_PER_USER`; functions/config/limits.ts). */
  limits: UserLimits;
  websocket: {
    /**
     * Access logs of the WebSocket stage. WebSocket (and REST) stages log only through the
     * account's API Gateway CloudWatch Logs role, one per account and region, which a fresh
     * account does not have: `off` (the default) needs nothing; `account-role` uses the role
     * the account already has; `create-role` creates one and makes it the account's (refused by
     * preflight where the account has another: it would be replaced for every API there).
     */
    accessLogs: WebSocketAccessLogs;
  };
  /** Settings still holding the built-in example values: fine for synth, refused for deploy. */
  exampleValues: string[];
  /** Why a deploy of these settings could not work (example values, no database route): synth prints them, deploy refuses. */
  deployRefusals: string[];
}

/** Retention values CloudWatch Logs accepts. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** What differs between environments when no variable overrides it. */
const ENVIRONMENT_DEFAULTS: Record<
  EnvironmentName,
  {
    frontendOrigin: { value: string; example: boolean };
    deletionProtection: boolean;
    logRetentionDays: number;
    throttlingBurstLimit: number;
    throttlingRateLimit: number;
    vpcCidr: string;
  }
> = {
  dev: {
    frontendOrigin: { value: 'http://localhost:3000', example: false },
    deletionProtection: false,
    logRetentionDays: 14,
    throttlingBurstLimit: 50,
    throttlingRateLimit: 25,
    vpcCidr: '10.50.0.0/16',
  },
  prod: {
    frontendOrigin: { value: 'https://cruddur.example.com', example: true },
    deletionProtection: true,
    logRetentionDays: 90,
    throttlingBurstLimit: 200,
    throttlingRateLimit: 100,
    vpcCidr: '10.60.0.0/16',
  },
};

/**
 * The example values used when a variable is unset. They have the shape AWS uses but name
 * nothing real (account 000000000000, "EXAMPLE" ids).
 */
function exampleValues(environment: EnvironmentName, region: string) {
  return {
    userPoolId: `${region}_EXAMPLE00`,
    clientId: 'example0client0id000000000',
    databaseSecretArn: `arn:aws:secretsmanager:${region}:000000000000:secret:cruddur/${environment}/database-EXAMPL`,
  };
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const USER_POOL_ID = /^([a-z]{2}(?:-[a-z]+)+-\d)_[0-9A-Za-z]+$/;
const CLIENT_ID = /^[0-9A-Za-z]+$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):\d{12}:secret:[\w/+=.@-]+$/;
/** A key ARN: an alias ARN would not do, IAM matches kms:Decrypt against the key's own ARN. */
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:key\/(mrk-)?[0-9a-f-]{32,36}$/;

function positiveNumber(name: string, value: string, integer: boolean): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0 || (integer && !Number.isInteger(parsed))) {
    fail(name, `expected a positive ${integer ? 'integer' : 'number'}, got "${value}"`);
  }
  return parsed;
}

/**
 * The configuration of the environment `CRUDDUR_ENV` names (default dev).
 * @throws ConfigurationError naming the variable that is malformed, or, under
 *   `CRUDDUR_STRICT_CONFIG=1`, the settings still holding example values.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): CruddurConfig {
  const environmentName = getOptionalStringFromEnv('CRUDDUR_ENV', 'dev', env);
  if (!(ENVIRONMENTS as readonly string[]).includes(environmentName)) {
    fail('CRUDDUR_ENV', `expected one of ${ENVIRONMENTS.join(', ')}, got "${environmentName}"`);
  }
  const environment = environmentName as EnvironmentName;
  const defaults = ENVIRONMENT_DEFAULTS[environment];
  const region = matching('CRUDDUR_AWS_REGION', getOptionalStringFromEnv('CRUDDUR_AWS_REGION', 'us-east-1', env), REGION, 'an AWS region like us-east-1');
  const examples = exampleValues(environment, region);
  const usedExamples: string[] = [];
  /** The variable's value, or the fallback (recorded when it is an example value). */
  const read = (name: string, fallback: string, example: boolean): string => {
    const value = getOptionalStringFromEnv(name, '', env).trim();
    if (value) return value;
    if (example) usedExamples.push(name);
    return fallback;
  };

  const userPoolId = matching(
    'CRUDDUR_COGNITO_USER_POOL_ID',
    read('CRUDDUR_COGNITO_USER_POOL_ID', examples.userPoolId, true),
    USER_POOL_ID,
    'a user pool id like us-east-1_AbC123xyZ',
  );
  const clientId = matching(
    'CRUDDUR_COGNITO_CLIENT_ID',
    read('CRUDDUR_COGNITO_CLIENT_ID', examples.clientId, true),
    CLIENT_ID,
    'an app client id (letters and digits)',
  );
  if (value(env, 'CRUDDUR_FRONTEND_ORIGIN') !== undefined) {
    fail(
      'CRUDDUR_FRONTEND_ORIGIN',
      'renamed to CRUDDUR_FRONTEND_ORIGINS, a comma-separated list of origins (e.g. https://example.org,https://www.example.org)',
    );
  }
  const frontendOrigins = frontendOriginList(read('CRUDDUR_FRONTEND_ORIGINS', defaults.frontendOrigin.value, defaults.frontendOrigin.example));

  const secretArn = matching(
    'CRUDDUR_DATABASE_SECRET_ARN',
    read('CRUDDUR_DATABASE_SECRET_ARN', examples.databaseSecretArn, true),
    SECRET_ARN,
    'a Secrets Manager secret ARN',
  );
  // The functions reach Secrets Manager through their VPC's endpoint, which serves its own region only.
  const secretRegion = SECRET_ARN.exec(secretArn)?.[1];
  if (secretRegion !== region)
    fail(
      'CRUDDUR_DATABASE_SECRET_ARN',
      `the secret is in ${secretRegion} but the stacks deploy to ${region} (CRUDDUR_AWS_REGION); the functions can read secrets of their own region only`,
    );
  const secretKmsKeyArn = getOptionalStringFromEnv('CRUDDUR_DATABASE_SECRET_KMS_KEY_ARN', '', env).trim() || undefined;
  if (secretKmsKeyArn) {
    const keyRegion = matching(
      'CRUDDUR_DATABASE_SECRET_KMS_KEY_ARN',
      secretKmsKeyArn,
      KMS_KEY_ARN,
      'a KMS key ARN (arn:aws:kms:region:account:key/…, not an alias)',
    ).match(KMS_KEY_ARN)?.[1];
    if (keyRegion !== region)
      fail('CRUDDUR_DATABASE_SECRET_KMS_KEY_ARN', `the key is in ${keyRegion}; a secret in ${region} is encrypted with a key of ${region}`);
  }
  const { network, deployRefusal } = readNetwork(env, region, defaults.vpcCidr);

  const stateBucketText = value(env, 'CRUDDUR_STATE_BUCKET');
  const stateBucket =
    stateBucketText === undefined ? undefined : matching('CRUDDUR_STATE_BUCKET', stateBucketText, /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name');
  // A CI runner's disk is gone after the run: a deploy from it with local state would forget everything it created.
  const stateRefusal =
    stateBucket === undefined && env.GITHUB_ACTIONS === 'true'
      ? 'CRUDDUR_STATE_BUCKET: a deploy from GitHub Actions needs the state in S3 (the runner forgets a local state file); see docs/deploy.md, State'
      : undefined;
  const alarmEmailText = value(env, 'CRUDDUR_ALARM_EMAIL');
  const alarmEmail =
    alarmEmailText === undefined ? undefined : matching('CRUDDUR_ALARM_EMAIL', alarmEmailText, /^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'an email address');
  const billingMode = getOptionalStringFromEnv('CRUDDUR_BILLING_MODE', 'PAY_PER_REQUEST', env);
  if (billingMode !== 'PAY_PER_REQUEST' && billingMode !== 'PROVISIONED') {
    fail('CRUDDUR_BILLING_MODE', `expected PAY_PER_REQUEST or PROVISIONED, got "${billingMode}"`);
  }
  const logRetentionDays = positiveNumber(
    'CRUDDUR_LOG_RETENTION_DAYS',
    getOptionalStringFromEnv('CRUDDUR_LOG_RETENTION_DAYS', String(defaults.logRetentionDays), env),
    true,
  );
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(logRetentionDays)) {
    fail('CRUDDUR_LOG_RETENTION_DAYS', `CloudWatch Logs accepts ${LOG_RETENTION_DAYS.join(', ')}; got ${logRetentionDays}`);
  }

  const config: CruddurConfig = {
    environment,
    region,
    namePrefix: `cruddur-${environment}`,
    cognito: { userPoolId, clientId },
    frontendOrigins,
    database: { secretArn, ...(secretKmsKeyArn ? { secretKmsKeyArn } : {}) },
    network,
    table: {
      name: getOptionalStringFromEnv('CRUDDUR_TABLE_NAME', DEFAULT_TABLE_NAME, env),
      billingMode,
      provisionedCapacity: { read: 5, write: 5 },
      deletionProtection: defaults.deletionProtection,
      adoptExisting: flag(env, 'CRUDDUR_ADOPT_TABLE'),
    },
    logRetentionDays,
    logLevel: choice(env, 'CRUDDUR_LOG_LEVEL', LOG_LEVELS),
    api: {
      throttlingBurstLimit: positiveNumber(
        'CRUDDUR_API_THROTTLING_BURST_LIMIT',
        getOptionalStringFromEnv('CRUDDUR_API_THROTTLING_BURST_LIMIT', String(defaults.throttlingBurstLimit), env),
        true,
      ),
      throttlingRateLimit: positiveNumber(
        'CRUDDUR_API_THROTTLING_RATE_LIMIT',
        getOptionalStringFromEnv('CRUDDUR_API_THROTTLING_RATE_LIMIT', String(defaults.throttlingRateLimit), env),
        false,
      ),
      detailedMetrics: flag(env, 'CRUDDUR_API_DETAILED_METRICS'),
    },
    limits: userLimitsFromSettings(env),
    ...(alarmEmail ? { alarmEmail } : {}),
    ...(stateBucket ? { stateBucket } : {}),
    websocket: { accessLogs: choice(env, 'CRUDDUR_WEBSOCKET_ACCESS_LOGS', WEBSOCKET_ACCESS_LOGS) },
    exampleValues: usedExamples,
    deployRefusals: [
      ...(usedExamples.length > 0 ? [`example values in use; set ${usedExamples.join(', ')}`] : []),
      ...(deployRefusal ? [deployRefusal] : []),
      ...(stateRefusal ? [stateRefusal] : []),
    ],
  };

  if (env.CRUDDUR_STRICT_CONFIG === '1' && config.deployRefusals.length > 0) {
    throw new ConfigurationError(`Refusing to deploy the ${environment} environment: ${config.deployRefusals.join('; ')} (see docs/deploy.md)`);
  }
  return config;
}

/** The role `CRUDDUR_WEBSOCKET_ACCESS_LOGS=create-role` creates and makes the account's (and preflight recognizes as ours). */
export function apiGatewayLogsRoleName(namePrefix: string): string {
  return `${namePrefix}-realtime-apigateway-logs`;
}

/** Origins as CORS compares them: scheme, host and port, no path, no trailing slash, each once. */
function frontendOriginList(text: string): string[] {
  const origins = text
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  if (origins.length === 0) fail('CRUDDUR_FRONTEND_ORIGINS', 'expected at least one origin');
  for (const origin of origins) {
    let parsed: string | undefined;
    try {
      parsed = new URL(origin).origin;
    } catch {
      parsed = undefined;
    }
    if (parsed !== origin || !/^https?:/.test(origin)) {
      fail(
        'CRUDDUR_FRONTEND_ORIGINS',
        `expected origins like https://app.example.org (scheme, host, optional port; no path or trailing slash), separated by commas; got "${origin}"`,
      );
    }
  }
  const repeated = origins.find((origin, index) => origins.indexOf(origin) !== index);
  if (repeated) fail('CRUDDUR_FRONTEND_ORIGINS', `"${repeated}" is listed twice`);
  return origins;
}

/** The issuer of a user pool's tokens; the pool's region is the prefix of its id. */
export function cognitoIssuerUrl(userPoolId: string): string {
  const region = USER_POOL_ID.exec(userPoolId)?.[1];
  if (!region) throw new ConfigurationError(`Not a Cognito user pool id: "${userPoolId}"`);
  return `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`;
}

/** Where a stack's Terraform state lives in the state bucket (`CRUDDUR_STATE_BUCKET`). */
export const stateKey = (stackName: string) => `cruddur/${stackName}.tfstate`;

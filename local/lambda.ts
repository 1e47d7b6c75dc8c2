/**
 * Running the catalog's functions in this process as Lambda would run them: the handler
 * module loaded once (one warm container per function), the environment the deployed
 * functions get (pointed at the local services), a context with the catalog's memory and a
 * deadline from its timeout, and the timeout enforced.
 *
 * Shared by the local HTTP gateway, the local stream consumer and `npm run invoke`.
 */
import { type UserLimits, userLimitsFromSettings } from '../functions/config/limits';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Context } from 'aws-lambda';
import { InvokeStoreBase } from '@aws/lambda-invoke-store';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FUNCTIONS, type FunctionDefinition } from '../functions/catalog';
import { sharedDocumentClient } from '../functions/clients/dynamodb';
import { functionEnvironment } from '../functions/config/function-config';
import { logger } from '../functions/observability/logger';
import type { AccessTokenSettings } from '../functions/auth/access-token';
import { installLocalFaults, type FaultRates } from './faults';
import { LOCAL_ACCOUNT_ID, LOCAL_CREDENTIALS, LOCAL_REGION } from './aws';
import { REPOSITORY_ROOT } from './paths';

/** Invocations at once in this process, as far as the functions can tell (any number is served). */
const LOCAL_MAX_CONCURRENCY = 64;

/** Local functions are named like deployed ones, `cruddur-{env}-{name}`, with env `local`. */
const localFunctionName = (fn: Pick<FunctionDefinition, 'name'>) => `cruddur-local-${fn.name}`;

/** The function ran past its catalog timeout (Lambda: "Task timed out after 10.00 seconds"). */
class LambdaTimeoutError extends Error {
  constructor(fn: FunctionDefinition) {
    super(`Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`);
    this.name = 'LambdaTimeoutError';
  }
}

// One log stream per function and process, as one warm container has one.
const logStreams = new Map<string, string>();

function logStreamName(fn: FunctionDefinition, now: Date): string {
  let name = logStreams.get(fn.name);
  if (name === undefined) {
    const day = now.toISOString().slice(0, 10).replace(/-/g, '/');
    name = `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
    logStreams.set(fn.name, name);
  }
  return name;
}

/** A Lambda context for one invocation of `fn`, whose deadline is `timeoutSeconds` from now. */
export function lambdaContext(fn: FunctionDefinition, now = Date.now()): Context {
  const functionName = localFunctionName(fn);
  const deadline = now + fn.timeoutSeconds * 1000;
  const unsupported = (what: string) => () => {
    throw new Error(`context.${what}() is not supported by the Node.js 22 runtime; return a value or throw instead`);
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: String(fn.memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: logStreamName(fn, new Date(now)),
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
}

export type LambdaHandler<E, R> = (event: E, context: Context) => Promise<R>;

type InvocationState = Record<string | symbol, unknown>;

/**
 * Lambda's per-invocation store, as this process's runtime provides it. Every function runs in
 * this one process, and their invocations overlap, as they do in one execution environment of
 * Lambda Managed Instances; there the runtime gives each invocation its own state in
 * `awslambda.InvokeStore` (an AsyncLocalStorage) and Powertools keeps the functions' logger
 * state in it when AWS_LAMBDA_MAX_CONCURRENCY is set. Without it, a line logged by one
 * invocation carried the function name and request id of whichever had started since.
 * Outside an invocation (module loading, a test calling a handler directly) the state is the
 * one shared object Powertools keeps when invocations do not overlap.
 */
class LocalInvokeStore extends InvokeStoreBase {
  private readonly invocations = new AsyncLocalStorage<InvocationState>();
  private readonly outside: InvocationState = {};

  getContext(): InvocationState | undefined {
    return this.invocations.getStore();
  }

  hasContext(): boolean {
    return this.invocations.getStore() !== undefined;
  }

  get<T>(key: string | symbol): T | undefined {
    return (this.invocations.getStore() ?? this.outside)[key] as T | undefined;
  }

  set<T>(key: string | symbol, value: T): void {
    if (this.isProtectedKey(key)) throw new Error(`Cannot modify protected Lambda context field: ${String(key)}`);
    (this.invocations.getStore() ?? this.outside)[key] = value;
  }

  run<T>(context: InvocationState, fn: () => T): T {
    return this.invocations.run(context, fn);
  }
}

const invokeStore = new LocalInvokeStore();

/**
 * Calls the handler with a fresh context; rejects with {@link LambdaTimeoutError} when it
 * runs past the catalog timeout (the work it started is not cancelled, as nothing freezes
 * a local process the way Lambda freezes a container).
 */
export async function invokeFunction<E, R>(fn: FunctionDefinition, handler: LambdaHandler<E, R>, event: E, context = lambdaContext(fn)): Promise<R> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LambdaTimeoutError(fn)), context.getRemainingTimeInMillis());
    timer.unref();
  });
  const invocation = { [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: context.awsRequestId };
  try {
    return await Promise.race([invokeStore.run(invocation, () => Promise.resolve().then(() => handler(event, context))), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const loaded = new Map<string, Promise<unknown>>();

/**
 * The `handler` export of the function's entry module, imported once (a cold start on
 * first use). Set the function environment first: some modules read it when loaded.
 */
export function loadHandler<H>(fn: FunctionDefinition): Promise<H> {
  let handler = loaded.get(fn.entry);
  if (handler === undefined) {
    const entry = path.join(REPOSITORY_ROOT, fn.entry);
    handler = import(entry).then((module: { handler?: unknown; default?: { handler?: unknown } }) => {
      const exported = module.handler ?? module.default?.handler;
      if (typeof exported !== 'function') throw new Error(`${fn.entry} does not export a handler function`);
      return exported;
    });
    handler.catch(() => loaded.delete(fn.entry));
    loaded.set(fn.entry, handler);
  }
  return handler as Promise<H>;
}

export interface LocalTargets {
  dynamodbUrl: string;
  databaseUrl: string;
  tableName: string;
  /** The local user pool, for the WebSocket authorizer (absent: that function cannot run here). */
  cognito?: AccessTokenSettings;
  /** The local gateway's WebSocket management URL, for the push function (absent: likewise). */
  websocketManagementUrl?: string;
  /** Per-user limits; absent: the `CRUDDUR_*` settings of this process, as a deployment reads them. */
  limits?: UserLimits;
  /**
   * The functions' AWS credentials: DynamoDB Local takes any; the local `@connections` takes
   * only this run's (the runtime makes a secret key per run). Absent: {@link LOCAL_CREDENTIALS}.
   */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * The environment of the deployed functions (`functionEnvironment` of the catalog's
 * functions: the table, the service name, the database), pointed at the local services:
 * DATABASE_URL instead of the secret, and the SDK's own AWS_ENDPOINT_URL_DYNAMODB with dummy
 * credentials (DynamoDB Local accepts any, and no AWS account or profile is needed). The
 * functions share this one process, so it is the union of theirs. `logLevel` is the
 * developer's POWERTOOLS_LOG_LEVEL, if any.
 */
export function localFunctionEnvironment(targets: LocalTargets, logLevel?: string): Record<string, string | undefined> {
  const input = {
    tableName: targets.tableName,
    usersDatabase: { url: targets.databaseUrl },
    ...(targets.cognito ? { cognito: targets.cognito } : {}),
    ...(targets.websocketManagementUrl ? { websocketManagementUrl: targets.websocketManagementUrl } : {}),
    limits: targets.limits ?? userLimitsFromSettings(),
    metricsNamespace: 'Cruddur/cruddur-local',
  };
  // A function whose settings are not known here is left out: its handler says what it misses when called.
  const runnable = FUNCTIONS.filter((fn) => (fn.kind !== 'websocket-authorizer' || input.cognito) && !(fn.manageConnections && !input.websocketManagementUrl));
  const functions = Object.assign({}, ...runnable.map((fn) => functionEnvironment(fn, input))) as Record<string, string>;
  return {
    ...functions,
    DATABASE_SECRET_ARN: undefined,
    AWS_ENDPOINT_URL_DYNAMODB: targets.dynamodbUrl,
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: (targets.credentials ?? LOCAL_CREDENTIALS).accessKeyId,
    AWS_SECRET_ACCESS_KEY: (targets.credentials ?? LOCAL_CREDENTIALS).secretAccessKey,
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    // The functions' structured INFO lines would drown the gateway's one line per request;
    // `POWERTOOLS_LOG_LEVEL=INFO npm start` shows them.
    POWERTOOLS_LOG_LEVEL: logLevel || 'WARN',
    // The business metrics are CloudWatch's (embedded metric format lines on stdout): nobody reads them here.
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
}

export interface LocalFunctionsOptions {
  targets: LocalTargets;
  logLevel?: string;
  /** DynamoDB faults for the functions' client (soak, `CRUDDUR_FAULTS`); none by default. */
  faults?: FaultRates;
}

/**
 * Makes this process a place the functions can run: their environment applied (before any
 * function module is loaded: some read it when loaded) and, when asked, faults installed on
 * their shared DynamoDB client. Returns what undoes the environment.
 */
export function prepareLocalFunctions(options: LocalFunctionsOptions): () => void {
  // Invocations overlap here: Powertools keeps each one's state apart in the store (LocalInvokeStore).
  // The variable only in this process, with the store it names: a bundle run in a process of its
  // own (the benchmarks) gets the environment above without it, as a Lambda container does.
  globalThis.awslambda = { ...globalThis.awslambda, InvokeStore: invokeStore };
  const restore = setEnvironment({
    ...localFunctionEnvironment(options.targets, options.logLevel),
    AWS_LAMBDA_MAX_CONCURRENCY: String(LOCAL_MAX_CONCURRENCY),
  });
  // The functions' shared logger reads its level once, when created: in a process that loaded
  // it before this (a benchmark, a test importing a handler), it kept the level of that moment
  // and printed INFO lines under WARN. It takes the level just applied. An invalid value is
  // left to Powertools, which said so and chose INFO when it read it.
  try {
    logger.setLogLevel(process.env.POWERTOOLS_LOG_LEVEL!.toUpperCase() as Parameters<typeof logger.setLogLevel>[0]);
  } catch {}
  if (options.faults) installLocalFaults(sharedDocumentClient() as unknown as DynamoDBClient, options.targets.dynamodbUrl, options.faults);
  return restore;
}

/** Sets (or, for `undefined`, removes) variables of this process; returns what puts them back. */
function setEnvironment(variables: Record<string, string | undefined>): () => void {
  const saved = new Map<string, string | undefined>();
  for (const [name, value] of Object.entries(variables)) {
    saved.set(name, process.env[name]);
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/**
 * `npm run invoke -- <function> ...`: runs one function of the catalog once, like
 * `sam local invoke`, against the local services (`npm start` must be running). The event
 * is built from the options as API Gateway would build it, or read from a file (samples
 * under events/). The handler's result goes to stdout as JSON; a Lambda-style REPORT line
 * goes to stderr.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { functionNamed, FUNCTIONS, WEBSOCKET_STAGE, type FunctionDefinition, type HttpFunction } from '../functions/catalog';
import { getPortFromEnv } from '../functions/config/environment';
import { runAsMain, UsageError, type ScriptContext, type ScriptSpec } from './lib/cli';
import { createCognitoClient, findLocalPool } from './lib/cognito';
import { withPool } from './lib/postgres';
import { databaseUrlOf, type Targets } from './lib/targets';
import { localIssuer } from '../local/gateway/auth';
import { eventForRoute, scopesOf, type HttpApiEvent } from '../local/gateway/http-event';
import { prepareLocalFunctions, invokeFunction, lambdaContext, loadHandler, type LambdaHandler } from '../local/lambda';
import { REPOSITORY_ROOT } from '../local/paths';
import { DEFAULT_GATEWAY_PORT } from '../local/runtime';

const options = {
  user: { type: 'string' },
  path: { type: 'string', multiple: true },
  query: { type: 'string', multiple: true },
  body: { type: 'string' },
  event: { type: 'string' },
} as const;

export const spec: ScriptSpec<typeof options> = {
  name: 'invoke',
  summary: `Run one function once against the local services (npm start must run) and print its result. Functions: ${FUNCTIONS.map((fn) => fn.name).join(', ')}.`,
  options,
  allowPositionals: true,
  usage: [
    '<function>            the catalog name, e.g. list-message-groups',
    "--user <handle>       call as this user: their cognito_user_id becomes the token's sub (HTTP functions)",
    '--path name=value     a path parameter, e.g. --path message_group_uuid=... (repeatable)',
    '--query name=value    a query parameter, e.g. --query limit=5 (repeatable)',
    '--body <json>|@file   the request body, inline or from a file',
    '--event <file>        the whole event from a file (see events/); the options above change it',
  ],
};

/** `name=value` pairs into an object. */
function pairs(list: readonly string[] | undefined, option: string): Record<string, string> | undefined {
  if (list === undefined || list.length === 0) return undefined;
  const result: Record<string, string> = {};
  for (const item of list) {
    const equals = item.indexOf('=');
    if (equals <= 0) throw new UsageError(`--${option} takes name=value, got "${item}"`);
    result[item.slice(0, equals)] = item.slice(equals + 1);
  }
  return result;
}

function readJsonFile(file: string, what: string): unknown {
  const resolved = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(resolved, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${what} ${resolved}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${what} ${resolved} is not valid JSON`);
  }
}

/** The body option: inline JSON, or `@file`. Checked to be JSON, sent as written. */
function bodyOption(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const text = value.startsWith('@') ? JSON.stringify(readJsonFile(value.slice(1), 'body file')) : value;
  try {
    JSON.parse(text);
  } catch {
    throw new UsageError('--body is not valid JSON (use @file to read it from a file)');
  }
  return text;
}

/** Claims such as a local Cognito access token of `handle` carries. */
async function claimsOf(targets: Targets, handle: string): Promise<Record<string, string>> {
  const user = await withPool(targets, async (pool) => {
    const result = await pool.query<{ cognito_user_id: string | null }>('SELECT cognito_user_id FROM public.users WHERE handle = $1', [handle]);
    return result.rows[0];
  });
  if (user === undefined) throw new UsageError(`no user has the handle "${handle}"`);
  if (!user.cognito_user_id) throw new UsageError(`@${handle} has no cognito_user_id yet: run npm run db:update-cognito-user-ids (npm start does it)`);
  const endpoint = targets.cognitoEndpoint!;
  const pool = await localPoolOf(targets);
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: user.cognito_user_id,
    iss: localIssuer(endpoint.replace('localhost', '127.0.0.1'), pool.userPoolId),
    client_id: pool.clientId,
    token_use: 'access',
    scope: 'aws.cognito.signin.user.admin',
    username: handle,
    auth_time: String(now),
    iat: String(now),
    exp: String(now + 3600),
    jti: randomUUID(),
    event_id: randomUUID(),
  };
}

/** The local user pool and its app client. */
async function localPoolOf(targets: Targets): Promise<{ userPoolId: string; clientId: string }> {
  const cognito = createCognitoClient(targets.cognitoEndpoint!);
  try {
    const pool = await findLocalPool(cognito);
    return { userPoolId: pool.userPoolId, clientId: pool.clientId };
  } finally {
    cognito.destroy();
  }
}

async function httpEvent(fn: HttpFunction, targets: Targets, values: ScriptContext<typeof options>['values']): Promise<HttpApiEvent> {
  const pathParameters = pairs(values.path as unknown as string[] | undefined, 'path');
  const query = pairs(values.query as unknown as string[] | undefined, 'query');
  const body = bodyOption(values.body);
  const claims = values.user === undefined ? undefined : await claimsOf(targets, values.user.replace(/^@/, ''));
  if (values.event === undefined) return eventForRoute(fn, { pathParameters, query, body, claims });

  const event = readJsonFile(values.event, 'event file') as HttpApiEvent;
  if (typeof event !== 'object' || event === null || typeof event.requestContext !== 'object')
    throw new UsageError(`${values.event} is not an API Gateway v2 event`);
  // The options change the given event, as a request with them would.
  if (pathParameters || query) {
    const built = eventForRoute(fn, { pathParameters: pathParameters ?? decodedValues(event.pathParameters), query });
    if (pathParameters)
      Object.assign(event, {
        pathParameters: built.pathParameters,
        rawPath: built.rawPath,
        requestContext: { ...event.requestContext, http: { ...event.requestContext.http, path: built.rawPath } },
      });
    if (query) Object.assign(event, { queryStringParameters: built.queryStringParameters, rawQueryString: built.rawQueryString });
  }
  if (body !== undefined) Object.assign(event, { body, isBase64Encoded: false });
  if (claims) event.requestContext.authorizer = { principalId: '', integrationLatency: 0, jwt: { claims, scopes: scopesOf(claims) as string[] } };
  return event;
}

function decodedValues(parameters: Record<string, string | undefined> | undefined): Record<string, string> | undefined {
  if (parameters === undefined) return undefined;
  return Object.fromEntries(Object.entries(parameters).flatMap(([name, value]) => (value === undefined ? [] : [[name, decodeURIComponent(value)]])));
}

export async function main({ prod, targets, env, positionals, values, out }: ScriptContext<typeof options>): Promise<number> {
  if (prod) throw new UsageError('invoke runs functions locally only');
  if (positionals.length !== 1) throw new UsageError('name one function, e.g. npm run invoke -- list-message-groups --user bayko');
  let fn: FunctionDefinition;
  try {
    fn = functionNamed(positionals[0]!);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }

  let event: unknown;
  if (fn.kind === 'http') {
    event = await httpEvent(fn, targets, values);
  } else {
    const sample = readJsonFile(values.event ?? path.join(REPOSITORY_ROOT, 'events', `${fn.name}.json`), 'event file') as Record<string, unknown>;
    if (values.path || values.body) throw new UsageError(`${fn.name} takes no --path or --body: use --event (e.g. events/${fn.name}.json)`);
    if (values.user && fn.kind !== 'websocket') throw new UsageError(`--user applies to HTTP and WebSocket routes; ${fn.name} is not one`);
    if (values.query && fn.kind !== 'websocket-authorizer')
      throw new UsageError(`--query applies to HTTP routes and the WebSocket authorizer; ${fn.name} is not one`);
    // A WebSocket route as the authorizer would have let @user in; the authorizer with the given query (its token).
    if (values.user) {
      const { sub } = await claimsOf(targets, values.user.replace(/^@/, ''));
      sample.requestContext = { ...(sample.requestContext as Record<string, unknown> | undefined), authorizer: { sub, principalId: sub } };
    }
    const query = pairs(values.query as unknown as string[] | undefined, 'query');
    if (query) {
      sample.queryStringParameters = query;
      sample.multiValueQueryStringParameters = Object.fromEntries(Object.entries(query).map(([name, value]) => [name, [value]]));
    }
    event = sample;
  }

  // The WebSocket authorizer accepts the local pool's tokens; the push function posts to a running npm start's WebSocket API.
  const pool = fn.kind === 'websocket-authorizer' ? await localPoolOf(targets) : undefined;
  prepareLocalFunctions({
    targets: {
      dynamodbUrl: targets.dynamodbEndpoint!,
      databaseUrl: databaseUrlOf(targets),
      tableName: targets.tableName,
      ...(pool ? { cognito: { ...pool, issuerUrl: localIssuer(targets.cognitoEndpoint!.replace('localhost', '127.0.0.1'), pool.userPoolId) } } : {}),
      websocketManagementUrl: `http://127.0.0.1:${getPortFromEnv('PORT', DEFAULT_GATEWAY_PORT, env)}/${WEBSOCKET_STAGE}`,
    },
    logLevel: env.POWERTOOLS_LOG_LEVEL,
  });
  const handler = await loadHandler<LambdaHandler<unknown, unknown>>(fn);
  const context = lambdaContext(fn);
  const began = performance.now();
  let code = 0;
  try {
    const result = await invokeFunction(fn, handler, event, context);
    out.log(JSON.stringify(result ?? null, null, 2));
  } catch (error) {
    // As Lambda reports a function error.
    out.log(JSON.stringify({ errorType: (error as Error).name ?? 'Error', errorMessage: (error as Error).message ?? String(error) }, null, 2));
    code = 1;
  }
  const duration = performance.now() - began;
  const usedMb = Math.round(process.memoryUsage().rss / 1024 / 1024);
  out.error(`REPORT RequestId: ${context.awsRequestId}\tDuration: ${duration.toFixed(2)} ms\tMemory Size: ${fn.memoryMb} MB\tMax Memory Used: ${usedMb} MB`);
  return code;
}

if (require.main === module) runAsMain(spec, main);

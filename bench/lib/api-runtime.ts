/**
 * The HTTP side of the API benchmark, run in its own process (`tsx bench/lib/api-runtime.ts`)
 * so the load generator does not share the gateway's event loop, as no real client does.
 *
 * It starts what `startLocalRuntime` starts for HTTP, minus the stream consumer (which the
 * measured requests do not use): the local gateway with the local Cognito JWT authorizer,
 * in front of the catalog's handlers with their production wiring (`defaultMessaging`:
 * env read at first request, the cached user directory). A second gateway serves pattern B
 * with the user lookup uncached: the handler factory takes its `Messaging` as a dependency,
 * and the uncached `UsersRepository` is itself a `UserDirectory`, so switching the cache off
 * needs no switch in the product.
 *
 * Input: the JSON of {@link ApiRuntimeConfig} in `BENCH_API_RUNTIME`. Output: one line
 * `READY {"cached": url, "uncached": url}` on stdout. Stops on SIGTERM or when stdin closes.
 */
import { functionNamed, type HttpFunction } from '../../functions/catalog';
import { sharedDocumentClient } from '../../functions/clients/dynamodb';
import { createPgPool } from '../../functions/clients/postgres-pool';
import { createMessagesRepository } from '../../functions/data/messages-repository';
import { createMessaging } from '../../functions/domain/conversations';
import { createUsersRepository } from '../../functions/data/users-repository';
import { createListMessageGroupsHandler } from '../../functions/list-message-groups';
import { createLocalCognitoAuthorizer } from '../../local/gateway/auth';
import { startGateway, type HttpHandler } from '../../local/gateway/server';
import { prepareLocalFunctions } from '../../local/lambda';

export interface ApiRuntimeConfig {
  dynamodbUrl: string;
  databaseUrl: string;
  cognitoUrl: string;
  tableName: string;
  pool: { userPoolId: string; clientId: string };
}

export const READY_PREFIX = 'READY ';

/** The per-user POST limit of the benchmark's functions: on, as deployed, but never reached by its one fast caller. */
export const API_RUNTIME_POST_LIMIT = { limit: 100_000, windowSeconds: 60 };

async function main(): Promise<void> {
  const config = JSON.parse(process.env.BENCH_API_RUNTIME ?? '') as ApiRuntimeConfig;
  // The per-user POST limit stays on, as deployed (its UpdateItem is part of C's path), but high
  // enough that the benchmark's one caller, far faster than a person, is never refused.
  prepareLocalFunctions({ targets: { ...config, limits: { posts: API_RUNTIME_POST_LIMIT, connectionsPerUser: 10 } } });
  const authorizer = createLocalCognitoAuthorizer({ cognitoUrl: config.cognitoUrl, ...config.pool });
  // The gateway's per-request console line is the local developer's view, not part of the
  // deployed path (API Gateway's access log is asynchronous): not measured.
  const quiet = () => {};
  const cached = await startGateway({ port: 0, authorizer, log: quiet });

  const uncachedMessaging = createMessaging({
    messages: createMessagesRepository(sharedDocumentClient(), { tableName: config.tableName }),
    users: createUsersRepository(createPgPool(config.databaseUrl)),
  });
  const listMessageGroups = functionNamed('list-message-groups') as HttpFunction;
  const uncachedHandler = createListMessageGroupsHandler({ messaging: () => uncachedMessaging }) as HttpHandler;
  const uncached = await startGateway({ port: 0, authorizer, routes: [listMessageGroups], handlerFor: async () => uncachedHandler, log: quiet });

  process.stdout.write(`${READY_PREFIX}${JSON.stringify({ cached: cached.url, uncached: uncached.url })}\n`);
  const stop = () => void Promise.all([cached.stop(), uncached.stop()]).finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.stdin.on('end', stop).resume();
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`api-runtime: ${(error as Error).stack ?? error}`);
    process.exit(1);
  });
}

/**
 * The HTTP and WebSocket functions' production wiring: settings read and clients created once per
 * container, on the first request (the cold start), and reused while the container is warm.
 * Tests build their own {@link Messaging} over the local services instead.
 */
import { createDirectoryRepository } from '../data/directory-repository';
import { createMessagesRepository } from '../data/messages-repository';
import { createRateLimitRepository } from '../data/rate-limit-repository';
import { userLimitsFromFunctionEnv } from '../config/limits';
import { createUsersRepository } from '../data/users-repository';
import { createMessaging, type Messaging } from '../domain/conversations';
import { createCachedUserDirectory, type UserDirectory } from '../domain/user-directory';
import { sharedDocumentClient } from '../clients/dynamodb';
import { functionConfig } from '../config/function-config';
import { getDatabaseUrl } from '../clients/database-url';
import { logger } from '../observability/logger';
import { createShortLivedPostgres } from '../clients/postgres';

/**
 * The users as the environment describes them (the HTTP and WebSocket functions' directory):
 * the container's cache, then the copy in DynamoDB, then PostgreSQL over a connection per
 * query; the database secret is read only when PostgreSQL is asked (domain/user-directory.ts).
 */
async function createUserDirectoryFromEnv(): Promise<UserDirectory> {
  const postgres = createShortLivedPostgres({ connectionString: (options) => getDatabaseUrl(process.env, undefined, options) });
  return createCachedUserDirectory(createUsersRepository(postgres), {
    copy: createDirectoryRepository(sharedDocumentClient(), { tableName: functionConfig().tableName }),
    onCopyError: (error) => logger.warn('The user directory in DynamoDB could not be used; asked PostgreSQL', { error: (error as Error).message }),
  });
}

/**
 * One value per container, made on first use; a failed cold start (e.g. the secret read) is
 * not kept, so the next call tries again.
 */
function oncePerContainer<T>(create: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () =>
    (value ??= create().catch((error: unknown) => {
      value = undefined;
      throw error;
    }));
}

/** The container's one user directory (the HTTP routes' and the WebSocket routes'). */
export const defaultUserDirectory = oncePerContainer(createUserDirectoryFromEnv);

/** Builds the messaging domain over DynamoDB and PostgreSQL as the environment describes them. */
async function createMessagingFromEnv(): Promise<Messaging> {
  const { tableName } = functionConfig();
  const { posts } = userLimitsFromFunctionEnv();
  const rateLimits = createRateLimitRepository(sharedDocumentClient(), { tableName });
  return createMessaging({
    messages: createMessagesRepository(sharedDocumentClient(), { tableName }),
    users: await defaultUserDirectory(),
    postAllowance: { take: (sub) => rateLimits.take(sub, 'POST', posts), describe: `${posts.limit} in ${posts.windowSeconds} s` },
  });
}

/** The container's one {@link Messaging}. */
export const defaultMessaging = oncePerContainer(createMessagingFromEnv);

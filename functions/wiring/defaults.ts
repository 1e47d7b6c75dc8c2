/**
 * The HTTP and WebSocket functions' production wiring: settings read and clients created once per
 * container, on the first request (the cold start), and reused while the container is warm.
 * Tests build their own {@link Messaging} over the local services instead.
 */
import { createMessagesRepository } from '../data/messages-repository';
import { createUsersRepository } from '../data/users-repository';
import { createMessaging, type Messaging } from '../domain/conversations';
import { createCachedUserDirectory, type UserDirectory } from '../domain/user-directory';
import { sharedDocumentClient } from '../clients/dynamodb';
import { functionConfig } from '../config/function-config';
import { getDatabaseUrl } from '../clients/database-url';
import { logger } from '../observability/logger';
import { createPgPool } from '../clients/postgres';

/** The users of PostgreSQL as the environment describes it, cached (the HTTP and WebSocket functions' directory). */
async function createUserDirectoryFromEnv(): Promise<UserDirectory> {
  const pool = createPgPool(await getDatabaseUrl());
  // An idle connection dropped while the container was frozen must not crash the process;
  // the pool discards it and the next query connects afresh. The message only: pg attaches
  // the whole client to the error, which would flood the log.
  pool.on('error', (error) => logger.warn('Idle PostgreSQL connection failed', { error: error.message }));
  return createCachedUserDirectory(createUsersRepository(pool));
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
  return createMessaging({
    messages: createMessagesRepository(sharedDocumentClient(), { tableName }),
    users: await defaultUserDirectory(),
  });
}

/** The container's one {@link Messaging}. */
export const defaultMessaging = oncePerContainer(createMessagingFromEnv);

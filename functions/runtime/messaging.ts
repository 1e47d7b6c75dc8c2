/**
 * The HTTP functions' production wiring: settings read and clients created once per
 * container, on the first request (the cold start), and reused while the container is warm.
 * Tests build their own {@link Messaging} over the local services instead.
 */
import { createMessagesRepository } from '../data/messages-repository';
import { createUsersRepository } from '../data/users-repository';
import { createMessaging, type Messaging } from '../domain/messaging';
import { createCachedUserDirectory } from '../domain/user-directory';
import { sharedDocumentClient } from './clients';
import { functionConfig } from './config';
import { getDatabaseUrl } from './database-url';
import { logger } from './logger';
import { createPgPool } from './postgres';

/** Builds the messaging domain over DynamoDB and PostgreSQL as the environment describes them. */
export async function createMessagingFromEnv(): Promise<Messaging> {
  const { tableName } = functionConfig();
  const pool = createPgPool(await getDatabaseUrl());
  // An idle connection dropped while the container was frozen must not crash the process;
  // the pool discards it and the next query connects afresh. The message only: pg attaches
  // the whole client to the error, which would flood the log.
  pool.on('error', (error) => logger.warn('Idle PostgreSQL connection failed', { error: error.message }));
  return createMessaging({
    messages: createMessagesRepository(sharedDocumentClient(), { tableName }),
    users: createCachedUserDirectory(createUsersRepository(pool)),
  });
}

let messaging: Promise<Messaging> | undefined;

/** The container's one {@link Messaging}; a failed cold start (e.g. the secret read) is retried by the next request. */
export function defaultMessaging(): Promise<Messaging> {
  messaging ??= createMessagingFromEnv().catch((error: unknown) => {
    messaging = undefined;
    throw error;
  });
  return messaging;
}

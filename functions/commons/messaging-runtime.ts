/**
 * The API functions' production wiring: settings read and clients created once per
 * container, on the first request (the cold start), and reused while the container is warm.
 * Tests build their own {@link Messaging} over the local services instead.
 */
import { createDocumentClient, createPgPool } from './clients';
import { getDatabaseUrl } from './database-url';
import { getOptionalStringFromEnv } from './env';
import { logger } from './http';
import { createMessagesRepository } from './messages-repository';
import { createMessaging, type Messaging } from './messaging';
import { DEFAULT_TABLE_NAME } from './model';
import { createCachedUserDirectory } from './user-directory';
import { createUsersRepository } from './users-repository';

/** Builds the messaging domain over DynamoDB and PostgreSQL as the environment describes them. */
export async function createMessagingFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<Messaging> {
  const tableName = getOptionalStringFromEnv('TABLE_NAME', DEFAULT_TABLE_NAME, env);
  const databaseUrl = await getDatabaseUrl(env);
  // No endpoint here: local runs point the SDK at DynamoDB Local with AWS_ENDPOINT_URL_DYNAMODB.
  const documentClient = createDocumentClient();
  const pool = createPgPool(databaseUrl);
  // An idle connection dropped while the container was frozen must not crash the process;
  // the pool discards it and the next query connects afresh.
  // The message only: pg attaches the whole client to the error, which would flood the log.
  pool.on('error', (error) => logger.warn('Idle PostgreSQL connection failed', { error: error.message }));
  return createMessaging({
    messages: createMessagesRepository(documentClient, { tableName }),
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

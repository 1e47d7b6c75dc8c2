/**
 * The scale benchmark's baseline: `GET /api/message_groups` as the functions reached the users
 * table before the user directory, bundled like a catalog function. The same handler and
 * domain, with the users read through a `pg` pool per container (at most 4 connections, idle
 * ones closed after 30 s) behind the warm container's cache, and nothing in DynamoDB between.
 * A frozen container's idle timer never fires, so each keeps its connection for its life.
 */
import { createPgPool } from '../../functions/clients/postgres-pool';
import { getDatabaseUrl } from '../../functions/clients/database-url';
import { sharedDocumentClient } from '../../functions/clients/dynamodb';
import { functionConfig } from '../../functions/config/function-config';
import { createMessagesRepository } from '../../functions/data/messages-repository';
import { createUsersRepository } from '../../functions/data/users-repository';
import { createMessaging, type Messaging } from '../../functions/domain/conversations';
import { createCachedUserDirectory } from '../../functions/domain/user-directory';
import { createListMessageGroupsHandler } from '../../functions/list-message-groups';

let messaging: Promise<Messaging> | undefined;

function pooledMessaging(): Promise<Messaging> {
  return (messaging ??= (async () => {
    const config = functionConfig();
    const pool = createPgPool(await getDatabaseUrl());
    return createMessaging({
      messages: createMessagesRepository(sharedDocumentClient(), { tableName: config.tableName }),
      users: createCachedUserDirectory(createUsersRepository(pool)),
    });
  })());
}

export const handler = createListMessageGroupsHandler({ messaging: pooledMessaging });

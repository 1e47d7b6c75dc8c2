/** The WebSocket routes' wiring: what `$connect` and `$disconnect` read of their events and use. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { createConnectionsRepository, type ConnectionsRepository } from '../data/connections-repository';
import type { UserDirectory } from '../domain/user-directory';
import { sharedDocumentClient } from '../clients/dynamodb';
import { functionConfig } from '../config/function-config';
import { logger } from '../observability/logger';
import { userLimitsFromFunctionEnv } from '../config/limits';
import { defaultUserDirectory } from './defaults';

/** What `$connect` and `$disconnect` work with. */
export interface ConnectionRouteDeps {
  users: () => Promise<UserDirectory>;
  connections: () => ConnectionsRepository;
  logger: Logger;
  clock?: () => number;
  /** The most connections a user may hold open (functions/config/limits.ts). */
  connectionsPerUser: () => number;
}

export const defaultConnectionDeps: ConnectionRouteDeps = {
  users: defaultUserDirectory,
  connections: () => createConnectionsRepository(sharedDocumentClient(), { tableName: functionConfig().tableName }),
  logger,
  connectionsPerUser: () => userLimitsFromFunctionEnv().connectionsPerUser,
};

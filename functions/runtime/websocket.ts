/** The WebSocket routes' wiring: what `$connect` and `$disconnect` read of their events and use. */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { createConnectionsRepository, type ConnectionsRepository } from '../data/connections-repository';
import type { UserDirectory } from '../domain/user-directory';
import { sharedDocumentClient } from './clients';
import { functionConfig } from './config';
import { logger } from './logger';
import { defaultUserDirectory } from './messaging';

/** What `$connect` and `$disconnect` work with. */
export interface ConnectionRouteDeps {
  users: () => Promise<UserDirectory>;
  connections: () => ConnectionsRepository;
  logger: Logger;
  clock?: () => number;
}

export const defaultConnectionDeps: ConnectionRouteDeps = {
  users: defaultUserDirectory,
  connections: () => createConnectionsRepository(sharedDocumentClient(), { tableName: functionConfig().tableName }),
  logger,
};

/** A `$connect`/`$disconnect` event: the proxy event plus what the authorizer passed on. */
export type WebSocketRouteEvent = APIGatewayProxyWebsocketEventV2 & {
  requestContext: APIGatewayProxyWebsocketEventV2['requestContext'] & { authorizer?: { sub?: string; principalId?: string } };
};

export function connectionOf(event: WebSocketRouteEvent): { connectionId: string; sub: string | undefined } {
  const sub = event.requestContext.authorizer?.sub;
  return { connectionId: event.requestContext.connectionId, sub: typeof sub === 'string' && sub !== '' ? sub : undefined };
}

/**
 * WebSocket `$connect` (after the authorizer accepted the token): records the connection
 * under the caller's user, so the push function finds every open app of a person with one
 * Query. A token of someone the users table does not know is refused (403); so is a user's
 * connection beyond the per-user cap (429, until one of the open ones closes or expires: the
 * newest is refused rather than the oldest closed, so two tabs over the cap cannot take turns
 * closing each other). The item expires with the access token.
 */
import type { APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { connectionOf, type WebSocketRouteEvent } from '../websocket/route-event';
import { defaultConnectionDeps, type ConnectionRouteDeps } from '../wiring/websocket-routes';
import { withInvocationContext } from '../observability/logger';

export function createConnectHandler(deps: ConnectionRouteDeps) {
  return withInvocationContext(deps.logger, async function connect(event: WebSocketRouteEvent, _context: Context): Promise<APIGatewayProxyResultV2> {
    const { connectionId, sub, tokenExpiresAt } = connectionOf(event);
    if (sub === undefined) return { statusCode: 401 };
    const user = await (await deps.users()).findByCognitoUserId(sub);
    if (user === undefined) {
      deps.logger.warn('WebSocket connection of an unknown user refused', { connectionId });
      return { statusCode: 403 };
    }
    const connections = deps.connections();
    // Counted, then written: two connects at the same moment may both pass (the cap is a guard, not an invariant).
    const open = await connections.connectionsOf(user.uuid);
    const cap = deps.connectionsPerUser();
    if (open.length >= cap) {
      deps.logger.warn('WebSocket connection over the per-user cap refused', { connectionId, handle: user.handle, open: open.length, cap });
      return { statusCode: 429 };
    }
    await connections.addConnection(user.uuid, connectionId, new Date((deps.clock ?? Date.now)()).toISOString(), tokenExpiresAt);
    deps.logger.info('WebSocket connected', { connectionId, handle: user.handle });
    return { statusCode: 200 };
  });
}

export const handler = createConnectHandler(defaultConnectionDeps);

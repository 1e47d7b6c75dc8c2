/**
 * WebSocket `$connect` (after the authorizer accepted the token): records the connection
 * under the caller's user, so the push function finds every open app of a person with one
 * Query. A token of someone the users table does not know is refused (403).
 */
import type { APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { connectionOf, type WebSocketRouteEvent } from '../websocket/route-event';
import { defaultConnectionDeps, type ConnectionRouteDeps } from '../wiring/websocket-routes';
import { withInvocationContext } from '../observability/logger';

export function createConnectHandler(deps: ConnectionRouteDeps) {
  return withInvocationContext(deps.logger, async function connect(event: WebSocketRouteEvent, _context: Context): Promise<APIGatewayProxyResultV2> {
    const { connectionId, sub } = connectionOf(event);
    if (sub === undefined) return { statusCode: 401 };
    const user = await (await deps.users()).findByCognitoUserId(sub);
    if (user === undefined) {
      deps.logger.warn('WebSocket connection of an unknown user refused', { connectionId });
      return { statusCode: 403 };
    }
    await deps.connections().addConnection(user.uuid, connectionId, new Date((deps.clock ?? Date.now)()).toISOString());
    deps.logger.info('WebSocket connected', { connectionId, handle: user.handle });
    return { statusCode: 200 };
  });
}

export const handler = createConnectHandler(defaultConnectionDeps);

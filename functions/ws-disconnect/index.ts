/**
 * WebSocket `$disconnect` (the client closed, dropped, or API Gateway closed the connection):
 * forgets the connection. API Gateway does not wait for the answer and may not call this at
 * all, which is why connection items also expire and the push function deletes those it
 * finds gone.
 */
import type { APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { connectionOf, type WebSocketRouteEvent } from '../websocket/route-event';
import { defaultConnectionDeps, type ConnectionRouteDeps } from '../wiring/websocket-routes';
import { withInvocationContext } from '../observability/logger';

export function createDisconnectHandler(deps: ConnectionRouteDeps) {
  return withInvocationContext(deps.logger, async function disconnect(event: WebSocketRouteEvent, _context: Context): Promise<APIGatewayProxyResultV2> {
    const { connectionId, sub } = connectionOf(event);
    const user = sub === undefined ? undefined : await (await deps.users()).findByCognitoUserId(sub);
    if (user !== undefined) await deps.connections().removeConnection(user.uuid, connectionId);
    deps.logger.info('WebSocket disconnected', { connectionId });
    return { statusCode: 200 };
  });
}

export const handler = createDisconnectHandler(defaultConnectionDeps);

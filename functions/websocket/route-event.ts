/** What `$connect` and `$disconnect` read of their events: the connection and who opened it. */
import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';

/** A `$connect`/`$disconnect` event: the proxy event plus what the authorizer passed on. */
export type WebSocketRouteEvent = APIGatewayProxyWebsocketEventV2 & {
  requestContext: APIGatewayProxyWebsocketEventV2['requestContext'] & { authorizer?: { sub?: string; principalId?: string } };
};

export function connectionOf(event: WebSocketRouteEvent): { connectionId: string; sub: string | undefined } {
  const sub = event.requestContext.authorizer?.sub;
  return { connectionId: event.requestContext.connectionId, sub: typeof sub === 'string' && sub !== '' ? sub : undefined };
}

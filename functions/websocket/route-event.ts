/** What `$connect` and `$disconnect` read of their events: the connection and who opened it. */
import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';

/** A `$connect`/`$disconnect` event: the proxy event plus what the authorizer passed on. */
export type WebSocketRouteEvent = APIGatewayProxyWebsocketEventV2 & {
  requestContext: APIGatewayProxyWebsocketEventV2['requestContext'] & { authorizer?: { sub?: string; exp?: number | string; principalId?: string } };
};

export function connectionOf(event: WebSocketRouteEvent): { connectionId: string; sub: string | undefined; tokenExpiresAt: number | undefined } {
  const { sub, exp } = event.requestContext.authorizer ?? {};
  // API Gateway may pass the authorizer's context values on as strings.
  const tokenExpiresAt = Number(exp);
  return {
    connectionId: event.requestContext.connectionId,
    sub: typeof sub === 'string' && sub !== '' ? sub : undefined,
    tokenExpiresAt: exp !== undefined && exp !== '' && Number.isFinite(tokenExpiresAt) ? tokenExpiresAt : undefined,
  };
}

/**
 * The push function's client of the WebSocket API's @connections endpoint (its own module:
 * the push function bundles this, not the routes' PostgreSQL wiring).
 */
import type { ApiGatewayManagementApiClient, ApiGatewayManagementApiClientConfig } from '@aws-sdk/client-apigatewaymanagementapi';
import { getStringFromEnv } from '../config/environment';

type PostOutcome = 'sent' | 'gone' | 'failed';

/** Sends one frame to one connection. */
export type ConnectionPoster = (connectionId: string, data: string) => Promise<PostOutcome>;

/**
 * A poster over the API's @connections endpoint (`WEBSOCKET_MANAGEMENT_URL`: the API's URL
 * with its stage, https). A short timeout and one retry: one slow connection must not hold up
 * the others, nor the next message.
 */
export function createConnectionPoster(
  endpoint: string,
  onFailure: (connectionId: string, error: Error) => void,
  config: ApiGatewayManagementApiClientConfig = {},
): ConnectionPoster {
  // Loaded on the first post: a container whose messages find no open connection never loads it.
  let loaded: Promise<{
    client: ApiGatewayManagementApiClient;
    PostToConnectionCommand: typeof import('@aws-sdk/client-apigatewaymanagementapi').PostToConnectionCommand;
  }>;
  const load = () =>
    (loaded ??= import('@aws-sdk/client-apigatewaymanagementapi').then((sdk) => ({
      client: new sdk.ApiGatewayManagementApiClient({ endpoint, maxAttempts: 2, requestHandler: { requestTimeout: 2000, connectionTimeout: 1000 }, ...config }),
      PostToConnectionCommand: sdk.PostToConnectionCommand,
    })));
  return async (connectionId, data) => {
    try {
      const { client, PostToConnectionCommand } = await load();
      await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(data) }));
      return 'sent';
    } catch (error) {
      if ((error as Error).name === 'GoneException' || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 410) return 'gone';
      onFailure(connectionId, error as Error);
      return 'failed';
    }
  };
}

export function websocketManagementUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return getStringFromEnv('WEBSOCKET_MANAGEMENT_URL', env);
}

/**
 * The push function's client of the WebSocket API's @connections endpoint (its own module:
 * the push function bundles this, not the routes' PostgreSQL wiring).
 */
import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
  type ApiGatewayManagementApiClientConfig,
} from '@aws-sdk/client-apigatewaymanagementapi';
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
  const client = new ApiGatewayManagementApiClient({ endpoint, maxAttempts: 2, requestHandler: { requestTimeout: 2000, connectionTimeout: 1000 }, ...config });
  return async (connectionId, data) => {
    try {
      await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(data) }));
      return 'sent';
    } catch (error) {
      if (error instanceof GoneException || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 410) return 'gone';
      onFailure(connectionId, error as Error);
      return 'failed';
    }
  };
}

export function websocketManagementUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return getStringFromEnv('WEBSOCKET_MANAGEMENT_URL', env);
}

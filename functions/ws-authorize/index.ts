/**
 * The WebSocket API's REQUEST authorizer. The access token comes as the `token` query
 * parameter (a browser cannot set headers on a WebSocket); a valid Cognito access token of
 * the app client is allowed to connect, with its `sub` and expiry passed to the routes as context.
 * Anything else is refused: throwing `Unauthorized` makes API Gateway answer 401 and run no
 * route.
 */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import { accessTokenSettingsFromEnv, createAccessTokenVerifier, type AccessTokenVerifier } from '../auth/access-token';
import { logger, withInvocationContext } from '../observability/logger';

/** What API Gateway recognises as "refuse with 401" from a Lambda authorizer. */
export const UNAUTHORIZED = 'Unauthorized';

export interface AuthorizerDeps {
  verifier: () => AccessTokenVerifier;
  logger: Logger;
}

export function createWebSocketAuthorizer(deps: AuthorizerDeps) {
  return withInvocationContext(
    deps.logger,
    async function authorize(event: APIGatewayRequestAuthorizerEvent, _context?: Context): Promise<APIGatewayAuthorizerResult> {
      const token = event.queryStringParameters?.token;
      if (!token) throw new Error(UNAUTHORIZED);
      let claims: Record<string, unknown>;
      try {
        claims = await deps.verifier().verify(token);
      } catch (error) {
        // Why, for the log only: the client learns nothing but 401.
        deps.logger.info('WebSocket connection refused', { reason: (error as Error).message });
        throw new Error(UNAUTHORIZED);
      }
      const sub = String(claims.sub);
      return {
        principalId: sub,
        policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }] },
        // Passed to $connect and $disconnect as requestContext.authorizer; `exp` ends the connection's item with the token.
        context: { sub, exp: Number(claims.exp) },
      };
    },
  );
}

let verifier: AccessTokenVerifier | undefined;

export const handler = createWebSocketAuthorizer({
  // Created on first use: the JWKS it fetches once is then cached by the warm container.
  verifier: () => (verifier ??= createAccessTokenVerifier(accessTokenSettingsFromEnv())),
  logger,
});

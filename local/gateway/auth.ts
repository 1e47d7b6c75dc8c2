/**
 * The local JWT authorizer: verifies tokens of the local user pool as the deployed API's JWT
 * authorizer verifies the real pool's, and no more: the signature against the pool's JWKS,
 * the issuer, expiry, and the app client in `client_id` (access tokens) or `aud` (ID tokens).
 * Like API Gateway it does not look at `token_use`: the route's scopes
 * (`ACCESS_TOKEN_SCOPES`, checked by the gateway, 403) and the handler (401) refuse an ID
 * token, here as deployed.
 */
import { JwtRsaVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { httpFetcher } from '../../functions/auth/access-token';
import { claimsAsStrings, scopesOf } from './http-event';

/** What a verified token gives the function: claims (strings, as API Gateway passes them) and scopes. */
export interface VerifiedToken {
  claims: Record<string, string>;
  scopes: string[] | null;
}

export interface Authorizer {
  /** @throws AuthorizationError with the reason when the token is not acceptable. */
  verify(token: string): Promise<VerifiedToken>;
}

/** The request is refused with a 401; `reason` goes to the log and `WWW-Authenticate`, never to the body. */
export class AuthorizationError extends Error {
  constructor(public readonly reason: string) {
    super(reason);
    this.name = 'AuthorizationError';
  }
}

export interface LocalCognitoAuthorizerOptions {
  /** The local Cognito's URL, e.g. `http://127.0.0.1:9229`. */
  cognitoUrl: string;
  userPoolId: string;
  /** The app client whose access tokens are accepted (the deployed authorizer's audience). */
  clientId: string;
}

/** The local pool's issuer: `http://127.0.0.1:<port>/<poolId>`, as cognito-local writes `iss`. */
export const localIssuer = (cognitoUrl: string, userPoolId: string) => `${cognitoUrl.replace(/\/+$/, '')}/${userPoolId}`;

export function createLocalCognitoAuthorizer(options: LocalCognitoAuthorizerOptions): Authorizer {
  const issuer = localIssuer(options.cognitoUrl, options.userPoolId);
  const verifier = JwtRsaVerifier.create(
    {
      issuer,
      jwksUri: `${issuer}/.well-known/jwks.json`,
      audience: null,
      customJwtCheck: ({ payload }) => {
        // API Gateway's audience check: `aud`, or `client_id` when there is no `aud`.
        const audience = payload.aud ?? payload.client_id;
        if (!(Array.isArray(audience) ? audience : [audience]).includes(options.clientId)) throw new Error('the token was issued to another app client');
        if (typeof payload.exp !== 'number') throw new Error('the token has no expiry');
      },
    },
    { jwksCache: new SimpleJwksCache({ fetcher: httpFetcher }) },
  );
  return {
    async verify(token) {
      try {
        const payload = await verifier.verify(token);
        return { claims: claimsAsStrings(payload), scopes: scopesOf(payload) };
      } catch (error) {
        throw new AuthorizationError((error as Error).message);
      }
    },
  };
}

/**
 * The token of an `Authorization` header: `Bearer <token>` (any case), or a bare token,
 * which API Gateway's JWT authorizer also accepts.
 */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const token = header.replace(/^\s*bearer(\s+|$)/i, '').trim();
  return token === '' ? undefined : token;
}

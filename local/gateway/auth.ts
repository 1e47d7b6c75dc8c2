/**
 * The local JWT authorizer: verifies Cognito access tokens of the local user pool as the
 * deployed API's JWT authorizer verifies the real pool's (signature against the pool's
 * JWKS, issuer, expiry, the app client), plus `token_use: access`, so an ID token is
 * refused too. aws-jwt-verify does the cryptography; its CognitoJwtVerifier only knows
 * `https://cognito-idp...` issuers, so the generic JwtRsaVerifier is configured with the
 * local issuer and the Cognito checks are added here.
 */
import { JwtRsaVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { Fetcher } from 'aws-jwt-verify/https';
import { claimsAsStrings, scopesOf } from './events';

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

/** aws-jwt-verify's fetcher speaks HTTPS only; the local JWKS is served over HTTP. */
const httpFetcher: Fetcher = {
  async fetch(uri) {
    const response = await fetch(uri, { signal: AbortSignal.timeout(3000) });
    if (!response.ok) throw new Error(`${uri} answered ${response.status}`);
    return response.arrayBuffer();
  },
};

export function createLocalCognitoAuthorizer(options: LocalCognitoAuthorizerOptions): Authorizer {
  const issuer = localIssuer(options.cognitoUrl, options.userPoolId);
  const verifier = JwtRsaVerifier.create(
    {
      issuer,
      jwksUri: `${issuer}/.well-known/jwks.json`,
      // Access tokens carry the app client in `client_id`, not `aud`: checked below.
      audience: null,
      customJwtCheck: ({ payload }) => {
        if (payload.token_use !== 'access') throw new Error(`token_use is ${JSON.stringify(payload.token_use)}, expected "access"`);
        if (payload.client_id !== options.clientId) throw new Error('the token was issued to another app client');
        // aws-jwt-verify accepts a token without `exp`; API Gateway does not.
        if (typeof payload.exp !== 'number') throw new Error('the token has no expiry');
        if (typeof payload.sub !== 'string' || payload.sub === '') throw new Error('the token has no subject');
      },
    },
    { jwksCache: new SimpleJwksCache({ fetcher: httpFetcher }) },
  );
  return {
    async verify(token) {
      try {
        const payload = (await verifier.verify(token)) as unknown as Record<string, unknown>;
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

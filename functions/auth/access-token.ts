/**
 * Verification of Cognito access tokens: the WebSocket authorizer's (deployed and local) and
 * the local HTTP API's, so both check the same things: the signature against the pool's
 * JWKS, the issuer, expiry, `token_use: access` (an ID token is refused) and the app client.
 *
 * Against AWS this is aws-jwt-verify's CognitoJwtVerifier. It only knows
 * `https://cognito-idp.{region}.amazonaws.com/{pool}` issuers, so for the local Cognito (whose
 * issuer is `http://127.0.0.1:{port}/{pool}`, its JWKS served over HTTP) the generic
 * JwtRsaVerifier is configured with the same checks.
 */
import { CognitoJwtVerifier, JwtRsaVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { Fetcher } from 'aws-jwt-verify/https';
import { getOptionalStringFromEnv, getStringFromEnv } from '../config/environment';
import { ConfigurationError } from '../errors';

/** An https URL, or an http one on this machine (the local Cognito's). */
function isHttpsOrLoopback(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === 'https:') return true;
  return parsed.protocol === 'http:' && (/^127(\.\d{1,3}){3}$/.test(parsed.hostname) || parsed.hostname === '[::1]' || parsed.hostname === 'localhost');
}

export interface AccessTokenVerifier {
  /** The token's claims. @throws Error saying why the token is not acceptable. */
  verify(token: string): Promise<Record<string, unknown>>;
}

export interface AccessTokenSettings {
  userPoolId: string;
  /** The app client whose access tokens are accepted. */
  clientId: string;
  /** A non-AWS issuer (the local Cognito's); absent: the pool's AWS issuer. */
  issuerUrl?: string;
}

/** aws-jwt-verify's fetcher speaks HTTPS only; the local JWKS is served over HTTP. */
export const httpFetcher: Fetcher = {
  async fetch(uri) {
    const response = await fetch(uri, { signal: AbortSignal.timeout(3000) });
    if (!response.ok) throw new Error(`${uri} answered ${response.status}`);
    return response.arrayBuffer();
  },
};

export function createAccessTokenVerifier(settings: AccessTokenSettings): AccessTokenVerifier {
  if (settings.issuerUrl === undefined) {
    const verifier = CognitoJwtVerifier.create({ userPoolId: settings.userPoolId, tokenUse: 'access', clientId: settings.clientId });
    return { verify: async (token) => (await verifier.verify(token)) as unknown as Record<string, unknown> };
  }
  const verifier = JwtRsaVerifier.create(
    {
      issuer: settings.issuerUrl,
      jwksUri: `${settings.issuerUrl}/.well-known/jwks.json`,
      // Access tokens carry the app client in `client_id`, not `aud`: checked below.
      audience: null,
      customJwtCheck: ({ payload }) => {
        if (payload.token_use !== 'access') throw new Error(`token_use is ${JSON.stringify(payload.token_use)}, expected "access"`);
        if (payload.client_id !== settings.clientId) throw new Error('the token was issued to another app client');
        // aws-jwt-verify accepts a token without `exp`; API Gateway does not.
        if (typeof payload.exp !== 'number') throw new Error('the token has no expiry');
        if (typeof payload.sub !== 'string' || payload.sub === '') throw new Error('the token has no subject');
      },
    },
    { jwksCache: new SimpleJwksCache({ fetcher: httpFetcher }) },
  );
  return { verify: async (token) => (await verifier.verify(token)) as unknown as Record<string, unknown> };
}

/** The settings the deployment (and the emulator) give the authorizer function. */
export function accessTokenSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): AccessTokenSettings {
  const issuerUrl = getOptionalStringFromEnv('COGNITO_ISSUER_URL', '', env);
  // The signing keys come from the issuer: over plain HTTP anyone on the path could swap them.
  if (issuerUrl && !isHttpsOrLoopback(issuerUrl)) {
    throw new ConfigurationError(`COGNITO_ISSUER_URL must be https (or http on 127.0.0.1, ::1 or localhost, the local Cognito), got "${issuerUrl}"`);
  }
  return {
    userPoolId: getStringFromEnv('COGNITO_USER_POOL_ID', env),
    clientId: getStringFromEnv('COGNITO_CLIENT_ID', env),
    ...(issuerUrl ? { issuerUrl } : {}),
  };
}

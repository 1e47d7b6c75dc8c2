/**
 * JWTs that the local Cognito did not issue, for tests of the authorizer: re-signed with
 * cognito-local's own key (to vary one claim, e.g. an expiry in the past), with a foreign
 * key, or not signed at all.
 */
import { createHmac, createSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export type Claims = Record<string, unknown>;

const encodePart = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const decodePart = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Claims;

/** The claims of a JWT, unverified. */
export const payloadOf = (token: string) => decodePart(token.split('.')[1]!);
/** The header of a JWT (`alg`, `kid`), unverified. */
export const headerOf = (token: string) => decodePart(token.split('.')[0]!);

/** A JWT signed with `privateKeyPem` (RS256); cognito-local's key id is `CognitoLocal`. */
export function signJwt(payload: Claims, privateKeyPem: string, kid = 'CognitoLocal'): string {
  const unsigned = `${encodePart({ alg: 'RS256', typ: 'JWT', kid })}.${encodePart(payload)}`;
  const signature = createSign('RSA-SHA256').update(unsigned).sign(privateKeyPem).toString('base64url');
  return `${unsigned}.${signature}`;
}

/** An unsecured JWT (`alg: none`, empty signature), which no verifier may accept. */
export function unsignedJwt(payload: Claims, kid = 'CognitoLocal'): string {
  return `${encodePart({ alg: 'none', typ: 'JWT', kid })}.${encodePart(payload)}.`;
}

/** HS256 with `secret` as the HMAC key: the algorithm-confusion attack when `secret` is the pool's public key. */
export function hmacSignedJwt(payload: Claims, secret: string, kid = 'CognitoLocal'): string {
  const unsigned = `${encodePart({ alg: 'HS256', typ: 'JWT', kid })}.${encodePart(payload)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

function cognitoLocalKey(file: 'private' | 'public'): { pem: string } {
  const packageDir = path.dirname(createRequire(__filename).resolve('cognito-local/package.json'));
  return JSON.parse(readFileSync(path.join(packageDir, 'lib', 'keys', `cognitoLocal.${file}.json`), 'utf8')) as { pem: string };
}

/** cognito-local signs every token with one key that ships in its package. */
export const cognitoLocalPrivateKey = () => cognitoLocalKey('private').pem;
/** The public half, as the pool's JWKS publishes it. */
export const cognitoLocalPublicKey = () => cognitoLocalKey('public').pem;

/**
 * Checks an AWS Signature Version 4 on a request to the local `@connections` endpoint, as
 * API Gateway checks the push function's posts: only a client holding this run's secret key
 * (the local runtime gives it to the functions, nobody else) can deliver a frame. The
 * request is signed again with the secret, by the SDK's own signer, and the two signatures
 * compared; a request older than API Gateway's five minutes is refused too.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The SDK signer's hash: SHA-256, or HMAC-SHA-256 under a key. */
type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: SourceData) =>
  typeof data === 'string' ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

class NodeSha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

const MAX_SKEW_MS = 5 * 60 * 1000;

export interface IncomingSignedRequest {
  method: string;
  /** The Host header, as the client signed it. */
  host: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

/** Why the request's signature is not acceptable, or undefined when it is. */
export async function signatureProblem(request: IncomingSignedRequest, credentials: SigningCredentials, now = Date.now()): Promise<string | undefined> {
  const authorization = request.headers.authorization ?? '';
  const parsed = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
    authorization.trim(),
  );
  if (!parsed) return 'no AWS Signature Version 4';
  const [, accessKeyId, , region, service, signedHeaderList, signature] = parsed as unknown as string[];
  if (accessKeyId !== credentials.accessKeyId) return 'unknown access key';
  const amzDate = request.headers['x-amz-date'] ?? '';
  const signedAt = Date.parse(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  if (!Number.isFinite(signedAt) || Math.abs(now - signedAt) > MAX_SKEW_MS) return 'signed at another time';
  const signedHeaders = signedHeaderList!.split(';');
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = name === 'host' ? request.host : request.headers[name];
    if (value === undefined) return `signed header ${name} missing`;
    headers[name] = value;
  }
  const signer = new SignatureV4({ credentials, region: region!, service: service!, sha256: NodeSha256, uriEscapePath: true, applyChecksum: true });
  const expected = await signer.sign(
    { method: request.method, protocol: 'http:', hostname: request.host, path: request.path, query: request.query, headers, body: request.body },
    { signingDate: new Date(signedAt), signingRegion: region!, signingService: service! },
  );
  const expectedSignature = /Signature=([0-9a-f]{64})/.exec(String(expected.headers.authorization ?? ''))?.[1] ?? '';
  const ok = expectedSignature.length === signature!.length && timingSafeEqual(Buffer.from(expectedSignature), Buffer.from(signature!));
  return ok ? undefined : 'signature does not match';
}

/**
 * SDK and database clients. Each is created once per process (a Lambda container, a
 * script, a test suite) and injected into the repositories.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import pg from 'pg';
import { installFaultsFromEnv } from './faults';

export interface DynamoDbTarget {
  /** Unset for AWS; DynamoDB Local's URL otherwise. */
  endpoint?: string;
  region?: string;
  /**
   * False keeps `CRUDDUR_FAULTS` away from this client (a soak's own checker must read the
   * table as it is). Faults only ever apply to loopback endpoints: see faults.ts.
   */
  injectFaults?: boolean;
}

/**
 * A document client. Against a local endpoint it uses fixed dummy credentials, so no AWS
 * account or profile is needed (DynamoDB Local accepts any).
 */
export function createDocumentClient(target: DynamoDbTarget = {}, extra: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  const local = target.endpoint !== undefined;
  const client = new DynamoDBClient({
    region: target.region ?? process.env.AWS_REGION ?? (local ? 'us-east-1' : undefined),
    ...(local ? { endpoint: target.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    ...extra,
  });
  // Local functions get their endpoint from the SDK's own variable, not from `target`.
  if (target.injectFaults !== false) installFaultsFromEnv(client, target.endpoint ?? process.env.AWS_ENDPOINT_URL_DYNAMODB);
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** A `pg` pool; small, because a Lambda container serves one request at a time. */
export function createPgPool(connectionString: string, max = 4): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30000 });
  // An idle client that loses its connection (a frozen Lambda container, a restarted
  // server) emits 'error' on the pool; unheard, that would crash the process. The pool
  // drops the client and the next query connects afresh.
  pool.on('error', () => {});
  return pool;
}

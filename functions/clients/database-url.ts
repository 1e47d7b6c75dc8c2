/**
 * Where the users database is. Locally and in tests `DATABASE_URL` names it; in AWS the
 * infrastructure sets `DATABASE_SECRET_ARN` to a Secrets Manager secret in the RDS format
 * (`{username, password, host, port, dbname}`), so the password never sits in the function's
 * configuration. The secret is read through Powertools Parameters, which caches it per
 * container for {@link SECRET_MAX_AGE_SECONDS}: a rotated password reaches warm containers
 * within that time (or at once, asked `fresh` after a refused login) without a read per request.
 */
import { ConfigurationError } from '../errors';

/** How long a container uses the secret it read before reading it again. */
const SECRET_MAX_AGE_SECONDS = 300;

/** Reads a secret's string by ARN (`fresh`: not from the cache); injectable so tests need no AWS. */
export type SecretReader = (secretArn: string, options?: { fresh?: boolean }) => Promise<string>;

/** Powertools' cached `getSecret`, loaded on first use: nothing of Secrets Manager is evaluated before a function needs it. */
const readSecretFromSecretsManager: SecretReader = async (secretArn, options = {}) => {
  const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
  const value = await getSecret(secretArn, { maxAge: SECRET_MAX_AGE_SECONDS, forceFetch: options.fresh === true });
  if (typeof value !== 'string') throw new ConfigurationError(`Secret ${secretArn} has no string value`);
  return value;
};

interface DatabaseSecret {
  username: string;
  password: string;
  host: string;
  port?: number | string;
  dbname?: string;
}

const SSL_MODES = new Set(['disable', 'no-verify', 'require', 'verify-ca', 'verify-full']);

/** A `postgresql://` URL from an RDS-format secret; every part is URL-encoded. */
export function databaseUrlFromSecret(secretString: string, sslMode?: string): string {
  let secret: Partial<DatabaseSecret>;
  try {
    secret = JSON.parse(secretString) as Partial<DatabaseSecret>;
  } catch {
    // The secret's text is not repeated: it holds a password.
    throw new ConfigurationError('The database secret is not JSON');
  }
  const { username, password, host, port = 5432, dbname = 'postgres' } = secret ?? {};
  if (typeof username !== 'string' || typeof password !== 'string' || typeof host !== 'string' || host === '') {
    throw new ConfigurationError('The database secret needs string fields username, password and host');
  }
  const portNumber = Number(port);
  if (!Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535) throw new ConfigurationError('The database secret has an invalid port');
  const url = `postgresql://${encodeURIComponent(username)}:${encodeURIComponent(password)}@${host}:${portNumber}/${encodeURIComponent(String(dbname))}`;
  return sslMode === undefined ? url : `${url}?sslmode=${sslMode}`;
}

/**
 * The users database URL: from the secret `DATABASE_SECRET_ARN` names when set (with
 * `sslmode` from the optional `DATABASE_SSLMODE`), otherwise `DATABASE_URL`.
 * @throws ConfigurationError when neither is set or the secret is malformed.
 */
export async function getDatabaseUrl(
  env: NodeJS.ProcessEnv = process.env,
  readSecret: SecretReader = readSecretFromSecretsManager,
  options: { fresh?: boolean } = {},
): Promise<string> {
  const secretArn = env.DATABASE_SECRET_ARN?.trim();
  if (secretArn) {
    const sslMode = env.DATABASE_SSLMODE?.trim() || undefined;
    if (sslMode !== undefined && !SSL_MODES.has(sslMode)) {
      throw new ConfigurationError(`DATABASE_SSLMODE must be one of ${[...SSL_MODES].join(', ')}, got "${sslMode}"`);
    }
    return databaseUrlFromSecret(await readSecret(secretArn, options), sslMode);
  }
  const url = env.DATABASE_URL?.trim();
  if (url) return url;
  throw new ConfigurationError('Set DATABASE_URL, or DATABASE_SECRET_ARN to a secret holding username, password, host, port and dbname');
}

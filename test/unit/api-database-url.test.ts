import { ConfigurationError } from '../../functions/errors';
import { databaseUrlFromSecret, getDatabaseUrl } from '../../functions/clients/database-url';

const secret = (fields: Record<string, unknown>) => JSON.stringify(fields);

describe('getDatabaseUrl', () => {
  it('uses DATABASE_URL when no secret is named, without reading any secret', async () => {
    // Prepare
    const readSecret = jest.fn(async () => '{}');

    // Act
    const url = await getDatabaseUrl({ DATABASE_URL: 'postgresql://u:p@localhost:5432/cruddur' }, readSecret);

    // Assess
    expect(url).toBe('postgresql://u:p@localhost:5432/cruddur');
    expect(readSecret).not.toHaveBeenCalled();
  });

  it('builds the URL from the RDS-format secret DATABASE_SECRET_ARN names, which wins over DATABASE_URL', async () => {
    // Prepare
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:cruddur-db-AbCdEf';
    const readSecret = jest.fn(async () =>
      secret({ username: 'cruddur', password: 'p@ss:w/rd?#', host: 'db.example.internal', port: 5432, dbname: 'cruddur', engine: 'postgres' }),
    );

    // Act
    const url = await getDatabaseUrl({ DATABASE_SECRET_ARN: arn, DATABASE_URL: 'postgresql://ignored', DATABASE_SSLMODE: 'no-verify' }, readSecret);

    // Assess
    expect(readSecret).toHaveBeenCalledWith(arn, {});
    expect(url).toBe('postgresql://cruddur:p%40ss%3Aw%2Frd%3F%23@db.example.internal:5432/cruddur?sslmode=no-verify');
    const parsed = new URL(url);
    expect(decodeURIComponent(parsed.password)).toBe('p@ss:w/rd?#');
  });

  it('fails clearly when neither setting is present', async () => {
    // Act
    const failure = getDatabaseUrl({});

    // Assess
    await expect(failure).rejects.toBeInstanceOf(ConfigurationError);
    await expect(failure).rejects.toThrow(/DATABASE_URL/);
  });

  it('refuses an unknown DATABASE_SSLMODE', async () => {
    // Act
    const failure = getDatabaseUrl({ DATABASE_SECRET_ARN: 'arn', DATABASE_SSLMODE: 'sometimes' }, async () =>
      secret({ username: 'u', password: 'p', host: 'h' }),
    );

    // Assess
    await expect(failure).rejects.toBeInstanceOf(ConfigurationError);
  });
});

describe('databaseUrlFromSecret', () => {
  it('defaults the port to 5432 and the database to postgres', () => {
    // Act
    const url = databaseUrlFromSecret(secret({ username: 'u', password: 'p', host: 'h' }));

    // Assess
    expect(url).toBe('postgresql://u:p@h:5432/postgres');
  });

  it.each([
    ['not JSON', 'password=hunter2'],
    ['without a host', secret({ username: 'u', password: 'p' })],
    ['with a numeric password', secret({ username: 'u', password: 1234, host: 'h' })],
    ['with a bad port', secret({ username: 'u', password: 'p', host: 'h', port: 'abc' })],
    ['null', 'null'],
  ])('refuses a secret %s, never echoing it', (_, text) => {
    // Act
    let error: unknown;
    try {
      databaseUrlFromSecret(text);
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).not.toContain('hunter2');
  });
});

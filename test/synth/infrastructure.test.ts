/**
 * Configuration and the app stack (no bundling needed; the network stack has network.test.ts,
 * the lambdas stack its own file because it needs the bundles).
 */
import { messagesTableSchema, DEFAULT_TABLE_NAME } from '../../functions/data/model';
import { ConfigurationError } from '../../functions/errors';
import { stackNames } from '../../infrastructure/app';
import { cognitoIssuerUrl, loadConfig, type CruddurConfig } from '../../infrastructure/config';
import { AppStack } from '../../infrastructure/stacks/app-stack';
import { DynamodbTable, reference, setupJestMatchers, SynthesizedStack, Testing } from '../../infrastructure/testing';

setupJestMatchers();

const REAL_LOOKING = {
  CRUDDUR_COGNITO_USER_POOL_ID: 'eu-west-1_AbC123xyZ',
  CRUDDUR_COGNITO_CLIENT_ID: '1example23456789abcdefghij',
  CRUDDUR_DATABASE_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cruddur/prod/db-a1B2c3',
  CRUDDUR_FRONTEND_ORIGINS: 'https://cruddur.test',
};

function synthApp(config: CruddurConfig): SynthesizedStack {
  return new SynthesizedStack(new AppStack(Testing.app(), stackNames(config).app, config));
}

describe('loadConfig', () => {
  it('defaults to dev with example values for the account-specific settings', () => {
    // Act
    const config = loadConfig({});

    // Assess
    expect(config.environment).toBe('dev');
    expect(config.namePrefix).toBe('cruddur-dev');
    expect(config.region).toBe('us-east-1');
    expect(config.table).toEqual({
      name: DEFAULT_TABLE_NAME,
      billingMode: 'PAY_PER_REQUEST',
      provisionedCapacity: { read: 5, write: 5 },
      deletionProtection: false,
      adoptExisting: false,
    });
    expect(config.exampleValues).toEqual(['CRUDDUR_COGNITO_USER_POOL_ID', 'CRUDDUR_COGNITO_CLIENT_ID', 'CRUDDUR_DATABASE_SECRET_ARN']);
    expect(config.network).toEqual({ kind: 'new-vpc', vpcCidr: '10.50.0.0/16', excludedZoneIds: ['use1-az3'] });
    expect(stackNames(config)).toEqual({ network: 'cruddur-dev-network', app: 'cruddur-dev-app', lambdas: 'cruddur-dev-lambdas' });
  });

  it('selects prod with CRUDDUR_ENV: deletion protection, its own stack names, the example origin flagged', () => {
    // Act
    const config = loadConfig({ CRUDDUR_ENV: 'prod' });

    // Assess
    expect(config.table.deletionProtection).toBe(true);
    expect(stackNames(config).lambdas).toBe('cruddur-prod-lambdas');
    expect(config.exampleValues).toContain('CRUDDUR_FRONTEND_ORIGINS');
  });

  it('reads every override from its variable', () => {
    // Prepare
    const env = {
      ...REAL_LOOKING,
      CRUDDUR_ENV: 'prod',
      CRUDDUR_AWS_REGION: 'eu-west-1',
      CRUDDUR_BILLING_MODE: 'PROVISIONED',
      CRUDDUR_LOG_RETENTION_DAYS: '30',
      CRUDDUR_API_THROTTLING_BURST_LIMIT: '20',
      CRUDDUR_API_THROTTLING_RATE_LIMIT: '7.5',
      CRUDDUR_VPC_ID: 'vpc-0123456789abcdef0',
      CRUDDUR_SUBNET_IDS: 'subnet-0123456789abcdef0, subnet-0123456789abcdef1',
      CRUDDUR_ROUTE_TABLE_IDS: 'rtb-0123456789abcdef0',
      CRUDDUR_DATABASE_SECURITY_GROUP_ID: 'sg-0123456789abcdef0',
      CRUDDUR_TABLE_NAME: 'cruddur-messages-prod',
      CRUDDUR_FRONTEND_ORIGINS: 'https://example.org, https://www.example.org',
      CRUDDUR_API_DETAILED_METRICS: '1',
      CRUDDUR_WEBSOCKET_ACCESS_LOGS: 'account-role',
    };

    // Act
    const config = loadConfig(env);

    // Assess
    expect(config).toMatchObject({
      region: 'eu-west-1',
      cognito: { userPoolId: 'eu-west-1_AbC123xyZ', clientId: '1example23456789abcdefghij' },
      frontendOrigins: ['https://example.org', 'https://www.example.org'],
      database: { secretArn: REAL_LOOKING.CRUDDUR_DATABASE_SECRET_ARN },
      network: {
        kind: 'existing-vpc',
        vpcId: 'vpc-0123456789abcdef0',
        subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
        routeTableIds: ['rtb-0123456789abcdef0'],
        database: { kind: 'security-group', securityGroupId: 'sg-0123456789abcdef0' },
        endpoints: { dynamoDb: 'create', secretsManager: 'create' },
        excludedZoneIds: [],
      },
      table: { name: 'cruddur-messages-prod', billingMode: 'PROVISIONED' },
      logRetentionDays: 30,
      api: { throttlingBurstLimit: 20, throttlingRateLimit: 7.5, detailedMetrics: true },
      websocket: { accessLogs: 'account-role' },
      exampleValues: [],
      deployRefusals: [],
    });
  });

  it('refuses example values under CRUDDUR_STRICT_CONFIG=1 (what deploy and diff set)', () => {
    expect(() => loadConfig({ CRUDDUR_STRICT_CONFIG: '1', CRUDDUR_DATABASE_INSTANCE: 'cruddur-db-instance' })).toThrow(
      /CRUDDUR_COGNITO_USER_POOL_ID, CRUDDUR_COGNITO_CLIENT_ID, CRUDDUR_DATABASE_SECRET_ARN \(see docs\/deploy.md\)$/,
    );
    expect(() =>
      loadConfig({
        CRUDDUR_STRICT_CONFIG: '1',
        CRUDDUR_ENV: 'prod',
        CRUDDUR_AWS_REGION: 'eu-west-1',
        ...REAL_LOOKING,
        CRUDDUR_DATABASE_INSTANCE: 'cruddur-db-instance',
      }),
    ).not.toThrow();
  });

  it.each([
    [{ CRUDDUR_ENV: 'staging' }, /CRUDDUR_ENV/],
    [{ CRUDDUR_COGNITO_USER_POOL_ID: 'not-a-pool' }, /CRUDDUR_COGNITO_USER_POOL_ID/],
    [{ CRUDDUR_DATABASE_SECRET_ARN: 'postgres://user:pw@host/db' }, /CRUDDUR_DATABASE_SECRET_ARN/],
    [{ CRUDDUR_FRONTEND_ORIGINS: 'https://cruddur.test/' }, /CRUDDUR_FRONTEND_ORIGINS/],
    [{ CRUDDUR_FRONTEND_ORIGINS: 'https://example.org,*' }, /CRUDDUR_FRONTEND_ORIGINS: expected origins/],
    [{ CRUDDUR_FRONTEND_ORIGINS: 'https://example.org,https://example.org' }, /listed twice/],
    [{ CRUDDUR_FRONTEND_ORIGIN: 'https://cruddur.test' }, /CRUDDUR_FRONTEND_ORIGIN: renamed to CRUDDUR_FRONTEND_ORIGINS/],
    [{ CRUDDUR_API_DETAILED_METRICS: 'yes' }, /CRUDDUR_API_DETAILED_METRICS/],
    [{ CRUDDUR_WEBSOCKET_ACCESS_LOGS: 'on' }, /CRUDDUR_WEBSOCKET_ACCESS_LOGS: expected off, account-role or create-role/],
    [{ CRUDDUR_BILLING_MODE: 'ON_DEMAND' }, /CRUDDUR_BILLING_MODE/],
    [{ CRUDDUR_LOG_RETENTION_DAYS: '10' }, /CRUDDUR_LOG_RETENTION_DAYS/],
    [{ CRUDDUR_API_THROTTLING_BURST_LIMIT: '-1' }, /CRUDDUR_API_THROTTLING_BURST_LIMIT/],
  ])('rejects %j with a ConfigurationError naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigurationError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('derives the JWT issuer from the user pool id, whose prefix is the pool region', () => {
    expect(cognitoIssuerUrl('eu-west-1_AbC123xyZ')).toBe('https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123xyZ');
  });
});

describe('AppStack', () => {
  const dev = synthApp(loadConfig({}));

  it('declares cruddur-messages exactly as messagesTableSchema', () => {
    // Prepare
    const [, table] = dev.single('aws_dynamodb_table');
    const [gsi] = messagesTableSchema.globalSecondaryIndexes;

    // Assess
    expect(table).toMatchObject({
      name: 'cruddur-messages',
      hash_key: messagesTableSchema.partitionKey,
      range_key: messagesTableSchema.sortKey,
      attribute: messagesTableSchema.attributes.map(({ name, type }) => ({ name, type })),
      global_secondary_index: [{ name: 'message-group-sk-index', hash_key: gsi.partitionKey, range_key: gsi.sortKey, projection_type: 'ALL' }],
    });
    expect(table.global_secondary_index).toHaveLength(messagesTableSchema.globalSecondaryIndexes.length);
  });

  it('streams NEW_IMAGE, keeps point-in-time recovery and server-side encryption on, bills on demand', () => {
    expect(dev.json).toHaveResourceWithProperties(DynamodbTable, {
      stream_enabled: true,
      stream_view_type: 'NEW_IMAGE',
      point_in_time_recovery: { enabled: true },
      server_side_encryption: { enabled: true },
      billing_mode: 'PAY_PER_REQUEST',
      deletion_protection_enabled: false,
    });
    expect(dev.json).not.toHaveResourceWithProperties(DynamodbTable, { deletion_protection_enabled: true });
    const [, table] = dev.single('aws_dynamodb_table');
    expect(table.read_capacity).toBeUndefined();
    expect(table.global_secondary_index[0].read_capacity).toBeUndefined();
  });

  it('provisions 5/5 on the table and the GSI when PROVISIONED is selected', () => {
    // Act
    const provisioned = synthApp(loadConfig({ CRUDDUR_BILLING_MODE: 'PROVISIONED' }));

    // Assess
    const [, table] = provisioned.single('aws_dynamodb_table');
    expect(table).toMatchObject({ billing_mode: 'PROVISIONED', read_capacity: 5, write_capacity: 5 });
    expect(table.global_secondary_index[0]).toMatchObject({ read_capacity: 5, write_capacity: 5 });
  });

  it('protects the prod table from deletion', () => {
    const prod = synthApp(loadConfig({ CRUDDUR_ENV: 'prod' }));
    expect(prod.json).toHaveResourceWithProperties(DynamodbTable, { deletion_protection_enabled: true });
  });

  it('keeps its Terraform state in S3 with CRUDDUR_STATE_BUCKET (encrypted, S3-locked), and refuses a deploy from GitHub Actions without it', () => {
    // Act
    const shared = synthApp(loadConfig({ CRUDDUR_STATE_BUCKET: 'acme-terraform-state' }));

    // Assess
    expect(shared.config.terraform.backend).toEqual({
      s3: { bucket: 'acme-terraform-state', key: 'cruddur/cruddur-dev-app.tfstate', region: 'us-east-1', encrypt: true, use_lockfile: true },
    });
    expect(dev.config.terraform.backend).toBeUndefined();
    expect(() => loadConfig({ CRUDDUR_STATE_BUCKET: 'Not_A_Bucket' })).toThrow('CRUDDUR_STATE_BUCKET: expected an S3 bucket name');
    expect(loadConfig({ GITHUB_ACTIONS: 'true' }).deployRefusals).toEqual(
      expect.arrayContaining([expect.stringMatching(/^CRUDDUR_STATE_BUCKET: a deploy from GitHub Actions needs the state in S3/)]),
    );
    expect(loadConfig({ GITHUB_ACTIONS: 'true', CRUDDUR_STATE_BUCKET: 'acme-terraform-state' }).deployRefusals.join()).not.toMatch(/CRUDDUR_STATE_BUCKET/);
  });

  it("imports the existing table of that name instead of creating it with CRUDDUR_ADOPT_TABLE=1 (the original's, once migrated)", () => {
    // Act
    const adopting = synthApp(loadConfig({ CRUDDUR_ADOPT_TABLE: '1' }));

    // Assess
    const [name] = adopting.single('aws_dynamodb_table');
    expect(adopting.config.import).toEqual([{ to: `aws_dynamodb_table.${name}`, id: DEFAULT_TABLE_NAME }]);
    expect(dev.config.import).toBeUndefined();
    expect(() => loadConfig({ CRUDDUR_ADOPT_TABLE: 'yes' })).toThrow('CRUDDUR_ADOPT_TABLE: expected 1 or 0, got "yes"');
  });

  it('outputs the table name and ARN and the stream ARN', () => {
    // Prepare
    const [name] = dev.single('aws_dynamodb_table');
    const outputs = dev.outputs();

    // Assess
    expect(outputs.table_name?.value).toBe(reference('aws_dynamodb_table', name, 'name'));
    expect(outputs.table_arn?.value).toBe(reference('aws_dynamodb_table', name, 'arn'));
    expect(outputs.stream_arn?.value).toBe(reference('aws_dynamodb_table', name, 'stream_arn'));
  });
});

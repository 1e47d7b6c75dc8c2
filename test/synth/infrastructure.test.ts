/**
 * Configuration, network stack and app stack (no bundling needed; the lambdas stack has its
 * own file because it bundles every function once).
 */
import { messagesTableSchema, DEFAULT_TABLE_NAME } from '../../functions/data/model';
import { ConfigurationError } from '../../functions/errors';
import { stackNames } from '../../infrastructure/app';
import { cognitoIssuerUrl, loadConfig, type CruddurConfig } from '../../infrastructure/config';
import { AppStack } from '../../infrastructure/stacks/app-stack';
import { NetworkStack } from '../../infrastructure/stacks/network-stack';
import {
  DynamodbTable,
  reference,
  setupJestMatchers,
  SynthesizedStack,
  Testing,
  VpcEndpoint,
  VpcEndpointRouteTableAssociation,
} from '../../infrastructure/testing';

setupJestMatchers();

const REAL_LOOKING = {
  CRUDDUR_COGNITO_USER_POOL_ID: 'eu-west-1_AbC123xyZ',
  CRUDDUR_COGNITO_CLIENT_ID: '1example23456789abcdefghij',
  CRUDDUR_DATABASE_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cruddur/prod/db-a1B2c3',
  CRUDDUR_FRONTEND_ORIGIN: 'https://cruddur.test',
};

function synthNetwork(config: CruddurConfig): SynthesizedStack {
  return new SynthesizedStack(new NetworkStack(Testing.app(), stackNames(config).network, config));
}

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
    });
    expect(config.exampleValues).toEqual([
      'CRUDDUR_COGNITO_USER_POOL_ID',
      'CRUDDUR_COGNITO_CLIENT_ID',
      'CRUDDUR_DATABASE_SECRET_ARN',
    ]);
    expect(config.network.existingVpc).toBeUndefined();
    expect(stackNames(config)).toEqual({ network: 'cruddur-dev-network', app: 'cruddur-dev-app', lambdas: 'cruddur-dev-lambdas' });
  });

  it('selects prod with CRUDDUR_ENV: deletion protection, its own stack names, the example origin flagged', () => {
    // Act
    const config = loadConfig({ CRUDDUR_ENV: 'prod' });

    // Assess
    expect(config.table.deletionProtection).toBe(true);
    expect(stackNames(config).lambdas).toBe('cruddur-prod-lambdas');
    expect(config.exampleValues).toContain('CRUDDUR_FRONTEND_ORIGIN');
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
    };

    // Act
    const config = loadConfig(env);

    // Assess
    expect(config).toMatchObject({
      region: 'eu-west-1',
      cognito: { userPoolId: 'eu-west-1_AbC123xyZ', clientId: '1example23456789abcdefghij' },
      frontendOrigin: 'https://cruddur.test',
      database: { secretArn: REAL_LOOKING.CRUDDUR_DATABASE_SECRET_ARN, securityGroupId: 'sg-0123456789abcdef0' },
      network: {
        existingVpc: {
          vpcId: 'vpc-0123456789abcdef0',
          subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
          routeTableIds: ['rtb-0123456789abcdef0'],
        },
      },
      table: { name: 'cruddur-messages-prod', billingMode: 'PROVISIONED' },
      logRetentionDays: 30,
      api: { throttlingBurstLimit: 20, throttlingRateLimit: 7.5 },
      exampleValues: [],
    });
  });

  it('refuses example values under CRUDDUR_STRICT_CONFIG=1 (what deploy and diff set)', () => {
    expect(() => loadConfig({ CRUDDUR_STRICT_CONFIG: '1' })).toThrow(/CRUDDUR_COGNITO_USER_POOL_ID, CRUDDUR_COGNITO_CLIENT_ID, CRUDDUR_DATABASE_SECRET_ARN/);
    expect(() => loadConfig({ CRUDDUR_STRICT_CONFIG: '1', CRUDDUR_ENV: 'prod', ...REAL_LOOKING })).not.toThrow();
  });

  it.each([
    [{ CRUDDUR_ENV: 'staging' }, /CRUDDUR_ENV/],
    [{ CRUDDUR_COGNITO_USER_POOL_ID: 'not-a-pool' }, /CRUDDUR_COGNITO_USER_POOL_ID/],
    [{ CRUDDUR_DATABASE_SECRET_ARN: 'postgres://user:pw@host/db' }, /CRUDDUR_DATABASE_SECRET_ARN/],
    [{ CRUDDUR_FRONTEND_ORIGIN: 'https://cruddur.test/' }, /CRUDDUR_FRONTEND_ORIGIN/],
    [{ CRUDDUR_BILLING_MODE: 'ON_DEMAND' }, /CRUDDUR_BILLING_MODE/],
    [{ CRUDDUR_LOG_RETENTION_DAYS: '10' }, /CRUDDUR_LOG_RETENTION_DAYS/],
    [{ CRUDDUR_API_THROTTLING_BURST_LIMIT: '-1' }, /CRUDDUR_API_THROTTLING_BURST_LIMIT/],
    [{ CRUDDUR_VPC_ID: 'vpc-0123456789abcdef0' }, /CRUDDUR_SUBNET_IDS and CRUDDUR_ROUTE_TABLE_IDS together/],
    [{ CRUDDUR_SUBNET_IDS: 'subnet-1' }, /CRUDDUR_SUBNET_IDS/],
  ])('rejects %j with a ConfigurationError naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigurationError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('derives the JWT issuer from the user pool id, whose prefix is the pool region', () => {
    expect(cognitoIssuerUrl('eu-west-1_AbC123xyZ')).toBe('https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123xyZ');
  });
});

describe('NetworkStack', () => {
  describe('with a new VPC', () => {
    const stack = synthNetwork(loadConfig({}));

    it('creates private subnets in two AZs, each with its own route table and no route out', () => {
      // Assess
      const subnets = Object.values(stack.resources('aws_subnet'));
      expect(subnets).toHaveLength(2);
      expect(subnets.map((subnet) => subnet.availability_zone)).toEqual([
        expect.stringContaining('names, 0)'),
        expect.stringContaining('names, 1)'),
      ]);
      expect(subnets.every((subnet) => subnet.map_public_ip_on_launch === false)).toBe(true);
      expect(Object.keys(stack.resources('aws_route_table'))).toHaveLength(2);
      expect(Object.keys(stack.resources('aws_route_table_association'))).toHaveLength(2);
      for (const type of ['aws_nat_gateway', 'aws_internet_gateway', 'aws_route', 'aws_eip']) {
        expect(stack.resources(type)).toEqual({});
      }
      for (const table of Object.values(stack.resources('aws_route_table'))) expect(table.route).toBeUndefined();
      expect(stack.single('aws_vpc')[1]).toMatchObject({ enable_dns_support: true, enable_dns_hostnames: true });
    });

    it('associates the DynamoDB gateway endpoint with every private route table (defect 9)', () => {
      // Prepare
      const [endpointName] = Object.entries(stack.resources('aws_vpc_endpoint')).find(([, body]) => body.vpc_endpoint_type === 'Gateway')!;
      const routeTables = Object.keys(stack.resources('aws_route_table'));

      // Assess
      expect(stack.json).toHaveResourceWithProperties(VpcEndpoint, {
        service_name: 'com.amazonaws.us-east-1.dynamodb',
        vpc_endpoint_type: 'Gateway',
      });
      const associated = Object.values(stack.resources('aws_vpc_endpoint_route_table_association'));
      expect(associated.map((association) => association.vpc_endpoint_id)).toEqual(
        routeTables.map(() => reference('aws_vpc_endpoint', endpointName, 'id')),
      );
      expect(associated.map((association) => association.route_table_id).sort()).toEqual(
        routeTables.map((name) => reference('aws_route_table', name, 'id')).sort(),
      );
    });

    it('puts a Secrets Manager interface endpoint with private DNS in the private subnets, HTTPS from the functions only', () => {
      // Prepare
      const groups = stack.resources('aws_security_group');
      const groupNamed = (name: string) => Object.keys(groups).find((key) => groups[key]!.name === name)!;
      const functionsGroup = reference('aws_security_group', groupNamed('cruddur-dev-functions'), 'id');
      const endpointsGroup = reference('aws_security_group', groupNamed('cruddur-dev-endpoints'), 'id');
      const subnets = Object.keys(stack.resources('aws_subnet')).map((name) => reference('aws_subnet', name, 'id'));

      // Assess
      expect(stack.json).toHaveResourceWithProperties(VpcEndpoint, {
        service_name: 'com.amazonaws.us-east-1.secretsmanager',
        vpc_endpoint_type: 'Interface',
        private_dns_enabled: true,
        subnet_ids: subnets,
        security_group_ids: [endpointsGroup],
      });
      expect(Object.values(stack.resources('aws_vpc_security_group_ingress_rule'))).toEqual([
        expect.objectContaining({ security_group_id: endpointsGroup, referenced_security_group_id: functionsGroup, from_port: 443, to_port: 443, ip_protocol: 'tcp' }),
      ]);
    });

    it('lets the functions out on 443 to the endpoints and 5432 to the database, nothing else', () => {
      // Prepare
      const egress = Object.values(stack.resources('aws_vpc_security_group_egress_rule'));
      const [gatewayName] = Object.entries(stack.resources('aws_vpc_endpoint')).find(([, body]) => body.vpc_endpoint_type === 'Gateway')!;

      // Assess
      expect(egress.map((rule) => [rule.from_port, rule.to_port, rule.ip_protocol]).sort()).toEqual([
        [443, 443, 'tcp'],
        [443, 443, 'tcp'],
        [5432, 5432, 'tcp'],
      ]);
      expect(egress).toContainEqual(expect.objectContaining({ prefix_list_id: reference('aws_vpc_endpoint', gatewayName, 'prefix_list_id') }));
      expect(egress.some((rule) => rule.cidr_ipv4 === '0.0.0.0/0')).toBe(false);
      // Terraform-managed security groups start without the default allow-all egress; no inline rules either.
      for (const group of Object.values(stack.resources('aws_security_group'))) {
        expect(group.egress).toBeUndefined();
        expect(group.ingress).toBeUndefined();
      }
    });
  });

  describe('with an existing VPC', () => {
    const stack = synthNetwork(loadConfig({
      CRUDDUR_VPC_ID: 'vpc-0123456789abcdef0',
      CRUDDUR_SUBNET_IDS: 'subnet-0123456789abcdef0,subnet-0123456789abcdef1',
      CRUDDUR_ROUTE_TABLE_IDS: 'rtb-0123456789abcdef0,rtb-0123456789abcdef1',
      CRUDDUR_DATABASE_SECURITY_GROUP_ID: 'sg-0123456789abcdef9',
    }));

    it('creates no VPC, subnets or route tables and associates the endpoint with the given route tables', () => {
      expect(stack.resources('aws_vpc')).toEqual({});
      expect(stack.resources('aws_subnet')).toEqual({});
      expect(stack.resources('aws_route_table')).toEqual({});
      expect(stack.json).toHaveResourceWithProperties(VpcEndpointRouteTableAssociation, { route_table_id: 'rtb-0123456789abcdef0' });
      expect(stack.json).toHaveResourceWithProperties(VpcEndpointRouteTableAssociation, { route_table_id: 'rtb-0123456789abcdef1' });
      expect(stack.json).toHaveResourceWithProperties(VpcEndpoint, {
        vpc_id: 'vpc-0123456789abcdef0',
        vpc_endpoint_type: 'Interface',
        subnet_ids: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
      });
    });

    it('opens 5432 between the functions and the database security group, both ways', () => {
      expect(Object.values(stack.resources('aws_vpc_security_group_egress_rule'))).toContainEqual(
        expect.objectContaining({ from_port: 5432, referenced_security_group_id: 'sg-0123456789abcdef9' }),
      );
      expect(Object.values(stack.resources('aws_vpc_security_group_ingress_rule'))).toContainEqual(
        expect.objectContaining({ from_port: 5432, security_group_id: 'sg-0123456789abcdef9' }),
      );
    });
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

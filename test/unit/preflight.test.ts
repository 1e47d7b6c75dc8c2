/**
 * `npm run preflight` against a mocked AWS account (aws-sdk-client-mock: no AWS account is
 * reachable from CI). A passing account first, then each blocker the checks know, one at a
 * time, on top of the passing account.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { APIGatewayClient, GetAccountCommand } from '@aws-sdk/client-api-gateway';
import { CloudFormationClient, DescribeStackResourcesCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  CognitoIdentityProviderClient,
  DescribeUserPoolClientCommand,
  DescribeUserPoolCommand,
  ResourceNotFoundException as CognitoNotFound,
} from '@aws-sdk/client-cognito-identity-provider';
import { DescribeTableCommand, DynamoDBClient, ListTagsOfResourceCommand, ResourceNotFoundException as TableNotFound } from '@aws-sdk/client-dynamodb';
import {
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcPeeringConnectionsCommand,
  DescribeVpcsCommand,
  EC2Client,
  type DescribeSubnetsCommandInput,
  type VpcEndpoint,
} from '@aws-sdk/client-ec2';
import { LambdaClient, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { DBInstanceNotFoundFault, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ResourceNotFoundException as SecretNotFound,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { loadConfig } from '../../infrastructure/config';
import { formatResult, runPreflight, type CheckResult, type PreflightClients } from '../../scripts/lib/preflight';
import { main as preflightMain } from '../../scripts/preflight';

const ACCOUNT = '123456789012';
const POOL = 'us-east-1_AbC123xyZ';
const CLIENT = '1example23456789abcdefghij';
const SECRET_ARN = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:cruddur/dev/database-Ab12Cd`;
const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const VPC = 'vpc-0aaaaaaaaaaaaaaa1';
const SECRET_VALUE = {
  username: 'cruddur',
  password: 'never-printed-9c1f',
  host: 'cruddur-db-instance.abc.us-east-1.rds.amazonaws.com',
  port: 5432,
  dbname: 'cruddur',
};
const ENV = {
  CRUDDUR_COGNITO_USER_POOL_ID: POOL,
  CRUDDUR_COGNITO_CLIENT_ID: CLIENT,
  CRUDDUR_DATABASE_SECRET_ARN: SECRET_ARN,
  CRUDDUR_DATABASE_INSTANCE: 'cruddur-db-instance',
};
const EXISTING_VPC_ENV = {
  CRUDDUR_COGNITO_USER_POOL_ID: POOL,
  CRUDDUR_COGNITO_CLIENT_ID: CLIENT,
  CRUDDUR_DATABASE_SECRET_ARN: SECRET_ARN,
  CRUDDUR_VPC_ID: VPC,
  CRUDDUR_SUBNET_IDS: 'subnet-0aaaaaaaaaaaaaaa1,subnet-0aaaaaaaaaaaaaaa3',
  CRUDDUR_ROUTE_TABLE_IDS: 'rtb-0aaaaaaaaaaaaaaa1,rtb-0aaaaaaaaaaaaaaa9',
  CRUDDUR_DATABASE_SECURITY_GROUP_ID: 'sg-0aaaaaaaaaaaaaaa1',
};

const sts = mockClient(STSClient);
const cognito = mockClient(CognitoIdentityProviderClient);
const secrets = mockClient(SecretsManagerClient);
const rds = mockClient(RDSClient);
const ec2 = mockClient(EC2Client);
const dynamodb = mockClient(DynamoDBClient);
const apigateway = mockClient(APIGatewayClient);
const lambda = mockClient(LambdaClient);
const cloudformation = mockClient(CloudFormationClient);
const MOCKS = [sts, cognito, secrets, rds, ec2, dynamodb, apigateway, lambda, cloudformation];

const TABLE_ARN = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/cruddur-messages`;
const STREAM_ARN = `${TABLE_ARN}/stream/2026-11-20T10:00:00.000`;
/** A table that exists, with its stream on (the original's, or the bootcamp's CrdDdb one). */
const existingTable = (name = 'cruddur-messages') =>
  dynamodb.on(DescribeTableCommand).resolves({
    Table: {
      TableName: name,
      TableArn: TABLE_ARN.replace('cruddur-messages', name),
      LatestStreamArn: STREAM_ARN,
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
    },
  });
/** The bootcamp's week-10 stream function, reading the table's stream. */
const bootcampStreamMapping = (state = 'Enabled') => ({
  UUID: '6f1c2b7e-0000-4000-8000-000000000001',
  State: state,
  EventSourceArn: STREAM_ARN,
  FunctionArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:CrdDdb-ProcessDynamoDBStream-AbC123`,
});

const subnet = (n: number, zone: string) => ({
  SubnetId: `subnet-0aaaaaaaaaaaaaaa${n}`,
  VpcId: VPC,
  AvailabilityZoneId: zone,
  AvailabilityZone: `us-east-1${'abc'[n - 1] ?? 'd'}`,
});

let stateDirectory: string;

/** A deployable account: the bootcamp's instance in the default VPC, nothing that collides. */
function passingAccount(): void {
  for (const mock of MOCKS) mock.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/deployer` });
  cognito.on(DescribeUserPoolCommand).resolves({ UserPool: { Id: POOL, Name: 'cruddur-user-pool' } });
  cognito.on(DescribeUserPoolClientCommand).resolves({ UserPoolClient: { ClientId: CLIENT, ClientName: 'cruddur' } });
  secrets.on(DescribeSecretCommand).resolves({ ARN: SECRET_ARN });
  secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(SECRET_VALUE) });
  rds.on(DescribeDBInstancesCommand).resolves({
    DBInstances: [
      {
        DBInstanceIdentifier: 'cruddur-db-instance',
        DBInstanceStatus: 'available',
        Engine: 'postgres',
        Endpoint: { Address: SECRET_VALUE.host, Port: 5432 },
        VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-0aaaaaaaaaaaaaaa1', Status: 'active' }],
        DBSubnetGroup: { VpcId: VPC, Subnets: [1, 2, 3].map((n) => ({ SubnetIdentifier: `subnet-0aaaaaaaaaaaaaaa${n}` })) },
      },
    ],
  });
  const subnets = [subnet(1, 'use1-az1'), subnet(2, 'use1-az3'), subnet(3, 'use1-az2')];
  ec2
    .on(DescribeSubnetsCommand)
    .callsFake((input: DescribeSubnetsCommandInput) => ({ Subnets: subnets.filter((candidate) => input.SubnetIds?.includes(candidate.SubnetId)) }));
  // subnet 1 has its own route table; 3 uses the main one.
  ec2.on(DescribeRouteTablesCommand).resolves({ RouteTables: [] });
  ec2
    .on(DescribeRouteTablesCommand, {
      Filters: [
        { Name: 'vpc-id', Values: [VPC] },
        { Name: 'association.main', Values: ['true'] },
      ],
    })
    .resolves({ RouteTables: [{ RouteTableId: 'rtb-0aaaaaaaaaaaaaaa9', VpcId: VPC, Associations: [{ Main: true }] }] });
  ec2
    .on(DescribeRouteTablesCommand, {
      Filters: [
        { Name: 'vpc-id', Values: [VPC] },
        { Name: 'association.subnet-id', Values: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa3'] },
      ],
    })
    .resolves({ RouteTables: [{ RouteTableId: 'rtb-0aaaaaaaaaaaaaaa1', VpcId: VPC, Associations: [{ SubnetId: 'subnet-0aaaaaaaaaaaaaaa1' }] }] });
  ec2.on(DescribeRouteTablesCommand, { RouteTableIds: ['rtb-0aaaaaaaaaaaaaaa1', 'rtb-0aaaaaaaaaaaaaaa9'] }).resolves({
    RouteTables: [
      { RouteTableId: 'rtb-0aaaaaaaaaaaaaaa1', VpcId: VPC },
      { RouteTableId: 'rtb-0aaaaaaaaaaaaaaa9', VpcId: VPC },
    ],
  });
  ec2.on(DescribeVpcsCommand).resolves({ Vpcs: [{ VpcId: VPC, CidrBlock: '172.31.0.0/16' }] });
  ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-0aaaaaaaaaaaaaaa1', GroupName: 'default', VpcId: VPC }] });
  ec2.on(DescribeVpcAttributeCommand, { Attribute: 'enableDnsSupport' }).resolves({ EnableDnsSupport: { Value: true } });
  ec2.on(DescribeVpcAttributeCommand, { Attribute: 'enableDnsHostnames' }).resolves({ EnableDnsHostnames: { Value: true } });
  ec2.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: [] });
  dynamodb.on(DescribeTableCommand).rejects(new TableNotFound({ message: 'Requested resource not found', $metadata: {} }));
  dynamodb.on(ListTagsOfResourceCommand).resolves({ Tags: [] });
  apigateway.on(GetAccountCommand).resolves({});
  lambda.on(ListEventSourceMappingsCommand).resolves({ EventSourceMappings: [] });
}

function clients(): PreflightClients {
  return {
    sts: new STSClient({ region: 'us-east-1' }),
    cognito: new CognitoIdentityProviderClient({ region: 'us-east-1' }),
    secrets: new SecretsManagerClient({ region: 'us-east-1' }),
    rds: new RDSClient({ region: 'us-east-1' }),
    ec2: new EC2Client({ region: 'us-east-1' }),
    dynamodb: new DynamoDBClient({ region: 'us-east-1' }),
    apigateway: new APIGatewayClient({ region: 'us-east-1' }),
    lambda: new LambdaClient({ region: 'us-east-1' }),
    cloudformation: new CloudFormationClient({ region: 'us-east-1' }),
  };
}

async function preflight(env: Record<string, string> = ENV): Promise<CheckResult[]> {
  return runPreflight(loadConfig(env), clients(), { stateDirectory });
}

function blockers(results: CheckResult[]): string[] {
  return results.filter((result) => result.status === 'blocker').map((result) => `${result.check}: ${result.detail}`);
}

function endpoint(service: 'dynamodb' | 'secretsmanager', fields: Record<string, unknown>) {
  return {
    VpcEndpointId: `vpce-0${service === 'dynamodb' ? 'd' : 'e'}aaaaaaaaaaaaaa1`,
    VpcId: VPC,
    ServiceName: `com.amazonaws.us-east-1.${service}`,
    State: 'available' as VpcEndpoint['State'],
    ...fields,
  };
}

beforeEach(() => {
  stateDirectory = mkdtempSync(path.join(tmpdir(), 'cruddur-preflight-'));
  passingAccount();
});

afterEach(() => rmSync(stateDirectory, { recursive: true, force: true }));

describe('a deployable account', () => {
  it('passes every check, one line each, never printing the secret', async () => {
    // Act
    const results = await preflight();

    // Assess
    expect(blockers(results)).toEqual([]);
    expect(results.map((result) => [result.check, result.status])).toEqual([
      ['settings', 'ok'],
      ['credentials', 'ok'],
      ['user pool', 'ok'],
      ['app client', 'ok'],
      ['database secret', 'ok'],
      ['database instance', 'ok'],
      ['function subnets', 'ok'],
      ['vpc dns', 'ok'],
      ['dynamodb endpoint', 'ok'],
      ['secrets manager endpoint', 'ok'],
      ['api gateway logging', 'ok'],
      ['messages table', 'ok'],
    ]);
    const text = results.map(formatResult).join('\n');
    expect(text).not.toContain(SECRET_VALUE.password);
    expect(text).toContain(
      '[ok]      function subnets          subnet-0aaaaaaaaaaaaaaa1 (use1-az1), subnet-0aaaaaaaaaaaaaaa3 (use1-az2); skipped subnet-0aaaaaaaaaaaaaaa2 (use1-az3) (Lambda does not run there)',
    );
    expect(text).toContain('none on rtb-0aaaaaaaaaaaaaaa1, rtb-0aaaaaaaaaaaaaaa9');
    // Read-only: every call made is a Describe/Get/List.
    for (const mock of MOCKS) {
      for (const call of mock.calls()) expect(call.args[0].constructor.name).toMatch(/^(Describe|Get|List)/);
    }
  });

  it('passes an explicit existing VPC and reuses endpoints it already has', async () => {
    // Prepare
    ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [subnet(1, 'use1-az1'), subnet(3, 'use1-az2')] });
    ec2.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: [] });
    ec2
      .on(DescribeVpcEndpointsCommand, {
        Filters: [
          { Name: 'vpc-id', Values: [VPC] },
          { Name: 'service-name', Values: ['com.amazonaws.us-east-1.dynamodb'] },
        ],
      })
      .resolves({ VpcEndpoints: [endpoint('dynamodb', { VpcEndpointType: 'Gateway', RouteTableIds: ['rtb-0aaaaaaaaaaaaaaa1', 'rtb-0aaaaaaaaaaaaaaa9'] })] });

    // Act
    const results = await preflight({ ...EXISTING_VPC_ENV, CRUDDUR_DYNAMODB_ENDPOINT: 'existing' });

    // Assess
    expect(blockers(results)).toEqual([]);
    expect(results.find((result) => result.check === 'dynamodb endpoint')!.detail).toBe(
      'reusing vpce-0daaaaaaaaaaaaaa1 (on rtb-0aaaaaaaaaaaaaaa1, rtb-0aaaaaaaaaaaaaaa9)',
    );
  });

  it('exits 0 from the command and 1 with a blocker, with a summary line', async () => {
    // Prepare
    const lines: string[] = [];
    const out = { log: (line: string) => lines.push(line), error: (line: string) => lines.push(line) };
    const context = { prod: false, targets: undefined as never, env: ENV, values: {}, positionals: [], out };

    // Act / Assess
    expect(await preflightMain(context)).toBe(0);
    expect(lines.at(-1)).toBe('no blockers, 0 warning(s)');
    existingTable();
    expect(await preflightMain(context)).toBe(1);
    expect(lines.at(-1)).toBe('1 blocker(s), 0 warning(s): fix the blockers before npm run deploy');
  });
});

describe('each blocker', () => {
  it.each<[string, () => void, Record<string, string> | undefined, RegExp]>([
    [
      'settings: no database route',
      () => undefined,
      { CRUDDUR_COGNITO_USER_POOL_ID: POOL, CRUDDUR_COGNITO_CLIENT_ID: CLIENT, CRUDDUR_DATABASE_SECRET_ARN: SECRET_ARN },
      /^settings: CRUDDUR_DATABASE_INSTANCE: the functions would run in a new VPC with no route/,
    ],
    [
      'no credentials',
      () =>
        sts
          .on(GetCallerIdentityCommand)
          .rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' })),
      undefined,
      /^credentials: no usable AWS credentials \(CredentialsProviderError: Could not load credentials/,
    ],
    [
      'AWS unreachable',
      () => sts.on(GetCallerIdentityCommand).rejects(Object.assign(new Error('getaddrinfo ENOTFOUND sts.us-east-1.amazonaws.com'), { code: 'ENOTFOUND' })),
      undefined,
      /^credentials: cannot reach AWS STS in us-east-1/,
    ],
    [
      'no such user pool',
      () => cognito.on(DescribeUserPoolCommand).rejects(new CognitoNotFound({ message: 'User pool us-east-1_AbC123xyZ does not exist.', $metadata: {} })),
      undefined,
      /^user pool: us-east-1_AbC123xyZ: ResourceNotFoundException: .*\(CRUDDUR_COGNITO_USER_POOL_ID\)$/,
    ],
    [
      'no such app client',
      () => cognito.on(DescribeUserPoolClientCommand).rejects(new CognitoNotFound({ message: 'User pool client does not exist.', $metadata: {} })),
      undefined,
      /^app client: 1example23456789abcdefghij in us-east-1_AbC123xyZ: ResourceNotFoundException/,
    ],
    [
      'no such secret',
      () => secrets.on(DescribeSecretCommand).rejects(new SecretNotFound({ message: "Secrets Manager can't find the specified secret.", $metadata: {} })),
      undefined,
      /^database secret: arn:aws:secretsmanager:.*ResourceNotFoundException.*\(CRUDDUR_DATABASE_SECRET_ARN\)$/,
    ],
    [
      'an unreadable secret',
      () =>
        secrets
          .on(GetSecretValueCommand)
          .rejects(Object.assign(new Error('not authorized to perform: secretsmanager:GetSecretValue'), { name: 'AccessDeniedException' })),
      undefined,
      /^database secret: cannot read .*AccessDeniedException/,
    ],
    [
      'a secret that is not JSON',
      () => secrets.on(GetSecretValueCommand).resolves({ SecretString: 'postgresql://cruddur:pw@host/db' }),
      undefined,
      /^database secret: .* is not a JSON object .*its value is not shown$/,
    ],
    [
      'a secret without host',
      () => secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: 'u', password: 'p' }) }),
      undefined,
      /^database secret: .* lacks string field\(s\) host$/,
    ],
    [
      'a secret with a customer-managed key not configured',
      () => secrets.on(DescribeSecretCommand).resolves({ ARN: SECRET_ARN, KmsKeyId: KEY_ARN }),
      undefined,
      /^secret key: the secret is encrypted with customer-managed key arn:aws:kms:.*; set CRUDDUR_DATABASE_SECRET_KMS_KEY_ARN/,
    ],
    [
      'no such database instance',
      () => rds.on(DescribeDBInstancesCommand).rejects(new DBInstanceNotFoundFault({ message: 'DBInstance cruddur-db-instance not found.', $metadata: {} })),
      undefined,
      /^database instance: cruddur-db-instance: DBInstanceNotFound.*\(CRUDDUR_DATABASE_INSTANCE\)$/,
    ],
    [
      'every database subnet in a zone Lambda does not run in',
      () => ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [subnet(2, 'use1-az3')] }),
      undefined,
      /^function subnets: no subnet of cruddur-db-instance's subnet group is in a zone where Lambda runs/,
    ],
    [
      'a VPC without DNS hostnames',
      () => ec2.on(DescribeVpcAttributeCommand, { Attribute: 'enableDnsHostnames' }).resolves({ EnableDnsHostnames: { Value: false } }),
      undefined,
      /^vpc dns: vpc-0aaaaaaaaaaaaaaa1 has enableDnsHostnames off; .*aws ec2 modify-vpc-attribute --vpc-id vpc-0aaaaaaaaaaaaaaa1 --enable-dns-hostnames$/,
    ],
    [
      'a DynamoDB gateway endpoint already on the route tables',
      () =>
        ec2
          .on(DescribeVpcEndpointsCommand, {
            Filters: [
              { Name: 'vpc-id', Values: [VPC] },
              { Name: 'service-name', Values: ['com.amazonaws.us-east-1.dynamodb'] },
            ],
          })
          .resolves({ VpcEndpoints: [endpoint('dynamodb', { VpcEndpointType: 'Gateway', RouteTableIds: ['rtb-0aaaaaaaaaaaaaaa9'] })] }),
      undefined,
      /^dynamodb endpoint: vpce-0daaaaaaaaaaaaaa1 already routes DynamoDB .* set CRUDDUR_DYNAMODB_ENDPOINT=existing$/,
    ],
    [
      'a Secrets Manager endpoint with private DNS already',
      () =>
        ec2
          .on(DescribeVpcEndpointsCommand, {
            Filters: [
              { Name: 'vpc-id', Values: [VPC] },
              { Name: 'service-name', Values: ['com.amazonaws.us-east-1.secretsmanager'] },
            ],
          })
          .resolves({ VpcEndpoints: [endpoint('secretsmanager', { VpcEndpointType: 'Interface', PrivateDnsEnabled: true })] }),
      undefined,
      /^secrets manager endpoint: vpce-0eaaaaaaaaaaaaaa1 already has private DNS .* set CRUDDUR_SECRETS_MANAGER_ENDPOINT=existing$/,
    ],
    [
      'endpoints to reuse that are not there',
      () => undefined,
      { ...ENV, CRUDDUR_DYNAMODB_ENDPOINT: 'existing' },
      /^dynamodb endpoint: CRUDDUR_DYNAMODB_ENDPOINT=existing but no DynamoDB gateway endpoint/,
    ],
    [
      "the original's table, not adopted",
      () => existingTable(),
      undefined,
      /^messages table: cruddur-messages exists and cruddur-dev-app's local state does not hold it .*CRUDDUR_ADOPT_TABLE=1/,
    ],
    [
      'a table to adopt that does not exist',
      () => undefined,
      { ...ENV, CRUDDUR_ADOPT_TABLE: '1' },
      /^messages table: CRUDDUR_ADOPT_TABLE=1 but there is no table cruddur-messages to import$/,
    ],
    [
      'an explicit subnet in another VPC',
      () => ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [subnet(1, 'use1-az1'), { ...subnet(3, 'use1-az2'), VpcId: 'vpc-0bbbbbbbbbbbbbbb1' }] }),
      EXISTING_VPC_ENV,
      /^function subnets: subnet-0aaaaaaaaaaaaaaa3 is in vpc-0bbbbbbbbbbbbbbb1 \(CRUDDUR_SUBNET_IDS\)$/,
    ],
    [
      'explicit subnets sharing a zone',
      () => ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [subnet(1, 'use1-az1'), subnet(3, 'use1-az1')] }),
      EXISTING_VPC_ENV,
      /^function subnets: two subnets share a zone/,
    ],
    [
      'an explicit subnet in use1-az3',
      () => ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [subnet(1, 'use1-az3'), subnet(3, 'use1-az2')] }),
      EXISTING_VPC_ENV,
      /^function subnets: subnet-0aaaaaaaaaaaaaaa1 is in use1-az3, where Lambda does not run/,
    ],
    [
      'a route table the explicit subnets use but the settings omit',
      () => undefined,
      { ...EXISTING_VPC_ENV, CRUDDUR_ROUTE_TABLE_IDS: 'rtb-0aaaaaaaaaaaaaaa1' },
      /^route tables: the subnets use rtb-0aaaaaaaaaaaaaaa9 too; add it to CRUDDUR_ROUTE_TABLE_IDS/,
    ],
    [
      'a database security group in another VPC',
      () => ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-0aaaaaaaaaaaaaaa1', VpcId: 'vpc-0bbbbbbbbbbbbbbb1' }] }),
      EXISTING_VPC_ENV,
      /^database security group: sg-0aaaaaaaaaaaaaaa1 is in vpc-0bbbbbbbbbbbbbbb1, not vpc-0aaaaaaaaaaaaaaa1/,
    ],
    [
      'WebSocket access logs through an account role that does not exist',
      () => undefined,
      { ...ENV, CRUDDUR_WEBSOCKET_ACCESS_LOGS: 'account-role' },
      /^api gateway logging: CRUDDUR_WEBSOCKET_ACCESS_LOGS=account-role, but the account has no API Gateway CloudWatch Logs role in this region.*use create-role, or off$/,
    ],
    [
      'a role to create where the account has another',
      () => apigateway.on(GetAccountCommand).resolves({ cloudwatchRoleArn: `arn:aws:iam::${ACCOUNT}:role/api-gateway-cloudwatch-global` }),
      { ...ENV, CRUDDUR_WEBSOCKET_ACCESS_LOGS: 'create-role' },
      /^api gateway logging: the account's API Gateway logging role is arn:aws:iam::123456789012:role\/api-gateway-cloudwatch-global; create-role would replace it .*account-role/,
    ],
    [
      "the bootcamp's stream function still reading the table's stream",
      () => {
        existingTable();
        lambda.on(ListEventSourceMappingsCommand, { EventSourceArn: STREAM_ARN }).resolves({ EventSourceMappings: [bootcampStreamMapping()] });
      },
      { ...ENV, CRUDDUR_ADOPT_TABLE: '1' },
      /^stream readers: CrdDdb-ProcessDynamoDBStream-AbC123 \(mapping 6f1c2b7e-0000-4000-8000-000000000001, Enabled\) already reads the table's stream; with our 2 that makes 3 readers.*aws lambda update-event-source-mapping --uuid 6f1c2b7e-0000-4000-8000-000000000001 --no-enabled/,
    ],
    [
      "a table the bootcamp's CloudFormation stack still owns",
      () => {
        existingTable('CrdDdb-DynamoDBTable-1R2S3T4U5V6W');
        dynamodb.on(ListTagsOfResourceCommand).resolves({
          Tags: [
            { Key: 'aws:cloudformation:stack-name', Value: 'CrdDdb' },
            { Key: 'aws:cloudformation:logical-id', Value: 'DynamoDBTable' },
          ],
        });
        cloudformation
          .on(DescribeStacksCommand, { StackName: 'CrdDdb' })
          .resolves({ Stacks: [{ StackName: 'CrdDdb', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date() }] });
        cloudformation.on(DescribeStackResourcesCommand, { StackName: 'CrdDdb' }).resolves({
          StackResources: [
            {
              LogicalResourceId: 'DynamoDBTable',
              PhysicalResourceId: 'CrdDdb-DynamoDBTable-1R2S3T4U5V6W',
              ResourceType: 'AWS::DynamoDB::Table',
              ResourceStatus: 'UPDATE_COMPLETE',
              Timestamp: new Date(),
            },
          ],
        });
      },
      { ...ENV, CRUDDUR_TABLE_NAME: 'CrdDdb-DynamoDBTable-1R2S3T4U5V6W', CRUDDUR_ADOPT_TABLE: '1' },
      /^messages table: CrdDdb-DynamoDBTable-1R2S3T4U5V6W belongs to CloudFormation stack CrdDdb.*DeletionPolicy: Retain and UpdateReplacePolicy: Retain.*aws cloudformation delete-stack --stack-name CrdDdb/,
    ],
    [
      'a peering connection that is not active',
      () => ec2.on(DescribeVpcPeeringConnectionsCommand).resolves({ VpcPeeringConnections: [{ Status: { Code: 'pending-acceptance' } }] }),
      { ...ENV, CRUDDUR_DATABASE_INSTANCE: '', CRUDDUR_DATABASE_CIDR: '172.31.0.0/16', CRUDDUR_DATABASE_ROUTE_TARGET: 'pcx-0aaaaaaaaaaaaaaa1' },
      /^database route: pcx-0aaaaaaaaaaaaaaa1 is pending-acceptance/,
    ],
  ])('%s', async (_name, arrange, env, expected) => {
    // Prepare
    arrange();

    // Act
    const found = blockers(await preflight(env));

    // Assess
    expect(found).toEqual([expect.stringMatching(expected)]);
  });

  it('accepts a customer-managed key once it is configured', async () => {
    secrets.on(DescribeSecretCommand).resolves({ ARN: SECRET_ARN, KmsKeyId: KEY_ARN });
    const results = await preflight({ ...ENV, CRUDDUR_DATABASE_SECRET_KMS_KEY_ARN: KEY_ARN });
    expect(blockers(results)).toEqual([]);
    expect(results).toContainEqual(expect.objectContaining({ check: 'secret key', status: 'ok' }));
  });

  it("accepts the original's table once adopted, and a table its own state holds", async () => {
    existingTable();
    expect(blockers(await preflight({ ...ENV, CRUDDUR_ADOPT_TABLE: '1' }))).toEqual([]);
    writeFileSync(
      path.join(stateDirectory, 'terraform.cruddur-dev-app.tfstate'),
      JSON.stringify({ resources: [{ instances: [{ attributes: { name: 'cruddur-messages' } }] }] }, null, 2),
    );
    expect(blockers(await preflight())).toEqual([]);
  });

  it("accepts the bootcamp's table once its stack let it go and its stream function is disabled", async () => {
    // Prepare: the stack is gone (DescribeStacks by name answers "does not exist"); the tags AWS set stay on the table.
    existingTable('CrdDdb-DynamoDBTable-1R2S3T4U5V6W');
    dynamodb.on(ListTagsOfResourceCommand).resolves({ Tags: [{ Key: 'aws:cloudformation:stack-name', Value: 'CrdDdb' }] });
    cloudformation.on(DescribeStacksCommand).rejects(Object.assign(new Error('Stack with id CrdDdb does not exist'), { name: 'ValidationError' }));
    lambda.on(ListEventSourceMappingsCommand).resolves({ EventSourceMappings: [bootcampStreamMapping('Disabled')] });

    // Act
    const results = await preflight({ ...ENV, CRUDDUR_TABLE_NAME: 'CrdDdb-DynamoDBTable-1R2S3T4U5V6W', CRUDDUR_ADOPT_TABLE: '1' });

    // Assess
    expect(blockers(results)).toEqual([]);
    expect(results).toContainEqual(
      expect.objectContaining({ check: 'messages table', detail: expect.stringMatching(/created by CloudFormation stack CrdDdb, which no longer holds it/) }),
    );
    expect(results).toContainEqual(
      expect.objectContaining({
        check: 'stream readers',
        detail: expect.stringMatching(/^2 reader\(s\) of the stream with ours; disabled: CrdDdb-ProcessDynamoDBStream-AbC123/),
      }),
    );
  });

  it("accepts our own two stream readers, and the account's logging role when it is ours", async () => {
    existingTable();
    lambda.on(ListEventSourceMappingsCommand).resolves({
      EventSourceMappings: ['message-stream', 'message-push'].map((name, index) => ({
        UUID: `uuid-${index}`,
        State: 'Enabled',
        FunctionArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:cruddur-dev-${name}`,
      })),
    });
    apigateway.on(GetAccountCommand).resolves({ cloudwatchRoleArn: `arn:aws:iam::${ACCOUNT}:role/cruddur-dev-realtime-apigateway-logs` });
    const results = await preflight({ ...ENV, CRUDDUR_ADOPT_TABLE: '1', CRUDDUR_WEBSOCKET_ACCESS_LOGS: 'create-role' });
    expect(blockers(results)).toEqual([]);
    expect(results).toContainEqual(expect.objectContaining({ check: 'stream readers', detail: '2 reader(s) of the stream with ours' }));
  });

  it('stops after the credentials when there are none: nothing else can be asked', async () => {
    sts.on(GetCallerIdentityCommand).rejects(new Error('no credentials'));
    const results = await preflight();
    expect(results.map((result) => result.check)).toEqual(['settings', 'credentials']);
    expect(rds.calls()).toHaveLength(0);
  });
});

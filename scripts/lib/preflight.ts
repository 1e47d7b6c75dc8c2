/**
 * What `npm run preflight` checks before a deploy, with read-only AWS calls: what synth cannot
 * know (the account, the user pool, the secret's content, the database's network, the VPC's
 * DNS attributes, endpoints that would collide). Each check yields one line; a blocker is
 * something the deploy would fail on, or would deploy broken.
 *
 * The checks take their clients as arguments, so tests give them mocked ones
 * (aws-sdk-client-mock): no AWS account is reachable from CI.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { GetAccountCommand, type APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { DescribeStackResourcesCommand, DescribeStacksCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DescribeUserPoolClientCommand, DescribeUserPoolCommand, type CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DescribeTableCommand, ListTagsOfResourceCommand, type DynamoDBClient, type TableDescription } from '@aws-sdk/client-dynamodb';
import {
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeTransitGatewaysCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcPeeringConnectionsCommand,
  DescribeVpcsCommand,
  type EC2Client,
  type Subnet,
} from '@aws-sdk/client-ec2';
import { paginateListEventSourceMappings, type EventSourceMappingConfiguration, type LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeDBInstancesCommand, type DBInstance, type RDSClient } from '@aws-sdk/client-rds';
import { DescribeSecretCommand, GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { MAX_STREAM_READERS, STREAM_FUNCTIONS } from '../../functions/catalog';
import { apiGatewayLogsRoleName, type CruddurConfig } from '../../infrastructure/config';
import type { EndpointChoices } from '../../infrastructure/config/network';

type CheckStatus = 'ok' | 'warn' | 'blocker';

export interface CheckResult {
  check: string;
  status: CheckStatus;
  detail: string;
}

export interface PreflightClients {
  sts: STSClient;
  cognito: CognitoIdentityProviderClient;
  secrets: SecretsManagerClient;
  rds: RDSClient;
  ec2: EC2Client;
  dynamodb: DynamoDBClient;
  apigateway: APIGatewayClient;
  lambda: LambdaClient;
  cloudformation: CloudFormationClient;
}

export interface PreflightOptions {
  /** Where the local Terraform state files are (the repository root), to tell adopted resources from ours. */
  stateDirectory: string;
}

/** The secret's fields the functions read (functions/clients/database-url.ts); port and dbname have defaults there. */
const SECRET_REQUIRED_KEYS = ['username', 'password', 'host'] as const;
const SECRET_OPTIONAL_KEYS = ['port', 'dbname'] as const;

/** A failed AWS call as one line: the error's name and message, never a stack. */
function awsError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

const ok = (check: string, detail: string): CheckResult => ({ check, status: 'ok', detail });
const warn = (check: string, detail: string): CheckResult => ({ check, status: 'warn', detail });
const blocker = (check: string, detail: string): CheckResult => ({ check, status: 'blocker', detail });

/** Where the functions would run, as AWS describes it. */
interface Placement {
  vpcId: string;
  subnets: Subnet[];
  routeTableIds: string[];
  endpoints: EndpointChoices;
}

/**
 * Runs every check and returns one result per line to print, in order. Later checks that
 * depend on an earlier one (the network on the credentials) are skipped when it failed.
 */
export async function runPreflight(config: CruddurConfig, clients: PreflightClients, options: PreflightOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = config.deployRefusals.map((refusal) => blocker('settings', refusal));
  if (results.length === 0) results.push(ok('settings', `${config.environment} in ${config.region}, network: ${describeNetwork(config)}`));

  const identity = await clients.sts.send(new GetCallerIdentityCommand({})).catch((error: unknown) => error as Error);
  if (identity instanceof Error) {
    const unreachable = /ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|ENETUNREACH/.test(`${(identity as { code?: string }).code ?? ''} ${identity.message}`);
    results.push(
      blocker(
        'credentials',
        unreachable
          ? `cannot reach AWS STS in ${config.region} (${awsError(identity)}); check the network`
          : `no usable AWS credentials (${awsError(identity)}); set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`,
      ),
    );
    return results;
  }
  results.push(ok('credentials', `account ${identity.Account} as ${identity.Arn}, region ${config.region}`));

  results.push(...(await checkCognito(config, clients.cognito)));
  results.push(...(await checkSecret(config, clients.secrets, identity.Account)));
  const network = await checkNetwork(config, clients);
  results.push(...network.results);
  if (network.placement) {
    results.push(await checkDns(clients.ec2, network.placement.vpcId));
    results.push(...(await checkEndpoints(config.region, clients.ec2, network.placement)));
  }
  results.push(await checkApiGatewayLogging(config, clients.apigateway, identity.Account));
  results.push(...(await checkTable(config, clients, options.stateDirectory)));
  return results;
}

/**
 * WebSocket access logs go through the account's API Gateway CloudWatch Logs role (one per
 * account and region): `account-role` needs one; `create-role` must not replace another.
 */
async function checkApiGatewayLogging(config: CruddurConfig, apigateway: APIGatewayClient, account: string | undefined): Promise<CheckResult> {
  const setting = config.websocket.accessLogs;
  let role: string | undefined;
  try {
    role = (await apigateway.send(new GetAccountCommand({}))).cloudwatchRoleArn || undefined;
  } catch (error) {
    return (setting === 'off' ? warn : blocker)(
      'api gateway logging',
      `cannot read the account's API Gateway settings (${awsError(error)}); the deployer needs apigateway:GET on /account`,
    );
  }
  const ours = `arn:aws:iam::${account ?? '*'}:role/${apiGatewayLogsRoleName(config.namePrefix)}`;
  switch (setting) {
    case 'off':
      return ok('api gateway logging', `WebSocket access logs off (CRUDDUR_WEBSOCKET_ACCESS_LOGS=off); the account's logging role: ${role ?? 'none'}`);
    case 'account-role':
      return role
        ? ok('api gateway logging', `the WebSocket stage logs through the account's role ${role}`)
        : blocker(
            'api gateway logging',
            'CRUDDUR_WEBSOCKET_ACCESS_LOGS=account-role, but the account has no API Gateway CloudWatch Logs role in this region: creating the stage would fail ("CloudWatch Logs role ARN must be set in account settings"); use create-role, or off',
          );
    case 'create-role':
      return !role || role === ours
        ? ok(
            'api gateway logging',
            `${role ? "the account's role is already ours" : 'the account has no logging role'}; the stack ${role ? 'keeps' : 'creates'} ${ours}`,
          )
        : blocker(
            'api gateway logging',
            `the account's API Gateway logging role is ${role}; create-role would replace it for every API of the region: set CRUDDUR_WEBSOCKET_ACCESS_LOGS=account-role to log through it`,
          );
  }
}

function describeNetwork(config: CruddurConfig): string {
  const network = config.network;
  switch (network.kind) {
    case 'database-instance':
      return `the VPC of RDS instance ${network.instanceId}`;
    case 'existing-vpc':
      return `existing ${network.vpcId}`;
    case 'new-vpc':
      return `new VPC ${network.vpcCidr}${network.database ? `, database ${network.database.cidr}` : ''}`;
  }
}

async function checkCognito(config: CruddurConfig, cognito: CognitoIdentityProviderClient): Promise<CheckResult[]> {
  const { userPoolId, clientId } = config.cognito;
  try {
    const pool = await cognito.send(new DescribeUserPoolCommand({ UserPoolId: userPoolId }));
    const results = [ok('user pool', `${userPoolId} (${pool.UserPool?.Name ?? 'unnamed'})`)];
    try {
      const client = await cognito.send(new DescribeUserPoolClientCommand({ UserPoolId: userPoolId, ClientId: clientId }));
      results.push(
        client.UserPoolClient?.ClientSecret
          ? warn('app client', `${clientId} has a client secret; the Cruddur frontend (Amplify in a browser) signs in with a public client, without one`)
          : ok('app client', `${clientId} (${client.UserPoolClient?.ClientName ?? 'unnamed'}), the API's JWT audience`),
      );
    } catch (error) {
      results.push(blocker('app client', `${clientId} in ${userPoolId}: ${awsError(error)} (CRUDDUR_COGNITO_CLIENT_ID)`));
    }
    return results;
  } catch (error) {
    return [blocker('user pool', `${userPoolId}: ${awsError(error)} (CRUDDUR_COGNITO_USER_POOL_ID)`)];
  }
}

/** The secret exists, is readable, is JSON with the expected keys, and its key is one the functions may use. Its value is never printed. */
async function checkSecret(config: CruddurConfig, secrets: SecretsManagerClient, account: string | undefined): Promise<CheckResult[]> {
  const { secretArn, secretKmsKeyArn } = config.database;
  const results: CheckResult[] = [];
  const secretAccount = secretArn.split(':')[4];
  if (account && secretAccount !== account) {
    results.push(
      warn(
        'database secret',
        `the secret is in account ${secretAccount}, the deploy in ${account}: the secret's resource policy must allow the functions' roles`,
      ),
    );
  }
  let kmsKeyId: string | undefined;
  try {
    kmsKeyId = (await secrets.send(new DescribeSecretCommand({ SecretId: secretArn }))).KmsKeyId;
  } catch (error) {
    return [...results, blocker('database secret', `${secretArn}: ${awsError(error)} (CRUDDUR_DATABASE_SECRET_ARN)`)];
  }
  const customerKey = kmsKeyId !== undefined && !/(^|:)alias\/aws\/secretsmanager$/.test(kmsKeyId);
  if (customerKey && !secretKmsKeyArn) {
    results.push(
      blocker(
        'secret key',
        `the secret is encrypted with customer-managed key ${kmsKeyId}; set CRUDDUR_DATABASE_SECRET_KMS_KEY_ARN to its key ARN, or the functions are denied kms:Decrypt`,
      ),
    );
  } else if (customerKey && kmsKeyId!.includes(':key/') && kmsKeyId !== secretKmsKeyArn) {
    results.push(blocker('secret key', `the secret is encrypted with ${kmsKeyId}, not ${secretKmsKeyArn} (CRUDDUR_DATABASE_SECRET_KMS_KEY_ARN)`));
  } else if (customerKey) {
    results.push(ok('secret key', `customer-managed ${kmsKeyId}; the functions get kms:Decrypt through Secrets Manager on ${secretKmsKeyArn}`));
  } else if (secretKmsKeyArn) {
    results.push(warn('secret key', `the secret uses Secrets Manager's own key; CRUDDUR_DATABASE_SECRET_KMS_KEY_ARN grants a key it does not need`));
  }

  let text: string | undefined;
  try {
    text = (await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString;
  } catch (error) {
    return [
      ...results,
      blocker('database secret', `cannot read ${secretArn}: ${awsError(error)} (the deployer needs secretsmanager:GetSecretValue for this check only)`),
    ];
  }
  let value: unknown;
  try {
    value = text === undefined ? undefined : JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [
      ...results,
      blocker('database secret', `${secretArn} is not a JSON object (expected {"username", "password", "host", "port", "dbname"}); its value is not shown`),
    ];
  }
  const fields = value as Record<string, unknown>;
  const missing = SECRET_REQUIRED_KEYS.filter((key) => typeof fields[key] !== 'string' || fields[key] === '');
  if (missing.length > 0) return [...results, blocker('database secret', `${secretArn} lacks string field(s) ${missing.join(', ')}`)];
  const port = fields.port === undefined ? 5432 : Number(fields.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return [...results, blocker('database secret', `${secretArn}: port is not a port number`)];
  const defaulted = SECRET_OPTIONAL_KEYS.filter((key) => fields[key] === undefined);
  results.push(
    ok(
      'database secret',
      `${secretArn}: JSON with ${[...SECRET_REQUIRED_KEYS, ...SECRET_OPTIONAL_KEYS.filter((key) => !defaulted.includes(key))].join(', ')}` +
        `${defaulted.length > 0 ? ` (${defaulted.join(', ')} default to ${defaulted.map((key) => (key === 'port' ? '5432' : 'postgres')).join(', ')})` : ''}; host ${String(fields.host)}`,
    ),
  );
  return results;
}

async function checkNetwork(config: CruddurConfig, clients: PreflightClients): Promise<{ results: CheckResult[]; placement?: Placement }> {
  const network = config.network;
  try {
    switch (network.kind) {
      case 'database-instance':
        return await checkDatabaseInstance(network.instanceId, network.excludedZoneIds, network.endpoints, clients);
      case 'existing-vpc':
        return await checkExistingVpc(network, clients.ec2);
      case 'new-vpc':
        return { results: await checkNewVpc(network, clients.ec2) };
    }
  } catch (error) {
    return { results: [blocker('network', awsError(error))] };
  }
}

async function checkDatabaseInstance(
  instanceId: string,
  excluded: string[],
  endpoints: EndpointChoices,
  clients: PreflightClients,
): Promise<{ results: CheckResult[]; placement?: Placement }> {
  let instance: DBInstance | undefined;
  try {
    instance = (await clients.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instanceId }))).DBInstances?.[0];
  } catch (error) {
    return { results: [blocker('database instance', `${instanceId}: ${awsError(error)} (CRUDDUR_DATABASE_INSTANCE)`)] };
  }
  if (!instance) return { results: [blocker('database instance', `${instanceId} not found (CRUDDUR_DATABASE_INSTANCE)`)] };
  const results: CheckResult[] = [];
  const groups = (instance.VpcSecurityGroups ?? []).filter((group) => group.Status !== 'inactive').map((group) => group.VpcSecurityGroupId!);
  const vpcId = instance.DBSubnetGroup?.VpcId;
  const subnetIds = (instance.DBSubnetGroup?.Subnets ?? []).map((subnet) => subnet.SubnetIdentifier!).filter(Boolean);
  if (!vpcId || subnetIds.length === 0) return { results: [blocker('database instance', `${instanceId} has no DB subnet group in a VPC`)] };
  if (groups.length === 0) results.push(blocker('database instance', `${instanceId} has no active VPC security group to admit the functions`));
  const status = instance.DBInstanceStatus ?? 'unknown';
  results.push(
    (status === 'available' ? ok : warn)(
      'database instance',
      `${instanceId} (${instance.Engine ?? 'engine?'}, ${status}) in ${vpcId}, port ${instance.Endpoint?.Port ?? '?'}, security group ${groups.sort()[0] ?? 'none'} gets the ingress rule`,
    ),
  );

  const subnets = (await clients.ec2.send(new DescribeSubnetsCommand({ SubnetIds: subnetIds }))).Subnets ?? [];
  const chosen = onePerZone(subnets.filter((subnet) => !excluded.includes(subnet.AvailabilityZoneId ?? '')));
  const skipped = subnets.filter((subnet) => excluded.includes(subnet.AvailabilityZoneId ?? ''));
  if (chosen.length === 0) {
    results.push(blocker('function subnets', `no subnet of ${instanceId}'s subnet group is in a zone where Lambda runs (all in ${excluded.join(', ')})`));
    return { results };
  }
  results.push(
    (chosen.length === 1 ? warn : ok)(
      'function subnets',
      `${describeSubnets(chosen)}${chosen.length === 1 ? ': one zone only, the functions stop when it does' : ''}` +
        `${skipped.length > 0 ? `; skipped ${describeSubnets(skipped)} (Lambda does not run there)` : ''}`,
    ),
  );
  const routeTableIds = await routeTablesOf(
    clients.ec2,
    vpcId,
    chosen.map((subnet) => subnet.SubnetId!),
  );
  return { results, placement: { vpcId, subnets: chosen, routeTableIds, endpoints } };
}

async function checkExistingVpc(
  network: Extract<CruddurConfig['network'], { kind: 'existing-vpc' }>,
  ec2: EC2Client,
): Promise<{ results: CheckResult[]; placement?: Placement }> {
  const { vpcId, subnetIds, routeTableIds, excludedZoneIds } = network;
  const vpcs = await ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] })).catch((error: unknown) => error as Error);
  if (vpcs instanceof Error) return { results: [blocker('vpc', `${vpcId}: ${awsError(vpcs)} (CRUDDUR_VPC_ID)`)] };
  const results: CheckResult[] = [ok('vpc', `${vpcId} (${vpcs.Vpcs?.[0]?.CidrBlock ?? '?'})`)];

  const subnets = (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: subnetIds }))).Subnets ?? [];
  const problems = [
    ...subnets.filter((subnet) => subnet.VpcId !== vpcId).map((subnet) => `${subnet.SubnetId} is in ${subnet.VpcId}`),
    ...subnets
      .filter((subnet) => excludedZoneIds.includes(subnet.AvailabilityZoneId ?? ''))
      .map((subnet) => `${subnet.SubnetId} is in ${subnet.AvailabilityZoneId}, where Lambda does not run`),
  ];
  if (network.endpoints.secretsManager === 'create' && onePerZone(subnets).length < subnets.length) {
    problems.push('two subnets share a zone; the Secrets Manager endpoint takes one per zone');
  }
  results.push(
    problems.length > 0 ? blocker('function subnets', `${problems.join('; ')} (CRUDDUR_SUBNET_IDS)`) : ok('function subnets', describeSubnets(subnets)),
  );

  const tables = (await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: routeTableIds }))).RouteTables ?? [];
  const foreign = tables.filter((table) => table.VpcId !== vpcId).map((table) => table.RouteTableId);
  const covered = await routeTablesOf(ec2, vpcId, subnetIds);
  const uncovered = covered.filter((id) => !routeTableIds.includes(id));
  results.push(
    foreign.length > 0
      ? blocker('route tables', `${foreign.join(', ')} not in ${vpcId} (CRUDDUR_ROUTE_TABLE_IDS)`)
      : uncovered.length > 0
        ? blocker(
            'route tables',
            `the subnets use ${uncovered.join(', ')} too; add it to CRUDDUR_ROUTE_TABLE_IDS or DynamoDB calls from those subnets time out`,
          )
        : ok('route tables', routeTableIds.join(', ')),
  );

  if (network.database.kind === 'security-group') {
    const group = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [network.database.securityGroupId] })).catch((error: unknown) => error as Error);
    results.push(
      group instanceof Error
        ? blocker('database security group', `${network.database.securityGroupId}: ${awsError(group)} (CRUDDUR_DATABASE_SECURITY_GROUP_ID)`)
        : group.SecurityGroups?.[0]?.VpcId !== vpcId
          ? blocker(
              'database security group',
              `${network.database.securityGroupId} is in ${group.SecurityGroups?.[0]?.VpcId}, not ${vpcId}; a rule cannot reference it (CRUDDUR_DATABASE_SECURITY_GROUP_ID)`,
            )
          : ok('database security group', `${network.database.securityGroupId} (${group.SecurityGroups?.[0]?.GroupName ?? ''}) gets the 5432 ingress rule`),
    );
  }
  return { results, placement: { vpcId, subnets, routeTableIds, endpoints: network.endpoints } };
}

async function checkNewVpc(network: Extract<CruddurConfig['network'], { kind: 'new-vpc' }>, ec2: EC2Client): Promise<CheckResult[]> {
  const target = network.database?.routeTarget;
  if (!network.database) return []; // already a settings blocker
  if (!target) {
    return [
      warn(
        'database route',
        `no CRUDDUR_DATABASE_ROUTE_TARGET: the functions reach ${network.database.cidr} only once you route it (peering or transit gateway) from the new VPC`,
      ),
    ];
  }
  if (target.startsWith('tgw-')) {
    const gateways = await ec2.send(new DescribeTransitGatewaysCommand({ TransitGatewayIds: [target] })).catch((error: unknown) => error as Error);
    if (gateways instanceof Error) return [blocker('database route', `${target}: ${awsError(gateways)} (CRUDDUR_DATABASE_ROUTE_TARGET)`)];
    const state = gateways.TransitGateways?.[0]?.State;
    return [
      (state === 'available' ? ok : blocker)(
        'database route',
        `${target} is ${state ?? 'missing'}; the new VPC needs an attachment to it before the route works`,
      ),
    ];
  }
  const peerings = await ec2.send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [target] })).catch((error: unknown) => error as Error);
  if (peerings instanceof Error) return [blocker('database route', `${target}: ${awsError(peerings)} (CRUDDUR_DATABASE_ROUTE_TARGET)`)];
  const peering = peerings.VpcPeeringConnections?.[0];
  const status = peering?.Status?.Code;
  return [
    (status === 'active' ? ok : blocker)(
      'database route',
      `${target} is ${status ?? 'missing'} (${peering?.RequesterVpcInfo?.CidrBlock ?? '?'} <-> ${peering?.AccepterVpcInfo?.CidrBlock ?? '?'})`,
    ),
  ];
}

async function checkDns(ec2: EC2Client, vpcId: string): Promise<CheckResult> {
  const [support, hostnames] = await Promise.all([
    ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: 'enableDnsSupport' })),
    ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: 'enableDnsHostnames' })),
  ]);
  const off = [...(support.EnableDnsSupport?.Value ? [] : ['enableDnsSupport']), ...(hostnames.EnableDnsHostnames?.Value ? [] : ['enableDnsHostnames'])];
  return off.length > 0
    ? blocker(
        'vpc dns',
        `${vpcId} has ${off.join(' and ')} off; the Secrets Manager endpoint's private DNS needs both: ${off.map((name) => `aws ec2 modify-vpc-attribute --vpc-id ${vpcId} --${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join('; ')}`,
      )
    : ok('vpc dns', `${vpcId} resolves DNS names and hostnames`);
}

/** Endpoints the VPC already has: ours would collide with them unless the settings say to reuse them. */
async function checkEndpoints(region: string, ec2: EC2Client, placement: Placement): Promise<CheckResult[]> {
  const endpointsOf = async (service: string) =>
    (
      await ec2.send(
        new DescribeVpcEndpointsCommand({
          Filters: [
            { Name: 'vpc-id', Values: [placement.vpcId] },
            { Name: 'service-name', Values: [`com.amazonaws.${region}.${service}`] },
          ],
        }),
      )
    ).VpcEndpoints?.filter((endpoint) => !['deleted', 'deleting', 'rejected', 'failed'].includes(String(endpoint.State).toLowerCase())) ?? [];

  const results: CheckResult[] = [];
  const gateways = (await endpointsOf('dynamodb')).filter((endpoint) => endpoint.VpcEndpointType === 'Gateway');
  const onOurTables = gateways.filter((endpoint) => endpoint.RouteTableIds?.some((id) => placement.routeTableIds.includes(id)));
  if (placement.endpoints.dynamoDb === 'create') {
    results.push(
      onOurTables.length > 0
        ? blocker(
            'dynamodb endpoint',
            `${onOurTables.map((e) => e.VpcEndpointId).join(', ')} already routes DynamoDB for ${placement.routeTableIds.join(', ')}; a second one there fails at apply: set CRUDDUR_DYNAMODB_ENDPOINT=existing`,
          )
        : ok('dynamodb endpoint', `none on ${placement.routeTableIds.join(', ')}; the stack creates one`),
    );
  } else {
    const covering = gateways.find((endpoint) => placement.routeTableIds.every((id) => endpoint.RouteTableIds?.includes(id)));
    results.push(
      covering
        ? ok('dynamodb endpoint', `reusing ${covering.VpcEndpointId} (on ${placement.routeTableIds.join(', ')})`)
        : blocker(
            'dynamodb endpoint',
            `CRUDDUR_DYNAMODB_ENDPOINT=existing but no DynamoDB gateway endpoint of ${placement.vpcId} is on all of ${placement.routeTableIds.join(', ')}`,
          ),
    );
  }

  const interfaces = (await endpointsOf('secretsmanager')).filter((endpoint) => endpoint.VpcEndpointType === 'Interface');
  const privateDns = interfaces.filter((endpoint) => endpoint.PrivateDnsEnabled);
  if (placement.endpoints.secretsManager === 'create') {
    results.push(
      privateDns.length > 0
        ? blocker(
            'secrets manager endpoint',
            `${privateDns.map((e) => e.VpcEndpointId).join(', ')} already has private DNS for secretsmanager.${region}; a second one fails at apply: set CRUDDUR_SECRETS_MANAGER_ENDPOINT=existing`,
          )
        : ok('secrets manager endpoint', `none in ${placement.vpcId}; the stack creates one that admits the whole VPC on 443`),
    );
  } else {
    results.push(
      privateDns.length === 1
        ? ok('secrets manager endpoint', `reusing ${privateDns[0]!.VpcEndpointId}; its security groups get a 443 rule from the functions`)
        : blocker(
            'secrets manager endpoint',
            `CRUDDUR_SECRETS_MANAGER_ENDPOINT=existing but ${placement.vpcId} has ${privateDns.length} Secrets Manager endpoints with private DNS (expected one)`,
          ),
    );
  }
  return results;
}

/**
 * The table, if it exists: who owns it (our state, a CloudFormation stack such as the
 * bootcamp's CrdDdb, or nobody yet), and who already reads its stream. A table of that name
 * that our state does not hold makes the app stack's create fail (ResourceInUseException):
 * often the original's `cruddur-messages`, adopted with CRUDDUR_ADOPT_TABLE=1 once migrated.
 */
async function checkTable(config: CruddurConfig, clients: PreflightClients, stateDirectory: string): Promise<CheckResult[]> {
  const { name, adoptExisting } = config.table;
  const stack = `${config.namePrefix}-app`;
  let table: TableDescription | undefined;
  try {
    table = (await clients.dynamodb.send(new DescribeTableCommand({ TableName: name }))).Table;
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') return [blocker('messages table', `${name}: ${awsError(error)}`)];
    return [
      adoptExisting
        ? blocker('messages table', `CRUDDUR_ADOPT_TABLE=1 but there is no table ${name} to import`)
        : ok('messages table', `${name} does not exist yet; ${stack} creates it`),
    ];
  }
  const results: CheckResult[] = [];
  const stateFile = path.join(stateDirectory, `terraform.${stack}.tfstate`);
  if (existsSync(stateFile) && readFileSync(stateFile, 'utf8').includes(`"name": "${name}"`))
    results.push(ok('messages table', `${name}, managed by ${stack}`));
  else {
    const owner = await cloudFormationOwner(clients, table?.TableArn, name);
    if (owner) results.push(owner);
    else if (adoptExisting)
      results.push(
        ok('messages table', `${name} exists; ${stack} imports it (CRUDDUR_ADOPT_TABLE=1): run npm run ddb:migrate -- --prod first if the original wrote it`),
      );
    else {
      results.push(
        blocker(
          'messages table',
          `${name} exists and ${stack}'s local state does not hold it (the original's table?); creating it would fail: ` +
            'migrate it (npm run ddb:migrate -- --prod) and set CRUDDUR_ADOPT_TABLE=1 to import it, or set CRUDDUR_TABLE_NAME to a new name',
        ),
      );
    }
  }
  if (table?.LatestStreamArn && table.StreamSpecification?.StreamEnabled) results.push(await checkStreamReaders(config, clients.lambda, table.LatestStreamArn));
  return results;
}

/**
 * A table created by CloudFormation (the bootcamp's `CrdDdb` SAM stack) carries its stack's
 * name in a tag AWS sets and keeps even after the stack lets it go; the stack owns it only
 * while the stack exists and still lists it. Taking it over then would put it under two tools.
 */
async function cloudFormationOwner(clients: PreflightClients, tableArn: string | undefined, tableName: string): Promise<CheckResult | undefined> {
  if (!tableArn) return undefined;
  let stackName: string | undefined;
  try {
    const tags = (await clients.dynamodb.send(new ListTagsOfResourceCommand({ ResourceArn: tableArn }))).Tags ?? [];
    stackName = tags.find((tag) => tag.Key === 'aws:cloudformation:stack-name')?.Value;
  } catch (error) {
    return warn(
      'table owner',
      `cannot read ${tableName}'s tags (${awsError(error)}): check yourself that no CloudFormation stack owns it (dynamodb:ListTagsOfResource)`,
    );
  }
  if (!stackName) return undefined;
  let owned: boolean;
  try {
    const stacks = (await clients.cloudformation.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks ?? [];
    const live = stacks.filter((candidate) => candidate.StackStatus !== 'DELETE_COMPLETE');
    const resources =
      live.length === 0 ? [] : ((await clients.cloudformation.send(new DescribeStackResourcesCommand({ StackName: stackName }))).StackResources ?? []);
    owned = resources.some((resource) => resource.PhysicalResourceId === tableName && resource.ResourceStatus !== 'DELETE_SKIPPED');
  } catch (error) {
    if (!/does not exist/.test((error as Error).message))
      return warn('table owner', `${tableName} was created by CloudFormation stack ${stackName}, which cannot be read (${awsError(error)})`);
    owned = false;
  }
  if (!owned)
    return ok(
      'messages table',
      `${tableName} exists, created by CloudFormation stack ${stackName}, which no longer holds it; CRUDDUR_ADOPT_TABLE=1 imports it`,
    );
  return blocker(
    'messages table',
    `${tableName} belongs to CloudFormation stack ${stackName}; importing it while the stack owns it puts it under two tools. Hand it over first: ` +
      `in the stack's template give the table DeletionPolicy: Retain and UpdateReplacePolicy: Retain and deploy that (sam deploy, or aws cloudformation update-stack), ` +
      `then aws cloudformation delete-stack --stack-name ${stackName} (the table stays; the stack's stream function goes); then deploy with CRUDDUR_TABLE_NAME=${tableName} CRUDDUR_ADOPT_TABLE=1 (docs/deploy.md, From the bootcamp's week 10)`,
  );
}

/**
 * More than two readers of a stream shard get throttled (DynamoDB developer guide,
 * "Change data capture for DynamoDB Streams"); each event source mapping is a reader, and
 * ours are the catalog's stream functions.
 */
async function checkStreamReaders(config: CruddurConfig, lambda: LambdaClient, streamArn: string): Promise<CheckResult> {
  const ours = new Set(STREAM_FUNCTIONS.map((definition) => `${config.namePrefix}-${definition.name}`));
  const functionOf = (mapping: EventSourceMappingConfiguration) => mapping.FunctionArn?.split(':function:')[1]?.split(':')[0] ?? '?';
  const mappings: EventSourceMappingConfiguration[] = [];
  try {
    for await (const page of paginateListEventSourceMappings({ client: lambda }, { EventSourceArn: streamArn }))
      mappings.push(...(page.EventSourceMappings ?? []));
  } catch (error) {
    return warn(
      'stream readers',
      `cannot list the mappings on ${streamArn} (${awsError(error)}; lambda:ListEventSourceMappings): check there are none besides ours`,
    );
  }
  const others = mappings.filter((mapping) => !ours.has(functionOf(mapping)));
  const reading = others.filter((mapping) => !['Disabled', 'Disabling', 'Deleting'].includes(mapping.State ?? ''));
  const readers = ours.size + reading.length;
  const named = (list: EventSourceMappingConfiguration[]) =>
    list.map((mapping) => `${functionOf(mapping)} (mapping ${mapping.UUID}, ${mapping.State})`).join(', ');
  if (readers > MAX_STREAM_READERS) {
    return blocker(
      'stream readers',
      `${named(reading)} already read${reading.length === 1 ? 's' : ''} the table's stream; with our ${ours.size} that makes ${readers} readers, and more than ${MAX_STREAM_READERS} per shard are throttled. ` +
        `Disable ${reading.length === 1 ? 'it' : 'them'} (${reading.map((mapping) => `aws lambda update-event-source-mapping --uuid ${mapping.UUID} --no-enabled`).join('; ')}), or delete ${reading.length === 1 ? 'its' : 'their'} stack: our message-stream does what the bootcamp's stream function did`,
    );
  }
  return ok(
    'stream readers',
    `${readers} reader(s) of the stream with ours${others.length > reading.length ? `; disabled: ${named(others.filter((mapping) => !reading.includes(mapping)))}` : ''}`,
  );
}

/** The first subnet (by id) of each zone: what an interface endpoint, and the stack, take. */
function onePerZone(subnets: Subnet[]): Subnet[] {
  const byZone = new Map<string, Subnet>();
  for (const subnet of [...subnets].sort((a, b) => String(a.SubnetId).localeCompare(String(b.SubnetId)))) {
    const zone = subnet.AvailabilityZoneId ?? subnet.AvailabilityZone ?? '';
    if (!byZone.has(zone)) byZone.set(zone, subnet);
  }
  return [...byZone.values()];
}

function describeSubnets(subnets: Subnet[]): string {
  return subnets.map((subnet) => `${subnet.SubnetId} (${subnet.AvailabilityZoneId ?? subnet.AvailabilityZone})`).join(', ');
}

/** The route tables the subnets use: their explicit ones, and the VPC's main one for any without. */
async function routeTablesOf(ec2: EC2Client, vpcId: string, subnetIds: string[]): Promise<string[]> {
  const explicit =
    (
      await ec2.send(
        new DescribeRouteTablesCommand({
          Filters: [
            { Name: 'vpc-id', Values: [vpcId] },
            { Name: 'association.subnet-id', Values: subnetIds },
          ],
        }),
      )
    ).RouteTables ?? [];
  const associated = new Set(explicit.flatMap((table) => (table.Associations ?? []).map((association) => association.SubnetId)));
  const ids = explicit.map((table) => table.RouteTableId!);
  if (subnetIds.some((id) => !associated.has(id))) {
    const main =
      (
        await ec2.send(
          new DescribeRouteTablesCommand({
            Filters: [
              { Name: 'vpc-id', Values: [vpcId] },
              { Name: 'association.main', Values: ['true'] },
            ],
          }),
        )
      ).RouteTables ?? [];
    ids.push(...main.map((table) => table.RouteTableId!));
  }
  return [...new Set(ids)].sort();
}

/** `[ok]`, `[warn]`, `[BLOCKER]` and the check, one line each. */
export function formatResult(result: CheckResult): string {
  const mark = result.status === 'ok' ? '[ok]     ' : result.status === 'warn' ? '[warn]   ' : '[BLOCKER]';
  return `${mark} ${result.check.padEnd(25)} ${result.detail}`;
}

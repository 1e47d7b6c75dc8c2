/**
 * Where the functions run and how they reach the users database, read from `CRUDDUR_*`
 * variables and checked before Terraform runs. Three shapes (docs/deploy.md draws them):
 *
 *  - `database-instance` (recommended): `CRUDDUR_DATABASE_INSTANCE` names the RDS instance;
 *    the network stack derives its VPC, subnets, route tables and security group from it.
 *  - `existing-vpc`: `CRUDDUR_VPC_ID`, `CRUDDUR_SUBNET_IDS`, `CRUDDUR_ROUTE_TABLE_IDS` spelled
 *    out, the database reached through its security group or a CIDR.
 *  - `new-vpc`: a VPC of our own, which reaches a database only through a route the user
 *    states (`CRUDDUR_DATABASE_CIDR`, optionally `CRUDDUR_DATABASE_ROUTE_TARGET`).
 *
 * Every combination that AWS would reject at apply time is refused here with the reason;
 * what only AWS knows (a subnet's zone, a VPC's DNS attributes) is checked by Terraform
 * conditions at plan time and by `npm run preflight`.
 */
import { canonical, isAligned, overlaps, parseIpv4Cidr, type Ipv4Block } from './cidr';
import { choice, fail, matching, value } from './read';

/** Create the VPC endpoint, or use the one the VPC already has (two cannot coexist). */
type EndpointChoice = 'create' | 'existing';

export interface EndpointChoices {
  /** The DynamoDB gateway endpoint; `existing` must already be associated with the functions' route tables. */
  dynamoDb: EndpointChoice;
  /** The Secrets Manager interface endpoint with private DNS. */
  secretsManager: EndpointChoice;
}

/** How the functions' traffic reaches PostgreSQL inside an adopted VPC. */
type DatabaseAccess =
  /** Egress to the group, and one ingress rule on it from the functions' group. */
  | { kind: 'security-group'; securityGroupId: string }
  /** Egress to the range only; the database's own rules must admit the functions. */
  | { kind: 'cidr'; cidr: string }
  /** Egress to the VPC's own range (nothing stated: synth only, deploy refuses it). */
  | { kind: 'vpc-cidr' };

export interface DatabaseInstanceNetwork {
  kind: 'database-instance';
  /** The RDS instance identifier, e.g. the bootcamp's `cruddur-db-instance`. */
  instanceId: string;
  endpoints: EndpointChoices;
  /** Zone IDs no function subnet may be in (Lambda does not run there). */
  excludedZoneIds: string[];
}

export interface ExistingVpcNetwork {
  kind: 'existing-vpc';
  vpcId: string;
  /** Subnets for the functions and the Secrets Manager endpoint: at most one per zone. */
  subnetIds: string[];
  /** Route tables of those subnets; the DynamoDB gateway endpoint is associated with them. */
  routeTableIds: string[];
  database: DatabaseAccess;
  endpoints: EndpointChoices;
  excludedZoneIds: string[];
}

export interface NewVpcNetwork {
  kind: 'new-vpc';
  vpcCidr: string;
  /** The range the database lives in, reached through peering or a transit gateway; absent: no route (deploy refuses). */
  database?: {
    cidr: string;
    /** `pcx-…` or `tgw-…`: the stack adds the route to it in each private route table. */
    routeTarget?: string;
  };
  excludedZoneIds: string[];
}

export type NetworkSettings = DatabaseInstanceNetwork | ExistingVpcNetwork | NewVpcNetwork;

/**
 * Zones where Lambda cannot place a function's network interfaces, by region. use1-az3 is
 * the one we know of (found in our deploy review); `CRUDDUR_EXCLUDED_ZONE_IDS` replaces the
 * list when AWS documents another.
 */
const LAMBDA_EXCLUDED_ZONE_IDS: Readonly<Record<string, readonly string[]>> = {
  'us-east-1': ['use1-az3'],
};

/** The functions' subnets are this many bits smaller than a new VPC (a /16 VPC gets /20 subnets). */
export const SUBNET_NEWBITS = 4;
/** EC2 accepts subnets from /16 to /28, so a new VPC may be /16 to /(28 - SUBNET_NEWBITS). */
const VPC_PREFIX = { min: 16, max: 28 - SUBNET_NEWBITS };

/** What deploy refuses with a new VPC that has no database route, and what to set instead. */
export const NO_DATABASE_ROUTE =
  'the functions would run in a new VPC with no route to the users database (every HTTP route would time out); ' +
  'set CRUDDUR_DATABASE_INSTANCE to the RDS instance identifier (the functions then run in its VPC), ' +
  'or CRUDDUR_VPC_ID, CRUDDUR_SUBNET_IDS, CRUDDUR_ROUTE_TABLE_IDS and CRUDDUR_DATABASE_SECURITY_GROUP_ID for its VPC, ' +
  'or CRUDDUR_DATABASE_CIDR for a database you connect to this VPC yourself';

/** What deploy refuses with an adopted VPC and no statement of how the database admits the functions. */
export const NO_DATABASE_ACCESS =
  'nothing says how the users database admits the functions; set CRUDDUR_DATABASE_SECURITY_GROUP_ID to its security group ' +
  '(the stack adds the 5432 rule), or CRUDDUR_DATABASE_CIDR to its range if its rules already admit this VPC';

const RDS_INSTANCE_ID = /^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,62}(?<!-)$/;
const ZONE_ID = /^[a-z]{2,5}\d-az\d{1,2}$/;
const AWS_ID = (prefix: string) => new RegExp(`^${prefix}-[0-9a-f]{8,17}$`);

function idList(env: NodeJS.ProcessEnv, name: string, prefix: string): string[] {
  const ids = (value(env, name) ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  for (const id of ids) matching(name, id, AWS_ID(prefix), `${prefix}-… ids separated by commas`);
  const repeated = ids.find((id, index) => ids.indexOf(id) !== index);
  if (repeated) fail(name, `"${repeated}" is listed twice`);
  return ids;
}

function cidr(name: string, text: string): Ipv4Block {
  const block = parseIpv4Cidr(text);
  if (!block) fail(name, `expected an IPv4 CIDR like 10.0.0.0/16, got "${text}"`);
  if (!isAligned(block)) fail(name, `"${text}" has host bits set; the network is ${canonical(block)}`);
  return block;
}

function endpointChoice(env: NodeJS.ProcessEnv, name: string): EndpointChoice {
  return choice<EndpointChoice>(env, name, ['create', 'existing']);
}

function excludedZones(env: NodeJS.ProcessEnv, region: string): string[] {
  const raw = value(env, 'CRUDDUR_EXCLUDED_ZONE_IDS');
  if (raw === undefined) return [...(LAMBDA_EXCLUDED_ZONE_IDS[region] ?? [])];
  if (raw === 'none') return [];
  return raw.split(',').map((zone) => matching('CRUDDUR_EXCLUDED_ZONE_IDS', zone.trim(), ZONE_ID, 'zone IDs like use1-az3 separated by commas, or none'));
}

/** The variables of `names` that are set, for "cannot be combined" messages. */
function setVariables(env: NodeJS.ProcessEnv, names: readonly string[]): string[] {
  return names.filter((name) => value(env, name) !== undefined);
}

function refuseWith(env: NodeJS.ProcessEnv, chosen: string, others: readonly string[], reason: string): void {
  const conflicting = setVariables(env, others);
  if (conflicting.length > 0) fail(chosen, `cannot be combined with ${conflicting.join(', ')}: ${reason}`);
}

/**
 * The network settings in `env`. `defaultVpcCidr` is the environment's new-VPC range.
 * @returns the settings, and the reason deploy must refuse them (no database route), if any.
 * @throws ConfigurationError for malformed values and for combinations AWS would reject.
 */
export function readNetwork(env: NodeJS.ProcessEnv, region: string, defaultVpcCidr: string): { network: NetworkSettings; deployRefusal?: string } {
  const excludedZoneIds = excludedZones(env, region);
  const endpoints = (): EndpointChoices => ({
    dynamoDb: endpointChoice(env, 'CRUDDUR_DYNAMODB_ENDPOINT'),
    secretsManager: endpointChoice(env, 'CRUDDUR_SECRETS_MANAGER_ENDPOINT'),
  });

  const instanceId = value(env, 'CRUDDUR_DATABASE_INSTANCE');
  if (instanceId !== undefined) {
    refuseWith(
      env,
      'CRUDDUR_DATABASE_INSTANCE',
      ['CRUDDUR_VPC_ID', 'CRUDDUR_SUBNET_IDS', 'CRUDDUR_ROUTE_TABLE_IDS', 'CRUDDUR_VPC_CIDR'],
      "the functions run in the instance's own VPC and subnets; use either the instance or an explicit VPC",
    );
    refuseWith(
      env,
      'CRUDDUR_DATABASE_INSTANCE',
      ['CRUDDUR_DATABASE_SECURITY_GROUP_ID', 'CRUDDUR_DATABASE_CIDR', 'CRUDDUR_DATABASE_ROUTE_TARGET'],
      "the instance's security group, port and network are read from the instance itself",
    );
    matching('CRUDDUR_DATABASE_INSTANCE', instanceId, RDS_INSTANCE_ID, 'an RDS DB instance identifier like cruddur-db-instance');
    return { network: { kind: 'database-instance', instanceId, endpoints: endpoints(), excludedZoneIds } };
  }

  const vpcId = value(env, 'CRUDDUR_VPC_ID');
  const subnetIds = idList(env, 'CRUDDUR_SUBNET_IDS', 'subnet');
  const routeTableIds = idList(env, 'CRUDDUR_ROUTE_TABLE_IDS', 'rtb');
  const securityGroupId = value(env, 'CRUDDUR_DATABASE_SECURITY_GROUP_ID');
  const databaseCidrText = value(env, 'CRUDDUR_DATABASE_CIDR');
  const databaseCidr = databaseCidrText === undefined ? undefined : cidr('CRUDDUR_DATABASE_CIDR', databaseCidrText);
  if (securityGroupId) matching('CRUDDUR_DATABASE_SECURITY_GROUP_ID', securityGroupId, AWS_ID('sg'), 'sg-…');

  if (vpcId !== undefined || subnetIds.length > 0 || routeTableIds.length > 0) {
    if (!vpcId || subnetIds.length === 0 || routeTableIds.length === 0) {
      fail('CRUDDUR_VPC_ID', 'an existing VPC needs CRUDDUR_VPC_ID, CRUDDUR_SUBNET_IDS and CRUDDUR_ROUTE_TABLE_IDS together');
    }
    matching('CRUDDUR_VPC_ID', vpcId, AWS_ID('vpc'), 'vpc-…');
    refuseWith(env, 'CRUDDUR_VPC_ID', ['CRUDDUR_VPC_CIDR'], 'CRUDDUR_VPC_CIDR is the range of a VPC the stack creates');
    refuseWith(env, 'CRUDDUR_VPC_ID', ['CRUDDUR_DATABASE_ROUTE_TARGET'], 'the routes of an existing VPC are yours to manage; the stack adds none');
    if (securityGroupId && databaseCidr) {
      fail(
        'CRUDDUR_DATABASE_SECURITY_GROUP_ID',
        'cannot be combined with CRUDDUR_DATABASE_CIDR: name the database either by its security group or by its range',
      );
    }
    const database: DatabaseAccess = securityGroupId
      ? { kind: 'security-group', securityGroupId }
      : databaseCidr
        ? { kind: 'cidr', cidr: databaseCidr.text }
        : { kind: 'vpc-cidr' };
    return {
      network: { kind: 'existing-vpc', vpcId, subnetIds, routeTableIds, database, endpoints: endpoints(), excludedZoneIds },
      ...(database.kind === 'vpc-cidr' ? { deployRefusal: `CRUDDUR_VPC_ID: ${NO_DATABASE_ACCESS}` } : {}),
    };
  }

  // A VPC of our own.
  if (securityGroupId) {
    fail(
      'CRUDDUR_DATABASE_SECURITY_GROUP_ID',
      "a new VPC cannot reference the database's security group (it is in another, unpeered VPC: " +
        "AWS answers InvalidGroup.NotFound); set CRUDDUR_DATABASE_INSTANCE to run the functions in the database's VPC, " +
        'or CRUDDUR_DATABASE_CIDR for a database you connect to the new VPC',
    );
  }
  for (const name of ['CRUDDUR_DYNAMODB_ENDPOINT', 'CRUDDUR_SECRETS_MANAGER_ENDPOINT']) {
    if (endpointChoice(env, name) === 'existing') fail(name, 'a new VPC has no endpoints to reuse; "existing" applies to an adopted VPC only');
  }
  const vpcCidr = cidr('CRUDDUR_VPC_CIDR', value(env, 'CRUDDUR_VPC_CIDR') ?? defaultVpcCidr);
  if (vpcCidr.prefix < VPC_PREFIX.min || vpcCidr.prefix > VPC_PREFIX.max) {
    fail(
      'CRUDDUR_VPC_CIDR',
      `the VPC must be /${VPC_PREFIX.min} to /${VPC_PREFIX.max}: its subnets are ${SUBNET_NEWBITS} bits smaller ` +
        `and EC2 accepts subnets from /16 to /28; got /${vpcCidr.prefix}`,
    );
  }
  const routeTarget = value(env, 'CRUDDUR_DATABASE_ROUTE_TARGET');
  if (routeTarget !== undefined) {
    if (!databaseCidr) fail('CRUDDUR_DATABASE_ROUTE_TARGET', 'needs CRUDDUR_DATABASE_CIDR, the destination of the route');
    matching('CRUDDUR_DATABASE_ROUTE_TARGET', routeTarget, /^(pcx|tgw)-[0-9a-f]{8,17}$/, 'a VPC peering connection (pcx-…) or transit gateway (tgw-…) id');
  }
  if (!databaseCidr)
    return { network: { kind: 'new-vpc', vpcCidr: vpcCidr.text, excludedZoneIds }, deployRefusal: `CRUDDUR_DATABASE_INSTANCE: ${NO_DATABASE_ROUTE}` };
  if (overlaps(vpcCidr, databaseCidr)) {
    fail(
      'CRUDDUR_DATABASE_CIDR',
      `${databaseCidr.text} overlaps the new VPC's ${vpcCidr.text}; peering and transit gateways need distinct ranges (change CRUDDUR_VPC_CIDR)`,
    );
  }
  return {
    network: {
      kind: 'new-vpc',
      vpcCidr: vpcCidr.text,
      database: { cidr: databaseCidr.text, ...(routeTarget ? { routeTarget } : {}) },
      excludedZoneIds,
    },
  };
}

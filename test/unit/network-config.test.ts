/**
 * The network settings: the three shapes `loadConfig` accepts, and every combination it
 * refuses before Terraform runs, each with the message a user sees.
 */
import { ConfigurationError } from '../../functions/errors';
import { loadConfig } from '../../infrastructure/config';
import { canonical, isAligned, overlaps, parseIpv4Cidr } from '../../infrastructure/config/cidr';
import { NO_DATABASE_ACCESS, NO_DATABASE_ROUTE } from '../../infrastructure/config/network';

const ACCOUNT = {
  CRUDDUR_COGNITO_USER_POOL_ID: 'us-east-1_AbC123xyZ',
  CRUDDUR_COGNITO_CLIENT_ID: '1example23456789abcdefghij',
  CRUDDUR_DATABASE_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:cruddur/dev/database-Ab12Cd',
};
const EXISTING_VPC = {
  CRUDDUR_VPC_ID: 'vpc-0123456789abcdef0',
  CRUDDUR_SUBNET_IDS: 'subnet-0123456789abcdef0,subnet-0123456789abcdef1',
  CRUDDUR_ROUTE_TABLE_IDS: 'rtb-0123456789abcdef0',
};
const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

describe('network settings that synthesize', () => {
  it('names the database instance: everything else is derived from it', () => {
    expect(loadConfig({ ...ACCOUNT, CRUDDUR_DATABASE_INSTANCE: 'cruddur-db-instance', CRUDDUR_STRICT_CONFIG: '1' }).network).toEqual({
      kind: 'database-instance',
      instanceId: 'cruddur-db-instance',
      endpoints: { dynamoDb: 'create', secretsManager: 'create' },
      excludedZoneIds: ['use1-az3'],
    });
  });

  it('spells out an existing VPC with the database security group, reusing the VPC endpoints it already has', () => {
    const config = loadConfig({
      ...ACCOUNT,
      ...EXISTING_VPC,
      CRUDDUR_DATABASE_SECURITY_GROUP_ID: 'sg-0123456789abcdef9',
      CRUDDUR_DYNAMODB_ENDPOINT: 'existing',
      CRUDDUR_SECRETS_MANAGER_ENDPOINT: 'existing',
      CRUDDUR_STRICT_CONFIG: '1',
    });
    expect(config.network).toMatchObject({
      kind: 'existing-vpc',
      database: { kind: 'security-group', securityGroupId: 'sg-0123456789abcdef9' },
      endpoints: { dynamoDb: 'existing', secretsManager: 'existing' },
    });
  });

  it('reaches a database in an existing VPC by its range when its rules already admit the VPC', () => {
    const config = loadConfig({ ...ACCOUNT, ...EXISTING_VPC, CRUDDUR_DATABASE_CIDR: '172.31.0.0/16', CRUDDUR_STRICT_CONFIG: '1' });
    expect(config.network).toMatchObject({ kind: 'existing-vpc', database: { kind: 'cidr', cidr: '172.31.0.0/16' } });
  });

  it('creates a VPC with a stated database route (a peering connection or transit gateway)', () => {
    const config = loadConfig({
      ...ACCOUNT,
      CRUDDUR_DATABASE_CIDR: '172.31.0.0/16',
      CRUDDUR_DATABASE_ROUTE_TARGET: 'pcx-0123456789abcdef0',
      CRUDDUR_VPC_CIDR: '10.70.0.0/20',
      CRUDDUR_STRICT_CONFIG: '1',
    });
    expect(config.network).toEqual({
      kind: 'new-vpc',
      vpcCidr: '10.70.0.0/20',
      database: { cidr: '172.31.0.0/16', routeTarget: 'pcx-0123456789abcdef0' },
      excludedZoneIds: ['use1-az3'],
    });
  });

  it('excludes no zone outside us-east-1 unless told, and takes CRUDDUR_EXCLUDED_ZONE_IDS (or none) over the built-in list', () => {
    const euSecret = ACCOUNT.CRUDDUR_DATABASE_SECRET_ARN.replace('us-east-1', 'eu-west-1');
    expect(loadConfig({ CRUDDUR_AWS_REGION: 'eu-west-1', CRUDDUR_DATABASE_SECRET_ARN: euSecret }).network.excludedZoneIds).toEqual([]);
    expect(loadConfig({ CRUDDUR_EXCLUDED_ZONE_IDS: 'use1-az3, use1-az5' }).network.excludedZoneIds).toEqual(['use1-az3', 'use1-az5']);
    expect(loadConfig({ CRUDDUR_EXCLUDED_ZONE_IDS: 'none' }).network.excludedZoneIds).toEqual([]);
  });

  it('takes a customer-managed key of the secret', () => {
    expect(loadConfig({ ...ACCOUNT, CRUDDUR_DATABASE_SECRET_KMS_KEY_ARN: KEY_ARN }).database.secretKmsKeyArn).toBe(KEY_ARN);
  });

  it('synthesizes a new VPC without a database route, but names it among the reasons deploy refuses', () => {
    const config = loadConfig({ ...ACCOUNT });
    expect(config.network).toEqual({ kind: 'new-vpc', vpcCidr: '10.50.0.0/16', excludedZoneIds: ['use1-az3'] });
    expect(config.deployRefusals).toEqual([`CRUDDUR_DATABASE_INSTANCE: ${NO_DATABASE_ROUTE}`]);
  });
});

describe('network settings that are refused, each with its reason', () => {
  it.each<[string, Record<string, string>, RegExp]>([
    [
      'a new VPC with the database security group (InvalidGroup.NotFound at apply)',
      { CRUDDUR_DATABASE_SECURITY_GROUP_ID: 'sg-0123456789abcdef9' },
      /^CRUDDUR_DATABASE_SECURITY_GROUP_ID: a new VPC cannot reference .*InvalidGroup\.NotFound/,
    ],
    ['a /26 VPC (its subnets would be /30)', { CRUDDUR_VPC_CIDR: '10.0.0.0/26' }, /^CRUDDUR_VPC_CIDR: the VPC must be \/16 to \/24.*got \/26/],
    ['a /28 VPC', { CRUDDUR_VPC_CIDR: '10.0.0.0/28' }, /got \/28/],
    ['a /25 VPC', { CRUDDUR_VPC_CIDR: '10.0.0.0/25' }, /got \/25/],
    ['a /8 VPC', { CRUDDUR_VPC_CIDR: '10.0.0.0/8' }, /got \/8/],
    ['a VPC range with host bits set', { CRUDDUR_VPC_CIDR: '10.50.1.0/16' }, /has host bits set; the network is 10\.50\.0\.0\/16/],
    ['a VPC range that is not a CIDR', { CRUDDUR_VPC_CIDR: '10.500.0.0/16' }, /^CRUDDUR_VPC_CIDR: expected an IPv4 CIDR/],
    ['a database range overlapping the new VPC', { CRUDDUR_DATABASE_CIDR: '10.50.128.0/24' }, /overlaps the new VPC's 10\.50\.0\.0\/16/],
    [
      'a route target without the database range',
      { CRUDDUR_DATABASE_ROUTE_TARGET: 'pcx-0123456789abcdef0' },
      /^CRUDDUR_DATABASE_ROUTE_TARGET: needs CRUDDUR_DATABASE_CIDR/,
    ],
    [
      'a route target that is neither peering nor transit gateway',
      { CRUDDUR_DATABASE_CIDR: '172.31.0.0/16', CRUDDUR_DATABASE_ROUTE_TARGET: 'igw-0123456789abcdef0' },
      /peering connection \(pcx-…\) or transit gateway \(tgw-…\) id, got "igw-/,
    ],
    ['an endpoint to reuse in a VPC we create', { CRUDDUR_DYNAMODB_ENDPOINT: 'existing' }, /^CRUDDUR_DYNAMODB_ENDPOINT: a new VPC has no endpoints to reuse/],
    ['an endpoint choice that is neither create nor existing', { CRUDDUR_SECRETS_MANAGER_ENDPOINT: 'reuse' }, /expected create or existing, got "reuse"/],
    [
      'the database instance together with an explicit VPC',
      { CRUDDUR_DATABASE_INSTANCE: 'cruddur-db-instance', ...EXISTING_VPC },
      /^CRUDDUR_DATABASE_INSTANCE: cannot be combined with CRUDDUR_VPC_ID, CRUDDUR_SUBNET_IDS, CRUDDUR_ROUTE_TABLE_IDS/,
    ],
    [
      'the database instance together with a VPC range',
      { CRUDDUR_DATABASE_INSTANCE: 'cruddur-db-instance', CRUDDUR_VPC_CIDR: '10.0.0.0/16' },
      /cannot be combined with CRUDDUR_VPC_CIDR/,
    ],
    [
      'the database instance together with its security group',
      { CRUDDUR_DATABASE_INSTANCE: 'cruddur-db-instance', CRUDDUR_DATABASE_SECURITY_GROUP_ID: 'sg-0123456789abcdef9' },
      /read from the instance itself/,
    ],
    ['a database instance identifier RDS would reject', { CRUDDUR_DATABASE_INSTANCE: 'cruddur--db' }, /expected an RDS DB instance identifier/],
    ['a partial existing VPC', { CRUDDUR_VPC_ID: 'vpc-0123456789abcdef0' }, /CRUDDUR_SUBNET_IDS and CRUDDUR_ROUTE_TABLE_IDS together/],
    ['a malformed subnet id', { ...EXISTING_VPC, CRUDDUR_SUBNET_IDS: 'subnet-1' }, /^CRUDDUR_SUBNET_IDS: expected subnet-…/],
    ['a subnet listed twice', { ...EXISTING_VPC, CRUDDUR_SUBNET_IDS: 'subnet-0123456789abcdef0,subnet-0123456789abcdef0' }, /listed twice/],
    [
      'an existing VPC with a range for a new one',
      { ...EXISTING_VPC, CRUDDUR_VPC_CIDR: '10.0.0.0/16' },
      /^CRUDDUR_VPC_ID: cannot be combined with CRUDDUR_VPC_CIDR/,
    ],
    [
      'an existing VPC with a route target',
      { ...EXISTING_VPC, CRUDDUR_DATABASE_CIDR: '10.9.0.0/16', CRUDDUR_DATABASE_ROUTE_TARGET: 'pcx-0123456789abcdef0' },
      /routes of an existing VPC are yours/,
    ],
    [
      'an existing VPC with both a security group and a range for the database',
      { ...EXISTING_VPC, CRUDDUR_DATABASE_SECURITY_GROUP_ID: 'sg-0123456789abcdef9', CRUDDUR_DATABASE_CIDR: '10.9.0.0/16' },
      /either by its security group or by its range/,
    ],
    ['a zone id that is not one', { CRUDDUR_EXCLUDED_ZONE_IDS: 'us-east-1a' }, /^CRUDDUR_EXCLUDED_ZONE_IDS: expected zone IDs like use1-az3/],
    [
      'a secret in another region (the VPC endpoint serves its own region only)',
      { CRUDDUR_DATABASE_SECRET_ARN: ACCOUNT.CRUDDUR_DATABASE_SECRET_ARN.replace('us-east-1', 'us-west-2') },
      /the secret is in us-west-2 but the stacks deploy to us-east-1/,
    ],
    ['a KMS alias instead of a key', { CRUDDUR_DATABASE_SECRET_KMS_KEY_ARN: 'arn:aws:kms:us-east-1:123456789012:alias/cruddur' }, /not an alias/],
    ['a KMS key of another region', { CRUDDUR_DATABASE_SECRET_KMS_KEY_ARN: KEY_ARN.replace('us-east-1', 'eu-west-1') }, /the key is in eu-west-1/],
  ])('refuses %s', (_name, env, message) => {
    const load = () => loadConfig({ ...ACCOUNT, ...env });
    expect(load).toThrow(ConfigurationError);
    expect(load).toThrow(message);
  });

  it('refuses to deploy a new VPC without a database route, naming what to set', () => {
    expect(() => loadConfig({ ...ACCOUNT, CRUDDUR_STRICT_CONFIG: '1' })).toThrow(
      'Refusing to deploy the dev environment: CRUDDUR_DATABASE_INSTANCE: the functions would run in a new VPC with no route to the users database',
    );
    expect(() => loadConfig({ ...ACCOUNT, CRUDDUR_STRICT_CONFIG: '1' })).toThrow(/set CRUDDUR_DATABASE_INSTANCE .* or CRUDDUR_DATABASE_CIDR/);
  });

  it('refuses to deploy an existing VPC that says nothing of how the database admits the functions', () => {
    expect(() => loadConfig({ ...ACCOUNT, ...EXISTING_VPC, CRUDDUR_STRICT_CONFIG: '1' })).toThrow(`CRUDDUR_VPC_ID: ${NO_DATABASE_ACCESS}`);
  });

  it('lists every reason at once: example values and the missing route', () => {
    expect(() => loadConfig({ CRUDDUR_STRICT_CONFIG: '1' })).toThrow(
      /example values in use; set CRUDDUR_COGNITO_USER_POOL_ID.*; CRUDDUR_DATABASE_INSTANCE: the functions would run in a new VPC/,
    );
  });
});

describe('IPv4 ranges', () => {
  it('parses, aligns and compares blocks', () => {
    const vpc = parseIpv4Cidr('10.50.0.0/16')!;
    expect(isAligned(vpc)).toBe(true);
    expect(isAligned(parseIpv4Cidr('10.50.0.1/16')!)).toBe(false);
    expect(canonical(parseIpv4Cidr('10.50.7.9/16')!)).toBe('10.50.0.0/16');
    expect(overlaps(vpc, parseIpv4Cidr('10.50.255.0/24')!)).toBe(true);
    expect(overlaps(vpc, parseIpv4Cidr('10.51.0.0/24')!)).toBe(false);
    expect(overlaps(parseIpv4Cidr('10.0.0.0/8')!, vpc)).toBe(true);
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '256.0.0.0/16', '10.0.0/16', '010.0.0.0/16', '10.0.0.0/16/1', 'a.b.c.d/16']) {
      expect(parseIpv4Cidr(bad)).toBeUndefined();
    }
  });
});

/**
 * The deploy shapes docs/deploy.md supports, each with the settings that select it and a fake
 * account (the stand-in fixture of test/support/terraform-standins.ts) to deploy it into; and
 * the stacks of a configuration as `npm run synth` writes them. Shared by the tests that
 * judge the synthesized stacks as a whole: the plan, the deployer policy, the costs.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { buildStacks } from '../../infrastructure/app';
import { loadConfig } from '../../infrastructure/config';
import { TEST_ACCOUNT_ENV, Testing } from '../../infrastructure/testing';
import { sharedBundles } from './bundles';
import type { StandinFixture, StandinStack } from './terraform-standins';

const VPC = 'vpc-0aaa1111bbbb2222c';
export const MAIN_ROUTE_TABLE = 'rtb-0aaa1111bbbb0000e';

/** A bootcamp-like account: the default VPC, three subnets (one in use1-az3), one with its own route table, the RDS instance. */
export function account(overrides: Partial<StandinFixture> = {}): StandinFixture {
  const subnet = (id: string, zone: string) => ({
    id,
    vpc_id: VPC,
    availability_zone_id: zone,
    availability_zone: `us-east-1${zone.slice(-1)}`,
    cidr_block: '172.31.0.0/20',
  });
  const association = (subnetId: string, main = false) => ({
    subnet_id: subnetId,
    main,
    gateway_id: '',
    route_table_association_id: `rtbassoc-${subnetId.slice(-4)}`,
  });
  return {
    region: 'us-east-1',
    zones: ['use1-az1', 'use1-az2', 'use1-az3', 'use1-az4'].map((zone_id, index) => ({ zone_id, name: `us-east-1${'abcd'[index]}` })),
    vpcs: {
      [VPC]: {
        id: VPC,
        cidr_block: '172.31.0.0/16',
        cidr_block_associations: [
          { association_id: 'vpc-cidr-assoc-0aaa', cidr_block: '172.31.0.0/16', state: 'associated' },
          { association_id: 'vpc-cidr-assoc-0bbb', cidr_block: '100.64.0.0/24', state: 'associated' },
        ],
        enable_dns_support: true,
        enable_dns_hostnames: true,
        main_route_table_id: MAIN_ROUTE_TABLE,
      },
    },
    subnets: {
      'subnet-0aaa1111bbbb0001a': subnet('subnet-0aaa1111bbbb0001a', 'use1-az1'),
      'subnet-0aaa1111bbbb0002b': subnet('subnet-0aaa1111bbbb0002b', 'use1-az2'),
      'subnet-0aaa1111bbbb0003c': subnet('subnet-0aaa1111bbbb0003c', 'use1-az3'),
    },
    route_tables: {
      [MAIN_ROUTE_TABLE]: { id: MAIN_ROUTE_TABLE, route_table_id: MAIN_ROUTE_TABLE, vpc_id: VPC, associations: [association('', true)] },
      'rtb-0aaa1111bbbb0001a': {
        id: 'rtb-0aaa1111bbbb0001a',
        route_table_id: 'rtb-0aaa1111bbbb0001a',
        vpc_id: VPC,
        associations: [association('subnet-0aaa1111bbbb0001a')],
      },
    },
    db_instances: {
      'cruddur-db-instance': { db_subnet_group: 'default-vpc', vpc_security_groups: ['sg-0aaa1111bbbb2222d'], port: 5432 },
    },
    db_subnet_groups: {
      'default-vpc': { name: 'default-vpc', vpc_id: VPC, subnet_ids: ['subnet-0aaa1111bbbb0001a', 'subnet-0aaa1111bbbb0002b', 'subnet-0aaa1111bbbb0003c'] },
    },
    vpc_endpoints: [],
    ...overrides,
  };
}

export const EXPLICIT_VPC = {
  CRUDDUR_VPC_ID: VPC,
  CRUDDUR_SUBNET_IDS: 'subnet-0aaa1111bbbb0001a,subnet-0aaa1111bbbb0002b',
  CRUDDUR_ROUTE_TABLE_IDS: `rtb-0aaa1111bbbb0001a,${MAIN_ROUTE_TABLE}`,
};

/** The VPC's own endpoints, for the shape that reuses them. */
export const EXISTING_ENDPOINTS: StandinFixture['vpc_endpoints'] = [
  {
    id: 'vpce-0aaa1111bbbb0001d',
    vpc_id: VPC,
    service_name: 'com.amazonaws.us-east-1.dynamodb',
    vpc_endpoint_type: 'Gateway',
    route_table_ids: ['rtb-0aaa1111bbbb0001a', MAIN_ROUTE_TABLE],
    prefix_list_id: 'pl-02cd2c6b',
    security_group_ids: [],
    private_dns_enabled: false,
  },
  {
    id: 'vpce-0aaa1111bbbb0002s',
    vpc_id: VPC,
    service_name: 'com.amazonaws.us-east-1.secretsmanager',
    vpc_endpoint_type: 'Interface',
    route_table_ids: [],
    prefix_list_id: '',
    security_group_ids: ['sg-0aaa1111bbbb3333e'],
    private_dns_enabled: true,
  },
];

/** Every shape docs/deploy.md supports, with the account it deploys into. */
export const SHAPES: { shape: string; env: Record<string, string>; fixture: StandinFixture }[] = [
  { shape: "the database instance's VPC", env: { CRUDDUR_DATABASE_INSTANCE: 'cruddur-db-instance' }, fixture: account() },
  {
    shape: "the database instance's VPC, adopting the table",
    env: { CRUDDUR_DATABASE_INSTANCE: 'cruddur-db-instance', CRUDDUR_ADOPT_TABLE: '1' },
    fixture: account(),
  },
  {
    shape: "an explicit VPC and the database's security group",
    env: { ...EXPLICIT_VPC, CRUDDUR_DATABASE_SECURITY_GROUP_ID: 'sg-0aaa1111bbbb2222d' },
    fixture: account(),
  },
  {
    shape: 'an explicit VPC reusing its endpoints, the database by range',
    env: { ...EXPLICIT_VPC, CRUDDUR_DATABASE_CIDR: '172.31.128.0/20', CRUDDUR_DYNAMODB_ENDPOINT: 'existing', CRUDDUR_SECRETS_MANAGER_ENDPOINT: 'existing' },
    fixture: account({ vpc_endpoints: EXISTING_ENDPOINTS }),
  },
  {
    shape: 'a new VPC peered with the database',
    env: { CRUDDUR_DATABASE_CIDR: '172.31.0.0/16', CRUDDUR_DATABASE_ROUTE_TARGET: 'pcx-0aaa1111bbbb2222f' },
    fixture: account(),
  },
  {
    shape: "prod, provisioned like the bootcamp's table, WebSocket access logs through a role the stack creates",
    env: {
      CRUDDUR_ENV: 'prod',
      CRUDDUR_FRONTEND_ORIGINS: 'https://example.org,https://www.example.org',
      CRUDDUR_DATABASE_INSTANCE: 'cruddur-db-instance',
      CRUDDUR_BILLING_MODE: 'PROVISIONED',
      CRUDDUR_WEBSOCKET_ACCESS_LOGS: 'create-role',
    },
    fixture: account(),
  },
];

/** The stacks of one configuration as `npm run synth` writes them, dependencies first. */
export function synthesize(env: Record<string, string>): StandinStack[] {
  const app = Testing.app();
  buildStacks(app, loadConfig({ ...TEST_ACCOUNT_ENV, ...env }), sharedBundles().bundles);
  app.synth();
  const manifest = JSON.parse(readFileSync(path.join(app.outdir, 'manifest.json'), 'utf8')) as {
    stacks: Record<string, { dependencies: string[]; synthesizedStackPath: string }>;
  };
  const ordered: string[] = [];
  const visit = (name: string) => {
    if (ordered.includes(name)) return;
    for (const dependency of manifest.stacks[name]!.dependencies) visit(dependency);
    ordered.push(name);
  };
  Object.keys(manifest.stacks).sort().forEach(visit);
  const stacks = ordered.map((name) => ({
    name,
    config: JSON.parse(readFileSync(path.join(app.outdir, manifest.stacks[name]!.synthesizedStackPath), 'utf8')),
  }));
  rmSync(app.outdir, { recursive: true, force: true });
  return stacks;
}

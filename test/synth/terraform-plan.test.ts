/**
 * Terraform's own judgement of every supported deploy shape (docs/deploy.md): the three
 * stacks, synthesized as `npm run synth` does, planned and applied in dependency order over
 * stand-ins (test/support/terraform-standins.ts). A `for_each` over ids created in the same
 * plan, a reference that does not resolve, a cycle or a condition the fixture's account breaks
 * fails here as it would fail `npm run deploy`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildStacks } from '../../infrastructure/app';
import { loadConfig } from '../../infrastructure/config';
import { TEST_ACCOUNT_ENV, Testing } from '../../infrastructure/testing';
import { sharedBundles } from '../support/bundles';
import { planAndApply, TerraformStandinError, type StandinFixture, type StandinRun, type StandinStack } from '../support/terraform-standins';

const terraform = spawnSync('terraform', ['version'], { env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', CHECKPOINT_DISABLE: '1' } });
const terraformMissing = terraform.error !== undefined || terraform.status !== 0;
if (terraformMissing) {
  const reason = 'terraform is not on the PATH: the plan test needs Terraform >= 1.5 (docs/deploy.md, Prerequisites)';
  // CI has Terraform (npm run deploy needs it too): there its absence is a failure, not a skip.
  if (process.env.CI) throw new Error(reason);
  console.warn(`skipped: ${reason}`);
}
const describeWithTerraform = terraformMissing ? describe.skip : describe;

const VPC = 'vpc-0aaa1111bbbb2222c';
const MAIN_ROUTE_TABLE = 'rtb-0aaa1111bbbb0000e';

/** A bootcamp-like account: the default VPC, three subnets (one in use1-az3), one with its own route table, the RDS instance. */
function account(overrides: Partial<StandinFixture> = {}): StandinFixture {
  const subnet = (id: string, zone: string) => ({ id, vpc_id: VPC, availability_zone_id: zone, availability_zone: `us-east-1${zone.slice(-1)}`, cidr_block: '172.31.0.0/20' });
  const association = (subnetId: string, main = false) => ({ subnet_id: subnetId, main, gateway_id: '', route_table_association_id: `rtbassoc-${subnetId.slice(-4)}` });
  return {
    region: 'us-east-1',
    zones: ['use1-az1', 'use1-az2', 'use1-az3', 'use1-az4'].map((zone_id, index) => ({ zone_id, name: `us-east-1${'abcd'[index]}` })),
    vpcs: {
      [VPC]: {
        id: VPC,
        cidr_block: '172.31.0.0/16',
        cidr_block_associations: [{ association_id: 'vpc-cidr-assoc-0aaa', cidr_block: '172.31.0.0/16', state: 'associated' }, { association_id: 'vpc-cidr-assoc-0bbb', cidr_block: '100.64.0.0/24', state: 'associated' }],
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
      'rtb-0aaa1111bbbb0001a': { id: 'rtb-0aaa1111bbbb0001a', route_table_id: 'rtb-0aaa1111bbbb0001a', vpc_id: VPC, associations: [association('subnet-0aaa1111bbbb0001a')] },
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

const EXPLICIT_VPC = {
  CRUDDUR_VPC_ID: VPC,
  CRUDDUR_SUBNET_IDS: 'subnet-0aaa1111bbbb0001a,subnet-0aaa1111bbbb0002b',
  CRUDDUR_ROUTE_TABLE_IDS: `rtb-0aaa1111bbbb0001a,${MAIN_ROUTE_TABLE}`,
};

/** The VPC's own endpoints, for the shape that reuses them. */
const EXISTING_ENDPOINTS: StandinFixture['vpc_endpoints'] = [
  { id: 'vpce-0aaa1111bbbb0001d', vpc_id: VPC, service_name: 'com.amazonaws.us-east-1.dynamodb', vpc_endpoint_type: 'Gateway', route_table_ids: ['rtb-0aaa1111bbbb0001a', MAIN_ROUTE_TABLE], prefix_list_id: 'pl-02cd2c6b', security_group_ids: [], private_dns_enabled: false },
  { id: 'vpce-0aaa1111bbbb0002s', vpc_id: VPC, service_name: 'com.amazonaws.us-east-1.secretsmanager', vpc_endpoint_type: 'Interface', route_table_ids: [], prefix_list_id: '', security_group_ids: ['sg-0aaa1111bbbb3333e'], private_dns_enabled: true },
];

/** Every shape docs/deploy.md supports, with the account it deploys into. */
const SHAPES: { shape: string; env: Record<string, string>; fixture: StandinFixture }[] = [
  { shape: 'the database instance\'s VPC', env: { CRUDDUR_DATABASE_INSTANCE: 'cruddur-db-instance' }, fixture: account() },
  { shape: 'the database instance\'s VPC, adopting the table', env: { CRUDDUR_DATABASE_INSTANCE: 'cruddur-db-instance', CRUDDUR_ADOPT_TABLE: '1' }, fixture: account() },
  { shape: 'an explicit VPC and the database\'s security group', env: { ...EXPLICIT_VPC, CRUDDUR_DATABASE_SECURITY_GROUP_ID: 'sg-0aaa1111bbbb2222d' }, fixture: account() },
  {
    shape: 'an explicit VPC reusing its endpoints, the database by range',
    env: { ...EXPLICIT_VPC, CRUDDUR_DATABASE_CIDR: '172.31.128.0/20', CRUDDUR_DYNAMODB_ENDPOINT: 'existing', CRUDDUR_SECRETS_MANAGER_ENDPOINT: 'existing' },
    fixture: account({ vpc_endpoints: EXISTING_ENDPOINTS }),
  },
  { shape: 'a new VPC peered with the database', env: { CRUDDUR_DATABASE_CIDR: '172.31.0.0/16', CRUDDUR_DATABASE_ROUTE_TARGET: 'pcx-0aaa1111bbbb2222f' }, fixture: account() },
  {
    shape: 'prod, provisioned like the bootcamp\'s table, WebSocket access logs through a role the stack creates',
    env: { CRUDDUR_ENV: 'prod', CRUDDUR_FRONTEND_ORIGINS: 'https://example.org,https://www.example.org', CRUDDUR_DATABASE_INSTANCE: 'cruddur-db-instance', CRUDDUR_BILLING_MODE: 'PROVISIONED', CRUDDUR_WEBSOCKET_ACCESS_LOGS: 'create-role' },
    fixture: account(),
  },
];

let directory: string;
beforeAll(() => {
  directory = mkdtempSync(path.join(os.tmpdir(), 'cruddur-plan-'));
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** The stacks of one configuration as `npm run synth` writes them, dependencies first. */
function synthesize(env: Record<string, string>): StandinStack[] {
  const app = Testing.app();
  buildStacks(app, loadConfig({ ...TEST_ACCOUNT_ENV, ...env }), sharedBundles().bundles);
  app.synth();
  const manifest = JSON.parse(readFileSync(path.join(app.outdir, 'manifest.json'), 'utf8')) as { stacks: Record<string, { dependencies: string[]; synthesizedStackPath: string }> };
  const ordered: string[] = [];
  const visit = (name: string) => {
    if (ordered.includes(name)) return;
    for (const dependency of manifest.stacks[name]!.dependencies) visit(dependency);
    ordered.push(name);
  };
  Object.keys(manifest.stacks).sort().forEach(visit);
  const stacks = ordered.map((name) => ({ name, config: JSON.parse(readFileSync(path.join(app.outdir, manifest.stacks[name]!.synthesizedStackPath), 'utf8')) }));
  rmSync(app.outdir, { recursive: true, force: true });
  return stacks;
}

/** Terraform wraps long messages: compare them as one line. */
const oneLine = (text: string) => text.replace(/\s+/g, ' ');

let deployments = 0;
async function deploy(env: Record<string, string>, fixture: StandinFixture): Promise<StandinRun> {
  deployments += 1;
  return planAndApply(synthesize(env), fixture, path.join(directory, String(deployments)));
}

describeWithTerraform('terraform plan and apply over stand-ins', () => {
  /** Each shape's run (or its failure), started together: Terraform mostly waits on itself. */
  const runs = new Map<string, Promise<StandinRun>>();
  const runOf = (shape: string) => runs.get(shape)!;
  beforeAll(() => {
    for (const { shape, env, fixture } of SHAPES) {
      const run = deploy(env, fixture);
      run.catch(() => undefined); // reported by the test that awaits it
      runs.set(shape, run);
    }
  });

  it.each(SHAPES)('$shape: every stack plans with known for_each keys and applies in order', async ({ shape, env }) => {
    const run = await runOf(shape);
    const prefix = `cruddur-${env.CRUDDUR_ENV ?? 'dev'}`;
    expect(Object.keys(run.plans).sort()).toEqual([`${prefix}-app`, `${prefix}-lambdas`, `${prefix}-network`]);
    expect(Object.keys(run.plans).at(-1)).toBe(`${prefix}-lambdas`);
    // The lambdas stack read the other two through remote state: its outputs are the APIs'.
    expect(run.outputs[`${prefix}-lambdas`]!.api_url).toMatch(/^https:\/\/\w+\.execute-api\.us-east-1\.amazonaws\.com$/);
    expect(run.outputs[`${prefix}-app`]!.table_name).toBe('cruddur-messages');
  });

  it('imports the existing table when adopting it, and creates it otherwise', async () => {
    expect((await runOf(SHAPES[1]!.shape)).plans['cruddur-dev-app']).toMatch(/Plan: 1 to import, 0 to add/);
    expect((await runOf(SHAPES[0]!.shape)).plans['cruddur-dev-app']).toMatch(/Plan: 1 to add/);
  });

  it('associates the DynamoDB endpoint with each route table the instance\'s function subnets use (their own, or the main one)', async () => {
    const plan = (await runOf(SHAPES[0]!.shape)).plans['cruddur-dev-network']!;
    expect(plan).toContain('["rtb-0aaa1111bbbb0001a"]');
    expect(plan).toContain(`["${MAIN_ROUTE_TABLE}"]`);
  });

  it('stops at plan, with the stack\'s own message, when the instance has no subnet where Lambda runs', async () => {
    const fixture = account();
    fixture.db_subnet_groups!['default-vpc']!.subnet_ids = ['subnet-0aaa1111bbbb0003c'];
    const failure = await deploy({ CRUDDUR_DATABASE_INSTANCE: 'cruddur-db-instance' }, fixture).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TerraformStandinError);
    expect((failure as TerraformStandinError).stackName).toBe('cruddur-dev-network');
    expect((failure as TerraformStandinError).step).toBe('plan');
    expect(oneLine((failure as TerraformStandinError).output)).toMatch(/no subnet of cruddur-db-instance's subnet group is in a zone where Lambda runs/);
  });

  it('stops at plan when a reused DynamoDB endpoint misses a route table of the functions', async () => {
    const endpoints = EXISTING_ENDPOINTS!.map((endpoint) => (endpoint.vpc_endpoint_type === 'Gateway' ? { ...endpoint, route_table_ids: ['rtb-0aaa1111bbbb0001a'] } : endpoint));
    const failure = await deploy(
      { ...EXPLICIT_VPC, CRUDDUR_DATABASE_CIDR: '172.31.128.0/20', CRUDDUR_DYNAMODB_ENDPOINT: 'existing', CRUDDUR_SECRETS_MANAGER_ENDPOINT: 'existing' },
      account({ vpc_endpoints: endpoints }),
    ).catch((error: unknown) => error);
    expect(oneLine((failure as TerraformStandinError).output)).toMatch(/not associated with every route table of the functions' subnets/);
  });
});

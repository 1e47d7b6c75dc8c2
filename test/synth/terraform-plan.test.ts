/**
 * Terraform's own judgement of every supported deploy shape (docs/deploy.md): the three
 * stacks, synthesized as `npm run synth` does, planned and applied in dependency order over
 * stand-ins (test/support/terraform-standins.ts). A `for_each` over ids created in the same
 * plan, a reference that does not resolve, a cycle or a condition the fixture's account breaks
 * fails here as it would fail `npm run deploy`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { account, EXISTING_ENDPOINTS, EXPLICIT_VPC, MAIN_ROUTE_TABLE, SHAPES, synthesize } from '../support/deploy-shapes';
import { describeWithTerraform, planAndApply, TerraformStandinError, type StandinFixture, type StandinRun } from '../support/terraform-standins';

let directory: string;
beforeAll(() => {
  directory = mkdtempSync(path.join(os.tmpdir(), 'cruddur-plan-'));
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Terraform wraps long messages: compare them as one line. */
const oneLine = (text: string) => text.replace(/\s+/g, ' ');

let deployments = 0;
async function deploy(env: Record<string, string>, fixture: StandinFixture): Promise<StandinRun> {
  deployments += 1;
  return planAndApply(synthesize(env), fixture, path.join(directory, String(deployments)));
}

describeWithTerraform('the plan test')('terraform plan and apply over stand-ins', () => {
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

  it("associates the DynamoDB endpoint with each route table the instance's function subnets use (their own, or the main one)", async () => {
    const plan = (await runOf(SHAPES[0]!.shape)).plans['cruddur-dev-network']!;
    expect(plan).toContain('["rtb-0aaa1111bbbb0001a"]');
    expect(plan).toContain(`["${MAIN_ROUTE_TABLE}"]`);
  });

  it("stops at plan, with the stack's own message, when the instance has no subnet where Lambda runs", async () => {
    const fixture = account();
    fixture.db_subnet_groups!['default-vpc']!.subnet_ids = ['subnet-0aaa1111bbbb0003c'];
    const failure = await deploy({ CRUDDUR_DATABASE_INSTANCE: 'cruddur-db-instance' }, fixture).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TerraformStandinError);
    expect((failure as TerraformStandinError).stackName).toBe('cruddur-dev-network');
    expect((failure as TerraformStandinError).step).toBe('plan');
    expect(oneLine((failure as TerraformStandinError).output)).toMatch(/no subnet of cruddur-db-instance's subnet group is in a zone where Lambda runs/);
  });

  it('stops at plan when a reused DynamoDB endpoint misses a route table of the functions', async () => {
    const endpoints = EXISTING_ENDPOINTS!.map((endpoint) =>
      endpoint.vpc_endpoint_type === 'Gateway' ? { ...endpoint, route_table_ids: ['rtb-0aaa1111bbbb0001a'] } : endpoint,
    );
    const failure = await deploy(
      { ...EXPLICIT_VPC, CRUDDUR_DATABASE_CIDR: '172.31.128.0/20', CRUDDUR_DYNAMODB_ENDPOINT: 'existing', CRUDDUR_SECRETS_MANAGER_ENDPOINT: 'existing' },
      account({ vpc_endpoints: endpoints }),
    ).catch((error: unknown) => error);
    expect(oneLine((failure as TerraformStandinError).output)).toMatch(/not associated with every route table of the functions' subnets/);
  });
});

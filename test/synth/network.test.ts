/**
 * The network stack in each supported shape (infrastructure/config/network.ts): the path
 * from the functions' security group to the database port, the endpoints, and the Terraform
 * conditions that fail a plan (not an apply) when AWS disagrees with the settings.
 */
import { rmSync } from 'node:fs';
import { FUNCTIONS, runsInVpc } from '../../functions/catalog';
import { buildStacks, stackNames } from '../../infrastructure/app';
import { loadConfig } from '../../infrastructure/config';
import { NetworkStack } from '../../infrastructure/stacks/network-stack';
import { sharedBundles } from '../support/bundles';
import { reference, SynthesizedStack, TEST_ACCOUNT_ENV, Testing, type Block } from '../../infrastructure/testing';

const EXISTING_VPC = {
  CRUDDUR_VPC_ID: 'vpc-0123456789abcdef0',
  CRUDDUR_SUBNET_IDS: 'subnet-0123456789abcdef0,subnet-0123456789abcdef1',
  CRUDDUR_ROUTE_TABLE_IDS: 'rtb-0123456789abcdef0,rtb-0123456789abcdef1',
};

function synthNetwork(env: Record<string, string>): SynthesizedStack {
  const config = loadConfig({ ...TEST_ACCOUNT_ENV, ...env });
  return new SynthesizedStack(new NetworkStack(Testing.app(), stackNames(config).network, config));
}

function named(stack: SynthesizedStack, type: string, pattern: RegExp): [string, Block] {
  const entries = Object.entries(stack.resources(type)).filter(([name]) => pattern.test(name));
  if (entries.length !== 1) throw new Error(`Expected one ${type} matching ${pattern}, found ${entries.length}`);
  return entries[0]!;
}

function dataNamed(stack: SynthesizedStack, type: string, pattern: RegExp): [string, Block] {
  const entries = Object.entries(stack.dataSources(type)).filter(([name]) => pattern.test(name));
  if (entries.length !== 1) throw new Error(`Expected one data.${type} matching ${pattern}, found ${entries.length}`);
  return entries[0]!;
}

function functionsGroup(stack: SynthesizedStack): string {
  return reference('aws_security_group', named(stack, 'aws_security_group', /function-security-group/)[0], 'id');
}

function rules(stack: SynthesizedStack, direction: 'ingress' | 'egress'): Block[] {
  return Object.values(stack.resources(`aws_vpc_security_group_${direction}_rule`));
}

/**
 * Where the functions' traffic to PostgreSQL goes: the one egress rule that is not HTTPS, and
 * (for a security-group destination) the ingress rule on that group admitting the functions.
 */
function databasePath(stack: SynthesizedStack): { egress: Block; ingress?: Block } {
  const functions = functionsGroup(stack);
  const egress = rules(stack, 'egress').filter((rule) => rule.security_group_id === functions && rule.from_port !== 443);
  expect(egress).toHaveLength(1);
  const [rule] = egress as [Block];
  if (rule.referenced_security_group_id === undefined) return { egress: rule };
  const ingress = rules(stack, 'ingress').filter((candidate) => candidate.security_group_id === rule.referenced_security_group_id);
  expect(ingress).toHaveLength(1);
  return { egress: rule, ingress: ingress[0]! };
}

function conditions(block: Block, kind: 'precondition' | 'postcondition'): { condition: string; error_message: string }[] {
  return block.lifecycle?.[kind] ?? [];
}

describe('named database instance (CRUDDUR_DATABASE_INSTANCE)', () => {
  const stack = synthNetwork({ CRUDDUR_DATABASE_INSTANCE: 'cruddur-db-instance' });
  const [instanceName, instance] = dataNamed(stack, 'aws_db_instance', /database/);
  const [groupName] = dataNamed(stack, 'aws_db_subnet_group', /database-subnet-group/);

  it("reads the instance, its subnet group and the group's VPC, and creates no network of its own", () => {
    expect(instance.db_instance_identifier).toBe('cruddur-db-instance');
    expect(dataNamed(stack, 'aws_db_subnet_group', /database-subnet-group/)[1].name).toBe(reference('data.aws_db_instance', instanceName, 'db_subnet_group'));
    expect(dataNamed(stack, 'aws_vpc', /vpc/)[1].id).toBe(reference('data.aws_db_subnet_group', groupName, 'vpc_id'));
    for (const type of ['aws_vpc', 'aws_subnet', 'aws_route_table', 'aws_route']) expect(stack.resources(type)).toEqual({});
    expect(named(stack, 'aws_security_group', /function-security-group/)[1].vpc_id).toBe(reference('data.aws_db_subnet_group', groupName, 'vpc_id'));
  });

  it("opens the instance's own port from the functions to its security group, both ways", () => {
    const { egress, ingress } = databasePath(stack);
    const databaseGroup = `\${element(sort(data.aws_db_instance.${instanceName}.vpc_security_groups), 0)}`;
    const port = reference('data.aws_db_instance', instanceName, 'port');
    expect(egress).toMatchObject({ referenced_security_group_id: databaseGroup, from_port: port, to_port: port, ip_protocol: 'tcp' });
    expect(ingress).toMatchObject({
      security_group_id: databaseGroup,
      referenced_security_group_id: functionsGroup(stack),
      from_port: port,
      to_port: port,
      ip_protocol: 'tcp',
    });
    expect(conditions(instance, 'postcondition')[0]!.condition).toBe('${(length(self.vpc_security_groups) >= 1)}');
  });

  it('runs the functions in one subnet of the group per zone, never in a zone where Lambda does not run', () => {
    const locals = stack.config.locals as Record<string, string>;
    const byZone = Object.entries(locals).find(([name]) => /function-subnets-by-zone/.test(name))!;
    const subnetIds = Object.entries(locals).find(([name]) => /function-subnet-ids/.test(name))!;
    expect(byZone[1]).toMatch(/val\.availability_zone_id => val\.id\.\.\. if !contains\(\["use1-az3"\], val\.availability_zone_id\)/);
    expect(subnetIds[1]).toBe(`\${[ for key, val in local.${byZone[0]}: sort(val)[0]]}`);
    const [, endpoint] = named(stack, 'aws_vpc_endpoint', /secretsmanager/);
    // The endpoint, billed per zone, takes the first two of them.
    expect(endpoint.subnet_ids).toBe(`\${slice(local.${subnetIds[0]}, 0, min(2, length(local.${subnetIds[0]})))}`);
    expect(conditions(named(stack, 'aws_security_group', /function-security-group/)[1], 'precondition')).toEqual([
      {
        condition: `\${(length(local.${subnetIds[0]}) >= 1)}`,
        error_message: expect.stringContaining("no subnet of cruddur-db-instance's subnet group is in a zone where Lambda runs"),
      },
    ]);
  });

  it("hands that list to every function, through the network stack's remote state", () => {
    const config = loadConfig({ ...TEST_ACCOUNT_ENV, CRUDDUR_DATABASE_INSTANCE: 'cruddur-db-instance' });
    const app = Testing.app();
    const stacks = buildStacks(app, config, sharedBundles().bundles);
    app.synth(); // as `cdktf synth`: the cross-stack outputs and remote state are made here
    rmSync(app.outdir, { recursive: true, force: true });
    const network = new SynthesizedStack(stacks.network);
    const lambdas = new SynthesizedStack(stacks.lambdas);
    const subnetIds = Object.keys(network.config.locals as Block).find((name) => /function-subnet-ids/.test(name))!;
    const output = `cross-stack-output-local${subnetIds}`;
    expect(network.outputs()[output]).toEqual({ sensitive: true, value: `\${local.${subnetIds}}` });
    const functions = Object.values(lambdas.resources('aws_lambda_function')).filter((fn) => fn.vpc_config !== undefined);
    expect(functions).toHaveLength(FUNCTIONS.filter(runsInVpc).length);
    for (const fn of functions) {
      expect(fn.vpc_config.subnet_ids).toBe(`\${data.terraform_remote_state.cross-stack-reference-input-cruddur-dev-network.outputs.${output}}`);
    }
  });

  it("associates the DynamoDB endpoint with the route tables of those subnets, the VPC's main one if a subnet has none of its own", () => {
    const locals = stack.config.locals as Record<string, string>;
    const [routeTablesLocal, expression] = Object.entries(locals).find(([name]) => /function-route-table-ids/.test(name))!;
    expect(expression).toMatch(
      /^\$\{concat\(data\.aws_route_tables\.[^.]+\.ids, \(length\(setsubtract\(local\.[^,]+, flatten\(\[ for key, val in data\.aws_route_table\.[^:]+: val\.associations\[\*\]\.subnet_id\]\)\)\) >= 1\) \? \[data\.aws_vpc\.[^.]+\.main_route_table_id\] : \[\]\)\}$/,
    );
    const [, association] = named(stack, 'aws_vpc_endpoint_route_table_association', /dynamodb/);
    expect(association.for_each).toBe(`\${zipmap(local.${routeTablesLocal}, local.${routeTablesLocal})}`);
  });

  it("admits every range of the VPC to the Secrets Manager endpoint, so the VPC's other workloads keep reaching Secrets Manager", () => {
    const fromVpc = rules(stack, 'ingress').filter((rule) => rule.cidr_ipv4 !== undefined);
    expect(fromVpc).toEqual([
      expect.objectContaining({
        from_port: 443,
        to_port: 443,
        cidr_ipv4: '${each.value.cidr_block}',
        for_each: expect.stringContaining('cidr_block_associations'),
      }),
    ]);
  });

  it('fails the plan, not the apply, when the VPC lacks DNS support or DNS hostnames', () => {
    expect(conditions(dataNamed(stack, 'aws_vpc', /vpc/)[1], 'postcondition')).toEqual([
      {
        condition: '${(self.enable_dns_support && self.enable_dns_hostnames)}',
        error_message: expect.stringContaining('enableDnsSupport and enableDnsHostnames'),
      },
    ]);
  });
});

describe('named database instance whose VPC already has both endpoints', () => {
  const stack = synthNetwork({
    CRUDDUR_DATABASE_INSTANCE: 'cruddur-db-instance',
    CRUDDUR_DYNAMODB_ENDPOINT: 'existing',
    CRUDDUR_SECRETS_MANAGER_ENDPOINT: 'existing',
  });

  it('creates no endpoint and uses the existing ones, checking at plan that they serve the functions', () => {
    expect(stack.resources('aws_vpc_endpoint')).toEqual({});
    expect(stack.resources('aws_vpc_endpoint_route_table_association')).toEqual({});
    const [dynamoDbName, dynamoDb] = dataNamed(stack, 'aws_vpc_endpoint', /dynamodb/);
    const [secretsName, secrets] = dataNamed(stack, 'aws_vpc_endpoint', /secretsmanager/);
    expect(conditions(dynamoDb, 'postcondition')[0]!.condition).toMatch(/^\$\{\(length\(setsubtract\(local\.[^,]+, self\.route_table_ids\)\) < 1\)\}$/);
    expect(conditions(secrets, 'postcondition')[0]!.condition).toBe('${self.private_dns_enabled}');
    expect(rules(stack, 'egress')).toContainEqual(
      expect.objectContaining({ from_port: 443, prefix_list_id: reference('data.aws_vpc_endpoint', dynamoDbName, 'prefix_list_id') }),
    );
    // Each of the existing endpoint's groups admits the functions, and the functions may reach it.
    const endpointGroups = `\${toset(tolist(data.aws_vpc_endpoint.${secretsName}.security_group_ids))}`;
    expect(rules(stack, 'ingress')).toContainEqual(
      expect.objectContaining({
        for_each: endpointGroups,
        security_group_id: '${each.value}',
        referenced_security_group_id: functionsGroup(stack),
        from_port: 443,
      }),
    );
    expect(rules(stack, 'egress')).toContainEqual(
      expect.objectContaining({
        for_each: endpointGroups,
        security_group_id: functionsGroup(stack),
        referenced_security_group_id: '${each.value}',
        from_port: 443,
      }),
    );
  });

  it('still opens the database port between the functions and the instance', () => {
    expect(databasePath(stack).ingress).toBeDefined();
  });
});

describe('explicit existing VPC (CRUDDUR_VPC_ID, CRUDDUR_SUBNET_IDS, CRUDDUR_ROUTE_TABLE_IDS)', () => {
  const stack = synthNetwork({ ...EXISTING_VPC, CRUDDUR_DATABASE_SECURITY_GROUP_ID: 'sg-0123456789abcdef9' });

  it('creates no VPC, subnets or route tables and associates the endpoint with the given route tables', () => {
    for (const type of ['aws_vpc', 'aws_subnet', 'aws_route_table', 'aws_route']) expect(stack.resources(type)).toEqual({});
    const [, association] = named(stack, 'aws_vpc_endpoint_route_table_association', /dynamodb/);
    expect(association.for_each).toEqual({ 'rtb-0123456789abcdef0': 'rtb-0123456789abcdef0', 'rtb-0123456789abcdef1': 'rtb-0123456789abcdef1' });
    expect(named(stack, 'aws_vpc_endpoint', /secretsmanager/)[1]).toMatchObject({
      vpc_id: 'vpc-0123456789abcdef0',
      subnet_ids: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
    });
  });

  it('opens 5432 between the functions and the database security group, both ways', () => {
    const { egress, ingress } = databasePath(stack);
    expect(egress).toMatchObject({ referenced_security_group_id: 'sg-0123456789abcdef9', from_port: 5432, to_port: 5432 });
    expect(ingress).toMatchObject({
      security_group_id: 'sg-0123456789abcdef9',
      referenced_security_group_id: functionsGroup(stack),
      from_port: 5432,
      to_port: 5432,
    });
  });

  it('checks at plan that each subnet and route table is in the VPC, no subnet in an excluded zone, one subnet per zone', () => {
    const subnet = conditions(dataNamed(stack, 'aws_subnet', /subnet/)[1], 'postcondition').map((entry) => entry.condition);
    expect(subnet).toEqual(['${(self.vpc_id == "vpc-0123456789abcdef0")}', '${!contains(["use1-az3"], self.availability_zone_id)}']);
    expect(conditions(dataNamed(stack, 'aws_route_table', /route-table/)[1], 'postcondition')[0]!.condition).toBe(
      '${(self.vpc_id == "vpc-0123456789abcdef0")}',
    );
    expect(conditions(named(stack, 'aws_vpc_endpoint', /secretsmanager/)[1], 'precondition')).toEqual([
      {
        condition: expect.stringMatching(/^\$\{\(length\(distinct\(\[ for key, val in data\.aws_subnet\.[^:]+: val\.availability_zone_id\]\)\) == 2\)\}$/),
        error_message: expect.stringContaining('two subnets are in the same zone'),
      },
    ]);
    expect(conditions(dataNamed(stack, 'aws_vpc', /vpc/)[1], 'postcondition')).toHaveLength(1);
  });

  it('reaches a database by its range instead, when that is what is stated', () => {
    const byRange = synthNetwork({ ...EXISTING_VPC, CRUDDUR_DATABASE_CIDR: '172.31.32.0/20' });
    const { egress, ingress } = databasePath(byRange);
    expect(egress).toMatchObject({ cidr_ipv4: '172.31.32.0/20', from_port: 5432, to_port: 5432 });
    expect(ingress).toBeUndefined();
  });
});

describe('new VPC with a database route (CRUDDUR_DATABASE_CIDR, CRUDDUR_DATABASE_ROUTE_TARGET)', () => {
  const stack = synthNetwork({ CRUDDUR_DATABASE_CIDR: '172.31.0.0/16', CRUDDUR_DATABASE_ROUTE_TARGET: 'pcx-0123456789abcdef0' });

  it('creates private subnets in two zones where Lambda runs, each with its own route table and no way out', () => {
    const [, zones] = Object.entries(stack.dataSources('aws_availability_zones'))[0]!;
    expect(zones.exclude_zone_ids).toEqual(['use1-az3']);
    const subnets = Object.values(stack.resources('aws_subnet'));
    expect(subnets.map((subnet) => subnet.availability_zone_id)).toEqual([expect.stringContaining('zone_ids, 0)'), expect.stringContaining('zone_ids, 1)')]);
    expect(subnets.map((subnet) => subnet.cidr_block)).toEqual([expect.stringContaining(', 4, 0)'), expect.stringContaining(', 4, 1)')]);
    expect(subnets.every((subnet) => subnet.map_public_ip_on_launch === false)).toBe(true);
    expect(Object.keys(stack.resources('aws_route_table_association'))).toHaveLength(2);
    for (const type of ['aws_nat_gateway', 'aws_internet_gateway', 'aws_eip']) expect(stack.resources(type)).toEqual({});
    expect(stack.single('aws_vpc')[1]).toMatchObject({ cidr_block: '10.50.0.0/16', enable_dns_support: true, enable_dns_hostnames: true });
  });

  it('routes the database range, and only it, through the peering connection from every private route table', () => {
    const routes = Object.values(stack.resources('aws_route'));
    const tables = Object.keys(stack.resources('aws_route_table')).map((name) => reference('aws_route_table', name, 'id'));
    expect(routes).toHaveLength(2);
    expect(routes.map((route) => route.route_table_id).sort()).toEqual(tables.sort());
    for (const route of routes) expect(route).toMatchObject({ destination_cidr_block: '172.31.0.0/16', vpc_peering_connection_id: 'pcx-0123456789abcdef0' });
  });

  it('lets the functions reach the database range on 5432', () => {
    const { egress, ingress } = databasePath(stack);
    expect(egress).toMatchObject({ cidr_ipv4: '172.31.0.0/16', from_port: 5432, to_port: 5432 });
    expect(ingress).toBeUndefined();
  });

  it('associates the DynamoDB endpoint with both route tables and admits only the functions to the Secrets Manager endpoint', () => {
    const [, association] = named(stack, 'aws_vpc_endpoint_route_table_association', /dynamodb/);
    // Keyed by place: the ids are unknown until apply, and Terraform needs for_each keys at plan.
    const tables = Object.keys(stack.resources('aws_route_table')).map((name) => reference('aws_route_table', name, 'id'));
    expect(association.for_each).toEqual({ 'private-0': tables[0], 'private-1': tables[1] });
    expect(rules(stack, 'ingress')).toEqual([expect.objectContaining({ referenced_security_group_id: functionsGroup(stack), from_port: 443 })]);
  });

  it('routes through a transit gateway when that is the target', () => {
    const viaTransit = synthNetwork({ CRUDDUR_DATABASE_CIDR: '172.31.0.0/16', CRUDDUR_DATABASE_ROUTE_TARGET: 'tgw-0123456789abcdef0' });
    for (const route of Object.values(viaTransit.resources('aws_route'))) {
      expect(route).toMatchObject({ destination_cidr_block: '172.31.0.0/16', transit_gateway_id: 'tgw-0123456789abcdef0' });
      expect(route.vpc_peering_connection_id).toBeUndefined();
    }
  });

  it('opens nothing to the database at all without a stated route (synth only: deploy refuses it)', () => {
    const unrouted = synthNetwork({});
    const functions = functionsGroup(unrouted);
    expect(
      rules(unrouted, 'egress')
        .filter((rule) => rule.security_group_id === functions)
        .map((rule) => rule.from_port),
    ).toEqual([443, 443]);
    expect(unrouted.resources('aws_route')).toEqual({});
  });
});

/**
 * Security properties of everything `cdktf synth` produces, in the three network shapes (dev
 * in the database instance's VPC; prod in an explicit existing VPC with PROVISIONED billing
 * and a customer-managed key on the secret; dev in a new VPC peered with the database's
 * network): every data store encrypted at
 * rest, every IAM grant one of a closed list on its own resources, nothing reachable from the
 * internet but the JWT-protected HTTP API, and no secret in any synthesized file or bundle.
 * These are rules over the whole output, so a resource added later is checked too; the
 * per-resource details live in infrastructure.test.ts and infrastructure-lambdas.test.ts.
 */
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { FUNCTIONS, runsInVpc, type FunctionDefinition } from '../../functions/catalog';
import { GROUP_SK_INDEX } from '../../functions/data/model';
import { buildStacks } from '../../infrastructure/app';
import { loadConfig } from '../../infrastructure/config';
import type { BundleResult } from '../../infrastructure/bundling/bundle';
import { sharedBundles } from '../support/bundles';
import { reference, SynthesizedStack, TEST_ACCOUNT_ENV, Testing, type Block } from '../../infrastructure/testing';

const SECRET_ARN = TEST_ACCOUNT_ENV.CRUDDUR_DATABASE_SECRET_ARN;
const SECRET_KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const DATABASE_INSTANCE_ENV = { ...TEST_ACCOUNT_ENV, CRUDDUR_DATABASE_INSTANCE: 'cruddur-db-instance' };
const NEW_VPC_ENV = { ...TEST_ACCOUNT_ENV, CRUDDUR_DATABASE_CIDR: '172.31.0.0/16', CRUDDUR_DATABASE_ROUTE_TARGET: 'pcx-0123456789abcdef0' };
const EXISTING_VPC_ENV = {
  ...TEST_ACCOUNT_ENV,
  CRUDDUR_ENV: 'prod',
  CRUDDUR_BILLING_MODE: 'PROVISIONED',
  CRUDDUR_VPC_ID: 'vpc-0123456789abcdef0',
  CRUDDUR_SUBNET_IDS: 'subnet-0123456789abcdef0,subnet-0123456789abcdef1',
  CRUDDUR_ROUTE_TABLE_IDS: 'rtb-0123456789abcdef0',
  CRUDDUR_DATABASE_SECURITY_GROUP_ID: 'sg-0123456789abcdef9',
  CRUDDUR_DATABASE_SECRET_KMS_KEY_ARN: SECRET_KEY_ARN,
};
const CONFIGURATIONS: Record<string, Record<string, string>> = {
  'dev, database instance': DATABASE_INSTANCE_ENV,
  'prod, existing VPC': EXISTING_VPC_ENV,
  'dev, new VPC peered with the database': NEW_VPC_ENV,
};

/**
 * Secrets a developer's shell may well hold while running `cdktf synth`: none may reach the
 * output (e.g. through an environment copied into a function's variables).
 */
const CANARIES = {
  DATABASE_URL: 'postgresql://cruddur:canary-db-password-7f3a@db.internal:5432/cruddur',
  PROD_CONNECTION_URL: 'postgresql://root:canary-prod-password-91c2@prod.internal:5432/cruddur',
  AWS_SECRET_ACCESS_KEY: 'canarySecretAccessKey0000000000000000000A',
  AWS_SESSION_TOKEN: 'canary-session-token-5be1',
  PGPASSWORD: 'canary-pgpassword-0d4e',
};

/** What a secret looks like in text, whatever its value. */
const SECRET_PATTERNS: [name: string, pattern: RegExp][] = [
  ['private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ['AWS access key id', /\b(AKIA|ASIA)[0-9A-Z]{16}\b/],
  // A literal password; database-url.ts builds `postgresql://${user}:${password}@` from the secret at run time.
  ['connection URL with a password', /\bpostgres(ql)?:\/\/[^\s/:@"'$]+:[^\s@"'$]+@/i],
  ['DATABASE_URL setting', /DATABASE_URL"?\s*[:=]/],
  ['password field', /"password"\s*:/i],
  ['secret value resource or attribute', /secretsmanager_secret_version|secret_string/],
  ['local seed password', /Cruddur-local-1!/],
];

/** Every resource type the stacks may contain, and whether the internet can reach it. */
const RESOURCE_TYPES: Record<string, 'public' | 'private'> = {
  // The one public entry point, behind the JWT authorizer but for the public profile route (checked below).
  aws_apigatewayv2_api: 'public',
  aws_apigatewayv2_stage: 'public',
  aws_apigatewayv2_authorizer: 'private',
  aws_apigatewayv2_integration: 'private',
  aws_apigatewayv2_route: 'private',
  aws_cloudwatch_log_group: 'private',
  aws_cloudwatch_log_metric_filter: 'private',
  aws_cloudwatch_metric_alarm: 'private',
  aws_cloudwatch_dashboard: 'private',
  // The alarms' topic: its default access policy lets only this account publish and subscribe.
  aws_sns_topic: 'private',
  aws_sns_topic_subscription: 'private',
  aws_default_security_group: 'private',
  aws_dynamodb_table: 'private',
  aws_iam_role: 'private',
  aws_iam_role_policy: 'private',
  aws_lambda_event_source_mapping: 'private',
  aws_lambda_function: 'private',
  aws_lambda_permission: 'private',
  // Only the route to the database's range through a peering connection or transit gateway (checked below).
  aws_route: 'private',
  aws_route_table: 'private',
  aws_route_table_association: 'private',
  aws_security_group: 'private',
  aws_sqs_queue: 'private',
  aws_subnet: 'private',
  aws_vpc: 'private',
  aws_vpc_endpoint: 'private',
  aws_vpc_endpoint_route_table_association: 'private',
  aws_vpc_security_group_egress_rule: 'private',
  aws_vpc_security_group_ingress_rule: 'private',
};

/** How each resource type that keeps data encrypts it at rest. */
const ENCRYPTION_AT_REST: Record<string, (body: Block) => boolean> = {
  // `enabled: true` selects the AWS managed KMS key (aws/dynamodb) instead of the AWS owned one.
  aws_dynamodb_table: (body) => body.server_side_encryption?.enabled === true,
  aws_sqs_queue: (body) => body.sqs_managed_sse_enabled === true || typeof body.kms_master_key_id === 'string',
  // CloudWatch Logs always encrypts log data at rest with a service key; no customer KMS key is
  // configured (the logs hold request metadata, no message text), so there is no kms_key_id to
  // check. Should one be configured, it must be a key ARN, not an empty string.
  aws_cloudwatch_log_group: (body) => body.kms_key_id === undefined || /^(arn:aws:kms:|\$\{)/.test(body.kms_key_id),
};

interface Synthesized {
  name: string;
  stacks: SynthesizedStack[];
  lambdas: SynthesizedStack;
  /** The directory `cdktf synth` wrote. */
  outdir: string;
}

let distDir: string;
let bundles: Readonly<Record<string, BundleResult>>;
const configurations: Synthesized[] = [];

/** The full synth, as `cdktf synth` runs it, with the canary secrets in the environment. */
function synthesize(name: string, env: Record<string, string>): Synthesized {
  const saved = { ...process.env };
  Object.assign(process.env, CANARIES);
  try {
    const app = Testing.app();
    const stacks = buildStacks(app, loadConfig(env), bundles);
    app.synth();
    const synthesized = [stacks.network, stacks.app, stacks.lambdas].map((stack) => new SynthesizedStack(stack));
    return { name, stacks: synthesized, lambdas: synthesized[2]!, outdir: app.outdir };
  } finally {
    process.env = saved;
  }
}

beforeAll(async () => {
  ({ distDir, bundles } = sharedBundles());
  for (const [name, env] of Object.entries(CONFIGURATIONS)) configurations.push(synthesize(name, env));
}, 300_000);

afterAll(() => {
  for (const { outdir } of configurations) rmSync(outdir, { recursive: true, force: true });
});

/** Text for a RegExp that matches it literally. */
function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Every resource of every stack of a configuration, as [type, name, body]. */
function allResources(configuration: Synthesized): [type: string, name: string, body: Block][] {
  return configuration.stacks.flatMap((stack) =>
    Object.entries((stack.config.resource ?? {}) as Record<string, Record<string, Block>>).flatMap(([type, byName]) =>
      Object.entries(byName).map(([name, body]): [string, string, Block] => [type, name, body]),
    ),
  );
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const file = path.join(dir, entry);
    return statSync(file).isDirectory() ? filesUnder(file) : [file];
  });
}

describe.each(Object.keys(CONFIGURATIONS))('%s', (configurationName) => {
  const configuration = () => configurations.find((candidate) => candidate.name === configurationName)!;

  describe('encryption at rest', () => {
    it('encrypts every resource that keeps data: the table, the failure queue, the log groups', () => {
      // Prepare
      const stores = allResources(configuration()).filter(([type]) => type in ENCRYPTION_AT_REST);

      // Assess
      expect(new Set(stores.map(([type]) => type))).toEqual(new Set(Object.keys(ENCRYPTION_AT_REST)));
      for (const [type, name, body] of stores) expect({ type, name, encrypted: ENCRYPTION_AT_REST[type]!(body) }).toEqual({ type, name, encrypted: true });
    });
  });

  describe('nothing public but the API', () => {
    it('contains only resource types known to be private, the HTTP API and its stage excepted', () => {
      // A new type (a function URL, an internet gateway, a bucket, a load balancer...) must be
      // classified here first, and reviewed for exposure when it is.
      const types = new Set(allResources(configuration()).map(([type]) => type));
      expect([...types].filter((type) => !(type in RESOURCE_TYPES))).toEqual([]);
      expect([...types].filter((type) => RESOURCE_TYPES[type] === 'public').sort()).toEqual(['aws_apigatewayv2_api', 'aws_apigatewayv2_stage']);
      for (const type of ['aws_lambda_function_url', 'aws_internet_gateway', 'aws_nat_gateway', 'aws_eip', 'aws_egress_only_internet_gateway'])
        expect(types.has(type)).toBe(false);
    });

    it('routes nothing but the database range, and that only through a peering connection or transit gateway', () => {
      for (const [, name, route] of allResources(configuration()).filter(([type]) => type === 'aws_route')) {
        expect({ name, route }).toEqual({ name, route: expect.objectContaining({ destination_cidr_block: NEW_VPC_ENV.CRUDDUR_DATABASE_CIDR }) });
        const targets = Object.keys(route).filter((key) => /(_id|_arn)$/.test(key) && key !== 'route_table_id');
        expect(targets).toEqual([expect.stringMatching(/^(vpc_peering_connection_id|transit_gateway_id)$/)]);
      }
    });

    it('puts every HTTP route but the public profile behind the JWT authorizer, and WebSocket connections behind the token authorizer', () => {
      const routes = Object.values(configuration().lambdas.resources('aws_apigatewayv2_route'));
      expect(routes.length).toBeGreaterThan(0);
      // $disconnect and client frames need no authorizer: only a connection the authorizer let in can send one, or disconnect.
      const expectedAuthorization: Record<string, string> = {
        'GET /api/users/{handle}/short': 'NONE',
        $connect: 'CUSTOM',
        $disconnect: 'NONE',
        typing: 'NONE',
      };
      for (const route of routes) {
        expect([route.route_key, route.authorization_type]).toEqual([route.route_key, expectedAuthorization[route.route_key] ?? 'JWT']);
      }
      // No $default route: a WebSocket client's frame reaches a function only by a catalog action.
      expect(routes.map((route) => route.route_key)).not.toContain('$default');
    });

    it("throttles every route, the public one included, at each API's stage", () => {
      const stages = Object.values(configuration().lambdas.resources('aws_apigatewayv2_stage'));
      expect(stages).toHaveLength(2);
      for (const stage of stages) {
        expect(stage.default_route_settings).toMatchObject({ throttling_burst_limit: expect.any(Number), throttling_rate_limit: expect.any(Number) });
        expect(stage.route_settings ?? []).toEqual([]);
      }
    });

    it('lets only API Gateway invoke a function, and only from these APIs: an HTTP route, a WebSocket route or the WebSocket authorizer', () => {
      const apis = configuration().lambdas.resources('aws_apigatewayv2_api');
      const executionArn = (protocol: string) =>
        reference('aws_apigatewayv2_api', Object.keys(apis).find((name) => apis[name]!.protocol_type === protocol)!, 'execution_arn');
      const allowed = [
        new RegExp(`^${escapeRegExp(executionArn('HTTP'))}/\\*/(GET|POST)/api/`),
        new RegExp(`^${escapeRegExp(executionArn('WEBSOCKET'))}/ws/(\\$connect|\\$disconnect|typing)$`),
        new RegExp(`^${escapeRegExp(executionArn('WEBSOCKET'))}/authorizers/\\$\\{aws_apigatewayv2_authorizer\\.[^.]+\\.id\\}$`),
      ];
      const permissions = Object.values(configuration().lambdas.resources('aws_lambda_permission'));
      expect(permissions.length).toBeGreaterThan(0);
      for (const permission of permissions) {
        expect(permission).toMatchObject({ action: 'lambda:InvokeFunction', principal: 'apigateway.amazonaws.com' });
        expect({ arn: permission.source_arn, allowed: allowed.some((pattern) => pattern.test(permission.source_arn)) }).toEqual({
          arn: permission.source_arn,
          allowed: true,
        });
      }
    });

    it("opens no security group to the internet: no 0.0.0.0/0 or ::/0 rule, ingress only from another security group or the adopted VPC's own ranges", () => {
      // Prepare
      const resources = allResources(configuration());
      const rules = resources.filter(([type]) => type === 'aws_vpc_security_group_ingress_rule' || type === 'aws_vpc_security_group_egress_rule');
      const inlineRules = resources
        .filter(([type]) => type === 'aws_security_group' || type === 'aws_default_security_group')
        .flatMap(([, , group]) => [...(group.ingress ?? []), ...(group.egress ?? [])]);

      // Assess
      expect(rules.length).toBeGreaterThan(0);
      expect(inlineRules).toEqual([]);
      for (const [, , rule] of rules) {
        expect([rule.cidr_ipv4, rule.cidr_ipv6]).not.toContain('0.0.0.0/0');
        expect(rule.cidr_ipv6).not.toBe('::/0');
      }
      for (const [, name, rule] of rules.filter(([type]) => type === 'aws_vpc_security_group_ingress_rule')) {
        expect([rule.cidr_ipv6, rule.prefix_list_id]).toEqual([undefined, undefined]);
        if (rule.cidr_ipv4 !== undefined) {
          // The Secrets Manager endpoint serves the whole adopted VPC (its private DNS does): each range of the VPC itself, on 443.
          expect({ name, rule }).toEqual({
            name,
            rule: expect.objectContaining({
              for_each: expect.stringMatching(/^\$\{\{ for key, val in data\.aws_vpc\.[^.]+\.cidr_block_associations: val\.cidr_block => val \}\}$/),
              cidr_ipv4: '${each.value.cidr_block}',
              from_port: 443,
              to_port: 443,
            }),
          });
          expect(rule.referenced_security_group_id).toBeUndefined();
        } else {
          expect({ name, from: rule.referenced_security_group_id }).toEqual({ name, from: expect.stringMatching(/^(\$\{aws_security_group\.|sg-)/) });
        }
      }
    });

    it('gives no subnet a public IP on launch', () => {
      for (const [type, , body] of allResources(configuration())) {
        if (type === 'aws_subnet') expect(body.map_public_ip_on_launch).toBe(false);
      }
    });
  });

  describe('least privilege', () => {
    /** What each grant may name as its resources, for one function. */
    function allowedResources(definition: FunctionDefinition): Record<string, (resource: string) => boolean> {
      const crossStack = (pattern: RegExp) => (resource: string) =>
        /^\$\{data\.terraform_remote_state\.cross-stack-reference-input-cruddur-(dev|prod)-app\.outputs\.cross-stack-output-/.test(resource) &&
        pattern.test(resource);
      const tableArn = crossStack(/dynamodb_table\S*(?<!stream_)arn\}$/);
      const indexSuffix = `/index/${GROUP_SK_INDEX}`;
      return {
        MessagesTable: (resource) =>
          tableArn(resource) || (definition.table.index === true && resource.endsWith(indexSuffix) && tableArn(resource.slice(0, -indexSuffix.length))),
        MessagesTableStream: crossStack(/dynamodb_table.*stream_arn\}$/),
        StreamFailureDestination: (resource) => /^\$\{aws_sqs_queue\.[^.]+\.arn\}$/.test(resource),
        UserDirectory: tableArn,
        PostRateLimit: tableArn,
        UsersDatabaseSecret: (resource) => resource === SECRET_ARN,
        UsersDatabaseSecretKey: (resource) => resource === SECRET_KEY_ARN,
        WebSocketConnections: (resource) => /^\$\{aws_apigatewayv2_api\.[^.]+\.execution_arn\}\/ws\/POST\/@connections\/\*$/.test(resource),
        // ListStreams has no resource-level permission (IAM's service authorization reference lists
        // no resource type for it); it names stream ARNs, never their records.
        MessagesTableStreamList: (resource) => resource === '*',
        OwnLogGroup: (resource) => /^\$\{aws_cloudwatch_log_group\.[^.]+\.arn\}:\*$/.test(resource),
        VpcNetworkInterfacesManage: (resource) => /^arn:aws:ec2:us-east-1:\$\{data\.aws_caller_identity\.[^}]+\.account_id\}:\*\/\*$/.test(resource),
        // The only "*": ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets, which Lambda calls to
        // attach a function to the VPC, support no resource-level permissions (IAM's service
        // authorization reference lists no resource type for them), so AWS accepts only "*".
        VpcNetworkInterfacesDescribe: (resource) => resource === '*',
      };
    }

    /** The grants a catalog entry must get, and no more. */
    function expectedGrants(definition: FunctionDefinition): string[] {
      const customerKey = CONFIGURATIONS[configurationName]!.CRUDDUR_DATABASE_SECRET_KMS_KEY_ARN !== undefined;
      return [
        ...(definition.table.actions.length > 0 ? ['MessagesTable'] : []),
        ...(definition.userLimit === 'posts' ? ['PostRateLimit'] : []),
        ...(definition.kind === 'stream' ? ['MessagesTableStream', 'MessagesTableStreamList', 'StreamFailureDestination'] : []),
        ...(definition.usersDatabase ? ['UserDirectory', 'UsersDatabaseSecret', ...(customerKey ? ['UsersDatabaseSecretKey'] : [])] : []),
        ...(definition.manageConnections ? ['WebSocketConnections'] : []),
        'OwnLogGroup',
        ...(runsInVpc(definition) ? ['VpcNetworkInterfacesDescribe', 'VpcNetworkInterfacesManage'] : []),
      ].sort();
    }

    it.each(FUNCTIONS.map((definition) => [definition.name, definition] as const))(
      'gives %s exactly its grants, each on its own resources only',
      (_name, definition) => {
        // Prepare
        const { lambdas } = configuration();
        const [, fn] = Object.entries(lambdas.resources('aws_lambda_function')).find(([, body]) => body.function_name.endsWith(`-${definition.name}`))!;
        const roleName = /aws_iam_role\.([^.]+)\.arn/.exec(fn.role)![1]!;
        const policies = Object.values(lambdas.resources('aws_iam_role_policy')).filter((policy) => policy.role === reference('aws_iam_role', roleName, 'id'));
        const documents = policies.map(
          (policy) => lambdas.dataSources('aws_iam_policy_document')[/aws_iam_policy_document\.([^.]+)\.json/.exec(policy.policy)![1]!]!,
        );
        const statements = documents.flatMap((document) => document.statement as Block[]);
        const allowed = allowedResources(definition);

        // Assess
        expect(statements.map((statement) => statement.sid).sort()).toEqual(expectedGrants(definition));
        for (const statement of statements) {
          expect(statement.effect ?? 'Allow').toBe('Allow');
          expect([statement.principals, statement.not_principals, statement.not_actions, statement.not_resources]).toEqual([
            undefined,
            undefined,
            undefined,
            undefined,
          ]);
          // The conditions: the key decrypts the secret through Secrets Manager only; the user
          // directory's and the rate limit's grants cover their items only; the WebSocket
          // functions' table grants, the connection (and group) items they touch.
          const leadingKeys = (...prefixes: string[]) => [{ test: 'ForAllValues:StringLike', variable: 'dynamodb:LeadingKeys', values: prefixes }];
          const connectionItemsOnly: Record<string, unknown> = {
            'ws-connect': leadingKeys('CONN#*'),
            'ws-disconnect': leadingKeys('CONN#*'),
            'message-push': leadingKeys('GROUP#*', 'CONN#*'),
            'ws-typing': leadingKeys('GROUP#*', 'CONN#*'),
          };
          const conditions: Record<string, unknown> = {
            UsersDatabaseSecretKey: [{ test: 'StringEquals', variable: 'kms:ViaService', values: ['secretsmanager.us-east-1.amazonaws.com'] }],
            UserDirectory: leadingKeys('USERSUB#*', 'USERHANDLE#*'),
            PostRateLimit: leadingKeys('RATE#*'),
            MessagesTable: connectionItemsOnly[definition.name],
          };
          expect(statement.condition).toEqual(conditions[statement.sid]);
          for (const resource of statement.resources as string[])
            expect({ sid: statement.sid, resource, allowed: allowed[statement.sid]!(resource) }).toEqual({ sid: statement.sid, resource, allowed: true });
        }
      },
    );
  });

  describe('secrets', () => {
    it.each(SECRET_PATTERNS)('writes no %s into any synthesized file', (_what, pattern) => {
      const files = filesUnder(configuration().outdir).filter((file) => file.endsWith('.json'));
      expect(files.length).toBeGreaterThanOrEqual(4); // manifest + three stacks
      for (const file of files)
        expect({ file: path.relative(configuration().outdir, file), found: pattern.exec(readFileSync(file, 'utf8'))?.[0] }).toEqual({
          file: path.relative(configuration().outdir, file),
          found: undefined,
        });
    });

    it('copies none of the secrets in the synthesizing environment anywhere', () => {
      const files = filesUnder(configuration().outdir).filter((file) => file.endsWith('.json'));
      for (const file of files) {
        const text = readFileSync(file, 'utf8');
        for (const [variable, value] of Object.entries(CANARIES))
          expect({ file, variable, found: text.includes(value) }).toEqual({ file, variable, found: false });
      }
    });
  });
});

describe('function bundles', () => {
  it.each(SECRET_PATTERNS)('contain no %s (the code that is deployed)', (_what, pattern) => {
    const files = FUNCTIONS.flatMap((fn) => [bundles[fn.name]!.file, `${bundles[fn.name]!.file}.map`]);
    for (const file of files)
      expect({ file: path.relative(distDir, file), found: pattern.exec(readFileSync(file, 'utf8'))?.[0] }).toEqual({
        file: path.relative(distDir, file),
        found: undefined,
      });
    // The zips hold exactly these two files per function (what the zip test checks), so they hold no more.
  });
});

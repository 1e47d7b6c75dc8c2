/**
 * The lambdas stack, synthesized from real esbuild bundles of every catalog entry (bundled
 * once for the synth tests, test/support/synth-setup.ts): functions in the VPC, least-privilege roles, the stream mapping, the
 * HTTP API, and no secret in the output.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  FUNCTIONS,
  HTTP_FUNCTIONS,
  LAMBDA_RUNTIME,
  MESSAGE_PUSH_SOURCE,
  MESSAGE_STREAM_SOURCE,
  runsInVpc,
  STREAM_FUNCTIONS,
  WEBSOCKET_FUNCTIONS,
  type FunctionDefinition,
} from '../../functions/catalog';
import { GROUP_SK_INDEX } from '../../functions/data/model';
import { buildStacks, type CruddurStacks } from '../../infrastructure/app';
import { loadConfig, type CruddurConfig } from '../../infrastructure/config';
import type { BundleResult } from '../../infrastructure/bundling/bundle';
import { MessagingService } from '../../infrastructure/constructs/messaging-service';
import { sharedBundles } from '../support/bundles';
import { testMessagingServiceOptions } from '../support/messaging-service';
import {
  Apigatewayv2Api,
  Apigatewayv2Authorizer,
  Apigatewayv2Stage,
  LambdaEventSourceMapping,
  SqsQueue,
  reference,
  setupJestMatchers,
  SynthesizedStack,
  TEST_ACCOUNT_ENV,
  Testing,
  type Block,
} from '../../infrastructure/testing';

setupJestMatchers();

const SECRET_ARN = TEST_ACCOUNT_ENV.CRUDDUR_DATABASE_SECRET_ARN;
const CONFIG_ENV = {
  ...TEST_ACCOUNT_ENV,
  CRUDDUR_API_THROTTLING_BURST_LIMIT: '40',
  CRUDDUR_API_THROTTLING_RATE_LIMIT: '12.5',
  CRUDDUR_LOG_RETENTION_DAYS: '30',
};
const READ_ACTIONS = new Set(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:Scan', 'dynamodb:ConditionCheckItem']);
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

let bundles: Readonly<Record<string, BundleResult>>;
let config: CruddurConfig;
let outdir: string;
let stacks: CruddurStacks;
let lambdas: SynthesizedStack;
let upstreamOutputs: Record<'app' | 'network', Record<string, Block>>;
/** All three stacks' synthesized JSON. */
let everything: string;

beforeAll(async () => {
  ({ bundles } = sharedBundles());
  config = loadConfig(CONFIG_ENV);
  const app = Testing.app();
  outdir = app.outdir;
  stacks = buildStacks(app, config, bundles);
  // The full synth, as `cdktf synth` runs it: prepares the stacks (cross-stack outputs and
  // remote state), writes them and zips the bundles.
  app.synth();
  lambdas = new SynthesizedStack(stacks.lambdas);
  const network = new SynthesizedStack(stacks.network);
  const appStack = new SynthesizedStack(stacks.app);
  upstreamOutputs = { app: appStack.outputs(), network: network.outputs() };
  everything = [network.json, appStack.json, lambdas.json].join('\n');
}, 300_000);

afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
});

/** The Terraform name of the function deployed for a catalog entry. */
function lambdaNamed(definition: FunctionDefinition): [string, Block] {
  const entry = Object.entries(lambdas.resources('aws_lambda_function')).find(([, body]) => body.function_name === `cruddur-dev-${definition.name}`);
  if (!entry) throw new Error(`No function for ${definition.name}`);
  return entry;
}

/** The statements of the only policy of a function's role. */
function statementsOf(definition: FunctionDefinition): Block[] {
  const [, fn] = lambdaNamed(definition);
  const roleName = /aws_iam_role\.([^.]+)\.arn/.exec(fn.role)![1]!;
  const policies = Object.values(lambdas.resources('aws_iam_role_policy')).filter((policy) => policy.role === reference('aws_iam_role', roleName, 'id'));
  expect(policies).toHaveLength(1);
  expect(Object.values(lambdas.resources('aws_iam_role_policy_attachment'))).toHaveLength(0);
  const documentName = /aws_iam_policy_document\.([^.]+)\.json/.exec(policies[0]!.policy)![1]!;
  return lambdas.dataSources('aws_iam_policy_document')[documentName]!.statement as Block[];
}

/** How the lambdas stack reads an output CDKTF added to an upstream stack for a passed field. */
function remoteOutput(stack: 'app' | 'network', pattern: RegExp): string {
  const outputs = upstreamOutputs[stack];
  const name = Object.keys(outputs).find((key) => key.startsWith('cross-stack-output-') && pattern.test(key));
  if (!name) throw new Error(`No cross-stack output matching ${pattern}`);
  return `\${data.terraform_remote_state.cross-stack-reference-input-cruddur-dev-${stack}.outputs.${name}}`;
}

/** The Terraform name of the API of a protocol (HTTP, WEBSOCKET). */
function apiNamed(protocol: 'HTTP' | 'WEBSOCKET'): string {
  const entries = Object.entries(lambdas.resources('aws_apigatewayv2_api')).filter(([, api]) => api.protocol_type === protocol);
  expect(entries).toHaveLength(1);
  return entries[0]![0];
}

/** Resources of a type that belong to one API (their api_id names it). */
function ofApi(type: string, apiName: string): [string, Block][] {
  return Object.entries(lambdas.resources(type)).filter(([, body]) => body.api_id === reference('aws_apigatewayv2_api', apiName, 'id'));
}

const tableArn = () => remoteOutput('app', /dynamodb_table.*arn$/);
const streamArn = () => remoteOutput('app', /dynamodb_table.*stream_arn$/);

describe('functions', () => {
  it('deploys exactly one function per catalog entry, from its bundle, on the catalog runtime and architecture', () => {
    // Assess
    expect(Object.keys(lambdas.resources('aws_lambda_function'))).toHaveLength(FUNCTIONS.length);
    for (const definition of FUNCTIONS) {
      const [, fn] = lambdaNamed(definition);
      expect(fn).toMatchObject({
        runtime: LAMBDA_RUNTIME.name,
        architectures: [LAMBDA_RUNTIME.architecture],
        handler: 'index.handler',
        memory_size: definition.memoryMb,
        timeout: definition.timeoutSeconds,
        description: definition.description,
      });
      // The bundler's zip, copied as it is where the function's filename points, its SHA-256 the code hash.
      const bundle = bundles[definition.name]!;
      expect(fn.filename).toMatch(/^assets\/.+\/[0-9a-f]{64}\.zip$/);
      const deployed = readFileSync(path.join(outdir, 'stacks', 'cruddur-dev-lambdas', fn.filename));
      expect(deployed.equals(readFileSync(bundle.zipFile))).toBe(true);
      expect(fn.source_code_hash).toBe(createHash('sha256').update(deployed).digest('base64'));
      expect(fn.source_code_hash).toBe(bundle.zipSha256);
    }
  });

  it("runs the catalog's VPC functions in the private subnets with the functions security group, the others outside any VPC", () => {
    const subnets = [remoteOutput('network', /aws_subnet.*private-subnet-0.*id$/), remoteOutput('network', /aws_subnet.*private-subnet-1.*id$/)];
    const group = remoteOutput('network', /aws_security_group.*function-security-group.*id$/);
    for (const definition of FUNCTIONS) {
      expect({ fn: definition.name, vpc: lambdaNamed(definition)[1].vpc_config }).toEqual({
        fn: definition.name,
        vpc: definition.usersDatabase ? { subnet_ids: subnets, security_group_ids: [group] } : undefined,
      });
    }
    // Exactly those that read PostgreSQL are inside: the summaries' consumer, the push (@connections) and the authorizer (Cognito's JWKS) are not.
    expect(
      FUNCTIONS.filter((definition) => !runsInVpc(definition))
        .map((definition) => definition.name)
        .sort(),
    ).toEqual(['message-push', 'message-stream', 'ws-authorize', 'ws-typing']);
  });

  it('passes the table name, source maps, the Powertools service, to users-database functions only the secret ARN and TLS settings, and each limit to the function enforcing it', () => {
    for (const definition of FUNCTIONS) {
      const variables = lambdaNamed(definition)[1].environment.variables;
      expect(variables).toEqual({
        TABLE_NAME: remoteOutput('app', /dynamodb_table.*name$/),
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'cruddur-messaging',
        POWERTOOLS_METRICS_NAMESPACE: 'Cruddur/cruddur-dev',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...(definition.usersDatabase
          ? { DATABASE_SECRET_ARN: SECRET_ARN, NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem', DATABASE_SSLMODE: 'verify-full' }
          : {}),
        ...(definition.kind === 'websocket-authorizer' ? { COGNITO_USER_POOL_ID: 'us-east-1_AbC123xyZ', COGNITO_CLIENT_ID: '1example23456789abcdefghij' } : {}),
        ...(definition.manageConnections
          ? { WEBSOCKET_MANAGEMENT_URL: `https://${reference('aws_apigatewayv2_api', apiNamed('WEBSOCKET'), 'id')}.execute-api.us-east-1.amazonaws.com/ws` }
          : {}),
        // The defaults (the configuration sets no CRUDDUR_POST_RATE_LIMIT nor CRUDDUR_WEBSOCKET_CONNECTIONS_PER_USER).
        ...(definition.userLimit === 'posts' ? { POST_RATE_LIMIT: '20/10s' } : {}),
        ...(definition.userLimit === 'connections' ? { WEBSOCKET_CONNECTIONS_PER_USER: '10' } : {}),
      });
    }
  });

  it('gives each function its own log group with the configured retention', () => {
    const groups = lambdas.resources('aws_cloudwatch_log_group');
    for (const definition of FUNCTIONS) {
      const [, fn] = lambdaNamed(definition);
      const groupName = /aws_cloudwatch_log_group\.([^.]+)\.name/.exec(fn.logging_config.log_group)![1]!;
      expect(groups[groupName]).toMatchObject({ name: `/aws/lambda/cruddur-dev-${definition.name}`, retention_in_days: 30 });
    }
  });
});

describe('least privilege', () => {
  it('gives every function its own role that only Lambda can assume', () => {
    const roles = Object.values(lambdas.resources('aws_iam_role'));
    expect(roles).toHaveLength(FUNCTIONS.length);
    expect(new Set(Object.values(lambdas.resources('aws_lambda_function')).map((fn) => fn.role)).size).toBe(FUNCTIONS.length);
    for (const role of roles) {
      expect(JSON.parse(role.assume_role_policy)).toEqual({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      });
    }
  });

  it.each(FUNCTIONS.map((definition) => [definition.name, definition] as const))(
    '%s may do on the table exactly what the catalog says',
    (_name, definition) => {
      // Prepare
      const statements = statementsOf(definition);
      const dynamodb = statements.filter((statement) => statement.actions.some((action: string) => action.startsWith('dynamodb:')));
      const onTable = dynamodb.filter((statement) => statement.sid === 'MessagesTable');

      // Assess
      if (definition.table.actions.length === 0) {
        expect(onTable).toEqual([]);
      } else {
        expect(onTable).toEqual([
          expect.objectContaining({
            actions: [...definition.table.actions],
            resources: [tableArn(), ...(definition.table.index ? [`${tableArn()}/index/${GROUP_SK_INDEX}`] : [])],
          }),
        ]);
        expect(onTable[0]!.condition).toEqual(
          definition.table.leadingKeys
            ? [{ test: 'ForAllValues:StringLike', variable: 'dynamodb:LeadingKeys', values: definition.table.leadingKeys.map((prefix) => `${prefix}*`) }]
            : undefined,
        );
      }
      // The function that counts messages may count them (an UpdateItem of RATE# items), and nothing else with that grant.
      expect(dynamodb.filter((statement) => statement.sid === 'PostRateLimit')).toEqual(
        definition.userLimit === 'posts'
          ? [
              {
                sid: 'PostRateLimit',
                actions: ['dynamodb:UpdateItem'],
                resources: [tableArn()],
                condition: [{ test: 'ForAllValues:StringLike', variable: 'dynamodb:LeadingKeys', values: ['RATE#*'] }],
              },
            ]
          : [],
      );
      // A users-database function may read and write the user directory's entries, and those only.
      const directory = dynamodb.filter((statement) => statement.sid === 'UserDirectory');
      expect(directory).toEqual(
        definition.usersDatabase
          ? [
              {
                sid: 'UserDirectory',
                actions: ['dynamodb:GetItem', 'dynamodb:BatchWriteItem'],
                resources: [tableArn()],
                condition: [{ test: 'ForAllValues:StringLike', variable: 'dynamodb:LeadingKeys', values: ['USERSUB#*', 'USERHANDLE#*'] }],
              },
            ]
          : [],
      );
      // The only other DynamoDB grant is the stream consumer's read of the stream, on the stream.
      const others = dynamodb.filter((statement) => !['MessagesTable', 'UserDirectory', 'PostRateLimit'].includes(statement.sid));
      if (definition.kind === 'stream') {
        expect(others).toEqual([
          expect.objectContaining({
            actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
            resources: [streamArn()],
          }),
          // The event source mapping calls ListStreams too; IAM grants it on "*" only.
          expect.objectContaining({ actions: ['dynamodb:ListStreams'], resources: ['*'] }),
        ]);
      } else {
        expect(others).toEqual([]);
      }
    },
  );

  it('grants the GSI, and only the GSI of the data model, to entries with index: true', () => {
    // Prepare: no catalog entry queries the GSI today, so exercise the flag on a copy of one.
    const listMessages = FUNCTIONS.find((fn) => fn.name === 'list-messages')!;
    const withIndex = { ...listMessages, table: { actions: ['dynamodb:Query'] as const, index: true } };

    // Act
    const synthesized = JSON.parse(
      Testing.synthScope((scope) => {
        new MessagingService(scope, 'messaging', testMessagingServiceOptions([withIndex], bundles));
      }),
    ) as Block;

    // Assess
    const [document] = Object.values(synthesized.data.aws_iam_policy_document) as Block[];
    expect(document!.statement).toContainEqual(
      expect.objectContaining({
        sid: 'MessagesTable',
        actions: ['dynamodb:Query'],
        resources: [
          'arn:aws:dynamodb:us-east-1:123456789012:table/cruddur-messages',
          `arn:aws:dynamodb:us-east-1:123456789012:table/cruddur-messages/index/${GROUP_SK_INDEX}`,
        ],
      }),
    );
  });

  it('lets read-only functions read and write nothing but the user directory (its grant is held to its keys, above)', () => {
    const readOnly = FUNCTIONS.filter((definition) => definition.table.actions.every((action) => READ_ACTIONS.has(action)));
    expect(readOnly.map((definition) => definition.name)).toEqual(expect.arrayContaining(['list-message-groups', 'list-messages', 'user-short']));
    for (const definition of readOnly) {
      const actions = statementsOf(definition)
        .filter((statement) => statement.sid !== 'UserDirectory')
        .flatMap((statement) => statement.actions as string[]);
      for (const write of WRITE_ACTIONS) expect(actions).not.toContain(write);
    }
  });

  it('has no wildcard action anywhere, and "*" resources only for the calls that support nothing else (EC2 Describe, ListStreams)', () => {
    for (const definition of FUNCTIONS) {
      for (const statement of statementsOf(definition)) {
        expect(statement.effect ?? 'Allow').toBe('Allow');
        for (const action of statement.actions as string[]) expect(action).toMatch(/^[a-z0-9-]+:[A-Za-z]+$/);
        if ((statement.resources as string[]).includes('*')) {
          expect([['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'], ['dynamodb:ListStreams']]).toContainEqual(statement.actions);
        }
        expect(statement.not_actions).toBeUndefined();
        expect(statement.not_resources).toBeUndefined();
      }
    }
    // Nor anywhere else in the stack (e.g. "dynamodb:*", "dynamodb:Get*").
    expect(lambdas.json).not.toMatch(/"[a-z0-9-]+:[A-Za-z]*\*"/);
  });

  it('writes logs to its own log group only, and manages network interfaces in this account and region only', () => {
    for (const definition of FUNCTIONS) {
      const [, fn] = lambdaNamed(definition);
      const groupName = /aws_cloudwatch_log_group\.([^.]+)\.name/.exec(fn.logging_config.log_group)![1]!;
      const statements = statementsOf(definition);
      expect(statements).toContainEqual(
        expect.objectContaining({
          sid: 'OwnLogGroup',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [`${reference('aws_cloudwatch_log_group', groupName, 'arn')}:*`],
        }),
      );
      const networkInterfaces = statements.filter((statement) => statement.sid.startsWith('VpcNetworkInterfaces'));
      if (!runsInVpc(definition)) expect(networkInterfaces).toEqual([]);
      else {
        expect(statements).toContainEqual(
          expect.objectContaining({
            sid: 'VpcNetworkInterfacesManage',
            resources: [expect.stringMatching(/^arn:aws:ec2:us-east-1:\$\{data\.aws_caller_identity\.[^}]+\.account_id\}:\*\/\*$/)],
          }),
        );
      }
    }
  });

  it('lets users-database functions read that one secret, and no other function any secret', () => {
    for (const definition of FUNCTIONS) {
      const secretStatements = statementsOf(definition).filter((statement) => statement.actions.some((action: string) => action.startsWith('secretsmanager:')));
      expect(secretStatements).toEqual(
        definition.usersDatabase ? [expect.objectContaining({ actions: ['secretsmanager:GetSecretValue'], resources: [SECRET_ARN] })] : [],
      );
    }
  });

  it('lets each stream function send to its own failure queue, and no other function to any', () => {
    const queues = Object.entries(lambdas.resources('aws_sqs_queue'));
    expect(queues).toHaveLength(STREAM_FUNCTIONS.length);
    for (const definition of FUNCTIONS) {
      const sqs = statementsOf(definition).filter((statement) => statement.actions.some((action: string) => action.startsWith('sqs:')));
      const own = queues.find(([, queue]) => queue.name === `cruddur-dev-${definition.name}-failures`);
      expect(sqs).toEqual(
        definition.kind === 'stream'
          ? [expect.objectContaining({ actions: ['sqs:SendMessage'], resources: [reference('aws_sqs_queue', own![0], 'arn')] })]
          : [],
      );
    }
  });

  it("lets only the push function post to WebSocket connections, on this API's stage only", () => {
    for (const definition of FUNCTIONS) {
      const manage = statementsOf(definition).filter((statement) => statement.actions.some((action: string) => action.startsWith('execute-api:')));
      expect(manage).toEqual(
        definition.manageConnections
          ? [
              expect.objectContaining({
                actions: ['execute-api:ManageConnections'],
                resources: [`${reference('aws_apigatewayv2_api', apiNamed('WEBSOCKET'), 'execution_arn')}/ws/POST/@connections/*`],
              }),
            ]
          : [],
      );
    }
  });
});

describe('stream event source mapping', () => {
  it('has one mapping per stream function with exactly the catalog settings', () => {
    // Prepare
    const mappings = Object.values(lambdas.resources('aws_lambda_event_source_mapping'));
    expect(mappings).toHaveLength(STREAM_FUNCTIONS.length);
    expect(STREAM_FUNCTIONS.map((fn) => [fn.name, fn.source])).toEqual([
      ['message-stream', MESSAGE_STREAM_SOURCE],
      ['message-push', MESSAGE_PUSH_SOURCE],
    ]);

    for (const definition of STREAM_FUNCTIONS) {
      const [fnName] = lambdaNamed(definition);
      const mapping = mappings.find((candidate) => candidate.function_name === reference('aws_lambda_function', fnName, 'arn'))!;
      const [queueName] = Object.entries(lambdas.resources('aws_sqs_queue')).find(([, queue]) => queue.name === `cruddur-dev-${definition.name}-failures`)!;
      const source = definition.source;

      // Assess
      expect(mapping).toMatchObject({
        event_source_arn: streamArn(),
        batch_size: source.batchSize,
        maximum_batching_window_in_seconds: source.maximumBatchingWindowInSeconds,
        starting_position: source.startingPosition,
        maximum_retry_attempts: source.maximumRetryAttempts,
        maximum_record_age_in_seconds: source.maximumRecordAgeInSeconds,
        bisect_batch_on_function_error: source.bisectBatchOnFunctionError,
        function_response_types: ['ReportBatchItemFailures'],
        destination_config: { on_failure: { destination_arn: reference('aws_sqs_queue', queueName, 'arn') } },
      });
      expect(mapping.filter_criteria.filter.map((filter: Block) => JSON.parse(filter.pattern))).toEqual(source.filterPatterns);
      expect(mapping.depends_on).toEqual([expect.stringMatching(/^aws_iam_role_policy\./)]);
    }
    expect(lambdas.json).toHaveResourceWithProperties(LambdaEventSourceMapping, { bisect_batch_on_function_error: true });
  });

  it('sends failed batches to an SSE-encrypted queue', () => {
    expect(lambdas.json).toHaveResourceWithProperties(SqsQueue, {
      name: 'cruddur-dev-message-stream-failures',
      sqs_managed_sse_enabled: true,
    });
  });

  it('counts the records a stream function can never apply, from its own log group', () => {
    // Prepare
    const filters = Object.values(lambdas.resources('aws_cloudwatch_log_metric_filter'));
    const logGroups = lambdas.resources('aws_cloudwatch_log_group');

    // Assess: one filter per stream function that logs such records (its source names the message), on its own log group.
    const reporting = STREAM_FUNCTIONS.filter((definition) => definition.reportsUnplaceableRecords);
    expect(reporting.map((definition) => definition.name)).toEqual(['message-stream']);
    expect(filters).toHaveLength(reporting.length);
    for (const definition of STREAM_FUNCTIONS) {
      const source = readdirSync(path.dirname(definition.entry))
        .map((file) => readFileSync(path.join(path.dirname(definition.entry), file), 'utf8'))
        .join('\n');
      expect({ fn: definition.name, logs: /UNPLACEABLE_MESSAGE/.test(source) }).toEqual({
        fn: definition.name,
        logs: definition.reportsUnplaceableRecords === true,
      });
    }
    for (const definition of reporting) {
      const filter = filters.find((candidate) => candidate.name === `cruddur-dev-${definition.name}-unplaceable-records`)!;
      expect(filter).toMatchObject({
        pattern: '{ $.message = "Stream records cannot be applied" }',
        metric_transformation: { namespace: 'Cruddur/cruddur-dev', value: '$.records', default_value: '0' },
      });
      const groupName = /aws_cloudwatch_log_group\.([^.]+)\.name/.exec(filter.log_group_name)![1]!;
      expect(logGroups[groupName]!.name).toBe(`/aws/lambda/cruddur-dev-${definition.name}`);
    }
  });
});

describe('HTTP API', () => {
  it('authorizes with Cognito JWTs from the configured pool and app client', () => {
    expect(lambdas.json).toHaveResourceWithProperties(Apigatewayv2Authorizer, {
      authorizer_type: 'JWT',
      identity_sources: ['$request.header.Authorization'],
      jwt_configuration: {
        issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123xyZ',
        audience: ['1example23456789abcdefghij'],
      },
    });
  });

  it('routes each HTTP catalog entry, every route but the public ones behind the JWT authorizer, to a payload 2.0 proxy integration', () => {
    // Prepare
    const http = apiNamed('HTTP');
    const [[authorizerName]] = ofApi('aws_apigatewayv2_authorizer', http) as [[string, Block]];
    const routes = ofApi('aws_apigatewayv2_route', http).map(([, route]) => route);
    const integrations = lambdas.resources('aws_apigatewayv2_integration');

    // Assess
    expect(routes.map((route) => route.route_key).sort()).toEqual(HTTP_FUNCTIONS.map((fn) => `${fn.route.method} ${fn.route.path}`).sort());
    for (const definition of HTTP_FUNCTIONS) {
      const route = routes.find((candidate) => candidate.route_key === `${definition.route.method} ${definition.route.path}`)!;
      if (definition.auth === 'public') {
        expect([route.route_key, route.authorization_type, route.authorizer_id]).toEqual([route.route_key, 'NONE', undefined]);
      } else {
        // The scopes refuse an ID token, which the JWT authorizer alone would accept (AWS's advice for access-token APIs).
        expect(route).toMatchObject({
          authorization_type: 'JWT',
          authorizer_id: reference('aws_apigatewayv2_authorizer', authorizerName, 'id'),
          authorization_scopes: ['aws.cognito.signin.user.admin'],
        });
      }
    }
    // The one public route is the profile the Cruddur frontend reads without a token.
    expect(HTTP_FUNCTIONS.filter((definition) => definition.auth === 'public').map((definition) => definition.route.path)).toEqual([
      '/api/users/{handle}/short',
    ]);
    for (const definition of HTTP_FUNCTIONS) {
      const route = routes.find((candidate) => candidate.route_key === `${definition.route.method} ${definition.route.path}`)!;
      const integrationName = /aws_apigatewayv2_integration\.([^.]+)\.id/.exec(route.target)![1]!;
      expect(integrations[integrationName]).toMatchObject({
        integration_type: 'AWS_PROXY',
        payload_format_version: '2.0',
        integration_uri: reference('aws_lambda_function', lambdaNamed(definition)[0], 'arn'),
      });
    }
  });

  it('lets the API invoke each HTTP function only through its own route', () => {
    const apiName = apiNamed('HTTP');
    const permissions = Object.values(lambdas.resources('aws_lambda_permission')).filter((permission) =>
      permission.source_arn.startsWith(reference('aws_apigatewayv2_api', apiName, 'execution_arn')),
    );
    expect(permissions).toHaveLength(HTTP_FUNCTIONS.length);
    for (const definition of HTTP_FUNCTIONS) {
      expect(permissions).toContainEqual(
        expect.objectContaining({
          action: 'lambda:InvokeFunction',
          principal: 'apigateway.amazonaws.com',
          function_name: reference('aws_lambda_function', lambdaNamed(definition)[0], 'function_name'),
          source_arn: `${reference('aws_apigatewayv2_api', apiName, 'execution_arn')}/*/${definition.route.method}${definition.route.path}`,
        }),
      );
    }
  });

  it('allows CORS from the frontend origin only', () => {
    expect(lambdas.json).toHaveResourceWithProperties(Apigatewayv2Api, {
      protocol_type: 'HTTP',
      cors_configuration: expect.objectContaining({
        allow_origins: ['https://cruddur.test'],
        allow_headers: ['authorization', 'content-type', 'idempotency-key'],
        expose_headers: ['X-Next-Cursor', 'Idempotent-Replayed'],
      }),
    });
  });

  it('serves a $default auto-deployed stage with JSON access logs and the configured throttling', () => {
    // Prepare
    const [[, stage]] = ofApi('aws_apigatewayv2_stage', apiNamed('HTTP')) as [[string, Block]];
    const accessLogs = Object.entries(lambdas.resources('aws_cloudwatch_log_group')).find(
      ([, group]) => group.name === '/aws/apigateway/cruddur-dev-messaging/access',
    )!;

    // Assess
    expect(lambdas.json).toHaveResourceWithProperties(Apigatewayv2Stage, { name: '$default', auto_deploy: true });
    expect(stage.default_route_settings).toMatchObject({ throttling_burst_limit: 40, throttling_rate_limit: 12.5 });
    expect(stage.access_log_settings.destination_arn).toBe(reference('aws_cloudwatch_log_group', accessLogs[0], 'arn'));
    expect(JSON.parse(stage.access_log_settings.format)).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
    expect(accessLogs[1].retention_in_days).toBe(30);
  });

  it('outputs the API URL without a trailing slash (the frontend appends /api/...), served by the $default stage', () => {
    // Prepare
    const apiName = apiNamed('HTTP');
    const [[, stage]] = ofApi('aws_apigatewayv2_stage', apiName) as [[string, Block]];

    // Assess: api_endpoint is `https://{id}.execute-api.{region}.amazonaws.com`, no path, no slash;
    // the stage's invoke_url is the same with a `/` at the end.
    expect(lambdas.outputs().api_url?.value).toBe(reference('aws_apigatewayv2_api', apiName, 'api_endpoint'));
    expect(stage.name).toBe('$default');
  });
});

describe('WebSocket API', () => {
  it('is a WEBSOCKET API with a REQUEST authorizer reading the token query parameter, on $connect only', () => {
    // Prepare
    const ws = apiNamed('WEBSOCKET');
    const authorizers = ofApi('aws_apigatewayv2_authorizer', ws);
    const routes = ofApi('aws_apigatewayv2_route', ws).map(([, route]) => route);
    const authorizerFn = FUNCTIONS.find((fn) => fn.kind === 'websocket-authorizer')!;

    // Assess
    expect(lambdas.resources('aws_apigatewayv2_api')[ws]).toMatchObject({
      name: 'cruddur-dev-realtime',
      protocol_type: 'WEBSOCKET',
      route_selection_expression: '$request.body.action',
    });
    expect(authorizers).toHaveLength(1);
    expect(authorizers[0]![1]).toMatchObject({
      authorizer_type: 'REQUEST',
      identity_sources: ['route.request.querystring.token'],
      authorizer_uri: reference('aws_lambda_function', lambdaNamed(authorizerFn)[0], 'invoke_arn'),
    });
    // Exactly the catalog's routes: no $default, so a client can send nothing.
    expect(routes.map((route) => route.route_key).sort()).toEqual(WEBSOCKET_FUNCTIONS.map((fn) => fn.route).sort());
    for (const route of routes) {
      expect(route).toMatchObject(
        route.route_key === '$connect'
          ? { authorization_type: 'CUSTOM', authorizer_id: reference('aws_apigatewayv2_authorizer', authorizers[0]![0], 'id') }
          : { authorization_type: 'NONE' },
      );
      const integrationName = /aws_apigatewayv2_integration\.([^.]+)\.id/.exec(route.target)![1]!;
      const definition = WEBSOCKET_FUNCTIONS.find((fn) => fn.route === route.route_key)!;
      expect(lambdas.resources('aws_apigatewayv2_integration')[integrationName]).toMatchObject({
        integration_type: 'AWS_PROXY',
        integration_uri: reference('aws_lambda_function', lambdaNamed(definition)[0], 'invoke_arn'),
      });
    }
  });

  it("lets the WebSocket API invoke its authorizer and each route's function, from this API only", () => {
    const ws = apiNamed('WEBSOCKET');
    const executionArn = reference('aws_apigatewayv2_api', ws, 'execution_arn');
    const [[authorizerName]] = ofApi('aws_apigatewayv2_authorizer', ws) as [[string, Block]];
    const permissions = Object.values(lambdas.resources('aws_lambda_permission')).filter((permission) => permission.source_arn.startsWith(executionArn));
    const authorizerFn = FUNCTIONS.find((fn) => fn.kind === 'websocket-authorizer')!;
    expect(permissions).toHaveLength(WEBSOCKET_FUNCTIONS.length + 1);
    expect(permissions).toContainEqual(
      expect.objectContaining({
        principal: 'apigateway.amazonaws.com',
        function_name: reference('aws_lambda_function', lambdaNamed(authorizerFn)[0], 'function_name'),
        source_arn: `${executionArn}/authorizers/${reference('aws_apigatewayv2_authorizer', authorizerName, 'id')}`,
      }),
    );
    for (const definition of WEBSOCKET_FUNCTIONS) {
      expect(permissions).toContainEqual(
        expect.objectContaining({
          function_name: reference('aws_lambda_function', lambdaNamed(definition)[0], 'function_name'),
          source_arn: `${executionArn}/ws/${definition.route}`,
        }),
      );
    }
  });

  it('serves the ws stage with throttling, without execution logs or data traces (the URL holds the token), and outputs its wss:// URL', () => {
    const ws = apiNamed('WEBSOCKET');
    const [[, stage]] = ofApi('aws_apigatewayv2_stage', ws) as [[string, Block]];
    expect(stage).toMatchObject({
      name: 'ws',
      auto_deploy: true,
      default_route_settings: { throttling_burst_limit: 40, throttling_rate_limit: 12.5, logging_level: 'OFF', data_trace_enabled: false },
    });
    expect(lambdas.outputs().websocket_url?.value).toBe(`${reference('aws_apigatewayv2_api', ws, 'api_endpoint')}/ws`);
  });

  it('has no access logs by default, so a fresh account (no API Gateway logging role) can create the stage', () => {
    const [[, stage]] = ofApi('aws_apigatewayv2_stage', apiNamed('WEBSOCKET')) as [[string, Block]];
    expect(stage.access_log_settings).toBeUndefined();
    expect(lambdas.resources('aws_api_gateway_account')).toEqual({});
  });

  it.each(['account-role', 'create-role'] as const)('logs access without the token with CRUDDUR_WEBSOCKET_ACCESS_LOGS=%s', (accessLogs) => {
    // Prepare
    const stacks = buildStacks(Testing.app(), loadConfig({ ...CONFIG_ENV, CRUDDUR_WEBSOCKET_ACCESS_LOGS: accessLogs }), bundles);
    for (const stack of [stacks.lambdas, stacks.network, stacks.app]) stack.prepareStack();

    // Act
    const synthesized = new SynthesizedStack(stacks.lambdas);

    // Assess
    const [[stageName, stage]] = Object.entries(synthesized.resources('aws_apigatewayv2_stage')).filter(([, body]) => body.name === 'ws') as [[string, Block]];
    const format = stage.access_log_settings.format as string;
    expect(JSON.parse(format)).toMatchObject({ routeKey: '$context.routeKey', connectionId: '$context.connectionId' });
    expect(format).not.toMatch(/querystring|token/i);
    const accounts = Object.entries(synthesized.resources('aws_api_gateway_account'));
    if (accessLogs === 'account-role') {
      expect(accounts).toEqual([]);
      return;
    }
    // The role is made the account's before the stage needs it.
    expect(accounts).toHaveLength(1);
    const [[accountName, account]] = accounts as [[string, Block]];
    const roleName = /aws_iam_role\.([^.]+)\.arn/.exec(account.cloudwatch_role_arn)![1]!;
    const role = synthesized.resources('aws_iam_role')[roleName]!;
    expect(JSON.parse(role.assume_role_policy).Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 'apigateway.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
    expect(Object.values(synthesized.resources('aws_iam_role_policy_attachment'))).toContainEqual(
      expect.objectContaining({
        role: reference('aws_iam_role', roleName, 'name'),
        policy_arn: 'arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs',
      }),
    );
    expect(stage.depends_on).toEqual([`aws_api_gateway_account.${accountName}`]);
    expect(stageName).toBeDefined();
  });
});

describe('secrets', () => {
  it('passes the database secret by ARN only: its env var and its IAM grant, per users-database function', () => {
    // Only the ARN travels; nothing reads the secret's value at deploy time. The scan of every
    // synthesized file and bundle for secret values is in infrastructure-security.test.ts.
    expect(everything.split(SECRET_ARN).length - 1).toBe(
      FUNCTIONS.filter((fn) => fn.usersDatabase).length * 2, // env var + IAM resource per function
    );
  });
});

describe('prod', () => {
  it('names everything after the environment and applies its settings', () => {
    // Prepare
    const prodConfig = loadConfig({ ...CONFIG_ENV, CRUDDUR_ENV: 'prod', CRUDDUR_API_THROTTLING_BURST_LIMIT: '300' });

    // Act
    const prod = buildStacks(Testing.app(), prodConfig, bundles);
    // What app.synth() does before writing (cross-stack wiring), without zipping the bundles again.
    for (const stack of [prod.lambdas, prod.network, prod.app]) stack.prepareStack();
    const synthesized = new SynthesizedStack(prod.lambdas);

    // Assess
    expect(prod.lambdas.node.id).toBe('cruddur-prod-lambdas');
    expect(
      Object.values(synthesized.resources('aws_lambda_function'))
        .map((fn) => fn.function_name)
        .sort(),
    ).toEqual(FUNCTIONS.map((fn) => `cruddur-prod-${fn.name}`).sort());
    expect(synthesized.json).toHaveResourceWithProperties(Apigatewayv2Stage, {
      default_route_settings: expect.objectContaining({ throttling_burst_limit: 300 }),
    });
    expect(synthesized.json).toMatch(/cross-stack-reference-input-cruddur-prod-app/);
  });
});

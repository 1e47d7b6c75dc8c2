/**
 * The messaging service: one function per catalog entry (`functions/catalog.ts`), in the
 * VPC exactly when it reads PostgreSQL (`runsInVpc`), each with a least-privilege role derived
 * from its catalog entry; the HTTP API routing to the HTTP functions; the WebSocket API for the
 * WebSocket routes; and one stream event source mapping (with an encrypted on-failure queue)
 * per stream function. Everything here is read off the catalog; nothing about
 * an individual function is written twice.
 */
import { Construct } from 'constructs';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import type { DataAwsIamPolicyDocumentStatement, DataAwsIamPolicyDocumentStatementCondition } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { CloudwatchLogMetricFilter } from '@cdktf/provider-aws/lib/cloudwatch-log-metric-filter';
import { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import {
  runsInVpc,
  streamReadersProblem,
  WEBSOCKET_AUTHORIZER,
  type FunctionDefinition,
  type StreamFunction,
  type WebSocketFunction,
} from '../../functions/catalog';
import { GROUP_SK_INDEX, KeyPrefix } from '../../functions/data/model';
import { UNPLACEABLE_MESSAGE } from '../../functions/message-stream/summaries';
import { functionEnvironment } from '../../functions/config/function-config';
import type { UserLimits } from '../../functions/config/limits';
import type { FunctionBundles } from '../bundling/bundle';
import { apiGatewayLogsRoleName, type WebSocketAccessLogs } from '../config';
import { HttpApi } from './http-api';
import { WebSocketApi } from './websocket-api';
import { NodejsFunction } from './nodejs-function';

/** What the event source mapping, acting with the stream function's role, calls on the table's stream. */
const STREAM_READ_ACTIONS = ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'];
/** ListStreams has no resource-level permission: IAM only grants it on "*" (it lists stream ARNs, no data). */
const STREAM_LIST_ACTIONS = ['dynamodb:ListStreams'];
/** What a function that reads users does with the user directory: one GetItem per lookup, one BatchWriteItem per PostgreSQL hit. */
const USER_DIRECTORY_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchWriteItem'];
/** SQS keeps failed-batch records this long (the maximum, 14 days). */
const FAILURE_RETENTION_SECONDS = 14 * 24 * 60 * 60;

export interface MessagingServiceOptions {
  /** e.g. `cruddur-dev`; functions are named `{namePrefix}-{catalog name}`. */
  namePrefix: string;
  region: string;
  functions: readonly FunctionDefinition[];
  bundles: FunctionBundles;
  table: { name: string; arn: string; streamArn: string };
  network: { subnetIds: string[]; securityGroupId: string };
  /** Secrets Manager secret of the users database, for functions with `usersDatabase`. */
  databaseSecretArn: string;
  /** The customer-managed KMS key of that secret, if any: those functions may decrypt with it through Secrets Manager only. */
  databaseSecretKmsKeyArn?: string;
  jwt: { issuer: string; audience: string[] };
  /** The user pool and app client the WebSocket authorizer accepts tokens of. */
  cognito: { userPoolId: string; clientId: string };
  frontendOrigins: string[];
  throttling: { burstLimit: number; rateLimit: number };
  /** Per-route HTTP API metrics. */
  detailedMetrics: boolean;
  websocketAccessLogs: WebSocketAccessLogs;
  /** Per-user limits, passed to the functions that enforce them. */
  limits: UserLimits;
  /** The functions' log level. */
  logLevel: string;
  logRetentionDays: number;
}

/** Confines a statement to items whose partition key starts with one of `prefixes`. */
function leadingKeysCondition(prefixes: readonly string[]): DataAwsIamPolicyDocumentStatementCondition {
  return { test: 'ForAllValues:StringLike', variable: 'dynamodb:LeadingKeys', values: prefixes.map((prefix) => `${prefix}*`) };
}

export class MessagingService extends Construct {
  /** Functions by catalog name. */
  public readonly functions: Readonly<Record<string, NodejsFunction>>;
  public readonly api: HttpApi;
  /** On-failure destinations of the stream mappings, by function name. */
  public readonly failureQueues: Readonly<Record<string, SqsQueue>>;
  public readonly eventSourceMappings: Readonly<Record<string, LambdaEventSourceMapping>>;
  public readonly apiUrl: string;
  /** The WebSocket API, when the catalog has WebSocket functions. */
  public readonly websocketApi?: WebSocketApi;
  /** The namespace of the functions' business metrics and of the log metric filters: `Cruddur/cruddur-{env}`. */
  public readonly metricsNamespace: string;
  /** The log metric filters' metrics (unplaceable records), by function name. */
  public readonly unplaceableRecordsMetrics: Readonly<Record<string, string>>;

  constructor(
    scope: Construct,
    id: string,
    private readonly options: MessagingServiceOptions,
  ) {
    super(scope, id);
    const readers = streamReadersProblem(options.functions);
    if (readers) throw new Error(readers);
    this.metricsNamespace = `Cruddur/${options.namePrefix}`;
    const unplaceable: Record<string, string> = {};
    this.unplaceableRecordsMetrics = unplaceable;
    const account = new DataAwsCallerIdentity(this, 'account');
    const vpcStatements = networkInterfaceStatements(options.region, account.accountId);
    // Before the functions: the push function's environment and grant name it.
    const websocketApi = options.functions.some((definition) => definition.kind === 'websocket')
      ? new WebSocketApi(this, 'websocket-api', {
          name: `${options.namePrefix}-realtime`,
          region: options.region,
          throttling: options.throttling,
          logRetentionDays: options.logRetentionDays,
          accessLogs: options.websocketAccessLogs,
          loggingRoleName: apiGatewayLogsRoleName(options.namePrefix),
        })
      : undefined;
    this.websocketApi = websocketApi;

    const functions: Record<string, NodejsFunction> = {};
    const failureQueues: Record<string, SqsQueue> = {};
    const mappings: Record<string, LambdaEventSourceMapping> = {};
    for (const definition of options.functions) {
      const bundle = options.bundles[definition.name];
      if (!bundle) throw new Error(`No bundle for function "${definition.name}"; bundle every catalog entry before synth`);

      const failureQueue = definition.kind === 'stream' ? this.failureQueue(definition) : undefined;
      const fn = new NodejsFunction(this, definition.name, {
        functionName: `${options.namePrefix}-${definition.name}`,
        description: definition.description,
        bundle,
        memoryMb: definition.memoryMb,
        timeoutSeconds: definition.timeoutSeconds,
        environment: this.environment(definition),
        ...(runsInVpc(definition) ? { vpc: { subnetIds: options.network.subnetIds, securityGroupIds: [options.network.securityGroupId] } } : {}),
        logRetentionDays: options.logRetentionDays,
        statements: [...this.statements(definition, failureQueue), ...(runsInVpc(definition) ? vpcStatements : [])],
      });
      functions[definition.name] = fn;
      if (definition.kind === 'stream' && failureQueue) {
        failureQueues[definition.name] = failureQueue;
        mappings[definition.name] = this.streamMapping(definition, fn, failureQueue);
        if (definition.reportsUnplaceableRecords) unplaceable[definition.name] = this.unplaceableRecordsMetric(definition, fn);
      }
    }
    this.functions = functions;
    if (websocketApi) {
      const authorizer = WEBSOCKET_AUTHORIZER;
      if (!authorizer || !options.functions.includes(authorizer)) throw new Error("WebSocket routes need the catalog's websocket-authorizer");
      websocketApi.addRoutes(
        { definition: authorizer, fn: functions[authorizer.name]! },
        options.functions
          .filter((definition): definition is WebSocketFunction => definition.kind === 'websocket')
          .map((definition) => ({ definition, fn: functions[definition.name]! })),
      );
    }
    this.failureQueues = failureQueues;
    this.eventSourceMappings = mappings;

    this.api = new HttpApi(this, 'http-api', {
      name: `${options.namePrefix}-messaging`,
      jwtIssuer: options.jwt.issuer,
      jwtAudience: options.jwt.audience,
      corsAllowOrigins: options.frontendOrigins,
      throttling: options.throttling,
      detailedMetrics: options.detailedMetrics,
      logRetentionDays: options.logRetentionDays,
      routes: options.functions.flatMap((definition) => {
        if (definition.kind !== 'http') return [];
        const fn = functions[definition.name]!;
        return [{ ...definition.route, auth: definition.auth, functionName: fn.functionName, functionArn: fn.functionArn }];
      }),
    });
    this.apiUrl = this.api.url;
  }

  /** What the function reads (`functionEnvironment`, shared with the local emulator), plus source maps. */
  private environment(definition: FunctionDefinition): Record<string, string> {
    return {
      ...functionEnvironment(definition, {
        tableName: this.options.table.name,
        usersDatabase: { secretArn: this.options.databaseSecretArn },
        cognito: this.options.cognito,
        ...(this.websocketApi ? { websocketManagementUrl: this.websocketApi.managementUrl } : {}),
        limits: this.options.limits,
        metricsNamespace: this.metricsNamespace,
        logLevel: this.options.logLevel,
      }),
      // The bundles ship their source maps: stack traces in the logs point at the TypeScript.
      NODE_OPTIONS: '--enable-source-maps',
    };
  }

  /** Exactly what the catalog entry says, on exactly the resources it needs. */
  private statements(definition: FunctionDefinition, failureQueue?: SqsQueue): DataAwsIamPolicyDocumentStatement[] {
    const { table, databaseSecretArn } = this.options;
    const statements: DataAwsIamPolicyDocumentStatement[] = [];
    if (definition.table.actions.length > 0) {
      const { leadingKeys } = definition.table;
      statements.push({
        sid: 'MessagesTable',
        actions: [...definition.table.actions],
        resources: [table.arn, ...(definition.table.index ? [`${table.arn}/index/${GROUP_SK_INDEX}`] : [])],
        ...(leadingKeys ? { condition: [leadingKeysCondition(leadingKeys)] } : {}),
      });
    }
    if (definition.userLimit === 'posts') {
      // The per-user message counts (data/rate-limit-repository.ts): their items only.
      statements.push({
        sid: 'PostRateLimit',
        actions: ['dynamodb:UpdateItem'],
        resources: [table.arn],
        condition: [leadingKeysCondition([KeyPrefix.rateLimit])],
      });
    }
    if (definition.kind === 'stream') {
      statements.push({ sid: 'MessagesTableStream', actions: STREAM_READ_ACTIONS, resources: [table.streamArn] });
      statements.push({ sid: 'MessagesTableStreamList', actions: STREAM_LIST_ACTIONS, resources: ['*'] });
    }
    if (failureQueue) {
      statements.push({ sid: 'StreamFailureDestination', actions: ['sqs:SendMessage'], resources: [failureQueue.arn] });
    }
    if (definition.manageConnections) {
      if (!this.websocketApi) throw new Error(`${definition.name} posts to WebSocket connections, but the catalog has no WebSocket API`);
      // Posting to this API's connections only (not DeleteConnection, not another API's).
      statements.push({ sid: 'WebSocketConnections', actions: ['execute-api:ManageConnections'], resources: [this.websocketApi.manageConnectionsArn] });
    }
    if (definition.usersDatabase) {
      // The user directory in front of PostgreSQL (functions/domain/user-directory.ts): its entries only.
      statements.push({
        sid: 'UserDirectory',
        actions: [...USER_DIRECTORY_ACTIONS],
        resources: [table.arn],
        condition: [leadingKeysCondition([KeyPrefix.userBySub, KeyPrefix.userByHandle])],
      });
      statements.push({ sid: 'UsersDatabaseSecret', actions: ['secretsmanager:GetSecretValue'], resources: [databaseSecretArn] });
      if (this.options.databaseSecretKmsKeyArn) {
        statements.push({
          sid: 'UsersDatabaseSecretKey',
          actions: ['kms:Decrypt'],
          resources: [this.options.databaseSecretKmsKeyArn],
          // Only when Secrets Manager decrypts the secret on the function's behalf, never directly.
          condition: [{ test: 'StringEquals', variable: 'kms:ViaService', values: [`secretsmanager.${this.options.region}.amazonaws.com`] }],
        });
      }
    }
    return statements;
  }

  /**
   * Records a stream function can never apply (a group without a group item: a table written
   * by the original and not yet migrated) are logged at once instead of retried; this metric
   * counts them, so they are as visible as the on-failure queue (and alarms on them). @returns the metric's name.
   */
  private unplaceableRecordsMetric(definition: StreamFunction, fn: NodejsFunction): string {
    const metricName = `${definition.name}-unplaceable-records`;
    new CloudwatchLogMetricFilter(this, `${definition.name}-unplaceable`, {
      name: `${this.options.namePrefix}-${definition.name}-unplaceable-records`,
      logGroupName: fn.logGroup.name,
      pattern: `{ $.message = "${UNPLACEABLE_MESSAGE}" }`,
      metricTransformation: {
        name: metricName,
        namespace: this.metricsNamespace,
        value: '$.records',
        defaultValue: '0',
        unit: 'Count',
      },
    });
    return metricName;
  }

  /** Where the stream mapping sends a batch's metadata once retries and record age are exhausted. */
  private failureQueue(definition: StreamFunction): SqsQueue {
    return new SqsQueue(this, `${definition.name}-failures`, {
      name: `${this.options.namePrefix}-${definition.name}-failures`,
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: FAILURE_RETENTION_SECONDS,
    });
  }

  /** The catalog's stream source, setting for setting. */
  private streamMapping(definition: StreamFunction, fn: NodejsFunction, failureQueue: SqsQueue): LambdaEventSourceMapping {
    const source = definition.source;
    return new LambdaEventSourceMapping(this, `${definition.name}-stream`, {
      eventSourceArn: this.options.table.streamArn,
      functionName: fn.functionArn,
      startingPosition: source.startingPosition,
      batchSize: source.batchSize,
      maximumBatchingWindowInSeconds: source.maximumBatchingWindowInSeconds,
      maximumRetryAttempts: source.maximumRetryAttempts,
      maximumRecordAgeInSeconds: source.maximumRecordAgeInSeconds,
      bisectBatchOnFunctionError: source.bisectBatchOnFunctionError,
      functionResponseTypes: [...source.functionResponseTypes],
      filterCriteria: { filter: source.filterPatterns.map((pattern) => ({ pattern: JSON.stringify(pattern) })) },
      destinationConfig: { onFailure: { destinationArn: failureQueue.arn } },
      // Lambda validates the role's stream and queue permissions when the mapping is created.
      dependsOn: [fn.rolePolicy],
    });
  }
}

/**
 * What Lambda needs to attach a function to the VPC, as in AWSLambdaVPCAccessExecutionRole
 * but without its logs-anywhere grant and with everything that supports resource-level
 * permissions scoped to this account and region. The two Describe actions only work on "*".
 */
function networkInterfaceStatements(region: string, accountId: string): DataAwsIamPolicyDocumentStatement[] {
  return [
    {
      sid: 'VpcNetworkInterfacesDescribe',
      actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
      resources: ['*'],
    },
    {
      sid: 'VpcNetworkInterfacesManage',
      actions: ['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
      resources: [`arn:aws:ec2:${region}:${accountId}:*/*`],
    },
  ];
}

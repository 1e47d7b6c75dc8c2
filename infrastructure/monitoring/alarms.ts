/**
 * Every alarm of a deployment, as data: what it watches, its threshold and why, and the
 * runbook entry an operator follows (`docs/operations.md#<kind>`). The alarms are derived from
 * the catalog (`functions/catalog.ts`): a function gets its errors and throttles alarms, a
 * stream function its iterator-age and failure-queue alarms (and the unplaceable-records one
 * when it reports them), the HTTP and WebSocket APIs and the table theirs. Adding a catalog
 * entry adds its alarms; nothing here names a function.
 *
 * Plain data, no CDKTF: `constructs/monitoring.ts` turns each into a CloudWatch alarm, and the
 * tests and the docs test read the same list.
 */
import type { FunctionDefinition, StreamFunction } from '../../functions/catalog';

/** The kinds of alarm; each is a heading of docs/operations.md (its anchor). */
export const ALARM_KINDS = [
  'function-errors',
  'function-throttles',
  'stream-iterator-age',
  'stream-failure-queue',
  'unplaceable-records',
  'http-api-5xx-rate',
  'http-api-latency',
  'websocket-api-errors',
  'dynamodb-throttles',
  'dynamodb-system-errors',
] as const;
type AlarmKind = (typeof ALARM_KINDS)[number];

/** A metric as CloudWatch names it. */
export interface MetricRef {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  /** `Sum`, `Maximum`, `p99`... */
  stat: string;
  /** What a dashboard's legend calls it (default: the metric and the statistic). */
  label?: string;
}

export interface AlarmSpec {
  kind: AlarmKind;
  /** `cruddur-{env}-{subject}-{kind}`. */
  name: string;
  /** What it watches, in a sentence; the runbook link is added to the alarm's description. */
  summary: string;
  /** One metric, or several combined by `expression` (CloudWatch metric math over m0, m1...). */
  metrics: MetricRef[];
  expression?: string;
  threshold: number;
  periodSeconds: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
}

/** The thresholds, each with its reason: the one place to tune them. */
const THRESHOLDS = {
  /** The handlers answer every expected failure themselves (4xx, 503): an Error is a crash, a timeout or memory running out. One is worth a look. */
  functionErrors: { threshold: 1, periodSeconds: 300, evaluationPeriods: 1 },
  /** A throttled invocation means the account's (or a reserved) concurrency ran out: requests were refused or stream batches delayed. */
  functionThrottles: { threshold: 1, periodSeconds: 300, evaluationPeriods: 1 },
  /**
   * A quarter of the mapping's maximum record age, for 5 minutes on end: past the record age a
   * batch is dropped to the on-failure queue, so this warns while there is time to act.
   */
  iteratorAgeShareOfMaximum: 0.25,
  iteratorAge: { periodSeconds: 60, evaluationPeriods: 5 },
  /** Any message: each is a batch the function never applied, and its records leave the stream after 24 hours. */
  failureQueue: { threshold: 1, periodSeconds: 300, evaluationPeriods: 1 },
  /** Any record: a message whose group has no group item (a table of the original's, not migrated). */
  unplaceableRecords: { threshold: 1, periodSeconds: 300, evaluationPeriods: 1 },
  /** 1 % of requests in two 5-minute periods running, counted only from 20 requests up (a quiet night's one 500 is not an outage). */
  http5xxPercent: { threshold: 1, minimumRequests: 20, periodSeconds: 300, evaluationPeriods: 2 },
  /** p99 over 2 s for 15 minutes: the functions answer in tens of milliseconds warm, a cold start in under a second. */
  httpLatencyP99Ms: { threshold: 2000, periodSeconds: 300, evaluationPeriods: 3 },
  /** Five failed integrations in 5 minutes: $connect or $disconnect failing, or the authorizer. */
  websocketErrors: { threshold: 5, periodSeconds: 300, evaluationPeriods: 1 },
  /** Ten throttled requests in 5 minutes: the SDK retries a few, more means a hot partition or capacity too low (provisioned). */
  dynamodbThrottles: { threshold: 10, periodSeconds: 300, evaluationPeriods: 1 },
  /** Any: DynamoDB's own failures (500s), which the SDK retries; a steady count is an AWS event. */
  dynamodbSystemErrors: { threshold: 1, periodSeconds: 300, evaluationPeriods: 2 },
} as const;

/** The table operations the functions use, for the per-operation SystemErrors metric. */
const TABLE_OPERATIONS = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'BatchWriteItem', 'TransactWriteItems'] as const;

export interface AlarmSubjects {
  namePrefix: string;
  functions: readonly FunctionDefinition[];
  /** The deployed name of a catalog function. */
  functionName: (definition: FunctionDefinition) => string;
  /** The on-failure queue's name of a stream function. */
  failureQueueName: (definition: StreamFunction) => string;
  /** Namespace and name of a stream function's unplaceable-records metric, if it reports them. */
  unplaceableMetric: (definition: StreamFunction) => { namespace: string; metricName: string } | undefined;
  httpApi: { apiId: string; stage: string };
  websocketApi?: { apiId: string; stage: string };
  tableName: string;
}

/** The sum of two metrics of one namespace and dimensions (an alarm on either kind of failure). */
const sumOfTwo = (namespace: string, metricNames: [string, string], dimensions: Record<string, string>) => ({
  metrics: metricNames.map((metricName) => ({ namespace, metricName, dimensions, stat: 'Sum' })),
  expression: 'm0 + m1',
});

/** A threshold's fields as an alarm takes them: every evaluated period must breach. */
const rule = (limit: { threshold: number; periodSeconds: number; evaluationPeriods: number }) => ({
  threshold: limit.threshold,
  periodSeconds: limit.periodSeconds,
  evaluationPeriods: limit.evaluationPeriods,
  datapointsToAlarm: limit.evaluationPeriods,
});

export function alarmSpecs(subjects: AlarmSubjects): AlarmSpec[] {
  const { namePrefix } = subjects;
  const alarms: AlarmSpec[] = [];
  const lambda = (definition: FunctionDefinition, metricName: string, stat: string): MetricRef => ({
    namespace: 'AWS/Lambda',
    metricName,
    dimensions: { FunctionName: subjects.functionName(definition) },
    stat,
  });
  for (const definition of subjects.functions) {
    alarms.push(
      {
        kind: 'function-errors',
        name: `${namePrefix}-${definition.name}-errors`,
        summary: `${definition.name} failed invocations (crashes, timeouts)`,
        metrics: [lambda(definition, 'Errors', 'Sum')],
        ...rule(THRESHOLDS.functionErrors),
      },
      {
        kind: 'function-throttles',
        name: `${namePrefix}-${definition.name}-throttles`,
        summary: `${definition.name} invocations refused for want of concurrency`,
        metrics: [lambda(definition, 'Throttles', 'Sum')],
        ...rule(THRESHOLDS.functionThrottles),
      },
    );
    if (definition.kind !== 'stream') continue;
    const ageMs = definition.source.maximumRecordAgeInSeconds * 1000 * THRESHOLDS.iteratorAgeShareOfMaximum;
    alarms.push(
      {
        kind: 'stream-iterator-age',
        name: `${namePrefix}-${definition.name}-iterator-age`,
        summary: `${definition.name} is more than ${ageMs / 1000} s behind the table's stream (records older than ${definition.source.maximumRecordAgeInSeconds} s are given up)`,
        metrics: [lambda(definition, 'IteratorAge', 'Maximum')],
        ...rule({ threshold: ageMs, ...THRESHOLDS.iteratorAge }),
      },
      {
        kind: 'stream-failure-queue',
        name: `${namePrefix}-${definition.name}-failure-queue`,
        summary: `batches ${definition.name} never applied wait in its on-failure queue (npm run redrive)`,
        metrics: [
          {
            namespace: 'AWS/SQS',
            metricName: 'ApproximateNumberOfMessagesVisible',
            dimensions: { QueueName: subjects.failureQueueName(definition) },
            stat: 'Maximum',
          },
        ],
        ...rule(THRESHOLDS.failureQueue),
      },
    );
    const unplaceable = subjects.unplaceableMetric(definition);
    if (unplaceable) {
      alarms.push({
        kind: 'unplaceable-records',
        name: `${namePrefix}-${definition.name}-unplaceable-records`,
        summary: `${definition.name} met messages of groups without a group item (npm run ddb:migrate)`,
        metrics: [{ ...unplaceable, dimensions: {}, stat: 'Sum' }],
        ...rule(THRESHOLDS.unplaceableRecords),
      });
    }
  }

  const http = { ApiId: subjects.httpApi.apiId, Stage: subjects.httpApi.stage };
  const { http5xxPercent, httpLatencyP99Ms } = THRESHOLDS;
  alarms.push(
    {
      kind: 'http-api-5xx-rate',
      name: `${namePrefix}-http-api-5xx-rate`,
      summary: `more than ${http5xxPercent.threshold} % of HTTP API requests answered 5xx`,
      metrics: [
        { namespace: 'AWS/ApiGateway', metricName: '5xx', dimensions: http, stat: 'Sum' },
        { namespace: 'AWS/ApiGateway', metricName: 'Count', dimensions: http, stat: 'Sum' },
      ],
      expression: `IF(m1 >= ${http5xxPercent.minimumRequests}, 100 * m0 / m1, 0)`,
      ...rule(http5xxPercent),
    },
    {
      kind: 'http-api-latency',
      name: `${namePrefix}-http-api-latency`,
      summary: `HTTP API p99 latency over ${httpLatencyP99Ms.threshold} ms`,
      metrics: [{ namespace: 'AWS/ApiGateway', metricName: 'Latency', dimensions: http, stat: 'p99' }],
      ...rule(httpLatencyP99Ms),
    },
  );
  if (subjects.websocketApi) {
    const ws = { ApiId: subjects.websocketApi.apiId, Stage: subjects.websocketApi.stage };
    alarms.push({
      kind: 'websocket-api-errors',
      name: `${namePrefix}-websocket-api-errors`,
      summary: 'WebSocket API integrations ($connect, $disconnect) or the authorizer failing',
      ...sumOfTwo('AWS/ApiGateway', ['IntegrationError', 'ExecutionError'], ws),
      ...rule(THRESHOLDS.websocketErrors),
    });
  }
  const table = { TableName: subjects.tableName };
  alarms.push(
    {
      kind: 'dynamodb-throttles',
      name: `${namePrefix}-dynamodb-throttles`,
      summary: 'requests to the messages table throttled',
      ...sumOfTwo('AWS/DynamoDB', ['ReadThrottleEvents', 'WriteThrottleEvents'], table),
      ...rule(THRESHOLDS.dynamodbThrottles),
    },
    {
      kind: 'dynamodb-system-errors',
      name: `${namePrefix}-dynamodb-system-errors`,
      summary: "DynamoDB's own errors on the messages table",
      metrics: TABLE_OPERATIONS.map((operation) => ({
        namespace: 'AWS/DynamoDB',
        metricName: 'SystemErrors',
        dimensions: { ...table, Operation: operation },
        stat: 'Sum',
      })),
      expression: TABLE_OPERATIONS.map((_, index) => `m${index}`).join(' + '),
      ...rule(THRESHOLDS.dynamodbSystemErrors),
    },
  );
  return alarms;
}

/**
 * What tells the team something is wrong, and where to look: one SNS topic per environment
 * (`cruddur-{env}-alarms`, an email subscribed when `CRUDDUR_ALARM_EMAIL` is set), the alarms
 * of `../monitoring/alarms.ts` (derived from the catalog) notifying it when they fire and when
 * they clear, and one dashboard (`cruddur-{env}`) of the same metrics plus the functions'
 * business figures.
 *
 * The topic is not encrypted: CloudWatch alarms cannot publish to a topic under the AWS
 * managed SNS key, and a customer-managed key costs $1 a month for alarm names and states.
 */
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { CloudwatchMetricAlarm, type CloudwatchMetricAlarmMetricQuery } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { STREAM_FUNCTIONS, type FunctionDefinition } from '../../functions/catalog';
import { BUSINESS_METRICS } from '../../functions/observability/metric-names';
import { SERVICE_NAME } from '../../functions/config/function-config';
import { type AlarmSpec, alarmSpecs, type MetricRef } from '../monitoring/alarms';
import type { MessagingService } from './messaging-service';

export interface MonitoringOptions {
  namePrefix: string;
  region: string;
  functions: readonly FunctionDefinition[];
  messaging: MessagingService;
  tableName: string;
  /** Subscribed to the alarms' topic (AWS sends a confirmation mail first). */
  alarmEmail?: string;
}

/** Where an alarm's runbook is: the heading of its kind. */
const runbook = (spec: AlarmSpec) => `docs/operations.md#${spec.kind}`;

export class Monitoring extends Construct {
  public readonly topic: SnsTopic;
  public readonly alarms: Readonly<Record<string, CloudwatchMetricAlarm>>;
  public readonly dashboard: CloudwatchDashboard;
  /** Every metric the alarms and the dashboard name (the tests check each exists). */
  public readonly metrics: readonly MetricRef[];

  constructor(scope: Construct, id: string, options: MonitoringOptions) {
    super(scope, id);
    const { messaging, namePrefix } = options;
    this.topic = new SnsTopic(this, 'alarms-topic', { name: `${namePrefix}-alarms` });
    if (options.alarmEmail) {
      new SnsTopicSubscription(this, 'alarms-email', { topicArn: this.topic.arn, protocol: 'email', endpoint: options.alarmEmail });
    }

    const specs = alarmSpecs({
      namePrefix,
      functions: options.functions,
      functionName: (definition) => messaging.functions[definition.name]!.functionName,
      failureQueueName: (definition) => messaging.failureQueues[definition.name]!.name,
      unplaceableMetric: (definition) => {
        const metricName = messaging.unplaceableRecordsMetrics[definition.name];
        return metricName === undefined ? undefined : { namespace: messaging.metricsNamespace, metricName };
      },
      httpApi: { apiId: messaging.api.api.id, stage: messaging.api.stage.name },
      ...(messaging.websocketApi ? { websocketApi: { apiId: messaging.websocketApi.api.id, stage: messaging.websocketApi.stage.name } } : {}),
      tableName: options.tableName,
    });
    const alarms: Record<string, CloudwatchMetricAlarm> = {};
    for (const spec of specs) alarms[spec.name] = this.alarm(spec);
    this.alarms = alarms;

    const widgets = dashboardWidgets(options);
    this.dashboard = new CloudwatchDashboard(this, 'dashboard', {
      dashboardName: namePrefix,
      dashboardBody: Fn.jsonencode({ widgets: widgets.map((widget) => widget.json) }),
    });
    this.metrics = [...specs.flatMap((spec) => spec.metrics), ...widgets.flatMap((widget) => widget.metrics)];
  }

  private alarm(spec: AlarmSpec): CloudwatchMetricAlarm {
    const common = {
      alarmName: spec.name,
      alarmDescription: `${spec.summary}. Runbook: ${runbook(spec)}`,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      threshold: spec.threshold,
      evaluationPeriods: spec.evaluationPeriods,
      datapointsToAlarm: spec.datapointsToAlarm,
      // No data is no traffic (or no failure): not a breach.
      treatMissingData: 'notBreaching',
      alarmActions: [this.topic.arn],
      okActions: [this.topic.arn],
    };
    if (spec.expression === undefined) {
      const [metric] = spec.metrics as [MetricRef];
      const percentile = /^p\d/.test(metric.stat);
      return new CloudwatchMetricAlarm(this, spec.name, {
        ...common,
        namespace: metric.namespace,
        metricName: metric.metricName,
        dimensions: metric.dimensions,
        period: spec.periodSeconds,
        ...(percentile ? { extendedStatistic: metric.stat } : { statistic: metric.stat }),
      });
    }
    const metricQuery: CloudwatchMetricAlarmMetricQuery[] = [
      ...spec.metrics.map((metric, index) => ({
        id: `m${index}`,
        returnData: false,
        metric: { namespace: metric.namespace, metricName: metric.metricName, dimensions: metric.dimensions, period: spec.periodSeconds, stat: metric.stat },
      })),
      { id: 'e0', expression: spec.expression, label: spec.summary, returnData: true },
    ];
    return new CloudwatchMetricAlarm(this, spec.name, { ...common, metricQuery });
  }
}

/** One graph of a dashboard: its metrics as CloudWatch's widget JSON takes them. */
function graph(title: string, region: string, metrics: MetricRef[], options: { width?: number } = {}) {
  return { metrics, json: graphJson(title, region, metrics, options) };
}

function graphJson(title: string, region: string, metrics: MetricRef[], options: { width?: number }) {
  return {
    type: 'metric',
    width: options.width ?? 12,
    height: 6,
    properties: {
      title,
      region,
      view: 'timeSeries',
      period: 60,
      metrics: metrics.map((metric) => [
        metric.namespace,
        metric.metricName,
        ...Object.entries(metric.dimensions).flat(),
        { stat: metric.stat, label: metric.label ?? `${metric.metricName} ${metric.stat}` },
      ]),
    },
  };
}

/** The dashboard: traffic, errors and latency first, then the streams, the business figures and the table. */
function dashboardWidgets(options: MonitoringOptions) {
  const { messaging, region } = options;
  const http = { ApiId: messaging.api.api.id, Stage: messaging.api.stage.name };
  const apiMetric = (metricName: string, stat: string, dimensions: Record<string, string> = http): MetricRef => ({
    namespace: 'AWS/ApiGateway',
    metricName,
    dimensions,
    stat,
  });
  const lambda = (metricName: string, stat: string, definitions: readonly FunctionDefinition[] = options.functions) =>
    definitions.map((definition) => ({
      namespace: 'AWS/Lambda',
      metricName,
      dimensions: { FunctionName: messaging.functions[definition.name]!.functionName },
      stat,
      label: definition.name,
    }));
  const streams = STREAM_FUNCTIONS.filter((definition) => options.functions.includes(definition));
  const business = (names: (keyof typeof BUSINESS_METRICS)[]) =>
    names.map((name) => ({ namespace: messaging.metricsNamespace, metricName: BUSINESS_METRICS[name], dimensions: { service: SERVICE_NAME }, stat: 'Sum' }));
  const table = { TableName: options.tableName };
  const websocket = messaging.websocketApi ? { ApiId: messaging.websocketApi.api.id, Stage: messaging.websocketApi.stage.name } : undefined;
  return [
    graph('HTTP API: requests and errors', region, [apiMetric('Count', 'Sum'), apiMetric('4xx', 'Sum'), apiMetric('5xx', 'Sum')]),
    graph('HTTP API: latency (ms)', region, [apiMetric('Latency', 'p50'), apiMetric('Latency', 'p99'), apiMetric('IntegrationLatency', 'p99')]),
    graph('Functions: errors', region, lambda('Errors', 'Sum')),
    graph('Functions: throttles', region, lambda('Throttles', 'Sum')),
    graph('Functions: duration p99 (ms)', region, lambda('Duration', 'p99')),
    graph('Functions: concurrent executions', region, lambda('ConcurrentExecutions', 'Maximum')),
    graph('Streams: iterator age (ms)', region, lambda('IteratorAge', 'Maximum', streams)),
    graph('Streams: on-failure queues (batches waiting)', region, [
      ...streams.map((definition) => ({
        namespace: 'AWS/SQS',
        metricName: 'ApproximateNumberOfMessagesVisible',
        dimensions: { QueueName: messaging.failureQueues[definition.name]!.name },
        stat: 'Maximum',
        label: `${definition.name} queue`,
      })),
      ...Object.entries(messaging.unplaceableRecordsMetrics).map(([name, metricName]) => ({
        namespace: messaging.metricsNamespace,
        metricName,
        dimensions: {},
        stat: 'Sum',
        label: `${name} unplaceable records`,
      })),
    ]),
    graph('Messages created, posts refused by the per-user limit', region, business(['messagesCreated', 'postsRateLimited'])),
    graph('Pushes sent, gone, failed; summaries moved', region, business(['pushesSent', 'pushesGone', 'pushesFailed', 'summariesMoved'])),
    ...(websocket
      ? [
          graph('WebSocket API', region, [
            apiMetric('ConnectCount', 'Sum', websocket),
            apiMetric('MessageCount', 'Sum', websocket),
            apiMetric('IntegrationError', 'Sum', websocket),
            apiMetric('ExecutionError', 'Sum', websocket),
          ]),
        ]
      : []),
    graph('Table: consumed capacity units', region, [
      { namespace: 'AWS/DynamoDB', metricName: 'ConsumedReadCapacityUnits', dimensions: table, stat: 'Sum' },
      { namespace: 'AWS/DynamoDB', metricName: 'ConsumedWriteCapacityUnits', dimensions: table, stat: 'Sum' },
      { namespace: 'AWS/DynamoDB', metricName: 'ReadThrottleEvents', dimensions: table, stat: 'Sum' },
      { namespace: 'AWS/DynamoDB', metricName: 'WriteThrottleEvents', dimensions: table, stat: 'Sum' },
    ]),
  ];
}

/**
 * The alarms, topic and dashboard of the lambdas stack: every function and stream mapping has
 * its alarms (derived from the catalog: a scratch entry gets them too), each notifies the
 * topic and links to its runbook entry in docs/operations.md, and the alarms and the dashboard
 * name only metrics that exist.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FUNCTIONS, MESSAGE_STREAM_SOURCE, STREAM_FUNCTIONS, type StreamFunction } from '../../functions/catalog';
import { BUSINESS_METRICS } from '../../functions/observability/metric-names';
import { buildStacks } from '../../infrastructure/app';
import { loadConfig } from '../../infrastructure/config';
import { MessagingService } from '../../infrastructure/constructs/messaging-service';
import { Monitoring } from '../../infrastructure/constructs/monitoring';
import { ALARM_KINDS, type MetricRef } from '../../infrastructure/monitoring/alarms';
import { type Block, SynthesizedStack, TEST_ACCOUNT_ENV, Testing } from '../../infrastructure/testing';
import { sharedBundles } from '../support/bundles';
import { testMessagingServiceOptions } from '../support/messaging-service';

const ROOT = path.resolve(__dirname, '..', '..');

/** The metrics AWS publishes, by namespace, that the alarms and the dashboard may name (AWS's metric lists for each service). */
const AWS_METRICS: Record<string, readonly string[]> = {
  'AWS/Lambda': ['Errors', 'Throttles', 'Duration', 'ConcurrentExecutions', 'IteratorAge', 'Invocations'],
  'AWS/SQS': ['ApproximateNumberOfMessagesVisible'],
  // HTTP APIs: Count, 4xx, 5xx, Latency, IntegrationLatency; WebSocket APIs: ConnectCount, MessageCount, IntegrationError, ClientError, ExecutionError.
  'AWS/ApiGateway': [
    'Count',
    '4xx',
    '5xx',
    'Latency',
    'IntegrationLatency',
    'ConnectCount',
    'MessageCount',
    'IntegrationError',
    'ClientError',
    'ExecutionError',
  ],
  'AWS/DynamoDB': ['ConsumedReadCapacityUnits', 'ConsumedWriteCapacityUnits', 'ReadThrottleEvents', 'WriteThrottleEvents', 'SystemErrors'],
};

/** Where the functions' source counts each business metric (`count(BUSINESS_METRICS.x...)`). */
function emittedBusinessMetrics(): Set<string> {
  const sources = ['functions/create-message/index.ts', 'functions/message-push/index.ts', 'functions/message-stream/summaries.ts'].map((file) =>
    readFileSync(path.join(ROOT, file), 'utf8'),
  );
  const emitted = new Set<string>();
  for (const [key, name] of Object.entries(BUSINESS_METRICS)) {
    if (sources.some((source) => new RegExp(`\\b(count|countMetric)\\(BUSINESS_METRICS\\.${key}\\b`).test(source))) emitted.add(name);
  }
  return emitted;
}

describe('alarms, topic and dashboard', () => {
  let lambdas: SynthesizedStack;
  let monitoring: Monitoring;
  let alarms: Block[];

  beforeAll(() => {
    const app = Testing.app();
    const stacks = buildStacks(app, loadConfig({ ...TEST_ACCOUNT_ENV, CRUDDUR_ALARM_EMAIL: 'oncall@cruddur.test' }), sharedBundles().bundles);
    lambdas = new SynthesizedStack(stacks.lambdas);
    monitoring = stacks.lambdas.monitoring;
    alarms = Object.values(lambdas.resources('aws_cloudwatch_metric_alarm'));
  });

  const alarmNamed = (name: string) => alarms.find((alarm) => alarm.alarm_name === name);

  it('gives every function its errors and throttles alarms, and every stream mapping its iterator-age and failure-queue alarms', () => {
    for (const definition of FUNCTIONS) {
      expect(alarmNamed(`cruddur-dev-${definition.name}-errors`)).toMatchObject({
        metric_name: 'Errors',
        namespace: 'AWS/Lambda',
        statistic: 'Sum',
        threshold: 1,
      });
      expect(alarmNamed(`cruddur-dev-${definition.name}-throttles`)).toMatchObject({ metric_name: 'Throttles', namespace: 'AWS/Lambda' });
    }
    for (const definition of STREAM_FUNCTIONS) {
      // A quarter of the mapping's own maximum record age, from the catalog.
      expect(alarmNamed(`cruddur-dev-${definition.name}-iterator-age`)).toMatchObject({
        metric_name: 'IteratorAge',
        statistic: 'Maximum',
        threshold: definition.source.maximumRecordAgeInSeconds * 250,
      });
      expect(alarmNamed(`cruddur-dev-${definition.name}-failure-queue`)).toMatchObject({
        namespace: 'AWS/SQS',
        metric_name: 'ApproximateNumberOfMessagesVisible',
        threshold: 1,
        dimensions: { QueueName: expect.stringMatching(/^\$\{aws_sqs_queue\.[^.]+\.name\}$/) },
      });
    }
    expect(alarmNamed('cruddur-dev-message-stream-unplaceable-records')).toMatchObject({
      namespace: 'Cruddur/cruddur-dev',
      metric_name: 'message-stream-unplaceable-records',
    });
    for (const name of ['http-api-5xx-rate', 'http-api-latency', 'websocket-api-errors', 'dynamodb-throttles', 'dynamodb-system-errors']) {
      expect(alarmNamed(`cruddur-dev-${name}`)).toBeDefined();
    }
    expect(alarms).toHaveLength(2 * FUNCTIONS.length + 2 * STREAM_FUNCTIONS.length + 1 + 5);
  });

  it('notifies one topic when an alarm fires and when it clears, an email subscribed when CRUDDUR_ALARM_EMAIL is set', () => {
    const [topicName, topic] = lambdas.single('aws_sns_topic');
    expect(topic.name).toBe('cruddur-dev-alarms');
    const topicArn = `\${aws_sns_topic.${topicName}.arn}`;
    for (const alarm of alarms) {
      expect({ alarm: alarm.alarm_name, actions: alarm.alarm_actions, ok: alarm.ok_actions, missing: alarm.treat_missing_data }).toEqual({
        alarm: alarm.alarm_name,
        actions: [topicArn],
        ok: [topicArn],
        missing: 'notBreaching',
      });
    }
    expect(lambdas.single('aws_sns_topic_subscription')[1]).toMatchObject({ topic_arn: topicArn, protocol: 'email', endpoint: 'oncall@cruddur.test' });
    expect(lambdas.outputs()).toHaveProperty('alarms_topic_arn');
  });

  it('links every alarm to its entry in docs/operations.md, and every kind of alarm has one', () => {
    const operations = readFileSync(path.join(ROOT, 'docs', 'operations.md'), 'utf8');
    const headings = new Set([...operations.matchAll(/^### (\S+)$/gm)].map((match) => match[1]));
    for (const kind of ALARM_KINDS) expect({ kind, documented: headings.has(kind) }).toEqual({ kind, documented: true });
    for (const alarm of alarms) {
      const anchor = /Runbook: docs\/operations\.md#([\w-]+)$/.exec(alarm.alarm_description)?.[1];
      expect({ alarm: alarm.alarm_name, anchor, documented: anchor !== undefined && headings.has(anchor) }).toEqual({
        alarm: alarm.alarm_name,
        anchor,
        documented: true,
      });
    }
  });

  it('names only metrics that exist: those AWS publishes, the functions emit, or the log metric filters make', () => {
    const emitted = emittedBusinessMetrics();
    expect([...emitted].sort()).toEqual(Object.values(BUSINESS_METRICS).sort());
    const known = (metric: MetricRef) =>
      AWS_METRICS[metric.namespace]?.includes(metric.metricName) === true ||
      (metric.namespace === 'Cruddur/cruddur-dev' && (emitted.has(metric.metricName) || metric.metricName === 'message-stream-unplaceable-records'));
    for (const metric of monitoring.metrics)
      expect({ metric: `${metric.namespace} ${metric.metricName}`, known: known(metric) }).toEqual({
        metric: `${metric.namespace} ${metric.metricName}`,
        known: true,
      });
    const [, dashboard] = lambdas.single('aws_cloudwatch_dashboard');
    expect(dashboard.dashboard_name).toBe('cruddur-dev');
    for (const name of Object.values(BUSINESS_METRICS)) expect(dashboard.dashboard_body).toContain(`"${name}"`);
  });
});

describe('alarms of a catalog entry', () => {
  it('come with a new stream function added to the catalog, with no infrastructure code', () => {
    // Prepare: a scratch stream consumer, bundled as message-stream is.
    const scratch: StreamFunction = {
      ...(STREAM_FUNCTIONS.find((fn) => fn.name === 'message-stream') as StreamFunction),
      name: 'scratch-consumer',
      reportsUnplaceableRecords: false,
      source: { ...MESSAGE_STREAM_SOURCE, maximumRecordAgeInSeconds: 120 },
    };
    // The stream takes two readers (MAX_STREAM_READERS): the scratch consumer stands in for message-push.
    const catalog = [...FUNCTIONS.filter((fn) => fn.name !== 'message-push'), scratch];
    const { bundles } = sharedBundles();

    // Act
    const synthesized = JSON.parse(
      Testing.synthScope((scope) => {
        const messaging = new MessagingService(
          scope,
          'messaging',
          testMessagingServiceOptions(catalog, { ...bundles, [scratch.name]: bundles['message-stream']! }),
        );
        new Monitoring(scope, 'monitoring', {
          namePrefix: 'cruddur-test',
          region: 'us-east-1',
          functions: catalog,
          messaging,
          tableName: 'cruddur-messages',
        });
      }),
    ) as { resource: Record<string, Record<string, Block>> };

    // Assess
    const names = Object.values(synthesized.resource.aws_cloudwatch_metric_alarm!).map((alarm) => alarm.alarm_name as string);
    expect(names).toEqual(
      expect.arrayContaining([
        'cruddur-test-scratch-consumer-errors',
        'cruddur-test-scratch-consumer-throttles',
        'cruddur-test-scratch-consumer-iterator-age',
        'cruddur-test-scratch-consumer-failure-queue',
      ]),
    );
    expect(
      Object.values(synthesized.resource.aws_cloudwatch_metric_alarm!).find((alarm) => alarm.alarm_name === 'cruddur-test-scratch-consumer-iterator-age'),
    ).toMatchObject({
      threshold: 30_000,
    });
    expect(synthesized.resource.aws_sns_topic_subscription).toBeUndefined();
  });
});

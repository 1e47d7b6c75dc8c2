/**
 * Business figures as CloudWatch metrics (Powertools Metrics: embedded metric format, one JSON
 * line per invocation that CloudWatch turns into metrics, no API call): messages created,
 * posts refused by the per-user limit, pushes sent, gone and failed, summaries moved. The
 * namespace is the deployment's (`POWERTOOLS_METRICS_NAMESPACE`, `Cruddur/cruddur-{env}`), the
 * dimension the service; the dashboard and alarms (infrastructure/constructs/monitoring.ts)
 * read the same names from `metric-names.ts`. `npm start` and the tests turn them off
 * (`POWERTOOLS_METRICS_DISABLED`).
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { SERVICE_NAME } from '../config/function-config';
import { BUSINESS_METRICS } from './metric-names';

export { BUSINESS_METRICS };

type BusinessMetric = (typeof BUSINESS_METRICS)[keyof typeof BUSINESS_METRICS];

// Made on first use, not when this module loads: Metrics reads its environment (namespace,
// POWERTOOLS_METRICS_DISABLED) once, and a process that runs the functions (npm start, the soak)
// may load this module before it has applied their environment.
let instance: Metrics | undefined;
const metrics = () => (instance ??= new Metrics({ serviceName: process.env.POWERTOOLS_SERVICE_NAME || SERVICE_NAME }));

/** Adds `value` to a metric of this invocation (nothing for 0). */
export function count(metric: BusinessMetric, value = 1): void {
  if (value > 0) metrics().addMetric(metric, MetricUnit.Count, value);
}

/** `operation`, then this invocation's metrics written out (once, whatever it answered or threw). */
export function publishingMetrics<A extends unknown[], R>(operation: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await operation(...args);
    } finally {
      if (instance?.hasStoredMetrics()) instance.publishStoredMetrics();
    }
  };
}

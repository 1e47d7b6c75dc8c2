/**
 * The counts docs/deploy.md prices (log groups, metric filters, custom metrics, endpoint zones,
 * routes with per-route metrics) are those of the synthesized stacks: a change to the stacks
 * that changes the bill fails here until the cost table says so.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { HTTP_FUNCTIONS } from '../../functions/catalog';
import { BUSINESS_METRICS } from '../../functions/observability/metric-names';
import { EXPLICIT_VPC, synthesize } from '../support/deploy-shapes';

// biome-ignore lint/suspicious/noExplicitAny: synthesized Terraform JSON, navigated freely
type Block = Record<string, any>;
const COSTS = (() => {
  const text = readFileSync(path.join(__dirname, '..', '..', 'docs', 'deploy.md'), 'utf8');
  return text.slice(text.indexOf('## Cost per month'), text.indexOf('## Outputs'));
})();

/** The number the cost table gives before `phrase`. */
function documented(phrase: string): number {
  const match = new RegExp(`(\\d+) ${phrase}`).exec(COSTS);
  if (!match) throw new Error(`docs/deploy.md's cost table does not count "${phrase}"`);
  return Number(match[1]);
}

function resources(env: Record<string, string>, type: string): Block[] {
  return synthesize(env).flatMap((stack) => Object.values((stack.config.resource as Block | undefined)?.[type] ?? {}) as Block[]);
}

const RECOMMENDED = { CRUDDUR_DATABASE_INSTANCE: 'cruddur-db-instance' };

describe('the cost table of docs/deploy.md', () => {
  const logGroups = resources(RECOMMENDED, 'aws_cloudwatch_log_group').map((group) => String(group.name));
  const filters = resources(RECOMMENDED, 'aws_cloudwatch_log_metric_filter');
  const stages = resources(RECOMMENDED, 'aws_apigatewayv2_stage');

  it('counts the log groups', () => {
    expect(logGroups.filter((name) => name.startsWith('/aws/lambda/'))).toHaveLength(documented('function log groups'));
    expect(logGroups.filter((name) => name.startsWith('/aws/apigateway/'))).toHaveLength(documented('access log group'));
  });

  it('counts the metric filters, each one custom metric', () => {
    expect(filters).toHaveLength(documented('log metric filter'));
    expect(new Set(filters.map((filter) => filter.metric_transformation.name)).size).toBe(documented('custom metric'));
  });

  it('counts the alarms and the metrics they name, the dashboard and the business metrics', () => {
    const alarms = resources(RECOMMENDED, 'aws_cloudwatch_metric_alarm');
    expect(alarms).toHaveLength(documented('alarms naming'));
    const metricsNamed = alarms.reduce((sum, alarm) => sum + (alarm.metric_query ? alarm.metric_query.filter((query: Block) => query.metric).length : 1), 0);
    expect(metricsNamed).toBe(documented('metrics \\(metric-math'));
    expect(resources(RECOMMENDED, 'aws_cloudwatch_dashboard')).toHaveLength(documented('dashboard'));
    expect(Object.keys(BUSINESS_METRICS)).toHaveLength(documented('business metrics'));
  });

  it('prices per-route metrics only where they are on', () => {
    expect(stages.filter((stage) => stage.default_route_settings?.detailed_metrics_enabled)).toEqual([]);
    const detailed = resources({ ...RECOMMENDED, CRUDDUR_API_DETAILED_METRICS: '1' }, 'aws_apigatewayv2_stage').filter(
      (stage) => stage.default_route_settings?.detailed_metrics_enabled,
    );
    expect(detailed).toHaveLength(1);
    expect(HTTP_FUNCTIONS).toHaveLength(documented('routes ×'));
  });

  it("counts the Secrets Manager endpoint's zones: two in the instance's VPC, one per listed subnet in an explicit one", () => {
    const [endpoint] = resources(RECOMMENDED, 'aws_vpc_endpoint').filter((candidate) => candidate.vpc_endpoint_type === 'Interface');
    // At most two of the instance's zones: the slice in the synthesized expression.
    expect(endpoint!.subnet_ids).toMatch(new RegExp(`^\\$\\{slice\\(local\\.[^,]+, 0, min\\(${documented('zones')}, length\\(`));
    const [explicit] = resources({ ...EXPLICIT_VPC, CRUDDUR_DATABASE_SECURITY_GROUP_ID: 'sg-0aaa1111bbbb2222d' }, 'aws_vpc_endpoint').filter(
      (candidate) => candidate.vpc_endpoint_type === 'Interface',
    );
    expect(explicit!.subnet_ids).toEqual(EXPLICIT_VPC.CRUDDUR_SUBNET_IDS.split(','));
    expect(COSTS).toContain('an explicit VPC: one per listed subnet');
  });
});

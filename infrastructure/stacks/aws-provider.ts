/** The AWS provider every stack starts with: the configured region and tags on everything. */
import type { Construct } from 'constructs';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import type { CruddurConfig } from '../config';

export function awsProvider(scope: Construct, config: CruddurConfig): AwsProvider {
  return new AwsProvider(scope, 'aws', {
    region: config.region,
    defaultTags: [{ tags: { Project: 'cruddur', Component: 'messaging', Environment: config.environment, ManagedBy: 'cdktf' } }],
  });
}

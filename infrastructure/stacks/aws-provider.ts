/**
 * What every stack starts with: the AWS provider (the configured region, tags on everything)
 * and, with `CRUDDUR_STATE_BUCKET`, its state in S3 (`cruddur/{stack}.tfstate`, encrypted,
 * locked with S3's own lock file) instead of a local file, so that CI and every person
 * deploying share one state; the cross-stack references then read the S3 state too.
 */
import { S3Backend, type TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { type CruddurConfig, stateKey } from '../config';

export function awsProvider(scope: TerraformStack, config: CruddurConfig): AwsProvider {
  if (config.stateBucket) {
    const backend = new S3Backend(scope, { bucket: config.stateBucket, key: stateKey(scope.node.id), region: config.region, encrypt: true });
    // S3-native locking (Terraform >= 1.10); CDKTF 0.21 has no typed option for it.
    backend.addOverride('use_lockfile', true);
  }
  return new AwsProvider(scope, 'aws', {
    region: config.region,
    defaultTags: [{ tags: { Project: 'cruddur', Component: 'messaging', Environment: config.environment, ManagedBy: 'cdktf' } }],
  });
}

/** The settings of a MessagingService built directly in a synth test (a scratch catalog), as a deployment would pass them. */
import { DEFAULT_USER_LIMITS } from '../../functions/config/limits';
import type { FunctionDefinition } from '../../functions/catalog';
import type { BundleResult } from '../../infrastructure/bundling/bundle';
import type { MessagingServiceOptions } from '../../infrastructure/constructs/messaging-service';
import { TEST_ACCOUNT_ENV } from '../../infrastructure/testing';

export function testMessagingServiceOptions(
  functions: readonly FunctionDefinition[],
  bundles: Readonly<Record<string, BundleResult>>,
): MessagingServiceOptions {
  return {
    namePrefix: 'cruddur-test',
    region: 'us-east-1',
    functions,
    bundles,
    table: { name: 'cruddur-messages', arn: 'arn:aws:dynamodb:us-east-1:123456789012:table/cruddur-messages', streamArn: 'unused' },
    network: { subnetIds: ['subnet-0123456789abcdef0'], securityGroupId: 'sg-0123456789abcdef0' },
    databaseSecretArn: TEST_ACCOUNT_ENV.CRUDDUR_DATABASE_SECRET_ARN,
    jwt: { issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123xyZ', audience: ['client'] },
    cognito: { userPoolId: 'us-east-1_AbC123xyZ', clientId: 'client' },
    frontendOrigins: ['https://cruddur.test'],
    throttling: { burstLimit: 1, rateLimit: 1 },
    detailedMetrics: false,
    websocketAccessLogs: 'off',
    limits: DEFAULT_USER_LIMITS,
    logLevel: 'INFO',
    logRetentionDays: 1,
  };
}

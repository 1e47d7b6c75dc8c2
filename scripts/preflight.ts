/**
 * `npm run preflight`: read-only AWS checks of the deploy settings (the same `CRUDDUR_*`
 * variables as `npm run deploy`), one line each, exit 1 on a blocker. Always talks to AWS
 * (credentials and region from the usual AWS settings and CRUDDUR_AWS_REGION).
 */
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { RDSClient } from '@aws-sdk/client-rds';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import { REPOSITORY_ROOT } from '../local/paths';
import { loadConfig } from '../infrastructure/config';
import { runAsMain, type ScriptContext, type ScriptSpec, type NoOptions } from './lib/cli';
import { formatResult, runPreflight, type PreflightClients } from './lib/preflight';

export const spec: ScriptSpec<NoOptions> = {
  name: 'preflight',
  summary:
    "Check with read-only AWS calls that the CRUDDUR_* deploy settings will work: credentials, user pool and app client, the database secret (never printed), the database network, VPC DNS, endpoints that would collide, API Gateway's logging role, an existing table, its owner and its stream's readers. Exits 1 on a blocker.",
};

export async function main({ env, out }: ScriptContext<NoOptions>): Promise<number> {
  const config = loadConfig({ ...env, CRUDDUR_STRICT_CONFIG: '0' });
  const region = config.region;
  const clients: PreflightClients = {
    sts: new STSClient({ region }),
    cognito: new CognitoIdentityProviderClient({ region: config.cognito.userPoolId.split('_')[0]! }),
    secrets: new SecretsManagerClient({ region }),
    rds: new RDSClient({ region }),
    ec2: new EC2Client({ region }),
    dynamodb: new DynamoDBClient({ region }),
    apigateway: new APIGatewayClient({ region }),
    lambda: new LambdaClient({ region }),
    cloudformation: new CloudFormationClient({ region }),
  };
  try {
    out.log(`preflight: ${config.namePrefix} in ${region}`);
    const results = await runPreflight(config, clients, { stateDirectory: REPOSITORY_ROOT });
    for (const result of results) out.log(formatResult(result));
    const blockers = results.filter((result) => result.status === 'blocker').length;
    const warnings = results.filter((result) => result.status === 'warn').length;
    out.log(blockers > 0 ? `${blockers} blocker(s), ${warnings} warning(s): fix the blockers before npm run deploy` : `no blockers, ${warnings} warning(s)`);
    return blockers > 0 ? 1 : 0;
  } finally {
    for (const client of Object.values(clients)) client.destroy();
  }
}

if (require.main === module) runAsMain(spec, main);

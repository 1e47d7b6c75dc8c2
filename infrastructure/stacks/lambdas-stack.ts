/** `cruddur-{env}-lambdas`: the functions, their API and their stream subscription, their alarms and dashboard. */
import type { Construct } from 'constructs';
import { TerraformOutput, TerraformStack } from 'cdktf';
import { FUNCTIONS } from '../../functions/catalog';
import { cognitoIssuerUrl, type CruddurConfig } from '../config';
import type { MessagesTable } from '../constructs/messages-table';
import type { FunctionBundles } from '../bundling/bundle';
import { MessagingService } from '../constructs/messaging-service';
import { Monitoring } from '../constructs/monitoring';
import type { Network } from '../constructs/network';
import { awsProvider } from './aws-provider';

export interface LambdasStackOptions {
  config: CruddurConfig;
  /** From the network stack (CDKTF turns the references into outputs and remote state). */
  network: Network;
  /** From the app stack. */
  messagesTable: MessagesTable;
  bundles: FunctionBundles;
}

export class LambdasStack extends TerraformStack {
  public readonly messaging: MessagingService;
  public readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, options: LambdasStackOptions) {
    super(scope, id);
    const { config, network, messagesTable } = options;
    awsProvider(this, config);
    this.messaging = new MessagingService(this, 'messaging', {
      namePrefix: config.namePrefix,
      region: config.region,
      functions: FUNCTIONS,
      bundles: options.bundles,
      table: { name: messagesTable.tableName, arn: messagesTable.tableArn, streamArn: messagesTable.streamArn },
      network: { subnetIds: network.privateSubnetIds, securityGroupId: network.functionSecurityGroupId },
      databaseSecretArn: config.database.secretArn,
      ...(config.database.secretKmsKeyArn ? { databaseSecretKmsKeyArn: config.database.secretKmsKeyArn } : {}),
      jwt: { issuer: cognitoIssuerUrl(config.cognito.userPoolId), audience: [config.cognito.clientId] },
      cognito: config.cognito,
      frontendOrigins: config.frontendOrigins,
      throttling: { burstLimit: config.api.throttlingBurstLimit, rateLimit: config.api.throttlingRateLimit },
      detailedMetrics: config.api.detailedMetrics,
      websocketAccessLogs: config.websocket.accessLogs,
      limits: config.limits,
      logLevel: config.logLevel,
      logRetentionDays: config.logRetentionDays,
    });
    this.monitoring = new Monitoring(this, 'monitoring', {
      namePrefix: config.namePrefix,
      region: config.region,
      functions: FUNCTIONS,
      messaging: this.messaging,
      tableName: messagesTable.tableName,
      ...(config.alarmEmail ? { alarmEmail: config.alarmEmail } : {}),
    });
    new TerraformOutput(this, 'api_url', { value: this.messaging.apiUrl });
    new TerraformOutput(this, 'alarms_topic_arn', { value: this.monitoring.topic.arn });
    new TerraformOutput(this, 'dashboard_url', {
      value: `https://${config.region}.console.aws.amazon.com/cloudwatch/home?region=${config.region}#dashboards/dashboard/${config.namePrefix}`,
    });
    if (this.messaging.websocketApi) new TerraformOutput(this, 'websocket_url', { value: this.messaging.websocketApi.url });
    for (const [name, queue] of Object.entries(this.messaging.failureQueues)) {
      new TerraformOutput(this, `${name.replace(/-/g, '_')}_failure_queue_url`, { value: queue.url });
    }
  }
}

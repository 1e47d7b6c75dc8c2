/**
 * The WebSocket API (API Gateway v2, WEBSOCKET) that pushes new messages to open apps:
 * `$connect` behind a Lambda REQUEST authorizer (WebSocket APIs have no JWT authorizer) whose
 * identity source is the `token` query parameter, so a connection without one is refused
 * before any function runs; `$disconnect`; a route per client action of the catalog (`typing`),
 * and no `$default` route, so a frame with any other action is refused by API Gateway.
 * One stage, `ws` (the path of the URL), with throttling, and access logs as the settings say:
 * WebSocket stages log only through the account's API Gateway CloudWatch Logs role (one per
 * account and region), which a fresh account does not have, so by default they are off.
 *
 * The API is created before the functions (the push function's environment names its
 * management URL) and its routes after them (`addRoutes`).
 */
import { Construct } from 'constructs';
import { ApiGatewayAccount } from '@cdktf/provider-aws/lib/api-gateway-account';
import { Apigatewayv2Api } from '@cdktf/provider-aws/lib/apigatewayv2-api';
import { Apigatewayv2Authorizer } from '@cdktf/provider-aws/lib/apigatewayv2-authorizer';
import { Apigatewayv2Integration } from '@cdktf/provider-aws/lib/apigatewayv2-integration';
import { Apigatewayv2Route } from '@cdktf/provider-aws/lib/apigatewayv2-route';
import { Apigatewayv2Stage } from '@cdktf/provider-aws/lib/apigatewayv2-stage';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import type { WebSocketAccessLogs } from '../config';
import { WEBSOCKET_STAGE, type WebSocketAuthorizerFunction, type WebSocketFunction } from '../../functions/catalog';

/** The fields of each access log line (`$context` variables of WebSocket APIs); never the query string, which holds the token. */
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  routeKey: '$context.routeKey',
  eventType: '$context.eventType',
  connectionId: '$context.connectionId',
  status: '$context.status',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
  userSub: '$context.authorizer.sub',
});

/** The AWS managed policy API Gateway's documentation gives the account's logging role. */
const PUSH_TO_CLOUDWATCH_LOGS = 'arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs';

export interface WebSocketApiOptions {
  name: string;
  region: string;
  throttling: { burstLimit: number; rateLimit: number };
  logRetentionDays: number;
  /** `off`; `account-role`: the account's role exists; `create-role`: this stack creates it (infrastructure/config). */
  accessLogs: WebSocketAccessLogs;
  /** The name of the role `create-role` creates. */
  loggingRoleName: string;
}

export interface DeployedFunction {
  functionName: string;
  functionArn: string;
  invokeArn: string;
}

export class WebSocketApi extends Construct {
  public readonly api: Apigatewayv2Api;
  public readonly stage: Apigatewayv2Stage;
  /** The account's API Gateway logging setting, when this stack creates it (`create-role`). */
  public readonly account?: ApiGatewayAccount;
  /** `wss://{api}.execute-api.{region}.amazonaws.com/ws`: what the frontend connects to. */
  public readonly url: string;
  /** `https://{api}.execute-api.{region}.amazonaws.com/ws`: where the push function posts (`@connections`). */
  public readonly managementUrl: string;
  /** `arn:aws:execute-api:{region}:{account}:{api}/ws/POST/@connections/*`: what the push function may call. */
  public readonly manageConnectionsArn: string;

  constructor(scope: Construct, id: string, options: WebSocketApiOptions) {
    super(scope, id);
    this.api = new Apigatewayv2Api(this, 'api', {
      name: options.name,
      protocolType: 'WEBSOCKET',
      // A client frame goes to the route named by its `action`; no `$default` route, so any other is refused.
      routeSelectionExpression: '$request.body.action',
    });
    if (options.accessLogs === 'create-role') this.account = this.accountLoggingRole(options.loggingRoleName);
    const accessLogs =
      options.accessLogs === 'off'
        ? undefined
        : new CloudwatchLogGroup(this, 'access-logs', {
            name: `/aws/apigateway/${options.name}/access`,
            retentionInDays: options.logRetentionDays,
          });
    this.stage = new Apigatewayv2Stage(this, 'stage', {
      apiId: this.api.id,
      name: WEBSOCKET_STAGE,
      autoDeploy: true,
      ...(accessLogs ? { accessLogSettings: { destinationArn: accessLogs.arn, format: ACCESS_LOG_FORMAT } } : {}),
      defaultRouteSettings: {
        throttlingBurstLimit: options.throttling.burstLimit,
        throttlingRateLimit: options.throttling.rateLimit,
        // Execution logs and data traces would carry the token of the connection URL: never on.
        loggingLevel: 'OFF',
        dataTraceEnabled: false,
      },
      // A stage with logs can only be created once the account's role is set.
      ...(this.account ? { dependsOn: [this.account] } : {}),
    });
    this.url = `${this.api.apiEndpoint}/${WEBSOCKET_STAGE}`;
    this.managementUrl = `https://${this.api.id}.execute-api.${options.region}.amazonaws.com/${WEBSOCKET_STAGE}`;
    this.manageConnectionsArn = `${this.api.executionArn}/${WEBSOCKET_STAGE}/POST/@connections/*`;
  }

  /**
   * The role API Gateway logs with in this account and region, made the account's setting.
   * Destroying the stack resets the setting (AWS provider 6: `aws_api_gateway_account` always
   * resets on delete), so WebSocket and REST stages of the account stop logging with it.
   */
  private accountLoggingRole(roleName: string): ApiGatewayAccount {
    const role = new IamRole(this, 'cloudwatch-role', {
      name: roleName,
      description: "API Gateway's CloudWatch Logs role for this account and region (created by Cruddur's messaging stacks)",
      assumeRolePolicy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'apigateway.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
    });
    const attachment = new IamRolePolicyAttachment(this, 'cloudwatch-role-policy', { role: role.name, policyArn: PUSH_TO_CLOUDWATCH_LOGS });
    return new ApiGatewayAccount(this, 'account', { cloudwatchRoleArn: role.arn, dependsOn: [attachment] });
  }

  /** The authorizer and the routes, once their functions exist. */
  addRoutes(
    authorizer: { definition: WebSocketAuthorizerFunction; fn: DeployedFunction },
    routes: { definition: WebSocketFunction; fn: DeployedFunction }[],
  ): void {
    const requestAuthorizer = new Apigatewayv2Authorizer(this, 'authorizer', {
      apiId: this.api.id,
      name: authorizer.definition.name,
      authorizerType: 'REQUEST',
      authorizerUri: authorizer.fn.invokeArn,
      // Without the token, API Gateway answers 401 without calling the authorizer.
      identitySources: [authorizer.definition.identitySource],
    });
    new LambdaPermission(this, 'authorizer-permission', {
      statementId: 'AllowWebSocketApiAuthorizer',
      action: 'lambda:InvokeFunction',
      functionName: authorizer.fn.functionName,
      principal: 'apigateway.amazonaws.com',
      sourceArn: `${this.api.executionArn}/authorizers/${requestAuthorizer.id}`,
    });

    for (const { definition, fn } of routes) {
      const routeId = definition.route.replace('$', '');
      const integration = new Apigatewayv2Integration(this, `integration-${routeId}`, {
        apiId: this.api.id,
        integrationType: 'AWS_PROXY',
        integrationMethod: 'POST',
        integrationUri: fn.invokeArn,
      });
      new Apigatewayv2Route(this, `route-${routeId}`, {
        apiId: this.api.id,
        routeKey: definition.route,
        target: `integrations/${integration.id}`,
        // The authorizer runs on $connect; its decision holds for the whole connection.
        ...(definition.route === '$connect' ? { authorizationType: 'CUSTOM', authorizerId: requestAuthorizer.id } : { authorizationType: 'NONE' }),
      });
      // Only this API's stage and route may invoke the function.
      new LambdaPermission(this, `permission-${routeId}`, {
        statementId: `AllowWebSocketApiInvoke-${routeId}`,
        action: 'lambda:InvokeFunction',
        functionName: fn.functionName,
        principal: 'apigateway.amazonaws.com',
        sourceArn: `${this.api.executionArn}/${WEBSOCKET_STAGE}/${definition.route}`,
      });
    }
  }
}

/**
 * The WebSocket API (API Gateway v2, WEBSOCKET) that pushes new messages to open apps:
 * `$connect` behind a Lambda REQUEST authorizer (WebSocket APIs have no JWT authorizer) whose
 * identity source is the `token` query parameter, so a connection without one is refused
 * before any function runs; `$disconnect`; no `$default` route, so clients can send nothing.
 * One stage, `ws` (the path of the URL), with access logs and throttling.
 *
 * The API is created before the functions (the push function's environment names its
 * management URL) and its routes after them (`addRoutes`).
 */
import { Construct } from 'constructs';
import { Apigatewayv2Api } from '@cdktf/provider-aws/lib/apigatewayv2-api';
import { Apigatewayv2Authorizer } from '@cdktf/provider-aws/lib/apigatewayv2-authorizer';
import { Apigatewayv2Integration } from '@cdktf/provider-aws/lib/apigatewayv2-integration';
import { Apigatewayv2Route } from '@cdktf/provider-aws/lib/apigatewayv2-route';
import { Apigatewayv2Stage } from '@cdktf/provider-aws/lib/apigatewayv2-stage';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
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

export interface WebSocketApiOptions {
  name: string;
  region: string;
  throttling: { burstLimit: number; rateLimit: number };
  logRetentionDays: number;
}

export interface DeployedFunction {
  functionName: string;
  functionArn: string;
  invokeArn: string;
}

export class WebSocketApi extends Construct {
  public readonly api: Apigatewayv2Api;
  public readonly stage: Apigatewayv2Stage;
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
      // Required by API Gateway; with no route but $connect and $disconnect, nothing a client sends is routed.
      routeSelectionExpression: '$request.body.action',
    });
    const accessLogs = new CloudwatchLogGroup(this, 'access-logs', {
      name: `/aws/apigateway/${options.name}/access`,
      retentionInDays: options.logRetentionDays,
    });
    this.stage = new Apigatewayv2Stage(this, 'stage', {
      apiId: this.api.id,
      name: WEBSOCKET_STAGE,
      autoDeploy: true,
      accessLogSettings: { destinationArn: accessLogs.arn, format: ACCESS_LOG_FORMAT },
      defaultRouteSettings: {
        throttlingBurstLimit: options.throttling.burstLimit,
        throttlingRateLimit: options.throttling.rateLimit,
      },
    });
    this.url = `${this.api.apiEndpoint}/${WEBSOCKET_STAGE}`;
    this.managementUrl = `https://${this.api.id}.execute-api.${options.region}.amazonaws.com/${WEBSOCKET_STAGE}`;
    this.manageConnectionsArn = `${this.api.executionArn}/${WEBSOCKET_STAGE}/POST/@connections/*`;
  }

  /** The authorizer and the routes, once their functions exist. */
  addRoutes(authorizer: { definition: WebSocketAuthorizerFunction; fn: DeployedFunction }, routes: { definition: WebSocketFunction; fn: DeployedFunction }[]): void {
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

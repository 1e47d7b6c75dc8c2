/**
 * The HTTP API (API Gateway v2) in front of the HTTP functions: every route but the public
 * ones of the catalog requires a Cognito JWT (no token or a bad one is a 401 before any
 * function runs, so nothing can smuggle an identity header past it as in the original's
 * defect 10); public routes get no authorizer and no identity. Lambda proxy
 * integrations with payload 2.0, CORS for the frontend only, and one `$default` stage with
 * auto-deploy, JSON access logs and throttling.
 */
import { Construct } from 'constructs';
import { Apigatewayv2Api } from '@cdktf/provider-aws/lib/apigatewayv2-api';
import { Apigatewayv2Authorizer } from '@cdktf/provider-aws/lib/apigatewayv2-authorizer';
import { Apigatewayv2Integration } from '@cdktf/provider-aws/lib/apigatewayv2-integration';
import { Apigatewayv2Route } from '@cdktf/provider-aws/lib/apigatewayv2-route';
import { Apigatewayv2Stage } from '@cdktf/provider-aws/lib/apigatewayv2-stage';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { ACCESS_TOKEN_SCOPES, API_CORS } from '../../functions/catalog';

/** The fields of each access log line (`$context` variables of HTTP APIs). */
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  httpMethod: '$context.httpMethod',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
  userSub: '$context.authorizer.claims.sub',
});

interface HttpApiRoute {
  method: 'GET' | 'POST';
  /** Route path, e.g. `/api/messages/{message_group_uuid}`. */
  path: string;
  /** `public`: no authorizer (the catalog's public routes). */
  auth: 'cognito-jwt' | 'public';
  /** The function answering it. */
  functionName: string;
  functionArn: string;
}

export interface HttpApiOptions {
  name: string;
  /** Token issuer, `https://cognito-idp.{region}.amazonaws.com/{userPoolId}`. */
  jwtIssuer: string;
  /** Accepted app client ids (`aud` of id tokens, `client_id` of access tokens). */
  jwtAudience: string[];
  corsAllowOrigins: string[];
  throttling: { burstLimit: number; rateLimit: number };
  /** Per-route CloudWatch metrics (billed as custom metrics); the API-wide ones are always there. */
  detailedMetrics: boolean;
  logRetentionDays: number;
  routes: HttpApiRoute[];
}

export class HttpApi extends Construct {
  public readonly api: Apigatewayv2Api;
  public readonly authorizer: Apigatewayv2Authorizer;
  public readonly stage: Apigatewayv2Stage;
  public readonly accessLogGroup: CloudwatchLogGroup;
  /**
   * Base URL of the `$default` stage, without a trailing slash: the frontend appends
   * `/api/...` to it (`${REACT_APP_BACKEND_URL}/api/...`), and the stage's own invoke URL
   * ends in `/`, which would make `//api/...`.
   */
  public readonly url: string;

  constructor(scope: Construct, id: string, options: HttpApiOptions) {
    super(scope, id);

    this.api = new Apigatewayv2Api(this, 'api', {
      name: options.name,
      protocolType: 'HTTP',
      // Preflight requests are answered by API Gateway itself, before any authorizer.
      corsConfiguration: {
        allowOrigins: options.corsAllowOrigins,
        allowMethods: [...API_CORS.allowMethods],
        allowHeaders: [...API_CORS.allowHeaders],
        // The frontend pages with the cursor in X-Next-Cursor; unexposed, the browser hides it.
        exposeHeaders: [...API_CORS.exposeHeaders],
        maxAge: API_CORS.maxAgeSeconds,
      },
    });

    this.authorizer = new Apigatewayv2Authorizer(this, 'jwt-authorizer', {
      apiId: this.api.id,
      name: 'cognito-jwt',
      authorizerType: 'JWT',
      identitySources: ['$request.header.Authorization'],
      jwtConfiguration: { issuer: options.jwtIssuer, audience: options.jwtAudience },
    });

    for (const route of options.routes) {
      const routeId = `${route.method}${route.path}`
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/-$/, '');
      const integration = new Apigatewayv2Integration(this, `integration-${routeId}`, {
        apiId: this.api.id,
        integrationType: 'AWS_PROXY',
        integrationMethod: 'POST',
        integrationUri: route.functionArn,
        payloadFormatVersion: '2.0',
      });
      new Apigatewayv2Route(this, `route-${routeId}`, {
        apiId: this.api.id,
        routeKey: `${route.method} ${route.path}`,
        target: `integrations/${integration.id}`,
        ...(route.auth === 'public'
          ? { authorizationType: 'NONE' }
          : { authorizationType: 'JWT', authorizerId: this.authorizer.id, authorizationScopes: [...ACCESS_TOKEN_SCOPES] }),
      });
      // Only this API, this method and this route may invoke the function.
      new LambdaPermission(this, `permission-${routeId}`, {
        statementId: `AllowHttpApiInvoke-${routeId}`,
        action: 'lambda:InvokeFunction',
        functionName: route.functionName,
        principal: 'apigateway.amazonaws.com',
        sourceArn: `${this.api.executionArn}/*/${route.method}${route.path}`,
      });
    }

    this.accessLogGroup = new CloudwatchLogGroup(this, 'access-logs', {
      name: `/aws/apigateway/${options.name}/access`,
      retentionInDays: options.logRetentionDays,
    });
    this.stage = new Apigatewayv2Stage(this, 'default-stage', {
      apiId: this.api.id,
      name: '$default',
      autoDeploy: true,
      accessLogSettings: { destinationArn: this.accessLogGroup.arn, format: ACCESS_LOG_FORMAT },
      defaultRouteSettings: {
        throttlingBurstLimit: options.throttling.burstLimit,
        throttlingRateLimit: options.throttling.rateLimit,
        detailedMetricsEnabled: options.detailedMetrics,
      },
    });
    // The $default stage is served at the API's endpoint itself, which has no trailing slash.
    this.url = this.api.apiEndpoint;
  }
}

/**
 * The least-privilege IAM policy of whoever runs `npm run deploy` (a person, or CI's role),
 * derived from what the synthesized stacks hold: one table, Terraform type to the actions the
 * AWS provider calls to create, read, update, delete and tag it (every resource is tagged:
 * the provider's `default_tags`, so tag-on-create applies everywhere). A type the stacks hold
 * and the table does not is an error, so a new resource type cannot ship without its
 * permissions (test/synth/deployer-policy.test.ts).
 *
 * Compiled from the AWS provider's resource implementations (6.x) and AWS's Service
 * Authorization Reference; a deploy denied an action names it in Terraform's error, and the
 * fix is a line here. No CDKTF import: `npm run deployer-policy` reads synthesized JSON.
 */

/** Where an action applies: scopes become the policy's statements, each with its resources. */
type PolicyScope =
  | 'identity'
  | 'account'
  | 'network'
  | 'table'
  | 'functions'
  | 'event-source-mappings'
  | 'roles'
  | 'queues'
  | 'log-groups'
  | 'log-deliveries'
  | 'apis'
  | 'alarms'
  | 'topics'
  | 'dashboards';

type Grants = Partial<Record<PolicyScope, readonly string[]>>;

const EC2_TAGS = ['ec2:CreateTags', 'ec2:DeleteTags'];

/** Resources and data sources by Terraform type. The provider itself calls sts:GetCallerIdentity. */
export const TYPE_ACTIONS: Readonly<Record<string, Grants>> = {
  // The network stack
  aws_vpc: {
    network: ['ec2:CreateVpc', 'ec2:DeleteVpc', 'ec2:ModifyVpcAttribute', ...EC2_TAGS],
    account: ['ec2:DescribeVpcs', 'ec2:DescribeVpcAttribute', 'ec2:DescribeNetworkAcls', 'ec2:DescribeRouteTables', 'ec2:DescribeSecurityGroups'],
  },
  aws_default_security_group: {
    network: [
      'ec2:RevokeSecurityGroupIngress',
      'ec2:RevokeSecurityGroupEgress',
      'ec2:AuthorizeSecurityGroupIngress',
      'ec2:AuthorizeSecurityGroupEgress',
      ...EC2_TAGS,
    ],
    account: ['ec2:DescribeSecurityGroups'],
  },
  aws_subnet: {
    network: ['ec2:CreateSubnet', 'ec2:DeleteSubnet', 'ec2:ModifySubnetAttribute', ...EC2_TAGS],
    account: ['ec2:DescribeSubnets', 'ec2:DescribeNetworkInterfaces'],
  },
  aws_route_table: { network: ['ec2:CreateRouteTable', 'ec2:DeleteRouteTable', ...EC2_TAGS], account: ['ec2:DescribeRouteTables'] },
  aws_route_table_association: {
    network: ['ec2:AssociateRouteTable', 'ec2:DisassociateRouteTable', 'ec2:ReplaceRouteTableAssociation'],
    account: ['ec2:DescribeRouteTables'],
  },
  aws_route: { network: ['ec2:CreateRoute', 'ec2:ReplaceRoute', 'ec2:DeleteRoute'], account: ['ec2:DescribeRouteTables'] },
  aws_security_group: {
    // Creating one revokes the default allow-all egress rule first.
    network: [
      'ec2:CreateSecurityGroup',
      'ec2:DeleteSecurityGroup',
      'ec2:RevokeSecurityGroupEgress',
      'ec2:RevokeSecurityGroupIngress',
      'ec2:AuthorizeSecurityGroupEgress',
      'ec2:AuthorizeSecurityGroupIngress',
      ...EC2_TAGS,
    ],
    account: ['ec2:DescribeSecurityGroups', 'ec2:DescribeNetworkInterfaces'],
  },
  aws_vpc_endpoint: {
    network: ['ec2:CreateVpcEndpoint', 'ec2:ModifyVpcEndpoint', 'ec2:DeleteVpcEndpoints', ...EC2_TAGS],
    account: ['ec2:DescribeVpcEndpoints', 'ec2:DescribeVpcEndpointServices', 'ec2:DescribePrefixLists'],
  },
  aws_vpc_endpoint_route_table_association: { network: ['ec2:ModifyVpcEndpoint'], account: ['ec2:DescribeVpcEndpoints'] },
  aws_vpc_security_group_egress_rule: {
    network: ['ec2:AuthorizeSecurityGroupEgress', 'ec2:RevokeSecurityGroupEgress', 'ec2:ModifySecurityGroupRules', ...EC2_TAGS],
    account: ['ec2:DescribeSecurityGroupRules'],
  },
  aws_vpc_security_group_ingress_rule: {
    network: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress', 'ec2:ModifySecurityGroupRules', ...EC2_TAGS],
    account: ['ec2:DescribeSecurityGroupRules'],
  },
  'data.aws_availability_zones': { account: ['ec2:DescribeAvailabilityZones'] },
  'data.aws_db_instance': { account: ['rds:DescribeDBInstances', 'rds:ListTagsForResource'] },
  'data.aws_db_subnet_group': { account: ['rds:DescribeDBSubnetGroups'] },
  'data.aws_vpc': { account: ['ec2:DescribeVpcs', 'ec2:DescribeVpcAttribute'] },
  'data.aws_subnet': { account: ['ec2:DescribeSubnets'] },
  'data.aws_route_table': { account: ['ec2:DescribeRouteTables'] },
  'data.aws_route_tables': { account: ['ec2:DescribeRouteTables'] },
  'data.aws_vpc_endpoint': { account: ['ec2:DescribeVpcEndpoints', 'ec2:DescribePrefixLists'] },

  // The app stack (an adopted table is imported: the same reads)
  aws_dynamodb_table: {
    table: [
      'dynamodb:CreateTable',
      'dynamodb:DescribeTable',
      'dynamodb:UpdateTable',
      'dynamodb:DeleteTable',
      'dynamodb:DescribeContinuousBackups',
      'dynamodb:UpdateContinuousBackups',
      'dynamodb:DescribeTimeToLive',
      'dynamodb:UpdateTimeToLive',
      'dynamodb:ListTagsOfResource',
      'dynamodb:TagResource',
      'dynamodb:UntagResource',
    ],
    // Encryption with the AWS managed key (aws/dynamodb): DynamoDB asks KMS on the caller's behalf.
    account: ['kms:DescribeKey', 'kms:CreateGrant'],
  },

  // The lambdas stack
  aws_iam_role: {
    roles: [
      'iam:CreateRole',
      'iam:GetRole',
      'iam:UpdateRole',
      'iam:UpdateAssumeRolePolicy',
      'iam:DeleteRole',
      'iam:TagRole',
      'iam:UntagRole',
      'iam:ListRoleTags',
      'iam:ListRolePolicies',
      'iam:ListAttachedRolePolicies',
      'iam:ListInstanceProfilesForRole',
      'iam:DeleteRolePolicy',
      'iam:DetachRolePolicy',
    ],
  },
  aws_iam_role_policy: { roles: ['iam:PutRolePolicy', 'iam:GetRolePolicy', 'iam:DeleteRolePolicy'] },
  aws_iam_role_policy_attachment: { roles: ['iam:AttachRolePolicy', 'iam:DetachRolePolicy', 'iam:ListAttachedRolePolicies'] },
  aws_lambda_function: {
    functions: [
      'lambda:CreateFunction',
      'lambda:GetFunction',
      'lambda:GetFunctionConfiguration',
      'lambda:GetFunctionCodeSigningConfig',
      'lambda:ListVersionsByFunction',
      'lambda:UpdateFunctionCode',
      'lambda:UpdateFunctionConfiguration',
      'lambda:DeleteFunction',
      'lambda:TagResource',
      'lambda:UntagResource',
      'lambda:ListTags',
    ],
    // Passing the execution role (roles: iam:PassRole, below), and a function in a VPC: Lambda checks these with the caller's permissions.
    account: ['ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeVpcs'],
  },
  aws_lambda_permission: { functions: ['lambda:AddPermission', 'lambda:GetPolicy', 'lambda:RemovePermission'] },
  aws_lambda_event_source_mapping: {
    'event-source-mappings': [
      'lambda:CreateEventSourceMapping',
      'lambda:GetEventSourceMapping',
      'lambda:UpdateEventSourceMapping',
      'lambda:DeleteEventSourceMapping',
      'lambda:TagResource',
      'lambda:UntagResource',
      'lambda:ListTags',
    ],
  },
  aws_sqs_queue: {
    queues: [
      'sqs:CreateQueue',
      'sqs:GetQueueAttributes',
      'sqs:SetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:DeleteQueue',
      'sqs:TagQueue',
      'sqs:UntagQueue',
      'sqs:ListQueueTags',
    ],
  },
  aws_cloudwatch_log_group: {
    'log-groups': [
      'logs:CreateLogGroup',
      'logs:PutRetentionPolicy',
      'logs:DeleteRetentionPolicy',
      'logs:DeleteLogGroup',
      'logs:TagResource',
      'logs:UntagResource',
      'logs:ListTagsForResource',
    ],
    account: ['logs:DescribeLogGroups'],
  },
  aws_cloudwatch_log_metric_filter: { 'log-groups': ['logs:PutMetricFilter', 'logs:DeleteMetricFilter'], account: ['logs:DescribeMetricFilters'] },
  // API Gateway's IAM actions are HTTP verbs on the API's paths; tags are POST/DELETE/GET on /tags.
  aws_apigatewayv2_api: { apis: ['apigateway:POST', 'apigateway:GET', 'apigateway:PATCH', 'apigateway:PUT', 'apigateway:DELETE'] },
  aws_apigatewayv2_authorizer: { apis: ['apigateway:POST', 'apigateway:GET', 'apigateway:PATCH', 'apigateway:DELETE'] },
  aws_apigatewayv2_integration: { apis: ['apigateway:POST', 'apigateway:GET', 'apigateway:PATCH', 'apigateway:DELETE'] },
  aws_apigatewayv2_route: { apis: ['apigateway:POST', 'apigateway:GET', 'apigateway:PATCH', 'apigateway:DELETE'] },
  aws_apigatewayv2_stage: {
    apis: ['apigateway:POST', 'apigateway:GET', 'apigateway:PATCH', 'apigateway:DELETE'],
    // Access logs of an HTTP API stage are delivered with the deployer's permissions (API Gateway developer guide, "Configure logging for HTTP APIs").
    'log-deliveries': [
      'logs:CreateLogDelivery',
      'logs:GetLogDelivery',
      'logs:UpdateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
    ],
  },
  // The account's logging role (CRUDDUR_WEBSOCKET_ACCESS_LOGS=create-role): GET and PATCH /account, and passing the role.
  aws_api_gateway_account: { apis: ['apigateway:GET', 'apigateway:PATCH'] },
  aws_cloudwatch_metric_alarm: {
    alarms: ['cloudwatch:PutMetricAlarm', 'cloudwatch:DeleteAlarms', 'cloudwatch:TagResource', 'cloudwatch:UntagResource', 'cloudwatch:ListTagsForResource'],
    account: ['cloudwatch:DescribeAlarms'],
  },
  aws_cloudwatch_dashboard: { dashboards: ['cloudwatch:PutDashboard', 'cloudwatch:GetDashboard', 'cloudwatch:DeleteDashboards'] },
  aws_sns_topic: {
    topics: [
      'sns:CreateTopic',
      'sns:GetTopicAttributes',
      'sns:SetTopicAttributes',
      'sns:DeleteTopic',
      'sns:TagResource',
      'sns:UntagResource',
      'sns:ListTagsForResource',
    ],
  },
  aws_sns_topic_subscription: { topics: ['sns:Subscribe', 'sns:Unsubscribe', 'sns:GetSubscriptionAttributes', 'sns:SetSubscriptionAttributes'] },
  'data.aws_caller_identity': { identity: ['sts:GetCallerIdentity'] },
  // Rendered by the provider itself, no AWS call; remote state is the local backend's files.
  'data.aws_iam_policy_document': {},
  'data.terraform_remote_state': {},
};

/** What `npm run preflight` calls besides (read-only; GetSecretValue checks the secret's keys, never printed). */
const PREFLIGHT_ACTIONS: readonly string[] = [
  'sts:GetCallerIdentity',
  'cognito-idp:DescribeUserPool',
  'cognito-idp:DescribeUserPoolClient',
  'secretsmanager:DescribeSecret',
  'secretsmanager:GetSecretValue',
  'rds:DescribeDBInstances',
  'ec2:DescribeSubnets',
  'ec2:DescribeRouteTables',
  'ec2:DescribeVpcs',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeVpcAttribute',
  'ec2:DescribeVpcEndpoints',
  'ec2:DescribeVpcPeeringConnections',
  'ec2:DescribeTransitGateways',
  'dynamodb:DescribeTable',
  'dynamodb:ListTagsOfResource',
  'apigateway:GET',
  'lambda:ListEventSourceMappings',
  'cloudformation:DescribeStacks',
  'cloudformation:DescribeStackResources',
];

export interface PolicyContext {
  region: string;
  /** `cruddur-{env}`: every function, role, queue, log group and API is named after it. */
  namePrefix: string;
  tableName: string;
  /** Add the read-only actions of `npm run preflight`. */
  preflight?: boolean;
  /** The bucket of the Terraform state (`CRUDDUR_STATE_BUCKET`), if the stacks keep it in S3. */
  stateBucket?: string;
}

interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

/** The Terraform types of a synthesized stack: resources as `type`, data sources as `data.type`. */
export function synthesizedTypes(stack: { resource?: Record<string, unknown>; data?: Record<string, unknown> }): string[] {
  return [...Object.keys(stack.resource ?? {}), ...Object.keys(stack.data ?? {}).map((type) => `data.${type}`)];
}

/** The types of `types` that have no entry in {@link TYPE_ACTIONS}. */
export function typesWithoutActions(types: Iterable<string>): string[] {
  return [...new Set(types)].filter((type) => !(type in TYPE_ACTIONS)).sort();
}

/** The resources each scope's statement names. Account ids are `*`: the policy is the same in any account. */
function scopeResources(scope: PolicyScope, { region, namePrefix, tableName }: PolicyContext): string[] {
  switch (scope) {
    case 'identity':
    case 'account':
    case 'network':
    case 'log-deliveries':
      return ['*'];
    case 'table':
      return [`arn:aws:dynamodb:${region}:*:table/${tableName}`];
    case 'functions':
      return [`arn:aws:lambda:${region}:*:function:${namePrefix}-*`];
    case 'event-source-mappings':
      return [`arn:aws:lambda:${region}:*:event-source-mapping:*`];
    case 'roles':
      return [`arn:aws:iam::*:role/${namePrefix}-*`];
    case 'queues':
      return [`arn:aws:sqs:${region}:*:${namePrefix}-*`];
    case 'log-groups':
      return [`arn:aws:logs:${region}:*:log-group:/aws/lambda/${namePrefix}-*`, `arn:aws:logs:${region}:*:log-group:/aws/apigateway/${namePrefix}-*`];
    case 'apis':
      return [
        `arn:aws:apigateway:${region}::/apis`,
        `arn:aws:apigateway:${region}::/apis/*`,
        `arn:aws:apigateway:${region}::/tags/*`,
        `arn:aws:apigateway:${region}::/account`,
      ];
    case 'alarms':
      return [`arn:aws:cloudwatch:${region}:*:alarm:${namePrefix}-*`];
    case 'topics':
      return [`arn:aws:sns:${region}:*:${namePrefix}-*`];
    case 'dashboards':
      return [`arn:aws:cloudwatch::*:dashboard/${namePrefix}-*`];
  }
}

const STATEMENT_IDS: Record<PolicyScope, string> = {
  identity: 'CallerIdentity',
  account: 'ReadsAndAccountWide',
  network: 'Network',
  table: 'MessagesTable',
  functions: 'Functions',
  'event-source-mappings': 'StreamMappings',
  roles: 'Roles',
  queues: 'FailureQueues',
  'log-groups': 'LogGroups',
  'log-deliveries': 'ApiAccessLogDelivery',
  apis: 'Apis',
  alarms: 'Alarms',
  topics: 'AlarmTopic',
  dashboards: 'Dashboard',
};

/**
 * The policy for stacks holding `types`.
 * @throws Error naming every type without an entry in {@link TYPE_ACTIONS}.
 */
export function deployerPolicy(types: Iterable<string>, context: PolicyContext): PolicyDocument {
  const all = [...new Set(types)];
  const missing = typesWithoutActions(all);
  if (missing.length > 0) throw new Error(`No deployer actions for ${missing.join(', ')}: add them to TYPE_ACTIONS in infrastructure/deployer-policy.ts`);
  const byScope = new Map<PolicyScope, Set<string>>();
  const grant = (scope: PolicyScope, actions: readonly string[]) => {
    if (actions.length === 0) return;
    if (!byScope.has(scope)) byScope.set(scope, new Set());
    for (const action of actions) byScope.get(scope)!.add(action);
  };
  // The provider asks who it is before anything else (through the global or a regional STS endpoint: no region condition).
  grant('identity', ['sts:GetCallerIdentity']);
  for (const type of all) for (const [scope, actions] of Object.entries(TYPE_ACTIONS[type]!)) grant(scope as PolicyScope, actions);
  if (context.preflight) {
    grant(
      'account',
      PREFLIGHT_ACTIONS.filter((action) => !/^(apigateway|sts):/.test(action)),
    );
    grant('apis', ['apigateway:GET']);
  }

  const regional = { StringEquals: { 'aws:RequestedRegion': context.region } };
  const statements: PolicyStatement[] = [...byScope.entries()]
    .sort(([a], [b]) => STATEMENT_IDS[a].localeCompare(STATEMENT_IDS[b]))
    .map(([scope, actions]) => ({
      Sid: STATEMENT_IDS[scope],
      Effect: 'Allow',
      Action: [...actions].sort(),
      Resource: scopeResources(scope, context),
      // Actions that take no resource ARN are held to the region (IAM is global: never for roles).
      ...(scope === 'account' || scope === 'network' || scope === 'log-deliveries' ? { Condition: regional } : {}),
    }));
  if (byScope.has('roles')) {
    statements.push({
      Sid: 'PassRoles',
      Effect: 'Allow',
      Action: ['iam:PassRole'],
      Resource: [`arn:aws:iam::*:role/${context.namePrefix}-*`],
      // Only to Lambda (the execution roles) and API Gateway (the account's logging role).
      Condition: { StringEquals: { 'iam:PassedToService': ['lambda.amazonaws.com', 'apigateway.amazonaws.com'] } },
    });
  }
  if (context.stateBucket) {
    // The state files and their lock files (`cruddur/{stack}.tfstate`, infrastructure/config), and nothing else of the bucket.
    statements.push(
      { Sid: 'TerraformStateList', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [`arn:aws:s3:::${context.stateBucket}`] },
      {
        Sid: 'TerraformState',
        Effect: 'Allow',
        Action: ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'],
        Resource: [`arn:aws:s3:::${context.stateBucket}/cruddur/*`],
      },
    );
  }
  return { Version: '2012-10-17', Statement: statements };
}

/**
 * One Lambda function from an esbuild bundle (`infrastructure/bundling/bundle.ts`), NodejsFunction-style:
 * the bundle's deterministic zip becomes a TerraformAsset (copied as it is, not re-archived),
 * and the function gets its own role
 * whose policy is exactly the statements it is given plus writing to its own log group,
 * and its own log group with a retention.
 *
 * Bundling is asynchronous (esbuild's `build`) and constructs are not, so the app bundles
 * every function first (`bundleFunctions`) and hands each construct its result.
 */
import { Construct } from 'constructs';
import { AssetType, TerraformAsset } from 'cdktf';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DataAwsIamPolicyDocument, type DataAwsIamPolicyDocumentStatement } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LAMBDA_RUNTIME } from '../../functions/catalog';
import type { BundleResult } from '../bundling/bundle';

/** The bundle is `index.mjs` exporting `handler`. */
const HANDLER = 'index.handler';

const LAMBDA_ASSUME_ROLE_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

export interface NodejsFunctionOptions {
  /** Deployed name, also the role's and (under /aws/lambda/) the log group's. */
  functionName: string;
  description: string;
  /** Output of `bundleFunctions`: its zip is deployed. */
  bundle: Pick<BundleResult, 'zipFile' | 'zipSha256'>;
  memoryMb: number;
  timeoutSeconds: number;
  environment: Record<string, string>;
  /** Absent: outside any VPC (the function calls public AWS endpoints only). */
  vpc?: { subnetIds: string[]; securityGroupIds: string[] };
  logRetentionDays: number;
  /** Everything the function may do besides writing its own logs. */
  statements: DataAwsIamPolicyDocumentStatement[];
}

export class NodejsFunction extends Construct {
  public readonly function: LambdaFunction;
  public readonly role: IamRole;
  /** The role's only policy; anything that needs the permissions in place depends on it. */
  public readonly rolePolicy: IamRolePolicy;
  public readonly policyDocument: DataAwsIamPolicyDocument;
  public readonly logGroup: CloudwatchLogGroup;
  public readonly asset: TerraformAsset;
  public readonly functionName: string;
  public readonly functionArn: string;
  /** What API Gateway integrations and authorizers name the function by. */
  public readonly invokeArn: string;

  constructor(scope: Construct, id: string, options: NodejsFunctionOptions) {
    super(scope, id);
    const { functionName } = options;

    // FILE, not ARCHIVE: CDKTF would zip the directory again in a child process per asset, with
    // the files' dates in it; the bundler's zip is made once per content, the same everywhere.
    this.asset = new TerraformAsset(this, 'bundle', { path: options.bundle.zipFile, type: AssetType.FILE });

    this.logGroup = new CloudwatchLogGroup(this, 'log-group', {
      name: `/aws/lambda/${functionName}`,
      retentionInDays: options.logRetentionDays,
    });

    this.role = new IamRole(this, 'role', {
      name: functionName,
      description: `Execution role of ${functionName}`,
      assumeRolePolicy: LAMBDA_ASSUME_ROLE_POLICY,
    });
    this.policyDocument = new DataAwsIamPolicyDocument(this, 'policy-document', {
      statement: [
        {
          sid: 'OwnLogGroup',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [`${this.logGroup.arn}:*`],
        },
        ...options.statements,
      ],
    });
    this.rolePolicy = new IamRolePolicy(this, 'policy', {
      name: `${functionName}-least-privilege`,
      role: this.role.id,
      policy: this.policyDocument.json,
    });

    this.function = new LambdaFunction(this, 'function', {
      functionName,
      description: options.description,
      role: this.role.arn,
      runtime: LAMBDA_RUNTIME.name,
      architectures: [LAMBDA_RUNTIME.architecture],
      handler: HANDLER,
      filename: this.asset.path,
      // The zip's SHA-256 (what Lambda reports as CodeSha256): redeploys only when the code changed.
      sourceCodeHash: options.bundle.zipSha256,
      memorySize: options.memoryMb,
      timeout: options.timeoutSeconds,
      environment: { variables: options.environment },
      ...(options.vpc ? { vpcConfig: { subnetIds: options.vpc.subnetIds, securityGroupIds: options.vpc.securityGroupIds } } : {}),
      loggingConfig: { logFormat: 'Text', logGroup: this.logGroup.name },
      // Lambda checks the role's network-interface permissions when it places the function in the VPC.
      dependsOn: [this.rolePolicy],
    });
    this.functionName = this.function.functionName;
    this.functionArn = this.function.arn;
    this.invokeArn = this.function.invokeArn;
  }
}

/**
 * What the infrastructure tests need from CDKTF, re-exported so that every `cdktf`,
 * `@cdktf/*` and `constructs` import stays inside `infrastructure/` (a rename to the
 * `cdktn` fork then touches this directory only).
 */
import { Testing, type TerraformStack } from 'cdktf';

export { Testing };
export { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
export { Apigatewayv2Api } from '@cdktf/provider-aws/lib/apigatewayv2-api';
export { Apigatewayv2Authorizer } from '@cdktf/provider-aws/lib/apigatewayv2-authorizer';
export { Apigatewayv2Stage } from '@cdktf/provider-aws/lib/apigatewayv2-stage';
export { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';
export { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';

/** Real-looking values of the account-specific settings, so a test synthesizes what a deploy would. */
export const TEST_ACCOUNT_ENV = {
  CRUDDUR_COGNITO_USER_POOL_ID: 'us-east-1_AbC123xyZ',
  CRUDDUR_COGNITO_CLIENT_ID: '1example23456789abcdefghij',
  CRUDDUR_DATABASE_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:cruddur/dev/database-Ab12Cd',
  CRUDDUR_FRONTEND_ORIGINS: 'https://cruddur.test',
} as const;

/** A Terraform block body as synthesized (`//` metadata removed). */
// biome-ignore lint/suspicious/noExplicitAny: synthesized Terraform JSON, navigated freely by the tests
export type Block = Record<string, any>;

/** The synthesized Terraform JSON of a stack, parsed, with lookups by block type. */
export class SynthesizedStack {
  public readonly json: string;
  public readonly config: Block;

  constructor(stack: TerraformStack) {
    this.json = Testing.synth(stack);
    this.config = JSON.parse(this.json) as Block;
  }

  /** Resources of one type, by their Terraform name. */
  resources(type: string): Record<string, Block> {
    return (this.config.resource?.[type] ?? {}) as Record<string, Block>;
  }

  /** Data sources of one type, by their Terraform name. */
  dataSources(type: string): Record<string, Block> {
    return (this.config.data?.[type] ?? {}) as Record<string, Block>;
  }

  /** The only resource of a type. @throws when there is not exactly one. */
  single(type: string): [name: string, body: Block] {
    const entries = Object.entries(this.resources(type));
    if (entries.length !== 1) throw new Error(`Expected one ${type}, found ${entries.length}`);
    return entries[0]!;
  }

  outputs(): Record<string, Block> {
    return (this.config.output ?? {}) as Record<string, Block>;
  }
}

/** `${type.name.attribute}`: how a synthesized reference to another block reads. */
export function reference(type: string, name: string, attribute: string): string {
  return `\${${type}.${name}.${attribute}}`;
}

/** CDKTF's own jest matchers (`toHaveResourceWithProperties`, ...), typed for jest 30. */
export function setupJestMatchers(): void {
  Testing.setupJest();
}

type TerraformConstructor = { readonly tfResourceType: string };
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    interface Matchers<R, T> {
      toHaveResource(resourceConstructor: TerraformConstructor): R;
      toHaveResourceWithProperties(resourceConstructor: TerraformConstructor, properties: Record<string, unknown>): R;
      toHaveDataSource(dataSourceConstructor: TerraformConstructor): R;
      toHaveDataSourceWithProperties(dataSourceConstructor: TerraformConstructor, properties: Record<string, unknown>): R;
    }
  }
}

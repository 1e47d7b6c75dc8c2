/**
 * The deployer's policy comes from what the stacks hold (infrastructure/deployer-policy.ts):
 * every Terraform type of every supported shape has its actions, a type without them fails,
 * and the policy fits where it is attached.
 */
import { deployerPolicy, synthesizedTypes, TYPE_ACTIONS, typesWithoutActions } from '../../infrastructure/deployer-policy';
import { SHAPES, synthesize } from '../support/deploy-shapes';

/** A customer managed policy holds at most 6,144 characters, whitespace aside (IAM quotas). */
const MANAGED_POLICY_LIMIT = 6144;

const typesOfShape = new Map(SHAPES.map(({ shape, env }) => [shape, synthesize(env).flatMap((stack) => synthesizedTypes(stack.config))]));
const context = { region: 'us-east-1', namePrefix: 'cruddur-dev', tableName: 'cruddur-messages' };

describe('deployer policy', () => {
  it.each(SHAPES.map(({ shape }) => shape))('%s: every synthesized type has its actions', (shape) => {
    expect(typesWithoutActions(typesOfShape.get(shape)!)).toEqual([]);
  });

  it('grants the Terraform state in S3 (CRUDDUR_STATE_BUCKET) its objects under cruddur/ and the bucket listing, nothing more', () => {
    const policy = deployerPolicy(['aws_sqs_queue'], { ...context, stateBucket: 'acme-terraform-state' });
    expect(policy.Statement.filter((statement) => statement.Sid.startsWith('TerraformState'))).toEqual([
      { Sid: 'TerraformStateList', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: ['arn:aws:s3:::acme-terraform-state'] },
      {
        Sid: 'TerraformState',
        Effect: 'Allow',
        Action: ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'],
        Resource: ['arn:aws:s3:::acme-terraform-state/cruddur/*'],
      },
    ]);
    expect(deployerPolicy(['aws_sqs_queue'], context).Statement.some((statement) => statement.Sid.startsWith('TerraformState'))).toBe(false);
  });

  it('fails on a type it has no actions for, naming it and where to add it', () => {
    expect(() => deployerPolicy(['aws_vpc', 'aws_kinesis_stream', 'data.aws_s3_bucket'], context)).toThrow(
      'No deployer actions for aws_kinesis_stream, data.aws_s3_bucket: add them to TYPE_ACTIONS in infrastructure/deployer-policy.ts',
    );
  });

  it("names each action as service:Action, and nothing broader than a service's own verbs", () => {
    for (const [type, grants] of Object.entries(TYPE_ACTIONS)) {
      for (const action of Object.values(grants).flat())
        expect({ type, action }).toEqual({ type, action: expect.stringMatching(/^[a-z0-9-]+:([A-Z][A-Za-z]+|GET|POST|PUT|PATCH|DELETE)$/) });
    }
  });

  it("scopes what can be scoped to the environment's names and region, and fits a managed policy", () => {
    // Prepare: every type of every shape.
    const all = [...typesOfShape.values()].flat();

    // Act
    const policy = deployerPolicy(all, { ...context, preflight: true });

    // Assess
    const statement = (sid: string) => policy.Statement.find((candidate) => candidate.Sid === sid)!;
    expect(statement('Functions').Resource).toEqual(['arn:aws:lambda:us-east-1:*:function:cruddur-dev-*']);
    expect(statement('MessagesTable').Resource).toEqual(['arn:aws:dynamodb:us-east-1:*:table/cruddur-messages']);
    expect(statement('Roles').Resource).toEqual(['arn:aws:iam::*:role/cruddur-dev-*']);
    expect(statement('Network').Condition).toEqual({ StringEquals: { 'aws:RequestedRegion': 'us-east-1' } });
    expect(statement('PassRoles')).toEqual(
      expect.objectContaining({
        Action: ['iam:PassRole'],
        Condition: { StringEquals: { 'iam:PassedToService': ['lambda.amazonaws.com', 'apigateway.amazonaws.com'] } },
      }),
    );
    // Tag-on-create: every resource carries the provider's default tags.
    expect(statement('Network').Action).toEqual(expect.arrayContaining(['ec2:CreateTags']));
    expect(statement('Roles').Action).toEqual(expect.arrayContaining(['iam:TagRole']));
    expect(statement('Functions').Action).toEqual(expect.arrayContaining(['lambda:TagResource', 'lambda:GetPolicy']));
    expect(JSON.stringify(policy).length).toBeLessThanOrEqual(MANAGED_POLICY_LIMIT);
  });
});

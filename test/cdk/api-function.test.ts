import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { ApiFunction, SECRET_ACTIONS, TABLE_ACTIONS } from '../../lib/constructs/api-function';

const newStack = (id: string) => new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), id);

describe('ApiFunction', () => {
  let template: Template;

  beforeAll(() => {
    const stack = newStack('Test');
    const table = new Table(stack, 'Table', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
    const secret = new Secret(stack, 'Secret');
    new ApiFunction(stack, 'Fn', {
      entry: 'user-info.ts',
      logRetention: RetentionDays.ONE_WEEK,
      environment: { FROM_CALLER: 'kept' },
    })
      .bindTable(table, 'THE_TABLE', 'RO')
      .bindSecret(secret, 'THE_SECRET_ARN')
      .addEnvironment({ ADDED: 'yes', LEFT_OUT: undefined });
    template = Template.fromStack(stack);
  });

  const policyStatements = () =>
    Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) => policy.Properties.PolicyDocument.Statement);

  it("merges the caller's environment with the defaults and the bindings", () => {
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));

    expect(fn?.Properties.Environment.Variables).toEqual({
      POWERTOOLS_SERVICE_NAME: 'phone-link',
      POWERTOOLS_METRICS_NAMESPACE: 'PhoneLink',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      FROM_CALLER: 'kept',
      THE_TABLE: { Ref: expect.stringMatching(/^Table/) },
      THE_SECRET_ARN: { Ref: expect.stringMatching(/^Secret/) },
      ADDED: 'yes',
    });
  });

  it('runs Node.js 22 on arm64 without tracing unless asked', () => {
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));

    expect(fn?.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], MemorySize: 256, Timeout: 10 });
    expect(fn?.Properties.TracingConfig).toBeUndefined();
  });

  it('grants its own log group, the bound table at the bound level and the bound secret, nothing else', () => {
    expect(policyStatements()).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^FnLogs/), 'Arn'] },
      },
      {
        Effect: 'Allow',
        // A single action goes into the template as a string.
        Action: TABLE_ACTIONS.RO.length === 1 ? TABLE_ACTIONS.RO[0] : [...TABLE_ACTIONS.RO],
        Resource: [{ 'Fn::GetAtt': [expect.stringMatching(/^Table/), 'Arn'] }],
      },
      { Effect: 'Allow', Action: SECRET_ACTIONS[0], Resource: { Ref: expect.stringMatching(/^Secret/) } },
    ]);
  });

  it('has a role of its own with no managed policies (no AWSLambdaBasicExecutionRole)', () => {
    const roles = Object.values(template.findResources('AWS::IAM::Role'));

    expect(roles).toHaveLength(1);
    expect(roles[0]?.Properties.ManagedPolicyArns).toBeUndefined();
    expect(roles[0]?.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);
  });

  it('traces with X-Ray when asked', () => {
    const stack = newStack('Traced');
    new ApiFunction(stack, 'Fn', { entry: 'user-info.ts', logRetention: RetentionDays.ONE_DAY, tracing: true, logLevel: 'DEBUG' });
    const [fn] = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'));

    expect(fn?.Properties).toMatchObject({
      TracingConfig: { Mode: 'Active' },
      Environment: { Variables: { POWERTOOLS_LOG_LEVEL: 'DEBUG' } },
    });
  });

  it('refuses a secret variable that does not say it holds an ARN', () => {
    const stack = newStack('BadSecretName');
    const fn = new ApiFunction(stack, 'Fn', { entry: 'user-info.ts', logRetention: RetentionDays.ONE_DAY });

    // @ts-expect-error the type already demands *_SECRET_ARN; the check also holds for untyped callers
    expect(() => fn.bindSecret(new Secret(stack, 'Secret'), 'CODE_PEPPER')).toThrow(/_SECRET_ARN/);
  });

  it('refuses an entry that does not exist under functions/entry', () => {
    const stack = newStack('Missing');

    expect(() => new ApiFunction(stack, 'Fn', { entry: 'no-such-handler.ts', logRetention: RetentionDays.ONE_DAY })).toThrow(
      /no-such-handler/,
    );
  });
});

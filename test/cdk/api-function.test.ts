import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ApiFunction, TABLE_ACTIONS } from '../../lib/constructs/api-function';

describe('ApiFunction', () => {
  let template: Template;

  beforeAll(() => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Test');
    const table = new Table(stack, 'Table', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
    new ApiFunction(stack, 'Fn', {
      entry: 'user-info.ts',
      logRetention: RetentionDays.ONE_WEEK,
      environment: { FROM_CALLER: 'kept' },
    })
      .bindTable(table, 'THE_TABLE', 'RO')
      .addEnvironment({ ADDED: 'yes', LEFT_OUT: undefined });
    template = Template.fromStack(stack);
  });

  it("merges the caller's environment with the defaults and table bindings", () => {
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));

    expect(fn?.Properties.Environment.Variables).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      FROM_CALLER: 'kept',
      THE_TABLE: { Ref: expect.stringMatching(/^Table/) },
      ADDED: 'yes',
    });
  });

  it('grants exactly the bound access level on exactly the bound table', () => {
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy'));

    expect(policy?.Properties.PolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: [...TABLE_ACTIONS.RO],
        Resource: [{ 'Fn::GetAtt': [expect.stringMatching(/^Table/), 'Arn'] }],
      },
    ]);
  });

  it('refuses an entry that does not exist under functions/entry', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Missing');

    expect(() => new ApiFunction(stack, 'Fn', { entry: 'no-such-handler.ts', logRetention: RetentionDays.ONE_DAY })).toThrow(
      /no-such-handler/,
    );
  });
});

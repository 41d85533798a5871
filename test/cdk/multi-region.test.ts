import { Template } from 'aws-cdk-lib/assertions';
import { App } from 'aws-cdk-lib';
import { ROUTES, routeKey } from '../../functions/http/routes';
import { globalUsersTableName } from '../../lib/phone-link-stack';
import { readStageConfig, StageConfigError } from '../../lib/stage-config';
import { functionBehind, MULTI_REGION_CONTEXT, PROD_CONTEXT, synthesize } from './synth';

process.env.CDK_VALIDATION = 'false';

const configFrom = (context: Record<string, unknown>) => readStageConfig(new App({ context }).node);

describe('multi-region mode (-c regions=... -c witnessRegion=...)', () => {
  const { stacks } = synthesize(MULTI_REGION_CONTEXT);
  const [primary, replica] = stacks.map((stack) => Template.fromStack(stack));

  it('makes one stack per replica region, each pinned to its region, the second after the first', () => {
    expect(stacks.map((stack) => [stack.stackName, stack.region])).toEqual([
      ['PhoneLink-prod', 'eu-west-1'],
      ['PhoneLink-prod-eu-west-2', 'eu-west-2'],
    ]);
    expect(stacks[1]?.dependencies).toEqual([stacks[0]]);
  });

  it('puts users and claims in a global table with strong consistency: replicas in both regions, the witness, no TTL', () => {
    primary!.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    const [table] = Object.values(primary!.findResources('AWS::DynamoDB::GlobalTable'));
    expect(table?.Properties).toMatchObject({
      TableName: globalUsersTableName({ stage: 'prod' }),
      MultiRegionConsistency: 'STRONG',
      GlobalTableWitnesses: [{ Region: 'eu-central-1' }],
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: [expect.objectContaining({ IndexName: 'due' })],
    });
    expect((table?.Properties.Replicas as { Region: string }[]).map((r) => r.Region).sort()).toEqual(['eu-west-1', 'eu-west-2']);
    expect(table?.Properties).not.toHaveProperty('TimeToLiveSpecification');
    // The replica region finds the table by name: it creates no users table of its own.
    replica!.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
  });

  it.each([0, 1])('watches the users table under the same alarm name as one region does (stack %i)', (index) => {
    const names = Object.values([primary, replica][index]!.findResources('AWS::CloudWatch::Alarm')).map((alarm) => JSON.stringify(alarm.Properties.AlarmName));
    expect(names.filter((name) => name.includes('TableThrottles'))).toEqual([expect.stringContaining('-CodesTableThrottles'), expect.stringContaining('-UsersTableThrottles')]);
  });

  it.each([0, 1])('keeps codes, nonces and counters regional, with TTL, in each region (stack %i)', (index) => {
    const template = [primary, replica][index]!;
    const tables = Object.values(template.findResources('AWS::DynamoDB::Table'));
    expect(tables.map((table) => table.Properties.TimeToLiveSpecification)).toEqual([{ AttributeName: 'ttl', Enabled: true }]);
  });

  it.each([0, 1])('runs the API in each region, its linking functions writing step by step (stack %i)', (index) => {
    const template = [primary, replica][index]!;
    for (const route of [ROUTES.relationPhone, ROUTES.deletePhoneRelation]) {
      const { properties } = functionBehind(template, routeKey(route));
      expect(properties.Environment.Variables).toMatchObject({ PHONE_LINKS_MODE: 'ordered-writes' });
    }
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {});
  });

  it.each([0, 1])('runs the reconciler every minute in each region, allowed to query only the index of due items (stack %i)', (index) => {
    const template = [primary, replica][index]!;
    const rules = Object.values(template.findResources('AWS::Events::Rule'));
    expect(rules.map((rule) => rule.Properties.ScheduleExpression)).toEqual(['rate(1 minute)']);
    const queries = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Sid?: string; Action: string | string[]; Resource: unknown }[])
      .filter((statement) => [statement.Action].flat().includes('dynamodb:Query'));
    expect(queries).toEqual([expect.objectContaining({ Sid: 'FindDueItems', Action: 'dynamodb:Query' })]);
    expect(JSON.stringify(queries[0]?.Resource)).toContain('/index/due');
  });

  it('is exactly the single-region stack without regions: no global table, no reconciler, transactions', () => {
    const { stacks: single, template } = synthesize(PROD_CONTEXT);
    expect(single).toHaveLength(1);
    expect(single[0]?.region).toMatch(/^\$\{Token/);
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
    template.resourceCountIs('AWS::Events::Rule', 0);
    template.resourceCountIs('AWS::DynamoDB::Table', 2);
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
      expect(fn.Properties.Environment?.Variables ?? {}).not.toHaveProperty('PHONE_LINKS_MODE');
    }
  });

  it.each([
    [{ witnessRegion: 'eu-central-1' }, /"witnessRegion" needs "regions"/],
    [{ regions: 'eu-west-1,eu-west-2' }, /three different regions/],
    [{ regions: 'eu-west-1,eu-west-2,eu-west-3', witnessRegion: 'eu-central-1' }, /three different regions/],
    [{ regions: 'eu-west-1,eu-west-1', witnessRegion: 'eu-central-1' }, /three different regions/],
    [{ regions: 'eu-west-1', witnessRegion: 'eu-central-1' }, /three different regions/],
    [{ regions: 'eu-west-1,us-east-1', witnessRegion: 'eu-central-1' }, /one region set/],
  ])('refuses %j at synth', (context, message) => {
    expect(() => configFrom({ ...PROD_CONTEXT, ...context })).toThrow(StageConfigError);
    expect(() => configFrom({ ...PROD_CONTEXT, ...context })).toThrow(message);
  });

  it('takes three replica regions without a witness', () => {
    expect(configFrom({ ...PROD_CONTEXT, regions: 'us-east-1, us-east-2,us-west-2' }).multiRegion).toEqual({
      regions: ['us-east-1', 'us-east-2', 'us-west-2'],
      witnessRegion: undefined,
    });
  });
});

import { Validations } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { FULL_CONTEXT, MULTI_REGION_CONTEXT, PROD_CONTEXT, synthesize } from './synth';

const variants: ReadonlyArray<[string, { context: Record<string, unknown> }]> = [
  ['dev, no context', { context: {} }],
  ['prod', { context: PROD_CONTEXT }],
  ['prod with every option (existing secret, alarm email and topic, tracing, CORS, custom domain)', { context: FULL_CONTEXT }],
  ['prod over two regions and a witness (every stack)', { context: MULTI_REGION_CONTEXT }],
];

/** Every acknowledgement recorded in the tree: rule id (as cdk-nag matches it), where, and why. */
function acknowledgements(root: IConstruct): Array<{ id: string; path: string; reason: string }> {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          id: id.replace(/^Annotation::/, ''),
          path: construct.node.path,
          reason,
        })),
      ),
  );
}

/** cdk-nag's finding for each wildcard resource of the admin policy: the {uid} of the four admin routes, and nothing broader. */
function adminInvokeFindings(template: Template): string[] {
  const api = Object.keys(template.findResources('AWS::ApiGatewayV2::Api'))[0];
  return ['PUT/admin/v1/users/*', 'GET/admin/v1/users/*', 'PUT/admin/v1/users/*/phone', 'DELETE/admin/v1/users/*'].map(
    (resource) => `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${api}>/$default/${resource}]`,
  );
}

describe('AWS Solutions rule pack (cdk-nag), as bin/app.ts runs it on every synth', () => {
  it.each(variants)('%s: no unacknowledged finding', (_name, { context }) => {
    const { app } = synthesize(context);

    const report = new AwsSolutionsChecks(app).validateScope(app);

    expect(report.violations.map((violation) => `${violation.ruleName}: ${violation.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it.each(variants)('%s: every acknowledgement names an AwsSolutions rule and says why, at length', (_name, { context }) => {
    const { app } = synthesize(context);

    const acknowledged = acknowledgements(app);

    expect(acknowledged.length).toBeGreaterThan(0);
    for (const { id, reason } of acknowledged) {
      expect(id).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      expect(reason.length).toBeGreaterThan(80);
    }
  });

  it('acknowledges exactly the expected rules, on the resources they concern', () => {
    const { app, template } = synthesize(FULL_CONTEXT);
    const adminInvoke = adminInvokeFindings(template);

    const byRule = acknowledgements(app).reduce<Record<string, string[]>>((groups, { id, path }) => {
      (groups[id] ??= []).push(path.replace(/^PhoneLink-prod\//, ''));
      return groups;
    }, {});

    expect(byRule).toEqual({
      'AwsSolutions-DDB3': ['CodesTable'],
      'AwsSolutions-SMG4': ['CodePepperSecret'],
      'AwsSolutions-L1': ['SendPhoneSmsCode/Function', 'RelationPhone/Function', 'UserInfo/Function', 'DeletePhoneRelation/Function', 'Admin/Function'],
      'AwsSolutions-IAM5[Resource::*]': [
        'SendPhoneSmsCode/Role/DefaultPolicy',
        'SendPhoneSmsCode/SmsPolicy',
        'RelationPhone/Role/DefaultPolicy',
        'UserInfo/Role/DefaultPolicy',
        'DeletePhoneRelation/Role/DefaultPolicy',
        'Admin/Role/DefaultPolicy',
      ],
      // The {uid} wildcard of each admin route, each by name, on the admin policy alone.
      ...Object.fromEntries(adminInvoke.map((id) => [id, ['AdminPolicy']])),
      'AwsSolutions-APIG4': ['Api'],
    });
  });

  it('needs each acknowledgement: without them, the pack finds exactly those rules', () => {
    const acknowledge = jest.spyOn(Validations.prototype, 'acknowledge').mockImplementation(() => undefined);
    try {
      const { app, template } = synthesize(FULL_CONTEXT);

      const rules = new AwsSolutionsChecks(app).validateScope(app).violations.map((violation) => violation.ruleName);

      expect(rules.sort()).toEqual(
        ['AwsSolutions-APIG4', 'AwsSolutions-DDB3', 'AwsSolutions-IAM5[Resource::*]', ...adminInvokeFindings(template), 'AwsSolutions-L1', 'AwsSolutions-SMG4'].sort(),
      );
    } finally {
      acknowledge.mockRestore();
    }
  });
});
